"""The part of doctor that runs inside the installed SkillMeat's interpreter.

Run as ``python -I skillmeat_side.py COMMAND OUT`` by
:func:`skillmeat_ls.doctor.interpreter.run_side`, in SkillMeat's interpreter and not ours: it
imports the standard library alone at import time and nothing from ``skillmeat_ls`` (which that
interpreter does not have); SkillMeat, SQLAlchemy and Alembic are imported inside the commands.
SkillMeat is imported as its CLI imports it (``skillmeat.core`` first: ``skillmeat.storage``
imports it back). The commands:

* ``inspect``: the facts only SkillMeat knows (its Alembic heads and revisions, its models' tables
  and columns) and, given a private copy of the user's file, a rehearsal of its own
  ``CacheManager.initialize_cache()`` on that copy;
* ``rebuild``: ``initialize_cache()`` on a fresh file, then every row of the old file copied in;
* ``verify``: ``initialize_cache()`` on the rebuilt file, and a query of every model table.

:func:`quote` and :func:`table_names` are shared with
:mod:`skillmeat_ls.doctor.structure`: they live here because this file cannot import them.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import sys
import traceback
from pathlib import Path
from typing import Any


def quote(name: str) -> str:
    """``name`` as an SQLite identifier."""
    return '"' + name.replace('"', '""') + '"'


def table_names(conn: sqlite3.Connection) -> list[str]:
    """The tables of ``conn``'s database, by name, without SQLite's own."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]


class _Captured(logging.Handler):
    """SkillMeat logs why ``initialize_cache()`` failed instead of raising: keep the message."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _models() -> Any:
    import skillmeat.core  # noqa: F401
    from skillmeat.cache import models

    return models


def _dispose(manager: Any) -> None:
    import gc

    for holder in (manager, getattr(manager, "repository", None)):
        engine = getattr(holder, "engine", None)
        if engine is not None:
            engine.dispose()
    gc.collect()


def _versions(path: str) -> list[str] | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone():
            return None
        return sorted(str(r[0]) for r in conn.execute("SELECT version_num FROM alembic_version"))
    finally:
        conn.close()


def _initialize(path: str, captured: _Captured) -> dict[str, Any]:
    """SkillMeat's ``CacheManager(path).initialize_cache()``, as SkillMeat starts."""
    from skillmeat.cache.manager import CacheManager

    captured.messages.clear()
    try:
        manager = CacheManager(path)
    except Exception as exc:  # its repository could not even create its tables
        return {
            "ok": False,
            "error": _first_line(f"CacheManager() raised {type(exc).__name__}: {exc}"),
        }
    try:
        ok = bool(manager.initialize_cache())
    finally:
        _dispose(manager)
    error = next((m for m in captured.messages if "initialize" in m), None)
    if error is None and captured.messages:
        error = captured.messages[0]
    if ok or not error:
        return {"ok": ok, "error": None}
    return {"ok": ok, "error": _first_line(error.replace("Failed to initialize cache: ", ""))}


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _query_all(path: str) -> dict[str, str]:
    """Every model table queried as SkillMeat's ORM queries it (every column): the failures."""
    import warnings

    from sqlalchemy import create_engine, select

    models = _models()
    engine = create_engine(f"sqlite:///{path}")
    failing = {}
    try:
        with warnings.catch_warnings(), engine.connect() as conn:
            warnings.simplefilter("ignore")
            for table in models.Base.metadata.sorted_tables:
                try:
                    conn.execute(select(table).limit(1)).fetchall()
                except Exception as exc:
                    orig = getattr(exc, "orig", exc)
                    failing[table.name] = _first_line(str(orig))
    finally:
        engine.dispose()
    return failing


