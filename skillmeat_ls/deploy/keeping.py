"""Recording a locally modified copy as its record's baseline (:func:`keep_local`,
:func:`keep_local_many`), and the checks a pull shares (:func:`plan_rebaseline`).

SkillMeat 0.74.0 has no "accept local modification" for skills, commands or agents; the only
code that records a local copy as the deployed baseline is its context sync's
(``project sync-context --pull``, ``resolve_conflict("keep_local")``). This writes what that
code writes: ``content_hash`` and ``collection_sha`` become the local copy's hash (SkillMeat's
``status`` compares the copy with ``collection_sha or content_hash``, its
``detect_modifications`` with ``collection_sha``: both must change), the previous
``content_hash`` ends ``version_lineage``, and everything else (``deployed_at``,
``local_modifications``, ``merge_base_snapshot``, ...) is kept
(:func:`~.records.rebaselined_record`). The copy itself is not touched.

Which records: one whose copy's hash differs from its recorded hash, that is modified locally
(SM140) or in conflict (SM142), or changed here as it did in its collection (which the
diagnostics show in sync); the hash is taken confined to the profile root, so a copy holding a
symlink that leads out of it (SM133) is not judged. Skipped, with a reason: a copy that matches
its record (``not-modified``), a missing copy (``missing``), a record that cannot be judged
(``unknown-state``). Refused: a pair with no record, or an ``artifact_path`` that must not be
read. Deciding needs no collection: only the copy and its record are compared.

Afterwards the record matches its copy, so neither SM140 nor SM142 is left. The diagnostics then
compare the collection's copy with the new baseline: where it differs (the usual case: the
collection still holds the version deployed, or a newer one of its own) the record shows SM141,
update available, because an update from the collection would now replace the kept copy; where
the collection's copy equals the local one, in sync. SkillMeat's own ``status`` (which compares
the copy with the record only) says synced either way.

One request for all the pairs, all or nothing, under the deployment file's lock and journalled
like the others (a journal with no swaps, and the new text's hash): killed at any instant, every
record is old or every one is new. ``hold_record`` stops before writing the file, as for deploy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat_ls.deploy.drift import RecordDrift
from skillmeat_ls.deploy.execution import carry_out, undo_note
from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.names import unique_pairs
from skillmeat_ls.deploy.paths import checked_rel, checked_target
from skillmeat_ls.deploy.project import LoadedProject, locked
from skillmeat_ls.deploy.records import new_text, rebaselined_record, recorded_hash, recorded_text
from skillmeat_ls.deploy.results import (
    ErrorItem,
    KeepLocalResult,
    KeptItem,
    Refused,
    Skipped,
    SkippedItem,
    describe,
)
from skillmeat_ls.hashing import LeavesRoot, content_hash
from skillmeat_ls.profiles import Profile
from skillmeat_ls.schema import Identity, identity


@dataclass(frozen=True)
class Rebaseline:
    """A record whose local copy is to become its baseline: the record as read, where its copy
    is, the copy's hash now, and the record as it is to be written."""

    identity: Identity
    record: dict[str, Any]
    rel: str  # its artifact_path
    target: Path  # <root>/rel
    local_hash: str
    previous_hash: str | None  # the recorded hash
    new_record: dict[str, Any]

    @property
    def collection(self) -> str | None:
        return recorded_text(self.record, "from_collection")


def plan_rebaseline(
    loaded: LoadedProject, drift: RecordDrift, name: str, artifact_type: str, verb: str
) -> Rebaseline:
    """The recorded ``(name, type)``, checked for taking its local copy as the baseline (see the
    module doc); :class:`Refused` or :class:`Skipped` (saying there is nothing to ``verb``)."""
    wanted = identity(name, artifact_type)
    record = loaded.by_identity.get(wanted)
    if record is None:
        raise Refused(f"no {artifact_type} {name!r} is recorded in {loaded.file_label}")
    rel = checked_rel(record.get("artifact_path"))
    target = checked_target(loaded.root, rel)
    where = loaded.display(rel)
    if not os.path.exists(target):
        raise Skipped("missing", f"{where} does not exist: nothing to {verb}", rel)
    try:
        local = content_hash(target, within=str(loaded.root))
    except LeavesRoot as exc:
        raise Skipped(
            "unknown-state", f"{where}: {exc} (SM133): not judged, nothing to {verb}", rel
        ) from None
    except (OSError, ValueError) as exc:
        raise Skipped("unknown-state", f"cannot read {where}: {describe(exc)}", rel) from None
    state = drift.of(wanted)
    if state is None or state.state in ("unknown", "missing"):
        why = state.message if state is not None else "cannot be judged"
        raise Skipped("unknown-state", f"{where}: {why}; nothing to {verb}", rel)
    previous = recorded_hash(record)
    if local == previous:
        raise Skipped("not-modified", f"{where} matches its record: nothing to {verb}", rel)
    return Rebaseline(
        wanted, record, rel, target, local, previous, rebaselined_record(record, local)
    )


