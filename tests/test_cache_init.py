"""Opening the cache from every starting state ends at head with no row lost (issue: foundation),
and a database that is not ours (SkillMeat's own cache.db above all) is never written."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from skillmeat_ls.cache import CacheState, initialize_cache
from skillmeat_ls.cache.models import Base
from skillmeat_ls.cache.probe import Kind, probe
from skillmeat_ls.cache.revisions import HEAD, REVISION_TABLES, REVISIONS, SCHEMAS
from skillmeat_ls.cache.store import inspect_cache

ALL_TABLES = frozenset().union(*REVISION_TABLES.values())
TRIGGERS = {
    "projects_updated_at",
    "artifacts_updated_at",
    "collections_updated_at",
    "groups_updated_at",
}


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that commits and is closed on leaving (``sqlite3``'s own ``with`` only
    commits), so that no stray connection keeps a -wal alive."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def directory_state(directory: Path) -> dict[str, bytes]:
    """Every file of ``directory`` (names and bytes): a foreign cache's neighbours included."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def tables(path: Path) -> set[str]:
    with connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def triggers(path: Path) -> set[str]:
    with connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}


def versions(path: Path) -> list[str]:
    with connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]


def rows(path: Path, table: str) -> list[tuple]:
    with connect(path) as conn:
        return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def assert_at_head(path: Path) -> None:
    assert tables(path) >= ALL_TABLES
    assert triggers(path) >= TRIGGERS
    assert versions(path) == [HEAD]
    with connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def seed_rows(path: Path, upto: str) -> dict[str, list[tuple]]:
    """Insert a row into every table that exists up to revision ``upto``; return what is there."""
    with connect(path) as conn:
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
    with connect(path) as conn:
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
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = ?", (foreign,))
    conn.commit()
    conn.close()  # the last connection: checkpointed, no -wal left
    before = directory_state(tmp_path)
    cache = initialize_cache(path)
    try:
        assert cache.status.state is CacheState.DEGRADED
        assert cache.status.in_memory
        assert cache.status.foreign
        assert foreign in cache.status.message
        with cache.engine.connect() as conn:  # the fallback works
            conn.exec_driver_sql("SELECT count(*) FROM collections").fetchone()
    finally:
        cache.close()
    assert inspect_cache(path).state == "foreign"
    assert directory_state(tmp_path) == before


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


def test_inspect_creates_no_side_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    initialize_cache(path).close()
    (tmp_path / "cache.db.lock").unlink()
    before = directory_state(tmp_path)
    assert sorted(before) == ["cache.db"]  # WAL mode, cleanly closed: no -wal, no -shm
    assert inspect_cache(path).state == "ready"
    assert directory_state(tmp_path) == before


# --- adopting an unversioned database: only an exact schema of one revision -------------------


