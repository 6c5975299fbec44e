/**
 * The client's file watcher (`synchronize.fileEvents`): deployment files anywhere in the
 * workspace, and every file under each profile root that holds one (`.claude/`, `.agents/`,
 * `.gemini/`, a custom `.mytool/`, …). Roots are found at start and whenever a deployment file
 * appears; each gets its own watcher, so a busy `.git/` or `.venv/` sends nothing.
 */
import * as vscode from 'vscode';
import { DEPLOYMENT_FILE_GLOBS, isDeploymentFile } from './core/profiles';
import { ProfileRootIndex, forwardRootEvent } from './core/watch';
import { findDeploymentFiles } from './workspaceFiles';

export class ProfileRootWatcher implements vscode.FileSystemWatcher {
  readonly ignoreCreateEvents = false;
  readonly ignoreChangeEvents = false;
  readonly ignoreDeleteEvents = false;

  private readonly created = new vscode.EventEmitter<vscode.Uri>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly deleted = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidCreate = this.created.event;
  readonly onDidChange = this.changed.event;
  readonly onDidDelete = this.deleted.event;

  private readonly index = new ProfileRootIndex();
  private readonly rootWatchers = new Map<string, vscode.Disposable>();
  private readonly disposables: vscode.Disposable[] = [this.created, this.changed, this.deleted];
  private disposed = false;

  constructor(private readonly log: (line: string) => void) {
    for (const glob of DEPLOYMENT_FILE_GLOBS) {
      const watcher = vscode.workspace.createFileSystemWatcher(glob);
      this.disposables.push(
        watcher,
        watcher.onDidCreate((uri) => this.deploymentFile(uri, this.created)),
        watcher.onDidChange((uri) => this.deploymentFile(uri, this.changed)),
        watcher.onDidDelete((uri) => this.deploymentFile(uri, this.deleted)),
      );
    }
    this.disposables.push(vscode.workspace.onDidChangeWorkspaceFolders(() => void this.discover()));
  }

  /** Finds the deployment files of the workspace and watches their roots. */
  async discover(): Promise<void> {
    try {
      for (const uri of await findDeploymentFiles()) {
        this.addFile(uri.fsPath);
      }
    } catch (error) {
      this.log(`Looking for deployment files failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The profile roots being watched (for the output and tests). */
  roots(): string[] {
    return this.index.roots();
  }

  private deploymentFile(uri: vscode.Uri, emitter: vscode.EventEmitter<vscode.Uri>): void {
    if (uri.scheme !== 'file' || !isDeploymentFile(uri.fsPath)) {
      return;
    }
    if (emitter === this.deleted) {
      const gone = this.index.remove(uri.fsPath);
      if (gone) {
        this.rootWatchers.get(gone)?.dispose();
        this.rootWatchers.delete(gone);
      }
    } else {
      this.addFile(uri.fsPath);
    }
    emitter.fire(uri);
  }

  private addFile(fsPath: string): void {
    const root = this.index.add(fsPath);
    if (!root || this.disposed || this.rootWatchers.has(root)) {
      return;
    }
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '**/*'));
    const forward = (emitter: vscode.EventEmitter<vscode.Uri>) => (uri: vscode.Uri) => {
      if (uri.scheme === 'file' && forwardRootEvent(root, uri.fsPath)) {
        emitter.fire(uri);
      }
    };
    const subscriptions = [
      watcher,
      watcher.onDidCreate(forward(this.created)),
      watcher.onDidChange(forward(this.changed)),
      watcher.onDidDelete(forward(this.deleted)),
    ];
    this.rootWatchers.set(root, vscode.Disposable.from(...subscriptions));
  }

  dispose(): void {
    this.disposed = true;
    for (const watcher of this.rootWatchers.values()) {
      watcher.dispose();
    }
    this.rootWatchers.clear();
    for (const disposable of this.disposables.splice(0)) {
      disposable.dispose();
    }
  }
}
