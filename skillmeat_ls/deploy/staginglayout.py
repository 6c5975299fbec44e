"""Where a deploy or update stages its new copies, and which swaps put them in place.

Each item has its swap ``k`` (in request order) and its copy is staged as ``new-k``, except the
copies bound for a folder the profile root does not have yet (the skills of a project with no
``skills/``): those are staged together in one folder, ``new-f`` (``f`` the swap of the first of
them), each under its own name, with SkillMeat's lock file of each taken there, and swap ``f``
moves the whole folder in with one rename; the swaps of the others then find their copies in
place. A ``flock`` belongs to the lock file, not to its name, so each lock is held at its usual
place from then on, and the end state is what a swap per copy gives (the folder, the copies, a
lock file beside each) for one rename instead of one per copy. The folder's move takes no lock
of its own (no SkillMeat writer locks a folder of that kind); if another program has made the
folder in the meantime, nothing is moved over it: each copy then goes in from the staged folder by
its own swap, under its lock, as if the folder had been there
(:meth:`~.transaction.Transaction.swap`).

The journal lists one swap per item, as always, its new copy named ``new-f/NAME`` when it is
staged in such a folder; the folder is one the request creates. So undoing is what it is for any
request: each new copy that is no longer in staging is moved out of its target, one by one, and
the folder is then removed only if nothing but lock files is left in it — what another program
may have put there meanwhile stays.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StagingLayout:
    """Where each copy of a request goes in its staging folder (one per item, in order: the new
    copy of its swap), and the folders moved in whole."""

    copies: list[str]  # per item: its new copy, relative to the staging folder
    folders: dict[int, tuple[str, str]]  # swap -> (folder in the root, staged folder) it moves in

    def grouped(self, number: int) -> bool:
        """Whether item ``number`` is staged inside a folder moved in whole."""
        return "/" in self.copies[number]


def staging_layout(root: Path, rels: Sequence[str]) -> StagingLayout:
    """The layout of copies bound for ``rels`` (checked ``artifact_path``\\ s, one per item) in
    the profile root ``root``, as the module doc describes. A path met again gets a swap of its
    own, as if no folder were missing."""
    copies: list[str] = []
    folders: dict[int, tuple[str, str]] = {}
    staged_folders: dict[str, str] = {}  # a missing folder of the root -> its staged folder
    missing: dict[str, bool] = {}
    seen: set[str] = set()
    for number, rel in enumerate(rels):
        folder, _, name = rel.partition("/")
        if name and "/" not in name and rel not in seen and _missing(root, folder, missing):
            seen.add(rel)
            staged = staged_folders.get(folder)
            if staged is None:
                staged = staged_folders[folder] = f"new-{number}"
                folders[number] = (folder, staged)
            copies.append(f"{staged}/{name}")
        else:
            copies.append(f"new-{number}")
    return StagingLayout(copies, folders)


def _missing(root: Path, folder: str, known: dict[str, bool]) -> bool:
    """Whether nothing is at ``root/folder`` (asked once per folder)."""
    if folder not in known:
        known[folder] = not os.path.lexists(os.path.join(root, folder))
    return known[folder]