def build(path: Path, schema: dict[str, frozenset[str]], version_table: str = "absent") -> None:
    """Tables with exactly these columns (no types, no keys), in WAL mode, cleanly closed.

    ``version_table``: ``absent``, ``empty``, or a revision to stamp.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for table, columns in schema.items():
        conn.execute(f'CREATE TABLE "{table}" ({", ".join(f"{c!r}" for c in sorted(columns))})')
    if version_table != "absent":
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    if version_table not in ("absent", "empty"):
        conn.execute("INSERT INTO alembic_version VALUES (?)", (version_table,))
    conn.close()


def assert_foreign_untouched(directory: Path, path: Path, *phrases: str) -> str:
    """``initialize_cache`` and ``inspect_cache`` leave ``directory`` as it was; the message."""
    before = directory_state(directory)
    report = inspect_cache(path)
    cache = initialize_cache(path)
    try:
        with cache.engine.connect() as conn:  # the in-memory stand-in serves
            conn.exec_driver_sql("SELECT count(*) FROM projects").fetchone()
    finally:
        cache.close()
    assert directory_state(directory) == before
    status = cache.status
    assert (status.state, status.in_memory, status.foreign) == (CacheState.DEGRADED, True, True)
    assert status.message.startswith(f"{path} is not a skillmeat-ls cache (")
    assert status.message.endswith("; left untouched, using an in-memory cache")
    assert report.state == "foreign"
    for phrase in phrases:
        assert phrase in status.message
        assert phrase in report.message
    return status.message


@pytest.mark.parametrize("version_table", ["absent", "empty"])
@pytest.mark.parametrize("revision", REVISIONS)
def test_exact_schema_of_a_revision_is_adopted(
    tmp_path: Path, revision: str, version_table: str
) -> None:
    path = tmp_path / "cache.db"
    build(path, SCHEMAS[revision], version_table)
    with connect(path) as conn:
        conn.execute("INSERT INTO cache_metadata (key, value) VALUES ('k', 'v')")
    assert probe(path).adopt_as == revision
    assert inspect_cache(path).state == "untracked"
    cache = initialize_cache(path)
    cache.close()
    assert cache.status.state is CacheState.READY
    assert cache.status.message == f"adopted an untracked database (as {revision})"
    assert versions(path) == [HEAD]
    assert tables(path) >= ALL_TABLES
    with connect(path) as conn:
        assert conn.execute("SELECT key, value FROM cache_metadata").fetchall() == [("k", "v")]


@pytest.mark.parametrize("version_table", ["absent", "empty"])
@pytest.mark.parametrize("revision", REVISIONS)
def test_our_tables_plus_another_are_foreign(
    tmp_path: Path, revision: str, version_table: str
) -> None:
    path = tmp_path / "cache.db"
    build(path, {**SCHEMAS[revision], "notes": frozenset({"id", "body"})}, version_table)
    message = assert_foreign_untouched(tmp_path, path, "it also has notes", revision)
    assert "SkillMeat" not in message


@pytest.mark.parametrize("change", ["missing", "extra"])
@pytest.mark.parametrize("table", sorted(ALL_TABLES))
def test_a_column_missing_or_extra_is_foreign(tmp_path: Path, table: str, change: str) -> None:
    revision = next(r for r in REVISIONS if table in SCHEMAS[r])
    schema = dict(SCHEMAS[revision])
    column = sorted(schema[table])[0]
    if change == "missing":
        schema[table] = schema[table] - {column}
        phrase = f"{table} lacks {column}"
    else:
        schema[table] = schema[table] | {"owner_id"}
        phrase = f"{table} has other columns owner_id"
    path = tmp_path / "cache.db"
    build(path, schema)
    assert_foreign_untouched(tmp_path, path, phrase)


def test_some_of_a_revisions_tables_are_foreign(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    schema = dict(SCHEMAS["0002_collections_schema"])
    del schema["groups"]
    build(path, schema, "empty")
    assert_foreign_untouched(tmp_path, path, "it has no groups")


def test_a_view_or_a_strange_alembic_version_is_foreign(tmp_path: Path) -> None:
    path = tmp_path / "view.db"
    build(path, SCHEMAS[HEAD])
    with connect(path) as conn:
        conn.execute("CREATE VIEW recent AS SELECT * FROM projects")
    assert probe(path).kind is Kind.FOREIGN
    other = tmp_path / "version.db"
    build(other, SCHEMAS[HEAD])
    with connect(other) as conn:
        conn.execute("CREATE TABLE alembic_version (rev TEXT)")
    assert_foreign_untouched(tmp_path, path, "views")
    assert_foreign_untouched(tmp_path, other, "no version_num column")


def test_stamped_ours_but_holding_other_tables_is_foreign(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    build(path, {**SCHEMAS[HEAD], "notes": frozenset({"id"})}, HEAD)
    assert_foreign_untouched(tmp_path, path, f"stamped {HEAD!r}", "notes")


# --- SkillMeat's own cache.db, imitated ----------------------------------------------------------

SKILLMEAT_HEAD = "20260801_0001_rls_tenant_guc_repoint_compound"
SKILLMEAT_SCHEMA = {
    "projects": [
        "id", "name", "path", "description", "created_at", "updated_at", "last_fetched", "status",
        "error_message", "deleted_at", "owner_id", "visibility",
    ],
    "artifacts": [
        "id", "uuid", "project_id", "name", "type", "source", "deployed_version",
        "upstream_version", "is_outdated", "local_modified", "content_hash", "created_at",
        "updated_at", "owner_id",
    ],
    "cache_metadata": ["key", "value", "updated_at"],
    "collections": [
        "id", "name", "description", "created_by", "slug", "collection_type", "context_category",
        "created_at", "updated_at",
    ],
    "groups": [
        "id", "collection_id", "name", "description", "tags_json", "color", "icon", "position",
        "created_at", "updated_at",
    ],
    "collection_artifacts": [
        "collection_id", "artifact_uuid", "added_at", "description", "version", "synced_at",
    ],
    "group_artifacts": ["group_id", "artifact_uuid", "position", "added_at"],
    "marketplace": ["id", "name", "url"],
    "artifact_versions": ["id", "artifact_uuid", "version", "content_hash"],
    "tags": ["id", "name", "slug"],
    "artifact_tags": ["artifact_uuid", "tag_id"],
    "deployment_sets": ["id", "name"],
}  # fmt: skip


def _skillmeat_schema_sql(tables: list[str]) -> list[str]:
    return [f"CREATE TABLE {t} ({', '.join(SKILLMEAT_SCHEMA[t])})" for t in tables]


_SKILLMEAT_DDL = [
    *_skillmeat_schema_sql(list(SKILLMEAT_SCHEMA)),
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
    f"INSERT INTO alembic_version VALUES ('{SKILLMEAT_HEAD}')",
    "INSERT INTO cache_metadata VALUES ('schema_version', '1', '2026-08-01')",
]
_ACTIVITY = ["INSERT INTO projects (id, name, path) VALUES ('p1', 'proj', '/w/proj')"]
_OUR_0003 = [
    f"CREATE TABLE {t} ({', '.join(sorted(SCHEMAS[HEAD][t]))})"
    for t in sorted(REVISION_TABLES["0003_index_tables"])
]

#: (committed to the main file, then left in the -wal or committed too)
SKILLMEAT_STATES: dict[str, tuple[list[str], list[str]]] = {
    "at-its-head": (_SKILLMEAT_DDL, _ACTIVITY),
    "at-its-head-all-in-wal": ([], [*_SKILLMEAT_DDL, *_ACTIVITY]),
    "empty-alembic_version": (_SKILLMEAT_DDL, ["DELETE FROM alembic_version"]),
    "unknown-revision": (
        _SKILLMEAT_DDL,
        ["UPDATE alembic_version SET version_num = '20260108_1700_add_mcp_to_type_constraints'"],
    ),
    "alembic_version-dropped": (_SKILLMEAT_DDL, ["DROP TABLE alembic_version"]),
    # what an earlier skillmeat-ls did to it: our 0003 tables, stamped with our head
    "stamped-by-skillmeat-ls": (
        [*_SKILLMEAT_DDL, *_OUR_0003, f"UPDATE alembic_version SET version_num = '{HEAD}'"],
        _ACTIVITY,
    ),
    "old-base-tables-only": (
        _skillmeat_schema_sql(["projects", "artifacts", "cache_metadata"]),
        [],
    ),
}

# Run as its own process: "killed" ends it with its connection open, as a crash or a running
# SkillMeat would, leaving the -wal (with the last statements) and the -shm next to the file.
_BUILD_SCRIPT = """
import json, os, sqlite3, sys
path, first, then, killed = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
for statement in first:
    conn.execute(statement)
