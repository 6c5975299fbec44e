"""What copying one artifact means: which files, in which order, with which hash.

Deploying (:func:`plan_copy`) follows SkillMeat's ``copy_artifact``: a directory artifact is
copied without the entries matching :data:`SKIP_PATTERNS` (at any depth), files with ``copy2``
semantics (bytes, permissions, times). Unlike SkillMeat, a symlink inside an artifact is followed
only while it stays inside the collection; one pointing outside (or a loop, or a fifo, or a
broken link) is not copied and the plan carries a warning saying so. The hash of the copy is
taken while it is written, after the skip list, and is what the record's ``content_hash`` says.
Where the disk is slow to create files, the artifacts of one request are copied side by side
(:func:`copy_all`).

Pulling a project copy back into its collection (:func:`plan_verbatim`) follows SkillMeat's
sync-pull instead (``copytree(symlinks=True)``, ``copy2``): everything is copied, with no skip
list (``.git``, ``__pycache__``, ``.DS_Store`` go too), and a symlink is copied as a symlink with
its text unchanged. So that the collection's copy is the project's wherever it lives, only a
relative symlink that resolves inside the copy is accepted (as SkillMeat refuses a relative one
that leaves it); an absolute one, one that leaves the copy, or a special file is refused. A copy
whose own path is a symlink (inside its profile root) is copied as what it leads to (SkillMeat
would put a symlink into the project in the collection).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.deploy.fileops import CHUNK, FileOps
from skillmeat_ls.deploy.paths import RealPaths, inside
from skillmeat_ls.deploy.results import Refused
from skillmeat_ls.schema import Identity, identity

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionArtifact

#: What SkillMeat's ``copy_artifact`` leaves out when it copies a directory (fnmatch, any depth).
SKIP_PATTERNS = (
    ".git",
    ".github",
    ".gitignore",
    "__pycache__",
    "*.pyc",
    "*.pyo",
    "node_modules",
    ".venv",
    "venv",
    "*.egg-info",
    ".DS_Store",
    "Thumbs.db",
)


@dataclass
class CopyPlan:
    """The files of one artifact in the order the hash of the copy reads them."""

    source: str  # real path of the artifact in the collection
    is_dir: bool
    dirs: list[tuple[str, str]] = field(default_factory=list)  # (rel, source dir), parents first
    files: list[tuple[str, str]] = field(default_factory=list)  # (rel, source file)
    links: list[tuple[str, str]] = field(default_factory=list)  # (rel, link text): pulls only
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PlannedItem:
    """One artifact of a request, checked and ready to be copied to ``target``."""

    name: str
    type: str
    rel: str  # its artifact_path
    target: Path  # <root>/rel
    collection: str
    plan: CopyPlan
    replaced_from: str | None  # the collection of the record it replaces, when another one

    @property
    def identity(self) -> Identity:
        return identity(self.name, self.type)


def _skip_rule() -> Callable[[str], bool]:
    """Whether a name matches one of :data:`SKIP_PATTERNS` (``fnmatchcase``), in one test: the
    patterns are names, or ``*`` and a suffix, or else one regular expression for the rest."""
    names: set[str] = set()
    suffixes: list[str] = []
    others: list[str] = []
    for pattern in SKIP_PATTERNS:
        if not _WILDCARDS.intersection(pattern):
            names.add(pattern)
        elif pattern.startswith("*") and not _WILDCARDS.intersection(pattern[1:]):
            suffixes.append(pattern[1:])
        else:
            others.append(pattern)
    ends = tuple(suffixes)
    rest = re.compile("|".join(fnmatch.translate(p) for p in others)).match if others else None

    def skipped(name: str) -> bool:
        return name in names or name.endswith(ends) or (rest is not None and bool(rest(name)))

    return skipped


_WILDCARDS = frozenset("*?[")
_skipped_name = _skip_rule()


def plan_copy(artifact: CollectionArtifact, root: str, real_paths: RealPaths) -> CopyPlan:
    """What to copy for ``artifact``; ``root`` is the collection folder's real path."""
    source, mode = real_paths.resolved(artifact.path)
    if not inside(source, root) or source == root:
        raise Refused(f"{artifact.rel_path} resolves to {source}, outside the collection: refused")
    if mode is None:
        try:
            mode = os.stat(source).st_mode
        except FileNotFoundError as exc:
            raise Refused(f"{artifact.rel_path} is missing from collection folder {root}") from exc
        except OSError as exc:
            raise Refused(f"cannot read {artifact.rel_path}: {exc.strerror or exc}") from exc
    return _file_or_folder(
        source, mode, artifact.rel_path, lambda plan: _walk(plan, source, "", root, {source})
    )


