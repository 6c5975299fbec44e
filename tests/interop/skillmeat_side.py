"""Runs inside a real SkillMeat's own virtual environment, never in skillmeat-ls's interpreter.

``python -I skillmeat_side.py COMMAND OUT.json`` reads a JSON request on stdin, calls SkillMeat's
Python API and writes a JSON answer to ``OUT.json`` (stdout is left to SkillMeat's own
printing). Commands:

- ``read``: ``{"project": P}`` -> every deployment file SkillMeat reads in ``P``, root by root
  (``read_deployments(P, profile_root_dir=root)``), plus the combined ``read_deployments(P)``,
  each record as SkillMeat holds it (its attributes) and as it would write it (``to_dict()``);
  with ``"home"`` also ``truth`` (below).
- ``truth``: ``{"project": P, "home": H}`` -> per record: the recorded hash, SkillMeat's
  ``compute_content_hash`` of the project copy, and the hash ``collection.lock`` holds.
- ``hash``: ``{"paths": [...]}`` -> ``compute_content_hash`` of each (or the exception's name).
- ``cache-build``: ``{"states": {name: path}}`` -> SkillMeat's ``cache.db`` in each state:
  ``fresh`` (``CacheManager(path).initialize_cache()``), ``empty-version`` (an empty
  ``alembic_version``), ``unknown-revision`` (stamped with a revision SkillMeat does not know),
  ``no-version-table`` (``alembic_version`` dropped).
  With ``"populate": true``, user rows (collections, groups, memberships, tags, a rating) are
  written through SkillMeat's models before the state is made.
- ``cache-build-models``: ``{"path": P}`` -> ``create_tables()`` of this release's own models
  plus the same user rows, with no Alembic involved. For 0.9.0, whose ``skillmeat.cache``
  package does not import (its wheel lacks ``skillmeat.core.parsers``), the package's
  ``__init__`` is bypassed and ``skillmeat/cache/models.py`` is loaded on its own.
- ``cache-init``: ``{"paths": [...]}`` -> ``initialize_cache()``'s result on each, and what the
  database holds afterwards.
- ``cache-read``: ``{"path": P}`` -> ``initialize_cache()``'s result, the model tables that do
  not read (a ``select`` of every column through SkillMeat's models), and :func:`logical_rows`.
- ``hold-lock``: ``{"destination": D, "signal": S, "hold": seconds, "content": text | null,
  "source": dir | null}`` -> takes SkillMeat's own ``WriteTransaction`` on ``D`` (its flock on
  ``.<name>.skillmeat-lock``), writes ``S`` once the lock is held, keeps it for ``hold`` seconds,
  then swaps ``content`` (bytes) or a copy of ``source`` in, as SkillMeat's deploy does.
  With ``"project"``, ``"root"`` and ``"record"`` instead, the content is what
  ``write_deployments`` writes for that root with the record added (read before the lock, as
  SkillMeat 0.74.0 reads).
- ``record``: ``{"project": P, "record": {...}}`` -> appends one record the way
  ``record_deployment`` does (read all, replace or append, ``write_deployments``).
- ``traced-cli``: ``{"args": [...]}`` -> runs SkillMeat's own CLI (``skillmeat.cli.main``) with
  those arguments, logging the monotonic times of every ``read_deployments`` and
  ``write_deployments`` call (behaviour unchanged), and its exit code.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
import sys
import time
from datetime import datetime
from enum import Enum
from pathlib import Path

logging.disable(logging.CRITICAL)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _tracker():
    # ``skillmeat.storage.deployment`` imports ``skillmeat.core``, which imports it back:
    # importing the core package first is the order SkillMeat's own CLI uses (0.9.0 and 0.74.0).
    import skillmeat.core  # noqa: F401
    from skillmeat.storage.deployment import DeploymentTracker

    return DeploymentTracker


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _record(deployment) -> dict:
    return {
        "fields": {
            f.name: _plain(getattr(deployment, f.name)) for f in dataclasses.fields(deployment)
        },
        "to_dict": deployment.to_dict(),
    }


def _roots(project: Path) -> list[str]:
    return sorted(
        p.name
        for p in project.glob(".*")
        if p.is_dir() and (p / ".skillmeat-deployed.toml").exists()
    )


def cmd_read(request: dict) -> dict:
    tracker = _tracker()
    project = Path(request["project"])
    files = {}
    for root in _roots(project):
        files[root] = [_record(d) for d in tracker.read_deployments(project, profile_root_dir=root)]
    combined = [_record(d) for d in tracker.read_deployments(project)]
    out = {"files": files, "all": combined}
    if request.get("home"):
        out["truth"] = cmd_truth(request)["records"]
    return out


def cmd_truth(request: dict) -> dict:
    tracker = _tracker()
    from skillmeat.utils.filesystem import compute_content_hash

    project = Path(request["project"]).resolve()
    home = Path(request["home"])
    locks: dict[str, dict] = {}
    out = []
    for d in tracker.read_deployments(project):
        root = d.profile_root_dir or ".claude"
        copy = project / root / d.artifact_path
        collection = d.from_collection
        if collection not in locks:
            lock_file = home / "collections" / collection / "collection.lock"
            locks[collection] = (
                tomllib.loads(lock_file.read_text())["lock"].get("entries", {})
                if lock_file.exists()
                else {}
            )
        entry = locks[collection].get(f"{d.artifact_name}::{d.artifact_type}")
        out.append(
            {
                "name": d.artifact_name,
                "type": d.artifact_type,
                "profile": d.deployment_profile_id or "claude_code",
                "root": root,
                "recorded": d.collection_sha or d.content_hash,
                "project_hash": compute_content_hash(copy) if copy.exists() else None,
                "collection_hash": entry["content_hash"] if entry else None,
            }
        )
    return {"records": out}


def cmd_hash(request: dict) -> dict:
    from skillmeat.utils.filesystem import compute_content_hash

    out = []
    for path in request["paths"]:
        try:
            out.append({"hash": compute_content_hash(Path(path))})
        except Exception as exc:  # the outcome is compared, whatever it is
            out.append({"error": type(exc).__name__})
    return {"results": out}


UNKNOWN_REVISION = "20260108_1700_add_mcp_to_type_constraints"


def _sql(path: str, statement: str) -> None:
    connection = sqlite3.connect(path)
    try:
        connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def _describe(path: str) -> dict:
    connection = sqlite3.connect(path)
    try:
        tables = sorted(
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        )
        versions = (
            sorted(row[0] for row in connection.execute("SELECT version_num FROM alembic_version"))
            if "alembic_version" in tables
            else None
        )
    finally:
        connection.close()
    return {"tables": len(tables), "alembic_version": versions}


#: The user's rows of a cache, as keys that mean the same in every schema (a membership's
#: artifact as its ``"type:name"`` id, whether the table keys it by ``artifact_id`` or by
#: ``artifact_uuid``).
ARTIFACT = "(artifact)"
USER_KEYS = {
    "collections": ("id", "name", "description"),
    "groups": ("id", "collection_id", "name", "description", "position"),
    "collection_artifacts": ("collection_id", ARTIFACT),
    "group_artifacts": ("group_id", ARTIFACT, "position"),
    "tags": ("id", "name", "slug", "color"),
    "artifact_tags": (ARTIFACT, "tag_id"),
    "user_ratings": ("artifact_id", "rating", "feedback"),
}


def logical_rows(path: str) -> dict:
    """Every user row of the cache at ``path`` by :data:`USER_KEYS` (sorted lists)."""
    connection = sqlite3.connect(path)
    try:
        out = {}
        for table, keys in USER_KEYS.items():
            columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')]
            if not columns:
                continue
            artifact = (
                "(SELECT a.id FROM artifacts a WHERE a.uuid = t.artifact_uuid)"
                if "artifact_uuid" in columns
                else "t.artifact_id"
            )
            select = ", ".join(artifact if k == ARTIFACT else f"t.{k}" for k in keys)
            rows = connection.execute(f'SELECT {select} FROM "{table}" t').fetchall()
            out[table] = sorted([list(r) for r in rows], key=repr)
        return out
    finally:
        connection.close()


def _populate(models, path: str) -> None:
    """User rows written through SkillMeat's models (SQLAlchemy Core: the models' defaults fill
    every column not given)."""
    from sqlalchemy import create_engine, insert, select

    tables = models.Base.metadata.tables
    engine = create_engine(f"sqlite:///{path}")
    artifacts = tables["artifacts"]
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(tables["projects"]).values(id="p1", name="proj", path="/tmp/doctor-proj")
            )
            for artifact_id in ("skill:review", "command:review"):
                kind, name = artifact_id.split(":")
                conn.execute(
                    insert(artifacts).values(id=artifact_id, project_id="p1", name=name, type=kind)
                )

            def member(artifact_id: str, table: str) -> dict:
                if "artifact_uuid" in tables[table].c:
                    uuid = conn.execute(
                        select(artifacts.c.uuid).where(artifacts.c.id == artifact_id)
                    ).scalar_one()
                    return {"artifact_uuid": uuid}
                return {"artifact_id": artifact_id}

            conn.execute(insert(tables["collections"]).values(id="c-default", name="default",
                                                              description="Default"))
            conn.execute(insert(tables["collections"]).values(id="c-team", name="team"))
            conn.execute(insert(tables["groups"]).values(id="g1", collection_id="c-default",
                                                         name="Reviewers", description="r"))
            conn.execute(insert(tables["groups"]).values(id="g2", collection_id="c-default",
                                                         name="Planners", position=1))
            for collection, artifact_id in (
                ("c-default", "skill:review"), ("c-default", "command:review"),
                ("c-team", "command:review"),
            ):
                conn.execute(insert(tables["collection_artifacts"]).values(
                    collection_id=collection, **member(artifact_id, "collection_artifacts")))
            for position, artifact_id in enumerate(("skill:review", "command:review")):
                conn.execute(insert(tables["group_artifacts"]).values(
                    group_id="g1", position=position, **member(artifact_id, "group_artifacts")))
            conn.execute(insert(tables["tags"]).values(id="t1", name="Code Review",
                                                       slug="code-review", color="#ff0000"))
            conn.execute(insert(tables["artifact_tags"]).values(
                tag_id="t1", **member("skill:review", "artifact_tags")))
            conn.execute(insert(tables["user_ratings"]).values(
                artifact_id="skill:review", rating=5, feedback="great"))
    finally:
        engine.dispose()


def cmd_cache_build(request: dict) -> dict:
    from skillmeat.cache.manager import CacheManager

    out = {}
    for state, path in request["states"].items():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        manager = CacheManager(str(path))
        ok = manager.initialize_cache()
        _dispose(manager)
        if request.get("populate"):
            from skillmeat.cache import models

            _populate(models, str(path))
        if state == "empty-version":
            _sql(path, "DELETE FROM alembic_version")
        elif state == "unknown-revision":
            _sql(path, f"UPDATE alembic_version SET version_num = '{UNKNOWN_REVISION}'")
        elif state == "no-version-table":
            _sql(path, "DROP TABLE alembic_version")
        out[state] = {"initialized": ok, **_describe(path)}
    return out


def _dispose(manager) -> None:
    # Close every connection SkillMeat's cache opened, so SQLite checkpoints and removes the
    # -wal/-shm files it made: the file is then the whole state.
    for holder in (manager, getattr(manager, "repository", None)):
        engine = getattr(holder, "engine", None)
        if engine is not None:
            engine.dispose()
    import gc

    gc.collect()


def _own_models():
    """This release's ``skillmeat.cache.models``, even where its package does not import."""
    import skillmeat

    try:
        import skillmeat.core
        from skillmeat.cache import models

        return models
    except ImportError:
        import types

        for name in [n for n in sys.modules if n.startswith("skillmeat.cache")]:
            del sys.modules[name]
        package = types.ModuleType("skillmeat.cache")
        package.__path__ = [str(Path(skillmeat.__file__).parent / "cache")]
        sys.modules["skillmeat.cache"] = package
        import skillmeat.cache.models as models

        return models


