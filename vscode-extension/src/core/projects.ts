/**
 * Deployment files and the projects they belong to (the parent of `.claude/`).
 */
import * as path from 'path';
import type { ProjectCandidate } from './quickPicks';

export const DEPLOYMENT_FILE_NAMES: readonly string[] = ['.skillmeat-deployed.toml', 'deployment.toml'];

/** Document selector pattern of the language client. */
export const DEPLOYMENT_FILE_GLOB = '**/.claude/{.skillmeat-deployed.toml,deployment.toml}';

function splitPath(fsPath: string): string[] {
  return fsPath.split(/[\\/]+/);
}

export function isDeploymentFile(fsPath: string): boolean {
  const parts = splitPath(fsPath);
  return parts.length >= 2 && parts[parts.length - 2] === '.claude' && DEPLOYMENT_FILE_NAMES.includes(parts[parts.length - 1]);
}

/** The project folder of a deployment file, or undefined when the path is not one. */
export function projectRootOf(fsPath: string): string | undefined {
  if (!isDeploymentFile(fsPath)) {
    return undefined;
  }
  const separator = fsPath.includes('\\') && !fsPath.includes('/') ? '\\' : '/';
  const parts = fsPath.split(/[\\/]/);
  const root = parts.slice(0, -2).join(separator);
  return root === '' ? separator : root;
}

function label(root: string, workspaceFolders: readonly string[]): string {
  for (const folder of workspaceFolders) {
    const relative = path.relative(folder, root);
    if (relative === '') {
      return path.basename(folder) || folder;
    }
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
      return workspaceFolders.length > 1 ? `${path.basename(folder)}/${relative}` : relative;
    }
  }
  return root;
}

/**
 * One candidate per project, sorted by label: every folder holding a deployment file (the
 * `.skillmeat-deployed.toml` wins over a `deployment.toml` beside it), then each workspace
 * folder that has none yet (a first deploy creates it).
 */
export function projectCandidates(
  deploymentFiles: readonly string[],
  workspaceFolders: readonly string[],
): ProjectCandidate[] {
  const byRoot = new Map<string, ProjectCandidate>();
  for (const file of deploymentFiles) {
    const root = projectRootOf(file);
    if (root === undefined) {
      continue;
    }
    const existing = byRoot.get(root);
    if (!existing || path.basename(file) === DEPLOYMENT_FILE_NAMES[0]) {
      byRoot.set(root, { root, label: label(root, workspaceFolders), deploymentFile: file });
    }
  }
  const withFiles = [...byRoot.values()].sort((a, b) => a.label.localeCompare(b.label));
  const bare = workspaceFolders
    .filter((folder) => !byRoot.has(folder))
    .map((folder) => ({ root: folder, label: label(folder, workspaceFolders) }));
  return [...withFiles, ...bare];
}
