"""Swapping paths inside a profile root, all or nothing.

A :class:`Transaction` first creates a staging folder inside the root
(``.skillmeat-staging-XXXX``) that receives the new copies and the copies they replace; each
target is then swapped with a rename, and every swap can be undone, newest first. The staging
folder is always removed at the end, except when undoing itself failed: then it holds the only
copy of the previous files, and the error names it. Folders the transaction created on the way
are removed again when the request did not complete. Every file-system step goes through the
request's :class:`~.fileops.FileOps`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skillmeat_ls.deploy.fileops import FileOps

#: Prefix of the temporary folder inside a profile root that holds copies while a request runs.
STAGING_PREFIX = ".skillmeat-staging-"


@dataclass(frozen=True)
class Failure:
    """Why a transaction did not complete, and what went wrong undoing it (nothing: every
    change was undone)."""

    error: Exception
    undo_problems: tuple[str, ...]


class Transaction:
    """Swaps paths inside a profile root and can undo every swap it made."""

    def __init__(self, root: Path, file_ops: FileOps) -> None:
        self.root = root
        self.file_ops = file_ops
        self.staging: Path | None = None
        self.created: list[Path] = []
        self.moves: list[tuple[Path, Path | None, bool]] = []  # (target, aside, new one moved in)

    def run(self, steps: Callable[[Path], None]) -> Failure | None:
        """Begin, run ``steps`` (given the staging folder), and finish; None when every step
        went through. If a step raises, every swap is undone and the failure returned; an
        interruption (``KeyboardInterrupt``, ...) is undone too, then raised again."""
        problems: list[str] = []
        done = False
        try:
            steps(self._begin())
            done = True
            return None
        except BaseException as exc:
            problems = self._rollback()
            if not isinstance(exc, Exception):
                raise
            return Failure(exc, tuple(problems))
        finally:
            self._finish(keep_staging=bool(problems), remove_created=not done)

    def _begin(self) -> Path:
        if not os.path.lexists(self.root):
            self.file_ops.make_folder(self.root)
            self.created.append(self.root)
        self.staging = self.file_ops.make_temporary_folder(self.root, STAGING_PREFIX)
        return self.staging

    def ensure_folder(self, folder: Path) -> None:
        """Create the missing folders from the profile root down to ``folder``; never through a
        symlink or over a file."""
        current = self.root
        for part in folder.relative_to(self.root).parts:
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                self.file_ops.make_folder(current)
                self.created.append(current)
                continue
            if not stat.S_ISDIR(mode):  # lstat: a symlinked folder is refused too
                raise NotADirectoryError(f"{current} is not a folder (a file or a symlink)")

    def put(self, index: int, staged: Path, target: Path) -> None:
        """Move ``staged`` to ``target``, the path there (if any) first moved aside."""
        assert self.staging is not None
        aside = None
        if os.path.lexists(target):
            aside = self.staging / f"old-{index}"
            self.file_ops.move(target, aside)
        self.moves.append((target, aside, False))
        self.file_ops.move(staged, target)
        self.moves[-1] = (target, aside, True)

    def take_out(self, index: int, target: Path) -> None:
        """Move ``target`` aside into the staging folder."""
        assert self.staging is not None
        aside = self.staging / f"old-{index}"
        self.file_ops.move(target, aside)
        self.moves.append((target, aside, False))

    def _rollback(self) -> list[str]:
        """Undo every swap, newest first; the problems met (none when all went back)."""
        problems: list[str] = []
        if not self.moves:
            return problems
        staging = self.staging
        assert staging is not None  # every swap moves through the staging folder
        for number in range(len(self.moves) - 1, -1, -1):
            target, aside, moved_in = self.moves[number]
            try:
                if moved_in:
                    self.file_ops.move(target, staging / f"undo-{number}")
                if aside is not None:
                    self.file_ops.move(aside, target)
            except OSError as exc:
                problems.append(f"{target}: {exc.strerror or exc}")
        self.moves.clear()
        return problems

    def _finish(self, *, keep_staging: bool, remove_created: bool) -> None:
        if self.staging is not None and not keep_staging:
            self.file_ops.remove_tree(self.staging)
        if remove_created:
            for folder in reversed(self.created):
                self.file_ops.remove_if_only_locks(folder)
