"""Opening the cache from every starting state ends at head with no row lost (issue: foundation)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from skillmeat_ls.cache import CacheState, initialize_cache
from skillmeat_ls.cache.models import Base
from skillmeat_ls.cache.revisions import HEAD, REVISION_TABLES, REVISIONS
from skillmeat_ls.cache.store import inspect_cache

ALL_TABLES = frozenset().union(*REVISION_TABLES.values())
TRIGGERS = {
    "projects_updated_at",
    "artifacts_updated_at",
    "collections_updated_at",
    "groups_updated_at",
}


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def triggers(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}


def versions(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]


def rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def assert_at_head(path: Path) -> None:
    assert tables(path) >= ALL_TABLES
    assert triggers(path) >= TRIGGERS
    assert versions(path) == [HEAD]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def seed_rows(path: Path, upto: str) -> dict[str, list[tuple]]:
    """Insert a row into every table that exists up to revision ``upto``; return what is there."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("INSERT INTO projects (id, name, path) VALUES ('p1', 'proj', '/w/proj')")
        conn.execute(
            "INSERT INTO artifacts (id, project_id, name, type) "
            "VALUES ('skill:canvas', 'p1', 'canvas', 'skill')"
        )
        conn.execute("INSERT INTO cache_metadata (key, value) VALUES ('schema_version', '1.0.0')")
        if REVISIONS.index(upto) >= 1:
            conn.execute("INSERT INTO collections (id, name) VALUES ('c1', 'default')")
            conn.execute("INSERT INTO groups (id, collection_id, name) VALUES ('g1', 'c1', 'ui')")
            conn.execute(
                "INSERT INTO collection_artifacts (collection_id, artifact_id) "
                "VALUES ('c1', 'skill:canvas')"
            )
            conn.execute(
                "INSERT INTO group_artifacts (group_id, artifact_id) VALUES ('g1', 'skill:canvas')"
            )
        if REVISIONS.index(upto) >= 2:
            conn.execute(
                "INSERT INTO collection_sources (collection_id, root_path) VALUES ('c1', '/h/c')"
            )
    present = tables(path) - {"alembic_version"}
    return {table: rows(path, table) for table in present}


def assert_rows_kept(path: Path, before: dict[str, list[tuple]]) -> None:
    for table, expected in before.items():
        assert rows(path, table) == expected, table


