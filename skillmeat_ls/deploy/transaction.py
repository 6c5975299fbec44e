"""Swapping paths inside a profile root, all or nothing, journalled so that a crash is undone.

A :class:`Transaction` first creates a staging folder inside the root
(``.skillmeat-staging-XXXX``), where the request's steps copy the new versions; then
:meth:`~Transaction.intend` writes the journal (:mod:`.journal`: every swap, the folders that will
be created, the hash of the new deployment file text) before anything in the root is touched;
then each target is swapped with renames (:meth:`~Transaction.swap`, under the target's lock;
a folder the root did not have goes in whole with the copies for it, locked while staged,
:mod:`.staginglayout`); then the deployment file is replaced, the commit point; finally the
journal and the staging folder are removed.

If a step raises, the swaps are undone newest first by :func:`undo_swaps`, the same function
that undoes a crashed request (:mod:`.recovery`): it looks at what is in the staging folder and
at the target before each move, so it can be run again from any point. Folders the transaction
created are then removed again (when they hold only lock files), then the journal and the staging
folder. If undoing failed, journal and staging are kept: the staging folder holds the only copy
of the previous files, the error names it, and the next request's recovery tries again.

:meth:`Transaction.hold` stops before the commit and returns a :class:`Pending` that commits or
rolls back later, from any thread (``hold_record=True`` of deploy, update, keep-local and
pull). A pull also changes its collection: :class:`~.collectionside.PullTransaction`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.journal import (
    STAGING_PREFIX,
    CollectionPart,
    Journal,
    Swap,
    journal_path,
)
from skillmeat_ls.deploy.paths import display
from skillmeat_ls.locks import destination_lock

#: The profile roots of this process's :class:`Pending` requests: their journals are live.
_pending_roots: set[Path] = set()


def pending_here(root: Path) -> bool:
    """True while a :class:`Pending` of this process holds ``root`` (its lock, its journal)."""
    return root in _pending_roots


@dataclass(frozen=True)
class Failure:
    """Why a transaction did not complete, and what went wrong undoing it (nothing: every
    change was undone)."""

    error: Exception
    undo_problems: tuple[str, ...]


def undo_swaps(root: Path, journal: Journal, file_ops: FileOps) -> list[str]:
    """Put every target of ``journal`` in the profile root back as it was, newest first; the
    problems met (none when all went back). See :func:`undo_moves`."""
    return undo_moves(
        root, root / journal.staging, journal.swaps, file_ops, lambda rel: display(root, rel)
    )


def undo_moves(
    base: Path,
    staging: Path,
    swaps: Sequence[Swap],
    file_ops: FileOps,
    shown: Callable[[str], str],
    ours: Callable[[int, Path], bool] | None = None,
) -> list[str]:
    """Put every target of ``swaps`` (paths under ``base``, copies in ``staging``) back as it
    was, newest first; the problems met, each named by ``shown(path)``. Each step first checks
    where the copies are, so this is idempotent: a new copy still in staging was never moved
    in; one that is gone from staging (and not yet in ``undo-k``) is the target, which leaves
    for ``staging/undo-k`` (only if ``ours(k, target)``, when given: a target someone else
    replaced since is left alone); then an old copy still in staging returns to its empty
    target."""
    problems: list[str] = []
    for number in range(len(swaps) - 1, -1, -1):
        swap = swaps[number]
        target = base / swap.path
        undone = staging / f"undo-{number}"
        aside = staging / swap.aside
        try:
            if (
                swap.new is not None
                and not os.path.lexists(staging / swap.new)
                and not os.path.lexists(undone)
                and os.path.lexists(target)
                and (ours is None or ours(number, target))
            ):
                file_ops.move(target, undone)
            if os.path.lexists(aside) and not os.path.lexists(target):
                file_ops.move(aside, target)
        except OSError as exc:
            problems.append(f"{shown(swap.path)}: {exc.strerror or exc}")
    return problems


def summary(problems: Sequence[str], shown: int = 3) -> str:
    """The problems met undoing, for a message: the first few, then how many more."""
    more = len(problems) - shown
    return "; ".join(problems[:shown]) + (f"; and {more} more" if more > 0 else "")


def clean_up(root: Path, journal: Journal, file_ops: FileOps, *, rolled_back: bool) -> None:
    """The end of a request that is over: after a roll-back, the folders it created (if they
    hold only lock files), newest first; then its journal, then its staging folder."""
    if rolled_back:
        for rel in reversed(journal.created):
            file_ops.remove_if_only_locks(root / rel)
    file_ops.remove_file(journal_path(root))
    file_ops.remove_tree(root / journal.staging)


class Transaction:
    """Swaps paths inside a profile root and can undo every swap it made."""

    def __init__(
        self,
        root: Path,
        file_ops: FileOps,
        operation: str,
        deployment_file: Path,
        old_raw: bytes | None,
    ) -> None:
        self.root = root
        self.file_ops = file_ops
        self.operation = operation
        self.deployment_file = deployment_file
        self.old_raw = old_raw
        self.staging: Path | None = None
        self.journal: Journal | None = None
        self._locks = contextlib.ExitStack()  # of the targets swapped (or staged) so far
        self._folders: Mapping[int, tuple[str, str]] = {}  # swap -> folder it moves in whole
        self._moved_in: set[str] = set()  # the staged folders that did go in whole

    def run(self, steps: Callable[[Path], str], commit: Callable[[str], None]) -> Failure | None:
        """Begin, run ``steps`` (given the staging folder; they return the new deployment file
        text), ``commit`` that text, and finish; None when every step went through. If a step
        raises, every swap is undone and the failure returned; an interruption
        (``KeyboardInterrupt``, ...) is undone too, then raised again."""
        outcome = self._attempt(steps, commit)
        if isinstance(outcome, Failure):
            return outcome
        self.close()
        return None

    def hold(
        self, steps: Callable[[Path], str], file: Path, lease: contextlib.ExitStack
    ) -> Failure | Pending:
        """:meth:`run` without the commit: the returned :class:`Pending` commits or rolls back
        later, and then closes ``lease`` (what else the request holds: the deployment file's
        lock), which it takes over."""
        outcome = self._attempt(steps, None)
        if isinstance(outcome, Failure):
            return outcome
        return Pending(self, file, outcome, lease.pop_all())

    def _attempt(
        self, steps: Callable[[Path], str], commit: Callable[[str], None] | None
    ) -> Failure | str:
        try:
            self.staging = self.file_ops.make_temporary_folder(self.root, STAGING_PREFIX)
            text = steps(self.staging)
            if commit is not None:
                commit(text)
            return text
        except BaseException as exc:
            problems = self.abandon()
            if not isinstance(exc, Exception):
                raise
            return Failure(exc, tuple(problems))

    def intend(
        self,
        swaps: Sequence[tuple[str, str | None]],
        text: str,
        collection: CollectionPart | None = None,
        folders: Mapping[int, tuple[str, str]] | None = None,
    ) -> None:
        """Journal the swaps about to be made, ``(path, name of the new copy in staging or None
        to remove)`` each, the new deployment file ``text`` and, for a pull, what it changes in
        its ``collection``; nothing in the root (nor in the collection) has been changed yet.
        ``folders``: the swaps that first move in, whole, a folder the root did not have,
        ``(its path, its name in staging)``, holding the new copies of later swaps too, locked
        where they were staged (:mod:`.staginglayout`, :meth:`lock_staged`)."""
        assert self.staging is not None
        self._folders = folders or {}
        entries = tuple(Swap(rel, f"old-{number}", new) for number, (rel, new) in enumerate(swaps))
        old = hashlib.sha256(self.old_raw).hexdigest() if self.old_raw is not None else None
        self.journal = Journal(
            operation=self.operation,
            staging=self.staging.name,
            deployment_file=self.deployment_file.name,
            old_sha256=old,
            new_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            created=_missing_folders(self.root, (s.path for s in entries if s.new is not None)),
            swaps=entries,
            collection=collection,
        )
        if self.file_ops.journalled:
            self.file_ops.write_journal(journal_path(self.root), self.journal.to_text())

    def swap(self, number: int) -> None:
        """Make the journalled swap ``number`` under its target's lock: the folders on the way
        are created, the path there (if any) is moved aside, the new copy (if any) moved in. A
        swap that moves a folder in whole (:meth:`intend`) does that first, without a lock of
        the folder; a new copy staged inside such a folder is then in place already."""
        assert self.journal is not None and self.staging is not None
        swap = self.journal.swaps[number]
        if number in self._folders:
            self._move_in_whole(*self._folders[number])
        if swap.new is not None and swap.new.split("/", 1)[0] in self._moved_in:
            return  # staged inside a folder moved in whole: in place with it
        target = self.root / swap.path
        if swap.new is not None:
            self._ensure_folder(swap.path)
        self._locks.enter_context(destination_lock(target))
        if os.path.lexists(target):
            self.file_ops.move(target, self.staging / swap.aside)
        if swap.new is not None:
            self.file_ops.move(self.staging / swap.new, target)

    def _move_in_whole(self, folder: str, staged: str) -> None:
        """Move the staged folder ``staged`` in as ``folder``, unless another program has made
        something there since the copies were planned: then each copy in it goes in by its own
        swap, under its lock, as if the folder had been there."""
        assert self.staging is not None
        target = self.root / folder
        if os.path.lexists(target):
            return
        try:
            self.file_ops.move(self.staging / staged, target)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not os.path.lexists(target):
                raise
            return  # made in the meantime, and not empty
        self._moved_in.add(staged)

    def lock_staged(self, rel: str) -> None:
        """Take SkillMeat's lock of the copy ``rel`` (a path in the staging folder) inside a
        folder that a swap will move in whole; held until the request ends."""
        assert self.staging is not None
        self._locks.enter_context(destination_lock(self.staging / rel))

    def _ensure_folder(self, rel: str) -> None:
        """Create the missing folders from the profile root down to the one holding ``rel``;
        never through a symlink or over a file."""
        parts = rel.split("/")
        if "" in parts or "." in parts:  # not in one spelling: as pathlib reads it
            parts = list(Path(rel).parts)
        current = os.fspath(self.root)
        for part in parts[:-1]:
            current = os.path.join(current, part)
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                self.file_ops.make_folder(Path(current))
                continue
            if not stat.S_ISDIR(mode):  # lstat: a symlinked folder is refused too
                raise NotADirectoryError(f"{current} is not a folder (a file or a symlink)")

    def abandon(self) -> list[str]:
        """Undo every swap, release the targets' locks and clean up; the problems met undoing
        (then the journal and the staging folder are kept for the next recovery)."""
        try:
            problems = undo_swaps(self.root, self.journal, self.file_ops) if self.journal else []
        finally:
            self._locks.close()
        if not problems:
            self._clean_up(rolled_back=True)
        return problems

    def close(self) -> None:
        """After the commit: release the targets' locks, remove the journal and staging."""
        self._locks.close()
        self._clean_up(rolled_back=False)

    def _clean_up(self, *, rolled_back: bool) -> None:
        if self.journal is not None:
            clean_up(self.root, self.journal, self.file_ops, rolled_back=rolled_back)
        elif self.staging is not None:
            self.file_ops.remove_tree(self.staging)


