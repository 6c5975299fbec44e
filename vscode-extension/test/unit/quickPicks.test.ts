import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { projectCandidates, projectRootOf, isDeploymentFile } from '../../src/core/projects';
import {
  CollectionInfo,
  artifactItems,
  collectionItems,
  deployedRecords,
  parseCollections,
  recordItems,
  typeCounts,
} from '../../src/core/quickPicks';

const team: CollectionInfo = {
  name: 'team',
  path: '/home/.skillmeat/collections/team',
  artifacts: [
    { name: 'planner', type: 'agent', content_hash: 'a'.repeat(64), description: 'Plans the work', deployed_from: null },
    { name: 'code-review', type: 'skill', content_hash: 'b'.repeat(64), description: 'Reviews diffs', deployed_from: 'team' },
    { name: 'deploy-check', type: 'command', content_hash: 'c'.repeat(64), deployed_from: 'default' },
  ],
  groups: [],
};
const solo: CollectionInfo = { name: 'solo', path: '/c/solo', artifacts: [{ name: 'x', type: 'hook' }] };

describe('collectionItems', () => {
  it('shows artifact counts, per-type counts and how many are deployed here', () => {
    const [first, second] = collectionItems([team, solo]);
    assert.equal(first.label, '$(library) team');
    assert.equal(first.description, '3 artifacts · 1 deployed here');
    assert.equal(first.detail, '1 skill, 1 command, 1 agent — /home/.skillmeat/collections/team');
    assert.equal(first.value, team);
    assert.equal(second.description, '1 artifact');
  });
  it('handles an empty collection', () => {
    const [item] = collectionItems([{ name: 'empty', artifacts: [] }]);
    assert.equal(item.description, '0 artifacts');
    assert.equal(item.detail, undefined);
  });
});

describe('artifactItems', () => {
  it('lists artifacts by type then name with type, description and where they were deployed from', () => {
    const items = artifactItems(team);
    assert.deepEqual(
      items.map((item) => item.label),
      ['$(lightbulb) code-review', '$(terminal) deploy-check', '$(person) planner'],
    );
    assert.equal(items[0].description, 'skill · deployed from team');
    assert.equal(items[0].detail, 'Reviews diffs');
    assert.equal(items[1].description, 'command · deployed from default');
    assert.equal(items[1].detail, undefined);
    assert.equal(items[2].description, 'agent');
    assert.equal(items[2].detail, 'Plans the work');
    assert.ok(items.every((item) => item.picked === false));
  });
});

describe('deployedRecords', () => {
  it('keeps the records deployed from the collection that lists them', () => {
    const records = deployedRecords([team, { ...team, name: 'default' }]);
    assert.deepEqual(
      records.map((r) => `${r.type}:${r.name}@${r.collection}`),
      ['skill:code-review@team', 'command:deploy-check@default'],
    );
    assert.equal(recordItems(records)[0].description, 'skill · from team');
  });
});

describe('parseCollections', () => {
  it('drops malformed entries', () => {
    const parsed = parseCollections([
      { name: 'ok', path: '/p', artifacts: [{ name: 'a', type: 'skill' }, { name: 3 }], groups: [] },
      { path: '/no-name' },
      'junk',
    ]);
    assert.equal(parsed.length, 1);
    assert.deepEqual(parsed[0].artifacts, [{ name: 'a', type: 'skill' }]);
    assert.deepEqual(parseCollections(null), []);
  });
  it('counts types in the usual order', () => {
    assert.equal(typeCounts([{ name: 'a', type: 'mcp' }, { name: 'b', type: 'skill' }, { name: 'c', type: 'skill' }]), '2 skills, 1 mcp');
  });
});

describe('projects', () => {
  it('finds the project of a deployment file', () => {
    assert.equal(projectRootOf('/w/app/.claude/.skillmeat-deployed.toml'), '/w/app');
    assert.equal(projectRootOf('/w/app/.claude/deployment.toml'), '/w/app');
    assert.equal(projectRootOf('C:\\w\\app\\.claude\\deployment.toml'), 'C:\\w\\app');
    assert.equal(projectRootOf('/w/app/deployment.toml'), undefined);
    assert.equal(projectRootOf('/w/app/.claude/other.toml'), undefined);
    assert.equal(isDeploymentFile('/w/.claude/.skillmeat-deployed.toml'), true);
  });
  it('lists one candidate per project, then bare workspace folders', () => {
    const candidates = projectCandidates(
      ['/w/b/.claude/deployment.toml', '/w/b/.claude/.skillmeat-deployed.toml', '/w/a/.claude/deployment.toml'],
      ['/w', '/other'],
    );
    assert.deepEqual(
      candidates.map((c) => [c.label, c.deploymentFile ?? null]),
      [
        ['w/a', '/w/a/.claude/deployment.toml'],
        ['w/b', '/w/b/.claude/.skillmeat-deployed.toml'],
        ['w', null],
        ['other', null],
      ],
    );
  });
});
