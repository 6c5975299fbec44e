/**
 * The interactive flows (deploy, update), written against small interfaces so that they run
 * the same under VS Code and under the unit tests.
 */
import { ServerCommand, SyncCommand } from './serverCommands';
import {
  ArtifactInfo,
  CollectionInfo,
  DeployedRecord,
  PickItem,
  artifactItems,
  collectionItems,
  deployedRecords,
  parseCollections,
  profileItems,
  recordItems,
} from './quickPicks';
import { DEFAULT_PROFILE_ID, ProfileChoice, profileArgument, profileChoices } from './profiles';
import { DeployResult, parseDeployResult, summarizeDeploy } from './results';

export interface FlowUi {
  pickOne<T>(items: PickItem<T>[], options: { title: string; placeholder: string }): Promise<T | undefined>;
  pickMany<T>(items: PickItem<T>[], options: { title: string; placeholder: string }): Promise<T[] | undefined>;
  /** Shows a notification; resolves to the chosen action. */
  notify(level: 'info' | 'warning' | 'error', message: string, ...actions: string[]): Promise<string | undefined>;
  /** Opens a file; `reveal` is a text whose first occurrence gets the cursor. */
  openFile(fsPath: string, reveal?: string): Promise<void>;
  showOutput(): void;
  openSettings(query: string): Promise<void>;
}

/** Runs a server command (`workspace/executeCommand`) without going through the middleware. */
export type Execute = (command: string, args: unknown[]) => Promise<unknown>;

export interface ProjectRef {
  /** What is sent to the server (a `file:` URI or a path). */
  id: string;
  /** What is shown to the user. */
  label: string;
  /** The profile id of the active deployment file, when the project was taken from it. */
  currentProfile?: string;
}

export interface DeployArgs {
  project?: string;
  collection?: string;
  artifacts?: { name: string; type: string }[];
  overwrite?: boolean;
  /** SkillMeat profile id; absent means `claude_code`. */
  profile?: string;
}

export const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  ServerCommand.deploy,
  ServerCommand.migrateSchema,
  ServerCommand.updateFromCollection,
  SyncCommand.undeploy,
  SyncCommand.keepLocal,
  SyncCommand.pullToCollection,
]);

/** Record commands whose answer the client shows itself (a diff, a confirmation, a notification). */
export const SYNC_COMMANDS: ReadonlySet<string> = new Set([
  SyncCommand.compare,
  SyncCommand.keepLocal,
  SyncCommand.pullToCollection,
  SyncCommand.undeploy,
]);

export const SHOW_FILE = 'Show file';
export const OVERWRITE = 'Overwrite';
export const SHOW_OUTPUT = 'Show output';
export const OPEN_SETTINGS = 'Open settings';

export type Interception = 'refuse' | 'deployFlow' | 'sync' | 'pass';

/** What the middleware does with a server command run from a code action or a code lens. */
export function interceptCommand(command: string, args: readonly unknown[], trusted: boolean): Interception {
  if (!trusted && WRITE_COMMANDS.has(command)) {
    return 'refuse';
  }
  if (command === ServerCommand.deploy) {
    const first = args[0];
    if (first === undefined || first === null || typeof first !== 'object') {
      return 'deployFlow';
    }
    const { collection, artifacts } = first as DeployArgs;
    if (typeof collection !== 'string' || collection === '' || !Array.isArray(artifacts) || artifacts.length === 0) {
      return 'deployFlow';
    }
  }
  if (SYNC_COMMANDS.has(command)) {
    const first = args[0] as { name?: unknown; type?: unknown } | null | undefined;
    if (typeof first === 'object' && first !== null && typeof first.name === 'string' && typeof first.type === 'string') {
      return 'sync';
    }
  }
  return 'pass';
}

export const UNTRUSTED_MESSAGE =
  'SkillMeat: this workspace is in Restricted Mode; deploy, update, migrate and the other writes (keep local, pull, undeploy) are disabled. Trust the workspace to use them.';

function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}

export async function reportFailure(ui: FlowUi, what: string, error: unknown): Promise<void> {
  const choice = await ui.notify('error', `SkillMeat: ${what} failed: ${errorText(error)}`, SHOW_OUTPUT);
  if (choice === SHOW_OUTPUT) {
    ui.showOutput();
  }
}

async function listCollections(
  deps: { ui: FlowUi; execute: Execute },
  project: ProjectRef,
  profile?: string,
): Promise<CollectionInfo[] | undefined> {
  let collections: CollectionInfo[];
  try {
    const args: { project: string; profile?: string } = { project: project.id };
    if (profileArgument(profile)) {
      args.profile = profile;
    }
    collections = parseCollections(await deps.execute(ServerCommand.listCollections, [args]));
  } catch (error) {
    await reportFailure(deps.ui, 'listing the collections', error);
    return undefined;
  }
  if (collections.length === 0) {
    const choice = await deps.ui.notify(
      'warning',
      'SkillMeat: no collection found in the SkillMeat home. Set skillmeat.home, or add a collection under <home>/collections/.',
      OPEN_SETTINGS,
    );
    if (choice === OPEN_SETTINGS) {
      await deps.ui.openSettings('skillmeat.home');
    }
    return undefined;
  }
  return collections;
}

