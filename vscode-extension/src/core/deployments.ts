/**
 * The Deployments view's tree: workspace projects → profile roots → records with their sync
 * state, built from the answer of `skillmeat.listDeployments`, and which actions each record
 * offers. Nothing here imports `vscode`: `src/views.ts` turns the nodes into tree items.
 */
import { DEFAULT_PROFILE_ID, defaultRootOf, profileArgument, profileIdForRoot } from './profiles';
import { compareRoots, projectLabel } from './projects';
import { compareTypes } from './quickPicks';
import { escapeMarkdown } from './status';
import { SyncCommand } from './serverCommands';

export const SYNC_STATES = ['in-sync', 'modified', 'update-available', 'conflict', 'missing', 'unknown'] as const;
export type SyncState = (typeof SYNC_STATES)[number];

export interface DeploymentRecordInfo {
  name: string;
  type: string;
  /** SkillMeat's profile of the record (`deployment_profile_id`, else `claude_code`). */
  profile: string;
  root: string;
  collection: string | null;
  /** `artifact_path`, relative to the profile root. */
  path: string | null;
  state: SyncState;
  content_hash: string | null;
  project_hash: string | null;
  collection_hash: string | null;
  message: string;
  /** `file:` URI of the deployed copy, when it exists. */
  deployed: string | null;
}

export interface DeploymentRootInfo {
  /** The profile root's folder name, e.g. `.claude`. */
  root: string;
  /** The profile id of the root (`.agents` → `codex`). */
  profile: string;
  /** `file:` URI of its deployment file. */
  file: string;
  records: DeploymentRecordInfo[];
}

export interface ProjectDeploymentsInfo {
  /** Absolute path (or URI) of the project folder, as the server named it. */
  project: string;
  name: string;
  roots: DeploymentRootInfo[];
  /** Why the project's deployment files could not be read. */
  error?: string;
}

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

function parseRecord(value: unknown, root: string): DeploymentRecordInfo | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const entry = value as Record<string, unknown>;
  const name = str(entry.name);
  const type = str(entry.type);
  if (!name || !type) {
    return undefined;
  }
  const state = (SYNC_STATES as readonly string[]).includes(entry.state as string) ? (entry.state as SyncState) : 'unknown';
  return {
    name,
    type,
    profile: str(entry.profile) ?? DEFAULT_PROFILE_ID,
    root: str(entry.root) ?? root,
    collection: str(entry.collection),
    path: str(entry.path),
    state,
    content_hash: str(entry.content_hash),
    project_hash: str(entry.project_hash),
    collection_hash: str(entry.collection_hash),
    message: typeof entry.message === 'string' ? entry.message : '',
    deployed: str(entry.deployed),
  };
}

/** Validates the answer of `skillmeat.listDeployments`; drops malformed entries. */
export function parseDeployments(value: unknown): ProjectDeploymentsInfo[] {
  if (!Array.isArray(value)) {
    return [];
  }
  const projects: ProjectDeploymentsInfo[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null) {
      continue;
    }
    const project = str((entry as Record<string, unknown>).project);
    if (!project) {
      continue;
    }
    const raw = entry as Record<string, unknown>;
    const roots: DeploymentRootInfo[] = [];
    for (const rootEntry of Array.isArray(raw.roots) ? raw.roots : []) {
      if (typeof rootEntry !== 'object' || rootEntry === null) {
        continue;
      }
      const r = rootEntry as Record<string, unknown>;
      const root = str(r.root);
      const file = str(r.file);
      if (!root || !file) {
        continue;
      }
      const records = (Array.isArray(r.records) ? r.records : [])
        .map((record: unknown) => parseRecord(record, root))
        .filter((record): record is DeploymentRecordInfo => record !== undefined);
      roots.push({ root, profile: str(r.profile) ?? profileIdForRoot(root), file, records });
    }
    const info: ProjectDeploymentsInfo = { project, name: str(raw.name) ?? baseName(project), roots };
    const error = str(raw.error);
    if (error) {
      info.error = error;
    }
    projects.push(info);
  }
  return projects;
}

function baseName(fsPath: string): string {
  const parts = fsPath.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? fsPath;
}

// --- states --------------------------------------------------------------------------------------

export interface StateView {
  /** What the record's description says. */
  label: string;
  /** Codicon id. */
  icon: string;
  /** Theme color id of the icon, if any. */
  color?: string;
}