conn.close()
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint=0")
for statement in then:
    conn.execute(statement)
if killed == "killed":
    os._exit(0)
conn.close()
"""


def build_skillmeat_cache(path: Path, state: str, ending: str) -> None:
    first, then = SKILLMEAT_STATES[state]
    script = [sys.executable, "-c", _BUILD_SCRIPT, str(path), json.dumps(first), json.dumps(then)]
    subprocess.run([*script, ending], check=True)
    side_files = {p.name for p in path.parent.iterdir()} - {path.name}
    if ending == "killed" and then:
        assert side_files == {"cache.db-wal", "cache.db-shm"}
    else:
        assert side_files == set()


@pytest.mark.parametrize("ending", ["closed", "killed"])
@pytest.mark.parametrize("state", sorted(SKILLMEAT_STATES))
def test_skillmeat_cache_is_never_touched(tmp_path: Path, state: str, ending: str) -> None:
    path = tmp_path / "cache.db"
    build_skillmeat_cache(path, state, ending)
    message = assert_foreign_untouched(tmp_path, path, "it looks like SkillMeat's own cache.db")
    if state == "stamped-by-skillmeat-ls":
        assert f"stamped {HEAD!r} by an earlier skillmeat-ls" in message
    elif state in ("at-its-head", "at-its-head-all-in-wal"):
        assert SKILLMEAT_HEAD in message
    if state != "old-base-tables-only":
        assert "marketplace" in message
    # a second start (a server restart) is just as harmless
    assert_foreign_untouched(tmp_path, path)


def test_cli_on_skillmeat_cache(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    build_skillmeat_cache(path, "at-its-head", "killed")
    before = directory_state(tmp_path)
    env = {**os.environ, "SKILLMEAT_HOME": str(tmp_path / "home")}
    cli = [sys.executable, "-m", "skillmeat_ls", "--cache", str(path), "cache"]
    status = subprocess.run([*cli, "status"], capture_output=True, text=True, env=env)
    init = subprocess.run([*cli, "init"], capture_output=True, text=True, env=env)
    assert directory_state(tmp_path) == before
    assert "state:    foreign" in status.stdout
    assert f"{path} is not a skillmeat-ls cache" in status.stdout
    assert init.returncode == 2 and init.stdout == ""
    assert f"{path} is not a skillmeat-ls cache" in init.stderr
    assert "it looks like SkillMeat's own cache.db" in init.stdout + init.stderr


# --- our own cache with a -wal pending: still ours ----------------------------------------------


# Copies the reference cache (at head) into PATH and dies with its connection open. "main": the
# schema is checkpointed into the main file first and only a row is left in the -wal; "wal":
# nothing is checkpointed, so the main file alone shows no table at all.
_KILLED_SERVER_SCRIPT = """
import os, sqlite3, sys
reference, path, where, head = sys.argv[1:]
ddl = [row[0] for row in sqlite3.connect(reference).execute(
    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA wal_autocheckpoint=0")
for statement in ddl:
    conn.execute(statement)
conn.execute("INSERT INTO alembic_version VALUES (?)", (head,))
if where == "main":
    conn.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint=0")
conn.execute("INSERT INTO cache_metadata (key, value) VALUES ('k', 'v')")
os._exit(0)
"""


@pytest.mark.parametrize("where", ["main", "wal"])
def test_own_cache_left_by_a_killed_process(tmp_path: Path, where: str) -> None:
    """A server killed with its connection open leaves a -wal and a -shm; the next start reads
    through them (directly when the main file is ours, else from a private copy)."""
    reference = tmp_path / "reference.db"
    initialize_cache(reference).close()
    path = tmp_path / "killed" / "cache.db"
    path.parent.mkdir()
    script = [sys.executable, "-c", _KILLED_SERVER_SCRIPT, str(reference), str(path), where, HEAD]
    subprocess.run(script, check=True)
    assert {p.name for p in path.parent.iterdir()} == {"cache.db", "cache.db-wal", "cache.db-shm"}
    assert probe(path).kind is Kind.AT_HEAD
    cache = initialize_cache(path)
    cache.close()
    assert (cache.status.state, cache.status.message) == (CacheState.READY, "up to date")
    assert [r[:2] for r in rows(path, "cache_metadata")] == [("k", "v")]


def test_interrupted_first_start_leaves_an_empty_database(tmp_path: Path) -> None:
    """The whole upgrade is one transaction: killed before it commits, it leaves no table (which
    would make a half-built schema, no longer recognised as ours)."""
    path = tmp_path / "cache.db"
    script = (
        "import os; from pathlib import Path; import skillmeat_ls.cache.store as store;"
        "import skillmeat_ls.cache.models as models;"
        "models.Base.metadata.create_all = lambda *a, **k: os._exit(3);"
        f"store.initialize_cache(Path({str(path)!r}))"
    )
    assert subprocess.run([sys.executable, "-c", script]).returncode == 3
    assert probe(path).kind is Kind.EMPTY
    cache = initialize_cache(path)
    cache.close()
    assert cache.status.state is CacheState.READY
    assert_at_head(path)


# --- property: nothing but an exact revision schema is ever adopted -----------------------------

_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda name: not name.startswith("sqlite_") and name != "alembic_version"
)
_OUR_COLUMNS = sorted(set().union(*SCHEMAS[HEAD].values()))


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, frozenset[str]]:
    """A revision's schema with a few random changes (often none, sometimes cancelling out)."""
    schema = dict(SCHEMAS[draw(st.sampled_from(REVISIONS))])
    for _ in range(draw(st.integers(0, 3))):
        change = draw(st.sampled_from(["drop-table", "add-table", "drop-column", "add-column"]))
        if change == "drop-table" and schema:
            del schema[draw(st.sampled_from(sorted(schema)))]
        elif change == "add-table":
            name = draw(st.one_of(st.sampled_from(sorted(ALL_TABLES)), _NAMES))
            default = SCHEMAS[HEAD].get(name) or frozenset({"id"})
            schema[name] = draw(st.sampled_from([default, default | {"extra"}]))
        elif change == "drop-column" and schema:
            table = draw(st.sampled_from(sorted(schema)))
            if len(schema[table]) > 1:
                schema[table] = schema[table] - {draw(st.sampled_from(sorted(schema[table])))}
        elif change == "add-column" and schema:
            table = draw(st.sampled_from(sorted(schema)))
            column = draw(st.one_of(st.sampled_from(_OUR_COLUMNS), _NAMES))
            schema[table] = schema[table] | {column}
    return schema


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=schemas(), version_table=st.sampled_from(["absent", "empty"]))
def test_only_an_exact_revision_schema_is_adopted(
    schema: dict[str, frozenset[str]], version_table: str
) -> None:
    matches = [r for r in REVISIONS if SCHEMAS[r] == schema]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cache.db"
        build(path, schema, version_table)
        found = probe(path)
        if not schema:
            assert found.kind is Kind.EMPTY
        elif matches:
            assert (found.kind, found.adopt_as) == (Kind.UNTRACKED, matches[0])
        else:
            assert found.kind is Kind.FOREIGN
            assert_foreign_untouched(Path(directory), path)
