/**
 * The extension's own command ids (`skillmeat.client.*`), contributed in package.json. They never
 * clash with the server's ids (`serverCommands.ts`), which the language client registers itself.
 */
export const ClientCommand = {
  deployFromCollection: 'skillmeat.client.deployFromCollection',
  migrateSchema: 'skillmeat.client.migrateSchema',
  updateFromCollection: 'skillmeat.client.updateFromCollection',
  rebuildCache: 'skillmeat.client.rebuildCache',
  restartServer: 'skillmeat.client.restartServer',
  showOutput: 'skillmeat.client.showOutput',
  diagnoseSkillMeatCache: 'skillmeat.client.diagnoseSkillMeatCache',
  // The SkillMeat view (Deployments and Collections).
  refreshViews: 'skillmeat.client.refreshViews',
  openDeployed: 'skillmeat.client.openDeployed',
  openDeploymentFile: 'skillmeat.client.openDeploymentFile',
  compareWithCollection: 'skillmeat.client.compareWithCollection',
  updateRecord: 'skillmeat.client.updateRecord',
  keepLocal: 'skillmeat.client.keepLocal',
  pullToCollection: 'skillmeat.client.pullToCollection',
  undeploy: 'skillmeat.client.undeploy',
  deployArtifact: 'skillmeat.client.deployArtifact',
} as const;

/** View item commands: they act on the tree node they are invoked on, so the palette does not list them. */
export const VIEW_ITEM_COMMANDS: readonly string[] = [
  ClientCommand.openDeployed,
  ClientCommand.openDeploymentFile,
  ClientCommand.compareWithCollection,
  ClientCommand.updateRecord,
  ClientCommand.keepLocal,
  ClientCommand.pullToCollection,
  ClientCommand.undeploy,
  ClientCommand.deployArtifact,
];

/** Commands that write files: disabled (and hidden) in an untrusted workspace. */
export const WRITING_CLIENT_COMMANDS: readonly string[] = [
  ClientCommand.deployFromCollection,
  ClientCommand.migrateSchema,
  ClientCommand.updateFromCollection,
  ClientCommand.updateRecord,
  ClientCommand.keepLocal,
  ClientCommand.pullToCollection,
  ClientCommand.undeploy,
  ClientCommand.deployArtifact,
];

export const VIEW_CONTAINER_ID = 'skillmeat';
export const DEPLOYMENTS_VIEW_ID = 'skillmeat.deployments';
export const COLLECTIONS_VIEW_ID = 'skillmeat.collections';

/** Context keys the views' welcome content and menus read. */
export const ContextKey = {
  deploymentsState: 'skillmeat.deployments.state',
  collectionsState: 'skillmeat.collections.state',
} as const;

/** `loading` · `noServer` (not running) · `empty` (no deployment file / no collection) · `error` · `ready`. */
export type ViewState = 'loading' | 'noServer' | 'empty' | 'error' | 'ready';
