"""Where a deploy or update stages its new copies, and which swaps put them in place.

Each copy is staged as ``new-k``, ``k`` the number of the swap that moves it to its target,
except the copies bound for a folder the profile root does not have yet (the skills of a project
with no ``skills/``): those are staged together inside one ``new-k``, with SkillMeat's lock file
of each taken there, and swap ``k`` moves the whole folder in with one rename. A ``flock``
belongs to the lock file, not to its name, so each lock is held at its usual place from then on
and the end state is what a swap per copy gives (the folder, the copies, a lock file beside each)
for one rename instead of one per copy. Such a swap takes no lock of its own (no SkillMeat writer
locks a folder of that kind) and fails, undoing the request, if the folder has appeared in the
meantime (:meth:`~.transaction.Transaction.swap`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StagingLayout:
    """Where each copy of a request goes in its staging folder, and the swaps to make."""

    swaps: list[tuple[str, str]]  # (target path in the root, its new copy in staging), in order
    whole_folders: frozenset[int]  # the swaps that move in a folder the root did not have
    copies: list[str]  # per item: where its copy is made, relative to the staging folder
    grouped: list[bool]  # per item: staged inside a whole folder (its lock is taken there)
    first_items: list[int]  # per swap: its first item (the one named if the swap fails)


def staging_layout(root: Path, rels: Sequence[str]) -> StagingLayout:
    """The layout of copies bound for ``rels`` (checked ``artifact_path``\\ s, one per item) in
    the profile root ``root``, as the module doc describes. A path met again gets a swap of its
    own, after the first one, as if no folder were missing."""
    swaps: list[tuple[str, str]] = []
    whole: set[int] = set()
    first_items: list[int] = []
    copies: list[str] = []
    grouped: list[bool] = []
    folder_swaps: dict[str, int] = {}  # a missing folder -> the swap moving it in
    missing: dict[str, bool] = {}
    seen: set[str] = set()
    for number, rel in enumerate(rels):
        folder, _, name = rel.partition("/")
        if name and "/" not in name and rel not in seen and _missing(root, folder, missing):
            seen.add(rel)
            swap = folder_swaps.get(folder)
            if swap is None:
                swap = folder_swaps[folder] = len(swaps)
                swaps.append((folder, f"new-{swap}"))
                whole.add(swap)
                first_items.append(number)
            copies.append(f"new-{swap}/{name}")
            grouped.append(True)
            continue
        copies.append(f"new-{len(swaps)}")
        grouped.append(False)
        swaps.append((rel, copies[-1]))
        first_items.append(number)
    return StagingLayout(swaps, frozenset(whole), copies, grouped, first_items)


def _missing(root: Path, folder: str, known: dict[str, bool]) -> bool:
    """Whether nothing is at ``root/folder`` (asked once per folder)."""
    if folder not in known:
        known[folder] = not os.path.lexists(os.path.join(root, folder))
    return known[folder]
