/**
 * The status bar item: what the `skillmeat/status` notification (and the client's own state)
 * look like to the user.
 */
import { SyncCommand } from './serverCommands';

export type ServerState = 'initializing' | 'ready' | 'degraded' | 'error';

export interface ServerStatus {
  state: ServerState;
  message: string;
  revision: string | null;
}

/** What the client knows before (or instead of) the server's own status. */
export type ClientPhase = 'starting' | 'running' | 'stopped' | 'failed';

export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  /** Background of the item: none, warning or error. */
  level: 'normal' | 'warning' | 'error';
  accessibilityLabel: string;
}

export const CONTEXT_SYNC_NOTE =
  'Context sync (pull, push and resolve of project edits back into a collection): **Preview**, not implemented yet.';

/** What the tooltip says once the server has every context sync operation. */
export const CONTEXT_SYNC_READY =
  'Context sync: pull, push and resolve (compare, then keep local, update or pull) from the SkillMeat view.';

/**
 * The context sync operations (SPEC §7) and the server commands each needs: pull is
 * `pullToCollection`, push is `updateFromCollection`, resolve is `compare` and then one of
 * `keepLocal`, update or pull.
 */
export const CONTEXT_SYNC_OPERATIONS: readonly { name: string; commands: readonly string[] }[] = [
  { name: 'pull', commands: [SyncCommand.pullToCollection] },
  { name: 'push', commands: [SyncCommand.updateFromCollection] },
  { name: 'resolve', commands: [SyncCommand.compare, SyncCommand.keepLocal, SyncCommand.updateFromCollection, SyncCommand.pullToCollection] },
];

/** The context sync operations the server cannot do (all of them when its commands are unknown). */
export function missingContextSync(commands: ReadonlySet<string> | undefined): string[] {
  return CONTEXT_SYNC_OPERATIONS.filter((operation) => !commands || !operation.commands.every((command) => commands.has(command))).map(
    (operation) => operation.name,
  );
}

/**
 * The context sync line of the tooltip: the **Preview** marker for as long as the server lacks
 * one of the operations (naming the missing ones when some are there), none once it has all.
 */
export function contextSyncNote(commands: ReadonlySet<string> | undefined): string {
  const missing = missingContextSync(commands);
  if (missing.length === 0) {
    return CONTEXT_SYNC_READY;
  }
  if (missing.length === CONTEXT_SYNC_OPERATIONS.length) {
    return CONTEXT_SYNC_NOTE;
  }
  return `Context sync (pull, push and resolve of project edits back into a collection): **Preview**, not implemented yet: ${missing.join(', ')}.`;
}

const STATES: ReadonlySet<string> = new Set(['initializing', 'ready', 'degraded', 'error']);

/** Validates a `skillmeat/status` payload; unknown shapes give undefined. */
export function parseStatus(params: unknown): ServerStatus | undefined {
  if (typeof params !== 'object' || params === null) {
    return undefined;
  }
  const { state, message, revision } = params as Record<string, unknown>;
  if (typeof state !== 'string' || !STATES.has(state)) {
    return undefined;
  }
  return {
    state: state as ServerState,
    message: typeof message === 'string' ? message : '',
    revision: typeof revision === 'string' && revision !== '' ? revision : null,
  };
}

/** Escapes text for a Markdown tooltip. */
export function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_{}[\]()#+\-.!|<>~])/g, '\\$1');
}

/** `0003_index_tables` → `0003`; a long hash → its first 12 characters. */
export function shortRevision(revision: string): string {
  const numbered = /^(\d+)_/.exec(revision);
  if (numbered) {
    return numbered[1];
  }
  return revision.length > 12 ? revision.slice(0, 12) : revision;
}

const HEADLINES: Record<ServerState, string> = {
  initializing: 'indexing collections…',
  ready: 'ready',
  degraded: 'degraded',
  error: 'error',
};

export function renderStatus(
  status: ServerStatus | undefined,
  context: {
    phase: ClientPhase;
    trusted: boolean;
    detail?: string;
    /** The running server's commands (`executeCommandProvider.commands`); unknown: undefined. */
    commands?: ReadonlySet<string>;
  },
): StatusView {
  let text: string;
  let level: StatusView['level'] = 'normal';
  let headline: string;
  const lines: string[] = [];

  if (context.phase === 'failed' || context.phase === 'stopped') {
    text = context.phase === 'failed' ? '$(error) SkillMeat' : '$(circle-slash) SkillMeat';
    level = context.phase === 'failed' ? 'error' : 'warning';
    headline = context.phase === 'failed' ? 'server not running' : 'server stopped';
    if (context.detail) {
      lines.push(escapeMarkdown(context.detail));
    }
  } else if (context.phase === 'starting' || status === undefined) {
    text = '$(sync~spin) SkillMeat';
    headline = 'starting…';
  } else {
    headline = HEADLINES[status.state];
    switch (status.state) {
      case 'initializing':
        text = '$(sync~spin) SkillMeat';
        break;
      case 'ready':
        text = status.revision ? `$(check) SkillMeat ${shortRevision(status.revision)}` : '$(check) SkillMeat';
        break;
      case 'degraded':
        text = '$(warning) SkillMeat';
        level = 'warning';
        break;
      case 'error':
        text = '$(error) SkillMeat';
        level = 'error';
        break;
    }
    if (status.message) {
      lines.push(escapeMarkdown(status.message));
    }
    if (status.revision) {
      lines.push(`Cache revision: \`${status.revision.replace(/`/g, '')}\``);
    }
  }

  const tooltip = [
    `**SkillMeat language server**: ${headline}`,
    ...lines,
    context.trusted
      ? 'Deploy, update and migrate are available.'
      : 'Restricted mode: diagnostics only; deploy, update, migrate and other file writes are disabled until you trust this workspace.',
    contextSyncNote(context.phase === 'running' ? context.commands : undefined),
    'Click to show the SkillMeat output.',
  ].join('\n\n');

  const accessibilityLabel = `SkillMeat: ${headline}${
    status?.revision && context.phase === 'running' && status.state === 'ready' ? `, cache revision ${status.revision}` : ''
  }`;

  return { text, tooltip, level, accessibilityLabel };
}

/** The notification after "Rebuild Cache": `skillmeat.refreshCache` then `skillmeat.cacheStatus`. */
export function describeCacheRefresh(
  refreshed: Record<string, unknown> | null | undefined,
  status: Record<string, unknown> | null | undefined,
): { level: 'info' | 'warning'; message: string } {
  const state = typeof status?.state === 'string' ? status.state : 'unknown';
  const parts = [`SkillMeat cache ${state}`];
  if (typeof status?.revision === 'string' && status.revision) {
    parts.push(`revision ${status.revision}`);
  }
  if (typeof refreshed?.collections === 'number') {
    parts.push(`${refreshed.collections} collection${refreshed.collections === 1 ? '' : 's'} indexed`);
  }
  let message = parts.join(', ');
  if (typeof status?.message === 'string' && status.message) {
    message += ` (${status.message})`;
  }
  const problems = Array.isArray(refreshed?.problems) ? refreshed.problems.filter((p): p is string => typeof p === 'string') : [];
  if (problems.length > 0) {
    message += `. Problems: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` and ${problems.length - 3} more` : ''}`;
  }
  return { level: problems.length > 0 || state === 'degraded' || state === 'error' ? 'warning' : 'info', message: `${message}.` };
}
