import { ServerCommand } from './core/serverCommands';
import * as vscode from 'vscode';
import { ClientCommand } from './core/clientCommands';
import {
  DeployArgs,
  DeployFlowDeps,
  UNTRUSTED_MESSAGE,
  UpdateArgs,
  interceptCommand,
  reportDeploy,
  reportUpdate,
  runDeployFlow,
  runUpdateFlow,
} from './core/flows';
import { classifyConfigChange } from './core/settings';
import { describeDoctorReport } from './core/doctor';
import { describeCacheRefresh, renderStatus } from './core/status';
import { onPythonInterpreterChanged } from './python';
import { ExecuteCommandMiddleware, ServerManager } from './server';
import { createFlowUi, projectProfileRoots, resolveDeploymentFile, resolveProject } from './ui';
import { SkillMeatViews } from './views';

export const COMMANDS = ClientCommand;

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('SkillMeat');
  const ui = createFlowUi(output);

  const flowDeps = (): DeployFlowDeps => ({
    ui,
    execute: (command: string, args: unknown[]) => server.execute(command, args),
    resolveProject: (hint?: string) => resolveProject(ui, hint),
    profileRoots: projectProfileRoots,
    afterChange: () => views.refreshAfterChange(),
  });

  // Commands started by the server's code actions and code lenses pass through here.
  const executeCommand: ExecuteCommandMiddleware = async (command, args, next) => {
    switch (interceptCommand(command, args ?? [], vscode.workspace.isTrusted)) {
      case 'refuse':
        void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
        return undefined;
      case 'deployFlow':
        return runDeployFlow(flowDeps(), (args?.[0] ?? {}) as DeployArgs);
      case 'sync':
        // Compare, keep local, pull, undeploy from a quick fix: the Deployments view's flows.
        return views.fromServer(command, args?.[0], (c, a) => Promise.resolve(next(c, a)));
      default: {
        const result = await next(command, args);
        // A deploy or update started from a quick fix or a code lens: tell what it did.
        const request = (args?.[0] ?? {}) as DeployArgs & UpdateArgs;
        if (command === ServerCommand.deploy) {
          const project = await resolveProject(ui, request.project);
          if (project) {
            void reportDeploy(flowDeps(), project, request, result);
          }
        } else if (command === ServerCommand.updateFromCollection && typeof request.name === 'string') {
          void reportUpdate(ui, { name: request.name }, result);
        }
        if (command === ServerCommand.deploy || command === ServerCommand.updateFromCollection || command === ServerCommand.migrateSchema) {
          views.refreshAfterChange();
        }
        return result;
      }
    }
  };

  const server = new ServerManager(context, output, executeCommand);
  manager = server;
  const views = new SkillMeatViews({ server, ui, output, flowDeps });

  const statusItem = vscode.window.createStatusBarItem('skillmeat.status', vscode.StatusBarAlignment.Left, 10);
  statusItem.name = 'SkillMeat';
  statusItem.command = COMMANDS.showOutput;
  server.onStatus((status, phase, detail) => {
    const view = renderStatus(status, { phase, trusted: vscode.workspace.isTrusted, detail, commands: server.serverCommands });
    statusItem.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = false;
    statusItem.tooltip = tooltip;
    statusItem.accessibilityInformation = { label: view.accessibilityLabel };
    statusItem.backgroundColor =
      view.level === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.level === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    statusItem.show();
  });

  const requireTrust = (): boolean => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE);
      return false;
    }
    return true;
  };

  context.subscriptions.push(
    output,
    statusItem,
    server,
    views,
    vscode.commands.registerCommand(COMMANDS.deployFromCollection, async (args?: DeployArgs) => {
      if (!requireTrust()) {
        return undefined;
      }
      try {
        return await runDeployFlow(flowDeps(), typeof args === 'object' && args !== null && !(args instanceof vscode.Uri) ? args : {});
      } finally {
        views.refreshAfterChange();
      }
    }),
    vscode.commands.registerCommand(COMMANDS.updateFromCollection, async (args?: UpdateArgs) => {
      if (!requireTrust()) {
        return undefined;
      }
      try {
        return await runUpdateFlow(flowDeps(), typeof args === 'object' && args !== null && !(args instanceof vscode.Uri) ? args : {});
      } finally {
        views.refreshAfterChange();
      }
    }),
    vscode.commands.registerCommand(COMMANDS.migrateSchema, async (target?: unknown) => {
      if (!requireTrust()) {
        return undefined;
      }
      const uri = await resolveDeploymentFile(ui, target);
      if (!uri) {
        return undefined;
      }
      if (vscode.window.activeTextEditor?.document.uri.toString() !== uri.toString()) {
        await vscode.window.showTextDocument(uri, { preview: false });
      }
      try {
        const result = await server.execute(ServerCommand.migrateSchema, [uri.toString()]);
        const answer = (typeof result === 'object' && result !== null ? result : {}) as { applied?: unknown; message?: unknown };
        if (typeof answer.message === 'string' && answer.message) {
          void vscode.window.showInformationMessage(`SkillMeat: ${uri.path.split('/').slice(-3).join('/')}: ${answer.message}`);
        } else if (answer.applied === false) {
          void vscode.window.showWarningMessage('SkillMeat: the migration edit was not applied (the file changed meanwhile?). Try again.');
        } else {
          vscode.window.setStatusBarMessage('SkillMeat: migrated to the unified schema', 5000);
        }
        return result;
      } catch (error) {
        void vscode.window.showErrorMessage(`SkillMeat: migration failed: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    }),
    vscode.commands.registerCommand(COMMANDS.rebuildCache, async () =>
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'SkillMeat: rebuilding the cache…' },
        async () => {
          try {
            const refreshed = (await server.execute(ServerCommand.refreshCache, [])) as Record<string, unknown> | null;
            const status = (await server.execute(ServerCommand.cacheStatus, [])) as Record<string, unknown> | null;
            const view = describeCacheRefresh(refreshed, status);
            void views.refreshAll(true);
            if (view.level === 'warning') {
              void vscode.window.showWarningMessage(view.message, 'Show output').then((choice) => choice && output.show(true));
            } else {
              void vscode.window.showInformationMessage(view.message);
            }
            return status;
          } catch (error) {
            void vscode.window.showErrorMessage(`SkillMeat: rebuilding the cache failed: ${error instanceof Error ? error.message : String(error)}`);
            return undefined;
          }
        },
      ),
    ),
    vscode.commands.registerCommand(COMMANDS.restartServer, async () => {
      output.appendLine('Restart requested.');
      await server.restart();
    }),
    vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show(true)),
    vscode.commands.registerCommand(COMMANDS.diagnoseSkillMeatCache, async () =>
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "SkillMeat: inspecting SkillMeat's cache…" },
        async () => {
          try {
            // Read-only: the server reads cache.db without writing it; repairing is `skillmeat-ls doctor --repair`.
            const result = await server.execute(ServerCommand.doctor, []);
            const view = describeDoctorReport(result);
            output.appendLine(view.text);
            output.show(true);
            const notify =
              view.level === 'error'
                ? vscode.window.showErrorMessage
                : view.level === 'warning'
                  ? vscode.window.showWarningMessage
                  : vscode.window.showInformationMessage;
            void notify(view.message);
            return result;
          } catch (error) {
            void vscode.window.showErrorMessage(`SkillMeat: diagnosing the cache failed: ${error instanceof Error ? error.message : String(error)}`);
            return undefined;
          }
        },
      ),
    ),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const change = classifyConfigChange((section) => event.affectsConfiguration(section));
      if (change === 'restart') {
        server.log('Server settings changed; restarting the server.');
        void server.restart();
      } else if (change === 'reconfigure') {
        void server.sendConfiguration();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      server.log('Workspace trusted: write commands enabled.');
      // Restricted settings (server command, interpreter, home, cache) may now take other values.
      void server.restart();
    }),
  );

  void server.start();

  const pythonChange = await onPythonInterpreterChanged(() => {
    const config = vscode.workspace.getConfiguration('skillmeat');
    if ((config.get<string[]>('server.command') ?? []).length === 0 && !(config.get<string>('python.interpreter') ?? '').trim()) {
      server.log("The Python extension's interpreter changed; restarting the server.");
      void server.restart();
    }
  });
  if (pythonChange) {
    context.subscriptions.push(pythonChange);
  }
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
  manager = undefined;
}
