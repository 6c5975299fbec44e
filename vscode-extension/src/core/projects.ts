/**
 * Deployment files and the projects they belong to: a project is the parent of a profile root
 * (`.claude/`, `.agents/`, `.gemini/`, …) that holds a deployment file.
 */
import * as path from 'path';
import {
  CLAUDE_ROOT,
  DEPLOYMENT_FILE_NAME,
  isProfileRootName,
  profileRootOf,
} from './profiles';
import type { ProjectCandidate } from './quickPicks';

export { isDeploymentFile } from './profiles';

/** The project folder of a deployment file, or undefined when the path is not one. */
export function projectRootOf(fsPath: string): string | undefined {
  return profileRootOf(fsPath)?.project;
}

/** `.claude` first, then by name. */
export function compareRoots(a: string, b: string): number {
  return a === CLAUDE_ROOT ? (b === CLAUDE_ROOT ? 0 : -1) : b === CLAUDE_ROOT ? 1 : a.localeCompare(b);
}

/** What a project folder is called: its path relative to the workspace folder holding it (with
 * the folder's name first in a multi-root workspace), the folder's name for the folder itself. */
export function projectLabel(root: string, workspaceFolders: readonly string[]): string {
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

/** Which of two deployment files of one project represents it: `.claude` first, then the real name. */
function preferred(current: string, candidate: string): string {
  const rank = (file: string) => {
    const ref = profileRootOf(file);
    return (ref?.root === CLAUDE_ROOT ? 0 : 2) + (path.basename(file) === DEPLOYMENT_FILE_NAME ? 0 : 1);
  };
  const a = rank(current);
  const b = rank(candidate);
  return b < a || (b === a && candidate.localeCompare(current) < 0) ? candidate : current;
}

/**
 * One candidate per project, sorted by label: every parent of a profile root holding a
 * deployment file (with the roots it has, and the file that stands for it: `.claude`'s
 * `.skillmeat-deployed.toml` first), then each workspace folder that has none yet (a first deploy
 * creates one). Paths that are no deployment file (SkillMeat's lock and temp siblings) are
 * ignored.
 */
export function projectCandidates(
  deploymentFiles: readonly string[],
  workspaceFolders: readonly string[],
): ProjectCandidate[] {
  const byRoot = new Map<string, ProjectCandidate>();
  for (const file of deploymentFiles) {
    const ref = profileRootOf(file);
    if (ref === undefined) {
      continue;
    }
    const existing = byRoot.get(ref.project);
    if (!existing) {
      byRoot.set(ref.project, {
        root: ref.project,
        label: projectLabel(ref.project, workspaceFolders),
        deploymentFile: file,
        profileRoots: [ref.root],
      });
      continue;
    }
    existing.deploymentFile = existing.deploymentFile ? preferred(existing.deploymentFile, file) : file;
    if (!existing.profileRoots.includes(ref.root)) {
      existing.profileRoots.push(ref.root);
    }
  }
  for (const candidate of byRoot.values()) {
    candidate.profileRoots.sort(compareRoots);
  }
  const withFiles = [...byRoot.values()].sort((a, b) => a.label.localeCompare(b.label));
  const bare = workspaceFolders
    .filter((folder) => !byRoot.has(folder))
    .map((folder) => ({ root: folder, label: projectLabel(folder, workspaceFolders), profileRoots: [] }));
  return [...withFiles, ...bare];
}

/**
 * The profile roots of one project from a listing of its folder: each dot-directory (no SkillMeat
 * sibling) for which `hasDeploymentFile` says it holds a deployment file.
 */
export async function profileRootsIn(
  entries: readonly { name: string; isDirectory: boolean }[],
  hasDeploymentFile: (root: string) => Promise<boolean>,
): Promise<string[]> {
  const roots: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory && isProfileRootName(entry.name) && (await hasDeploymentFile(entry.name))) {
      roots.push(entry.name);
    }
  }
  return roots.sort(compareRoots);
}
