import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ProjectDeploymentsInfo,
  RecordNode,
  RootNode,
  buildDeploymentTree,
  parseDeployments,
  recordActions,
  recordContextValue,
  recordRequest,
  summarizeStates,
  targetFromRequest,
} from '../../src/core/deployments';

const ALL = new Set([
  'skillmeat.compare',
  'skillmeat.updateFromCollection',
  'skillmeat.undeploy',
  'skillmeat.keepLocal',
  'skillmeat.pullToCollection',
]);

const record = (name: string, type: string, state: string, extra: Record<string, unknown> = {}) => ({
  name,
  type,
  profile: 'claude_code',
  root: '.claude',
  collection: 'default',
  path: type === 'skill' ? `skills/${name}` : `${type}s/${name}.md`,
  state,
  content_hash: 'a'.repeat(64),
  project_hash: 'b'.repeat(64),
  collection_hash: 'c'.repeat(64),
  message: `${type} '${name}' is ${state}`,
  deployed: `file:///w/drift/.claude/${type === 'skill' ? `skills/${name}` : `${type}s/${name}.md`}`,
  ...extra,
});

/** The documented answer of `skillmeat.listDeployments` for part of examples/workspace. */
const LISTING = [
  {
    project: '/w/drift',
    name: 'drift',
    roots: [
      {
        root: '.claude',
        profile: 'claude_code',
        file: 'file:///w/drift/.claude/.skillmeat-deployed.toml',
        records: [
          record('helper', 'agent', 'modified'),
          record('code-review', 'command', 'update-available'),
          record('code-review', 'skill', 'conflict', { collection: 'team' }),
        ],
      },
    ],
  },
  {
    project: '/w/two-profiles',
    name: 'two-profiles',
    roots: [
      {
        root: '.agents',
        profile: 'codex',
        file: 'file:///w/two-profiles/.agents/.skillmeat-deployed.toml',
        records: [record('helper', 'agent', 'in-sync', { profile: 'codex', root: '.agents' })],
      },
      {
        root: '.claude',
        profile: 'claude_code',
        file: 'file:///w/two-profiles/.claude/.skillmeat-deployed.toml',
        records: [record('helper', 'agent', 'in-sync')],
      },
    ],
  },
  { project: '/w/broken', name: 'broken', roots: [], error: '/w/broken/.claude/.skillmeat-deployed.toml: invalid TOML' },
];

const context = { workspaceFolders: ['/w'], commands: ALL, trusted: true };

describe('parseDeployments', () => {
  it('keeps the documented shape and drops malformed entries', () => {
    const parsed = parseDeployments([
      ...LISTING,
      null,
      { name: 'no project' },
      { project: '/w/x', roots: [{ root: '.claude' }, { root: '.claude', file: 'file:///w/x/.claude/.skillmeat-deployed.toml', records: [{ name: 'a' }, record('b', 'agent', 'weird')] }] },
    ]);
    assert.equal(parsed.length, 4);
    assert.equal(parsed[0].roots[0].records.length, 3);
    assert.equal(parsed[0].roots[0].records[0].deployed, 'file:///w/drift/.claude/agents/helper.md');
    assert.equal(parsed[2].error, '/w/broken/.claude/.skillmeat-deployed.toml: invalid TOML');
    assert.deepEqual(parsed[2].roots, []);
    const x = parsed[3];
    assert.equal(x.name, 'x', 'the name defaults to the folder name');
    assert.equal(x.roots.length, 1, 'a root without its file is dropped');
    assert.equal(x.roots[0].profile, 'claude_code', 'the profile defaults to that of the root');
    assert.deepEqual(x.roots[0].records.map((r) => [r.name, r.state]), [['b', 'unknown']], 'an unknown state reads as unknown');
    assert.deepEqual(parseDeployments(null), []);
    assert.deepEqual(parseDeployments({ project: '/w' }), []);
  });

  it('reads a record whose copy is gone (deployed: null)', () => {
    const [project] = parseDeployments([{ ...LISTING[0], roots: [{ ...LISTING[0].roots[0], records: [record('helper', 'agent', 'missing', { deployed: null })] }] }]);
    assert.equal(project.roots[0].records[0].deployed, null);
    assert.equal(project.roots[0].records[0].state, 'missing');
  });
});

describe('recordActions', () => {
  const [drift] = parseDeployments(LISTING);
  const [modified, update, conflict] = drift.roots[0].records;

  it('offers what each state calls for', () => {
    assert.deepEqual(recordActions(modified, context), ['open', 'compare', 'update', 'keepLocal', 'pull', 'undeploy']);
    assert.deepEqual(recordActions(update, context), ['open', 'compare', 'update', 'undeploy']);
    assert.deepEqual(recordActions(conflict, context), ['open', 'compare', 'update', 'keepLocal', 'pull', 'undeploy']);
    assert.deepEqual(recordActions({ ...modified, state: 'in-sync' }, context), ['open', 'undeploy']);
    assert.deepEqual(recordActions({ ...modified, state: 'missing', deployed: null }, context), ['update', 'undeploy']);
    assert.deepEqual(recordActions({ ...modified, state: 'unknown' }, context), ['open', 'undeploy']);
    assert.deepEqual(recordActions({ ...modified, collection: null }, context), ['open', 'keepLocal', 'undeploy'], 'no collection: nothing to compare, update or pull');
  });

  it('offers only what the running server executes (an older server has no keepLocal or pull)', () => {
    const older = new Set(['skillmeat.updateFromCollection', 'skillmeat.compare', 'skillmeat.undeploy']);
    assert.deepEqual(recordActions(modified, { ...context, commands: older }), ['open', 'compare', 'update', 'undeploy']);
    assert.deepEqual(recordActions(modified, { ...context, commands: new Set() }), ['open']);
  });

  it('offers no write in an untrusted workspace', () => {
    assert.deepEqual(recordActions(modified, { ...context, trusted: false }), ['open', 'compare']);
  });

  it('encodes the actions in the context value the menus match', () => {
    assert.equal(recordContextValue(['open', 'compare']), 'skillmeat.record +open +compare');
    assert.equal(recordContextValue([]), 'skillmeat.record');
  });
});

