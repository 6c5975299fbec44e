"""The files around a deployment file: finding deployment files, and reading artifacts on disk.

A deployment file is ``<root>/.skillmeat-deployed.toml`` in a *profile root* ``<root>``: any
dot-directory directly under a project (``.claude``, ``.agents``, ``.gemini``, a custom root), as
SkillMeat's ``read_deployments`` globs ``<project>/.*/``; also ``.claude/deployment.toml``, the
remediation plan's name. Files SkillMeat leaves beside them (its lock, temp, backup and aside
siblings) are never deployment files.

:class:`DiskProbe` is the only way rules look at a project's files. It answers relative to a
profile root and refuses anything that resolves outside it (``..``, absolute paths,
symlinks that point out), so a hostile ``artifact_path`` is never read through. Hashes of
project copies are memoised by a cheap stat fingerprint, so re-analysing after a keystroke
does not re-hash unchanged artifacts.
"""

from __future__ import annotations

import os
import posixpath
import stat
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from skillmeat_ls.errors import UserFacingError
from skillmeat_ls.hashing import LeavesRoot, content_hash, tree_fingerprint
from skillmeat_ls.schema import CLAUDE_DIR, DEPLOYED_FILE_NAME, PLAN_FILE_NAME

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
    """Existence and content hashes of artifacts inside profile roots (``.claude/``, ...).

    What it learns is kept for ``freshness`` seconds (``None``: for the probe's lifetime, right
    for a one-shot ``check``), or until :meth:`forget` is called: the server keeps one probe and
    calls ``forget`` when the editor reports a file change, so typing does not re-stat every
    deployed artifact on every keystroke. Directory resolutions are shared by every artifact in
    that directory, so a record costs about one ``lstat`` and one fingerprint ``stat``.
    """

    def __init__(self, freshness: float | None = None, *, one_shot: bool = False) -> None:
        self.freshness = freshness
        # A one-shot probe (a `check` run, a worker of the workspace scan) never looks twice,
        # so it skips the stat fingerprints that only serve to reuse a hash later.
        self._one_shot = one_shot
        self._stamp = time.monotonic()
        self._real_dirs: dict[str, str] = {}
        self._resolved: dict[tuple[str, str], str | None] = {}
        self._hashes: dict[str, tuple[str, str | None]] = {}  # path -> (fingerprint, hash)
        self._checked: dict[str, str | None] = {}  # path -> hash, verified in this window
        self._leaving: dict[str, str] = {}  # path -> why its hash is not judged (SM133)
        #: Bumped whenever a window ends: results computed from an older one are stale.
        self.generation = 0

    def _expire(self) -> None:
        if self.freshness is not None and time.monotonic() - self._stamp > self.freshness:
            self._real_dirs.clear()
            self._resolved.clear()
            self._checked.clear()
            self._stamp = time.monotonic()
            self.generation += 1

    def _real_dir(self, directory: str) -> str:
        real = self._real_dirs.get(directory)
        if real is None:
            real = self._real_dirs[directory] = os.path.realpath(directory)
        return real

    def resolve(self, root: Path, relative: str) -> str | None:
        """The real path of ``root/relative`` if it exists and stays inside ``root``."""
        self._expire()
        key = (os.fspath(root), relative)
        if key in self._resolved:
            return self._resolved[key]
        found = self._resolve(key[0], relative)
        self._resolved[key] = found
        return found

    def _resolve(self, root: str, relative: str) -> str | None:
        if not relative or "\x00" in relative or os.path.isabs(relative):
            return None
        normal = posixpath.normpath(relative.replace("\\", "/"))
        if normal in (".", "..") or normal.startswith("../") or normal.startswith("/"):
            return None
        real_root = self._real_dir(root)
        head, name = posixpath.split(normal)
        try:
            parent = self._real_dir(os.path.join(root, head)) if head else real_root
            candidate = os.path.join(parent, name)
            if stat.S_ISLNK(os.lstat(candidate).st_mode):
                candidate = os.path.realpath(candidate)
                if not os.path.exists(candidate):
                    return None  # a broken link
        except (OSError, ValueError):
            return None  # missing, or not a directory on the way
        return candidate if candidate.startswith(real_root + os.sep) else None

    def exists(self, root: Path, relative: str) -> bool:
        return self.resolve(root, relative) is not None

    def hash(self, root: Path, relative: str) -> str | None:
        """SkillMeat's content hash of ``root/relative``; None if absent, unreadable, outside, or
        holding an entry that leads outside ``root`` (then :meth:`leaving` says which)."""
        path = self.resolve(root, relative)
        if path is None:
            return None
        if path in self._checked:
            return self._checked[path]
        try:
            fingerprint = "" if self._one_shot else tree_fingerprint(path)
            cached = self._hashes.get(path)
            if cached is not None and fingerprint and cached[0] == fingerprint:
                digest = cached[1]
            else:
                self._leaving.pop(path, None)
                digest = content_hash(Path(path), within=self._real_dir(os.fspath(root)))
        except LeavesRoot as exc:
            self._leaving[path] = f"{relative}/{exc.rel} is {exc.reason}"
            digest = None
        except (OSError, ValueError):
            digest, fingerprint = None, ""
        self._hashes[path] = (fingerprint, digest)
        self._checked[path] = digest
        return digest

    def leaving(self, root: Path, relative: str) -> str | None:
        """Why the copy at ``root/relative`` is not hashed (an entry in it leads outside
        ``root``, or is a special file), or None."""
        path = self.resolve(root, relative)
        if path is None:
            return None
        self.hash(root, relative)
        return self._leaving.get(path)

    def forget(self, path: Path | None = None) -> None:
        """Start a new window: everything is looked at again (hashes only if ``path``, or
        anything under it, changed)."""
        self._stamp = time.monotonic()
        self.generation += 1
        self._real_dirs.clear()
        self._resolved.clear()
        self._checked.clear()
        if path is None:
            self._hashes.clear()
            self._leaving.clear()
            return
        prefix = os.path.realpath(path)
        for known in [p for p in self._hashes if p == prefix or p.startswith(prefix + os.sep)]:
            del self._hashes[known]


