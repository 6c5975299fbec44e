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
 * The commands behind the Deployments view's record actions. The extension offers each only when
 * the running server lists it in `executeCommandProvider.commands` (`recordActions` in
 * `deployments.ts`, the Preview marker in `status.ts`), so an older server without, say,
 * `skillmeat.keepLocal` simply gets no such action.
 */
export const SyncCommand = {
  compare: ServerCommand.compare,
  updateFromCollection: ServerCommand.updateFromCollection,
  undeploy: ServerCommand.undeploy,
  keepLocal: ServerCommand.keepLocal,
  pullToCollection: ServerCommand.pullToCollection,
} as const;

export type SyncCommandId = (typeof SyncCommand)[keyof typeof SyncCommand];
