import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildOptions, classifyConfigChange, normalizeRules, normalizeSeverity } from '../../src/core/settings';

describe('buildOptions (initialization options and workspace/configuration)', () => {
  it('gives the server null for unset paths, empty maps and the trust state', () => {
    assert.deepEqual(buildOptions({}, { trusted: true }), { home: null, cachePath: null, rules: {}, severity: {}, trusted: true });
    assert.deepEqual(buildOptions({ home: '', cachePath: '   ' }, { trusted: false }), {
      home: null,
      cachePath: null,
      rules: {},
      severity: {},
      trusted: false,
    });
  });

  it('expands paths and passes rules and severities by code', () => {
    const options = buildOptions(
      {
        home: '~/sm-home',
        cachePath: '/tmp/cache.db',
        rules: { SM121: false, sm140: true },
        severity: { SM140: 'hint', SM130: 'Error' },
      },
      { trusted: true, expand: (value) => value.replace('~', '/home/me') },
    );
    assert.deepEqual(options, {
      home: '/home/me/sm-home',
      cachePath: '/tmp/cache.db',
      rules: { SM121: false, SM140: true },
      severity: { SM140: 'hint', SM130: 'error' },
      trusted: true,
    });
  });

  it('drops malformed entries instead of sending them', () => {
    assert.deepEqual(normalizeRules({ SM121: 'no', foo: false, SM12: true, SM101: true }), { SM101: true });
    assert.deepEqual(normalizeRules(['SM121']), {});
    assert.deepEqual(normalizeSeverity({ SM140: 'loud', SM141: 'info', SM142: 'warn', x: 'hint' }), {
      SM141: 'information',
      SM142: 'warning',
    });
    assert.deepEqual(normalizeSeverity(null), {});
  });
});

describe('classifyConfigChange', () => {
  const changed = (...sections: string[]) => (section: string) =>
    sections.some((changedSection) => changedSection === section || changedSection.startsWith(`${section}.`));
  it('restarts for home, cache path, server command and interpreter', () => {
    assert.equal(classifyConfigChange(changed('skillmeat.home')), 'restart');
    assert.equal(classifyConfigChange(changed('skillmeat.cachePath')), 'restart');
    assert.equal(classifyConfigChange(changed('skillmeat.server.command')), 'restart');
    assert.equal(classifyConfigChange(changed('skillmeat.python.interpreter')), 'restart');
    assert.equal(classifyConfigChange(changed('skillmeat.rules', 'skillmeat.home')), 'restart');
  });
  it('reconfigures for rules and severity, and ignores the rest', () => {
    assert.equal(classifyConfigChange(changed('skillmeat.rules')), 'reconfigure');
    assert.equal(classifyConfigChange(changed('skillmeat.severity')), 'reconfigure');
    assert.equal(classifyConfigChange(changed('skillmeat.trace.server')), 'none');
    assert.equal(classifyConfigChange(changed('editor.fontSize')), 'none');
  });
});
