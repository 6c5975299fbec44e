/**
 * The language server's command ids (SPEC §6), as the extension calls them: the TypeScript copy of
 * `skillmeat_ls/command_ids.py`. `tests/test_command_ids.py` (Python) checks that these are exactly
 * the ids the server reports in `executeCommandProvider` at `initialize`.
 */
export const ServerCommand = {
  migrateSchema: 'skillmeat.migrateSchema',
  deploy: 'skillmeat.deploy',
  listCollections: 'skillmeat.listCollections',
  updateFromCollection: 'skillmeat.updateFromCollection',
  refreshCache: 'skillmeat.refreshCache',
  cacheStatus: 'skillmeat.cacheStatus',
  doctor: 'skillmeat.doctor',
  undeploy: 'skillmeat.undeploy',
  compare: 'skillmeat.compare',
  keepLocal: 'skillmeat.keepLocal',
  pullToCollection: 'skillmeat.pullToCollection',
  listDeployments: 'skillmeat.listDeployments',
} as const;

export type ServerCommandId = (typeof ServerCommand)[keyof typeof ServerCommand];

/**
 * Commands of SPEC §6 that the server in this repository does not register yet. The extension
 * calls them only when the running server lists them in `executeCommandProvider.commands` (the
 * Deployments view offers an action only then: `recordActions` in `deployments.ts`); once
 * `skillmeat_ls/command_ids.py` has an id, it moves to {@link ServerCommand}.
 */
export const OptionalServerCommand = {
  keepLocal: 'skillmeat.keepLocal',
  pullToCollection: 'skillmeat.pullToCollection',
} as const;

/** The commands a Deployments view action runs, whether or not the server has them yet. */
export const SyncCommand = {
  compare: ServerCommand.compare,
  updateFromCollection: ServerCommand.updateFromCollection,
  undeploy: ServerCommand.undeploy,
  keepLocal: OptionalServerCommand.keepLocal,
  pullToCollection: OptionalServerCommand.pullToCollection,
} as const;

export type SyncCommandId = (typeof SyncCommand)[keyof typeof SyncCommand];
