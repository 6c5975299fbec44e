import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FolderReader } from '../../src/core/compare';
import { RecordTarget } from '../../src/core/deployments';
import { SHOW_FILE } from '../../src/core/flows';
import { PickItem } from '../../src/core/quickPicks';
import {
  CompareDeps,
  OVERWRITE_LOCAL_CHANGES,
  UNDEPLOY,
  childUri,
  runCompare,
  runKeepLocal,
  runPull,
  runRecordUpdate,
  runUndeploy,
  strategyItems,
} from '../../src/core/syncFlows';

const TARGET: RecordTarget = {
  project: '/w/drift',
  projectLabel: 'drift',
  name: 'helper',
  type: 'agent',
  profile: 'claude_code',
  root: '.claude',
  collection: 'default',
  state: 'modified',
  deployed: 'file:///w/drift/.claude/agents/helper.md',
  file: 'file:///w/drift/.claude/.skillmeat-deployed.toml',
};

const SKILL: RecordTarget = {
  ...TARGET,
  name: 'code-review',
  type: 'skill',
  collection: 'team',
  state: 'conflict',
  deployed: 'file:///w/drift/.claude/skills/code-review',
};

const ALL = new Set(['skillmeat.compare', 'skillmeat.updateFromCollection', 'skillmeat.undeploy', 'skillmeat.keepLocal', 'skillmeat.pullToCollection']);

function textFolder(files: Record<string, string>): FolderReader {
  const encoder = new TextEncoder();
  return {
    list: async () => Object.keys(files).map((name) => ({ name, kind: 'file' as const })),
    read: async (relative) => encoder.encode(files[relative]),
  };
}

function harness(options: {
  server?: (command: string, args: unknown[]) => unknown;
  confirm?: boolean;
  pick?: (items: PickItem<unknown>[], title: string) => unknown;
  answers?: (string | undefined)[];
  commands?: Set<string>;
  folders?: Record<string, Record<string, string>>;
}) {
  const calls: { command: string; args: unknown[] }[] = [];
  const notes: { level: string; message: string; actions: string[] }[] = [];
  const confirms: { message: string; detail: string; action: string }[] = [];
  const picks: { title: string; labels: string[] }[] = [];
  const diffs: { collection?: string; deployed?: string; title: string; placeholder: string }[] = [];
  const opened: (string | undefined)[] = [];
  const answers = [...(options.answers ?? [])];
  const deps: CompareDeps = {
    ui: {
      async pickOne(items, { title }) {
        picks.push({ title, labels: items.map((i) => i.label) });
        return options.pick ? (options.pick(items as PickItem<unknown>[], title) as never) : items[0]?.value;
      },
      async pickMany() {
        return undefined;
      },
      async notify(level, message, ...actions) {
        notes.push({ level, message, actions });
        return answers.shift();
      },
      async openFile(fsPath, reveal) {
        opened.push(fsPath, reveal);
      },
      showOutput() {},
      async openSettings() {},
      async confirm(message, detail, action) {
        confirms.push({ message, detail, action });
        return options.confirm ?? true;
      },
    },
    execute: async (command, args) => {
      calls.push({ command, args });
      return options.server?.(command, args);
    },
    offers: (command) => (options.commands ?? ALL).has(command),
    files: {
      isDirectory: async (uri) => uri in (options.folders ?? {}),
      reader: (uri) => textFolder(options.folders?.[uri] ?? {}),
      openDiff: async (collection, deployed, title, placeholder) => {
        diffs.push({ collection, deployed, title, placeholder });
      },
    },
  };
  return { deps, calls, notes, confirms, picks, diffs, opened };
}

const answer = (extra: Record<string, unknown> = {}) => ({
  deployed: [{ name: 'helper', type: 'agent', path: 'agents/helper.md', collection: 'default' }],
  skipped: [],
  errors: [],
  file: '/w/drift/.claude/.skillmeat-deployed.toml',
  profile: 'claude_code',
  root: '.claude',
  ...extra,
});

