"""Opening the cache: bring it to head with Alembic before anything touches a table.

:func:`initialize_cache` ends at head from every starting state, and never loses a row:

* no file, a zero-byte file, or a file with no tables: a full upgrade;
* tables made by ``create_all()`` with no ``alembic_version`` (or an empty one, which is what
  SkillMeat's own failed initialisation leaves): *adopt* it by stamping the newest revision whose
  tables are all present, then upgrade; every revision creates only what is missing;
* an earlier revision: upgrade;
* already at head: one read-only query with the ``sqlite3`` module, no Alembic;
* a revision this code does not know (newer or foreign): not a byte written, an in-memory cache
  instead, state ``degraded``;
* not a SQLite database, or corrupt: moved aside with a timestamp suffix, rebuilt;
* a read-only file or directory: state ``error`` with a clear message, an in-memory cache instead,
  so everything that needs no cache still works.

The slow path holds a file lock next to the database, so concurrent starts serialise.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from skillmeat_ls.cache.engine import make_engine, make_memory_engine
from skillmeat_ls.cache.models import BASE_TABLES, Base
from skillmeat_ls.cache.revisions import HEAD, REVISION_TABLES, REVISIONS

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 120.0
_BASE_TABLES_SQL = ",".join(f"'{name}'" for name in BASE_TABLES)
_AT_HEAD_QUERY = (
    "SELECT (SELECT group_concat(version_num, ',') FROM alembic_version), "
    f"(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({_BASE_TABLES_SQL}))"
)


class CacheState(str, Enum):
    READY = "ready"
    DEGRADED = "degraded"
    ERROR = "error"


@dataclass(frozen=True)
class CacheStatus:
    """The outcome of opening the cache, as reported by ``cache status`` and ``skillmeat/status``."""

    path: Path
    state: CacheState
    revision: str | None
    head: str
    message: str
    in_memory: bool = False
    moved_aside: Path | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "path": str(self.path),
            "revision": self.revision,
            "head": self.head,
            "state": self.state.value,
            "message": self.message,
        }


@dataclass
class Cache:
    """An open cache: an engine at head (on the file, or in memory) and how it got there."""

    engine: Engine
    status: CacheStatus
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if not self._closed:
            self.engine.dispose()
            self._closed = True


class _Kind(Enum):
    MISSING = "missing"
    EMPTY = "empty"
    AT_HEAD = "at-head"
    KNOWN = "known"  # an earlier revision
    UNTRACKED = "untracked"  # no alembic_version, or an empty one
    FOREIGN = "foreign"
    CORRUPT = "corrupt"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class _Probe:
    kind: _Kind
    revision: str | None = None
    tables: frozenset[str] = frozenset()
    detail: str = ""


def _connect_read_only(path: Path) -> sqlite3.Connection:
    # ``mode=ro`` never writes the database; it may need the WAL index next to it, so fall back
    # to ``immutable=1`` (no locking, no side files) when that cannot be opened read-only.
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        return conn
    except sqlite3.OperationalError:
        return sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)


def _probe(path: Path, *, thorough: bool) -> _Probe:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return _Probe(_Kind.MISSING)
    except OSError as exc:
        return _Probe(_Kind.UNREADABLE, detail=str(exc))
    if size == 0:
        return _Probe(_Kind.EMPTY)
    if not os.access(path, os.R_OK):
        return _Probe(_Kind.UNREADABLE, detail="permission denied")
    try:
        conn = _connect_read_only(path)
    except sqlite3.OperationalError as exc:
        return _Probe(_Kind.UNREADABLE, detail=str(exc))
    except sqlite3.DatabaseError as exc:
        return _Probe(_Kind.CORRUPT, detail=str(exc))
    try:
        try:
            versions, base_count = conn.execute(_AT_HEAD_QUERY).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table: alembic_version" not in str(exc):
                raise
            versions, base_count = None, 0
        if versions == HEAD and base_count == len(BASE_TABLES) and not thorough:
            return _Probe(_Kind.AT_HEAD, revision=HEAD)
        tables = frozenset(
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        )
        if thorough:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                return _Probe(_Kind.CORRUPT, detail=f"integrity check failed: {verdict}")
    except sqlite3.DatabaseError as exc:
        return _Probe(_Kind.CORRUPT, detail=str(exc))
    finally:
        conn.close()
    if not versions:
        kind = _Kind.UNTRACKED if tables - {"alembic_version"} else _Kind.EMPTY
        return _Probe(kind, tables=tables)
    if versions == HEAD:
        return _Probe(_Kind.AT_HEAD, revision=HEAD, tables=tables)
    if versions in REVISIONS:
        return _Probe(_Kind.KNOWN, revision=versions, tables=tables)
    return _Probe(_Kind.FOREIGN, revision=versions, tables=tables)


def _adoptable_revision(tables: frozenset[str]) -> str | None:
    """The newest revision such that it and every earlier one have all their tables present."""
    adopted = None
    for revision in REVISIONS:
        if not REVISION_TABLES[revision] <= tables:
            break
        adopted = revision
    return adopted


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, probe: _Probe) -> str:
    """Stamp (when adopting) and upgrade to head in ``connection``'s transaction."""
    from alembic import command

    config = _alembic_config(connection)
    action = "upgraded"
    if probe.kind is _Kind.UNTRACKED:
        adopted = _adoptable_revision(probe.tables)
        if adopted is not None:
            command.stamp(config, adopted)
        action = f"adopted an untracked database (as {adopted or 'empty'})"
    elif probe.kind in (_Kind.MISSING, _Kind.EMPTY):
        action = "created"
    command.upgrade(config, "head")
    Base.metadata.create_all(connection, checkfirst=True)
    return action


