import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FolderReader,
  compareFolders,
  diffTitle,
  differenceItems,
  isSkipped,
  listFiles,
  parseCompareResult,
  sameBytes,
  sidesOf,
} from '../../src/core/compare';

/** A folder as a map of relative path → text. */
function folder(files: Record<string, string>): FolderReader {
  const encoder = new TextEncoder();
  return {
    async list(relative) {
      const prefix = relative === '' ? '' : `${relative}/`;
      const names = new Map<string, 'file' | 'directory'>();
      for (const path of Object.keys(files)) {
        if (!path.startsWith(prefix)) {
          continue;
        }
        const [first, ...rest] = path.slice(prefix.length).split('/');
        names.set(first, rest.length > 0 ? 'directory' : 'file');
      }
      if (names.size === 0 && relative !== '') {
        throw new Error(`no such folder: ${relative}`);
      }
      return [...names].map(([name, kind]) => ({ name, kind }));
    },
    async read(relative) {
      if (!(relative in files)) {
        throw new Error(`no such file: ${relative}`);
      }
      return encoder.encode(files[relative]);
    },
  };
}

describe('parseCompareResult', () => {
  it('takes the two URIs (and the base when there is one)', () => {
    assert.deepEqual(parseCompareResult({ deployed: 'file:///p/a.md', collection: 'file:///h/a.md' }), {
      deployed: 'file:///p/a.md',
      collection: 'file:///h/a.md',
    });
    assert.equal(parseCompareResult({ deployed: 'file:///p', collection: 'file:///h', base: 'file:///b' })?.base, 'file:///b');
    assert.equal(parseCompareResult({ deployed: 'file:///p' }), undefined);
    assert.equal(parseCompareResult(null), undefined);
    assert.equal(parseCompareResult({ deployed: '', collection: 'file:///h' }), undefined);
  });
});

describe('compareFolders', () => {
  it('finds the changed, added and removed files, skipping what SkillMeat never copies', async () => {
    const collection = folder({
      'SKILL.md': 'v2',
      'scripts/check_diff.py': 'same',
      'scripts/old.py': 'gone here',
      '.git/HEAD': 'ref',
      '__pycache__/x.cpython-311.pyc': 'x',
    });
    const deployed = folder({
      'SKILL.md': 'v1 with local edits',
      'scripts/check_diff.py': 'same',
      'NOTES.md': 'only here',
      'node_modules/a/index.js': 'x',
    });
    assert.deepEqual(await compareFolders(collection, deployed), [
      { path: 'NOTES.md', change: 'added' },
      { path: 'scripts/old.py', change: 'removed' },
      { path: 'SKILL.md', change: 'changed' },
    ]);
  });

  it('finds nothing between identical folders', async () => {
    const files = { 'SKILL.md': 'x', 'a/b/c.txt': 'y' };
    assert.deepEqual(await compareFolders(folder(files), folder({ ...files })), []);
  });

  it('reads a file it cannot read as changed, and a folder it cannot list as empty', async () => {
    const broken: FolderReader = { list: async () => [{ name: 'SKILL.md', kind: 'file' }], read: async () => Promise.reject(new Error('EACCES')) };
    assert.deepEqual(await compareFolders(broken, folder({ 'SKILL.md': 'x' })), [{ path: 'SKILL.md', change: 'changed' }]);
    const unlistable: FolderReader = { list: async () => Promise.reject(new Error('ENOENT')), read: async () => new Uint8Array() };
    assert.deepEqual(await listFiles(unlistable), []);
  });

  it('lists nested files in sorted order and ignores special entries', async () => {
    const reader: FolderReader = {
      list: async (relative) =>
        relative === ''
          ? [
              { name: 'z.md', kind: 'file' },
              { name: 'dir', kind: 'directory' },
              { name: 'fifo', kind: 'other' },
            ]
          : [{ name: 'a.md', kind: 'file' }],
      read: async () => new Uint8Array(),
    };
    assert.deepEqual(await listFiles(reader), ['dir/a.md', 'z.md']);
  });
});

describe('the compare file pick', () => {
  it('lists changed files first, then added, then removed, with what happened', () => {
    const items = differenceItems([
      { path: 'b.md', change: 'removed' },
      { path: 'NOTES.md', change: 'added' },
      { path: 'SKILL.md', change: 'changed' },
      { path: 'a.md', change: 'changed' },
    ]);
    assert.deepEqual(items.map((item) => [item.label, item.description]), [
      ['$(diff-modified) a.md', 'changed'],
      ['$(diff-modified) SKILL.md', 'changed'],
      ['$(diff-added) NOTES.md', 'only in the deployed copy'],
      ['$(diff-removed) b.md', 'only in the collection'],
    ]);
  });

  it('opens an added or removed file against an empty side', () => {
    assert.deepEqual(sidesOf({ path: 'x', change: 'changed' }), { collection: true, deployed: true });
    assert.deepEqual(sidesOf({ path: 'x', change: 'added' }), { collection: false, deployed: true });
    assert.deepEqual(sidesOf({ path: 'x', change: 'removed' }), { collection: true, deployed: false });
  });

  it('titles the diff with the artifact (and the file of a folder)', () => {
    assert.equal(diffTitle({ name: 'helper', type: 'agent', collection: 'default' }), "helper (agent): 'default' ↔ deployed");
    assert.equal(diffTitle({ name: 'code-review', type: 'skill' }, 'SKILL.md'), 'code-review/SKILL.md (skill): collection ↔ deployed');
  });

  it('follows the skip list of SkillMeat', () => {
    for (const name of ['.git', '__pycache__', 'x.pyc', 'node_modules', '.DS_Store', 'pkg.egg-info']) {
      assert.ok(isSkipped(name), name);
    }
    for (const name of ['SKILL.md', 'git', 'scripts', 'x.py']) {
      assert.ok(!isSkipped(name), name);
    }
    assert.ok(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])));
    assert.ok(!sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3])));
    assert.ok(!sameBytes(new Uint8Array([1]), new Uint8Array([1, 2])));
  });
});
