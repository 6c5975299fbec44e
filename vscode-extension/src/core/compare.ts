/**
 * "Compare with collection": the answer of `skillmeat.compare`, and for a directory artifact (a
 * skill) which of its files differ between the collection's copy and the deployed one. The
 * folders are read through {@link FolderReader} (`vscode.workspace.fs` in the extension, a map in
 * the tests); nothing here imports `vscode`.
 */
import type { PickItem } from './quickPicks';

export interface CompareResult {
  /** `file:` URI of the deployed copy. */
  deployed: string;
  /** `file:` URI of the collection's copy. */
  collection: string;
  /** `file:` URI of the copy as deployed, when the server keeps one. */
  base?: string;
}

/** Validates the answer of `skillmeat.compare`; undefined when it is not one. */
export function parseCompareResult(value: unknown): CompareResult | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const { deployed, collection, base } = value as Record<string, unknown>;
  if (typeof deployed !== 'string' || deployed === '' || typeof collection !== 'string' || collection === '') {
    return undefined;
  }
  const result: CompareResult = { deployed, collection };
  if (typeof base === 'string' && base !== '') {
    result.base = base;
  }
  return result;
}

export type EntryKind = 'file' | 'directory' | 'other';

/** One side of a comparison: paths are relative to the artifact's folder, `/`-separated. */
export interface FolderReader {
  list(relative: string): Promise<{ name: string; kind: EntryKind }[]>;
  read(relative: string): Promise<Uint8Array>;
}

/**
 * What SkillMeat leaves out when it copies a directory (`copy_artifact`'s skip list, fnmatch on
 * every path segment): a `.git/` or `__pycache__/` in the collection is never "removed" here.
 */
export const SKIP_PATTERNS: readonly string[] = [
  '.git',
  '.github',
  '.gitignore',
  '__pycache__',
  '*.pyc',
  '*.pyo',
  'node_modules',
  '.venv',
  'venv',
  '*.egg-info',
  '.DS_Store',
  'Thumbs.db',
];

/** Whether SkillMeat skips an entry of this name (exact names and `*.suffix` patterns). */
export function isSkipped(name: string): boolean {
  return SKIP_PATTERNS.some((pattern) => (pattern.startsWith('*') ? name.endsWith(pattern.slice(1)) : name === pattern));
}

const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

/** Every file under the folder (recursively, skip list applied), sorted. */
export async function listFiles(reader: FolderReader, relative = '', depth = 0): Promise<string[]> {
  if (depth > 32) {
    return [];
  }
  const files: string[] = [];
  let entries: { name: string; kind: EntryKind }[];
  try {
    entries = await reader.list(relative);
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (isSkipped(entry.name)) {
      continue;
    }
    const path = join(relative, entry.name);
    if (entry.kind === 'file') {
      files.push(path);
    } else if (entry.kind === 'directory') {
      files.push(...(await listFiles(reader, path, depth + 1)));
    }
  }
  return files.sort();
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

/** `added`: only in the deployed copy; `removed`: only in the collection's; `changed`: in both, different. */
export type FileChange = 'added' | 'removed' | 'changed';

export interface FileDifference {
  path: string;
  change: FileChange;
}

/** The files that differ between the collection's folder and the deployed one, by path. */
export async function compareFolders(collection: FolderReader, deployed: FolderReader): Promise<FileDifference[]> {
  const [left, right] = await Promise.all([listFiles(collection), listFiles(deployed)]);
  const inRight = new Set(right);
  const inLeft = new Set(left);
  const differences: FileDifference[] = [];
  for (const path of left) {
    if (!inRight.has(path)) {
      differences.push({ path, change: 'removed' });
      continue;
    }
    let same = false;
    try {
      const [a, b] = await Promise.all([collection.read(path), deployed.read(path)]);
      same = sameBytes(a, b);
    } catch {
      same = false;
    }
    if (!same) {
      differences.push({ path, change: 'changed' });
    }
  }
  for (const path of right) {
    if (!inLeft.has(path)) {
      differences.push({ path, change: 'added' });
    }
  }
  return differences.sort((a, b) => a.path.localeCompare(b.path));
}

const CHANGE_VIEWS: Readonly<Record<FileChange, { icon: string; text: string }>> = {
  changed: { icon: '$(diff-modified)', text: 'changed' },
  added: { icon: '$(diff-added)', text: 'only in the deployed copy' },
  removed: { icon: '$(diff-removed)', text: 'only in the collection' },
};

/** The QuickPick of the differing files: changed first, then added, then removed; by path. */
export function differenceItems(differences: readonly FileDifference[]): PickItem<FileDifference>[] {
  const order: FileChange[] = ['changed', 'added', 'removed'];
  return [...differences]
    .sort((a, b) => order.indexOf(a.change) - order.indexOf(b.change) || a.path.localeCompare(b.path))
    .map((difference) => ({
      label: `${CHANGE_VIEWS[difference.change].icon} ${difference.path}`,
      description: CHANGE_VIEWS[difference.change].text,
      value: difference,
    }));
}

/** The diff editor's title: `helper (agent): collection ↔ deployed`, with the file of a folder. */
export function diffTitle(target: { name: string; type: string; collection?: string | null }, file?: string): string {
  const what = file ? `${target.name}/${file}` : target.name;
  const left = target.collection ? `'${target.collection}'` : 'collection';
  return `${what} (${target.type}): ${left} ↔ deployed`;
}

/** What to open for one differing file: the two sides, `undefined` standing for an empty side. */
export function sidesOf(difference: FileDifference): { collection: boolean; deployed: boolean } {
  return { collection: difference.change !== 'added', deployed: difference.change !== 'removed' };
}
