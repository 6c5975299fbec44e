/**
 * The Collections view's tree: collections → artifacts, from `skillmeat.listCollections` (parsed
 * by `parseCollections`). Nothing here imports `vscode`.
 */
import { ArtifactInfo, CollectionInfo, compareTypes, typeCounts, typeIcon } from './quickPicks';
import { escapeMarkdown } from './status';
import type { TreeNode } from './deployments';

export interface CollectionNode extends TreeNode {
  kind: 'collection';
  description: string;
  collection: CollectionInfo;
  children: ArtifactNode[];
}

export interface ArtifactNode extends TreeNode {
  kind: 'artifact';
  description: string;
  collection: string;
  artifact: { name: string; type: string };
}

/** `$(lightbulb)` → `lightbulb`. */
export function codiconId(label: string): string {
  const match = /^\$\(([^)]+)\)$/.exec(label);
  return match ? match[1] : label;
}

/** The message of `skillmeat.listCollections` when the home holds no collection. */
export function isNoCollectionsError(message: string): boolean {
  return /\bno collections found\b/i.test(message);
}

function artifactNode(collection: CollectionInfo, artifact: ArtifactInfo, trusted: boolean): ArtifactNode {
  const description = artifact.description ? `${artifact.type} · ${artifact.description}` : artifact.type;
  const tooltip = [
    `**${escapeMarkdown(artifact.name)}** (${escapeMarkdown(artifact.type)}) in \`${collection.name.replace(/`/g, '')}\``,
    artifact.description ? escapeMarkdown(artifact.description) : '',
    artifact.content_hash ? `Hash \`${artifact.content_hash.slice(0, 12)}\`` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  return {
    kind: 'artifact',
    id: `artifact:${collection.name}\u0000${artifact.type}\u0000${artifact.name}`,
    label: artifact.name,
    description,
    tooltip,
    icon: { id: codiconId(typeIcon(artifact.type)) },
    contextValue: trusted ? 'skillmeat.artifact +deploy' : 'skillmeat.artifact',
    accessibilityLabel: `${artifact.name} (${artifact.type}) in ${collection.name}`,
    collapsible: 'none',
    collection: collection.name,
    artifact: { name: artifact.name, type: artifact.type },
  };
}

/** One node per collection (in the server's order), its artifacts by type then name. */
export function buildCollectionTree(collections: readonly CollectionInfo[], options: { trusted: boolean }): CollectionNode[] {
  return collections.map((collection) => {
    const count = `${collection.artifacts.length} artifact${collection.artifacts.length === 1 ? '' : 's'}`;
    const counts = typeCounts(collection.artifacts);
    return {
      kind: 'collection',
      id: `collection:${collection.name}`,
      label: collection.name,
      description: count,
      tooltip: [`**${escapeMarkdown(collection.name)}**: ${counts || 'no artifact'}`, collection.path ? `\`${collection.path.replace(/`/g, '')}\`` : '']
        .filter(Boolean)
        .join('\n\n'),
      icon: { id: 'library' },
      contextValue: 'skillmeat.collection',
      accessibilityLabel: `${collection.name}, ${count}`,
      collapsible: 'expanded',
      collection,
      children: [...collection.artifacts]
        .sort((a, b) => compareTypes(a.type, b.type) || a.name.localeCompare(b.name))
        .map((artifact) => artifactNode(collection, artifact, options.trusted)),
    };
  });
}