def _inspect(request: dict[str, Any], captured: _Captured) -> dict[str, Any]:
    import importlib.metadata

    from alembic.script import ScriptDirectory

    models = _models()
    from skillmeat.cache.migrations import get_alembic_config

    scratch = Path(request["scratch"])
    script = ScriptDirectory.from_config(get_alembic_config(str(scratch / "facts.db")))
    answer: dict[str, Any] = {
        "version": importlib.metadata.version("skillmeat"),
        "heads": list(script.get_heads()),
        "revisions": sorted(r.revision for r in script.walk_revisions()),
        "models": {
            name: [c.name for c in table.columns]
            for name, table in models.Base.metadata.tables.items()
        },
    }
    copy = request.get("rehearse")
    if copy:
        before = _versions_safe(copy)
        runs = [_initialize(copy, captured) for _ in range(2)]
        after = _versions_safe(copy)
        answer["rehearsal"] = {
            "runs": runs,
            "failing": _query_all(copy) if runs[-1]["ok"] else {},
            "before": before,
            "after": f"stamped {', '.join(after)}" if after else None,
            "restamped": bool(before) and after != before,
        }
    return answer


def _versions_safe(path: str) -> list[str] | None:
    try:
        return _versions(path)
    except sqlite3.Error:
        return None


def _default(column: Any, dialect: Any) -> Any:
    """The value SkillMeat's model gives ``column`` when an insert leaves it out."""
    default = column.default
    if default.is_scalar:
        value = default.arg
    elif default.is_callable:
        value = default.arg(None)
    else:
        raise ValueError(f"{column.table.name}.{column.name}: a default SQL expression")
    process = column.type.bind_processor(dialect)
    return process(value) if process else value


def _identity_rows(engine: Any, models: Any, ids: set[str]) -> tuple[dict[str, str], int]:
    """``artifacts`` uuids for ``"type:name"`` ids, adding a row for each id the old cache had
    no artifact for, the way SkillMeat's import does (``_ensure_artifact_row``: an ``artifacts``
    row of the sentinel project ``collection_artifacts_global``)."""
    from sqlalchemy.orm import Session

    try:
        from skillmeat.api.services.artifact_cache_service import _ensure_artifact_row
    except Exception:  # the API's dependencies are missing: the same steps, spelt out
        _ensure_artifact_row = None
    artifact = models.Artifact
    created = 0
    out: dict[str, str] = {}
    with Session(engine) as session:
        for artifact_id in sorted(ids):
            kind, sep, name = artifact_id.partition(":")
            if not sep or not kind or not name:
                raise ValueError(f"artifact id {artifact_id!r} is not 'type:name'")
            found = session.query(artifact.uuid).filter(artifact.id == artifact_id).first()
            if found is not None:
                out[artifact_id] = found[0]
                continue
            if _ensure_artifact_row is not None:
                out[artifact_id] = _ensure_artifact_row(session, artifact_id, kind, name)
            else:
                out[artifact_id] = _identity_row(session, models, artifact_id, kind, name)
            created += 1
        session.commit()
    return out, created


def _identity_row(session: Any, models: Any, artifact_id: str, kind: str, name: str) -> str:
    import uuid

    sentinel = "collection_artifacts_global"
    if session.get(models.Project, sentinel) is None:
        session.add(
            models.Project(
                id=sentinel,
                name="Collection Artifacts",
                path="~/.skillmeat/collections",
                description="Sentinel project for collection artifacts",
                status="active",
            )
        )
        session.flush()
    value = uuid.uuid4().hex
    session.add(
        models.Artifact(id=artifact_id, uuid=value, project_id=sentinel, name=name, type=kind)
    )
    session.flush()
    return value