def _move_aside(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{counter}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def _memory_cache(path: Path, state: CacheState, revision: str | None, message: str) -> Cache:
    engine = make_memory_engine()
    Base.metadata.create_all(engine)
    log.warning("cache %s: %s", path, message)
    status = CacheStatus(path, state, revision, HEAD, message, in_memory=True)
    return Cache(engine, status)


def _ready(path: Path, message: str, moved_aside: Path | None = None) -> Cache:
    status = CacheStatus(path, CacheState.READY, HEAD, HEAD, message, moved_aside=moved_aside)
    return Cache(make_engine(path), status)


def _read_only_problem(path: Path) -> str | None:
    directory = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return f"cache file {path} is read-only"
    if not path.exists() and directory.exists() and not os.access(directory, os.W_OK):
        return f"cache directory {directory} is not writable"
    return None


def initialize_cache(path: Path) -> Cache:
    """Open the cache at ``path``, migrated to head, or an in-memory stand-in (see module doc)."""
    path = Path(path)
    probe = _probe(path, thorough=False)
    if probe.kind is _Kind.AT_HEAD:
        problem = _read_only_problem(path)
        if problem is None:
            return _ready(path, "up to date")
    if probe.kind is _Kind.FOREIGN:
        return _foreign(path, probe)
    problem = _read_only_problem(path)
    if problem is not None:
        return _memory_cache(path, CacheState.ERROR, probe.revision, problem + "; using memory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _initialize_locked(path)
    except (OSError, SQLAlchemyError, Timeout) as exc:
        return _memory_cache(
            path, CacheState.ERROR, probe.revision, f"cannot write the cache: {exc}; using memory"
        )


def _foreign(path: Path, probe: _Probe) -> Cache:
    message = (
        f"cache {path} is at revision {probe.revision!r}, which this version of skillmeat-ls "
        f"does not know (head is {HEAD!r}); left untouched, using an in-memory cache"
    )
    return _memory_cache(path, CacheState.DEGRADED, probe.revision, message)


def _initialize_locked(path: Path) -> Cache:
    with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S):
        # Another process may have done the work while this one waited for the lock.
        probe = _probe(path, thorough=True)
        moved_aside = None
        if probe.kind is _Kind.AT_HEAD:
            return _ready(path, "up to date")
        if probe.kind is _Kind.FOREIGN:
            return _foreign(path, probe)
        if probe.kind is _Kind.UNREADABLE:
            return _memory_cache(
                path, CacheState.ERROR, None, f"cannot read {path}: {probe.detail}; using memory"
            )
        if probe.kind is _Kind.CORRUPT:
            moved_aside = _move_aside(path)
            log.warning("cache %s was unusable (%s); moved to %s", path, probe.detail, moved_aside)
            probe = _Probe(_Kind.MISSING)
        engine = make_engine(path)
        try:
            with engine.begin() as connection:
                action = _upgrade(connection, probe)
        finally:
            engine.dispose()
        if moved_aside is not None:
            action = f"rebuilt; the unusable file was kept as {moved_aside.name}"
        elif probe.kind is _Kind.KNOWN:
            action = f"upgraded from {probe.revision}"
        log.info("cache %s: %s", path, action)
        return _ready(path, action, moved_aside)


@dataclass(frozen=True)
class CacheReport:
    """What ``cache status`` shows: read without writing a byte or running a migration."""

    path: Path
    state: str
    revision: str | None
    head: str
    message: str
    table_counts: dict[str, int]


_REPORT_STATES = {
    _Kind.MISSING: ("missing", "no cache yet; it is created on first use"),
    _Kind.EMPTY: ("empty", "an empty database; it is migrated on first use"),
    _Kind.AT_HEAD: ("ready", "up to date"),
    _Kind.KNOWN: ("outdated", "an earlier revision; it is upgraded on first use"),
    _Kind.UNTRACKED: ("untracked", "tables without a revision; adopted on first use"),
    _Kind.FOREIGN: ("foreign", "a revision this version does not know; it is never modified"),
    _Kind.CORRUPT: ("corrupt", "not a usable SQLite database; moved aside and rebuilt on use"),
    _Kind.UNREADABLE: ("unreadable", "cannot be read"),
}


def inspect_cache(path: Path) -> CacheReport:
    """Describe the cache at ``path`` (revision, state, row counts) without changing it."""
    path = Path(path)
    probe = _probe(path, thorough=False)
    state, message = _REPORT_STATES[probe.kind]
    if probe.detail:
        message = f"{message}: {probe.detail}"
    counts: dict[str, int] = {}
    if probe.kind in (_Kind.AT_HEAD, _Kind.KNOWN, _Kind.UNTRACKED, _Kind.FOREIGN):
        conn = _connect_read_only(path)
        try:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            for name in names:
                counts[name] = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        finally:
            conn.close()
    return CacheReport(path, state, probe.revision, HEAD, message, counts)