export const STATE_VIEWS: Readonly<Record<SyncState, StateView>> = {
  'in-sync': { label: 'in sync', icon: 'pass', color: 'testing.iconPassed' },
  modified: { label: 'modified', icon: 'diff-modified', color: 'gitDecoration.modifiedResourceForeground' },
  'update-available': { label: 'update available', icon: 'cloud-download', color: 'editorInfo.foreground' },
  conflict: { label: 'conflict', icon: 'git-merge', color: 'gitDecoration.conflictingResourceForeground' },
  missing: { label: 'missing', icon: 'circle-slash', color: 'problemsWarningIcon.foreground' },
  unknown: { label: 'unknown', icon: 'question' },
};

/** States that need the user's attention, in the order a summary names them. */
const ATTENTION: readonly SyncState[] = ['conflict', 'modified', 'update-available', 'missing', 'unknown'];

/** "1 conflict · 2 modified", "3 in sync", "no records". */
export function summarizeStates(records: readonly DeploymentRecordInfo[]): string {
  if (records.length === 0) {
    return 'no records';
  }
  const counts = new Map<SyncState, number>();
  for (const record of records) {
    counts.set(record.state, (counts.get(record.state) ?? 0) + 1);
  }
  const parts = ATTENTION.filter((state) => counts.has(state)).map((state) => `${counts.get(state)} ${STATE_VIEWS[state].label}`);
  if (parts.length === 0) {
    return records.length === 1 ? 'in sync' : `${records.length} in sync`;
  }
  return parts.join(' · ');
}

export function needsAttention(records: readonly DeploymentRecordInfo[]): boolean {
  return records.some((record) => record.state !== 'in-sync');
}

// --- actions -------------------------------------------------------------------------------------

/** What the context menu of a record offers. */
export const RECORD_ACTIONS = ['open', 'compare', 'update', 'keepLocal', 'pull', 'undeploy'] as const;
export type RecordAction = (typeof RECORD_ACTIONS)[number];

/** The server command behind each action that needs one. */
export const ACTION_COMMANDS: Readonly<Partial<Record<RecordAction, string>>> = {
  compare: SyncCommand.compare,
  update: SyncCommand.updateFromCollection,
  keepLocal: SyncCommand.keepLocal,
  pull: SyncCommand.pullToCollection,
  undeploy: SyncCommand.undeploy,
};

/** Actions that write (refused in an untrusted workspace). */
export const WRITING_ACTIONS: ReadonlySet<RecordAction> = new Set<RecordAction>(['update', 'keepLocal', 'pull', 'undeploy']);

const DRIFTED: ReadonlySet<SyncState> = new Set<SyncState>(['modified', 'update-available', 'conflict']);
const LOCALLY_CHANGED: ReadonlySet<SyncState> = new Set<SyncState>(['modified', 'conflict']);
const UPDATABLE: ReadonlySet<SyncState> = new Set<SyncState>(['update-available', 'conflict', 'modified', 'missing']);

export interface ActionContext {
  /** The commands the running server executes (`executeCommandProvider.commands`). */
  commands: ReadonlySet<string>;
  trusted: boolean;
}

/**
 * The actions a record offers: those its state calls for, whose server command the running
 * server has, and no writing one in an untrusted workspace. Open needs a deployed copy; compare
 * a drifted record with both copies; update a collection; keep local and pull a local change.
 */
export function recordActions(record: DeploymentRecordInfo, context: ActionContext): RecordAction[] {
  const wanted: RecordAction[] = [];
  if (record.deployed) {
    wanted.push('open');
  }
  if (record.deployed && record.collection && DRIFTED.has(record.state)) {
    wanted.push('compare');
  }
  if (record.collection && UPDATABLE.has(record.state)) {
    wanted.push('update');
  }
  if (record.deployed && LOCALLY_CHANGED.has(record.state)) {
    wanted.push('keepLocal');
  }
  if (record.deployed && record.collection && LOCALLY_CHANGED.has(record.state)) {
    wanted.push('pull');
  }
  wanted.push('undeploy');
  return wanted.filter((action) => {
    const command = ACTION_COMMANDS[action];
    if (command !== undefined && !context.commands.has(command)) {
      return false;
    }
    return context.trusted || !WRITING_ACTIONS.has(action);
  });
}