export interface DeployFlowDeps {
  ui: FlowUi;
  execute: Execute;
  /** The project of the active deployment file, else asks; undefined when cancelled. */
  resolveProject: (hint?: string) => Promise<ProjectRef | undefined>;
  /** The project's profile roots that hold a deployment file (`.claude`, `.agents`, …). */
  profileRoots?: (project: ProjectRef) => Promise<string[]>;
  /** Called once the server has answered a deploy, before the notification (which waits for the user). */
  afterChange?: (result: DeployResult) => Promise<void> | void;
}

/** `clean`, or `clean (codex)` for another profile than the default. */
export function projectTarget(project: ProjectRef, profile?: string): string {
  const id = profileArgument(profile);
  return id ? `${project.label} (${id})` : project.label;
}

/**
 * The profile to work in: the one given, else the only choice, else a QuickPick of the project's
 * profiles (its existing roots mapped to ids; a deploy also offers `claude_code`, first).
 * Resolves to the profile id, or undefined when the pick was cancelled.
 */
export async function chooseProfile(
  deps: DeployFlowDeps,
  project: ProjectRef,
  options: { given?: string; deploy: boolean; title: string },
): Promise<string | undefined> {
  if (typeof options.given === 'string' && options.given.trim() !== '') {
    return options.given.trim();
  }
  let roots: string[] = [];
  if (deps.profileRoots) {
    try {
      roots = await deps.profileRoots(project);
    } catch {
      roots = [];
    }
  }
  const choices = profileChoices(roots, { includeDefault: options.deploy || roots.length === 0 });
  if (choices.length <= 1) {
    return choices[0]?.id ?? DEFAULT_PROFILE_ID;
  }
  const chosen: ProfileChoice | undefined = await deps.ui.pickOne(profileItems(choices, project.currentProfile), {
    title: options.title,
    placeholder: 'SkillMeat profile (the profile root the artifacts go to)',
  });
  return chosen?.id;
}

/**
 * Deploy from a collection: profile QuickPick (when there is a choice) → collection QuickPick →
 * artifact multi-select → `skillmeat.deploy` with explicit arguments → a notification with the
 * result. Whatever `initial` already holds (project, profile, collection, artifacts) is not asked
 * again.
 */
export async function runDeployFlow(deps: DeployFlowDeps, initial: DeployArgs = {}): Promise<DeployResult | undefined> {
  const { ui } = deps;
  const project = await deps.resolveProject(initial.project);
  if (!project) {
    return undefined;
  }
  const profile = await chooseProfile(deps, project, {
    given: initial.profile,
    deploy: true,
    title: `Deploy into ${project.label}: choose a profile`,
  });
  if (!profile) {
    return undefined;
  }
  const target = projectTarget(project, profile);
  let collectionName = initial.collection;
  let artifacts = initial.artifacts;
  if (!collectionName || !artifacts || artifacts.length === 0) {
    const collections = await listCollections(deps, project, profile);
    if (!collections) {
      return undefined;
    }
    let collection = collections.find((candidate) => candidate.name === collectionName);
    if (!collection) {
      collection = await ui.pickOne(collectionItems(collections), {
        title: `Deploy into ${target}: choose a collection`,
        placeholder: 'Collection to deploy from',
      });
      if (!collection) {
        return undefined;
      }
    }
    collectionName = collection.name;
    if (collection.artifacts.length === 0) {
      await ui.notify('warning', `SkillMeat: collection '${collection.name}' holds no artifact.`);
      return undefined;
    }
    const chosen: ArtifactInfo[] | undefined = await ui.pickMany(artifactItems(collection), {
      title: `Deploy from '${collection.name}' into ${target}`,
      placeholder: 'Artifacts to deploy (Space toggles, Enter deploys)',
    });
    if (!chosen || chosen.length === 0) {
      return undefined;
    }
    artifacts = chosen.map(({ name, type }) => ({ name, type }));
  }
  const args: DeployArgs = { project: project.id, collection: collectionName, artifacts, overwrite: initial.overwrite };
  const profileArg = profileArgument(profile);
  if (profileArg) {
    args.profile = profileArg;
  }
  return deployAndReport(deps, project, args);
}

async function deployAndReport(
  deps: { ui: FlowUi; execute: Execute; afterChange?: DeployFlowDeps['afterChange'] },
  project: ProjectRef,
  args: DeployArgs,
): Promise<DeployResult | undefined> {
  let raw: unknown;
  try {
    raw = await deps.execute(ServerCommand.deploy, [args]);
  } catch (error) {
    await reportFailure(deps.ui, 'deploy', error);
    return undefined;
  }
  return reportDeploy(deps, project, args, raw);
}

/**
 * The notification after a deploy (from the flow, or from a code action that named everything):
 * what was deployed, skipped or failed, with "Show file", and "Overwrite" for what was skipped.
 */
