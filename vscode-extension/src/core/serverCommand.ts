/**
 * How the language server is started: which program, which arguments.
 *
 * Order of precedence:
 *  1. `skillmeat.server.command` (an argv array) is used as it is;
 *  2. otherwise the server bundled in the extension (`bundled/libs`) runs on a Python chosen from
 *     `skillmeat.python.interpreter`, else the Python extension's active interpreter, else
 *     `python3` on PATH.
 *
 * The bundled server runs isolated: `python -I -c BOOTSTRAP LIBS`. `-I` ignores PYTHONPATH,
 * PYTHONHOME and the user's site-packages and keeps the current directory off `sys.path`;
 * the bootstrap then puts the bundled libraries first on `sys.path` and runs `skillmeat_ls`
 * as `__main__`. A user's own (older) pygls, attrs or cattrs can therefore never shadow the
 * versions the server was built and tested with.
 *
 * Nothing here imports `vscode`: it is unit-tested as plain functions.
 */

export const MIN_PYTHON_VERSION: readonly [number, number] = [3, 10];

/** Run by `python -I -c`; argv[1] is the bundled library directory, the rest goes to the server. */
export const BOOTSTRAP =
  'import sys, runpy; sys.path.insert(0, sys.argv.pop(1)); ' +
  "runpy.run_module('skillmeat_ls', run_name='__main__', alter_sys=True)";

/** Prints the interpreter's version and path, one per line. */
export const PYTHON_PROBE_ARGS: readonly string[] = [
  '-I',
  '-c',
  'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)',
];

export type InterpreterSource = 'setting' | 'pythonExtension' | 'path';

export interface ServerCommandInputs {
  /** `skillmeat.server.command`, already expanded. */
  serverCommand?: readonly string[] | null;
  /** `skillmeat.python.interpreter`, already expanded. */
  interpreterSetting?: string | null;
  /** The Python extension's active interpreter, when that extension is installed. */
  pythonExtensionInterpreter?: string | null;
  /** Absolute path of `bundled/libs` when it exists in the installed extension. */
  bundledLibs?: string | null;
  /** Fallback interpreter name; `python3` (or `python` on Windows). */
  defaultPython?: string;
}

export interface CustomServerCommand {
  kind: 'custom';
  command: string;
  args: string[];
  /** One line for the output channel. */
  description: string;
}

export interface PythonServerCommand {
  kind: 'python';
  command: string;
  args: string[];
  interpreterSource: InterpreterSource;
  /** True when the bundled libraries are used; false runs `-m skillmeat_ls` as installed. */
  bundled: boolean;
  description: string;
}

export type ServerCommand = CustomServerCommand | PythonServerCommand;

function nonEmpty(value: string | null | undefined): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

export function defaultPythonFor(platform: string): string {
  return platform === 'win32' ? 'python' : 'python3';
}

export function resolveInterpreter(inputs: ServerCommandInputs): {
  command: string;
  source: InterpreterSource;
} {
  if (nonEmpty(inputs.interpreterSetting)) {
    return { command: inputs.interpreterSetting.trim(), source: 'setting' };
  }
  if (nonEmpty(inputs.pythonExtensionInterpreter)) {
    return { command: inputs.pythonExtensionInterpreter.trim(), source: 'pythonExtension' };
  }
  return { command: inputs.defaultPython ?? 'python3', source: 'path' };
}

const SOURCE_LABELS: Record<InterpreterSource, string> = {
  setting: 'from skillmeat.python.interpreter',
  pythonExtension: "the Python extension's interpreter",
  path: 'from PATH',
};

export function interpreterSourceLabel(source: InterpreterSource): string {
  return SOURCE_LABELS[source];
}

export function resolveServerCommand(inputs: ServerCommandInputs): ServerCommand {
  const argv = (inputs.serverCommand ?? []).filter((part) => typeof part === 'string');
  if (argv.length > 0 && nonEmpty(argv[0])) {
    return {
      kind: 'custom',
      command: argv[0],
      args: argv.slice(1),
      description: `skillmeat.server.command: ${argv.join(' ')}`,
    };
  }
  const interpreter = resolveInterpreter(inputs);
  const bundled = nonEmpty(inputs.bundledLibs);
  const args = bundled
    ? ['-I', '-c', BOOTSTRAP, inputs.bundledLibs as string]
    : ['-m', 'skillmeat_ls'];
  const what = bundled ? `bundled server (${inputs.bundledLibs})` : 'installed skillmeat_ls module';
  return {
    kind: 'python',
    command: interpreter.command,
    args,
    interpreterSource: interpreter.source,
    bundled,
    description: `${what} on ${interpreter.command} (${interpreterSourceLabel(interpreter.source)})`,
  };
}

export interface PythonProbe {
  version: [number, number, number];
  executable: string;
}

/** Parses the output of {@link PYTHON_PROBE_ARGS}; undefined when it is not what we expect. */
export function parsePythonProbe(stdout: string): PythonProbe | undefined {
  const lines = stdout.split(/\r?\n/).map((line) => line.trim());
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(lines[0] ?? '');
  if (!match) {
    return undefined;
  }
  return {
    version: [Number(match[1]), Number(match[2]), Number(match[3])],
    executable: lines[1] ?? '',
  };
}

export function isSupportedPython(version: readonly number[]): boolean {
  const [major, minor] = version;
  if (major !== MIN_PYTHON_VERSION[0]) {
    return major > MIN_PYTHON_VERSION[0];
  }
  return minor >= MIN_PYTHON_VERSION[1];
}

export type PythonProblem =
  | { kind: 'missing'; command: string; source: InterpreterSource; detail?: string }
  | { kind: 'tooOld'; command: string; source: InterpreterSource; version: readonly number[] }
  | { kind: 'failed'; command: string; source: InterpreterSource; detail: string };

const MIN_TEXT = `${MIN_PYTHON_VERSION[0]}.${MIN_PYTHON_VERSION[1]}`;

/** The text of the error notification shown when no usable Python is found. */
export function pythonProblemMessage(problem: PythonProblem): string {
  const where = interpreterSourceLabel(problem.source);
  switch (problem.kind) {
    case 'missing':
      return (
        `SkillMeat: Python was not found ("${problem.command}", ${where}). ` +
        `The language server needs Python ${MIN_TEXT} or newer: select an interpreter or set ` +
        'skillmeat.python.interpreter.'
      );
    case 'tooOld':
      return (
        `SkillMeat: "${problem.command}" (${where}) is Python ${problem.version.join('.')}; ` +
        `the language server needs Python ${MIN_TEXT} or newer. Select another interpreter.`
      );
    case 'failed':
      return (
        `SkillMeat: could not run "${problem.command}" (${where}): ${problem.detail}. ` +
        `The language server needs Python ${MIN_TEXT} or newer.`
      );
  }
}

/** Expands `~` and `${workspaceFolder}`, `${userHome}`, `${env:NAME}` in a setting value. */
export function expandVariables(
  value: string,
  context: { home: string; workspaceFolder?: string; env?: Record<string, string | undefined> },
): string {
  let result = value.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole, name: string, envName?: string) => {
    if (name === 'workspaceFolder') {
      return context.workspaceFolder ?? whole;
    }
    if (name === 'userHome') {
      return context.home;
    }
    return context.env?.[envName ?? ''] ?? '';
  });
  if (result === '~' || result.startsWith('~/') || result.startsWith('~\\')) {
    result = context.home + result.slice(1);
  }
  return result;
}