/** `skillmeat.record +open +compare`: what `when` clauses of the menus match (`viewItem =~ /\+compare\b/`). */
export function recordContextValue(actions: readonly RecordAction[]): string {
  return ['skillmeat.record', ...actions.map((action) => `+${action}`)].join(' ');
}

// --- the tree ------------------------------------------------------------------------------------

/** A record as the server commands name it. */
export interface RecordTarget {
  /** The project as the server named it (a path). */
  project: string;
  projectLabel: string;
  name: string;
  type: string;
  /** The profile of the record's root: the one its deployment file belongs to. */
  profile: string;
  root: string;
  collection: string | null;
  state: SyncState;
  /** `file:` URI of the deployed copy. */
  deployed: string | null;
  /** `file:` URI of the deployment file. */
  file: string;
}

/** The request of a record command: `{"project", "name", "type", "profile"?}` (no profile for `claude_code`). */
export function recordRequest(target: RecordTarget): { project: string; name: string; type: string; profile?: string } {
  const request: { project: string; name: string; type: string; profile?: string } = {
    project: target.project,
    name: target.name,
    type: target.type,
  };
  const profile = profileArgument(target.profile);
  if (profile) {
    request.profile = profile;
  }
  return request;
}

/**
 * The target of a record command that reached the client from a quick fix or a code lens
 * (`{"project", "name", "type", "profile"?}`): what the messages need, the rest unknown.
 */
export function targetFromRequest(request: unknown, label: (project: string) => string): RecordTarget | undefined {
  if (typeof request !== 'object' || request === null) {
    return undefined;
  }
  const { project, name, type, profile } = request as Record<string, unknown>;
  if (typeof project !== 'string' || project === '' || typeof name !== 'string' || typeof type !== 'string') {
    return undefined;
  }
  const id = typeof profile === 'string' && profile !== '' ? profile : DEFAULT_PROFILE_ID;
  return {
    project,
    projectLabel: label(project),
    name,
    type,
    profile: id,
    root: defaultRootOf(id),
    collection: null,
    state: 'unknown',
    deployed: null,
    file: '',
  };
}

export interface NodeIcon {
  id: string;
  color?: string;
}

/** What every node of the SkillMeat views has (the Collections view's nodes too). */
export interface TreeNode {
  /** Stable across refreshes, so the tree keeps its expansion state. */
  id: string;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip: string;
  icon: NodeIcon;
  contextValue: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  accessibilityLabel: string;
}

export interface ProjectNode extends TreeNode {
  kind: 'project';
  project: string;
  children: (RootNode | MessageNode)[];
}

export interface RootNode extends TreeNode {
  kind: 'root';
  /** `file:` URI of the deployment file. */
  file: string;
  children: (RecordNode | MessageNode)[];
}

export interface RecordNode extends TreeNode {
  kind: 'record';
  target: RecordTarget;
  actions: RecordAction[];
}

export interface MessageNode extends TreeNode {
  kind: 'message';
}

export type DeploymentNode = ProjectNode | RootNode | RecordNode | MessageNode;

export interface TreeContext extends ActionContext {
  /** Paths of the workspace folders, for the project labels. */
  workspaceFolders: readonly string[];
}

function shortHash(hash: string | null): string {
  return hash ? `\`${hash.slice(0, 12)}\`` : '—';
}

