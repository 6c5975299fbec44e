"""Completing or undoing a request that a crash interrupted, then sweeping stale staging folders.

The recovery rule. On finding a journal in a profile root (:mod:`.journal`): if the deployment
file's content already hashes to the journal's new-text hash, the request committed (the atomic
replace of the deployment file is its commit point, and every swap is made before it): roll
forward, that is finish the clean-up, removing the journal, then the staging folder with the old
copies in it. Otherwise roll back every swap, newest first, to the old state
(:func:`~.transaction.undo_swaps`; for swap ``k``: if its new copy is neither in staging any more
nor in ``staging/undo-k``, the target is that new copy and moves to ``staging/undo-k``; then if
the old copy is still at ``staging/aside`` and the target is empty, it moves back), remove the
folders the request created if they hold nothing but lock files, then the journal, then the
staging folder. Every step looks at the file system before it moves anything, so a recovery that
is itself interrupted is completed by the next one. The end state after a crash at any instant is
entirely old or entirely new, files and records together. A request held for the editor
(``hold_record=True``) commits by removing its journal once the editor has the new text; a crash
before that is rolled back, as the file on disk still holds the old text (unless the editor had
saved the new one: then, by the same rule, it rolls forward).

A keep-local journals no swaps: rolled forward or back, only its record can have changed. A
pull journals no swaps in the root but a collection part (:mod:`.collectionside`), settled
under the collection's locks by the same rule and the same commit point: rolled forward, its
collection staging folder (holding the collection's previous copy) is removed before the
journal; rolled back, the collection's copy and ``collection.lock`` are put back first (only
while they are still what the pull made them), then that staging folder is removed. So a pull
killed at any instant ends with the collection's copy, its lock entry and the project's record
all old or all new. An interrupted fork changes no record, so nothing tells it committed: it
is rolled back, the fork removed.

Corner cases: a request that writes the deployment file's text unchanged cannot be told committed
from not by the file; it is rolled back, which leaves the same records. A journal that cannot be
parsed, is not one skillmeat-ls wrote, or names a path outside its root or behind a symlink is not
acted on (:func:`~.journal.read_journal` raises :class:`DeployError` naming it and what to do);
nor is one whose request had not committed but whose staging folder is gone (nothing could tell
old copies from new). If undoing fails (a read-only file system, permissions), the journal and the
staging folder are kept and :class:`DeployError` says so; the next recovery tries again.

After a recovery, every ``.skillmeat-staging-*`` folder of the root that no journal references
(left by a request killed before it wrote its journal, or after it removed it) is removed; a
symlink of that name is never followed.

All of this runs under the root's deployment-file lock: :func:`recover_locked` is what a request
calls once it holds it; :func:`skillmeat_ls.deploy.recover` takes the lock itself when the root
holds anything to recover, which one ``scandir`` of the root tells.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from skillmeat_ls.deploy.collectionside import settle_collection
from skillmeat_ls.deploy.fileops import CHUNK, FileOps
from skillmeat_ls.deploy.journal import (
    JOURNAL_NAME,
    STAGING_PREFIX,
    Journal,
    read_journal,
)
from skillmeat_ls.deploy.paths import display, inside
from skillmeat_ls.deploy.results import DeployError, RecoveryReport
from skillmeat_ls.deploy.transaction import clean_up, summary, undo_swaps


@dataclass(frozen=True)
class Leftovers:
    """What an interrupted request may have left in a profile root."""

    journal: bool
    staging: bool


def leftovers(root: Path) -> Leftovers | None:
    """A journal or staging folders in ``root`` (one ``scandir``); None when there is neither
    (or no readable root)."""
    journal = staging = False
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                journal = journal or entry.name == JOURNAL_NAME
                staging = staging or entry.name.startswith(STAGING_PREFIX)
    except OSError:  # no root, or none skillmeat-ls could have written in
        return None
    return Leftovers(journal, staging) if journal or staging else None


def recover_locked(root: Path, file_ops: FileOps) -> RecoveryReport | None:
    """Apply the recovery rule to ``root``, whose deployment-file lock the caller holds; what was
    found and done, or None when there was nothing. :class:`DeployError` when a journal is not
    acted on or could not be carried out."""
    found = leftovers(root)
    if found is None:
        return None
    journal = read_journal(root) if found.journal else None
    outcome = _settle(root, journal, file_ops) if journal is not None else None
    swept = _sweep(root, file_ops) if found.staging else ()
    if journal is None and not swept:
        return None
    return RecoveryReport(
        root=root,
        operation=journal.operation if journal is not None else None,
        outcome=outcome,
        paths=_paths(journal) if journal is not None else (),
        swept=swept,
        collection=journal.collection.name if journal and journal.collection else None,
    )


def _settle(root: Path, journal: Journal, file_ops: FileOps) -> str:
    part = journal.collection
    if journal.changes_record and _hash_of(root, journal.deployment_file) == journal.new_sha256:
        if part is not None:
            settle_collection(part, file_ops, committed=True)
        clean_up(root, journal, file_ops, rolled_back=False)
        return "rolled forward"
    where = display(root, JOURNAL_NAME)
    if journal.swaps and not os.path.lexists(root / journal.staging):
        raise DeployError(
            f"{where}: the interrupted {journal.operation} had not recorded its changes, and its "
            f"staging folder {display(root, journal.staging)} is gone, so its copies cannot be "
            f"told old from new; nothing was changed: check the copies it lists, then delete it"
        )
    problems = undo_swaps(root, journal, file_ops)
    if not problems and part is not None:
        problems = settle_collection(part, file_ops, committed=False)
    if problems:
        kept = display(root, journal.staging) + (
            f" and {part.display(part.staging)}" if part is not None else ""
        )
        raise DeployError(
            f"{where}: undoing the interrupted {journal.operation} failed "
            f"({summary(problems)}); the previous copies are kept in {kept}: fix the cause and "
            "run skillmeat-ls again"
        )
    clean_up(root, journal, file_ops, rolled_back=True)
    return "rolled back"


def _paths(journal: Journal) -> tuple[str, ...]:
    """What the interrupted request was changing: its targets in the root, then those in the
    collection it pulled into (``collection <name>: <path>``)."""
    part = journal.collection
    here = tuple(swap.path for swap in journal.swaps)
    return here + (tuple(part.display(swap.path) for swap in part.swaps) if part else ())


def _hash_of(root: Path, name: str) -> str | None:
    """SHA-256 of the deployment file ``root/name`` (a symlink is read only while it stays in
    ``root``); None when there is no such file."""
    real = os.path.realpath(root / name)
    if not inside(real, str(root)):
        return None
    hasher = hashlib.sha256()
    try:
        with open(real, "rb") as handle:
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
    except (FileNotFoundError, IsADirectoryError):
        return None
    return hasher.hexdigest()


def _sweep(root: Path, file_ops: FileOps) -> tuple[str, ...]:
    """Remove the staging folders of ``root`` (none is referenced: the journal is gone)."""
    with os.scandir(root) as entries:
        stale = sorted(
            entry.name
            for entry in entries
            if entry.name.startswith(STAGING_PREFIX) and entry.is_dir(follow_symlinks=False)
        )
    for name in stale:
        file_ops.remove_tree(root / name)
    return tuple(stale)