def _walk(plan: CopyPlan, directory: str, prefix: str, root: str, chain: set[str]) -> None:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        raise Refused(
            f"cannot list {prefix or '.'} in the collection: {exc.strerror or exc}"
        ) from exc
    for entry in entries:
        if _skipped_name(entry.name):
            continue
        rel = prefix + entry.name
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not inside(real, root):
                plan.warnings.append(
                    f"{rel}: symlink to {real}, outside the collection; not copied"
                )
                continue
            try:
                target_mode = os.stat(real).st_mode
            except OSError:
                plan.warnings.append(f"{rel}: broken symlink; not copied")
                continue
            if stat.S_ISDIR(target_mode):
                if real in chain:  # a folder inside itself: following it would never end
                    plan.warnings.append(f"{rel}: symlink loop; not copied")
                    continue
                plan.dirs.append((rel, real))
                _walk(plan, real, rel + "/", root, chain | {real})
            elif stat.S_ISREG(target_mode):
                plan.files.append((rel, real))
            else:
                plan.warnings.append(f"{rel}: not a regular file; not copied")
        elif entry.is_dir(follow_symlinks=False):
            plan.dirs.append((rel, entry.path))
            _walk(plan, entry.path, rel + "/", root, chain | {entry.path})
        elif entry.is_file(follow_symlinks=False):
            plan.files.append((rel, entry.path))
        else:
            plan.warnings.append(f"{rel}: not a regular file; not copied")


def planned_hash(plan: CopyPlan) -> str:
    """The content hash the copy will have (for dry runs, which copy nothing).

    ``plan.files`` is in the order :func:`~skillmeat_ls.hashing.content_hash` reads the copy
    (each level by name, folders entered where they sort), so feeding the relative paths and
    bytes in that order gives the copy's hash."""
    hasher = hashlib.sha256()
    for rel, source in plan.files:
        if plan.is_dir:
            hasher.update(rel.encode("utf-8"))
        with open(source, "rb") as handle:
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
    return hasher.hexdigest()


def plan_verbatim(source: Path, shown: str) -> CopyPlan:
    """What pulling the project copy ``source`` (shown as ``shown``) copies: everything in it,
    symlinks as symlinks (see the module doc); :class:`Refused` for what must not be copied."""
    real = os.path.realpath(source)
    try:
        mode = os.stat(real).st_mode
    except OSError as exc:
        raise Refused(f"cannot read {shown}: {exc.strerror or exc}") from exc
    return _file_or_folder(real, mode, shown, lambda plan: _walk_verbatim(plan, real, "", shown))


def _file_or_folder(
    source: str, mode: int, shown: str, walk: Callable[[CopyPlan], None]
) -> CopyPlan:
    """The plan of copying ``source`` (of stat ``mode``): the file itself, or the folder's entries
    as ``walk`` finds them; :class:`Refused` for anything else."""
    if stat.S_ISREG(mode):
        plan = CopyPlan(source, False)
        plan.files.append(("", source))
        return plan
    if not stat.S_ISDIR(mode):
        raise Refused(f"{shown} is neither a file nor a folder")
    plan = CopyPlan(source, True)
    walk(plan)
    return plan


def _walk_verbatim(plan: CopyPlan, directory: str, prefix: str, shown: str) -> None:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        raise Refused(f"cannot list {shown}/{prefix}: {exc.strerror or exc}") from exc
    for entry in entries:
        rel = prefix + entry.name
        if entry.is_symlink():
            text = os.readlink(entry.path)
            resolved = os.path.normpath(os.path.join(directory, text))
            if os.path.isabs(text) or not inside(resolved, plan.source) or resolved == plan.source:
                raise Refused(
                    f"{shown}/{rel} is a symlink to {text}, outside the copy: pulled as it is, "
                    "the collection's copy would lead elsewhere"
                )
            plan.links.append((rel, text))
        elif entry.is_dir(follow_symlinks=False):
            plan.dirs.append((rel, entry.path))
            _walk_verbatim(plan, entry.path, rel + "/", shown)
        elif entry.is_file(follow_symlinks=False):
            plan.files.append((rel, entry.path))
        else:
            raise Refused(f"{shown}/{rel} is a special file (a FIFO, a socket or a device)")


