"""The collection side of a pull: what it changes in the collection it pulls into, and how that
is finished or undone, by the request itself (:class:`PullTransaction`) or by the recovery of
its profile root (:func:`settle_collection`).

A pull changes two things in the collection folder, both journalled (the ``"collection"`` part of
the root's journal, :class:`~.journal.CollectionPart`) before either is touched: the
collection's copy of the artifact (or a new fork beside it), swapped in like a deploy's copy,
through a staging folder ``<collection>/.skillmeat-staging-XXXX`` (on the same file system as
the copy, so the swap is two renames), and ``collection.lock``, rewritten atomically. The
journal names the collection by name and by the real path of its folder, so the next
skillmeat-ls that reads the project can settle it whatever SkillMeat home it was started with;
it acts on that folder only when it is a real folder, named like the collection, holding a
``collection.toml``.

Locks, in this order, after the deployment file's (so two pulls never wait on each other in
turn): SkillMeat's lock of ``collection.lock`` (``.collection.lock.skillmeat-lock``, which orders
skillmeat-ls processes rewriting that file; SkillMeat's own writer takes none), then SkillMeat's
lock of the target (``.<name>.skillmeat-lock``, which SkillMeat's ``WriteTransaction`` takes
too). The live request holds them from before it reads the lock file to its end; recovery takes
them again.

Order on disk, which the undo relies on: the journal, then the collection staging folder, the
staged copy, the swap, ``collection.lock``, the deployment file (the commit point); then the
collection staging folder is removed, then the journal. So a missing collection staging folder
means nothing was moved yet, or everything it held was settled. Undoing (:func:`undo_collection`)
moves the pulled copy out only while it still has the hash the pull gave it, and puts the
previous lock text back only while the file still holds the text the pull wrote (if another
writer rewrote it since, only the pull's own entry is put back, and only if it is still the one
the pull wrote): a collection another program changed after the crash keeps that change.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.journal import CollectionPart
from skillmeat_ls.deploy.lockfile import (
    LOCK_FILE_MODE,
    LockFileError,
    read_entries,
    render_lock,
)
from skillmeat_ls.deploy.results import DeployError
from skillmeat_ls.deploy.transaction import Transaction, undo_moves
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index.model import LOCK_NAME
from skillmeat_ls.locks import LockTimeout, destination_lock


def lock_file(folder: Path) -> Path:
    """A collection's ``collection.lock``."""
    return folder / LOCK_NAME


def read_lock_bytes(folder: Path) -> bytes | None:
    """The bytes of ``collection.lock`` (None: there is none); :class:`LockFileError` when it is
    not a regular file (SkillMeat would replace a symlink there by a file)."""
    path = lock_file(folder)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        raise LockFileError("it is not a regular file (a symlink is never written through)")
    return path.read_bytes()


def _has_hash(target: Path, expected: str) -> bool:
    """Whether the copy at ``target`` is the one whose content hash is ``expected``."""
    try:
        return content_hash(target) == expected
    except (OSError, ValueError):
        return False


def _remove(path: Path, file_ops: FileOps) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        file_ops.remove_tree(path)
    else:
        file_ops.remove_file(path)


def undo_collection(part: CollectionPart, file_ops: FileOps) -> list[str]:
    """Put the collection's copies and ``collection.lock`` back as they were before the pull of
    ``part`` (the module doc says when); the problems met (none: all is back)."""
    staging = part.path / part.staging
    problems: list[str] = []
    if os.path.lexists(staging):
        problems = undo_moves(
            part.path,
            staging,
            part.swaps,
            file_ops,
            part.display,
            ours=lambda number, target: _has_hash(target, part.swaps[number].new_hash),
        )
    else:  # nothing was moved, or everything was settled; or a pulled copy lost its staging
        for swap in part.swaps:
            target = part.path / swap.path
            if not os.path.lexists(target) or not _has_hash(target, swap.new_hash):
                continue
            if swap.old_hash is None:
                _remove(target, file_ops)  # nothing was there: the pull's copy goes
            elif swap.old_hash != swap.new_hash:
                problems.append(
                    f"{part.display(swap.path)}: the previous copy is gone with "
                    f"{part.display(part.staging)}"
                )
    return problems + _restore_lock(part, file_ops)


