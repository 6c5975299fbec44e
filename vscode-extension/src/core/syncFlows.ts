/**
 * The actions on one deployed record (the Deployments view's context menu, and the server's
 * quick fixes that reach the client): compare with the collection, update from it, keep the local
 * changes, pull them into the collection, undeploy. Written against {@link SyncUi} and
 * {@link Execute} so that they run the same under VS Code and under the unit tests.
 */
import { CompareResult, FileDifference, FolderReader, compareFolders, diffTitle, differenceItems, parseCompareResult, sidesOf } from './compare';
import { RecordTarget, recordRequest } from './deployments';
import { Execute, FlowUi, SHOW_FILE, SHOW_OUTPUT, recordMarker, reportFailure } from './flows';
import { PickItem } from './quickPicks';
import { DeployResult, parseDeployResult, parseUndeployResult, summarizeDeploy } from './results';
import { SyncCommand } from './serverCommands';

export interface SyncUi extends FlowUi {
  /** A modal warning with one action (and Cancel); resolves true when the action was chosen. */
  confirm(message: string, detail: string, action: string): Promise<boolean>;
}

export interface SyncDeps {
  ui: SyncUi;
  execute: Execute;
  /** Whether the running server executes `command` (its `executeCommandProvider.commands`). */
  offers: (command: string) => boolean;
  /** Called once the server has answered a write, before the notification (which waits for the user). */
  afterChange?: (result: DeployResult) => Promise<void> | void;
}

export type PullStrategy = 'overwrite' | 'fork';

export const OVERWRITE_LOCAL_CHANGES = 'Overwrite local changes';
export const UNDEPLOY = 'Undeploy';

/** Where a record is: `drift/.claude`. */
export function whereOf(target: RecordTarget): string {
  return `${target.projectLabel}/${target.root}`;
}

function describe(target: { name: string; type: string }): string {
  return `${target.name} (${target.type})`;
}

/** The pull strategies, overwrite first (Enter takes it). */
export function strategyItems(target: RecordTarget): PickItem<PullStrategy>[] {
  const collection = target.collection ? `'${target.collection}'` : 'the collection';
  return [
    {
      label: '$(repo-push) Overwrite',
      description: `the project's copy replaces ${collection}'s`,
      detail: `The collection gets the local changes; the record is in sync afterwards.`,
      value: 'overwrite',
    },
    {
      label: '$(repo-forked) Fork',
      description: `keep ${collection}'s copy, add the project's under a new name`,
      detail: 'The collection keeps its copy; the local one is added next to it as a new artifact.',
      value: 'fork',
    },
  ];
}

/** Asks how to pull; undefined when the pick was cancelled. */
export async function choosePullStrategy(ui: FlowUi, target: RecordTarget): Promise<PullStrategy | undefined> {
  return ui.pickOne(strategyItems(target), {
    title: `Pull ${describe(target)} from ${whereOf(target)} into ${target.collection ? `'${target.collection}'` : 'its collection'}`,
    placeholder: 'How the project copy goes into the collection',
  });
}

export const UNAVAILABLE = (command: string): string =>
  `SkillMeat: this language server does not offer ${command}; update skillmeat-ls to use it.`;

async function run(deps: SyncDeps, command: string, what: string, args: unknown[]): Promise<unknown> {
  if (!deps.offers(command)) {
    await deps.ui.notify('warning', UNAVAILABLE(command));
    return undefined;
  }
  try {
    return await deps.execute(command, args);
  } catch (error) {
    await reportFailure(deps.ui, what, error);
    return undefined;
  }
}

/**
 * The notification after a record action, with "Show file" (at the record) and "Show output" on
 * errors; `afterChange` (saving, reloading the views) runs first.
 */
