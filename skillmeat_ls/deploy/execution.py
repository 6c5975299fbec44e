"""Carrying out a deploy or update: checking each item against the project, then one
all-or-nothing step for all of them.

:func:`plan_item` decides whether an artifact may go to its target: a path recorded for another
artifact is refused; a copy whose hash differs from its record (local modifications), or a copy
with no record, is skipped unless the request replaces such copies.

:func:`execute`: if any item was refused, nothing at all is written and the others are reported
as skipped (``aborted``); items skipped for a reason of their own do not stop the others. Then
every artifact is copied into the staging folder and hashed (several at once,
:func:`~.copyplan.copy_all`), the copies bound for a folder the root does not have yet together
in one staged folder (:mod:`.staginglayout`), the new deployment file text is built, the journal
written, each target is swapped in under its destination lock, or each such folder with the locks
of its copies (:mod:`.transaction`), and finally the deployment file is replaced
(:meth:`~.project.LoadedProject.replace_file`), or, with ``hold``, left to the caller's
:class:`~.transaction.Pending`. If any step fails, every swap done so far is undone, so the files
and the record always agree; if the process dies, the next request's recovery does the same.
Copies are not fsynced (as SkillMeat and ``copytree`` do not); the journal and the deployment
file are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.deploy.copyplan import (
    CopyFailed,
    PlannedItem,
    copy_all,
    plan_copy,
    planned_hash,
)
from skillmeat_ls.deploy.paths import checked_target_present, normal_rel
from skillmeat_ls.deploy.project import LoadedProject
from skillmeat_ls.deploy.records import deployed_record, new_text, recorded_hash, recorded_text
from skillmeat_ls.deploy.results import (
    DeployedItem,
    DeployResult,
    ErrorItem,
    Refused,
    Skipped,
    SkippedItem,
    describe,
)
from skillmeat_ls.deploy.staginglayout import staging_layout
from skillmeat_ls.deploy.transaction import Failure, Transaction, summary
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.schema import identity
from skillmeat_ls.writer import naive_iso

if TYPE_CHECKING:
    from skillmeat_ls.index import Collection, CollectionArtifact


def plan_item(
    loaded: LoadedProject,
    collection: Collection,
    artifact: CollectionArtifact,
    *,
    name: str,
    artifact_type: str,
    rel: str,
    replace: bool,
) -> PlannedItem:
    """``artifact`` checked for deploying as ``(name, type)`` at ``rel``; :class:`Refused` or
    :class:`Skipped` when it must not go there (``replace``: local changes may be replaced)."""
    wanted = identity(name, artifact_type)
    owner = loaded.by_path.get(rel)
    if owner is not None and owner != wanted:
        raise Refused(
            f"{loaded.display(rel)} is recorded for the {owner[1]} {owner[0]!r}; "
            "deploying would overwrite it",
            rel,
        )
    target, present = checked_target_present(loaded.root, rel)
    plan = plan_copy(artifact, loaded.real_root_of(collection), loaded.real_paths)
    record = loaded.by_identity.get(wanted)
    if present and not replace:
        recorded_path = recorded_text(record, "artifact_path")
        if record is not None and recorded_path is not None and normal_rel(recorded_path) == rel:
            if _project_hash(target) != recorded_hash(record):
                raise Skipped(
                    "local-modifications",
                    f"{loaded.display(rel)} was modified locally since it was deployed; "
                    "overwrite replaces it",
                    rel,
                )
        else:
            raise Skipped(
                "untracked",
                f"{loaded.display(rel)} exists but is not recorded in "
                f"{loaded.file_label}; overwrite replaces it",
                rel,
            )
    previous = recorded_text(record, "from_collection")
    replaced_from = previous if previous != collection.name else None
    return PlannedItem(name, artifact_type, rel, target, collection.name, plan, replaced_from)


def _project_hash(path: Path) -> str | None:
    try:
        return content_hash(path)
    except (OSError, ValueError, UnicodeError):
        return None


@dataclass
class _Progress:
    """How far the steps of :func:`execute` got, for the message when one fails."""

    culprit: PlannedItem | None = None  # the item whose copy or swap was under way
    writing: bool = False  # the deployment file was being replaced


def execute(
    loaded: LoadedProject,
    items: list[PlannedItem],
    result: DeployResult,
    *,
    operation: str,
    dry_run: bool,
    now: datetime | None,
    hold: bool = False,
) -> None:
    """Deploy the planned ``items`` as one all-or-nothing step (see the module doc); with
    ``hold``, stop before writing the deployment file (``result.pending``)."""
    if result.errors:
        _abort_planned(result, items, "another artifact of this request was refused")
        return
    if not items:
        return
    if dry_run:
        _report_deployed(result, items, [planned_hash(item.plan) for item in items])
        result.file = loaded.shown_file
        return

    deployed_at = naive_iso(now) if now is not None else datetime.now().isoformat()
    transaction = loaded.transaction(operation)
    progress = _Progress()
    hashes: list[str] = []

    def steps(staging: Path) -> str:
        layout = staging_layout(loaded.root, [item.rel for item in items])
        for _folder, staged in layout.folders.values():
            loaded.file_ops.make_folder(staging / staged)
        jobs = [(item.plan, staging / copy) for item, copy in zip(items, layout.copies, strict=True)]
        try:
            hashes.extend(copy_all(jobs, loaded.file_ops))
        except CopyFailed as failed:
            progress.culprit = items[failed.number]
            raise failed.error from None
        for number, copy in enumerate(layout.copies):
            if layout.grouped(number):
                transaction.lock_staged(copy)
        text = new_text(
            loaded,
            {
                item.identity: deployed_record(loaded, item, item_hash, deployed_at)
                for item, item_hash in zip(items, hashes, strict=True)
            },
        )
        swaps = [(item.rel, copy) for item, copy in zip(items, layout.copies, strict=True)]
        transaction.intend(swaps, text, folders=layout.folders)
        for number, item in enumerate(items):
            progress.culprit = item
            transaction.swap(number)
        progress.culprit = None
        progress.writing = True  # what is left is the deployment file
        return text

    failure = carry_out(loaded, transaction, steps, result, hold=hold)
    if failure is None:
        _report_deployed(result, items, hashes)
        result.file = loaded.shown_file
        return
    where = loaded.file_label if progress.writing else f"{loaded.root.name}/ for the copies"
    _report_failure(result, items, progress.culprit, where, failure, transaction.staging)


def carry_out(
    loaded: LoadedProject,
    transaction: Transaction,
    steps: Callable[[Path], str],
    result: DeployResult,
    *,
    hold: bool,
) -> Failure | None:
    """Run ``transaction``'s ``steps`` and commit the deployment file text they return; with
    ``hold``, stop before writing it and leave the rest to ``result.pending``. The failure, or
    None when the steps went through."""
    if not hold:
        return transaction.run(steps, loaded.replace_file)
    assert loaded.lease is not None  # held by :func:`~.project.locked` for every write
    outcome = transaction.hold(steps, loaded.file, loaded.lease)
    if isinstance(outcome, Failure):
        return outcome
    result.pending = outcome
    return None


def _report_deployed(
    result: DeployResult, items: Sequence[PlannedItem], hashes: Sequence[str]
) -> None:
    for item, item_hash in zip(items, hashes, strict=True):
        result.deployed.append(
            DeployedItem(
                item.name,
                item.type,
                item.rel,
                item.collection,
                content_hash=item_hash,
                replaced_from=item.replaced_from,
                warnings=tuple(item.plan.warnings),
            )
        )


def _abort_planned(result: DeployResult, items: Sequence[PlannedItem], why: str) -> None:
    for item in items:
        result.skipped.append(
            SkippedItem(
                item.name,
                item.type,
                item.rel,
                item.collection,
                code="aborted",
                reason=f"not deployed: {why}",
            )
        )


def undo_note(failure: Failure, staging: Path | None) -> str:
    """The end of a failed request's message: whether undoing it went through."""
    if failure.undo_problems:
        return (
            f"; undoing it failed ({summary(failure.undo_problems)}): the previous copies are "
            f"kept in {staging}, and the next skillmeat-ls request puts them back"
        )
    return "; every change was undone"


def _report_failure(
    result: DeployResult,
    items: Sequence[PlannedItem],
    culprit: PlannedItem | None,
    where: str,
    failure: Failure,
    staging: Path | None,
) -> None:
    undo = undo_note(failure, staging)
    if culprit is None:
        message = f"cannot write {where}: {describe(failure.error)}{undo}"
        for item in items:
            result.errors.append(
                ErrorItem(item.name, item.type, item.rel, item.collection, message)
            )
        return
    result.errors.append(
        ErrorItem(
            culprit.name,
            culprit.type,
            culprit.rel,
            culprit.collection,
            message=f"{describe(failure.error)}{undo}",
        )
    )
    _abort_planned(
        result,
        [item for item in items if item is not culprit],
        f"deploying the {culprit.type} {culprit.name!r} failed{undo}",
    )
