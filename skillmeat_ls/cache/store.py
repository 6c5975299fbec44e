"""Opening the cache: bring it to head with Alembic before anything touches a table.

:func:`initialize_cache` ends at head from every starting state, and never loses a row:

* no file, a zero-byte file, or a file with no tables: a full upgrade;
* an unversioned database (no ``alembic_version``, or an empty one, which is what SkillMeat's own
  failed initialisation leaves) whose tables and columns are *exactly* those of one of our
  revisions, with no other table: *adopt* it by stamping that revision, then upgrade;
* an earlier revision: upgrade;
* already at head: one read-only query with the ``sqlite3`` module, no Alembic;
* anything else SQLite can read is *foreign*: a revision this code does not know (newer, or
  SkillMeat's), SkillMeat's own ``cache.db`` in any state, any other database. Not a byte is
  written and no file is created next to it (no ``-wal``, ``-shm``, journal or ``NAME.lock``):
  an in-memory cache instead, state ``degraded``, with a message that says why;
* not a SQLite database, or corrupt: moved aside with a timestamp suffix, rebuilt;
* a read-only file or directory: state ``error`` with a clear message, an in-memory cache instead,
  so everything that needs no cache still works.

Which of these a file is comes from :func:`skillmeat_ls.cache.probe.probe`, which reads without
creating anything next to the file. The slow path then holds a file lock, ``NAME.lock`` next to
the database, so concurrent starts serialise; that lock is taken only once the file is known to
be ours (or missing, empty or corrupt), never for a foreign one.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

from skillmeat_ls.cache.probe import Kind, Probe, describe_foreign, probe
from skillmeat_ls.cache.revisions import HEAD
from skillmeat_ls.cache.siblings import timestamped_sibling

# SQLAlchemy and Alembic load only to migrate, to write, or for an in-memory stand-in: a warm
# start (a cache at head, nothing changed) reads through the standard sqlite3 module alone.
if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 120.0
#: How long a connection waits for another process's write lock on the cache file.
BUSY_TIMEOUT_MS = 10_000
#: Values bound per statement (an ``IN`` list, a batch of deletions).
IN_CHUNK = 500


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
    #: The file is not a skillmeat-ls cache (or is at a revision this version does not know): it
    #: was left untouched and ``message`` says why.
    foreign: bool = False

    def as_dict(self) -> dict[str, str | None]:
        return {
            "path": str(self.path),
            "revision": self.revision,
            "head": self.head,
            "state": self.state.value,
            "message": self.message,
        }


def in_chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """``items`` cut into runs of at most :data:`IN_CHUNK`, one statement's worth each."""
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


def under(prefix: str) -> tuple[str, str]:
    """The bounds of the paths below the folder ``prefix`` (``low < path < high``): ``/`` sorts
    right before ``0``, so one range of an index finds them."""
    return prefix + "/", prefix + "0"


class CacheReadError(Exception):
    """A read of the cache failed (locked past the busy timeout, damaged, gone)."""


@dataclass
class Cache:
    """An open cache at head (on the file, or in memory) and how it got there.

    :meth:`rows` reads; :attr:`engine` (SQLAlchemy, created on first use for a file) writes."""

    status: CacheStatus
    _engine: Engine | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from skillmeat_ls.cache.engine import make_engine

            self._engine = make_engine(self.status.path)
        return self._engine

    def rows(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read-only query. On the file, through the ``sqlite3`` module (WAL
        readers never wait for a writer); in memory, through the engine that holds the data."""
        try:
            if self._engine is None and not self.status.in_memory:
                connection = sqlite3.connect(self.status.path, timeout=BUSY_TIMEOUT_MS / 1000)
                with closing(connection):
                    connection.execute("PRAGMA query_only=ON")
                    return connection.execute(sql, parameters).fetchall()
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(sql, parameters)
                return list(cursor.fetchall())
            finally:
                raw.close()
        except (sqlite3.Error, OSError) as exc:
            raise CacheReadError(str(exc)) from exc

    def rows_in(self, sql: str, values: Iterable[Any]) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` (read-only; its ``{marks}`` stands for the placeholders of an
        ``IN (...)`` list) for each distinct value of ``values``, asked :data:`IN_CHUNK` at a
        time: well inside SQLite's limit on bound parameters."""
        found: list[tuple[Any, ...]] = []
        for chunk in in_chunks(sorted(set(values))):
            found.extend(self.rows(sql.format(marks=", ".join("?" * len(chunk))), chunk))
        return found

    def close(self) -> None:
        if not self._closed:
            if self._engine is not None:
                self._engine.dispose()
            self._closed = True


def _alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, found: Probe) -> str:
    """Stamp (when adopting) and upgrade to head in ``connection``'s transaction."""
    from alembic import command

    from skillmeat_ls.cache.models import Base

    config = _alembic_config(connection)
    action = "upgraded"
    if found.kind is Kind.UNTRACKED:
        assert found.adopt_as is not None
        command.stamp(config, found.adopt_as)
        action = f"adopted an untracked database (as {found.adopt_as})"
    elif found.kind in (Kind.MISSING, Kind.EMPTY):
        action = "created"
    elif found.kind is Kind.KNOWN:
        action = f"upgraded from {found.revision}"
        if found.revision == HEAD:
            action = "restored missing tables"
    command.upgrade(config, "head")
    Base.metadata.create_all(connection, checkfirst=True)
    return action


