/**
 * The SkillMeat view container: the Deployments view (projects → profile roots → records with
 * their sync state, and the actions that settle drift) and the Collections view (collections →
 * artifacts, deploy to a project). The trees are built in `core/deployments.ts` and
 * `core/collectionsTree.ts`; this file turns them into tree items, keeps them fresh and runs the
 * actions.
 */
import * as vscode from 'vscode';
import { ArtifactNode, CollectionNode, buildCollectionTree, isNoCollectionsError } from './core/collectionsTree';
import {
  COLLECTIONS_VIEW_ID,
  ClientCommand,
  ContextKey,
  DEPLOYMENTS_VIEW_ID,
  ViewState,
} from './core/clientCommands';
import { EntryKind, FolderReader } from './core/compare';
import {
  DeploymentNode,
  NodeIcon,
  RecordNode,
  RecordTarget,
  TreeNode,
  buildDeploymentTree,
  parseDeployments,
  targetFromRequest,
} from './core/deployments';
import { DeployFlowDeps, Execute, UNTRUSTED_MESSAGE, recordMarker, runDeployFlow } from './core/flows';
import { projectLabel } from './core/projects';
import { parseCollections } from './core/quickPicks';
import { Refresher, touchesDeploymentFiles } from './core/refresh';
import { ServerCommand, SyncCommand } from './core/serverCommands';
import {
  CompareDeps,
  CompareFiles,
  PullStrategy,
  SyncUi,
  runCompare,
  runKeepLocal,
  runPull,
  runRecordUpdate,
  runUndeploy,
} from './core/syncFlows';
import { ServerManager } from './server';
import { projectProfileRoots, resolveProject } from './ui';

/** Scheme of the empty side of a diff (a file only one copy has). */
export const EMPTY_SCHEME = 'skillmeat-empty';

const DIAGNOSTICS_DELAY_MS = 400;
const FILES_DELAY_MS = 800;

function workspaceFolderPaths(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

function themeIcon(icon: NodeIcon): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
}

function tooltip(markdown: string): vscode.MarkdownString {
  const text = new vscode.MarkdownString(markdown, true);
  text.isTrusted = false;
  return text;
}

const COLLAPSIBLE: Record<'none' | 'collapsed' | 'expanded', vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toUri(value: string): vscode.Uri {
  return /^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value) ? vscode.Uri.parse(value) : vscode.Uri.file(value);
}

async function fileType(uri: vscode.Uri): Promise<vscode.FileType | undefined> {
  try {
    return (await vscode.workspace.fs.stat(uri)).type;
  } catch {
    return undefined;
  }
}

function kindOf(type: vscode.FileType): EntryKind {
  if (type & vscode.FileType.Directory) {
    return 'directory';
  }
  if (type & vscode.FileType.File) {
    return 'file';
  }
  return 'other';
}

/** One side of a folder comparison, read through `vscode.workspace.fs`. */
function folderReader(base: vscode.Uri): FolderReader {
  const at = (relative: string) => (relative === '' ? base : vscode.Uri.joinPath(base, ...relative.split('/')));
  return {
    async list(relative) {
      const entries = await vscode.workspace.fs.readDirectory(at(relative));
      return entries.map(([name, type]) => ({ name, kind: kindOf(type) }));
    },
    read(relative) {
      return Promise.resolve(vscode.workspace.fs.readFile(at(relative)));
    },
  };
}

/** The empty side of a diff: an empty read-only document named like the missing file. */
class EmptyDocuments implements vscode.TextDocumentContentProvider {
  provideTextDocumentContent(): string {
    return '';
  }
}

function emptySide(other: vscode.Uri): vscode.Uri {
  return vscode.Uri.from({ scheme: EMPTY_SCHEME, path: other.path });
}

// --- the trees -----------------------------------------------------------------------------------

/** A view's tree: the nodes built by `src/core` (deployments, collections), shown as they are. */
class NodeTree<Node extends TreeNode> implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  nodes: Node[] = [];

  constructor(
    private readonly childrenOf: (node: Node) => Node[],
    private readonly clickOf: (node: Node) => vscode.Command | undefined = () => undefined,
  ) {}

  update(nodes: Node[]): void {
    this.nodes = nodes;
    this.changed.fire();
  }

  getChildren(element?: Node): Node[] {
    return element ? this.childrenOf(element) : this.nodes;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, COLLAPSIBLE[node.collapsible]);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = tooltip(node.tooltip);
    item.iconPath = themeIcon(node.icon);
    item.contextValue = node.contextValue;
    item.accessibilityInformation = { label: node.accessibilityLabel };
    item.command = this.clickOf(node);
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

