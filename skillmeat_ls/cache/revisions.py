"""The cache's revision ids and the schema each one leaves, readable without importing Alembic.

The at-head fast path of :func:`skillmeat_ls.cache.store.initialize_cache` compares the database's
``alembic_version`` with :data:`HEAD` using the standard ``sqlite3`` module alone, and adopting an
unversioned database compares its tables and columns with :data:`SCHEMAS`. Tests check these
constants against the Alembic script directory (``tests/test_cache_schema.py`` upgrades to every
revision and reads the columns back), so they cannot drift from it.
"""

from __future__ import annotations

#: Every revision of ``migrations/versions``, oldest first (the history is linear).
REVISIONS: tuple[str, ...] = (
    "0001_base_tables",
    "0002_collections_schema",
    "0003_index_tables",
    "0004_warm_start",
    "0005_text_verdicts",
)
HEAD: str = REVISIONS[-1]

#: The tables each revision creates, with their columns. Revisions so far only create tables; one
#: that alters a table must also change how :data:`SCHEMAS` is built below.
REVISION_COLUMNS: dict[str, dict[str, frozenset[str]]] = {
    "0001_base_tables": {
        "projects": frozenset(
            {
                "id", "name", "path", "description", "status", "last_fetched", "error_message",
                "created_at", "updated_at",
            }
        ),
        "artifacts": frozenset(
            {
                "id", "project_id", "name", "type", "source", "deployed_version",
                "upstream_version", "is_outdated", "local_modified", "created_at", "updated_at",
            }
        ),
        "cache_metadata": frozenset({"key", "value", "updated_at"}),
    },
    "0002_collections_schema": {
        "collections": frozenset(
            {
                "id", "name", "description", "created_by", "collection_type", "context_category",
                "created_at", "updated_at",
            }
        ),
        "groups": frozenset(
            {"id", "collection_id", "name", "description", "position", "created_at", "updated_at"}
        ),
        "collection_artifacts": frozenset({"collection_id", "artifact_id", "added_at"}),
        "group_artifacts": frozenset({"group_id", "artifact_id", "position", "added_at"}),
    },
    "0003_index_tables": {
        "collection_sources": frozenset(
            {
                "collection_id", "root_path", "manifest_mtime_ns", "manifest_size",
                "lock_mtime_ns", "lock_size", "error", "indexed_at",
            }
        ),
        "indexed_artifacts": frozenset(
            {
                "collection_id", "artifact_id", "name", "type", "rel_path", "description",
                "content_hash", "lock_hash", "fingerprint", "indexed_at",
            }
        ),
        "project_deployments": frozenset(
            {
                "project_id", "artifact_type", "artifact_name", "from_collection",
                "artifact_path", "content_hash", "deployed_at", "indexed_at",
            }
        ),
    },
    "0004_warm_start": {
        "copy_hashes": frozenset(
            {"path", "root", "fingerprint", "content_hash", "leaves", "hashed_at"}
        ),
        "collection_snapshots": frozenset({"root_path", "content"}),
        "file_verdicts": frozenset({"path", "content"}),
    },
    "0005_text_verdicts": {
        "text_verdicts": frozenset({"path", "content"}),
    },
}  # fmt: skip

#: The tables each revision creates.
REVISION_TABLES: dict[str, frozenset[str]] = {
    revision: frozenset(tables) for revision, tables in REVISION_COLUMNS.items()
}


def _schemas() -> dict[str, dict[str, frozenset[str]]]:
    schemas: dict[str, dict[str, frozenset[str]]] = {}
    schema: dict[str, frozenset[str]] = {}
    for revision in REVISIONS:
        schema = {**schema, **REVISION_COLUMNS[revision]}
        schemas[revision] = schema
    return schemas


#: The whole schema (table -> columns, ``alembic_version`` aside) a database has at each revision:
#: an unversioned database is adopted only when its tables and columns are exactly one of these.
SCHEMAS: dict[str, dict[str, frozenset[str]]] = _schemas()

#: Every table some revision creates.
ALL_TABLES: frozenset[str] = frozenset(SCHEMAS[HEAD])