function recordNode(record: DeploymentRecordInfo, root: DeploymentRootInfo, project: ProjectDeploymentsInfo, label: string, context: TreeContext): RecordNode {
  const view = STATE_VIEWS[record.state];
  const actions = recordActions(record, context);
  const target: RecordTarget = {
    project: project.project,
    projectLabel: label,
    name: record.name,
    type: record.type,
    profile: root.profile,
    root: root.root,
    collection: record.collection,
    state: record.state,
    deployed: record.deployed,
    file: root.file,
  };
  const tooltip = [
    `**${escapeMarkdown(record.name)}** (${escapeMarkdown(record.type)}) — ${view.label}`,
    record.message ? escapeMarkdown(record.message) : '',
    [
      `Collection: ${record.collection ? escapeMarkdown(record.collection) : '—'}`,
      `Path: ${record.path ? `\`${record.root}/${record.path.replace(/`/g, '')}\`` : '—'}`,
      record.profile !== root.profile ? `Profile: ${escapeMarkdown(record.profile)}` : '',
    ]
      .filter(Boolean)
      .join('  \n'),
    `Recorded ${shortHash(record.content_hash)} · here ${shortHash(record.project_hash)} · collection ${shortHash(record.collection_hash)}`,
  ]
    .filter(Boolean)
    .join('\n\n');
  const description = [record.type, view.label].join(' · ');
  return {
    kind: 'record',
    id: `record:${project.project}\u0000${root.root}\u0000${record.type}\u0000${record.name}`,
    label: record.name,
    description,
    tooltip,
    icon: { id: view.icon, ...(view.color ? { color: view.color } : {}) },
    contextValue: recordContextValue(actions),
    collapsible: 'none',
    accessibilityLabel: `${record.name} (${record.type}), ${view.label}`,
    target,
    actions,
  };
}

function messageNode(id: string, text: string, icon: NodeIcon): MessageNode {
  return {
    kind: 'message',
    id,
    label: text,
    tooltip: escapeMarkdown(text),
    icon,
    contextValue: 'skillmeat.message',
    collapsible: 'none',
    accessibilityLabel: text,
  };
}

function compareRecords(a: DeploymentRecordInfo, b: DeploymentRecordInfo): number {
  return compareTypes(a.type, b.type) || a.name.localeCompare(b.name);
}

/**
 * The tree of the Deployments view: one node per project (sorted by label; expanded when one of
 * its records needs attention or it cannot be read), its profile roots (`.claude` first), and
 * their records (by type, then name) with their state.
 */
export function buildDeploymentTree(projects: readonly ProjectDeploymentsInfo[], context: TreeContext): ProjectNode[] {
  const nodes = projects.map((project): ProjectNode => {
    const label = projectLabel(project.project, context.workspaceFolders);
    const records = project.roots.flatMap((root) => root.records);
    const roots = [...project.roots].sort((a, b) => compareRoots(a.root, b.root));
    const children: (RootNode | MessageNode)[] = [];
    if (project.error) {
      children.push(messageNode(`error:${project.project}`, project.error, { id: 'error', color: 'problemsErrorIcon.foreground' }));
    }
    for (const root of roots) {
      const recordNodes: (RecordNode | MessageNode)[] = [...root.records]
        .sort(compareRecords)
        .map((record) => recordNode(record, root, project, label, context));
      if (recordNodes.length === 0) {
        recordNodes.push(messageNode(`empty:${project.project}\u0000${root.root}`, 'no records', { id: 'info' }));
      }
      const count = `${root.records.length} record${root.records.length === 1 ? '' : 's'}`;
      children.push({
        kind: 'root',
        id: `root:${project.project}\u0000${root.root}`,
        label: root.root,
        description: `${root.profile} · ${summarizeStates(root.records)}`,
        tooltip: `Profile root \`${root.root}/\` (profile \`${root.profile}\`): ${count}.\n\nClick to open its deployment file.`,
        icon: { id: 'folder' },
        contextValue: 'skillmeat.root',
        collapsible: 'expanded',
        accessibilityLabel: `${label} ${root.root}, profile ${root.profile}, ${count}, ${summarizeStates(root.records)}`,
        file: root.file,
        children: recordNodes,
      });
    }
    const summary = project.error ? 'cannot be read' : summarizeStates(records);
    const attention = Boolean(project.error) || needsAttention(records);
    return {
      kind: 'project',
      id: `project:${project.project}`,
      label,
      description: summary,
      tooltip: [`**${escapeMarkdown(label)}**`, `\`${project.project.replace(/`/g, '')}\``, project.error ? escapeMarkdown(project.error) : summary]
        .filter(Boolean)
        .join('\n\n'),
      icon: project.error
        ? { id: 'error', color: 'problemsErrorIcon.foreground' }
        : attention
          ? { id: 'folder-active' }
          : { id: 'folder' },
      contextValue: project.error ? 'skillmeat.project skillmeat.projectError' : 'skillmeat.project',
      collapsible: attention ? 'expanded' : 'collapsed',
      accessibilityLabel: `${label}: ${summary}`,
      project: project.project,
      children,
    };
  });
  return nodes.sort((a, b) => a.label.localeCompare(b.label));
}
