// Puts the language server and its runtime dependencies, pure Python only, into bundled/libs.
//
//   node scripts/bundle-python.mjs
//
// 1. builds a wheel of the project (a copy of ../pyproject.toml, README.md, skillmeat_ls/);
// 2. builds MarkupSafe without its C speedups (PyPI has no pure wheel of it; the package falls
//    back to plain Python when the extension is absent);
// 3. `pip install --target bundled/libs` resolving for "any platform, any Python >= 3.10
//    implementation" (`--only-binary=:all: --platform any --implementation py --python-version
//    3.10 --abi none`), so that no wheel tied to one OS, CPU or Python version gets in;
//    Dependency markers are evaluated as for Python 3.10 on an unnamed machine (see
//    PIP_MARKERS_310_ANY_MACHINE);
// 4. checks that nothing compiled slipped in and that a plain interpreter, isolated (-I), imports
//    the server from the bundle alone.
//
// The Python that runs pip: $SKILLMEAT_BUNDLE_PYTHON, else ../.venv/bin/python, else python3.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const extensionDir = path.resolve(here, '..');
const projectDir = path.resolve(extensionDir, '..');
const libs = path.join(extensionDir, 'bundled', 'libs');

function run(command, args, options = {}) {
  console.log(`$ ${[command, ...args].map((a) => (a.length > 60 ? `${a.replace(/\s+/g, " ").slice(0, 57)}...` : a)).join(" ")}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) {
    throw result.error;
  }
  if (result.status !== 0) {
    throw new Error(`${command} exited with ${result.status}`);
  }
}

function capture(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  return { ok: !result.error && result.status === 0, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function choosePython() {
  const candidates = [
    process.env.SKILLMEAT_BUNDLE_PYTHON,
    path.join(projectDir, '.venv', 'bin', 'python'),
    'python3',
  ].filter(Boolean);
  for (const candidate of candidates) {
    if (candidate.includes(path.sep) && !fs.existsSync(candidate)) {
      continue;
    }
    if (capture(candidate, ['-m', 'pip', '--version']).ok) {
      return candidate;
    }
  }
  throw new Error(`no Python with pip found (tried ${candidates.join(', ')}); set SKILLMEAT_BUNDLE_PYTHON`);
}

function copyProject(destination) {
  fs.mkdirSync(destination, { recursive: true });
  for (const name of fs.readdirSync(projectDir)) {
    if (name === 'pyproject.toml' || /^(README|LICEN[CS]E)/i.test(name)) {
      fs.copyFileSync(path.join(projectDir, name), path.join(destination, name));
    }
  }
  fs.cpSync(path.join(projectDir, 'skillmeat_ls'), path.join(destination, 'skillmeat_ls'), {
    recursive: true,
    filter: (source) => !/(^|[\\/])__pycache__([\\/]|$)|\.py[co]$/.test(source),
  });
}

function walk(dir, visit) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (visit(full, true) !== false) {
        walk(full, visit);
      }
    } else {
      visit(full, false);
    }
  }
}

function prune() {
  fs.rmSync(path.join(libs, 'bin'), { recursive: true, force: true });
  const compiled = [];
  walk(libs, (full, isDir) => {
    const base = path.basename(full);
    if (isDir && base === '__pycache__') {
      fs.rmSync(full, { recursive: true, force: true });
      return false;
    }
    if (!isDir && /\.(so|pyd|dylib|dll)$/i.test(base)) {
      compiled.push(path.relative(libs, full));
    }
    if (!isDir && /\.(c|h|pyx|pxd)$/i.test(base)) {
      fs.rmSync(full);
    }
    return true;
  });
  if (compiled.length > 0) {
    throw new Error(`compiled files in the bundle (it must be pure Python): ${compiled.join(', ')}`);
  }
}

function writeManifest() {
  const packages = fs
    .readdirSync(libs)
    .map((name) => /^(.+)-([^-]+)\.dist-info$/.exec(name))
    .filter(Boolean)
    .map(([, name, version]) => ({ name, version }))
    .sort((a, b) => a.name.localeCompare(b.name));
  fs.writeFileSync(path.join(extensionDir, 'bundled', 'manifest.json'), `${JSON.stringify({ packages }, null, 2)}\n`);
  return packages;
}

const VERIFY = `
import importlib, sys
libs = sys.argv[1]
sys.path.insert(0, libs)
names = ["tomli", "exceptiongroup", "skillmeat_ls", "skillmeat_ls.cli", "skillmeat_ls.cli.deploying",
         "skillmeat_ls.lsp.handlers", "skillmeat_ls.deploy", "pygls", "lsprotocol.types", "cattrs",
         "attrs", "sqlalchemy", "alembic.command", "mako.template", "markupsafe", "tomli_w",
         "filelock", "typing_extensions"]
for name in names:
    module = importlib.import_module(name)
    where = getattr(module, "__file__", "") or ""
    if not where.startswith(libs):
        raise SystemExit(f"{name} was imported from {where}, not from the bundle")
print(f"ok: {len(names)} modules from the bundle on Python {sys.version.split()[0]} ({sys.executable})")
`;

// Runs pip with the dependency markers of the oldest supported Python on an unnamed machine:
// `python_version < "3.11"` is true (tomli, exceptiongroup get in: needed on 3.10, unused later)
// and `platform_machine == "x86_64"` is false (no greenlet: a compiled accelerator that only
// SQLAlchemy's asyncio extension needs). pip's --python-version alone only filters wheels.
const PIP_MARKERS_310_ANY_MACHINE = [
  'import runpy, sys',
  'from pip._vendor.packaging import markers',
  'base = markers.default_environment',
  "markers.default_environment = lambda: {**base(), 'python_version': '3.10', 'python_full_version': '3.10.0', 'platform_machine': ''}",
  "sys.argv[0] = 'pip'",
  "runpy.run_module('pip', run_name='__main__', alter_sys=True)",
].join('\n');

function verify(python) {
  run(python, ['-I', '-B', '-c', VERIFY, libs], { cwd: os.tmpdir() });
}

const python = choosePython();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'skillmeat-bundle-'));
try {
  const source = path.join(work, 'project');
  const wheels = path.join(work, 'wheels');
  copyProject(source);
  const pip = [python, '-m', 'pip'];
  const quiet = ['--disable-pip-version-check', '--no-cache-dir'];
  run(pip[0], [...pip.slice(1), 'wheel', ...quiet, '--no-deps', '-w', wheels, source]);
  // CC=false makes the C build fail on purpose; MarkupSafe's setup.py then builds plain Python.
  run(pip[0], [...pip.slice(1), 'wheel', ...quiet, '--no-deps', '--no-binary', 'markupsafe', '-w', wheels, 'MarkupSafe>=2.0'], {
    env: { ...process.env, CC: 'false', CXX: 'false' },
  });
  const wheel = fs.readdirSync(wheels).find((name) => /^skillmeat_ls-.*\.whl$/.test(name));
  if (!wheel) {
    throw new Error('the project wheel was not built');
  }
  fs.rmSync(libs, { recursive: true, force: true });
  fs.mkdirSync(libs, { recursive: true });
  run(pip[0], [
    '-c',
    PIP_MARKERS_310_ANY_MACHINE,
    'install',
    ...quiet,
    '--no-compile',
    '--target',
    libs,
    '--only-binary=:all:',
    '--platform',
    'any',
    '--implementation',
    'py',
    '--python-version',
    '3.10',
    '--abi',
    'none',
    '--find-links',
    wheels,
    path.join(wheels, wheel),
  ]);
  prune();
  const packages = writeManifest();
  console.log(`bundled: ${packages.map((p) => `${p.name} ${p.version}`).join(', ')}`);
  const checked = new Set();
  // The interpreter that ran pip, the system's, and any other Python >= 3.10 found on PATH or
  // installed by pyenv (the oldest supported one is the interesting check).
  const others = ['python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14'];
  const pyenvVersions = path.join(process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions');
  if (fs.existsSync(pyenvVersions)) {
    for (const version of fs.readdirSync(pyenvVersions).sort()) {
      others.push(path.join(pyenvVersions, version, 'bin', 'python3'));
    }
  }
  for (const interpreter of [python, '/usr/bin/python3', 'python3', ...others]) {
    const real = capture(interpreter, ['-I', '-c', 'import sys, os; print(os.path.realpath(sys.executable) if sys.version_info >= (3, 10) else "")']);
    if (real.ok && real.stdout.trim() && !checked.has(real.stdout.trim())) {
      checked.add(real.stdout.trim());
      verify(interpreter);
    }
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