describe('buildDeploymentTree', () => {
  const tree = buildDeploymentTree(parseDeployments(LISTING), context);

  it('lists the projects by label, expanding those that need attention', () => {
    assert.deepEqual(tree.map((p) => [p.label, p.description, p.collapsible]), [
      ['broken', 'cannot be read', 'expanded'],
      ['drift', '1 conflict · 1 modified · 1 update available', 'expanded'],
      ['two-profiles', '2 in sync', 'collapsed'],
    ]);
    assert.equal(tree[0].icon.id, 'error');
    assert.equal(tree[0].children[0].kind, 'message');
    assert.match(tree[0].children[0].label, /invalid TOML/);
  });

  it('lists the profile roots, .claude first, then their records by type and name, with their state', () => {
    const roots = tree[2].children as RootNode[];
    assert.deepEqual(roots.map((r) => [r.label, r.description]), [
      ['.claude', 'claude_code · in sync'],
      ['.agents', 'codex · in sync'],
    ]);
    assert.equal(roots[0].file, 'file:///w/two-profiles/.claude/.skillmeat-deployed.toml');
    const records = (tree[1].children[0] as RootNode).children as RecordNode[];
    assert.deepEqual(records.map((r) => [r.label, r.description, r.icon.id]), [
      ['code-review', 'skill · conflict', 'git-merge'],
      ['code-review', 'command · update available', 'cloud-download'],
      ['helper', 'agent · modified', 'diff-modified'],
    ]);
    assert.equal(records[2].accessibilityLabel, 'helper (agent), modified');
    assert.match(records[2].tooltip, /was|is modified/);
    assert.match(records[2].tooltip, /Collection: default/);
    assert.equal(records[2].contextValue, 'skillmeat.record +open +compare +update +keepLocal +pull +undeploy');
  });

  it('gives each node an id that survives a refresh and tells records of one name apart', () => {
    const again = buildDeploymentTree(parseDeployments(LISTING), context);
    const ids = (nodes: { id: string; children?: unknown[] }[]): string[] =>
      nodes.flatMap((node) => [node.id, ...ids((node.children ?? []) as { id: string }[])]);
    assert.deepEqual(ids(again), ids(tree));
    assert.equal(new Set(ids(tree)).size, ids(tree).length);
  });

  it('targets the record in its root, with the root profile (the file it is in)', () => {
    const agents = (tree[2].children[1] as RootNode).children[0] as RecordNode;
    assert.equal(agents.target.profile, 'codex');
    assert.equal(agents.target.root, '.agents');
    assert.deepEqual(recordRequest(agents.target), { project: '/w/two-profiles', name: 'helper', type: 'agent', profile: 'codex' });
    const claude = (tree[2].children[0] as RootNode).children[0] as RecordNode;
    assert.deepEqual(recordRequest(claude.target), { project: '/w/two-profiles', name: 'helper', type: 'agent' }, 'no profile for claude_code');
    assert.equal(claude.target.projectLabel, 'two-profiles');
  });

  it('labels projects relative to the workspace folder, and says when a root has no records', () => {
    const nested: ProjectDeploymentsInfo[] = [
      { project: '/w/apps/web', name: 'web', roots: [{ root: '.claude', profile: 'claude_code', file: 'file:///w/apps/web/.claude/.skillmeat-deployed.toml', records: [] }] },
    ];
    const [web] = buildDeploymentTree(nested, context);
    assert.equal(web.label, 'apps/web');
    assert.equal(web.description, 'no records');
    assert.equal((web.children[0] as RootNode).children[0].kind, 'message');
    assert.deepEqual(buildDeploymentTree([], context), []);
  });
});

describe('summarizeStates', () => {
  it('names what needs attention first, else how many are in sync', () => {
    const [drift] = parseDeployments(LISTING);
    assert.equal(summarizeStates(drift.roots[0].records), '1 conflict · 1 modified · 1 update available');
    assert.equal(summarizeStates([{ ...drift.roots[0].records[0], state: 'in-sync' }]), 'in sync');
    assert.equal(summarizeStates([]), 'no records');
  });
});

describe('targetFromRequest (a command from a quick fix)', () => {
  it('reads the record request and fills in the root of its profile', () => {
    const target = targetFromRequest({ project: 'file:///w/x', name: 'helper', type: 'agent', profile: 'codex' }, () => 'x');
    assert.equal(target?.root, '.agents');
    assert.equal(target?.projectLabel, 'x');
    assert.deepEqual(recordRequest(target!), { project: 'file:///w/x', name: 'helper', type: 'agent', profile: 'codex' });
    assert.equal(targetFromRequest({ project: 'file:///w/x', name: 'helper', type: 'agent' }, () => 'x')?.root, '.claude');
    assert.equal(targetFromRequest({ name: 'helper', type: 'agent' }, () => 'x'), undefined);
    assert.equal(targetFromRequest('nope', () => 'x'), undefined);
  });
});
