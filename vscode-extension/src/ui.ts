/**
 * The VS Code side of the flows: QuickPicks, notifications, project choice.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { FlowUi, ProjectRef } from './core/flows';
import { SyncUi } from './core/syncFlows';
import { isDeploymentFile, profileRootOf } from './core/profiles';
import { projectCandidates } from './core/projects';
import { PickItem, projectItems } from './core/quickPicks';
import { findDeploymentFiles, listProfileRoots } from './workspaceFiles';

type Item<T> = vscode.QuickPickItem & { value: T };

function toItems<T>(items: PickItem<T>[]): Item<T>[] {
  return items.map((item) => ({
    label: item.label,
    description: item.description,
    detail: item.detail,
    picked: item.picked,
    value: item.value,
  }));
}

export function createFlowUi(output: vscode.OutputChannel): SyncUi {
  return {
    async confirm(message, detail, action) {
      return (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;
    },
    async pickOne(items, options) {
      const picked = await vscode.window.showQuickPick(toItems(items), {
        title: options.title,
        placeHolder: options.placeholder,
        matchOnDescription: true,
        matchOnDetail: true,
        ignoreFocusOut: true,
      });
      return picked?.value;
    },
    async pickMany(items, options) {
      const picked = await vscode.window.showQuickPick(toItems(items), {
        title: options.title,
        placeHolder: options.placeholder,
        matchOnDescription: true,
        matchOnDetail: true,
        ignoreFocusOut: true,
        canPickMany: true,
      });
      return picked?.map((item) => item.value);
    },
    async notify(level, message, ...actions) {
      switch (level) {
        case 'error':
          return vscode.window.showErrorMessage(message, ...actions);
        case 'warning':
          return vscode.window.showWarningMessage(message, ...actions);
        default:
          return vscode.window.showInformationMessage(message, ...actions);
      }
    },
    async openFile(fsPath, reveal) {
      const document = await vscode.workspace.openTextDocument(vscode.Uri.file(fsPath));
      const offset = reveal ? document.getText().indexOf(reveal) : -1;
      const selection = offset >= 0 ? new vscode.Range(document.positionAt(offset), document.positionAt(offset)) : undefined;
      const editor = await vscode.window.showTextDocument(document, { preview: false, selection });
      if (selection) {
        editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      }
    },
    showOutput() {
      output.show(true);
    },
    async openSettings(query) {
      await vscode.commands.executeCommand('workbench.action.openSettings', query);
    },
  };
}

function workspaceFolderPaths(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/** The deployment file of the active editor, if it is one. */
export function activeDeploymentFile(): vscode.Uri | undefined {
  const uri = vscode.window.activeTextEditor?.document.uri;
  return uri && uri.scheme === 'file' && isDeploymentFile(uri.fsPath) ? uri : undefined;
}

function labelFor(root: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(root));
  if (folder) {
    const relative = path.relative(folder.uri.fsPath, root);
    return relative === '' ? folder.name : relative;
  }
  return root;
}

function projectRef(root: string, currentProfile?: string): ProjectRef {
  const ref: ProjectRef = { id: vscode.Uri.file(root).toString(), label: labelFor(root) };
  if (currentProfile) {
    ref.currentProfile = currentProfile;
  }
  return ref;
}

function hintPath(hint: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(hint) && !/^[a-z]:[\\/]/i.test(hint) ? vscode.Uri.parse(hint).fsPath : hint;
}

/** The profile roots of a project (`.claude`, `.agents`, …) that hold a deployment file. */
export async function projectProfileRoots(project: ProjectRef): Promise<string[]> {
  return listProfileRoots(vscode.Uri.file(hintPath(project.id)));
}

/**
 * The project to work on: the one named by the caller, else the parent of the profile root of
 * the active deployment file, else the only candidate, else a QuickPick of the workspace's
 * projects (every parent of a profile root holding a deployment file, and the workspace folders).
 */
export async function resolveProject(ui: FlowUi, hint?: string, options: { ignoreActive?: boolean } = {}): Promise<ProjectRef | undefined> {
  if (hint) {
    const ref: ProjectRef = { id: hint, label: labelFor(hintPath(hint)) };
    const active = activeDeploymentFile();
    const current = active ? profileRootOf(active.fsPath) : undefined;
    if (current && path.resolve(current.project) === path.resolve(hintPath(hint))) {
      ref.currentProfile = current.profileId;
    }
    return ref;
  }
  const active = options.ignoreActive ? undefined : activeDeploymentFile();
  if (active) {
    const ref = profileRootOf(active.fsPath);
    if (ref) {
      return projectRef(ref.project, ref.profileId);
    }
  }
  const files = await findDeploymentFiles();
  const candidates = projectCandidates(
    files.map((uri) => uri.fsPath),
    workspaceFolderPaths(),
  );
  if (candidates.length === 0) {
    await ui.notify('warning', 'SkillMeat: open a folder first; artifacts are deployed into a project folder.');
    return undefined;
  }
  if (candidates.length === 1) {
    return projectRef(candidates[0].root);
  }
  const chosen = await ui.pickOne(projectItems(candidates), {
    title: 'SkillMeat: choose a project',
    placeholder: 'Project (the folder that holds .claude/, .agents/, …)',
  });
  return chosen ? projectRef(chosen.root) : undefined;
}

/** The deployment file to migrate: the active one, else the only one, else a QuickPick. */
export async function resolveDeploymentFile(ui: FlowUi, hint?: unknown): Promise<vscode.Uri | undefined> {
  if (typeof hint === 'string' && hint !== '') {
    return /^file:/i.test(hint) ? vscode.Uri.parse(hint) : vscode.Uri.file(hint);
  }
  if (hint instanceof vscode.Uri) {
    return hint;
  }
  const active = activeDeploymentFile();
  if (active) {
    return active;
  }
  const files = await findDeploymentFiles();
  if (files.length === 0) {
    await ui.notify('info', 'SkillMeat: no deployment file (.claude/.skillmeat-deployed.toml, .agents/.skillmeat-deployed.toml, …) in this workspace.');
    return undefined;
  }
  if (files.length === 1) {
    return files[0];
  }
  return ui.pickOne(
    files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), value: uri })),
    { title: 'SkillMeat: choose a deployment file', placeholder: 'Deployment file' },
  );
}