def _rebuild(request: dict[str, Any], captured: _Captured) -> dict[str, Any]:
    import warnings

    from sqlalchemy import create_engine

    models = _models()
    target = request["target"]
    made = _initialize(target, captured)
    if not made["ok"]:
        raise RuntimeError(
            f"SkillMeat's initialize_cache() failed on a fresh file: {made.get('error')}"
        )
    answer: dict[str, Any] = {
        "copied": {},
        "skipped": {},
        "filled": {},
        "identity_rows": 0,
        "not_carried": {},
    }
    if not request.get("source"):
        return answer
    user = set(request["user_tables"])
    source = sqlite3.connect(f"file:{request['source']}?mode=ro", uri=True)
    source.row_factory = sqlite3.Row
    old = {
        name: [row[1] for row in source.execute(f"PRAGMA table_info({quote(name)})")]
        for name in table_names(source)
        if name != "alembic_version"
    }
    metadata = models.Base.metadata
    engine = create_engine(f"sqlite:///{target}")
    dialect = engine.dialect
    # SkillMeat's engine turns foreign keys on; so does this copy (rows go in parents first).
    dest = sqlite3.connect(target, isolation_level=None)
    dest.execute("PRAGMA foreign_keys=ON")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's note on a cycle of two new tables
            ordered = list(metadata.sorted_tables)
        for table in ordered:
            if table.name not in old:
                continue
            have = set(old[table.name])
            copied, filled, mapped = [], [], None
            for column in table.columns:
                if column.name in have:
                    copied.append(column.name)
                elif column.name == "artifact_uuid" and "artifact_id" in have:
                    mapped = column.name
                elif column.default is not None and not column.default.is_sequence:
                    filled.append(column)
                elif not (
                    column.server_default is not None
                    or column.nullable
                    or (column.primary_key and column.type.python_type is int)
                ):
                    raise RuntimeError(
                        f"{table.name}.{column.name} is required by SkillMeat's models, has no "
                        "default, and the old cache has no such column"
                    )
            rows = source.execute(f"SELECT * FROM {quote(table.name)}").fetchall()
            uuids: dict[str, str] = {}
            if mapped and rows:
                # as SkillMeat's migrations of Feb. 2026 did: artifact_id -> artifacts.uuid
                uuids, created = _identity_rows(
                    engine, models, {str(r["artifact_id"]) for r in rows}
                )
                answer["identity_rows"] += created
            columns = copied + ([mapped] if mapped else []) + [c.name for c in filled]
            if filled and rows:
                answer["filled"][table.name] = [c.name for c in filled]
            sql = (
                f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            values = [
                tuple(row[c] for c in copied)
                + ((uuids[str(row["artifact_id"])],) if mapped else ())
                + tuple(_default(c, dialect) for c in filled)
                for row in rows
            ]
            skipped = 0
            dest.execute("BEGIN")
            try:
                dest.executemany(sql, values)
                dest.execute("COMMIT")
            except sqlite3.Error as exc:
                dest.execute("ROLLBACK")
                if table.name in user:
                    raise RuntimeError(
                        f"the rows of {table.name} do not fit SkillMeat's schema: {exc}"
                    ) from exc
                dest.execute("BEGIN")
                for value in values:  # derived data: keep what fits
                    dest.execute("SAVEPOINT one")
                    try:
                        dest.execute(sql, value)
                        dest.execute("RELEASE one")
                    except sqlite3.Error:
                        dest.execute("ROLLBACK TO one")
                        dest.execute("RELEASE one")
                        skipped += 1
                dest.execute("COMMIT")
            answer["copied"][table.name] = len(values) - skipped
            answer["skipped"][table.name] = skipped
        problems = dest.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign keys broken after the copy: {problems[:3]}")
        answer["not_carried"] = {
            name: source.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0]
            for name in sorted(set(old) - set(metadata.tables))
        }
    finally:
        dest.close()
        source.close()
        engine.dispose()
    return answer


def _verify(request: dict[str, Any], captured: _Captured) -> dict[str, Any]:
    path = request["path"]
    runs = [_initialize(path, captured)]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        counts = {
            n: conn.execute(f"SELECT count(*) FROM {quote(n)}").fetchone()[0]
            for n in table_names(conn)
        }
    finally:
        conn.close()
    return {
        "runs": runs,
        "failing": _query_all(path) if runs[0]["ok"] else {},
        "counts": counts,
        "alembic_version": _versions(path),
    }


_COMMANDS = {"inspect": _inspect, "rebuild": _rebuild, "verify": _verify}


def main(argv: list[str]) -> int:
    """``COMMAND OUT``: the request is read from stdin as JSON, the answer written to ``OUT``
    (``{"ok": true, ...}``, or ``{"ok": false, "error": ..., "traceback": ...}``)."""
    command, out = argv
    request = json.loads(sys.stdin.read() or "{}")
    captured = _Captured()
    logging.getLogger().addHandler(captured)
    logging.getLogger().setLevel(logging.ERROR)
    try:
        answer = {"ok": True, **_COMMANDS[command](request, captured)}
    except Exception as exc:
        answer = {
            "ok": False,
            "error": _first_line(f"{type(exc).__name__}: {exc}"),
            "traceback": traceback.format_exc(),
        }
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(answer, handle, default=str)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
