import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONTEXT_SYNC_NOTE, CONTEXT_SYNC_READY, contextSyncNote, escapeMarkdown, missingContextSync, parseStatus, renderStatus } from '../../src/core/status';

const running = { phase: 'running' as const, trusted: true };

describe('renderStatus', () => {
  it('spins while the server initializes', () => {
    const view = renderStatus({ state: 'initializing', message: 'Migrating the cache', revision: null }, running);
    assert.equal(view.text, '$(sync~spin) SkillMeat');
    assert.equal(view.level, 'normal');
    assert.match(view.tooltip, /Migrating the cache/);
  });

  it('spins while the client starts, before any status arrives', () => {
    assert.equal(renderStatus(undefined, { phase: 'starting', trusted: true }).text, '$(sync~spin) SkillMeat');
    assert.equal(renderStatus(undefined, running).text, '$(sync~spin) SkillMeat');
  });

  it('shows the revision when ready', () => {
    const view = renderStatus({ state: 'ready', message: '3 collections indexed', revision: '0003' }, running);
    assert.equal(view.text, '$(check) SkillMeat 0003');
    assert.equal(view.level, 'normal');
    assert.match(view.tooltip, /ready/);
    assert.match(view.tooltip, /`0003`/);
    assert.equal(view.accessibilityLabel, 'SkillMeat: ready, cache revision 0003');
    assert.equal(renderStatus({ state: 'ready', message: '', revision: 'a1b2c3d4e5f6a7b8c9' }, running).text, '$(check) SkillMeat a1b2c3d4e5f6');
    const named = renderStatus({ state: 'ready', message: '', revision: '0003_index_tables' }, running);
    assert.equal(named.text, '$(check) SkillMeat 0003');
    assert.match(named.tooltip, /`0003_index_tables`/);
  });

  it('warns when degraded and shows an error state', () => {
    const degraded = renderStatus({ state: 'degraded', message: 'unknown revision 9999: in-memory cache', revision: '9999' }, running);
    assert.equal(degraded.text, '$(warning) SkillMeat');
    assert.equal(degraded.level, 'warning');
    assert.match(degraded.tooltip, /in\\-memory cache/);
    const error = renderStatus({ state: 'error', message: 'read-only', revision: null }, running);
    assert.equal(error.text, '$(error) SkillMeat');
    assert.equal(error.level, 'error');
  });

  it('shows a failed start with its reason', () => {
    const view = renderStatus(undefined, { phase: 'failed', trusted: true, detail: 'Python was not found' });
    assert.equal(view.text, '$(error) SkillMeat');
    assert.equal(view.level, 'error');
    assert.match(view.tooltip, /server not running/);
    assert.match(view.tooltip, /Python was not found/);
  });

  it('drops the Preview marker once the server has pull, push and resolve', () => {
    const all = new Set(['skillmeat.updateFromCollection', 'skillmeat.compare', 'skillmeat.keepLocal', 'skillmeat.pullToCollection', 'skillmeat.undeploy']);
    const view = renderStatus({ state: 'ready', message: '', revision: null }, { ...running, commands: all });
    assert.ok(!/Preview/.test(view.tooltip));
    assert.ok(view.tooltip.includes(CONTEXT_SYNC_READY));
    assert.deepEqual(missingContextSync(all), []);
  });

  it('keeps the marker for an older server, naming what it lacks', () => {
    const older = new Set(['skillmeat.updateFromCollection', 'skillmeat.compare']);
    assert.deepEqual(missingContextSync(older), ['pull', 'resolve']);
    const note = contextSyncNote(older);
    assert.match(note, /\*\*Preview\*\*/);
    assert.match(note, /not implemented yet: pull, resolve\./);
    const withPull = new Set([...older, 'skillmeat.pullToCollection']);
    assert.deepEqual(missingContextSync(withPull), ['resolve'], 'resolve also needs keep local');
    assert.equal(contextSyncNote(new Set()), CONTEXT_SYNC_NOTE);
    assert.equal(contextSyncNote(undefined), CONTEXT_SYNC_NOTE);
    const all = new Set([...withPull, 'skillmeat.keepLocal']);
    const stopped = renderStatus(undefined, { phase: 'stopped', trusted: true, commands: all });
    assert.match(stopped.tooltip, /\*\*Preview\*\*/, 'no server running: its commands are unknown');
  });

  it('marks context sync as Preview in every state while the commands are unknown', () => {
    for (const state of ['initializing', 'ready', 'degraded', 'error'] as const) {
      const view = renderStatus({ state, message: '', revision: null }, running);
      assert.ok(view.tooltip.includes(CONTEXT_SYNC_NOTE));
      assert.match(view.tooltip, /\*\*Preview\*\*/);
    }
    assert.match(renderStatus(undefined, { phase: 'stopped', trusted: true }).tooltip, /\*\*Preview\*\*/);
  });

  it('says when the workspace is restricted', () => {
    const view = renderStatus({ state: 'ready', message: '', revision: null }, { phase: 'running', trusted: false });
    assert.match(view.tooltip, /Restricted mode: diagnostics only/);
  });
});

describe('parseStatus', () => {
  it('accepts the four states and normalizes the rest', () => {
    assert.deepEqual(parseStatus({ state: 'ready', message: 'ok', revision: '0003' }), { state: 'ready', message: 'ok', revision: '0003' });
    assert.deepEqual(parseStatus({ state: 'error' }), { state: 'error', message: '', revision: null });
    assert.equal(parseStatus({ state: 'sleeping' }), undefined);
    assert.equal(parseStatus(null), undefined);
    assert.equal(parseStatus('ready'), undefined);
  });
  it('escapes Markdown in server messages', () => {
    assert.equal(escapeMarkdown('a_b *c* [d](e)'), 'a\\_b \\*c\\* \\[d\\]\\(e\\)');
  });
});

describe('describeCacheRefresh', () => {
  it('summarizes the refresh and the cache status', async () => {
    const { describeCacheRefresh } = await import('../../src/core/status');
    assert.deepEqual(describeCacheRefresh({ collections: 2, problems: [] }, { state: 'ready', revision: '0003_index_tables', message: 'up to date' }), {
      level: 'info',
      message: 'SkillMeat cache ready, revision 0003_index_tables, 2 collections indexed (up to date).',
    });
    const bad = describeCacheRefresh({ collections: 1, problems: ['team/collection.toml: bad TOML'] }, { state: 'ready' });
    assert.equal(bad.level, 'warning');
    assert.match(bad.message, /Problems: team\/collection.toml: bad TOML/);
    assert.equal(describeCacheRefresh(null, { state: 'degraded' }).level, 'warning');
  });
});
