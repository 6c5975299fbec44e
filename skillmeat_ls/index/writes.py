"""Writing the index into the cache tables, through SQLAlchemy.

This module owns the writes to SkillMeat's tables ``collections``, ``collection_artifacts``,
``groups`` and ``group_artifacts`` (membership ids ``"type:name"``) and to this server's
``collection_sources`` and ``indexed_artifacts``. It is the only module of the package that imports
SQLAlchemy, and :mod:`skillmeat_ls.index.stored` imports it only when something is to be written
(never on a warm start that finds the collections unchanged).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from skillmeat_ls.cache import models
from skillmeat_ls.index.manifest import _Entry, _Parsed
from skillmeat_ls.index.model import Group
from skillmeat_ls.index.stored import _problem_summary


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def write_cache(
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
                _write_snapshot(conn, item)
        home_key = str(collections_dir.resolve())
        present = {item.source_key for item in parsed}
        gone = {
            key: row.collection_id
            for key, row in sources.items()
            if key not in present and str(Path(key).parent) == home_key
        }
        if gone and remove_missing:
            ids = list(gone.values())
            conn.execute(delete(models.Collection).where(models.Collection.id.in_(ids)))
            snapshot = models.CollectionSnapshot
            conn.execute(delete(snapshot).where(snapshot.root_path.in_(list(gone))))
        conn.commit()


def _write_snapshot(conn: Connection, item: _Parsed) -> None:
    """Keep what reading ``item`` gave, for the next start to restore (if it was not restored)."""
    if item.snapshot is None or item.restored:
        return
    statement = sqlite_insert(models.CollectionSnapshot).values(
        root_path=item.source_key, content=item.snapshot
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[models.CollectionSnapshot.root_path],
            set_={"content": statement.excluded.content},
        )
    )


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
