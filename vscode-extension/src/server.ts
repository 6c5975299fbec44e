/**
 * Starting, stopping and talking to the language server.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { DEPLOYMENT_FILE_GLOBS } from './core/profiles';
import {
  PythonProblem,
  ServerCommand,
  defaultPythonFor,
  expandVariables,
  pythonProblemMessage,
  resolveServerCommand,
} from './core/serverCommand';
import { SkillmeatOptions, buildOptions } from './core/settings';
import { ClientPhase, ServerStatus, parseStatus } from './core/status';
import { PYTHON_EXTENSION_ID, probePython, pythonExtensionInterpreter } from './python';
import { ProfileRootWatcher } from './watcher';

export const CLIENT_ID = 'skillmeat';
export const STATUS_NOTIFICATION = 'skillmeat/status';

export type ExecuteCommandMiddleware = NonNullable<Middleware['executeCommand']>;

export interface StatusListener {
  (status: ServerStatus | undefined, phase: ClientPhase, detail?: string): void;
}

function firstWorkspaceFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function expander(scope?: vscode.Uri): (value: string) => string {
  const folder = scope ? vscode.workspace.getWorkspaceFolder(scope)?.uri.fsPath : firstWorkspaceFolder();
  return (value: string) => expandVariables(value, { home: os.homedir(), workspaceFolder: folder ?? firstWorkspaceFolder(), env: process.env });
}

/** The `skillmeat` settings object the server receives (initialization and `workspace/configuration`). */
export function currentOptions(scope?: vscode.Uri): SkillmeatOptions {
  const config = vscode.workspace.getConfiguration('skillmeat', scope);
  return buildOptions(
    {
      home: config.get('home'),
      cachePath: config.get('cachePath'),
      rules: config.get('rules'),
      severity: config.get('severity'),
    },
    { trusted: vscode.workspace.isTrusted, expand: expander(scope) },
  );
}

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private status: ServerStatus | undefined;
  private phase: ClientPhase = 'stopped';
  private detail: string | undefined;
  private readonly listeners: StatusListener[] = [];
  private readonly clientDisposables: vscode.Disposable[] = [];
  private watcher: ProfileRootWatcher | undefined;
  private readonly profileFiles = new vscode.EventEmitter<vscode.Uri>();
  /** A deployment file, or a file under a profile root holding one, was created, changed or deleted. */
  readonly onDidChangeProfileFiles = this.profileFiles.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    private readonly executeCommandMiddleware: ExecuteCommandMiddleware,
  ) {}

  onStatus(listener: StatusListener): void {
    this.listeners.push(listener);
    listener(this.status, this.phase, this.detail);
  }

  private setPhase(phase: ClientPhase, detail?: string): void {
    this.phase = phase;
    this.detail = detail;
    if (phase !== 'running') {
      this.status = undefined;
    }
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) {
      listener(this.status, this.phase, this.detail);
    }
  }

  log(line: string): void {
    this.output.appendLine(`[${new Date().toISOString()}] ${line}`);
  }

  get running(): boolean {
    return this.client !== undefined && this.client.state === State.Running;
  }

  /** What the client knows of the server: starting, running, stopped or failed. */
  get clientPhase(): ClientPhase {
    return this.phase;
  }

  /**
   * The commands the running server executes (`executeCommandProvider.commands` of its
   * `initialize` answer); undefined while no server runs. What the extension offers follows
   * this list, so an older server without, say, `skillmeat.pullToCollection` gets no such action.
   */
  get serverCommands(): ReadonlySet<string> | undefined {
    if (!this.running) {
      return undefined;
    }
    const commands = this.client?.initializeResult?.capabilities.executeCommandProvider?.commands;
    return new Set(Array.isArray(commands) ? commands : []);
  }

  /** Runs start/stop one at a time. */
  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  start(): Promise<LanguageClient | undefined> {
    return this.serialize(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.serialize(() => this.doStop());
  }

  restart(): Promise<LanguageClient | undefined> {
    return this.serialize(async () => {
      await this.doStop();
      return this.doStart();
    });
  }

  /** The running client; starts the server when it is not running (and reports why it cannot). */
  async ensureClient(): Promise<LanguageClient | undefined> {
    await this.queue;
    if (this.client && this.client.state === State.Running) {
      return this.client;
    }
    return this.start();
  }

  /** `workspace/executeCommand` straight to the server (no middleware, no interception). */
  async execute(command: string, args: unknown[]): Promise<unknown> {
    const client = await this.ensureClient();
    if (!client) {
      throw new Error('the SkillMeat language server is not running');
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  /** Sends the current settings (rules, severity, trust) to the running server. */
  async sendConfiguration(): Promise<void> {
    if (this.client && this.client.state === State.Running) {
      await this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { skillmeat: currentOptions() },
      });
    }
  }

  private bundledLibs(): string | undefined {
    const libs = this.context.asAbsolutePath(path.join('bundled', 'libs'));
    return fs.existsSync(path.join(libs, 'skillmeat_ls', '__init__.py')) ? libs : undefined;
  }

  private async resolveCommand(): Promise<ServerCommand> {
    const config = vscode.workspace.getConfiguration('skillmeat');
    const expand = expander();
    const serverCommand = (config.get<string[]>('server.command') ?? []).map(expand);
    const interpreterSetting = expand(config.get<string>('python.interpreter') ?? '');
    let pythonExtension: string | undefined;
    if (serverCommand.length === 0 && interpreterSetting.trim() === '') {
      pythonExtension = await pythonExtensionInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri, (line) => this.log(line));
    }
    return resolveServerCommand({
      serverCommand,
      interpreterSetting,
      pythonExtensionInterpreter: pythonExtension,
      bundledLibs: this.bundledLibs(),
      defaultPython: defaultPythonFor(process.platform),
    });
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    if (this.client) {
      return this.client;
    }
    this.setPhase('starting');
    const command = await this.resolveCommand();
    this.log(`Starting the SkillMeat language server: ${command.description}`);
    const env = { ...process.env };
    if (command.kind === 'python') {
      const outcome = await probePython(command.command, command.interpreterSource, env);
      if (!outcome.ok) {
        this.failedPython(outcome.problem);
        return undefined;
      }
      this.log(`Python ${outcome.probe.version.join('.')} at ${outcome.probe.executable}`);
    }
    const serverOptions: ServerOptions = {
      command: command.command,
      args: command.args,
      transport: TransportKind.stdio,
      options: { env, cwd: firstWorkspaceFolder() },
    };
    const watcher = new ProfileRootWatcher((line) => this.log(line));
    this.watcher = watcher;
    const forward = (uri: vscode.Uri) => this.profileFiles.fire(uri);
    const client = new LanguageClient(CLIENT_ID, 'SkillMeat', serverOptions, this.clientOptions(watcher));
    this.client = client;
    this.clientDisposables.push(
      client.onDidChangeState((event) => {
        if (this.client !== client) {
          return;
        }
        if (event.newState === State.Running) {
          this.setPhase('running');
        } else if (event.newState === State.Starting) {
          this.setPhase('starting');
        } else if (event.newState === State.Stopped && this.phase !== 'failed') {
          this.setPhase('stopped');
        }
      }),
      watcher.onDidCreate(forward),
      watcher.onDidChange(forward),
      watcher.onDidDelete(forward),
      client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
        const status = parseStatus(params);
        if (status && this.client === client) {
          this.status = status;
          this.emit();
        }
      }),
    );
    try {
      await client.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(`The language server did not start: ${message}`);
      this.disposeClientListeners();
      this.client = undefined;
      this.disposeWatcher();
      try {
        await client.dispose(2000);
      } catch {
        // already gone
      }
      this.setPhase('failed', message);
      void this.showStartFailure(command, message);
      return undefined;
    }
    void watcher.discover().then(() => {
      if (this.watcher === watcher) {
        const roots = watcher.roots();
        this.log(`Watching ${roots.length} profile root${roots.length === 1 ? '' : 's'}${roots.length > 0 ? `: ${roots.join(', ')}` : ''}.`);
      }
    });
    return client;
  }

  private disposeWatcher(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
  }

  private disposeClientListeners(): void {
    for (const disposable of this.clientDisposables.splice(0)) {
      disposable.dispose();
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.disposeClientListeners();
    this.disposeWatcher();
    if (client) {
      try {
        if (client.state !== State.Stopped) {
          await client.stop(3000);
        }
      } catch (error) {
        this.log(`Stopping the server: ${String(error)}`);
      }
      try {
        await client.dispose(1000);
      } catch {
        // already stopped
      }
    }
    this.setPhase('stopped');
  }

  private clientOptions(watcher: ProfileRootWatcher): LanguageClientOptions {
    return {
      // `<root>/.skillmeat-deployed.toml` under any dot-directory, and `.claude/deployment.toml`.
      documentSelector: DEPLOYMENT_FILE_GLOBS.map((pattern) => ({ scheme: 'file', pattern })),
      // Deployment files and the files under each profile root, for the server's drift analysis
      // (in addition to whatever watchers the server registers itself).
      synchronize: { fileEvents: watcher },
      initializationOptions: currentOptions(),
      outputChannel: this.output,
      traceOutputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      markdown: { isTrusted: false, supportHtml: false },
      initializationFailedHandler: (error) => {
        this.log(`Initialization failed: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
        closed: () => this.onServerClosed(),
      },
      middleware: {
        executeCommand: this.executeCommandMiddleware,
        workspace: {
          configuration: async (params, token, next) => {
            const answers = await next(params, token);
            if (!Array.isArray(answers)) {
              return answers;
            }
            return params.items.map((item, index) =>
              item.section === 'skillmeat'
                ? currentOptions(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined)
                : answers[index],
            );
          },
        },
      },
    };
  }

  private readonly crashes: number[] = [];

  private onServerClosed(): { action: CloseAction; message?: string; handled?: boolean } {
    const now = Date.now();
    this.crashes.push(now);
    while (this.crashes.length > 0 && now - this.crashes[0] > 3 * 60_000) {
      this.crashes.shift();
    }
    if (this.crashes.length >= 5) {
      this.setPhase('failed', 'The server stopped 5 times in the last 3 minutes.');
      void this.notifyWithOutput('SkillMeat: the language server stopped 5 times in the last 3 minutes and will not be restarted. See the output for the reason.');
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    this.log('The language server stopped unexpectedly; restarting it.');
    return { action: CloseAction.Restart, handled: true };
  }

  private async notifyWithOutput(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, 'Show output', 'Restart server');
    if (choice === 'Show output') {
      this.output.show(true);
    } else if (choice === 'Restart server') {
      void this.restart();
    }
  }

  private failedPython(problem: PythonProblem): void {
    const message = pythonProblemMessage(problem);
    this.log(message);
    this.setPhase('failed', message);
    void showPythonProblem(message);
  }

  private async showStartFailure(command: ServerCommand, reason: string): Promise<void> {
    const settingName = command.kind === 'custom' ? 'skillmeat.server.command' : 'skillmeat.python.interpreter';
    const choice = await vscode.window.showErrorMessage(
      `SkillMeat: the language server did not start (${reason}). Check ${settingName}.`,
      'Show output',
      'Open settings',
    );
    if (choice === 'Show output') {
      this.output.show(true);
    } else if (choice === 'Open settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', settingName);
    }
  }

  dispose(): void {
    this.profileFiles.dispose();
    void this.stop();
  }
}

export const SELECT_INTERPRETER = 'Select interpreter';
export const OPEN_SETTINGS = 'Open settings';

/** The error notification for a missing or too old Python, with its two ways out. */
export async function showPythonProblem(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, SELECT_INTERPRETER, OPEN_SETTINGS);
  if (choice === SELECT_INTERPRETER) {
    await selectInterpreter();
  } else if (choice === OPEN_SETTINGS) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'skillmeat.python.interpreter');
  }
}

/** The Python extension's picker when it is installed, else a file dialog written to the setting. */
export async function selectInterpreter(): Promise<void> {
  if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) {
    await vscode.commands.executeCommand('python.setInterpreter');
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: false,
    canSelectMany: false,
    openLabel: 'Use this Python',
    title: 'Python 3.10 or newer for the SkillMeat language server',
  });
  if (picked && picked[0]) {
    await vscode.workspace
      .getConfiguration('skillmeat')
      .update('python.interpreter', picked[0].fsPath, vscode.ConfigurationTarget.Global);
  }
}
