import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DEPLOYMENT_FILE_GLOBS } from '../../src/core/profiles';

// Compiled to out/test/unit/: the extension folder is three levels up.
const root = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const extensionSource = fs.readFileSync(path.join(root, 'src', 'extension.ts'), 'utf8');

describe('package.json', () => {
  it('activates on deployment files of every profile root and on its commands', () => {
    const contains = manifest.activationEvents.filter((event: string) => event.startsWith('workspaceContains:'));
    assert.deepEqual(contains.map((event: string) => event.slice('workspaceContains:'.length)), [...DEPLOYMENT_FILE_GLOBS]);
    assert.ok(manifest.activationEvents.includes('workspaceContains:**/.*/.skillmeat-deployed.toml'));
    assert.ok(manifest.activationEvents.includes('workspaceContains:**/.claude/deployment.toml'));
    for (const command of manifest.contributes.commands) {
      assert.ok(manifest.activationEvents.includes(`onCommand:${command.command}`), command.command);
    }
  });

  it('contributes the seven palette commands, each registered by the extension', () => {
    const titles = manifest.contributes.commands.map((c: { category: string; title: string }) => `${c.category}: ${c.title}`);
    assert.deepEqual(titles.sort(), [
      'SkillMeat: Deploy from Collection…',
      'SkillMeat: Diagnose SkillMeat Cache',
      'SkillMeat: Migrate to Unified Schema',
      'SkillMeat: Rebuild Cache',
      'SkillMeat: Restart Server',
      'SkillMeat: Show Output',
      'SkillMeat: Update from Collection',
    ]);
    for (const command of manifest.contributes.commands) {
      assert.ok(extensionSource.includes(`'${command.command}'`), `${command.command} is registered`);
      assert.ok(!command.command.startsWith('skillmeat.deploy'), 'client ids never clash with the server commands');
    }
  });

  it('hides and disables the write commands in an untrusted workspace', () => {
    const writes = ['skillmeat.client.deployFromCollection', 'skillmeat.client.migrateSchema', 'skillmeat.client.updateFromCollection'];
    for (const id of writes) {
      const command = manifest.contributes.commands.find((c: { command: string }) => c.command === id);
      assert.equal(command.enablement, 'isWorkspaceTrusted');
      const palette = manifest.contributes.menus.commandPalette.find((m: { command: string }) => m.command === id);
      assert.equal(palette.when, 'isWorkspaceTrusted');
    }
    const trust = manifest.capabilities.untrustedWorkspaces;
    assert.equal(trust.supported, 'limited');
    assert.ok(trust.description.length > 20);
    assert.deepEqual([...trust.restrictedConfigurations].sort(), [
      'skillmeat.cachePath',
      'skillmeat.home',
      'skillmeat.python.interpreter',
      'skillmeat.server.command',
    ]);
  });

  it('declares every setting', () => {
    assert.deepEqual(Object.keys(manifest.contributes.configuration.properties).sort(), [
      'skillmeat.cachePath',
      'skillmeat.home',
      'skillmeat.python.interpreter',
      'skillmeat.rules',
      'skillmeat.server.command',
      'skillmeat.severity',
      'skillmeat.trace.server',
    ]);
  });

  it('maps both deployment file names to TOML with a grammar', () => {
    const toml = manifest.contributes.languages.find((l: { id: string }) => l.id === 'toml');
    assert.deepEqual(toml.filenames.sort(), ['.skillmeat-deployed.toml', 'deployment.toml']);
    const grammar = manifest.contributes.grammars.find((g: { language: string }) => g.language === 'toml');
    const tm = JSON.parse(fs.readFileSync(path.join(root, grammar.path), 'utf8'));
    assert.equal(tm.scopeName, 'source.toml');
    assert.equal(grammar.scopeName, 'source.toml');
  });

  it('offers the deployment file menu items on every profile root, and not on the lock siblings', () => {
    const items = manifest.contributes.menus['editor/context'];
    assert.equal(items.length, 2);
    for (const item of items) {
      const match = /resourcePath =~ \/(.*)\/$/.exec(item.when);
      assert.ok(match, item.when);
      // The when clause's regex, as VS Code reads it.
      const regex = new RegExp(match[1]);
      for (const file of [
        '/w/app/.claude/.skillmeat-deployed.toml',
        '/w/app/.agents/.skillmeat-deployed.toml',
        '/w/app/.mytool/.skillmeat-deployed.toml',
        '/w/app/.claude/deployment.toml',
        'C:\\w\\app\\.gemini\\.skillmeat-deployed.toml',
      ]) {
        assert.ok(regex.test(file), `${item.command} on ${file}`);
      }
      for (const file of [
        '/w/app/.agents/..skillmeat-deployed.toml.skillmeat-lock',
        '/w/app/.agents/deployment.toml',
        '/w/app/.skillmeat-deployed.toml',
        '/w/app/.claude/skills/x.toml',
      ]) {
        assert.ok(!regex.test(file), `${item.command} not on ${file}`);
      }
    }
  });

  it('ships no Python extension dependency (it is optional)', () => {
    assert.equal(manifest.extensionDependencies, undefined);
    assert.ok(!('ms-python.python' in (manifest.dependencies ?? {})));
  });
});