def _move_aside(path: Path) -> Path:
    target = timestamped_sibling(path, "corrupt")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def _memory_cache(
    path: Path, state: CacheState, revision: str | None, message: str, *, foreign: bool = False
) -> Cache:
    from skillmeat_ls.cache.engine import make_memory_engine
    from skillmeat_ls.cache.models import Base

    engine = make_memory_engine()
    Base.metadata.create_all(engine)
    if str(path) in message:
        log.warning("cache: %s", message)
    else:
        log.warning("cache %s: %s", path, message)
    status = CacheStatus(path, state, revision, HEAD, message, in_memory=True, foreign=foreign)
    return Cache(status, engine)


def _ready(path: Path, message: str, moved_aside: Path | None = None) -> Cache:
    status = CacheStatus(path, CacheState.READY, HEAD, HEAD, message, moved_aside=moved_aside)
    return Cache(status)


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
    found = probe(path)
    if found.kind is Kind.AT_HEAD and _read_only_problem(path) is None:
        return _ready(path, "up to date")
    if found.kind is Kind.FOREIGN:
        return _foreign(path, found)
    if found.kind is Kind.UNREADABLE:
        return _unreadable(path, found)
    problem = _read_only_problem(path)
    if problem is not None:
        return _memory_cache(path, CacheState.ERROR, found.revision, problem + "; using memory")
    from sqlalchemy.exc import SQLAlchemyError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _initialize_locked(path)
    except (OSError, SQLAlchemyError, Timeout) as exc:
        return _memory_cache(
            path, CacheState.ERROR, found.revision, f"cannot write the cache: {exc}; using memory"
        )


def _foreign(path: Path, found: Probe) -> Cache:
    message = f"{describe_foreign(path, found)}; left untouched, using an in-memory cache"
    return _memory_cache(path, CacheState.DEGRADED, found.revision, message, foreign=True)


def _unreadable(path: Path, found: Probe) -> Cache:
    message = f"cannot read {path}: {found.detail}; using memory"
    return _memory_cache(path, CacheState.ERROR, found.revision, message)


def _initialize_locked(path: Path) -> Cache:
    with FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S):
        # Another process may have done the work while this one waited for the lock.
        found = probe(path, thorough=True)
        moved_aside = None
        if found.kind is Kind.AT_HEAD:
            return _ready(path, "up to date")
        if found.kind is Kind.FOREIGN:
            return _foreign(path, found)
        if found.kind is Kind.UNREADABLE:
            return _unreadable(path, found)
        if found.kind is Kind.CORRUPT:
            moved_aside = _move_aside(path)
            log.warning("cache %s was unusable (%s); moved to %s", path, found.detail, moved_aside)
            found = Probe(Kind.MISSING)
        from skillmeat_ls.cache.engine import make_engine

        engine = make_engine(path, transactional_ddl=True)
        try:
            with engine.begin() as connection:  # one transaction: all of it, or nothing
                action = _upgrade(connection, found)
        finally:
            engine.dispose()
        if moved_aside is not None:
            action = f"rebuilt; the unusable file was kept as {moved_aside.name}"
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
    Kind.MISSING: ("missing", "no cache yet; it is created on first use"),
    Kind.EMPTY: ("empty", "an empty database; it is migrated on first use"),
    Kind.AT_HEAD: ("ready", "up to date"),
    Kind.KNOWN: ("outdated", "an earlier revision; it is upgraded on first use"),
    Kind.UNTRACKED: ("untracked", "tables without a revision; adopted on first use"),
    Kind.FOREIGN: ("foreign", "never modified"),
    Kind.CORRUPT: ("corrupt", "not a usable SQLite database; moved aside and rebuilt on use"),
    Kind.UNREADABLE: ("unreadable", "cannot be read"),
}


def inspect_cache(path: Path) -> CacheReport:
    """Describe the cache at ``path`` (revision, state, row counts) without changing it.

    Like :func:`initialize_cache`'s first look, this writes nothing and creates no file next to
    ``path``, whoever the file belongs to.
    """
    path = Path(path)
    found = probe(path, count_rows=True)
    state, message = _REPORT_STATES[found.kind]
    if found.kind is Kind.FOREIGN:
        message = f"{describe_foreign(path, found)}; it is never modified"
    elif found.kind is Kind.UNTRACKED:
        message = f"the tables of {found.adopt_as} without a revision; adopted on first use"
    elif found.kind is Kind.KNOWN and found.revision == HEAD:
        message = "at head with tables missing; they are restored on first use"
    elif found.detail:
        message = f"{message}: {found.detail}"
    return CacheReport(path, state, found.revision, HEAD, message, found.table_counts)