def upgrade_to(path: Path, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from skillmeat_ls.cache.engine import make_engine

    engine = make_engine(path)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option(
            "script_location",
            str(Path(initialize_cache.__code__.co_filename).parent / "migrations"),
        )
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def create_all_of(path: Path, table_names: frozenset[str]) -> None:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(
        engine, tables=[t for name, t in Base.metadata.tables.items() if name in table_names]
    )
    engine.dispose()


# (a) no file
def test_no_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.db"
    cache = initialize_cache(path)
    cache.close()
    assert cache.status.state is CacheState.READY
    assert cache.status.message == "created"
    assert_at_head(path)


# (b) zero-byte file
def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    path.touch()
    cache = initialize_cache(path)
    cache.close()
    assert cache.status.state is CacheState.READY
    assert_at_head(path)


# (c) create_all() of the base models, with data, no alembic_version
@pytest.mark.parametrize("upto", REVISIONS)
def test_untracked_create_all(tmp_path: Path, upto: str) -> None:
    path = tmp_path / "cache.db"
    wanted = frozenset().union(
        *(REVISION_TABLES[r] for r in REVISIONS[: REVISIONS.index(upto) + 1])
    )
    create_all_of(path, wanted)
    before = seed_rows(path, upto)
    assert "alembic_version" not in tables(path)
    cache = initialize_cache(path)
    cache.close()
    assert cache.status.state is CacheState.READY, cache.status.message
    assert "adopted" in cache.status.message
    assert_at_head(path)
    assert_rows_kept(path, before)


# (d) the same with an empty alembic_version table (what SkillMeat's failed init leaves)
def test_untracked_with_empty_alembic_version(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    create_all_of(path, REVISION_TABLES[REVISIONS[0]])
    before = seed_rows(path, REVISIONS[0])
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    cache = initialize_cache(path)
    cache.close()
    assert cache.status.state is CacheState.READY
    assert_at_head(path)
    assert_rows_kept(path, before)


# (e) each earlier revision, with rows
@pytest.mark.parametrize("revision", REVISIONS[:-1])
def test_earlier_revision(tmp_path: Path, revision: str) -> None:
    path = tmp_path / "cache.db"
    upgrade_to(path, revision)
    before = seed_rows(path, revision)
    cache = initialize_cache(path)
    cache.close()
    assert cache.status.message == f"upgraded from {revision}"
    assert_at_head(path)
    assert_rows_kept(path, before)


# (f) already at head: a no-op that does not import Alembic
def test_at_head_is_a_noop_without_alembic(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    initialize_cache(path).close()
    before = seed_rows(path, HEAD)
    script = (
        "import sys; from pathlib import Path;"
        "from skillmeat_ls.cache import initialize_cache;"
        f"c = initialize_cache(Path({str(path)!r})); c.close();"
        "print(c.status.state.value, c.status.message, 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ready", "up", "to", "date", "False"]
    assert_rows_kept(path, before)


# (g) a revision this code does not know: not a byte written, in-memory fallback
@pytest.mark.parametrize("foreign", ["9999_from_the_future", "20260108_1700_add_mcp_to_type"])
def test_foreign_revision_untouched(tmp_path: Path, foreign: str) -> None:
    path = tmp_path / "cache.db"
    initialize_cache(path).close()
    seed_rows(path, HEAD)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (foreign,))
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    snapshot = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    cache = initialize_cache(path)
    try:
        assert cache.status.state is CacheState.DEGRADED
        assert cache.status.in_memory
        assert foreign in cache.status.message
        with cache.engine.connect() as conn:  # the fallback works
            conn.exec_driver_sql("SELECT count(*) FROM collections").fetchone()
    finally:
        cache.close()
    after = {
        p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file() and p.name in snapshot
    }
    assert after == snapshot


# (h) not a database / corrupt: moved aside, kept, rebuilt
@pytest.mark.parametrize(
    "content",
    [b"this is not a database at all\n" * 10, b"SQLite format 3\x00" + b"\xff" * 4000],
)
def test_corrupt_file_moved_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "cache.db"
    path.write_bytes(content)
    cache = initialize_cache(path)
    cache.close()
    assert cache.status.state is CacheState.READY
    assert cache.status.moved_aside is not None
    assert cache.status.moved_aside.read_bytes() == content
    assert cache.status.moved_aside.name.startswith("cache.db.corrupt-")
    assert "rebuilt" in cache.status.message
    assert_at_head(path)


# (i) read-only directory or file: a clear error and an in-memory cache
@contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """Make ``directory`` read-only for this process: a read-only bind mount when running as
    root (root ignores permission bits), else permission bits."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    target = str(directory)
    bound = subprocess.run(["mount", "--bind", target, target], capture_output=True)
    if bound.returncode != 0:
        pytest.skip(f"running as root and cannot bind-mount read-only: {bound.stderr!r}")
    try:
        remount = subprocess.run(
            ["mount", "-o", "remount,ro,bind", target], capture_output=True, check=False
        )
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr!r}")
        yield
    finally:
        subprocess.run(["umount", target], check=True)


@pytest.mark.parametrize("what", ["directory", "file"])
def test_read_only(tmp_path: Path, what: str) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "cache.db"
    if what == "file":
        create_all_of(path, REVISION_TABLES[REVISIONS[0]])  # needs an upgrade, which must fail
        path.chmod(0o444)
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    with read_only(directory):
        cache = initialize_cache(path)
        try:
            with cache.engine.connect() as conn:  # the in-memory stand-in serves
                conn.exec_driver_sql("SELECT count(*) FROM collections").fetchone()
        finally:
            cache.close()
    assert cache.status.state is CacheState.ERROR
    assert cache.status.in_memory
    expected = "read-only" if what == "file" else "not writable"
    assert expected in cache.status.message
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_cache_under_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    cache = initialize_cache(blocker / "cache.db")
    cache.close()
    assert cache.status.state is CacheState.ERROR
    assert "cannot write the cache" in cache.status.message
    assert blocker.read_text() == "a file, not a directory"


CONCURRENT_SCRIPT = """
import sys
from pathlib import Path
from skillmeat_ls.cache import initialize_cache
cache = initialize_cache(Path(sys.argv[1]))
cache.close()
print(cache.status.state.value)
"""


def test_eight_concurrent_starts(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "cache.db"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_SCRIPT, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in results]
    assert [out.strip() for out, _ in results] == ["ready"] * 8
    assert versions(path) == [HEAD]
    assert_at_head(path)


def test_inspect_does_not_write(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    assert inspect_cache(path).state == "missing"
    assert not path.exists()
    initialize_cache(path).close()
    seed_rows(path, HEAD)
    report = inspect_cache(path)
    assert report.state == "ready"
    assert report.revision == HEAD
    assert report.table_counts["projects"] == 1
    assert report.table_counts["collections"] == 1
