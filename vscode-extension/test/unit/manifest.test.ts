import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  COLLECTIONS_VIEW_ID,
  ClientCommand,
  ContextKey,
  DEPLOYMENTS_VIEW_ID,
  VIEW_CONTAINER_ID,
  VIEW_ITEM_COMMANDS,
  WRITING_CLIENT_COMMANDS,
} from '../../src/core/clientCommands';
import { RECORD_ACTIONS, WRITING_ACTIONS, recordContextValue } from '../../src/core/deployments';
import { DEPLOYMENT_FILE_GLOBS } from '../../src/core/profiles';

// Compiled to out/test/unit/: the extension folder is three levels up.
const root = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
/** Every source file of the extension (outside src/core/, where nothing registers commands). */
const extensionSource = fs
  .readdirSync(path.join(root, 'src'))
  .filter((name) => name.endsWith('.ts'))
  .map((name) => fs.readFileSync(path.join(root, 'src', name), 'utf8'))
  .join('\n');

type MenuItem = { command: string; when?: string; group?: string };
const menu = (name: string): MenuItem[] => manifest.contributes.menus[name] ?? [];

/** Evaluates the `viewItem =~ /re/` and `viewItem == x` parts of a when clause against a context value. */
function viewItemMatches(when: string, contextValue: string): boolean {
  const regex = /viewItem =~ \/(.*?)\/(?=\s|$)/.exec(when);
  if (regex) {
    return new RegExp(regex[1]).test(contextValue);
  }
  const equal = /viewItem == (\S+)/.exec(when);
  return equal ? equal[1] === contextValue : true;
}

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

  it('contributes the eight palette commands, each registered by the extension', () => {
    const hidden = new Set(menu('commandPalette').filter((m) => m.when === 'false').map((m) => m.command));
    const titles = manifest.contributes.commands
      .filter((c: { command: string }) => !hidden.has(c.command))
      .map((c: { category: string; title: string }) => `${c.category}: ${c.title}`);
    assert.deepEqual(titles.sort(), [
      'SkillMeat: Deploy from Collection…',
      'SkillMeat: Diagnose SkillMeat Cache',
      'SkillMeat: Migrate to Unified Schema',
      'SkillMeat: Rebuild Cache',
      'SkillMeat: Refresh',
      'SkillMeat: Restart Server',
      'SkillMeat: Show Output',
      'SkillMeat: Update from Collection',
    ]);
    assert.deepEqual(
      manifest.contributes.commands.map((c: { command: string }) => c.command).sort(),
      Object.values(ClientCommand).sort(),
      'package.json contributes exactly the ids of src/core/clientCommands.ts',
    );
    for (const [key, id] of Object.entries(ClientCommand)) {
      assert.ok(extensionSource.includes(`registerCommand(ClientCommand.${key},`) || extensionSource.includes(`registerCommand(COMMANDS.${key},`), `${id} is registered`);
      assert.ok(id.startsWith('skillmeat.client.'), 'client ids never clash with the server commands');
    }
  });

  it('hides the view item commands from the palette: they act on a tree node', () => {
    const hidden = menu('commandPalette').filter((m) => m.when === 'false').map((m) => m.command);
    assert.deepEqual([...hidden].sort(), [...VIEW_ITEM_COMMANDS].sort());
  });

  it('contributes the SkillMeat view container with the Deployments and Collections views', () => {
    const [container] = manifest.contributes.viewsContainers.activitybar;
    assert.equal(container.id, VIEW_CONTAINER_ID);
    assert.equal(container.title, 'SkillMeat');
    assert.match(container.icon, /^\$\([a-z-]+\)$/, 'a product icon (no file to ship)');
    const views = manifest.contributes.views[VIEW_CONTAINER_ID];
    assert.deepEqual(
      views.map((v: { id: string; name: string }) => [v.id, v.name]),
      [
        [DEPLOYMENTS_VIEW_ID, 'Deployments'],
        [COLLECTIONS_VIEW_ID, 'Collections'],
      ],
    );
    for (const id of [DEPLOYMENTS_VIEW_ID, COLLECTIONS_VIEW_ID]) {
      assert.ok(manifest.activationEvents.includes(`onView:${id}`), id);
    }
  });

  it('has welcome content for every empty state of both views', () => {
    const welcome: { view: string; contents: string; when: string }[] = manifest.contributes.viewsWelcome;
    const states = (view: string, key: string) =>
      welcome.filter((w) => w.view === view).map((w) => new RegExp(`${key.replace(/\./g, '\\.')} == (\\w+)`).exec(w.when)?.[1]);
    assert.deepEqual([...new Set(states(DEPLOYMENTS_VIEW_ID, ContextKey.deploymentsState))].sort(), ['empty', 'error', 'loading', 'noServer']);
    assert.deepEqual([...new Set(states(COLLECTIONS_VIEW_ID, ContextKey.collectionsState))].sort(), ['empty', 'error', 'loading', 'noServer']);
    const noServer = welcome.find((w) => w.view === DEPLOYMENTS_VIEW_ID && /noServer/.test(w.when));
    assert.match(noServer!.contents, /command:skillmeat\.client\.restartServer/);
    const noCollections = welcome.find((w) => w.view === COLLECTIONS_VIEW_ID && /== empty/.test(w.when));
    assert.match(noCollections!.contents, /skillmeat\.home/);
    const noFiles = welcome.filter((w) => w.view === DEPLOYMENTS_VIEW_ID && /== empty/.test(w.when));
    assert.ok(noFiles.some((w) => /command:skillmeat\.client\.deployFromCollection/.test(w.contents) && /(^|&& )isWorkspaceTrusted/.test(w.when)));
    assert.ok(noFiles.every((w) => !/!isWorkspaceTrusted/.test(w.when) || !/command:skillmeat\.client\.deployFromCollection/.test(w.contents)));
    for (const entry of welcome) {
      for (const [, command] of entry.contents.matchAll(/\(command:([\w.]+)/g)) {
        assert.ok(command.startsWith('workbench.') || Object.values(ClientCommand).includes(command as never), command);
      }
    }
  });

  it('gives every view command an icon and offers each record action where the tree model says so', () => {
    const commands = new Map<string, { icon?: string; enablement?: string }>(
      manifest.contributes.commands.map((c: { command: string }) => [c.command, c]),
    );
    for (const id of [...VIEW_ITEM_COMMANDS, ClientCommand.refreshViews]) {
      assert.match(commands.get(id)?.icon ?? '', /^\$\([a-z-]+\)$/, `${id} has an icon`);
    }
    const items = menu('view/item/context');
    const byAction: Record<string, string> = {
      open: ClientCommand.openDeployed,
      compare: ClientCommand.compareWithCollection,
      update: ClientCommand.updateRecord,
      keepLocal: ClientCommand.keepLocal,
      pull: ClientCommand.pullToCollection,
      undeploy: ClientCommand.undeploy,
    };
    for (const action of RECORD_ACTIONS) {
      const entries = items.filter((m) => m.command === byAction[action]);
      assert.ok(entries.length > 0, `${action} is in the record menu`);
      for (const entry of entries) {
        assert.ok(entry.when?.includes(`view == ${DEPLOYMENTS_VIEW_ID}`), entry.when);
        assert.ok(viewItemMatches(entry.when!, recordContextValue([action])), `${action} shown when the model offers it`);
        const others = RECORD_ACTIONS.filter((other) => other !== action);
        assert.ok(!viewItemMatches(entry.when!, recordContextValue(others)), `${action} hidden when the model does not offer it`);
        if (WRITING_ACTIONS.has(action)) {
          assert.match(entry.when!, /^isWorkspaceTrusted && /, `${action} hidden in Restricted Mode`);
        }
      }
    }
    const deploy = items.filter((m) => m.command === ClientCommand.deployArtifact);
    assert.ok(deploy.some((m) => m.group?.startsWith('inline')) && deploy.some((m) => !m.group?.startsWith('inline')));
    for (const entry of deploy) {
      assert.match(entry.when!, /^isWorkspaceTrusted && view == skillmeat\.collections/);
      assert.ok(viewItemMatches(entry.when!, 'skillmeat.artifact +deploy'));
      assert.ok(!viewItemMatches(entry.when!, 'skillmeat.artifact'));
    }
    assert.ok(items.some((m) => m.command === ClientCommand.compareWithCollection && m.group?.startsWith('inline')), 'compare is inline');
    const titles = menu('view/title');
    assert.ok(titles.some((m) => m.command === ClientCommand.refreshViews && /skillmeat\.deployments/.test(m.when!) && /skillmeat\.collections/.test(m.when!)));
  });

  it('hides and disables the write commands in an untrusted workspace', () => {
    for (const id of WRITING_CLIENT_COMMANDS) {
      const command = manifest.contributes.commands.find((c: { command: string }) => c.command === id);
      assert.equal(command.enablement, 'isWorkspaceTrusted', id);
      const palette = manifest.contributes.menus.commandPalette.find((m: { command: string }) => m.command === id);
      assert.ok(palette.when === 'isWorkspaceTrusted' || palette.when === 'false', id);
      for (const name of ['view/title', 'view/item/context', 'editor/context']) {
        for (const item of menu(name).filter((m) => m.command === id)) {
          assert.match(item.when ?? '', /isWorkspaceTrusted/, `${id} in ${name}`);
        }
      }
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