export async function reportSync(
  deps: Pick<SyncDeps, 'ui' | 'afterChange'>,
  target: { name: string },
  result: DeployResult,
  summary: ReturnType<typeof summarizeDeploy>,
): Promise<DeployResult> {
  const { ui } = deps;
  if (result.cancelled) {
    return result;
  }
  await deps.afterChange?.(result);
  const actions = [...(result.file ? [SHOW_FILE] : []), ...(result.errors.length > 0 ? [SHOW_OUTPUT] : [])];
  const choice = await ui.notify(summary.level, summary.message, ...actions);
  if (choice === SHOW_FILE && result.file) {
    await ui.openFile(result.file, recordMarker(target.name));
  } else if (choice === SHOW_OUTPUT) {
    ui.showOutput();
  }
  return result;
}

/**
 * Update from the collection. A record with local changes (modified, conflict) is confirmed here
 * with a modal warning first and sent with `force`, so the server does not ask again.
 */
export async function runRecordUpdate(deps: SyncDeps, target: RecordTarget): Promise<DeployResult | undefined> {
  const request: Record<string, unknown> = { ...recordRequest(target) };
  if (target.state === 'modified' || target.state === 'conflict') {
    const ok = await deps.ui.confirm(
      `Overwrite the local changes of ${describe(target)} in ${whereOf(target)}?`,
      `The copy from '${target.collection ?? 'its collection'}' replaces the deployed one; the local changes are lost. "Keep Local Changes" or "Pull into Collection" keep them.`,
      OVERWRITE_LOCAL_CHANGES,
    );
    if (!ok) {
      return undefined;
    }
    request.force = true;
  }
  const raw = await run(deps, SyncCommand.updateFromCollection, 'update', [request]);
  if (raw === undefined) {
    return undefined;
  }
  const result = parseDeployResult(raw);
  return reportSync(deps, target, result, summarizeDeploy(result, { verb: 'Updated', collection: target.collection ?? undefined, project: whereOf(target), nothing: 'Nothing was updated.' }));
}

/** Keep local changes: the deployed copy becomes the record's baseline. */
export async function runKeepLocal(deps: SyncDeps, target: RecordTarget): Promise<DeployResult | undefined> {
  const raw = await run(deps, SyncCommand.keepLocal, 'keeping the local changes', [recordRequest(target)]);
  if (raw === undefined) {
    return undefined;
  }
  const result = parseDeployResult(raw);
  return reportSync(
    deps,
    target,
    result,
    summarizeDeploy(result, { verb: 'Kept the local changes of', place: ` in ${whereOf(target)} (now its recorded baseline)`, nothing: 'No local change was kept.' }),
  );
}

/** Pull the local changes into the collection; asks overwrite or fork unless given. */
export async function runPull(deps: SyncDeps, target: RecordTarget, given?: PullStrategy): Promise<DeployResult | undefined> {
  if (!deps.offers(SyncCommand.pullToCollection)) {
    await deps.ui.notify('warning', UNAVAILABLE(SyncCommand.pullToCollection));
    return undefined;
  }
  const strategy = given ?? (await choosePullStrategy(deps.ui, target));
  if (!strategy) {
    return undefined;
  }
  const raw = await run(deps, SyncCommand.pullToCollection, 'pull', [{ ...recordRequest(target), strategy }]);
  if (raw === undefined) {
    return undefined;
  }
  const result = parseDeployResult(raw);
  const into = target.collection ? ` into '${target.collection}'` : ' into its collection';
  return reportSync(
    deps,
    target,
    result,
    summarizeDeploy(result, {
      verb: 'Pulled',
      place: `${into} from ${whereOf(target)}${strategy === 'fork' ? ' (as a fork)' : ''}`,
      nothing: 'Nothing was pulled.',
    }),
  );
}

