import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  BOOTSTRAP,
  PYTHON_PROBE_ARGS,
  defaultPythonFor,
  expandVariables,
  isSupportedPython,
  parsePythonProbe,
  pythonProblemMessage,
  resolveServerCommand,
} from '../../src/core/serverCommand';

const LIBS = '/ext/bundled/libs';

describe('resolveServerCommand', () => {
  it('uses skillmeat.server.command as it is, over everything else', () => {
    const command = resolveServerCommand({
      serverCommand: ['/venv/bin/skillmeat-ls', 'serve'],
      interpreterSetting: '/usr/bin/python3.12',
      pythonExtensionInterpreter: '/py/ext/python',
      bundledLibs: LIBS,
    });
    assert.equal(command.kind, 'custom');
    assert.equal(command.command, '/venv/bin/skillmeat-ls');
    assert.deepEqual(command.args, ['serve']);
  });

  it('runs the bundled server isolated on the interpreter from the setting', () => {
    const command = resolveServerCommand({
      serverCommand: [],
      interpreterSetting: ' /opt/python3.11/bin/python ',
      pythonExtensionInterpreter: '/py/ext/python',
      bundledLibs: LIBS,
    });
    assert.equal(command.kind, 'python');
    assert.equal(command.command, '/opt/python3.11/bin/python');
    assert.deepEqual(command.args, ['-I', '-c', BOOTSTRAP, LIBS]);
    assert.ok(command.kind === 'python' && command.bundled && command.interpreterSource === 'setting');
  });

  it("falls back to the Python extension's interpreter", () => {
    const command = resolveServerCommand({ interpreterSetting: '', pythonExtensionInterpreter: '/py/ext/python', bundledLibs: LIBS });
    assert.equal(command.command, '/py/ext/python');
    assert.ok(command.kind === 'python' && command.interpreterSource === 'pythonExtension');
  });

  it('falls back to python3 on PATH (python on Windows)', () => {
    const command = resolveServerCommand({ bundledLibs: LIBS, defaultPython: defaultPythonFor('linux') });
    assert.equal(command.command, 'python3');
    assert.ok(command.kind === 'python' && command.interpreterSource === 'path');
    assert.equal(defaultPythonFor('win32'), 'python');
    assert.equal(resolveServerCommand({ bundledLibs: LIBS }).command, 'python3');
  });

  it('ignores an empty server command and blank strings', () => {
    const command = resolveServerCommand({ serverCommand: ['  '], interpreterSetting: '   ', bundledLibs: LIBS });
    assert.equal(command.kind, 'python');
    assert.equal(command.command, 'python3');
  });

  it('runs the installed module when the extension has no bundle (development)', () => {
    const command = resolveServerCommand({ interpreterSetting: '/venv/bin/python', bundledLibs: null });
    assert.deepEqual(command.args, ['-m', 'skillmeat_ls']);
    assert.ok(command.kind === 'python' && !command.bundled);
  });

  it('describes where the interpreter came from', () => {
    const command = resolveServerCommand({ pythonExtensionInterpreter: '/py/ext/python', bundledLibs: LIBS });
    assert.match(command.description, /Python extension/);
    assert.match(command.description, /bundled server/);
  });
});

