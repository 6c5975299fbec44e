"""What SkillMeat's ``cache.db`` holds, read from the file itself without SkillMeat: its tables
and their columns, its Alembic stamp, whether a ``-wal`` is pending, and how many of the user's
rows it holds (:data:`USER_TABLES`).

It is read strictly read-only, through :func:`skillmeat_ls.cache.probe.read_only`: no byte
written, no ``-wal``/``-shm`` created.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from skillmeat_ls.cache.probe import Kind, probe, read_only
from skillmeat_ls.doctor.skillmeat_side import quote, table_names

#: The user's rows: at SkillMeat's fix commit, groups and collection memberships lived only in
#: this database. The other tables are derived data SkillMeat rebuilds from disk and the network.
USER_TABLES = (
    "collections",
    "groups",
    "collection_artifacts",
    "group_artifacts",
    "tags",
    "artifact_tags",
    "user_ratings",
)


@dataclass
class Structure:
    """What can be read from the file without SkillMeat."""

    kind: str  # missing | empty | database | not-a-database | unreadable
    detail: str = ""
    size: int = 0
    #: None: no alembic_version table; []: the table is empty
    revisions: list[str] | None = None
    tables: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    wal: bool = False


def read_structure(path: Path) -> Structure:
    """The file's structural facts, read without writing a byte to it or next to it."""
    found = probe(path)
    if found.kind is Kind.MISSING:
        return Structure("missing")
    if found.kind is Kind.CORRUPT:
        return Structure("not-a-database", found.detail, _size(path))
    if found.kind is Kind.UNREADABLE:
        return Structure("unreadable", found.detail, _size(path))
    wal = path.with_name(path.name + "-wal")
    structure = Structure("database", size=_size(path), wal=wal.exists() and _size(wal) > 0)
    if structure.size == 0:
        structure.kind = "empty"
        return structure
    try:
        with read_only(path) as conn:
            for name in table_names(conn):
                try:
                    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({quote(name)})")]
                except sqlite3.OperationalError:  # a virtual table whose module is missing
                    columns = []
                structure.tables[name] = columns
            if "alembic_version" in structure.tables:
                structure.revisions = sorted(
                    str(row[0]) for row in conn.execute("SELECT version_num FROM alembic_version")
                )
            for name in USER_TABLES:
                if name in structure.tables:
                    count = conn.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
                    structure.rows[name] = int(count)
    except (sqlite3.Error, OSError) as exc:
        return Structure("unreadable", str(exc), structure.size)
    if not set(structure.tables) - {"alembic_version"}:
        structure.kind = "empty"
    return structure


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
