"""The models and the Alembic history describe one schema; the root alembic.ini works."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from skillmeat_ls.cache import initialize_cache
from skillmeat_ls.cache.models import Base
from skillmeat_ls.cache.revisions import HEAD, REVISION_TABLES, REVISIONS, SCHEMAS
from skillmeat_ls.cache.store import _alembic_config

ROOT = Path(__file__).resolve().parents[1]


def test_models_match_migrations(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    initialize_cache(path).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrations_alone_build_every_model_table(tmp_path: Path) -> None:
    """Upgrading without ``create_all`` already yields every table, trigger and index."""
    from alembic import command

    path = tmp_path / "cache.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    engine.dispose()
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert set(Base.metadata.tables) <= names
    model_indexes = {i.name for t in Base.metadata.tables.values() for i in t.indexes}
    assert model_indexes <= indexes


def test_revision_constants_match_script_directory() -> None:
    script = ScriptDirectory(str(ROOT / "skillmeat_ls" / "cache" / "migrations"))
    assert script.get_current_head() == HEAD
    chain = [rev.revision for rev in script.walk_revisions("base", "heads")]
    assert list(reversed(chain)) == list(REVISIONS)
    assert set(REVISION_TABLES) == set(REVISIONS)
    assert frozenset().union(*REVISION_TABLES.values()) == set(Base.metadata.tables)


def _schema(path: Path) -> dict[str, frozenset[str]]:
    with sqlite3.connect(path) as conn:
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0] != "alembic_version"
        ]
        schema = {
            name: frozenset(r[1] for r in conn.execute(f"PRAGMA table_info({name})"))
            for name in names
        }
    conn.close()
    return schema


def test_schema_constants_match_each_revision(tmp_path: Path) -> None:
    """``SCHEMAS`` (what an unversioned database must be exactly, to be adopted) is what the
    migrations build at every revision, and what ``create_all()`` of the models builds at head."""
    from alembic import command

    for revision in REVISIONS:
        path = tmp_path / f"{revision}.db"
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), revision)
        engine.dispose()
        assert _schema(path) == SCHEMAS[revision], revision
    models = tmp_path / "models.db"
    engine = create_engine(f"sqlite:///{models}")
    Base.metadata.create_all(engine)
    engine.dispose()
    assert _schema(models) == SCHEMAS[HEAD]


def test_cascades_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    initialize_cache(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("INSERT INTO collections (id, name) VALUES ('c1', 'default')")
    conn.execute("INSERT INTO groups (id, collection_id, name) VALUES ('g1', 'c1', 'ui')")
    conn.execute("INSERT INTO group_artifacts (group_id, artifact_id) VALUES ('g1', 'skill:x')")
    conn.execute(
        "INSERT INTO collection_artifacts (collection_id, artifact_id) VALUES ('c1', 'skill:x')"
    )
    conn.commit()
    for bad in (
        "INSERT INTO collections (id, name) VALUES ('c2', '')",
        "INSERT INTO groups (id, collection_id, name, position) VALUES ('g2', 'c1', 'x', -1)",
        "INSERT INTO groups (id, collection_id, name) VALUES ('g3', 'c1', 'ui')",
        "INSERT INTO groups (id, collection_id, name) VALUES ('g4', 'nope', 'y')",
    ):
        try:
            conn.execute(bad)
        except sqlite3.IntegrityError:
            continue
        raise AssertionError(f"accepted: {bad}")
    before = conn.execute("SELECT updated_at FROM collections").fetchone()[0]
    conn.execute("UPDATE collections SET updated_at = '2000-01-01 00:00:00'")
    assert conn.execute("SELECT updated_at FROM collections").fetchone()[0] != "2000-01-01 00:00:00"
    assert before
    conn.execute("DELETE FROM collections WHERE id = 'c1'")
    conn.commit()
    for table in ("groups", "group_artifacts", "collection_artifacts"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    conn.close()


def test_alembic_command_with_root_ini(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    alembic = [
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(ROOT / "alembic.ini"),
        "-x",
        f"cache={path}",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [*alembic, "upgrade", "head"], check=True, cwd=ROOT, env=env, capture_output=True
    )
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    subprocess.run(
        [*alembic, "downgrade", "base"], check=True, cwd=ROOT, env=env, capture_output=True
    )
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names <= {"alembic_version"}
