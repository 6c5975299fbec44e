import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildCollectionTree, codiconId, isNoCollectionsError } from '../../src/core/collectionsTree';
import { parseCollections } from '../../src/core/quickPicks';

const LISTING = [
  {
    name: 'default',
    path: '/h/collections/default',
    artifacts: [
      { name: 'helper', type: 'agent', content_hash: 'a'.repeat(64), description: 'Helps' },
      { name: 'code-review', type: 'skill', content_hash: 'b'.repeat(64) },
      { name: 'code-review', type: 'command', content_hash: 'c'.repeat(64), description: null },
    ],
    groups: [],
  },
  { name: 'empty', path: '/h/collections/empty', artifacts: [], groups: [] },
];

describe('buildCollectionTree', () => {
  const tree = buildCollectionTree(parseCollections(LISTING), { trusted: true });

  it('lists the collections with their artifact counts', () => {
    assert.deepEqual(tree.map((c) => [c.label, c.description]), [
      ['default', '3 artifacts'],
      ['empty', '0 artifacts'],
    ]);
    assert.match(tree[0].tooltip, /1 skill, 1 command, 1 agent/);
    assert.match(tree[0].tooltip, /\/h\/collections\/default/);
  });

  it('lists the artifacts by type, then name, with the type icon and description', () => {
    assert.deepEqual(tree[0].children.map((a) => [a.label, a.description, a.icon.id]), [
      ['code-review', 'skill', 'lightbulb'],
      ['code-review', 'command', 'terminal'],
      ['helper', 'agent · Helps', 'person'],
    ]);
    assert.equal(tree[0].children[2].accessibilityLabel, 'helper (agent) in default');
    assert.deepEqual(tree[0].children[0].artifact, { name: 'code-review', type: 'skill' });
    assert.equal(tree[0].children[0].collection, 'default');
    assert.notEqual(tree[0].children[0].id, tree[0].children[1].id);
  });

  it('offers deploy only in a trusted workspace', () => {
    assert.equal(tree[0].children[0].contextValue, 'skillmeat.artifact +deploy');
    const restricted = buildCollectionTree(parseCollections(LISTING), { trusted: false });
    assert.equal(restricted[0].children[0].contextValue, 'skillmeat.artifact');
  });
});

describe('the no-collections case', () => {
  it("recognises the server's message", () => {
    assert.ok(isNoCollectionsError('no collections found in /home/u/.skillmeat'));
    assert.ok(!isNoCollectionsError('the SkillMeat language server is not running'));
    assert.equal(codiconId('$(lightbulb)'), 'lightbulb');
    assert.equal(codiconId('plain'), 'plain');
  });
});
