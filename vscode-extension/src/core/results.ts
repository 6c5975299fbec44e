/**
 * One notification from the answer of `skillmeat.deploy` / `skillmeat.updateFromCollection`.
 */

export interface ArtifactRef {
  name: string;
  type: string;
}

export interface DeployedEntry extends ArtifactRef {
  path?: string;
  collection?: string;
  content_hash?: string;
}

export interface SkippedEntry extends ArtifactRef {
  reason?: string;
}

export interface ErrorEntry {
  name?: string;
  type?: string;
  message: string;
}

export interface DeployResult {
  deployed: DeployedEntry[];
  skipped: SkippedEntry[];
  errors: ErrorEntry[];
  file?: string;
  /** The user cancelled a question the server asked. */
  cancelled?: boolean;
}

function list<T>(value: unknown, valid: (entry: Record<string, unknown>) => boolean): T[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter((entry) => typeof entry === 'object' && entry !== null && valid(entry)) as T[];
}

const isRef = (entry: Record<string, unknown>) => typeof entry.name === 'string' && typeof entry.type === 'string';

/**
 * Accepts the deploy answer and those of update, keep-local and pull, which have its shape with
 * the items done under their own verb (`updated`, `kept`, `pulled`): all count as `deployed`.
 */
export function parseDeployResult(value: unknown): DeployResult {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const deployed = [
    ...list<DeployedEntry>(record.deployed, isRef),
    ...list<DeployedEntry>(record.updated, isRef),
    ...list<DeployedEntry>(record.kept, isRef),
    ...list<DeployedEntry>(record.pulled, isRef),
  ];
  return {
    deployed,
    skipped: list<SkippedEntry>(record.skipped, isRef),
    errors: list<ErrorEntry>(record.errors, (entry) => typeof entry.message === 'string'),
    file: typeof record.file === 'string' && record.file !== '' ? record.file : undefined,
    cancelled: record.cancelled === true,
  };
}

export function describeRef(ref: { name?: string; type?: string }): string {
  if (ref.name && ref.type) {
    return `${ref.name} (${ref.type})`;
  }
  return ref.name ?? ref.type ?? '';
}

function join(items: string[], max = 3): string {
  if (items.length <= max) {
    return items.join(', ');
  }
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

export interface Summary {
  level: 'info' | 'warning' | 'error';
  message: string;
}

export function summarizeDeploy(
  result: DeployResult,
  context: {
    collection?: string;
    verb?: string;
    project?: string;
    /** Replaces " from 'collection' into project": what follows the artifacts, e.g. " in drift". */
    place?: string;
    /** Said when nothing was done (default "Nothing was deployed."). */
    nothing?: string;
  },
): Summary {
  const verb = context.verb ?? 'Deployed';
  const parts: string[] = [];
  if (result.deployed.length > 0) {
    const from = context.collection ? ` from '${context.collection}'` : '';
    const into = context.project ? ` into ${context.project}` : '';
    parts.push(`${verb} ${join(result.deployed.map(describeRef))}${context.place ?? `${from}${into}`}.`);
  }
  if (result.skipped.length > 0) {
    const skipped = result.skipped.map((entry) => (entry.reason ? `${describeRef(entry)}: ${entry.reason}` : describeRef(entry)));
    parts.push(`Skipped ${join(skipped)}.`);
  }
  if (result.errors.length > 0) {
    const errors = result.errors.map((entry) => {
      const what = describeRef(entry);
      return what ? `${what}: ${entry.message}` : entry.message;
    });
    parts.push(`Failed: ${join(errors)}.`);
  }
  if (parts.length === 0) {
    parts.push(context.nothing ?? 'Nothing was deployed.');
  }
  const level: Summary['level'] =
    result.errors.length > 0 ? (result.deployed.length > 0 ? 'warning' : 'error') : result.skipped.length > 0 ? 'warning' : 'info';
  return { level, message: `SkillMeat: ${parts.join(' ')}` };
}

/** The answer of `skillmeat.undeploy` (`removed` instead of `deployed`), as a {@link DeployResult}. */
export function parseUndeployResult(value: unknown): DeployResult {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return parseDeployResult({ ...record, deployed: record.removed, updated: undefined });
}