// --- Deployments and Collections -----------------------------------------------------------------

type CollectionsNode = CollectionNode | ArtifactNode;

function deploymentsTree(): NodeTree<DeploymentNode> {
  return new NodeTree<DeploymentNode>(
    (node) => (node.kind === 'project' || node.kind === 'root' ? node.children : []),
    (node) => {
      if (node.kind === 'record') {
        return { title: 'Open', command: ClientCommand.openDeployed, arguments: [node] };
      }
      if (node.kind === 'root') {
        return { title: 'Open Deployment File', command: ClientCommand.openDeploymentFile, arguments: [node] };
      }
      return undefined;
    },
  );
}

function collectionsTree(): NodeTree<CollectionsNode> {
  return new NodeTree<CollectionsNode>((node) => (node.kind === 'collection' ? node.children : []));
}

// --- the views -----------------------------------------------------------------------------------

export interface ViewsDeps {
  server: ServerManager;
  ui: SyncUi;
  output: vscode.OutputChannel;
  /** The deploy flow's dependencies (project and profile pickers). */
  flowDeps: () => DeployFlowDeps;
}

export class SkillMeatViews implements vscode.Disposable {
  private readonly deployments = deploymentsTree();
  private readonly collections = collectionsTree();
  private readonly deploymentsView: vscode.TreeView<DeploymentNode>;
  private readonly collectionsView: vscode.TreeView<CollectionsNode>;
  private readonly deploymentsRefresher: Refresher;
  private readonly collectionsRefresher: Refresher;
  private readonly disposables: vscode.Disposable[] = [];
  private deploymentsStale = true;
  private collectionsStale = true;
  private lastPhase: string | undefined;
  private startedOnce = false;
  private lastStatus: string | undefined;