export async function reportDeploy(
  deps: { ui: FlowUi; execute: Execute; afterChange?: DeployFlowDeps['afterChange'] },
  project: ProjectRef,
  args: DeployArgs,
  raw: unknown,
): Promise<DeployResult | undefined> {
  const { ui } = deps;
  const result = parseDeployResult(raw);
  if (result.cancelled) {
    return result;
  }
  await deps.afterChange?.(result);
  const summary = summarizeDeploy(result, { collection: args.collection, project: projectTarget(project, args.profile) });
  const actions: string[] = [];
  if (result.file) {
    actions.push(SHOW_FILE);
  }
  const canOverwrite = !args.overwrite && result.skipped.length > 0;
  if (canOverwrite) {
    actions.push(OVERWRITE);
  }
  if (result.errors.length > 0) {
    actions.push(SHOW_OUTPUT);
  }
  const choice = await ui.notify(summary.level, summary.message, ...actions);
  if (choice === SHOW_FILE && result.file) {
    const first = result.deployed[0];
    await ui.openFile(result.file, first ? recordMarker(first.name) : undefined);
  } else if (choice === SHOW_OUTPUT) {
    ui.showOutput();
  } else if (choice === OVERWRITE && canOverwrite) {
    const again = result.skipped.map(({ name, type }) => ({ name, type }));
    return deployAndReport(deps, project, { ...args, project: args.project ?? project.id, artifacts: again, overwrite: true });
  }
  return result;
}

/** The notification after an update (from the flow or from a code action / code lens). */
export async function reportUpdate(ui: FlowUi, target: { name: string; collection?: string }, raw: unknown): Promise<DeployResult> {
  const result = parseDeployResult(raw);
  if (result.cancelled) {
    return result;
  }
  const summary = summarizeDeploy(result, { verb: 'Updated', collection: target.collection });
  const choice = await ui.notify(summary.level, summary.message, ...(result.file ? [SHOW_FILE] : []));
  if (choice === SHOW_FILE && result.file) {
    await ui.openFile(result.file, recordMarker(target.name));
  }
  return result;
}

export interface UpdateArgs {
  project?: string;
  name?: string;
  type?: string;
  force?: boolean;
  /** SkillMeat profile id; absent means `claude_code`. */
  profile?: string;
}

export const OVERWRITE_LOCAL = 'Overwrite local changes';

/** Update a deployed record from its collection; asks before overwriting local changes. */
export async function runUpdateFlow(deps: DeployFlowDeps, initial: UpdateArgs = {}): Promise<DeployResult | undefined> {
  const { ui } = deps;
  const project = await deps.resolveProject(initial.project);
  if (!project) {
    return undefined;
  }
  const profile = await chooseProfile(deps, project, {
    given: initial.profile,
    deploy: false,
    title: `Update in ${project.label}: choose a profile`,
  });
  if (!profile) {
    return undefined;
  }
  const where = projectTarget(project, profile);
  let target: { name: string; type: string; collection?: string } | undefined =
    initial.name && initial.type ? { name: initial.name, type: initial.type } : undefined;
  if (!target) {
    const collections = await listCollections(deps, project, profile);
    if (!collections) {
      return undefined;
    }
    const records = deployedRecords(collections);
    if (records.length === 0) {
      await ui.notify('info', `SkillMeat: no artifact of ${where} was deployed from a known collection.`);
      return undefined;
    }
    const chosen: DeployedRecord | undefined = await ui.pickOne(recordItems(records), {
      title: `Update in ${where}`,
      placeholder: 'Artifact to update from its collection',
    });
    if (!chosen) {
      return undefined;
    }
    target = chosen;
  }
  const run = async (force: boolean): Promise<unknown> => {
    const args: UpdateArgs = { project: project.id, name: target!.name, type: target!.type };
    const profileArg = profileArgument(profile);
    if (profileArg) {
      args.profile = profileArg;
    }
    if (force) {
      args.force = true;
    }
    try {
      return await deps.execute(ServerCommand.updateFromCollection, [args]);
    } catch (error) {
      await reportFailure(ui, 'update', error);
      return undefined;
    }
  };
  // The server asks before it overwrites local changes; a server that skips them instead gets
  // the same question here.
  let raw = await run(Boolean(initial.force));
  if (raw === undefined) {
    return undefined;
  }
  const first = parseDeployResult(raw);
  if (!first.cancelled && first.skipped.length > 0 && first.deployed.length === 0 && !initial.force) {
    const summary = summarizeDeploy(first, { verb: 'Updated', collection: target.collection });
    const choice = await ui.notify('warning', summary.message, OVERWRITE_LOCAL);
    if (choice !== OVERWRITE_LOCAL) {
      return first;
    }
    raw = await run(true);
    if (raw === undefined) {
      return undefined;
    }
  }
  return reportUpdate(ui, target, raw);
}

/** The line that starts a record of `name` in a unified deployment file. */
export function recordMarker(name: string): string {
  return `artifact_name = ${JSON.stringify(name)}`;
}
