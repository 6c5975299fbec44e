import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeployFlowDeps,
  FlowUi,
  OVERWRITE,
  OVERWRITE_LOCAL,
  SHOW_FILE,
  interceptCommand,
  reportDeploy,
  runDeployFlow,
  runUpdateFlow,
} from '../../src/core/flows';
import { PickItem } from '../../src/core/quickPicks';

const COLLECTIONS = [
  {
    name: 'default',
    path: '/h/collections/default',
    artifacts: [{ name: 'canvas-design', type: 'skill', content_hash: 'a'.repeat(64) }],
    groups: [],
  },
  {
    name: 'team',
    path: '/h/collections/team',
    artifacts: [
      { name: 'planner', type: 'agent', content_hash: 'b'.repeat(64), description: 'Plans' },
      { name: 'code-review', type: 'skill', content_hash: 'c'.repeat(64), deployed_from: 'team' },
    ],
    groups: [],
  },
];

interface Call {
  command: string;
  args: unknown[];
}

/** A scripted UI: each pick answers by label; notifications answer with the queued actions. */
function harness(options: {
  pick?: (title: string, items: PickItem<unknown>[]) => string | undefined;
  pickMany?: (title: string, items: PickItem<unknown>[]) => string[] | undefined;
  answers?: (string | undefined)[];
  server?: (command: string, args: unknown[]) => unknown;
  profileRoots?: string[];
  currentProfile?: string;
}) {
  const calls: Call[] = [];
  const notes: { level: string; message: string; actions: string[] }[] = [];
  const opened: (string | undefined)[] = [];
  const titles: string[] = [];
  const answers = [...(options.answers ?? [])];
  const ui: FlowUi = {
    async pickOne(items, { title }) {
      titles.push(title);
      const label = options.pick?.(title, items as PickItem<unknown>[]);
      return items.find((item) => item.label.endsWith(` ${label}`) || item.label === label)?.value;
    },
    async pickMany(items, { title }) {
      titles.push(title);
      const labels = options.pickMany?.(title, items as PickItem<unknown>[]);
      return labels === undefined ? undefined : items.filter((item) => labels.some((l) => item.label.endsWith(` ${l}`))).map((i) => i.value);
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
  };
  const deps: DeployFlowDeps = {
    ui,
    execute: async (command, args) => {
      calls.push({ command, args });
      if (options.server) {
        return options.server(command, args);
      }
      return command === 'skillmeat.listCollections' ? COLLECTIONS : undefined;
    },
    resolveProject: async (hint) => ({
      id: hint ?? 'file:///w/clean',
      label: 'clean',
      ...(options.currentProfile ? { currentProfile: options.currentProfile } : {}),
    }),
    profileRoots: async () => options.profileRoots ?? ['.claude'],
  };
  return { deps, calls, notes, opened, titles };
}

const deployed = (args: unknown[]) => {
  const [{ artifacts, collection }] = args as [{ artifacts: { name: string; type: string }[]; collection: string }];
  return {
    deployed: artifacts.map((a) => ({ ...a, collection, path: `/w/clean/.claude/agents/${a.name}.md` })),
    skipped: [],
    errors: [],
    file: '/w/clean/.claude/.skillmeat-deployed.toml',
  };
};

describe('runDeployFlow', () => {
  it('asks collection then artifacts, deploys with explicit arguments and offers the file', async () => {
    const h = harness({
      pick: () => 'team',
      pickMany: () => ['planner'],
      answers: [SHOW_FILE],
      server: (command, args) => (command === 'skillmeat.listCollections' ? COLLECTIONS : deployed(args)),
    });
    const result = await runDeployFlow(h.deps);
    assert.deepEqual(h.calls.map((c) => c.command), ['skillmeat.listCollections', 'skillmeat.deploy']);
    assert.deepEqual(h.calls[0].args, [{ project: 'file:///w/clean' }]);
    assert.deepEqual(h.calls[1].args, [
      { project: 'file:///w/clean', collection: 'team', artifacts: [{ name: 'planner', type: 'agent' }], overwrite: undefined },
    ]);
    assert.equal(result?.deployed.length, 1);
    assert.equal(h.notes.length, 1);
    assert.equal(h.notes[0].level, 'info');
    assert.match(h.notes[0].message, /Deployed planner \(agent\) from 'team' into clean/);
    assert.deepEqual(h.notes[0].actions, [SHOW_FILE]);
    assert.deepEqual(h.opened, ['/w/clean/.claude/.skillmeat-deployed.toml', 'artifact_name = "planner"']);
  });

  it('stops without deploying when a pick is cancelled', async () => {
    const cancelCollection = harness({ pick: () => undefined });
    assert.equal(await runDeployFlow(cancelCollection.deps), undefined);
    assert.deepEqual(cancelCollection.calls.map((c) => c.command), ['skillmeat.listCollections']);
    const cancelArtifacts = harness({ pick: () => 'team', pickMany: () => [] });
    assert.equal(await runDeployFlow(cancelArtifacts.deps), undefined);
    assert.deepEqual(cancelArtifacts.calls.map((c) => c.command), ['skillmeat.listCollections']);
  });

  it('skips the collection pick when the caller named one (a code action)', async () => {
    const h = harness({ pickMany: () => ['code-review'], server: (c, a) => (c === 'skillmeat.listCollections' ? COLLECTIONS : deployed(a)) });
    await runDeployFlow(h.deps, { project: 'file:///w/other', collection: 'team' });
    assert.equal(h.titles.length, 1);
    assert.match(h.titles[0], /Deploy from 'team'/);
    assert.deepEqual((h.calls[1].args[0] as { project: string }).project, 'file:///w/other');
  });

  it('asks nothing when everything is given', async () => {
    const h = harness({ server: (_c, a) => deployed(a) });
    await runDeployFlow(h.deps, { project: 'file:///w/x', collection: 'team', artifacts: [{ name: 'planner', type: 'agent' }] });
    assert.equal(h.titles.length, 0);
    assert.deepEqual(h.calls.map((c) => c.command), ['skillmeat.deploy']);
  });

  it('offers to overwrite what was skipped', async () => {
    let round = 0;
    const h = harness({
      pick: () => 'team',
      pickMany: () => ['planner', 'code-review'],
      answers: [OVERWRITE, undefined],
      server: (command, args) => {
        if (command === 'skillmeat.listCollections') {
          return COLLECTIONS;
        }
        round += 1;
        if (round === 1) {
          return {
            deployed: [{ name: 'planner', type: 'agent' }],
            skipped: [{ name: 'code-review', type: 'skill', reason: 'modified locally' }],
            errors: [],
            file: '/f',
          };
        }
        return deployed(args);
      },
    });
    await runDeployFlow(h.deps);
    assert.equal(h.notes[0].level, 'warning');
    assert.match(h.notes[0].message, /Skipped code-review \(skill\): modified locally/);
    assert.deepEqual(h.notes[0].actions, [SHOW_FILE, OVERWRITE]);
    assert.deepEqual(h.calls[2].args, [
      { project: 'file:///w/clean', collection: 'team', artifacts: [{ name: 'code-review', type: 'skill' }], overwrite: true },
    ]);
    assert.deepEqual(h.notes[1].actions, [SHOW_FILE]);
  });

  it('reports errors and server failures', async () => {
    const h = harness({
      pick: () => 'team',
      pickMany: () => ['planner'],
      server: (c) => (c === 'skillmeat.listCollections' ? COLLECTIONS : { deployed: [], skipped: [], errors: [{ name: 'planner', type: 'agent', message: 'disk full' }] }),
    });
    await runDeployFlow(h.deps);
    assert.equal(h.notes[0].level, 'error');
    assert.match(h.notes[0].message, /Failed: planner \(agent\): disk full/);
    const failing = harness({
      server: () => {
        throw new Error('server crashed');
      },
    });
    assert.equal(await runDeployFlow(failing.deps), undefined);
    assert.equal(failing.notes[0].level, 'error');
    assert.match(failing.notes[0].message, /server crashed/);
  });

  it('says so when there is no collection', async () => {
    const h = harness({ server: () => [] });
    assert.equal(await runDeployFlow(h.deps), undefined);
    assert.match(h.notes[0].message, /no collection found/);
  });
});

describe('runDeployFlow with profiles', () => {
  const server = (command: string, args: unknown[]) => (command === 'skillmeat.listCollections' ? COLLECTIONS : deployed(args));

  it('asks no profile when the project has only .claude (or nothing yet), and sends none', async () => {
    for (const roots of [['.claude'], []]) {
      const h = harness({ pick: () => 'team', pickMany: () => ['planner'], server, profileRoots: roots });
      await runDeployFlow(h.deps);
      assert.ok(!h.titles.some((t) => /profile/.test(t)), JSON.stringify(h.titles));
      assert.ok(!('profile' in (h.calls[1].args[0] as object)));
    }
  });

  it('offers claude_code first, then the existing roots as ids, and sends the chosen profile', async () => {
    let offered: string[] = [];
    const h = harness({
      pick: (title, items) => {
        if (/choose a profile/.test(title)) {
          offered = items.map((i) => i.label);
          return 'Codex';
        }
        return 'team';
      },
      pickMany: () => ['planner'],
      server,
      profileRoots: ['.agents', '.mytool'],
      currentProfile: 'codex',
    });
    await runDeployFlow(h.deps);
    assert.deepEqual(offered, ['$(account) Claude Code', '$(account) Codex', '$(account) mytool']);
    assert.deepEqual(h.titles, [
      'Deploy into clean: choose a profile',
      'Deploy into clean (codex): choose a collection',
      "Deploy from 'team' into clean (codex)",
    ]);
    assert.deepEqual(h.calls[0].args, [{ project: 'file:///w/clean', profile: 'codex' }]);
    assert.deepEqual(h.calls[1].args, [
      { project: 'file:///w/clean', collection: 'team', artifacts: [{ name: 'planner', type: 'agent' }], overwrite: undefined, profile: 'codex' },
    ]);
    assert.match(h.notes[0].message, /into clean \(codex\)/);
  });

  it('sends no profile when claude_code is picked, and stops when the pick is cancelled', async () => {
    const h = harness({
      pick: (title) => (/profile/.test(title) ? 'Claude Code' : 'team'),
      pickMany: () => ['planner'],
      server,
      profileRoots: ['.claude', '.gemini'],
    });
    await runDeployFlow(h.deps);
    assert.ok(!('profile' in (h.calls[1].args[0] as object)));
    const cancelled = harness({ pick: () => undefined, server, profileRoots: ['.claude', '.gemini'] });
    assert.equal(await runDeployFlow(cancelled.deps), undefined);
    assert.deepEqual(cancelled.calls, []);
  });

  it('takes the profile a code action named without asking, and keeps it for "Overwrite"', async () => {
    let round = 0;
    const h = harness({
      answers: [OVERWRITE, undefined],
      profileRoots: ['.claude', '.agents'],
      server: (_command, args) => {
        round += 1;
        return round === 1
          ? { deployed: [], skipped: [{ name: 'planner', type: 'agent', reason: 'modified locally' }], errors: [] }
          : deployed(args);
      },
    });
    await runDeployFlow(h.deps, { project: 'file:///w/x', collection: 'team', artifacts: [{ name: 'planner', type: 'agent' }], profile: 'gemini' });
    assert.equal(h.titles.length, 0);
    assert.equal((h.calls[0].args[0] as { profile?: string }).profile, 'gemini');
    assert.equal((h.calls[1].args[0] as { profile?: string; overwrite?: boolean }).profile, 'gemini');
    assert.equal((h.calls[1].args[0] as { overwrite?: boolean }).overwrite, true);
  });
});

describe('reportDeploy (a quick fix that named everything)', () => {
  it('tells what was deployed and offers the file at the record', async () => {
    const h = harness({ answers: [SHOW_FILE] });
    const args = { project: '/w/refs', collection: 'team', artifacts: [{ name: 'planner', type: 'agent' }] };
    await reportDeploy(h.deps, { id: '/w/refs', label: 'refs' }, args, deployed([args]));
    assert.match(h.notes[0].message, /Deployed planner \(agent\) from 'team' into refs/);
    assert.deepEqual(h.opened, ['/w/clean/.claude/.skillmeat-deployed.toml', 'artifact_name = "planner"']);
  });
  it('stays silent when the user cancelled a question of the server', async () => {
    const h = harness({});
    const result = await reportDeploy(h.deps, { id: 'p', label: 'p' }, {}, { deployed: [], skipped: [], errors: [], cancelled: true });
    assert.equal(result?.cancelled, true);
    assert.equal(h.notes.length, 0);
  });
});

describe('runUpdateFlow', () => {
  it('lists the records deployed from a known collection and asks before overwriting local changes', async () => {
    let round = 0;
    const h = harness({
      pick: () => 'code-review',
      answers: [OVERWRITE_LOCAL, undefined],
      server: (command) => {
        if (command === 'skillmeat.listCollections') {
          return COLLECTIONS;
        }
        round += 1;
        return round === 1
          ? { deployed: [], skipped: [{ name: 'code-review', type: 'skill', reason: 'local changes' }], errors: [] }
          : { deployed: [{ name: 'code-review', type: 'skill' }], skipped: [], errors: [] };
      },
    });
    await runUpdateFlow(h.deps);
    assert.deepEqual(h.calls.slice(1).map((c) => c.args[0]), [
      { project: 'file:///w/clean', name: 'code-review', type: 'skill' },
      { project: 'file:///w/clean', name: 'code-review', type: 'skill', force: true },
    ]);
    assert.deepEqual(h.notes[0].actions, [OVERWRITE_LOCAL]);
    assert.match(h.notes[1].message, /Updated code-review \(skill\) from 'team'/);
  });
});

describe('runUpdateFlow with profiles', () => {
  it('asks for the profile only when the project has several roots, and sends it', async () => {
    const h = harness({
      pick: (title) => (/choose a profile/.test(title) ? 'Codex' : 'code-review'),
      profileRoots: ['.claude', '.agents'],
      server: (command) =>
        command === 'skillmeat.listCollections' ? COLLECTIONS : { deployed: [{ name: 'code-review', type: 'skill' }], skipped: [], errors: [] },
    });
    await runUpdateFlow(h.deps);
    assert.deepEqual(h.titles, ['Update in clean: choose a profile', 'Update in clean (codex)']);
    assert.deepEqual(h.calls.map((c) => c.args[0]), [
      { project: 'file:///w/clean', profile: 'codex' },
      { project: 'file:///w/clean', name: 'code-review', type: 'skill', profile: 'codex' },
    ]);
  });
  it('uses the only root of the project without asking', async () => {
    const h = harness({
      profileRoots: ['.agents'],
      server: () => ({ deployed: [{ name: 'planner', type: 'agent' }], skipped: [], errors: [] }),
    });
    await runUpdateFlow(h.deps, { project: 'file:///w/clean', name: 'planner', type: 'agent' });
    assert.equal(h.titles.length, 0);
    assert.deepEqual(h.calls[0].args[0], { project: 'file:///w/clean', name: 'planner', type: 'agent', profile: 'codex' });
    const onlyClaude = harness({ server: () => ({ deployed: [{ name: 'planner', type: 'agent' }], skipped: [], errors: [] }) });
    await runUpdateFlow(onlyClaude.deps, { project: 'file:///w/clean', name: 'planner', type: 'agent' });
    assert.deepEqual(onlyClaude.calls[0].args[0], { project: 'file:///w/clean', name: 'planner', type: 'agent' });
  });
});

describe('interceptCommand', () => {
  it('runs the QuickPick flow for a deploy without collection or artifacts', () => {
    assert.equal(interceptCommand('skillmeat.deploy', [], true), 'deployFlow');
    assert.equal(interceptCommand('skillmeat.deploy', [{ project: 'file:///p' }], true), 'deployFlow');
    assert.equal(interceptCommand('skillmeat.deploy', [{ project: 'file:///p', collection: 'team' }], true), 'deployFlow');
    assert.equal(interceptCommand('skillmeat.deploy', [{ project: 'p', collection: 'team', artifacts: [] }], true), 'deployFlow');
    assert.equal(
      interceptCommand('skillmeat.deploy', [{ project: 'p', collection: 'team', artifacts: [{ name: 'a', type: 'skill' }] }], true),
      'pass',
    );
  });
  it('refuses every write in an untrusted workspace and passes reads', () => {
    for (const command of ['skillmeat.deploy', 'skillmeat.migrateSchema', 'skillmeat.updateFromCollection']) {
      assert.equal(interceptCommand(command, [{}], false), 'refuse');
    }
    assert.equal(interceptCommand('skillmeat.listCollections', [], false), 'pass');
    assert.equal(interceptCommand('skillmeat.cacheStatus', [], false), 'pass');
    assert.equal(interceptCommand('skillmeat.migrateSchema', ['file:///a'], true), 'pass');
    for (const command of ['skillmeat.undeploy', 'skillmeat.keepLocal', 'skillmeat.pullToCollection']) {
      assert.equal(interceptCommand(command, [{ project: 'p', name: 'a', type: 'agent' }], false), 'refuse', command);
    }
    assert.equal(interceptCommand('skillmeat.compare', [{ project: 'p', name: 'a', type: 'agent' }], false), 'sync', 'compare only reads');
  });
  it('shows the record commands of a quick fix with the client flows (diff, confirmation, notification)', () => {
    const record = [{ project: 'file:///p', name: 'helper', type: 'agent' }];
    for (const command of ['skillmeat.compare', 'skillmeat.keepLocal', 'skillmeat.pullToCollection', 'skillmeat.undeploy']) {
      assert.equal(interceptCommand(command, record, true), 'sync', command);
      assert.equal(interceptCommand(command, [{ project: 'file:///p' }], true), 'pass', `${command} without a record goes to the server as it is`);
    }
    assert.equal(interceptCommand('skillmeat.updateFromCollection', record, true), 'pass');
  });
});

describe('parseUndeployResult', () => {
  it('reads removed as what was done', async () => {
    const { parseUndeployResult, summarizeDeploy } = await import('../../src/core/results');
    const result = parseUndeployResult({ removed: [{ name: 'helper', type: 'agent', missing: true }], skipped: [], errors: [], file: '/f' });
    assert.deepEqual(result.deployed.map((d) => d.name), ['helper']);
    assert.equal(result.file, '/f');
    assert.equal(summarizeDeploy(parseUndeployResult({}), { verb: 'Undeployed', nothing: 'Nothing was undeployed.' }).message, 'SkillMeat: Nothing was undeployed.');
  });
});