/** Undeploy, after a modal warning: the copy and its record go. */
export async function runUndeploy(deps: SyncDeps, target: RecordTarget): Promise<DeployResult | undefined> {
  const ok = await deps.ui.confirm(
    `Undeploy ${describe(target)} from ${whereOf(target)}?`,
    `Its deployed copy and its record in ${target.root}/.skillmeat-deployed.toml are removed${
      target.state === 'modified' || target.state === 'conflict' ? ', with the local changes' : ''
    }. The collection keeps its copy.`,
    UNDEPLOY,
  );
  if (!ok) {
    return undefined;
  }
  const raw = await run(deps, SyncCommand.undeploy, 'undeploy', [recordRequest(target)]);
  if (raw === undefined) {
    return undefined;
  }
  const result = parseUndeployResult(raw);
  return reportSync(deps, target, result, summarizeDeploy(result, { verb: 'Undeployed', place: ` from ${whereOf(target)}`, nothing: 'Nothing was undeployed.' }));
}

// --- compare -------------------------------------------------------------------------------------

export interface CompareFiles {
  isDirectory(uri: string): Promise<boolean>;
  reader(uri: string): FolderReader;
  /**
   * Opens a diff editor: the collection's side on the left, the deployed one on the right;
   * `undefined` is an empty side (a file only one copy has), shown as `placeholder`'s name.
   */
  openDiff(collection: string | undefined, deployed: string | undefined, title: string, placeholder: string): Promise<void>;
}

export interface CompareDeps extends SyncDeps {
  files: CompareFiles;
}

/** `file:///a/b` + `scripts/x y.py` → `file:///a/b/scripts/x%20y.py`. */
export function childUri(base: string, relative: string): string {
  return `${base.replace(/\/+$/, '')}/${relative.split('/').map(encodeURIComponent).join('/')}`;
}

export type CompareOutcome =
  | { kind: 'file'; result: CompareResult }
  | { kind: 'folder'; result: CompareResult; differences: FileDifference[]; opened?: FileDifference }
  | { kind: 'identical'; result: CompareResult }
  | undefined;

/**
 * Compare with collection: `skillmeat.compare` (or the answer a quick fix already got, `given`),
 * then a diff editor of the two copies; for a folder, a QuickPick of the files that differ, then
 * the diff of the chosen one.
 */
export async function runCompare(deps: CompareDeps, target: RecordTarget, given?: unknown): Promise<CompareOutcome> {
  const raw = given ?? (await run(deps, SyncCommand.compare, 'compare', [recordRequest(target)]));
  if (raw === undefined) {
    return undefined;
  }
  const result = parseCompareResult(raw);
  if (!result) {
    await deps.ui.notify('error', `SkillMeat: the server's answer to compare ${describe(target)} has no deployed and collection copies.`);
    return undefined;
  }
  const [deployedDir, collectionDir] = await Promise.all([deps.files.isDirectory(result.deployed), deps.files.isDirectory(result.collection)]);
  if (!deployedDir && !collectionDir) {
    await deps.files.openDiff(result.collection, result.deployed, diffTitle(target), '');
    return { kind: 'file', result };
  }
  const differences = await compareFolders(deps.files.reader(result.collection), deps.files.reader(result.deployed));
  if (differences.length === 0) {
    await deps.ui.notify('info', `SkillMeat: the deployed copy of ${describe(target)} has the same files as the collection's.`);
    return { kind: 'identical', result };
  }
  let chosen: FileDifference | undefined = differences.length === 1 ? differences[0] : undefined;
  if (!chosen) {
    chosen = await deps.ui.pickOne(differenceItems(differences), {
      title: `Compare ${describe(target)} with '${target.collection ?? 'its collection'}': ${differences.length} files differ`,
      placeholder: 'File to compare (collection ↔ deployed)',
    });
  }
  if (!chosen) {
    return { kind: 'folder', result, differences };
  }
  const sides = sidesOf(chosen);
  await deps.files.openDiff(
    sides.collection ? childUri(result.collection, chosen.path) : undefined,
    sides.deployed ? childUri(result.deployed, chosen.path) : undefined,
    diffTitle(target, chosen.path),
    chosen.path,
  );
  return { kind: 'folder', result, differences, opened: chosen };
}