def _kept_item(name: str, artifact_type: str, planned: Rebaseline) -> KeptItem:
    return KeptItem(
        name,
        artifact_type,
        planned.rel,
        planned.collection,
        content_hash=planned.local_hash,
        replaced_from=None,
        warnings=(),
        previous_hash=planned.previous_hash,
    )


def keep_local(
    project: Path | str,
    name: str,
    artifact_type: str,
    *,
    profile: Profile | None = None,
    dry_run: bool = False,
    hold_record: bool = False,
    file_ops: FileOps | None = None,
) -> KeepLocalResult:
    """Record the local copy of the recorded ``(name, type)`` of ``profile`` (default
    ``claude_code``) as its baseline, as SkillMeat records an accepted local modification (the
    module doc says what is written, what is refused, and the drift state afterwards: in sync,
    or SM141 when the collection's copy differs from the kept one). ``dry_run`` reports the same
    and writes nothing; ``hold_record`` and ``file_ops`` as for
    :func:`~.deploying.deploy`. Raises :class:`DeployError` when the project or its deployment
    file is unusable."""
    return keep_local_many(
        project,
        [(name, artifact_type)],
        profile=profile,
        dry_run=dry_run,
        hold_record=hold_record,
        file_ops=file_ops,
    )


def keep_local_many(
    project: Path | str,
    pairs: Sequence[tuple[str, str]],
    *,
    profile: Profile | None = None,
    dry_run: bool = False,
    hold_record: bool = False,
    file_ops: FileOps | None = None,
) -> KeepLocalResult:
    """:func:`keep_local` for several records as one all-or-nothing request."""
    with locked(
        project, profile, dry_run=dry_run, file_ops=file_ops
    ) as loaded:
        result = loaded.start_result(KeepLocalResult, dry_run=dry_run)
        drift = RecordDrift(loaded, None)  # the copy against its record: no collection needed
        planned: list[tuple[KeptItem, Rebaseline]] = []
        for name, artifact_type in unique_pairs(pairs):
            record = loaded.by_identity.get(identity(name, artifact_type))
            path = recorded_text(record, "artifact_path")
            collection = recorded_text(record, "from_collection")
            try:
                one = plan_rebaseline(loaded, drift, name, artifact_type, "keep")
                planned.append((_kept_item(name, artifact_type, one), one))
            except Refused as exc:
                result.errors.append(exc.item(name, artifact_type, path, collection))
            except Skipped as exc:
                result.skipped.append(exc.item(name, artifact_type, path, collection))
        _record(loaded, result, planned, dry_run=dry_run, hold=hold_record)
    return result


def _record(
    loaded: LoadedProject,
    result: KeepLocalResult,
    planned: list[tuple[KeptItem, Rebaseline]],
    *,
    dry_run: bool,
    hold: bool,
) -> None:
    """Write the new baselines of ``planned`` as one step (or, in a dry run, report them)."""
    items = [item for item, _ in planned]
    if result.errors:
        why = "not kept: another artifact of this request was refused"
        result.skipped.extend(
            SkippedItem(i.name, i.type, i.path, i.collection, "aborted", why) for i in items
        )
        return
    if not items:
        return
    result.file = loaded.shown_file
    if dry_run:
        result.deployed.extend(items)
        return
    transaction = loaded.transaction("keep-local")
    text = new_text(loaded, {one.identity: one.new_record for _, one in planned})

    def steps(_staging: Path) -> str:
        transaction.intend([], text)
        return text

    failure = carry_out(loaded, transaction, steps, result, hold=hold)
    if failure is None:
        result.deployed.extend(items)
        return
    message = (
        f"cannot write {loaded.file_label}: {describe(failure.error)}"
        f"{undo_note(failure, transaction.staging)}"
    )
    result.errors.extend(ErrorItem(i.name, i.type, i.path, i.collection, message) for i in items)