def cmd_cache_build_models(request: dict) -> dict:
    models = _own_models()
    path = request["path"]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    models.create_tables(path)
    _populate(models, path)
    return _describe(path)


def cmd_cache_read(request: dict) -> dict:
    from skillmeat.cache.manager import CacheManager
    from skillmeat.cache.models import Base
    from sqlalchemy import create_engine, select

    path = request["path"]
    manager = CacheManager(str(path))
    ok = manager.initialize_cache()
    _dispose(manager)
    engine = create_engine(f"sqlite:///{path}")
    failing = {}
    with engine.connect() as conn:
        for table in Base.metadata.tables.values():
            try:
                conn.execute(select(table).limit(1)).fetchall()
            except Exception as exc:
                failing[table.name] = str(getattr(exc, "orig", exc)).splitlines()[0]
    engine.dispose()
    return {"initialized": ok, "failing": failing, "rows": logical_rows(path), **_describe(path)}


def cmd_cache_init(request: dict) -> dict:
    from skillmeat.cache.manager import CacheManager

    out = {}
    for path in request["paths"]:
        manager = CacheManager(str(path))
        ok = manager.initialize_cache()
        _dispose(manager)
        out[path] = {"initialized": ok, **_describe(path)}
    return out


def cmd_hold_lock(request: dict) -> dict:
    from skillmeat.core.write_transaction import WriteTransaction

    destination = Path(request["destination"])
    signal = Path(request["signal"])
    times: dict[str, float] = {}

    def hold(_staged: Path) -> None:  # runs with the flock held, before the swap
        times["locked"] = time.monotonic()
        signal.write_text("locked")
        time.sleep(float(request["hold"]))
        times["released"] = time.monotonic()

    transaction = WriteTransaction(destination, lock_timeout=30.0)
    if request.get("record"):
        content = _record_content(Path(request["project"]), request["root"], request["record"])
        transaction.stage_from_bytes(content, validate=hold)
    elif request.get("source"):
        transaction.stage_from_path(Path(request["source"]), validate=hold)
    else:
        transaction.stage_from_bytes(request["content"].encode("utf-8"), validate=hold)
    times["swapped"] = time.monotonic()
    return times


