"""SQLAlchemy engines for the cache, with SkillMeat's connection settings.

Every connection runs in WAL mode with foreign keys on and a busy timeout, so several server
processes (one per editor window) can share one cache file.

The driver (``sqlite3``) commits each DDL statement on its own unless told otherwise; the engine
that runs the migrations (``transactional_ddl=True``) starts every transaction with ``BEGIN
IMMEDIATE`` itself, so a whole upgrade commits at once or not at all: an interrupted first start
leaves an empty database, never half of a schema (which would not be recognised as ours).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool, StaticPool

from skillmeat_ls.cache.store import BUSY_TIMEOUT_MS

_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA temp_store=MEMORY",
)


def _configure_connection(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _configure_file_connection(dbapi_connection: sqlite3.Connection, record: Any) -> None:
    _configure_connection(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _driver_transactions_off(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(path: Path, *, transactional_ddl: bool = False) -> Engine:
    """An engine on the SQLite file at ``path`` (no pooling: connections are cheap and short).

    ``transactional_ddl``: each transaction is one SQLite transaction, DDL included, holding the
    write lock from its start (for the migrations).
    """
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=NullPool,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _configure_file_connection)
    if transactional_ddl:
        event.listen(engine, "connect", _driver_transactions_off)
        event.listen(engine, "begin", _begin_immediate)
    return engine


def make_memory_engine() -> Engine:
    """A private in-memory database: the fallback when the cache file cannot be used."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    event.listen(engine, "connect", _configure_connection)
    return engine