def _restore_lock(part: CollectionPart, file_ops: FileOps) -> list[str]:
    rewrite = part.lock
    if rewrite is None:
        return []
    path = lock_file(part.path)
    try:
        current = read_lock_bytes(part.path)
        if current is None:
            return []
        if hashlib.sha256(current).hexdigest() == rewrite.new_sha256:
            if rewrite.old_text is None:
                file_ops.remove_file(path)
            else:
                file_ops.write_lock(path, rewrite.old_text, rewrite.old_mode or LOCK_FILE_MODE)
            return []
        entries = read_entries(current.decode("utf-8"))
        if entries.get(rewrite.key) != rewrite.new_entry:
            return []  # never written, already put back, or another writer's since
        if rewrite.old_entry is None:
            del entries[rewrite.key]
        else:
            entries[rewrite.key] = rewrite.old_entry
        file_ops.write_lock(path, render_lock(entries), stat.S_IMODE(os.stat(path).st_mode))
    except (UnicodeDecodeError, LockFileError):
        return []  # not a lock the pull wrote: left as it is
    except OSError as exc:
        return [f"{part.display(LOCK_NAME)}: {exc.strerror or exc}"]
    return []


def finish_collection(part: CollectionPart, file_ops: FileOps) -> None:
    """The end of a pull that is over: its collection staging folder goes (with the previous
    copy in it, after a commit; with the pulled one, after a roll-back)."""
    file_ops.remove_tree(part.path / part.staging)


@contextlib.contextmanager
def collection_locks(part: CollectionPart) -> Iterator[None]:
    """SkillMeat's locks of ``part``'s ``collection.lock`` and targets, in the pull's order."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(destination_lock(lock_file(part.path)))
            for swap in part.swaps:
                held.enter_context(destination_lock(part.path / swap.path))
        except LockTimeout as exc:
            raise DeployError(
                f"{exc}: the interrupted pull into {part.display(None)} cannot be settled now; "
                "try again once it is done"
            ) from None
        yield


def settle_collection(part: CollectionPart, file_ops: FileOps, *, committed: bool) -> list[str]:
    """Recovery of the collection side of an interrupted pull, under its locks: after a commit,
    finish it; else undo it, then finish. The problems met undoing (then nothing is removed)."""
    with collection_locks(part):
        if not committed:
            problems = undo_collection(part, file_ops)
            if problems:
                return problems
        finish_collection(part, file_ops)
    return []


class PullTransaction(Transaction):
    """A :class:`~.transaction.Transaction` of a profile root that also changes a collection:
    its undo and clean-up include the journal's collection part, before the root's own."""

    def hold_lock(self, destination: Path) -> None:
        """Take SkillMeat's lock of ``destination`` until the request ends."""
        self._locks.enter_context(destination_lock(destination))

    @property
    def part(self) -> CollectionPart | None:
        return self.journal.collection if self.journal is not None else None

    def open_collection_staging(self) -> Path:
        """Create the journalled staging folder in the collection (after the journal)."""
        assert self.part is not None
        staging = self.part.path / self.part.staging
        self.file_ops.make_folder(staging)
        return staging

    def swap_in_collection(self, number: int) -> None:
        """Make the journalled collection swap ``number`` (its target's lock is held): the copy
        there, if any, goes aside into the collection staging folder, the new one moves in."""
        part = self.part
        assert part is not None
        swap = part.swaps[number]
        target, staging = part.path / swap.path, part.path / part.staging
        if os.path.lexists(target):
            self.file_ops.move(target, staging / swap.aside)
        assert swap.new is not None
        self.file_ops.move(staging / swap.new, target)

    def rewrite_lock(self, text: str) -> None:
        """Replace ``collection.lock`` with ``text`` (mode 0600, as SkillMeat leaves it), unless
        another program changed it since it was read (then the pull is rolled back)."""
        part = self.part
        assert part is not None and part.lock is not None
        old = part.lock.old_text
        if read_lock_bytes(part.path) != (old.encode("utf-8") if old is not None else None):
            raise RuntimeError(
                f"{part.display(LOCK_NAME)} was changed by another program meanwhile"
            )
        self.file_ops.write_lock(lock_file(part.path), text, LOCK_FILE_MODE)

    def abandon(self) -> list[str]:
        part = self.part
        if part is None:
            return super().abandon()
        try:
            problems = undo_collection(part, self.file_ops)
            if not problems:
                finish_collection(part, self.file_ops)
        except BaseException:
            self._locks.close()
            raise
        if problems:
            self._locks.close()  # the journal and both staging folders stay for recovery
            return problems
        return super().abandon()

    def close(self) -> None:
        part = self.part
        if part is not None:
            finish_collection(part, self.file_ops)
        super().close()
