"""The files around a deployment file: finding deployment files, and reading artifacts on disk.

:class:`DiskProbe` is the only way rules look at a project's files. It answers relative to a
``.claude/`` directory and refuses anything that resolves outside it (``..``, absolute paths,
symlinks that point out), so a hostile ``artifact_path`` is never read through. Hashes of
project copies are memoised by a cheap stat fingerprint, so re-analysing after a keystroke
does not re-hash unchanged artifacts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from skillmeat_ls.hashing import content_hash, tree_fingerprint
from skillmeat_ls.schema import CLAUDE_DIR, DEPLOYMENT_FILE_NAMES

#: Directories never searched for deployment files.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)


def contained(root: Path, relative: str) -> Path | None:
    """``root / relative`` if it stays inside ``root`` once symlinks are resolved, else None."""
    if not relative or "\x00" in relative or os.path.isabs(relative):
        return None
    try:
        base = root.resolve()
        target = (root / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if target != base and base not in target.parents:
        return None
    return root / relative


class DiskProbe:
    """Existence and content hashes of artifacts inside ``.claude/`` directories."""

    def __init__(self) -> None:
        self._hashes: dict[Path, tuple[str, str | None]] = {}

    def exists(self, root: Path, relative: str) -> bool:
        path = contained(root, relative)
        return path is not None and path.exists()

    def hash(self, root: Path, relative: str) -> str | None:
        """SkillMeat's content hash of ``root/relative``; None if absent, unreadable or outside."""
        path = contained(root, relative)
        if path is None or not path.exists():
            return None
        try:
            fingerprint = tree_fingerprint(path)
            cached = self._hashes.get(path)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            digest = content_hash(path)
        except OSError:
            return None
        self._hashes[path] = (fingerprint, digest)
        return digest

    def forget(self, path: Path | None = None) -> None:
        """Drop memoised hashes (all, or those at or under ``path``)."""
        if path is None:
            self._hashes.clear()
            return
        for known in [p for p in self._hashes if p == path or path in p.parents]:
            del self._hashes[known]


def is_deployment_file(path: Path) -> bool:
    return path.name in DEPLOYMENT_FILE_NAMES and path.parent.name == CLAUDE_DIR


def find_deployment_files(roots: Iterable[Path]) -> Iterator[Path]:
    """Deployment files under ``roots`` (files are taken as given), in a stable order."""
    for root in roots:
        if root.is_file():
            yield root
            continue
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS or d == CLAUDE_DIR)
            here = Path(directory)
            if here.name != CLAUDE_DIR:
                continue
            for name in DEPLOYMENT_FILE_NAMES:
                if name in files:
                    yield here / name