describe('runKeepLocal', () => {
  it('sends the record and says the local copy is now the baseline', async () => {
    const h = harness({ server: () => ({ ...answer({ deployed: undefined }), kept: answer().deployed }), answers: [SHOW_FILE] });
    const result = await runKeepLocal(h.deps, TARGET);
    assert.deepEqual(h.calls, [{ command: 'skillmeat.keepLocal', args: [{ project: '/w/drift', name: 'helper', type: 'agent' }] }]);
    assert.equal(result?.deployed.length, 1);
    assert.equal(h.notes[0].level, 'info');
    assert.match(h.notes[0].message, /Kept the local changes of helper \(agent\) in drift\/\.claude/);
    assert.deepEqual(h.notes[0].actions, [SHOW_FILE]);
    assert.deepEqual(h.opened, ['/w/drift/.claude/.skillmeat-deployed.toml', 'artifact_name = "helper"']);
  });

  it('sends the profile of another root, and reports what was skipped', async () => {
    const h = harness({ server: () => answer({ deployed: [], skipped: [{ name: 'helper', type: 'agent', reason: 'not modified' }] }) });
    await runKeepLocal(h.deps, { ...TARGET, profile: 'codex', root: '.agents' });
    assert.deepEqual(h.calls[0].args, [{ project: '/w/drift', name: 'helper', type: 'agent', profile: 'codex' }]);
    assert.equal(h.notes[0].level, 'warning');
    assert.match(h.notes[0].message, /Skipped helper \(agent\): not modified/);
  });

  it('does not call a server that lacks the command', async () => {
    const h = harness({ commands: new Set(['skillmeat.compare']) });
    assert.equal(await runKeepLocal(h.deps, TARGET), undefined);
    assert.deepEqual(h.calls, []);
    assert.match(h.notes[0].message, /does not offer skillmeat\.keepLocal/);
  });

  it('reports a failed request', async () => {
    const h = harness({
      server: () => {
        throw new Error('boom');
      },
    });
    assert.equal(await runKeepLocal(h.deps, TARGET), undefined);
    assert.equal(h.notes[0].level, 'error');
    assert.match(h.notes[0].message, /keeping the local changes failed: boom/);
  });
});

describe('after a write', () => {
  it('saves and reloads (afterChange) before the notification, which waits for the user', async () => {
    const order: string[] = [];
    const h = harness({ server: () => answer() });
    const notify = h.deps.ui.notify;
    h.deps.ui.notify = async (...args) => {
      order.push('notify');
      return notify(...args);
    };
    h.deps.afterChange = () => {
      order.push('afterChange');
    };
    await runKeepLocal(h.deps, TARGET);
    await runUndeploy({ ...h.deps, execute: async () => ({ removed: [{ name: 'helper', type: 'agent' }], skipped: [], errors: [] }) }, TARGET);
    assert.deepEqual(order, ['afterChange', 'notify', 'afterChange', 'notify']);
  });

  it('does not call it when the server asked and the user cancelled', async () => {
    let called = false;
    const h = harness({ server: () => ({ deployed: [], skipped: [], errors: [], cancelled: true }) });
    h.deps.afterChange = () => {
      called = true;
    };
    await runKeepLocal(h.deps, TARGET);
    assert.equal(called, false);
  });
});

describe('runPull', () => {
  it('asks overwrite or fork, overwrite first, and sends the strategy', async () => {
    const h = harness({ server: () => ({ ...answer({ deployed: undefined }), pulled: answer().deployed }), pick: (items) => items[1].value });
    await runPull(h.deps, TARGET);
    assert.match(h.picks[0].title, /Pull helper \(agent\) from drift\/\.claude into 'default'/);
    assert.match(h.picks[0].labels[0], /Overwrite/);
    assert.match(h.picks[0].labels[1], /Fork/);
    assert.deepEqual(h.calls[0], { command: 'skillmeat.pullToCollection', args: [{ project: '/w/drift', name: 'helper', type: 'agent', strategy: 'fork' }] });
    assert.match(h.notes[0].message, /Pulled helper \(agent\) into 'default' from drift\/\.claude \(as a fork\)/);
  });

  it('sends nothing when the pick is cancelled, and asks nothing when the strategy is given', async () => {
    const cancelled = harness({ pick: () => undefined });
    assert.equal(await runPull(cancelled.deps, TARGET), undefined);
    assert.deepEqual(cancelled.calls, []);
    const given = harness({ server: () => answer() });
    await runPull(given.deps, TARGET, 'overwrite');
    assert.deepEqual(given.picks, []);
    assert.equal((given.calls[0].args[0] as { strategy: string }).strategy, 'overwrite');
  });

  it('names the collection in the strategy items', () => {
    const items = strategyItems(TARGET);
    assert.deepEqual(items.map((i) => i.value), ['overwrite', 'fork']);
    assert.match(items[0].description ?? '', /'default'/);
  });
});

