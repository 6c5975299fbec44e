// Checks what goes into the .vsix: the bundle and the built extension, and nothing else.
//
//   node scripts/check-vsix.mjs [path/to/skillmeat-ls-X.Y.Z.vsix]
//
// Reads both `vsce ls` (what vsce would package now) and the entries of the packaged file.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const extensionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));
const vsix = path.resolve(process.argv[2] ?? path.join(extensionDir, `skillmeat-ls-${manifest.version}.vsix`));

const problems = [];

const REQUIRED = [
  'package.json',
  'dist/extension.js',
  'language-configuration.json',
  'syntaxes/toml.tmLanguage.json',
  'schemas/skillmeat-deployed.schema.json',
  'bundled/libs/skillmeat_ls/__init__.py',
  'bundled/libs/skillmeat_ls/__main__.py',
  'bundled/libs/skillmeat_ls/lsp/server.py',
  'bundled/libs/pygls/__init__.py',
  'bundled/libs/lsprotocol/types.py',
  'bundled/libs/sqlalchemy/__init__.py',
  'bundled/libs/alembic/__init__.py',
  'bundled/libs/markupsafe/__init__.py',
];

const FORBIDDEN = [
  [/(^|\/)node_modules\//, 'node_modules'],
  [/^(src|test|out|scripts|\.e2e-cache|test-results)\//, 'sources, tests or build output'],
  [/\.(ts|map|tsbuildinfo)$/, 'TypeScript sources or source maps'],
  [/(^|\/)__pycache__\/|\.py[co]$/, 'Python bytecode'],
  [/\.(so|pyd|dylib|dll|node)$/, 'compiled binaries (the bundle must be pure Python)'],
  [/(^|\/)(tsconfig.*\.json|esbuild\.mjs|\.vscodeignore|\.gitignore|package-lock\.json)$/, 'build configuration'],
  [/\.vsix$/, 'another package'],
];

function check(label, files) {
  const set = new Set(files);
  for (const required of REQUIRED) {
    if (!set.has(required)) {
      problems.push(`${label}: missing ${required}`);
    }
  }
  for (const file of files) {
    for (const [pattern, what] of FORBIDDEN) {
      if (pattern.test(file)) {
        problems.push(`${label}: ${file} (${what})`);
        break;
      }
    }
  }
}

// 1. What vsce would package from the working tree.
const vsce = spawnSync(path.join(extensionDir, 'node_modules', '.bin', 'vsce'), ['ls', '--no-dependencies'], {
  cwd: extensionDir,
  encoding: 'utf8',
});
if (vsce.status !== 0) {
  problems.push(`vsce ls failed: ${vsce.stderr}`);
} else {
  check('vsce ls', vsce.stdout.split(/\r?\n/).map((line) => line.trim()).filter(Boolean));
}

// 2. What the packaged file holds.
if (!fs.existsSync(vsix)) {
  problems.push(`${vsix} does not exist: run npm run package`);
} else {
  const listing = spawnSync(
    process.env.PYTHON ?? 'python3',
    ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', vsix],
    { encoding: 'utf8' },
  );
  if (listing.status !== 0) {
    problems.push(`cannot read ${vsix}: ${listing.stderr}`);
  } else {
    const entries = listing.stdout.split(/\r?\n/).filter(Boolean);
    const files = entries.filter((entry) => entry.startsWith('extension/')).map((entry) => entry.slice('extension/'.length));
    // vsce renames these two.
    const normalized = files.map((file) => (file === 'LICENSE.txt' ? 'LICENSE' : file));
    check(path.basename(vsix), normalized);
    const packaged = JSON.parse(
      spawnSync(process.env.PYTHON ?? 'python3', ['-c', 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("extension/package.json").decode())', vsix], {
        encoding: 'utf8',
      }).stdout,
    );
    if (packaged.devDependencies && Object.keys(packaged.devDependencies).some((name) => files.some((f) => f.includes(`node_modules/${name}/`)))) {
      problems.push('a dev dependency is packaged');
    }
    const size = fs.statSync(vsix).size;
    console.log(`${path.basename(vsix)}: ${files.length} files, ${(size / 1024 / 1024).toFixed(2)} MB`);
  }
}

if (problems.length > 0) {
  console.error(`vsix check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('vsix check: ok (extension bundle and pure-Python server only; no dev dependencies, tests or sources)');
