"""Re-deploying recorded artifacts from their own collection (:func:`update`, :func:`update_many`).

A record is re-deployed from its ``from_collection``, at its recorded path. Local changes
(modified, conflict, or a record whose state cannot be judged) are kept unless ``force``; an
in-sync record is skipped as already up to date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.deploy.copyplan import PlannedItem
from skillmeat_ls.deploy.drift import RecordDrift
from skillmeat_ls.deploy.execution import execute, plan_item
from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.names import unique_pairs
from skillmeat_ls.deploy.paths import checked_rel, checked_target
from skillmeat_ls.deploy.project import LoadedProject, locked
from skillmeat_ls.deploy.records import recorded_text
from skillmeat_ls.deploy.results import DeployResult, RecordStatus, Refused, Skipped
from skillmeat_ls.profiles import Profile
from skillmeat_ls.schema import canonical_type, identity

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionArtifact, CollectionIndex


def update(
    project: Path | str,
    index: CollectionIndex | None,
    name: str,
    artifact_type: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    profile: Profile | None = None,
    file_ops: FileOps | None = None,
    hold_record: bool = False,
) -> DeployResult:
    """Re-deploy the recorded ``(name, type)`` of ``profile`` from its own collection
    (``from_collection``), at its recorded path. Local changes (modified, conflict, or an
    unjudgeable record) are kept unless ``force``; an in-sync record is skipped as already up
    to date. ``hold_record`` and ``file_ops`` as for
    :func:`~.deploying.deploy`."""
    return update_many(
        project,
        index,
        [(name, artifact_type)],
        force=force,
        dry_run=dry_run,
        now=now,
        profile=profile,
        file_ops=file_ops,
        hold_record=hold_record,
    )


def update_many(
    project: Path | str,
    index: CollectionIndex | None,
    pairs: Sequence[tuple[str, str]],
    *,
    force: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    profile: Profile | None = None,
    file_ops: FileOps | None = None,
    hold_record: bool = False,
) -> DeployResult:
    """:func:`update` for several records as one all-or-nothing request."""
    with locked(
        project, profile, dry_run=dry_run, file_ops=file_ops
    ) as loaded:
        result = loaded.start_result(DeployResult, dry_run=dry_run)
        drift = RecordDrift(loaded, index)
        planned: list[PlannedItem] = []
        for name, artifact_type in unique_pairs(pairs):
            record = loaded.by_identity.get(identity(name, artifact_type))
            path = recorded_text(record, "artifact_path")
            collection = recorded_text(record, "from_collection")
            try:
                planned.append(_plan_update(loaded, index, drift, name, artifact_type, force))
            except Refused as exc:
                result.errors.append(exc.item(name, artifact_type, path, collection))
            except Skipped as exc:
                result.skipped.append(exc.item(name, artifact_type, path, collection))
        execute(
            loaded,
            planned,
            result,
            operation="update",
            dry_run=dry_run,
            now=now,
            hold=hold_record,
        )
    return result


def _plan_update(
    loaded: LoadedProject,
    index: CollectionIndex | None,
    drift: RecordDrift,
    name: str,
    artifact_type: str,
    force: bool,
) -> PlannedItem:
    wanted = identity(name, artifact_type)
    record = loaded.by_identity.get(wanted)
    if record is None:
        raise Refused(f"no {artifact_type} {name!r} is recorded in {loaded.file_label}")
    rel = checked_rel(record.get("artifact_path"))
    checked_target(loaded.root, rel)
    collection_name = record.get("from_collection")
    collection = index.get(collection_name) if index and isinstance(collection_name, str) else None
    if collection is None:
        known = ", ".join(index.names()) if index else "none"
        raise Refused(f"collection {collection_name!r} is unknown (known: {known})", rel)
    recorded_type: str = record["artifact_type"]  # a string: the record has an identity
    found = collection.find(name, recorded_type) or collection.find(
        name, canonical_type(recorded_type)
    )
    if not found:
        raise Refused(
            f"collection {collection.name} no longer has the {recorded_type} {name!r}", rel
        )
    _check_update(drift.of(wanted), found[0], force, loaded, rel)
    return plan_item(
        loaded, collection, found[0], name=name, artifact_type=recorded_type, rel=rel, replace=True
    )


def _check_update(
    drift: RecordStatus | None,
    artifact: CollectionArtifact,
    force: bool,
    loaded: LoadedProject,
    rel: str,
) -> None:
    if artifact.content_hash is None:
        raise Refused(f"cannot read the collection's copy of {artifact.rel_path}", rel)
    if drift is None:
        return
    where = loaded.display(rel)
    if (
        drift.state == "in-sync"
        and drift.project_hash == drift.recorded_hash
        and (drift.collection_hash in (None, drift.recorded_hash))
    ):
        raise Skipped("up-to-date", "already up to date", rel)
    if force:
        return
    if drift.state == "modified":
        raise Skipped(
            "local-modifications",
            f"{where} was modified locally and its collection has no update; force replaces it",
            rel,
        )
    if drift.state == "conflict":
        raise Skipped(
            "conflict",
            f"{where} changed both here and in its collection; force replaces the local changes",
            rel,
        )
    if drift.state == "unknown":
        raise Skipped("unknown-state", f"{where}: {drift.message}; force replaces it", rel)