describe('runRecordUpdate', () => {
  it('confirms before overwriting local changes, then forces', async () => {
    const h = harness({ server: () => answer({ deployed: [], updated: [{ name: 'helper', type: 'agent' }] }) });
    await runRecordUpdate(h.deps, TARGET);
    assert.equal(h.confirms.length, 1);
    assert.equal(h.confirms[0].action, OVERWRITE_LOCAL_CHANGES);
    assert.match(h.confirms[0].message, /Overwrite the local changes of helper \(agent\) in drift\/\.claude\?/);
    assert.deepEqual(h.calls[0], { command: 'skillmeat.updateFromCollection', args: [{ project: '/w/drift', name: 'helper', type: 'agent', force: true }] });
    assert.match(h.notes[0].message, /Updated helper \(agent\) from 'default' into drift\/\.claude/);
  });

  it('sends nothing when the overwrite is declined, and asks nothing for an update without local changes', async () => {
    const declined = harness({ confirm: false });
    assert.equal(await runRecordUpdate(declined.deps, TARGET), undefined);
    assert.deepEqual(declined.calls, []);
    const clean = harness({ server: () => answer() });
    await runRecordUpdate(clean.deps, { ...TARGET, state: 'update-available' });
    assert.deepEqual(clean.confirms, []);
    assert.deepEqual(clean.calls[0].args, [{ project: '/w/drift', name: 'helper', type: 'agent' }]);
  });

  it('says nothing when the server asked and the user cancelled', async () => {
    const h = harness({ server: () => ({ deployed: [], skipped: [], errors: [], cancelled: true }) });
    const result = await runRecordUpdate(h.deps, { ...TARGET, state: 'update-available' });
    assert.equal(result?.cancelled, true);
    assert.deepEqual(h.notes, []);
  });
});

describe('runUndeploy', () => {
  it('confirms with a modal warning and summarises what was removed', async () => {
    const h = harness({ server: () => ({ removed: [{ name: 'helper', type: 'agent', missing: false }], skipped: [], errors: [] }) });
    const result = await runUndeploy(h.deps, TARGET);
    assert.equal(h.confirms[0].action, UNDEPLOY);
    assert.match(h.confirms[0].message, /Undeploy helper \(agent\) from drift\/\.claude\?/);
    assert.match(h.confirms[0].detail, /with the local changes/);
    assert.deepEqual(h.calls[0], { command: 'skillmeat.undeploy', args: [{ project: '/w/drift', name: 'helper', type: 'agent' }] });
    assert.equal(result?.deployed.length, 1);
    assert.match(h.notes[0].message, /Undeployed helper \(agent\) from drift\/\.claude\./);
  });

  it('does nothing when the warning is cancelled', async () => {
    const h = harness({ confirm: false });
    assert.equal(await runUndeploy(h.deps, TARGET), undefined);
    assert.deepEqual(h.calls, []);
  });

  it('says so when nothing was removed', async () => {
    const h = harness({ server: () => ({ removed: [], skipped: [], errors: [{ name: 'helper', type: 'agent', message: 'no such record' }] }) });
    await runUndeploy(h.deps, TARGET);
    assert.equal(h.notes[0].level, 'error');
    assert.match(h.notes[0].message, /Failed: helper \(agent\): no such record/);
  });
});