def _missing_folders(root: Path, rels: Iterable[str]) -> tuple[str, ...]:
    """The folders on the way from ``root`` to each of ``rels`` that do not exist yet (the
    transaction creates them), parents first."""
    is_folder: dict[str, bool] = {}  # folder -> it exists as a folder (False: missing)
    missing: dict[str, None] = {}
    for rel in rels:
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in is_folder:
                try:
                    is_folder[folder] = stat.S_ISDIR(os.lstat(root / folder).st_mode)
                except FileNotFoundError:
                    is_folder[folder] = False
                    missing[folder] = None
                    continue
            if folder in missing:
                continue
            if not is_folder[folder]:
                break  # a file on the way: the swap will fail, nothing is created
    return tuple(missing)


class Pending:
    """A request done up to, not including, writing its deployment file: every copy is
    in place, the journal is on disk, the locks are held. The editor is to write :attr:`text`
    into :attr:`path`; then :meth:`commit` (the editor applied it) or :meth:`rollback` (it
    declined, or did not answer). Both can be called from any thread, and more than once (the
    first call decides). A crash before either is rolled back by the next recovery, as the
    deployment file on disk still holds the old records. Meanwhile this process's other
    requests on the same root are refused at once, and its recoveries leave the root alone
    (:func:`pending_here`); other processes wait for the lock."""

    def __init__(
        self, transaction: Transaction, path: Path, text: str, lease: contextlib.ExitStack
    ) -> None:
        self.path = path
        self.text = text
        self._transaction = transaction
        self._lease = lease
        self._mutex = threading.Lock()
        self._outcome: str | None = None  # "committed" or "rolled back"
        self._problems: tuple[str, ...] = ()
        _pending_roots.add(transaction.root)

    @property
    def outcome(self) -> str | None:
        """None while pending, then "committed" or "rolled back"."""
        return self._outcome

    def commit(self) -> None:
        """The editor wrote the text: remove the journal and the staging folder, release the
        locks."""
        with self._mutex:
            if self._settled("committed"):
                return
            try:
                self._transaction.close()
            finally:
                self._release()

    def rollback(self) -> tuple[str, ...]:
        """Undo every swap and release the locks; the problems met undoing (none: the files are
        as they were; else the journal stays and the next recovery tries again)."""
        with self._mutex:
            if not self._settled("rolled back"):
                try:
                    self._problems = tuple(self._transaction.abandon())
                finally:
                    self._release()
            return self._problems

    def _release(self) -> None:
        try:
            self._lease.close()
        finally:
            _pending_roots.discard(self._transaction.root)

    def _settled(self, outcome: str) -> bool:
        """True if this was already settled with ``outcome``; False (now settling it) the first
        time; an error when it was settled the other way. Called under the mutex."""
        if self._outcome is None:
            self._outcome = outcome
            return False
        if self._outcome != outcome:
            raise RuntimeError(f"the deployment was already {self._outcome}")
        return True
