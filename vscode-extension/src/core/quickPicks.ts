/**
 * QuickPick items for the deploy and update flows, built from `skillmeat.listCollections`.
 */
import { DEFAULT_PROFILE_ID, ProfileChoice, defaultRootOf } from './profiles';

export interface ArtifactInfo {
  name: string;
  type: string;
  content_hash?: string;
  description?: string | null;
  /** Collection this (name, type) was deployed from in the asked project, if recorded there. */
  deployed_from?: string | null;
}

export interface GroupInfo {
  name: string;
  description?: string | null;
  members?: string[];
}

export interface CollectionInfo {
  name: string;
  path?: string;
  artifacts: ArtifactInfo[];
  groups?: GroupInfo[];
}

export interface PickItem<T> {
  label: string;
  description?: string;
  detail?: string;
  picked?: boolean;
  value: T;
}

export interface ProjectCandidate {
  /** Folder that holds (or will hold) the profile roots (`.claude/`, `.agents/`, …). */
  root: string;
  /** Name to show: relative to the workspace folder when possible. */
  label: string;
  /** The deployment file that stands for the project, when it has one (`.claude`'s first). */
  deploymentFile?: string;
  /** The project's profile roots holding a deployment file, `.claude` first. */
  profileRoots: string[];
}

const TYPE_ORDER = ['skill', 'command', 'agent', 'hook', 'mcp'];

const TYPE_ICONS: Record<string, string> = {
  skill: '$(lightbulb)',
  command: '$(terminal)',
  agent: '$(person)',
  hook: '$(zap)',
  mcp: '$(plug)',
};

export function typeIcon(type: string): string {
  return TYPE_ICONS[type] ?? '$(file)';
}

function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** Validates the answer of `skillmeat.listCollections`; drops malformed entries. */
export function parseCollections(value: unknown): CollectionInfo[] {
  if (!Array.isArray(value)) {
    return [];
  }
  const collections: CollectionInfo[] = [];
  for (const entry of value) {
    if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string') {
      continue;
    }
    const artifacts = Array.isArray(entry.artifacts)
      ? entry.artifacts.filter(
          (artifact: unknown): artifact is ArtifactInfo =>
            typeof artifact === 'object' &&
            artifact !== null &&
            typeof (artifact as ArtifactInfo).name === 'string' &&
            typeof (artifact as ArtifactInfo).type === 'string',
        )
      : [];
    collections.push({
      name: entry.name,
      path: typeof entry.path === 'string' ? entry.path : undefined,
      artifacts,
      groups: Array.isArray(entry.groups) ? entry.groups : [],
    });
  }
  return collections;
}

/** "2 skills, 1 agent" — counts per type, in the usual type order. */
export function typeCounts(artifacts: readonly ArtifactInfo[]): string {
  const counts = new Map<string, number>();
  for (const artifact of artifacts) {
    counts.set(artifact.type, (counts.get(artifact.type) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => compareTypes(a, b))
    .map(([type, count]) => plural(count, type))
    .join(', ');
}

export function compareTypes(a: string, b: string): number {
  const ia = TYPE_ORDER.indexOf(a);
  const ib = TYPE_ORDER.indexOf(b);
  const ra = ia === -1 ? TYPE_ORDER.length : ia;
  const rb = ib === -1 ? TYPE_ORDER.length : ib;
  return ra !== rb ? ra - rb : a.localeCompare(b);
}

export function collectionItems(collections: readonly CollectionInfo[]): PickItem<CollectionInfo>[] {
  return collections.map((collection) => {
    const deployed = collection.artifacts.filter((a) => a.deployed_from === collection.name).length;
    const parts = [plural(collection.artifacts.length, 'artifact')];
    if (deployed > 0) {
      parts.push(`${deployed} deployed here`);
    }
    const counts = typeCounts(collection.artifacts);
    return {
      label: `$(library) ${collection.name}`,
      description: parts.join(' · '),
      detail: [counts, collection.path].filter(Boolean).join(' — ') || undefined,
      value: collection,
    };
  });
}

export function artifactDescription(artifact: ArtifactInfo): string {
  const parts = [artifact.type];
  if (artifact.deployed_from) {
    parts.push(`deployed from ${artifact.deployed_from}`);
  }
  return parts.join(' · ');
}

export function artifactItems(collection: CollectionInfo): PickItem<ArtifactInfo>[] {
  return [...collection.artifacts]
    .sort((a, b) => compareTypes(a.type, b.type) || a.name.localeCompare(b.name))
    .map((artifact) => ({
      label: `${typeIcon(artifact.type)} ${artifact.name}`,
      description: artifactDescription(artifact),
      detail: artifact.description ? artifact.description : undefined,
      picked: false,
      value: artifact,
    }));
}

export interface DeployedRecord {
  name: string;
  type: string;
  collection: string;
  description?: string | null;
}

/** Records of the project that come from a known collection (from `deployed_from`). */
export function deployedRecords(collections: readonly CollectionInfo[]): DeployedRecord[] {
  const seen = new Set<string>();
  const records: DeployedRecord[] = [];
  for (const collection of collections) {
    for (const artifact of collection.artifacts) {
      if (artifact.deployed_from !== collection.name) {
        continue;
      }
      const key = `${artifact.type}:${artifact.name}`;
      if (!seen.has(key)) {
        seen.add(key);
        records.push({
          name: artifact.name,
          type: artifact.type,
          collection: collection.name,
          description: artifact.description,
        });
      }
    }
  }
  return records.sort((a, b) => compareTypes(a.type, b.type) || a.name.localeCompare(b.name));
}

export function recordItems(records: readonly DeployedRecord[]): PickItem<DeployedRecord>[] {
  return records.map((record) => ({
    label: `${typeIcon(record.type)} ${record.name}`,
    description: `${record.type} · from ${record.collection}`,
    detail: record.description ? record.description : undefined,
    value: record,
  }));
}

export function projectItems(projects: readonly ProjectCandidate[]): PickItem<ProjectCandidate>[] {
  return projects.map((project) => ({
    label: `$(folder) ${project.label}`,
    description: project.profileRoots.length > 0 ? project.profileRoots.map((root) => `${root}/`).join(' ') : 'no deployment file yet',
    detail: project.root,
    value: project,
  }));
}

/**
 * The profile QuickPick: "Claude Code" with `claude_code · .claude/`; a profile the project has
 * no root for yet says which root the deploy creates; `current` (the profile of the active
 * deployment file) is marked.
 */
export function profileItems(choices: readonly ProfileChoice[], current?: string): PickItem<ProfileChoice>[] {
  return choices.map((choice) => {
    const roots = choice.roots.length > 0 ? choice.roots.map((root) => `${root}/`).join(', ') : `${defaultRootOf(choice.id)}/ (new)`;
    const notes = [choice.id, roots];
    if (choice.id === current) {
      notes.push('this file');
    } else if (choice.id === DEFAULT_PROFILE_ID) {
      notes.push('default');
    }
    return {
      label: `$(account) ${choice.label}`,
      description: notes.join(' · '),
      value: choice,
    };
  });
}
