"""Pulling a locally modified copy back into its collection (:func:`pull`): the context-sync pull
SkillMeat 0.74.0's ``sync-pull`` offers for skills under ``.claude/`` only, here for every type
a collection stores and every profile root.

``strategy="overwrite"`` does to the collection what SkillMeat's overwrite pull does to it for a
skill: the collection's copy (the artifact's own path in its ``collection.toml``) is replaced
wholesale by a copy of the project's (a staged copy, then a swap; no skip list; modes and times
kept, symlinks kept as symlinks: :func:`~.copyplan.plan_verbatim`), under SkillMeat's lock of
that copy (``.<name>.skillmeat-lock``); ``collection.toml`` is left as it is; the entry
``[lock.entries."NAME::TYPE"]`` of ``collection.lock`` is replaced whole (the new copy's hash,
``fetched`` now in naive UTC, the previous copy's hash as ``resolved_sha``, ``resolved_version =
"unknown"``; other entries re-serialised as SkillMeat re-serialises them; mode 0600:
:mod:`.lockfile`). Unlike SkillMeat, which leaves the project's record alone (so it offers the
same pull again forever), the record then takes the pulled copy as its baseline as keep-local
does (:func:`~.keeping.plan_rebaseline`), so that neither skillmeat-ls nor SkillMeat's
``status`` shows drift afterwards; and the collection is the record's ``from_collection``, not
one read from the current directory as SkillMeat's pull does (a bug of its own).

``strategy="fork"`` keeps the collection's copy and adds the project's beside it as
``<name>-fork`` (then ``-fork-2``, ``-fork-3``, ...; a single file ``<stem>-fork.md``), as
SkillMeat's fork does: with no ``collection.toml`` entry and no lock entry, so SkillMeat's own
``list`` does not show it until it is added (``skillmeat add``); this follows SkillMeat because a
manifest entry written here would be one SkillMeat's own fork never writes. The record is left as
it is. Unlike SkillMeat, the original's lock entry is not rewritten either: SkillMeat's fork
recomputes it (a new ``fetched``, ``resolved_version = "unknown"``, ``upstream`` dropped) though
the original did not change, which loses its provenance for nothing.

Refused: a pair with no record, a record whose collection is not in the index or no longer holds
the artifact, a type no SkillMeat collection stores, a copy that cannot be pulled as it is (a
symlink leading out of it, a special file), a ``collection.lock`` SkillMeat's own reader fails
on. Skipped: a copy that matches its record (nothing to pull), a missing one, one that cannot be
judged (SM133).

All or nothing, even when killed: the journal in the profile root names the collection's changes
too (:mod:`.collectionside` has the rule), and the deployment file, written last, is the commit
point; the next skillmeat-ls that reads or writes the project settles it. ``hold_record`` stops
before writing the deployment file, as for deploy (a fork writes none: it never holds).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.deploy.collectionside import PullTransaction, lock_file, read_lock_bytes
from skillmeat_ls.deploy.copyplan import CopyPlan, copy_planned, plan_verbatim
from skillmeat_ls.deploy.drift import RecordDrift
from skillmeat_ls.deploy.execution import carry_out, undo_note
from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.journal import STAGING_PREFIX, CollectionPart, CollectionSwap, LockRewrite
from skillmeat_ls.deploy.keeping import Rebaseline, plan_rebaseline
from skillmeat_ls.deploy.lockfile import (
    Entries,
    LockFileError,
    lock_key,
    pulled_entry,
    read_entries,
    render_lock,
    utc_now,
)
from skillmeat_ls.deploy.paths import checked_rel, checked_target
from skillmeat_ls.deploy.project import LoadedProject, locked
from skillmeat_ls.deploy.records import new_text, recorded_text
from skillmeat_ls.deploy.results import (
    DeployError,
    ErrorItem,
    PulledItem,
    PullResult,
    Refused,
    Skipped,
    describe,
)
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index.model import LOCK_NAME
from skillmeat_ls.profiles import Profile
from skillmeat_ls.schema import DEPLOYABLE_TYPES, canonical_type, identity

if TYPE_CHECKING:
    from skillmeat_ls.index import Collection, CollectionArtifact, CollectionIndex

#: The strategies of :func:`pull`.
STRATEGIES = ("overwrite", "fork")


@dataclass(frozen=True)
class PlannedPull:
    """One pull, checked: the record's side (:class:`~.keeping.Rebaseline`), the collection's
    artifact, its real folder and path there, and what to copy."""

    local: Rebaseline
    collection: Collection
    artifact: CollectionArtifact
    folder: Path  # the collection's real folder
    rel: str  # the artifact's path inside it
    copy: CopyPlan
    strategy: str

    @property
    def overwrite(self) -> bool:
        return self.strategy == "overwrite"

    def item(
        self, name: str, artifact_type: str, rel: str, previous_hash: str | None
    ) -> PulledItem:
        return PulledItem(
            name,
            artifact_type,
            self.local.rel,
            self.collection.name,
            content_hash=self.local.local_hash,
            replaced_from=None,
            warnings=(),
            strategy=self.strategy,
            collection_path=rel,
            previous_hash=previous_hash,
            record_updated=self.overwrite,
        )


def pull(
    project: Path | str,
    index: CollectionIndex | None,
    name: str,
    artifact_type: str,
    *,
    profile: Profile | None = None,
    strategy: str = "overwrite",
    dry_run: bool = False,
    hold_record: bool = False,
    file_ops: FileOps | None = None,
) -> PullResult:
    """Pull the locally modified copy of the recorded ``(name, type)`` of ``profile`` (default
    ``claude_code``) into the record's own collection, by ``strategy`` (``overwrite`` or
    ``fork``; the module doc says what each changes, and what is refused or skipped).
    ``dry_run`` reports the same and writes nothing; ``hold_record`` and ``file_ops``
    as for :func:`~.deploying.deploy`. Raises :class:`DeployError` for an unknown
    strategy, or when the project or its deployment file is unusable."""
    if strategy not in STRATEGIES:
        raise DeployError(f"unknown pull strategy {strategy!r} (overwrite or fork)")
    with locked(
        project, profile, dry_run=dry_run, file_ops=file_ops
    ) as loaded:
        result = loaded.start_result(PullResult, dry_run=dry_run)
        record = loaded.by_identity.get(identity(name, artifact_type))
        path = recorded_text(record, "artifact_path")
        collection = recorded_text(record, "from_collection")
        try:
            planned = _plan_pull(loaded, index, name, artifact_type, strategy)
        except Refused as exc:
            result.errors.append(exc.item(name, artifact_type, path, collection))
            return result
        except Skipped as exc:
            result.skipped.append(exc.item(name, artifact_type, path, collection))
            return result
        result.file = loaded.shown_file
        if dry_run:
            rel = planned.rel if planned.overwrite else _fork_rel(planned)
            previous = _hash_or_none(planned.folder / rel) if planned.overwrite else None
            result.deployed.append(planned.item(name, artifact_type, rel, previous))
            return result
        _execute(loaded, planned, result, name, artifact_type, hold=hold_record)
    return result


def _plan_pull(
    loaded: LoadedProject,
    index: CollectionIndex | None,
    name: str,
    artifact_type: str,
    strategy: str,
) -> PlannedPull:
    local = plan_rebaseline(loaded, RecordDrift(loaded, index), name, artifact_type, "pull")
    recorded_type: str = local.record["artifact_type"]  # a string: the record has an identity
    if canonical_type(recorded_type) not in DEPLOYABLE_TYPES:
        raise Refused(
            f"SkillMeat's collections hold no {recorded_type!r} artifacts: there is nothing to "
            "pull it into",
            local.rel,
        )
    collection = index.get(local.collection) if index and local.collection else None
    if collection is None:
        known = ", ".join(index.names()) if index else "none"
        raise Refused(f"collection {local.collection!r} is unknown (known: {known})", local.rel)
    found = collection.find(name, recorded_type) or collection.find(
        name, canonical_type(recorded_type)
    )
    if not found:
        raise Refused(
            f"collection {collection.name} no longer has the {recorded_type} {name!r}: there is "
            "no copy there to pull into (skillmeat add puts it back)",
            local.rel,
        )
    folder = Path(os.path.realpath(collection.path))
    rel = checked_rel(found[0].rel_path)
    checked_target(folder, rel)
    copy = plan_verbatim(local.target, loaded.display(local.rel))
    there = folder / rel
    if os.path.lexists(there) and os.path.isdir(there) != copy.is_dir:
        kind = "folder" if copy.is_dir else "file"
        raise Refused(f"{loaded.display(local.rel)} is a {kind}, unlike its collection's copy")
    if strategy == "overwrite":
        _lock_entries(folder, collection.name)  # refused now if SkillMeat could not read it
    return PlannedPull(local, collection, found[0], folder, rel, copy, strategy)


def _lock_entries(folder: Path, name: str) -> tuple[bytes | None, Entries]:
    """``collection.lock`` of ``folder`` as read, and its entries as SkillMeat reads them."""
    try:
        raw = read_lock_bytes(folder)
        return raw, read_entries(raw.decode("utf-8") if raw is not None else None)
    except (LockFileError, UnicodeDecodeError, OSError) as exc:
        raise Refused(
            f"collection {name}'s {LOCK_NAME} cannot be read as SkillMeat reads it "
            f"({describe(exc)}): fix it first"
        ) from None


def _fork_rel(planned: PlannedPull) -> str:
    """The first free fork name beside the collection's copy, as SkillMeat's ``_sync_fork``
    names it: ``-fork``, then ``-fork-2``, ``-fork-3``, ... (before a single file's suffix)."""
    parent, leaf = posixpath.split(planned.rel)
    stem, suffix = (leaf, "") if planned.copy.is_dir else posixpath.splitext(leaf)
    number = 1
    while True:
        tail = "-fork" if number == 1 else f"-fork-{number}"
        rel = posixpath.join(parent, f"{stem}{tail}{suffix}")
        if not os.path.lexists(planned.folder / rel):
            return rel
        number += 1


def _hash_or_none(path: Path) -> str | None:
    try:
        return content_hash(path)
    except (OSError, ValueError):
        return None


def _execute(
    loaded: LoadedProject,
    planned: PlannedPull,
    result: PullResult,
    name: str,
    artifact_type: str,
    *,
    hold: bool,
) -> None:
    """Pull ``planned`` as one all-or-nothing step (see the module doc)."""
    transaction = loaded.transaction_of(PullTransaction, "pull")
    done: list[PulledItem] = []

    def steps(_staging: Path) -> str:
        folder = planned.folder
        transaction.hold_lock(lock_file(folder))
        rel = planned.rel if planned.overwrite else _fork_rel(planned)
        target = folder / rel
        transaction.hold_lock(target)
        if not planned.overwrite and os.path.lexists(target):
            raise RuntimeError(f"collection {planned.collection.name}: {rel} appeared meanwhile")
        previous = _hash_or_none(target) if planned.overwrite else None
        rewrite, lock_text = _lock_rewrite(planned, previous) if planned.overwrite else (None, "")
        swap = CollectionSwap(rel, "old-0", "new-0", planned.local.local_hash, previous)
        part = CollectionPart(
            planned.collection.name,
            str(folder),
            STAGING_PREFIX + secrets.token_hex(4),
            (swap,),
            rewrite,
        )
        if planned.overwrite:
            text = new_text(loaded, {planned.local.identity: planned.local.new_record})
        else:  # a fork leaves the record, hence the file, as it is
            assert loaded.contents is not None  # the record was read from it
            text = loaded.contents.raw.decode("utf-8")
        transaction.intend([], text, part)
        staged = transaction.open_collection_staging() / "new-0"
        copy_planned(planned.copy, staged, loaded.file_ops)
        if content_hash(staged) != planned.local.local_hash:
            raise RuntimeError(f"{loaded.display(planned.local.rel)} changed while it was pulled")
        transaction.swap_in_collection(0)
        if rewrite is not None:
            transaction.rewrite_lock(lock_text)
        done.append(planned.item(name, artifact_type, rel, previous))
        return text

    if planned.overwrite:
        failure = carry_out(loaded, transaction, steps, result, hold=hold)
    else:
        failure = transaction.run(steps, lambda _text: None)
    if failure is None:
        result.deployed.extend(done)
        return
    result.errors.append(
        ErrorItem(
            name,
            artifact_type,
            planned.local.rel,
            planned.collection.name,
            f"{describe(failure.error)}{undo_note(failure, transaction.staging)}",
        )
    )


def _lock_rewrite(planned: PlannedPull, previous: str | None) -> tuple[LockRewrite, str]:
    """The rewrite of ``collection.lock`` an overwrite pull makes (under the file's lock), and
    the new text."""
    raw, entries = _lock_entries(planned.folder, planned.collection.name)
    key = lock_key(planned.artifact.name, planned.artifact.type)
    entry = pulled_entry(planned.local.local_hash, previous, utc_now())
    text = render_lock({**entries, key: entry})
    mode = stat.S_IMODE(os.stat(lock_file(planned.folder)).st_mode) if raw is not None else None
    rewrite = LockRewrite(
        key,
        raw.decode("utf-8") if raw is not None else None,
        mode,
        entries.get(key),
        entry,
        hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    return rewrite, text
