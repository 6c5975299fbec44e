/**
 * Finding deployment files and profile roots on disk.
 */
import * as vscode from 'vscode';
import { profileRootsIn } from './core/projects';
import { CLAUDE_ROOT, DEPLOYMENT_FILE_GLOBS, DEPLOYMENT_FILE_NAME, PLAN_FILE_NAME, isDeploymentFile } from './core/profiles';

const SEARCH_EXCLUDE = '**/node_modules/**';
const SEARCH_LIMIT = 5000;

/** Every deployment file of the workspace (`<root>/.skillmeat-deployed.toml`, `.claude/deployment.toml`), sorted. */
export async function findDeploymentFiles(): Promise<vscode.Uri[]> {
  const found = await Promise.all(DEPLOYMENT_FILE_GLOBS.map((glob) => vscode.workspace.findFiles(glob, SEARCH_EXCLUDE, SEARCH_LIMIT)));
  const unique = new Map<string, vscode.Uri>();
  for (const uri of found.flat()) {
    if (uri.scheme === 'file' && isDeploymentFile(uri.fsPath)) {
      unique.set(uri.toString(), uri);
    }
  }
  return [...unique.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

async function isFile(uri: vscode.Uri): Promise<boolean> {
  try {
    return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.File) !== 0;
  } catch {
    return false;
  }
}

/** The profile roots of a project folder that hold a deployment file, `.claude` first. */
export async function listProfileRoots(project: vscode.Uri): Promise<string[]> {
  let entries: [string, vscode.FileType][];
  try {
    entries = await vscode.workspace.fs.readDirectory(project);
  } catch {
    return [];
  }
  return profileRootsIn(
    entries.map(([name, type]) => ({ name, isDirectory: (type & vscode.FileType.Directory) !== 0 })),
    async (root) =>
      (await isFile(vscode.Uri.joinPath(project, root, DEPLOYMENT_FILE_NAME))) ||
      (root === CLAUDE_ROOT && (await isFile(vscode.Uri.joinPath(project, root, PLAN_FILE_NAME)))),
  );
}
