"""The server's command ids (SPEC §6): the one table the engine (code actions, code lenses), the
protocol layer (``executeCommandProvider``) and the VS Code extension's
``src/core/serverCommands.ts`` agree on. ``tests/test_command_ids.py`` checks the extension's
copy against what the server reports at ``initialize``."""

from __future__ import annotations

MIGRATE_SCHEMA = "skillmeat.migrateSchema"
DEPLOY = "skillmeat.deploy"
LIST_COLLECTIONS = "skillmeat.listCollections"
UPDATE_FROM_COLLECTION = "skillmeat.updateFromCollection"
REFRESH_CACHE = "skillmeat.refreshCache"
CACHE_STATUS = "skillmeat.cacheStatus"
DOCTOR = "skillmeat.doctor"
UNDEPLOY = "skillmeat.undeploy"
COMPARE = "skillmeat.compare"
KEEP_LOCAL = "skillmeat.keepLocal"
PULL_TO_COLLECTION = "skillmeat.pullToCollection"
#: Not in SPEC §6: what the VS Code *Deployments* view lists (its shape is in README).
LIST_DEPLOYMENTS = "skillmeat.listDeployments"

#: Every command the server executes, in SPEC order.
ALL = (
    MIGRATE_SCHEMA,
    DEPLOY,
    LIST_COLLECTIONS,
    UPDATE_FROM_COLLECTION,
    REFRESH_CACHE,
    CACHE_STATUS,
    DOCTOR,
    UNDEPLOY,
    COMPARE,
    KEEP_LOCAL,
    PULL_TO_COLLECTION,
    LIST_DEPLOYMENTS,
)