def copy_planned(plan: CopyPlan, destination: Path, file_ops: FileOps) -> str:
    """Copy the planned files (and links) to the new ``destination``; the content hash of its
    regular files (the copy's hash when the plan holds no links, as a deploy's never does).
    The paths inside ``destination`` are given to ``file_ops`` as strings."""
    hasher = hashlib.sha256()
    if not plan.is_dir:
        file_ops.copy_file(plan.source, destination, hasher)
        return hasher.hexdigest()
    file_ops.make_folder(destination)
    base = os.fspath(destination) + os.sep
    inner = [(base + _native(rel), source) for rel, source in plan.dirs]
    for path, _source in inner:
        file_ops.make_folder(path)
    for rel, source in plan.files:
        hasher.update(rel.encode("utf-8"))
        file_ops.copy_file(source, base + _native(rel), hasher)
    for rel, text in plan.links:
        file_ops.make_symlink(text, base + _native(rel))
    # Folder times last: copying the files into a folder would change its mtime again.
    for path, source in reversed(inner):
        file_ops.copy_stat(source, path)
    file_ops.copy_stat(plan.source, destination)
    return hasher.hexdigest()


class CopyFailed(Exception):
    """Copying job :attr:`number` of :func:`copy_all` raised :attr:`error`."""

    def __init__(self, number: int, error: Exception) -> None:
        super().__init__(number, error)
        self.number = number
        self.error = error


def copy_all(jobs: Sequence[tuple[CopyPlan, Path]], file_ops: FileOps) -> list[str]:
    """:func:`copy_planned` of every ``(plan, destination)``; their hashes, in order.

    The first jobs are copied one after the other, timed. Where making an entry (a file or a
    folder) takes longer than :attr:`FileOps.slow_entry_s`, the disk, not this process, is what
    copying waits for, and the remaining jobs run on :attr:`FileOps.copy_workers` threads, whose
    waits overlap; otherwise they run on this thread too, as more threads would only take turns
    holding the interpreter. If copies fail, :class:`CopyFailed` names the first job that
    failed, which is the one copying them one after the other would have stopped at: jobs start
    in order and none starts after a failure, so every job before a failed one has run."""
    hashes: list[str] = []
    timing = file_ops.copy_workers > 1
    entries = 0
    started = time.perf_counter()
    for number, (plan, destination) in enumerate(jobs):
        if timing and entries >= _TIMED_ENTRIES:
            timing = False  # decided, once
            slow = time.perf_counter() - started > entries * file_ops.slow_entry_s
            if slow and number < len(jobs) - 1:
                return hashes + _side_by_side(jobs, number, file_ops)
        try:
            hashes.append(copy_planned(plan, destination, file_ops))
        except Exception as exc:
            raise CopyFailed(number, exc) from exc
        entries += 1 + len(plan.dirs) + len(plan.files)
    return hashes


#: How many entries :func:`copy_all` makes before it decides whether to copy side by side.
_TIMED_ENTRIES = 24


def _side_by_side(
    jobs: Sequence[tuple[CopyPlan, Path]], first: int, file_ops: FileOps
) -> list[str]:
    """:func:`copy_all` of ``jobs[first:]`` on :attr:`FileOps.copy_workers` threads."""
    failed = threading.Event()

    def copy(plan: CopyPlan, destination: Path) -> str | None:
        if failed.is_set():
            return None  # not started: an earlier job failed
        try:
            return copy_planned(plan, destination, file_ops)
        except BaseException:
            failed.set()
            raise

    pool = ThreadPoolExecutor(file_ops.copy_workers, thread_name_prefix="skillmeat-ls-copy")
    try:
        futures = [pool.submit(copy, plan, destination) for plan, destination in jobs[first:]]
        wait(futures)
    except BaseException:  # interrupted while waiting: start nothing more
        failed.set()
        raise
    finally:
        pool.shutdown(wait=True)  # no thread writes into the staging folder once this returns
    hashes = []
    for number, future in enumerate(futures, start=first):
        error = future.exception()
        if isinstance(error, Exception):
            raise CopyFailed(number, error) from error
        if error is not None:
            raise error
        digest = future.result()
        assert digest is not None  # a job is skipped only after one failed, found above
        hashes.append(digest)
    return hashes


def _native(rel: str) -> str:
    """A plan's relative path (``/`` separators) in this system's spelling."""
    return rel if os.sep == "/" else rel.replace("/", os.sep)
