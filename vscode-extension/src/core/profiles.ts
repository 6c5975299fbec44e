/**
 * Deployment files, profile roots and SkillMeat profile ids (SPEC §2).
 *
 * A deployment file is `<project>/<root>/.skillmeat-deployed.toml`, where `<root>` (a *profile
 * root*) is any dot-directory directly under the project: `.claude` (Claude Code), `.agents`
 * (Codex; `.codex` in older releases), `.gemini`, `.cursor`, `.bob`, or a custom profile's root.
 * `.claude/deployment.toml` (the remediation plan's name) counts too, under `.claude` only.
 * The lock, temp, backup and swap-aside siblings SkillMeat leaves beside these files are never
 * deployment files.
 */

export const DEPLOYMENT_FILE_NAME = '.skillmeat-deployed.toml';
export const PLAN_FILE_NAME = 'deployment.toml';
export const CLAUDE_ROOT = '.claude';
export const DEFAULT_PROFILE_ID = 'claude_code';

/** Globs (VS Code syntax) of the deployment files: activation, document selector, search, watchers. */
export const DEPLOYMENT_FILE_GLOBS: readonly string[] = [`**/.*/${DEPLOYMENT_FILE_NAME}`, `**/${CLAUDE_ROOT}/${PLAN_FILE_NAME}`];

/** Root folder → profile id of the built-in profiles. */
const BUILTIN_ROOTS: Readonly<Record<string, string>> = {
  '.claude': 'claude_code',
  '.agents': 'codex',
  '.codex': 'codex',
  '.gemini': 'gemini',
  '.cursor': 'cursor',
  '.bob': 'bob',
};

/** Built-in profile ids in the order they are offered, with their names and default roots. */
const BUILTIN_PROFILES: readonly { id: string; label: string; root: string }[] = [
  { id: 'claude_code', label: 'Claude Code', root: '.claude' },
  { id: 'codex', label: 'Codex', root: '.agents' },
  { id: 'gemini', label: 'Gemini', root: '.gemini' },
  { id: 'cursor', label: 'Cursor', root: '.cursor' },
  { id: 'bob', label: 'Bob', root: '.bob' },
];

/**
 * Names SkillMeat gives the files it leaves beside a destination D (`write_transaction`):
 * `.<D>.skillmeat-lock`, `.<D>.skillmeat-txn-<hex>` (backup), `.<D>.<rand>.txn.tmp` and
 * `.<D>.txn-<hex>` (staging), `.<D>.skillmeat-swap-aside-<hex>`; and skillmeat-ls's own
 * `.skillmeat-staging-*` folders.
 */
const SIBLING_PATTERNS: readonly RegExp[] = [
  /\.skillmeat-lock$/,
  /\.skillmeat-txn-/,
  /\.txn\.tmp$/,
  /\.txn-[0-9a-f]+$/i,
  /\.skillmeat-swap-aside-/,
  /^\.skillmeat-staging-/,
];

/** A lock, temp, backup or swap-aside sibling of SkillMeat (or skillmeat-ls staging). */
export function isSkillmeatSibling(name: string): boolean {
  return name.startsWith('.') && SIBLING_PATTERNS.some((pattern) => pattern.test(name));
}

/** Could this folder name be a profile root (a dot-directory that is no SkillMeat sibling)? */
export function isProfileRootName(name: string): boolean {
  return name.length > 1 && name.startsWith('.') && name !== '..' && !/[\\/]/.test(name) && !isSkillmeatSibling(name);
}

/** The SkillMeat profile id of a profile root: `.claude` → `claude_code`, `.mytool` → `mytool`. */
export function profileIdForRoot(root: string): string {
  const builtin = BUILTIN_ROOTS[root];
  if (builtin) {
    return builtin;
  }
  return root.startsWith('.') ? root.slice(1) : root;
}

/** What a user reads for a profile id: "Claude Code", "Codex", …; a custom id as it is. */
export function profileLabel(id: string): string {
  return BUILTIN_PROFILES.find((profile) => profile.id === id)?.label ?? id;
}

