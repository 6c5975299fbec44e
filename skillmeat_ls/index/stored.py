"""The cache tables that mirror the index, read and written through SQLAlchemy.

This module owns SkillMeat's tables ``collections``, ``collection_artifacts``, ``groups`` and
``group_artifacts`` (membership ids ``"type:name"``) and this server's ``collection_sources`` and
``indexed_artifacts``. It is the only module of the package that imports SQLAlchemy, and
:func:`~skillmeat_ls.index.load_collections` imports it only when given a cache engine.

:func:`_hash_through_cache` reads the stored hashes (so unchanged artifacts are not re-hashed, see
:mod:`skillmeat_ls.index.hashes`), hashes, then writes. The manifest and lock are re-read on every
load; their stat data is stored in ``collection_sources``. Writes happen in one
``BEGIN IMMEDIATE`` transaction per load, after all hashing, so concurrent servers on one cache
serialise cleanly; a collection whose manifest, lock and artifacts are all as stored is not
written, and a load that finds nothing changed (a warm start) writes nothing at all. A collection
removed from disk is deleted from the cache (the cascades remove the rest); one whose manifest is
broken keeps its rows, with the problem in ``collection_sources.error``, so fixing it costs no
re-hash. The cache mirrors one home: rows of collections under another home are left alone. A
cache that cannot be read or written is reported as an :class:`~skillmeat_ls.index.IndexProblem`
on the database file; the index is still built.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from skillmeat_ls.cache import models
from skillmeat_ls.index.hashes import Hasher, _hash_all, _Stored
from skillmeat_ls.index.manifest import _Entry, _Parsed
from skillmeat_ls.index.model import Group, IndexProblem


def _hash_through_cache(
    engine: Engine,
    collections_dir: Path,
    parsed: Sequence[_Parsed],
    problems: list[IndexProblem],
    hasher: Hasher,
    *,
    remove_missing: bool,
) -> None:
    """Hash ``parsed`` reusing the hashes stored in ``engine``'s cache, then bring the cache up to
    date (deleting the rows of collections gone from ``collections_dir`` if ``remove_missing``).
    A cache error is appended to ``problems``; a cache that cannot be read is not written."""
    try:
        stored = _read_stored(engine, [p.source_key for p in parsed])
        sources = _read_sources(engine)
    except SQLAlchemyError as exc:
        problems.append(_cache_problem(engine, f"cannot read the cache: {exc}"))
        _hash_all(parsed, {}, hasher)
        return
    _hash_all(parsed, stored, hasher)
    unchanged = {
        item.source_key
        for item in parsed
        if _unchanged(item, stored, sources.get(item.source_key))
    }
    home_key = str(collections_dir.resolve())
    present = {item.source_key for item in parsed}
    gone = any(key not in present and str(Path(key).parent) == home_key for key in sources)
    if len(unchanged) == len(parsed) and not (gone and remove_missing):
        return  # a warm start with nothing changed writes nothing (and takes no write lock)
    try:
        _write_cache(engine, collections_dir, parsed, unchanged, remove_missing=remove_missing)
    except SQLAlchemyError as exc:
        problems.append(_cache_problem(engine, f"cannot update the cache: {exc}"))


def _read_sources(engine: Engine) -> dict[str, Any]:
    """Every ``collection_sources`` row, by root path."""
    with engine.connect() as conn:
        return {row.root_path: row for row in conn.execute(select(models.CollectionSource))}


def _unchanged(item: _Parsed, stored: dict[tuple[str, str], _Stored], source: Any | None) -> bool:
    """Whether the cache already holds exactly what ``item`` would write: its manifest and lock
    unchanged (so its entries and groups, which are read from them alone), the same problems,
    the same artifacts, every hash reused."""
    if source is None or source.error != _problem_summary(item.problems):
        return False
    if not item.ok:
        return True
    if (
        source.manifest_mtime_ns,
        source.manifest_size,
        source.lock_mtime_ns,
        source.lock_size,
    ) != (
        item.manifest_stat.mtime_ns,
        item.manifest_stat.size,
        item.lock_stat.mtime_ns,
        item.lock_stat.size,
    ):
        return False
    key = item.source_key
    if sum(1 for stored_key, _ in stored if stored_key == key) != len(item.entries):
        return False
    for entry in item.entries:
        previous = stored.get((key, entry.artifact_id))
        if previous is None or (previous.rel_path, previous.fingerprint, previous.content_hash) != (
            entry.rel_path,
            entry.fingerprint,
            entry.content_hash,
        ):
            return False
    return True


def _cache_problem(engine: Engine, message: str) -> IndexProblem:
    return IndexProblem(Path(engine.url.database or ":memory:"), message)


def _read_stored(engine: Engine, keys: Sequence[str]) -> dict[tuple[str, str], _Stored]:
    """Stored hashes of the artifacts of the collections at ``keys``: ``(key, artifact_id)``."""
    if not keys:
        return {}
    ia, src = models.IndexedArtifact, models.CollectionSource
    query = (
        select(src.root_path, ia.artifact_id, ia.rel_path, ia.fingerprint, ia.content_hash)
        .join(src, src.collection_id == ia.collection_id)
        .where(src.root_path.in_(list(keys)))
    )
    with engine.connect() as conn:
        return {
            (row.root_path, row.artifact_id): _Stored(
                row.rel_path, row.fingerprint, row.content_hash
            )
            for row in conn.execute(query)
        }


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _write_cache(
    engine: Engine,
    collections_dir: Path,
    parsed: Sequence[_Parsed],
    unchanged: set[str],
    *,
    remove_missing: bool,
) -> None:
    """Write each collection of ``parsed`` but those whose root path is in ``unchanged``."""
    with engine.connect() as conn:
        # Take the write lock first: what is read below is then what the writes apply to.
        dbapi_connection = conn.connection.dbapi_connection
        if not getattr(dbapi_connection, "in_transaction", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        src = models.CollectionSource
        sources = {row.root_path: row for row in conn.execute(select(src))}
        for item in parsed:
            if item.source_key not in unchanged:
                _write_collection(conn, item, sources.get(item.source_key))
        home_key = str(collections_dir.resolve())
        present = {item.source_key for item in parsed}
        removed = [
            row.collection_id
            for key, row in sources.items()
            if key not in present and str(Path(key).parent) == home_key
        ]
        if removed and remove_missing:
            conn.execute(delete(models.Collection).where(models.Collection.id.in_(removed)))
        conn.commit()


def _problem_summary(problems: Iterable[IndexProblem]) -> str | None:
    text = "\n".join(str(problem) for problem in problems)
    return text or None


def _changed(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if getattr(row, key) != value}


def _write_collection(conn: Connection, item: _Parsed, source: Any | None) -> None:
    src = models.CollectionSource
    error = _problem_summary(item.problems)
    if not item.ok:
        # Keep the rows (and their hashes) of a collection whose manifest is broken for now.
        if source is not None and source.error != error:
            conn.execute(
                update(src).where(src.collection_id == source.collection_id).values(error=error)
            )
        return

    stats = {
        "manifest_mtime_ns": item.manifest_stat.mtime_ns,
        "manifest_size": item.manifest_stat.size,
        "lock_mtime_ns": item.lock_stat.mtime_ns,
        "lock_size": item.lock_stat.size,
        "error": error,
    }
    if source is None:
        collection_id = uuid.uuid4().hex
        conn.execute(insert(models.Collection).values(id=collection_id, name=item.name))
        conn.execute(
            insert(src).values(collection_id=collection_id, root_path=item.source_key, **stats)
        )
    else:
        collection_id = source.collection_id
        coll = models.Collection
        current = conn.execute(select(coll.name).where(coll.id == collection_id)).scalar_one()
        if current != item.name:
            conn.execute(update(coll).where(coll.id == collection_id).values(name=item.name))
        changes = _changed(source, stats)
        if changes:
            conn.execute(
                update(src)
                .where(src.collection_id == collection_id)
                .values(**changes, indexed_at=_now())
            )
    _write_artifacts(conn, collection_id, item.entries)
    _write_groups(conn, collection_id, item.groups)


def _write_artifacts(conn: Connection, collection_id: str, entries: Sequence[_Entry]) -> None:
    ca, ia = models.CollectionArtifact, models.IndexedArtifact
    members = set(
        conn.execute(select(ca.artifact_id).where(ca.collection_id == collection_id)).scalars()
    )
    indexed = {
        row.artifact_id: row
        for row in conn.execute(select(ia).where(ia.collection_id == collection_id))
    }
    wanted = {entry.artifact_id: entry for entry in entries}
    gone = members - wanted.keys()
    if gone:
        # Cascades to indexed_artifacts.
        conn.execute(delete(ca).where(ca.collection_id == collection_id, ca.artifact_id.in_(gone)))
    new_members = [aid for aid in wanted if aid not in members]
    if new_members:
        conn.execute(
            insert(ca),
            [{"collection_id": collection_id, "artifact_id": aid} for aid in new_members],
        )
    inserts: list[dict[str, Any]] = []
    for aid, entry in wanted.items():
        values = {
            "name": entry.name,
            "type": entry.type,
            "rel_path": entry.rel_path,
            "description": entry.description,
            "content_hash": entry.content_hash,
            "lock_hash": entry.lock_hash,
            "fingerprint": entry.fingerprint,
        }
        row = indexed.get(aid)
        if row is None:
            inserts.append({"collection_id": collection_id, "artifact_id": aid, **values})
            continue
        changes = _changed(row, values)
        if changes:
            conn.execute(
                update(ia)
                .where(ia.collection_id == collection_id, ia.artifact_id == aid)
                .values(**changes, indexed_at=_now())
            )
    if inserts:
        conn.execute(insert(ia), inserts)


def _write_groups(conn: Connection, collection_id: str, groups: Sequence[Group]) -> None:
    gt, ga = models.Group, models.GroupArtifact
    existing = {
        row.name: row for row in conn.execute(select(gt).where(gt.collection_id == collection_id))
    }
    wanted = {group.name: group for group in groups}
    gone = [row.id for name, row in existing.items() if name not in wanted]
    if gone:
        conn.execute(delete(gt).where(gt.id.in_(gone)))  # cascades to group_artifacts
    kept_ids = [row.id for name, row in existing.items() if name in wanted]
    current_members: dict[str, dict[str, int]] = {}
    if kept_ids:
        for link in conn.execute(
            select(ga.group_id, ga.artifact_id, ga.position).where(ga.group_id.in_(kept_ids))
        ):
            current_members.setdefault(link.group_id, {})[link.artifact_id] = link.position

    for name, group in wanted.items():
        row = existing.get(name)
        values = {"description": group.description, "position": group.position}
        if row is None:
            group_id = uuid.uuid4().hex
            conn.execute(
                insert(gt).values(id=group_id, collection_id=collection_id, name=name, **values)
            )
        else:
            group_id = row.id
            changes = _changed(row, values)
            if changes:
                conn.execute(update(gt).where(gt.id == group_id).values(**changes))
        have = current_members.get(group_id, {})
        want = {member: position for position, member in enumerate(group.members)}
        stale = [aid for aid in have if aid not in want]
        if stale:
            conn.execute(delete(ga).where(ga.group_id == group_id, ga.artifact_id.in_(stale)))
        for aid, position in want.items():
            if aid not in have:
                conn.execute(
                    insert(ga).values(group_id=group_id, artifact_id=aid, position=position)
                )
            elif have[aid] != position:
                conn.execute(
                    update(ga)
                    .where(ga.group_id == group_id, ga.artifact_id == aid)
                    .values(position=position)
                )