describe('Python version check', () => {
  it('parses the probe output', () => {
    assert.deepEqual(parsePythonProbe('3.11.7\n/usr/bin/python3\n'), { version: [3, 11, 7], executable: '/usr/bin/python3' });
    assert.deepEqual(parsePythonProbe('3.10.0\r\nC:\\Python310\\python.exe\r\n')?.version, [3, 10, 0]);
    assert.equal(parsePythonProbe('Python 3.11.7'), undefined);
    assert.equal(parsePythonProbe(''), undefined);
  });

  it('accepts 3.10 and newer only', () => {
    assert.equal(isSupportedPython([3, 9, 18]), false);
    assert.equal(isSupportedPython([2, 7, 18]), false);
    assert.equal(isSupportedPython([3, 10, 0]), true);
    assert.equal(isSupportedPython([3, 13, 1]), true);
    assert.equal(isSupportedPython([4, 0, 0]), true);
  });

  it('explains a too old Python with its version and the minimum', () => {
    const message = pythonProblemMessage({ kind: 'tooOld', command: '/usr/bin/python3', source: 'path', version: [3, 8, 10] });
    assert.match(message, /3\.8\.10/);
    assert.match(message, /3\.10 or newer/);
    assert.match(message, /\/usr\/bin\/python3/);
  });

  it('explains a missing Python and says where the name came from', () => {
    const message = pythonProblemMessage({ kind: 'missing', command: 'python3', source: 'path' });
    assert.match(message, /not found/);
    assert.match(message, /from PATH/);
    assert.match(message, /skillmeat\.python\.interpreter/);
    const fromSetting = pythonProblemMessage({ kind: 'failed', command: '/bad/python', source: 'setting', detail: 'exit 1' });
    assert.match(fromSetting, /skillmeat\.python\.interpreter/);
    assert.match(fromSetting, /exit 1/);
  });
});

describe('expandVariables', () => {
  const context = { home: '/home/me', workspaceFolder: '/srv/project', env: { VENV: '/venvs/a' } };
  it('expands ~, ${userHome}, ${workspaceFolder} and ${env:NAME}', () => {
    assert.equal(expandVariables('~/.skillmeat', context), '/home/me/.skillmeat');
    assert.equal(expandVariables('~', context), '/home/me');
    assert.equal(expandVariables('${workspaceFolder}/.venv/bin/python', context), '/srv/project/.venv/bin/python');
    assert.equal(expandVariables('${userHome}/x', context), '/home/me/x');
    assert.equal(expandVariables('${env:VENV}/bin/python', context), '/venvs/a/bin/python');
    assert.equal(expandVariables('/a/~b', context), '/a/~b');
  });
  it('leaves ${workspaceFolder} when there is no folder', () => {
    assert.equal(expandVariables('${workspaceFolder}/x', { home: '/h' }), '${workspaceFolder}/x');
  });
});

function findPython(): string | undefined {
  for (const candidate of ['python3', 'python']) {
    const result = spawnSync(candidate, [...PYTHON_PROBE_ARGS], { encoding: 'utf8' });
    const probe = result.status === 0 ? parsePythonProbe(result.stdout) : undefined;
    if (probe && isSupportedPython(probe.version)) {
      return candidate;
    }
  }
  return undefined;
}

describe('the bootstrap, run by a real Python', () => {
  const python = findPython();
  it('puts the bundle first, ignores PYTHONPATH and passes the server arguments', { skip: python ? false : 'no Python 3.10+ on PATH' }, () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skillmeat-bootstrap-'));
    try {
      const write = (dir: string, marker: string) => {
        fs.mkdirSync(path.join(dir, 'skillmeat_ls'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'skillmeat_ls', '__init__.py'), '');
        fs.writeFileSync(
          path.join(dir, 'skillmeat_ls', '__main__.py'),
          `import json, sys\nprint(json.dumps({"marker": ${JSON.stringify(marker)}, "argv": sys.argv[1:], "first": sys.path[0], "name": __name__}))\n`,
        );
      };
      const bundle = path.join(root, 'bundled', 'libs');
      const shadow = path.join(root, 'user-site');
      write(bundle, 'bundled');
      write(shadow, 'shadow');
      const command = resolveServerCommand({ interpreterSetting: python, bundledLibs: bundle });
      const result = spawnSync(command.command, [...command.args, '--stdio'], {
        encoding: 'utf8',
        cwd: shadow,
        env: { ...process.env, PYTHONPATH: shadow },
      });
      assert.equal(result.status, 0, result.stderr);
      const output = JSON.parse(result.stdout.trim());
      assert.equal(output.marker, 'bundled');
      assert.deepEqual(output.argv, ['--stdio']);
      assert.equal(output.first, bundle);
      assert.equal(output.name, '__main__');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