#: Files larger than this are reported, not read: no deployment file comes near it.
MAX_FILE_BYTES = 64 * 1024 * 1024


class RefusedFile(UserFacingError, ValueError):
    """A file :func:`read_text` will not read (not a regular file, or too large); the message
    names it, ``reason`` says why. A ``ValueError`` too, so callers that skip unreadable files
    skip it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


def read_text(path: Path) -> str:
    """A deployment file's text: UTF-8 (a BOM is dropped).

    Bytes that are not UTF-8 are decoded with ``surrogateescape``: each becomes a lone surrogate
    (U+DC80–U+DCFF), so the first one keeps its place for the document to report (SM100) and
    nothing is rewritten behind the user's back (a U+FFFD would pass for text, and ``migrate``
    would write it). Only a regular file is read (a FIFO, a device or a link to one is refused at
    once: opening never blocks), and never past :data:`MAX_FILE_BYTES`, whatever its size claims;
    a refusal is a :class:`RefusedFile`."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise RefusedFile(path, "not a regular file (a FIFO, a device or a directory): not read")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise RefusedFile(path, f"larger than {MAX_FILE_BYTES} bytes: too large for a deployment file")
    return data.decode("utf-8-sig", errors="surrogateescape")


def is_profile_root_name(name: str) -> bool:
    """A folder name that can be a profile root: a dot-directory (not ``.`` or ``..``)."""
    return name.startswith(".") and name not in (".", "..")


def is_deployment_file(path: Path) -> bool:
    """``<dot-dir>/.skillmeat-deployed.toml`` or ``.claude/deployment.toml`` (by name only)."""
    if path.name == DEPLOYED_FILE_NAME:
        return is_profile_root_name(path.parent.name)
    return path.name == PLAN_FILE_NAME and path.parent.name == CLAUDE_DIR


def _files_in(here: Path, dot_dirs: Iterable[str]) -> list[Path]:
    found: list[Path] = []
    for name in sorted(dot_dirs, key=lambda d: (d != CLAUDE_DIR, d)):
        names = (DEPLOYED_FILE_NAME, PLAN_FILE_NAME) if name == CLAUDE_DIR else (DEPLOYED_FILE_NAME,)
        for file_name in names:
            candidate = here / name / file_name
            if os.path.lexists(candidate):
                found.append(candidate)
    return found


def project_files(root: Path) -> list[Path]:
    """The deployment files of the project ``root``, one per profile root (``.claude`` first,
    then by name) and ``.claude/deployment.toml``."""
    try:
        names = [e.name for e in os.scandir(root) if is_profile_root_name(e.name) and e.is_dir()]
    except OSError:
        return []
    return _files_in(root, names)


def find_deployment_files(roots: Iterable[Path]) -> Iterator[Path]:
    """Deployment files under ``roots`` (anything but a directory is taken as given, so that a
    FIFO or a device named on the command line is refused by :func:`read_text`, with its name,
    rather than skipped), in a stable order.

    Each directory's dot-children are looked into for a deployment file; a profile root that
    holds one is not searched further (its copies are artifacts, not projects)."""
    for root in roots:
        if not root.is_dir():
            yield root
            continue
        for directory, dirs, _files in os.walk(root):
            here = Path(directory)
            files = _files_in(here, [d for d in dirs if is_profile_root_name(d)])
            yield from files
            roots_here = {f.parent.name for f in files}
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and d not in roots_here)