def _record_content(project: Path, root: str, record: dict) -> bytes:
    """The bytes SkillMeat's ``write_deployments`` writes for ``root`` with ``record`` added."""
    import tomli_w

    tracker = _tracker()
    from skillmeat.core.deployment import Deployment

    deployments = tracker.read_deployments(project, profile_root_dir=root)
    deployments.append(Deployment.from_dict(record))
    return tomli_w.dumps({"deployed": [d.to_dict() for d in deployments]}).encode("utf-8")


def cmd_traced_cli(request: dict) -> dict:
    """SkillMeat's real CLI, with the times of its tracking-file reads and writes logged."""
    tracker = _tracker()
    events: list[tuple[str, float, float]] = []

    def traced(name):
        original = getattr(tracker, name)

        def wrapper(*args, **kwargs):
            started = time.monotonic()
            try:
                return original(*args, **kwargs)
            finally:
                events.append((name, started, time.monotonic()))

        return staticmethod(wrapper)

    for name in ("read_deployments", "write_deployments"):
        setattr(tracker, name, traced(name))
    from skillmeat.cli import main

    logging.disable(logging.NOTSET)
    try:
        main(args=request["args"], prog_name="skillmeat")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return {"exit_code": code, "events": events}


def cmd_record(request: dict) -> dict:
    tracker = _tracker()
    from skillmeat.core.deployment import Deployment

    project = Path(request["project"])
    deployments = tracker.read_deployments(project)
    new = Deployment.from_dict(request["record"])
    deployments = [
        d
        for d in deployments
        if (d.artifact_name, d.artifact_type, d.deployment_profile_id or "claude_code")
        != (new.artifact_name, new.artifact_type, new.deployment_profile_id or "claude_code")
    ] + [new]
    tracker.write_deployments(project, deployments)
    return {"records": len(deployments)}


COMMANDS = {
    "read": cmd_read,
    "truth": cmd_truth,
    "hash": cmd_hash,
    "cache-build": cmd_cache_build,
    "cache-build-models": cmd_cache_build_models,
    "cache-init": cmd_cache_init,
    "cache-read": cmd_cache_read,
    "hold-lock": cmd_hold_lock,
    "record": cmd_record,
    "traced-cli": cmd_traced_cli,
}


def main() -> int:
    command, out = sys.argv[1], sys.argv[2]
    request = json.loads(sys.stdin.read() or "{}")
    result = COMMANDS[command](request)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
