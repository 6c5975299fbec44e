"""The cache's revision ids, readable without importing Alembic.

The at-head fast path of :func:`skillmeat_ls.cache.store.initialize_cache` compares the database's
``alembic_version`` with :data:`HEAD` using the standard ``sqlite3`` module alone. A test checks
these constants against the Alembic script directory, so they cannot drift from it.
"""

from __future__ import annotations

#: Every revision of ``migrations/versions``, oldest first (the history is linear).
REVISIONS: tuple[str, ...] = ("0001_base_tables", "0002_collections_schema", "0003_index_tables")
HEAD: str = REVISIONS[-1]

#: The tables each revision creates: how an untracked database is matched to a revision.
REVISION_TABLES: dict[str, frozenset[str]] = {
    "0001_base_tables": frozenset({"projects", "artifacts", "cache_metadata"}),
    "0002_collections_schema": frozenset(
        {"collections", "groups", "collection_artifacts", "group_artifacts"}
    ),
    "0003_index_tables": frozenset(
        {"collection_sources", "indexed_artifacts", "project_deployments"}
    ),
}