describe('runCompare', () => {
  const fileAnswer = { deployed: 'file:///w/drift/.claude/agents/helper.md', collection: 'file:///h/collections/default/agents/helper.md' };
  const skillAnswer = { deployed: 'file:///w/drift/.claude/skills/code-review', collection: 'file:///h/collections/team/skills/code-review' };

  it('opens the diff of a single-file artifact, collection on the left', async () => {
    const h = harness({ server: () => fileAnswer });
    const outcome = await runCompare(h.deps, TARGET);
    assert.equal(outcome?.kind, 'file');
    assert.deepEqual(h.calls, [{ command: 'skillmeat.compare', args: [{ project: '/w/drift', name: 'helper', type: 'agent' }] }]);
    assert.deepEqual(h.diffs, [{ collection: fileAnswer.collection, deployed: fileAnswer.deployed, title: "helper (agent): 'default' ↔ deployed", placeholder: '' }]);
  });

  it('uses the answer a quick fix already got', async () => {
    const h = harness({});
    await runCompare(h.deps, TARGET, fileAnswer);
    assert.deepEqual(h.calls, []);
    assert.equal(h.diffs.length, 1);
  });

  it('asks which file of a folder to compare, then opens its diff', async () => {
    const h = harness({
      server: () => skillAnswer,
      folders: {
        [skillAnswer.collection]: { 'SKILL.md': 'team v2', 'LICENSE': 'MIT' },
        [skillAnswer.deployed]: { 'SKILL.md': 'local edits', 'NOTES my.md': 'mine' },
      },
      pick: (items) => items.find((item) => item.label.includes('NOTES'))?.value,
    });
    const outcome = await runCompare(h.deps, SKILL);
    assert.equal(outcome?.kind, 'folder');
    assert.match(h.picks[0].title, /Compare code-review \(skill\) with 'team': 3 files differ/);
    assert.deepEqual(h.picks[0].labels, ['$(diff-modified) SKILL.md', '$(diff-added) NOTES my.md', '$(diff-removed) LICENSE']);
    assert.deepEqual(h.diffs, [
      {
        collection: undefined,
        deployed: 'file:///w/drift/.claude/skills/code-review/NOTES%20my.md',
        title: 'code-review/NOTES my.md (skill): \'team\' ↔ deployed',
        placeholder: 'NOTES my.md',
      },
    ]);
  });

  it('opens the only differing file of a folder at once, and says when the folders are the same', async () => {
    const one = harness({
      server: () => skillAnswer,
      folders: { [skillAnswer.collection]: { 'SKILL.md': 'a' }, [skillAnswer.deployed]: { 'SKILL.md': 'b' } },
    });
    await runCompare(one.deps, SKILL);
    assert.deepEqual(one.picks, []);
    assert.equal(one.diffs[0].collection, 'file:///h/collections/team/skills/code-review/SKILL.md');
    const same = harness({
      server: () => skillAnswer,
      folders: { [skillAnswer.collection]: { 'SKILL.md': 'a' }, [skillAnswer.deployed]: { 'SKILL.md': 'a' } },
    });
    assert.equal((await runCompare(same.deps, SKILL))?.kind, 'identical');
    assert.match(same.notes[0].message, /same files/);
    assert.deepEqual(same.diffs, []);
  });

  it('opens nothing when the file pick is cancelled, or the answer is not a comparison', async () => {
    const cancelled = harness({
      server: () => skillAnswer,
      folders: { [skillAnswer.collection]: { a: '1', b: '1' }, [skillAnswer.deployed]: { a: '2', b: '2' } },
      pick: () => undefined,
    });
    await runCompare(cancelled.deps, SKILL);
    assert.deepEqual(cancelled.diffs, []);
    const bad = harness({ server: () => ({ deployed: 'file:///x' }) });
    assert.equal(await runCompare(bad.deps, TARGET), undefined);
    assert.equal(bad.notes[0].level, 'error');
  });

  it('joins file URIs with encoded segments', () => {
    assert.equal(childUri('file:///a/b/', 'scripts/x y.py'), 'file:///a/b/scripts/x%20y.py');
    assert.equal(childUri('file:///a/my%20skill', 'SKILL.md'), 'file:///a/my%20skill/SKILL.md');
  });
});