/** The `profile` argument of a server command: absent for the default profile. */
export function profileArgument(id: string | undefined | null): string | undefined {
  return id && id !== DEFAULT_PROFILE_ID ? id : undefined;
}

function splitPath(fsPath: string): string[] {
  return fsPath.split(/[\\/]+/);
}

/** Is this path a deployment file (`<root>/.skillmeat-deployed.toml`, `.claude/deployment.toml`)? */
export function isDeploymentFile(fsPath: string): boolean {
  const parts = splitPath(fsPath);
  if (parts.length < 2) {
    return false;
  }
  const name = parts[parts.length - 1];
  const root = parts[parts.length - 2];
  if (name === DEPLOYMENT_FILE_NAME) {
    return isProfileRootName(root);
  }
  return name === PLAN_FILE_NAME && root === CLAUDE_ROOT;
}

export interface ProfileRootRef {
  /** The project folder: the parent of the profile root. */
  project: string;
  /** The profile root's folder name, e.g. `.agents`. */
  root: string;
  /** The profile root's path. */
  rootPath: string;
  /** The SkillMeat profile id, e.g. `codex`. */
  profileId: string;
}

/** Project, profile root and profile id of a deployment file; undefined when it is not one. */
export function profileRootOf(fsPath: string): ProfileRootRef | undefined {
  if (!isDeploymentFile(fsPath)) {
    return undefined;
  }
  const separator = fsPath.includes('\\') && !fsPath.includes('/') ? '\\' : '/';
  const parts = fsPath.split(/[\\/]/);
  const root = parts[parts.length - 2];
  const project = parts.slice(0, -2).join(separator);
  return {
    project: project === '' ? separator : project,
    root,
    rootPath: parts.slice(0, -1).join(separator),
    profileId: profileIdForRoot(root),
  };
}

export interface ProfileChoice {
  id: string;
  label: string;
  /** The project's existing roots of this profile (`.agents`, `.codex`); empty for a new one. */
  roots: string[];
}

function rankOf(id: string): number {
  const index = BUILTIN_PROFILES.findIndex((profile) => profile.id === id);
  return index === -1 ? BUILTIN_PROFILES.length : index;
}

/**
 * The profiles to offer for a project, from its existing profile roots: one per id (`.agents` and
 * `.codex` are both `codex`), `claude_code` first, then the other built-ins, then custom ids by
 * name. `includeDefault` adds `claude_code` when the project has no `.claude` yet (a deploy
 * creates it).
 */
export function profileChoices(roots: readonly string[], options: { includeDefault?: boolean } = {}): ProfileChoice[] {
  const byId = new Map<string, ProfileChoice>();
  const add = (id: string, root?: string) => {
    let choice = byId.get(id);
    if (!choice) {
      choice = { id, label: profileLabel(id), roots: [] };
      byId.set(id, choice);
    }
    if (root && !choice.roots.includes(root)) {
      choice.roots.push(root);
    }
  };
  if (options.includeDefault) {
    add(DEFAULT_PROFILE_ID);
  }
  for (const root of roots) {
    if (isProfileRootName(root)) {
      add(profileIdForRoot(root), root);
    }
  }
  for (const choice of byId.values()) {
    choice.roots.sort((a, b) => (rankOfRoot(a) - rankOfRoot(b)) || a.localeCompare(b));
  }
  return [...byId.values()].sort((a, b) => rankOf(a.id) - rankOf(b.id) || a.id.localeCompare(b.id));
}

/** `.agents` before `.codex`: the current release's root first. */
function rankOfRoot(root: string): number {
  const index = BUILTIN_PROFILES.findIndex((profile) => profile.root === root);
  return index === -1 ? BUILTIN_PROFILES.length : index;
}

/** The root a profile's first deploy creates, for display (`.claude`, `.agents`, `.mytool`). */
export function defaultRootOf(id: string): string {
  return BUILTIN_PROFILES.find((profile) => profile.id === id)?.root ?? `.${id}`;
}
