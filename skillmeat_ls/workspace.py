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
does not re-hash unchanged artifacts; given a :class:`CopyHashes` store (the cache's
``copy_hashes``, or the rows the server hands a scan worker), what it hashed is kept across
restarts too, under the same rule: a hash is reused only while the copy's fingerprint is
unchanged, and a file event under a copy drops its stored hash.
"""

from __future__ import annotations

import os
import posixpath
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


@dataclass(frozen=True)
class KnownCopy:
    """What was learned about one deployed copy: valid while its fingerprint is unchanged."""

    #: The real path of the profile root the copy was confined to when hashed.
    root: str
    fingerprint: str
    content_hash: str | None
    #: Why it is not hashed: the entry inside the copy that leads outside ``root`` (SM133).
    leaves: str | None = None


class CopyHashes(Protocol):
    """Where a :class:`DiskProbe` keeps the copy hashes it computed, between runs."""

    def known(self, roots: Iterable[str]) -> Mapping[str, KnownCopy]:
        """The copies stored under the real profile roots ``roots``, by real path."""
        ...

    def save(self, learned: Mapping[str, KnownCopy], forgotten: Iterable[str] = ()) -> None:
        """Forget what is stored at or under the paths ``forgotten``, then store ``learned``."""
        ...


class HandedCopies:
    """A :class:`CopyHashes` over rows handed in (a scan worker gets them from the server):
    what is saved is collected in ``learned``, for the server to store."""

    def __init__(self, rows: Mapping[str, KnownCopy]) -> None:
        self.rows_by_root: dict[str, dict[str, KnownCopy]] = {}
        for path, copy in rows.items():
            self.rows_by_root.setdefault(copy.root, {})[path] = copy
        self.learned: dict[str, KnownCopy] = {}

    def known(self, roots: Iterable[str]) -> Mapping[str, KnownCopy]:
        return {
            path: copy for root in roots for path, copy in self.rows_by_root.get(root, {}).items()
        }

    def save(self, learned: Mapping[str, KnownCopy], forgotten: Iterable[str] = ()) -> None:
        self.learned.update(learned)


StrPath = str | os.PathLike[str]
"""A path as a string or a path object (the probe's hot paths take either)."""

CopyHasher = Callable[[Path, str], str]
"""Computes the content hash of a deployed copy, confined to a real profile root (the seam for
counting or injecting hash computations)."""


def confined_hash(path: Path, within: str) -> str:
    """:func:`~skillmeat_ls.hashing.content_hash` of a copy that must not lead outside ``within``."""
    return content_hash(path, within=within)


class DiskProbe:
    """Existence and content hashes of artifacts inside profile roots (``.claude/``, ...).

    What it learns is kept for ``freshness`` seconds (``None``: for the probe's lifetime, right
    for a one-shot ``check``), or until :meth:`forget` is called: the server keeps one probe and
    calls ``forget`` when the editor reports a file change, so typing does not re-stat every
    deployed artifact on every keystroke. Directory resolutions are shared by every artifact in
    that directory, so a record costs about one ``lstat`` and one fingerprint ``stat``.

    A hash is reused only while the copy's :func:`~skillmeat_ls.hashing.tree_fingerprint` is the
    one it was computed from; with a ``store``, hashes computed by earlier runs are reused the
    same way, and :meth:`save` hands the store what this probe hashed (and forgot) since.
    ``hasher`` computes each hash the probe cannot reuse.
    """

    def __init__(
        self,
        freshness: float | None = None,
        *,
        one_shot: bool = False,
        store: CopyHashes | None = None,
        hasher: CopyHasher = confined_hash,
    ) -> None:
        self.freshness = freshness
        # A one-shot probe (a `check` run, a worker of the workspace scan) never looks twice, so
        # without a store it skips the stat fingerprints that only serve to reuse a hash later.
        self._fingerprints = store is not None or not one_shot
        self._store = store
        self._hasher = hasher
        self._stamp = time.monotonic()
        self._real_dirs: dict[str, str] = {}
        self._resolved: dict[tuple[str, str], str | None] = {}
        #: real profile root -> real path of a copy in it -> what was learned about that copy
        self._copies: dict[str, dict[str, KnownCopy]] = {}
        self._stored_roots: set[str] = set()  # real roots whose stored copies were read
        self._learned: dict[str, KnownCopy] = {}  # hashed since the last save
        self._forgotten: set[str] = set()  # invalidated since the last save
        self._checked: dict[str, str | None] = {}  # path -> hash, verified in this window
        #: While set (:meth:`start_asking`), every question asked and its answer.
        self._asked: dict[tuple[str, str, str], object] | None = None
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

    def resolve(self, root: StrPath, relative: str) -> str | None:
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

    def exists(self, root: StrPath, relative: str) -> bool:
        found = self.resolve(root, relative) is not None
        if self._asked is not None:
            self._asked[("exists", os.fspath(root), relative)] = found
        return found

    def start_asking(self) -> None:
        """Record every question asked from now on (:meth:`exists`, :meth:`hash`,
        :meth:`leaving`) with its answer, until :meth:`stop_asking`."""
        self._asked = {}

    def stop_asking(self) -> tuple[tuple[tuple[str, str, str], object], ...]:
        """The questions asked since :meth:`start_asking`, each with its answer."""
        asked, self._asked = self._asked or {}, None
        return tuple(asked.items())

    def answer(self, question: tuple[str, str, str]) -> object:
        """Ask ``question`` (as :meth:`stop_asking` lists it) again."""
        method, root, relative = question
        if method == "exists":
            return self.exists(root, relative)
        if method == "hash":
            return self.hash(root, relative)
        if method == "leaving":
            return self.leaving(root, relative)
        raise ValueError(f"not a question to the disk: {method!r}")

    def use_store(self, store: CopyHashes | None) -> None:
        """Keep hashes in ``store`` from now on (None: in memory only); what was learned so far
        is saved there at the next :meth:`save`."""
        self._store = store
        self._stored_roots.clear()
        self._fingerprints = self._fingerprints or store is not None

    def copies_of(self, roots: Iterable[Path]) -> dict[str, KnownCopy]:
        """What is known (here or in the store) about the copies in these profile roots: the rows
        to hand a worker that analyses their files."""
        real = {self._real_dir(os.fspath(root)) for root in roots}
        self.preload(Path(root) for root in real)
        return {path: copy for root in real for path, copy in self._copies.get(root, {}).items()}

    def learn(self, learned: Mapping[str, KnownCopy]) -> None:
        """Take what another probe (a worker's) hashed, to reuse and to save."""
        for path, copy in learned.items():
            self._copies.setdefault(copy.root, {})[path] = copy
        self._learned.update(learned)

    def preload(self, roots: Iterable[Path]) -> None:
        """Read the stored copies of many profile roots at once (one query, not one per root)."""
        if self._store is None:
            return
        wanted = {self._real_dir(os.fspath(root)) for root in roots} - self._stored_roots
        if wanted:
            for path, copy in self._store.known(wanted).items():
                self._copies.setdefault(copy.root, {}).setdefault(path, copy)
            self._stored_roots |= wanted

    def _known(self, path: str, within: str) -> KnownCopy | None:
        if self._store is not None and within not in self._stored_roots:
            self.preload([Path(within)])
        return self._copies.get(within, {}).get(path)

    def hash(self, root: StrPath, relative: str) -> str | None:
        """SkillMeat's content hash of ``root/relative``; None if absent, unreadable, outside, or
        holding an entry that leads outside ``root`` (then :meth:`leaving` says which)."""
        found = self._hash_of(root, relative)
        if self._asked is not None:
            self._asked[("hash", os.fspath(root), relative)] = found
        return found

    def _hash_of(self, root: StrPath, relative: str) -> str | None:
        path = self.resolve(root, relative)
        if path is None:
            return None
        if path in self._checked:
            return self._checked[path]
        within = self._real_dir(os.fspath(root))
        try:
            fingerprint = tree_fingerprint(path) if self._fingerprints else ""
        except (OSError, ValueError):
            self._copies.get(within, {}).pop(path, None)
            self._checked[path] = None
            return None
        copy = self._known(path, within)
        if copy is None or not fingerprint or (copy.fingerprint, copy.root) != (fingerprint, within):
            copy = self._hash(path, within, fingerprint)
        self._copies.setdefault(within, {})[path] = copy
        self._checked[path] = copy.content_hash
        return copy.content_hash

    def _hash(self, path: str, within: str, fingerprint: str) -> KnownCopy:
        try:
            copy = KnownCopy(within, fingerprint, self._hasher(Path(path), within))
        except LeavesRoot as exc:
            copy = KnownCopy(within, fingerprint, None, f"{exc.rel} is {exc.reason}")
        except (OSError, ValueError):
            return KnownCopy(within, "", None)  # unreadable: looked at again next time
        if fingerprint:
            self._learned[path] = copy
        return copy

    def leaving(self, root: StrPath, relative: str) -> str | None:
        """Why the copy at ``root/relative`` is not hashed (an entry in it leads outside
        ``root``, or is a special file), or None."""
        path = self.resolve(root, relative)
        found = None
        if path is not None:
            self._hash_of(root, relative)
            copy = self._copies.get(self._real_dir(os.fspath(root)), {}).get(path)
            found = f"{relative}/{copy.leaves}" if copy is not None and copy.leaves else None
        if self._asked is not None:
            self._asked[("leaving", os.fspath(root), relative)] = found
        return found

    def forget(self, path: Path | None = None) -> None:
        """Start a new window: everything is looked at again. A hash is computed again only if
        its copy's fingerprint changed or, given ``path``, the copy is at or under it (a file
        event there): what is stored for them is dropped too, at the next :meth:`save`."""
        self._stamp = time.monotonic()
        self.generation += 1
        self._real_dirs.clear()
        self._resolved.clear()
        self._checked.clear()
        if path is None:
            return
        prefix = os.path.realpath(path)
        under = prefix + os.sep
        for root, copies in self._copies.items():
            if root == prefix or root.startswith(under):
                gone = list(copies)  # the whole profile root (the usual event: its project)
            elif prefix.startswith(root + os.sep):
                gone = [p for p in copies if p == prefix or p.startswith(under)]
            else:
                continue
            for known in gone:
                del copies[known]
                self._learned.pop(known, None)
        self._forgotten.add(prefix)

    def drop(self, roots: Iterable[str]) -> None:
        """Forget every copy of the real profile roots ``roots`` (gone: their project was
        deleted or moved), here and, at the next :meth:`save`, in the store."""
        for root in roots:
            for path in self._copies.pop(root, {}):
                self._learned.pop(path, None)
            self._forgotten.add(root)

    def save(self) -> None:
        """Hand the store what was hashed and forgotten since the last save (without a store yet,
        it is kept for the one :meth:`use_store` attaches). What the store already holds as it
        is (hashed before the store was attached, say) is not written again."""
        if self._store is None or not (self._learned or self._forgotten):
            return
        learned, forgotten = self._learned, self._forgotten
        self._learned, self._forgotten = {}, set()
        if not forgotten:
            held = self._store.known({copy.root for copy in learned.values()})
            learned = {path: copy for path, copy in learned.items() if held.get(path) != copy}
        if learned or forgotten:
            self._store.save(learned, forgotten)


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
