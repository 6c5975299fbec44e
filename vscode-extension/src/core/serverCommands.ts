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
  listDeployments: 'skillmeat.listDeployments',
} as const;

export type ServerCommandId = (typeof ServerCommand)[keyof typeof ServerCommand];