  constructor(private readonly deps: ViewsDeps) {
    this.deploymentsView = vscode.window.createTreeView(DEPLOYMENTS_VIEW_ID, { treeDataProvider: this.deployments, showCollapseAll: true });
    this.collectionsView = vscode.window.createTreeView(COLLECTIONS_VIEW_ID, { treeDataProvider: this.collections, showCollapseAll: true });
    this.deploymentsRefresher = new Refresher(() => this.loadDeployments(), DIAGNOSTICS_DELAY_MS);
    this.collectionsRefresher = new Refresher(() => this.loadCollections(), DIAGNOSTICS_DELAY_MS);
    void this.setState(ContextKey.deploymentsState, 'loading');
    void this.setState(ContextKey.collectionsState, 'loading');
    const { server } = deps;
    this.disposables.push(
      this.deploymentsView,
      this.collectionsView,
      this.deployments,
      this.collections,
      vscode.workspace.registerTextDocumentContentProvider(EMPTY_SCHEME, new EmptyDocuments()),
      // Diagnostics of a deployment file changed: the server analysed it again.
      vscode.languages.onDidChangeDiagnostics((event) => {
        if (touchesDeploymentFiles(event.uris.filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath))) {
          this.deploymentsRefresher.schedule();
        }
      }),
      // A copy under a profile root changed on disk (its drift may have changed).
      server.onDidChangeProfileFiles(() => this.deploymentsRefresher.schedule(FILES_DELAY_MS)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.deploymentsRefresher.schedule()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.refreshAll()),
      this.deploymentsView.onDidChangeVisibility((event) => {
        if (event.visible && this.deploymentsStale) {
          void this.deploymentsRefresher.now();
        }
      }),
      this.collectionsView.onDidChangeVisibility((event) => {
        if (event.visible && this.collectionsStale) {
          void this.collectionsRefresher.now();
        }
      }),
      vscode.commands.registerCommand(ClientCommand.refreshViews, () => this.refreshAll(true)),
      vscode.commands.registerCommand(ClientCommand.openDeployed, (node?: RecordNode) => this.openDeployed(node)),
      vscode.commands.registerCommand(ClientCommand.openDeploymentFile, (node?: DeploymentNode) => this.openDeploymentFile(node)),
      vscode.commands.registerCommand(ClientCommand.compareWithCollection, (node?: RecordNode) => this.onRecord(node, (target) => this.compare(target))),
      vscode.commands.registerCommand(ClientCommand.updateRecord, (node?: RecordNode) =>
        this.onRecord(node, (target) => runRecordUpdate(this.writeDeps(target), target), true),
      ),
      vscode.commands.registerCommand(ClientCommand.keepLocal, (node?: RecordNode) =>
        this.onRecord(node, (target) => runKeepLocal(this.writeDeps(target), target), true),
      ),
      vscode.commands.registerCommand(ClientCommand.pullToCollection, (node?: RecordNode) =>
        this.onRecord(node, (target) => runPull(this.writeDeps(target, this.syncDeps(), true), target), true),
      ),
      vscode.commands.registerCommand(ClientCommand.undeploy, (node?: RecordNode) =>
        this.onRecord(node, (target) => runUndeploy(this.writeDeps(target), target), true),
      ),
      vscode.commands.registerCommand(ClientCommand.deployArtifact, (node?: ArtifactNode) => this.deployArtifact(node)),
    );
    // The server's `skillmeat/status` notification (and the client's own start, stop, failure).
    server.onStatus((status, phase) => {
      const changedPhase = phase !== this.lastPhase;
      this.lastPhase = phase;
      // Before the first start the client is "stopped" too: the views say "loading", not "not running".
      this.startedOnce ||= phase !== 'stopped';
      // Only a new state reloads (the listener also hears every repeat of the same status).
      const key = `${phase}:${status?.state ?? ''}:${status?.revision ?? ''}`;
      const changed = key !== this.lastStatus;
      this.lastStatus = key;
      if (phase === 'failed' || (phase === 'stopped' && changedPhase && this.startedOnce)) {
        this.showNoServer();
      } else if (phase === 'running' && changed) {
        void this.refreshAll(changedPhase);
      }
    });
  }

  // --- loading -----------------------------------------------------------------------------------

  private async setState(key: string, state: ViewState): Promise<void> {
    await vscode.commands.executeCommand('setContext', key, state);
  }

  private showNoServer(): void {
    this.deployments.update([]);
    this.collections.update([]);
    this.deploymentsView.message = undefined;
    this.collectionsView.message = undefined;
    void this.setState(ContextKey.deploymentsState, 'noServer');
    void this.setState(ContextKey.collectionsState, 'noServer');
  }

  /** Reloads both views (at once when `now`, else debounced). */
  async refreshAll(now = false): Promise<void> {
    if (now) {
      await Promise.all([this.deploymentsRefresher.now(), this.collectionsRefresher.now()]);
    } else {
      this.deploymentsRefresher.schedule();
      this.collectionsRefresher.schedule();
    }
  }

  /** After a write: the Deployments view at once, from what is on disk (and the Collections view after a pull or deploy). */
  refreshAfterChange(collections = false): void {
    void this.deploymentsRefresher.now();
    if (collections) {
      void this.collectionsRefresher.now();
    }
  }

  private serverPhase(): 'running' | 'waiting' | 'down' {
    const phase = this.deps.server.clientPhase;
    if (phase === 'stopped' || phase === 'failed') {
      return 'down';
    }
    return this.deps.server.running ? 'running' : 'waiting';
  }

  private async loadDeployments(): Promise<void> {
    const phase = this.serverPhase();
    if (phase === 'down') {
      this.showNoServer();
      return;
    }
    if (phase === 'waiting') {
      return; // the status listener reloads once the server runs
    }
    if (!this.deploymentsView.visible) {
      this.deploymentsStale = true;
      return;
    }
    this.deploymentsStale = false;
    try {
      const raw = await this.deps.server.execute(ServerCommand.listDeployments, []);
      const nodes = buildDeploymentTree(parseDeployments(raw), {
        workspaceFolders: workspaceFolderPaths(),
        commands: this.deps.server.serverCommands ?? new Set(),
        trusted: vscode.workspace.isTrusted,
      });
      this.deploymentsView.message = undefined;
      this.deployments.update(nodes);
      await this.setState(ContextKey.deploymentsState, nodes.length > 0 ? 'ready' : 'empty');
    } catch (error) {
      if (this.serverPhase() !== 'running') {
        return;
      }
      this.deps.output.appendLine(`[views] skillmeat.listDeployments failed: ${errorText(error)}`);
      this.deploymentsView.message = `Listing the deployments failed: ${errorText(error)}`;
      this.deployments.update([]);
      await this.setState(ContextKey.deploymentsState, 'error');
    }
  }

  private async loadCollections(): Promise<void> {
    const phase = this.serverPhase();
    if (phase === 'down') {
      this.showNoServer();
      return;
    }
    if (phase === 'waiting') {
      return;
    }
    if (!this.collectionsView.visible) {
      this.collectionsStale = true;
      return;
    }
    this.collectionsStale = false;
    try {
      const raw = await this.deps.server.execute(ServerCommand.listCollections, []);
      const nodes = buildCollectionTree(parseCollections(raw), { trusted: vscode.workspace.isTrusted });
      this.collectionsView.message = undefined;
      this.collections.update(nodes);
      await this.setState(ContextKey.collectionsState, nodes.length > 0 ? 'ready' : 'empty');
    } catch (error) {
      if (this.serverPhase() !== 'running') {
        return;
      }
      const message = errorText(error);
      this.collections.update([]);
      if (isNoCollectionsError(message)) {
        this.collectionsView.message = `SkillMeat: ${message}.`;
        await this.setState(ContextKey.collectionsState, 'empty');
      } else {
        this.deps.output.appendLine(`[views] skillmeat.listCollections failed: ${message}`);
        this.collectionsView.message = `Listing the collections failed: ${message}`;
        await this.setState(ContextKey.collectionsState, 'error');
      }
    }
  }

  // --- actions -----------------------------------------------------------------------------------

  private execute: Execute = (command, args) => this.deps.server.execute(command, args);

  syncDeps(execute: Execute = this.execute, offers?: (command: string) => boolean): CompareDeps {
    return {
      ui: this.deps.ui,
      execute,
      offers: offers ?? ((command) => this.deps.server.serverCommands?.has(command) ?? false),
      files: this.compareFiles,
    };
  }

  private readonly compareFiles: CompareFiles = {
    isDirectory: async (uri) => {
      const type = await fileType(toUri(uri));
      return type !== undefined && (type & vscode.FileType.Directory) !== 0;
    },
    reader: (uri) => folderReader(toUri(uri)),
    openDiff: async (collection, deployed, title) => {
      if (!collection && !deployed) {
        return;
      }
      const right = deployed ? toUri(deployed) : emptySide(toUri(collection!));
      const left = collection ? toUri(collection) : emptySide(toUri(deployed!));
      await vscode.commands.executeCommand('vscode.diff', left, right, title, { preview: true });
    },
  };

  private async onRecord(
    node: RecordNode | undefined,
    action: (target: RecordTarget) => Promise<unknown>,
    writes = false,
  ): Promise<unknown> {
    if (!node || node.kind !== 'record') {
      void vscode.window.showInformationMessage('SkillMeat: run this from a record of the Deployments view (SkillMeat in the activity bar).');
      return undefined;
    }
    if (writes && !vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
      return undefined;
    }
    return action(node.target);
  }

  private compare(target: RecordTarget): Promise<unknown> {
    return runCompare(this.syncDeps(), target);
  }

  /**
   * The dependencies of a write on a record: once the server has answered, the record's
   * deployment file is saved when it is open in an editor that had no unsaved changes before
   * (the server edits an open file through the editor, which leaves the buffer dirty, while the
   * views and SkillMeat read the disk), and the views reload.
   */
  private writeDeps(target: RecordTarget, base: CompareDeps = this.syncDeps(), collections = false): CompareDeps {
    const file = target.file ? toUri(target.file) : undefined;
    const open = file ? vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === file.toString()) : undefined;
    const wasDirty = open?.isDirty ?? false;
    return {
      ...base,
      afterChange: async () => {
        await this.saveIfChanged(file, wasDirty);
        this.refreshAfterChange(collections);
      },
    };
  }

  private async saveIfChanged(file: vscode.Uri | undefined, wasDirty: boolean): Promise<void> {
    if (!file || wasDirty) {
      return;
    }
    const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === file.toString());
    if (document?.isDirty) {
      try {
        await document.save();
      } catch (error) {
        this.deps.output.appendLine(`[views] saving ${file.fsPath} failed: ${errorText(error)}`);
      }
    }
  }

  private async openDeployed(node?: RecordNode): Promise<void> {
    if (!node || node.kind !== 'record') {
      return;
    }
    const { target } = node;
    if (!target.deployed) {
      await this.openRecord(target);
      return;
    }
    const uri = toUri(target.deployed);
    const type = await fileType(uri);
    if (type === undefined) {
      await this.openRecord(target);
    } else if (type & vscode.FileType.Directory) {
      // A skill: its SKILL.md, else the folder in the Explorer.
      const skill = vscode.Uri.joinPath(uri, 'SKILL.md');
      if ((await fileType(skill)) !== undefined) {
        await vscode.window.showTextDocument(skill, { preview: true });
      } else {
        await vscode.commands.executeCommand('revealInExplorer', uri);
      }
    } else {
      await vscode.window.showTextDocument(uri, { preview: true });
    }
  }

  /** The deployment file, with the cursor on the record. */
  private async openRecord(target: RecordTarget): Promise<void> {
    if (target.file) {
      await this.deps.ui.openFile(toUri(target.file).fsPath, recordMarker(target.name));
    }
  }

  private async openDeploymentFile(node?: DeploymentNode): Promise<void> {
    if (node?.kind === 'root') {
      await vscode.window.showTextDocument(toUri(node.file), { preview: true });
    } else if (node?.kind === 'record') {
      await this.openRecord(node.target);
    }
  }

  private async deployArtifact(node?: ArtifactNode): Promise<unknown> {
    if (!node || node.kind !== 'artifact') {
      void vscode.window.showInformationMessage('SkillMeat: run this from an artifact of the Collections view (SkillMeat in the activity bar).');
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
      return undefined;
    }
    const base = this.deps.flowDeps();
    const deps: DeployFlowDeps = {
      ...base,
      // From the Collections view the project is always asked (when there is a choice): the
      // active editor says nothing about where this artifact should go.
      resolveProject: (hint?: string) => resolveProject(this.deps.ui, hint, { ignoreActive: true }),
      profileRoots: projectProfileRoots,
    };
    const dirtyBefore = new Set(vscode.workspace.textDocuments.filter((doc) => doc.isDirty).map((doc) => doc.uri.toString()));
    deps.afterChange = async (result) => {
      if (result.file) {
        const file = vscode.Uri.file(result.file);
        await this.saveIfChanged(file, dirtyBefore.has(file.toString()));
      }
      this.refreshAfterChange();
    };
    return runDeployFlow(deps, { collection: node.collection, artifacts: [node.artifact] });
  }

  // --- commands that reached the client from a quick fix or a code lens --------------------------

  /**
   * A record command (compare, keep local, pull, undeploy) started by the server's code action:
   * the same flows as the view's, sent through the language client (`next`).
   */
  async fromServer(command: string, request: unknown, next: Execute): Promise<unknown> {
    const target = targetFromRequest(request, (project) => projectLabel(toUri(project).fsPath, workspaceFolderPaths()));
    if (!target) {
      return next(command, [request]);
    }
    const deps = this.writeDeps(target, this.syncDeps(next, () => true), command === SyncCommand.pullToCollection);
    switch (command) {
      case SyncCommand.compare:
        return runCompare(deps, target);
      case SyncCommand.keepLocal:
        return runKeepLocal(deps, target);
      case SyncCommand.pullToCollection: {
        const given = (request as { strategy?: unknown }).strategy;
        const strategy = given === 'overwrite' || given === 'fork' ? (given as PullStrategy) : undefined;
        return runPull(deps, target, strategy);
      }
      case SyncCommand.undeploy:
        return runUndeploy(deps, target);
      default:
        return next(command, [request]);
    }
  }

  dispose(): void {
    this.deploymentsRefresher.dispose();
    this.collectionsRefresher.dispose();
    for (const disposable of this.disposables.splice(0)) {
      disposable.dispose();
    }
  }
}
