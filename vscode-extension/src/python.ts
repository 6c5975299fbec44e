/**
 * Finding and checking the Python that runs the bundled server.
 */
import { execFile } from 'child_process';
import * as vscode from 'vscode';
import {
  InterpreterSource,
  PYTHON_PROBE_ARGS,
  PythonProblem,
  PythonProbe,
  isSupportedPython,
  parsePythonProbe,
} from './core/serverCommand';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { id: string; path: string } | undefined;
  resolveEnvironment(env: { id: string; path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
}

interface PythonExtensionApi {
  environments?: PythonEnvironmentsApi;
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] };
    onDidChangeExecutionDetails?: vscode.Event<unknown>;
  };
}

/** The Python extension's API, when that extension is installed (a soft dependency). */
export async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (!extension) {
    return undefined;
  }
  try {
    return extension.isActive ? extension.exports : await extension.activate();
  } catch {
    return undefined;
  }
}

/** The interpreter selected in the Python extension for `resource`, if any. */
export async function pythonExtensionInterpreter(
  resource: vscode.Uri | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  const api = await pythonExtensionApi();
  if (!api) {
    return undefined;
  }
  try {
    const environments = api.environments;
    if (environments?.getActiveEnvironmentPath) {
      const active = environments.getActiveEnvironmentPath(resource);
      if (active) {
        const resolved = await environments.resolveEnvironment(active);
        const executable = resolved?.executable?.uri?.fsPath;
        if (executable) {
          return executable;
        }
        return active.path;
      }
    }
    const command = api.settings?.getExecutionDetails?.(resource)?.execCommand;
    if (command && command.length > 0) {
      return command[0];
    }
  } catch (error) {
    log(`Could not ask the Python extension for its interpreter: ${String(error)}`);
  }
  return undefined;
}

/** Subscribes to interpreter changes in the Python extension, if it is installed. */
export async function onPythonInterpreterChanged(listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = await pythonExtensionApi();
  const event = api?.environments?.onDidChangeActiveEnvironmentPath ?? api?.settings?.onDidChangeExecutionDetails;
  return event ? event(() => listener()) : undefined;
}

export type ProbeOutcome = { ok: true; probe: PythonProbe } | { ok: false; problem: PythonProblem };

/** Runs the interpreter once to learn its version; never throws. */
export function probePython(command: string, source: InterpreterSource, env: NodeJS.ProcessEnv): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    execFile(command, [...PYTHON_PROBE_ARGS], { timeout: 20_000, env, windowsHide: true }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES') {
          resolve({ ok: false, problem: { kind: 'missing', command, source, detail: String(code) } });
          return;
        }
        const detail = (String(stderr).trim().split(/\r?\n/).pop() || error.message).slice(0, 300);
        resolve({ ok: false, problem: { kind: 'failed', command, source, detail } });
        return;
      }
      const probe = parsePythonProbe(String(stdout));
      if (!probe) {
        resolve({ ok: false, problem: { kind: 'failed', command, source, detail: `unexpected output ${JSON.stringify(String(stdout).slice(0, 80))}` } });
        return;
      }
      if (!isSupportedPython(probe.version)) {
        resolve({ ok: false, problem: { kind: 'tooOld', command, source, version: probe.version } });
        return;
      }
      resolve({ ok: true, probe });
    });
  });
}
