"""Deploying artifacts from a collection into a project, drift status, update and undeploy.

This module owns every change skillmeat-ls makes to a project's profile roots (``.claude/`` for
the default ``claude_code`` profile, ``.agents/`` for ``codex``, ...; see :mod:`profiles`):
copying artifacts from a chosen collection to where SkillMeat 0.74.0 puts them for that profile
(``skills/NAME/``, ``mcp/NAME``, ``commands/NAME.md``, ``agents/NAME.md``, ``hooks/NAME.md``,
``workflows/NAME.js``), refusing types the profile does not take, recording them in that root's
deployment file with the profile keys (``deployment_profile_id``, ``platform``,
``profile_root_dir``), re-deploying from a record's own collection (:func:`update`), removing a copy
and its record (:func:`undeploy`), and reporting each record's drift state (:func:`status`).
Plain functions, no protocol: the language server and the CLI turn the results into JSON with
``as_dict()``.

Copying follows SkillMeat's ``copy_artifact``: a directory artifact is copied without the
entries matching :data:`SKIP_PATTERNS` (at any depth), files with ``copy2`` semantics (bytes,
permissions, times). Unlike SkillMeat, a symlink inside an artifact is followed only while it
stays inside the collection; one pointing outside (or a loop, or a fifo, or a broken link) is not
copied and the deployed item carries a warning saying so. The recorded ``content_hash`` is the
hash of the deployed copy, taken after the skip list.

The deployment file: ``<root>/.skillmeat-deployed.toml`` when it exists (it is the file SkillMeat
reads, so it wins when ``deployment.toml`` exists too); else an existing ``.claude/deployment.toml``
is updated in place; else ``.skillmeat-deployed.toml`` is created. Every write holds SkillMeat's
own lock on the deployment file (:mod:`locks`) from the moment the file is read to the end of the
request, and the lock of each destination while it is swapped. A legacy (or mixed) file is first
migrated losslessly (:mod:`skillmeat_ls.migration`). Records are written in SkillMeat's shape
(:mod:`skillmeat_ls.writer`); the other records keep their exact text (comments included) when
the file has the usual ``[[deployed]]`` layout, and are otherwise re-rendered as SkillMeat would.
Identity is ``(name, type)`` within the profile's file, the name compared as SkillMeat compares it
(``review.md`` is ``review``): deploying a pair already recorded from another collection replaces
that record (the result says ``replaced_from``), so one record per pair remains.

Safety rules:

- names must be safe (:func:`skillmeat_ls.schema.is_safe_name`); an ``artifact_path`` that is
  absolute, leaves the profile root, or names the root's own dot-files is refused;
- nothing is written outside ``<project>/<root>/``: the root must not be a symlink, no folder
  on the way to a target may be a symlink or a file, and a target that is a symlink must resolve
  inside the root;
- a project copy whose hash differs from its record (local modifications), or a copy with no
  record, is not replaced without ``overwrite`` (``force`` for :func:`update`).

Atomicity, per request (one call): all or nothing. Items are first planned and checked; if any is
refused (an ``errors`` entry) nothing at all is written and the others are reported as skipped
(``aborted``). Items skipped for a reason of their own (local modifications, already up to date)
do not stop the others. Then every artifact is copied into a staging folder inside the root
(``.skillmeat-staging-XXXX``), hashed, and the new deployment file text is built; only then is
each target swapped in with ``os.replace`` (an existing copy is first moved aside into the staging
folder), and finally the deployment file is replaced atomically (:func:`writer.atomic_write`). If
any step fails, every swap done so far is undone in reverse order, folders created on the way are
removed, and the deployment file is left as it was, so the files and the record always agree.
The staging folder is always removed, except when undoing itself failed: then it holds the only
copy of the previous files, and the error names it. The deployment file is re-read just before
it is replaced: if it changed meanwhile (another writer), the request is rolled back. Copies are
not fsynced (as SkillMeat and ``copytree`` do not); the deployment file is.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import posixpath
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from skillmeat_ls.errors import UserFacingError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from skillmeat_ls.document import Document, Record, derived_path, parse_document
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.locks import LOCK_SUFFIX, LockTimeout, destination_lock
from skillmeat_ls.migration import MigrationError, migrate_text
from skillmeat_ls.profiles import DEFAULT_PROFILE_ID, Profile, profile_for_root, resolve_profile
from skillmeat_ls.rules import Context, drift_state, path_escapes
from skillmeat_ls.schema import (
    CLAUDE_DIR,
    DEPLOYED_FILE_NAME,
    HASH_RE,
    KNOWN_TYPES,
    PLAN_FILE_NAME,
    canonical_type,
    is_safe_name,
    normalize_name,
    suggest_type,
)
from skillmeat_ls.workspace import DiskProbe, project_files
from skillmeat_ls.writer import atomic_write, naive_iso, order_record, render_document

if TYPE_CHECKING:
    from skillmeat_ls.index import Collection, CollectionArtifact, CollectionIndex

__all__ = [
    "CONFLICT_CODES",
    "SKIP_PATTERNS",
    "STAGING_PREFIX",
    "DeployError",
    "DeployResult",
    "RecordStatus",
    "UndeployResult",
    "deploy",
    "deployment_file",
    "resolve_recorded",
    "resolve_request",
    "status",
    "undeploy",
    "update",
    "update_many",
]

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
#: Prefix of the temporary folder inside a profile root that holds copies while a request runs.
STAGING_PREFIX = ".skillmeat-staging-"
#: ``skipped`` codes that mean "your changes were protected" (the CLI exits 1 on them).
CONFLICT_CODES = frozenset({"local-modifications", "untracked", "conflict", "unknown-state"})

_CHUNK = 1 << 16


def _copy_file(source: str, destination: Path, hasher: Any) -> None:
    """``shutil.copy2`` of one file (bytes, then permission bits and times), feeding the bytes
    written to ``hasher`` on the way: the copy is hashed without being read back."""
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with open(source, "rb", buffering=0) as reader, open(destination, "xb") as writer:
        while count := reader.readinto(buffer):
            chunk = view[:count]
            hasher.update(chunk)
            writer.write(chunk)
    _copy_stat(source, destination)


_copy_stat = shutil.copystat

Identity = tuple[str, str]
RecordWriter = Callable[[Path, str], object]


class DeployError(UserFacingError):
    """A request that cannot be carried out at all (bad project, unreadable deployment file,
    ambiguous or unknown name). Its message is one line meant for the user."""


# --- results -------------------------------------------------------------------------------------


@dataclass
class _RequestResult:
    """What one request did: its items done (under ``DONE``), skipped and failed, and the file."""

    DONE: ClassVar[str] = "deployed"
    skipped: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    file: Path | None = None
    dry_run: bool = False
    profile: str = DEFAULT_PROFILE_ID  # the profile the request worked in
    root: str = CLAUDE_DIR  # its profile root; every item's ``path`` is relative to it

    def as_dict(self) -> dict[str, Any]:
        return {
            self.DONE: getattr(self, self.DONE),
            "skipped": self.skipped,
            "errors": self.errors,
            "file": str(self.file) if self.file is not None else None,
            "profile": self.profile,
            "root": self.root,
        }


@dataclass
class DeployResult(_RequestResult):
    """What a deploy or update request did; ``as_dict()`` is the JSON the server returns.

    Items are dicts with at least ``name``, ``type``, ``path`` (``artifact_path``, relative to
    the profile root; None when no path could be derived) and ``collection``. ``deployed`` items add
    ``content_hash``, ``replaced_from`` (the collection the replaced record came from, when it
    was another one) and ``warnings``; ``skipped`` items ``code`` and ``reason``; ``errors``
    items ``message``.
    """

    deployed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True if anything errored or was skipped to protect local changes."""
        return bool(self.errors) or any(s.get("code") in CONFLICT_CODES for s in self.skipped)


@dataclass
class UndeployResult(_RequestResult):
    """What an undeploy request did: ``removed`` items have ``name``, ``type``, ``path``,
    ``collection``, ``content_hash`` and ``missing`` (the copy was already gone)."""

    DONE: ClassVar[str] = "removed"
    removed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


@dataclass(frozen=True)
class RecordStatus:
    """One record's drift state: in-sync, modified, update-available, conflict, missing, unknown."""

    name: str | None
    type: str | None
    collection: str | None
    path: str | None
    state: str
    recorded_hash: str | None
    project_hash: str | None
    collection_hash: str | None
    message: str
    profile: str = DEFAULT_PROFILE_ID  # SkillMeat's: deployment_profile_id or claude_code
    root: str = CLAUDE_DIR  # the profile root whose file lists the record

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "profile": self.profile,
            "root": self.root,
            "collection": self.collection,
            "path": self.path,
            "state": self.state,
            "content_hash": self.recorded_hash,
            "project_hash": self.project_hash,
            "collection_hash": self.collection_hash,
            "message": self.message,
        }


def _item(
    name: str, artifact_type: str, path: str | None, collection: str | None, **extra: Any
) -> dict[str, Any]:
    return {"name": name, "type": artifact_type, "path": path, "collection": collection, **extra}


class _Refused(Exception):
    """An item that must not be deployed (an ``errors`` entry)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class _Skipped(Exception):
    """An item left alone for a reason of its own (a ``skipped`` entry)."""

    def __init__(self, code: str, reason: str, path: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.path = path


# --- the project and its deployment file ---------------------------------------------------------


def _identity(name: object, artifact_type: object) -> Identity | None:
    """(normalised name, canonical type): a record's identity inside one profile's file."""
    if isinstance(name, str) and isinstance(artifact_type, str):
        return (normalize_name(name), canonical_type(artifact_type))
    return None


def _record_identity(record: dict[str, Any]) -> Identity | None:
    return _identity(record.get("artifact_name"), record.get("artifact_type"))


def _recorded_hash(record: dict[str, Any]) -> str | None:
    value = record.get("content_hash") or record.get("collection_sha")
    return value if isinstance(value, str) else None


def _normal_rel(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/"))


@dataclass
class _State:
    """A project as read before a request: where things are and what the file says."""

    shown_root: Path  # the project as the caller named it (for messages and results)
    root: Path  # <real project>/<profile root>, e.g. .claude or .agents
    profile: Profile
    file: Path  # the deployment file to update or create (real path)
    shown_file: Path
    exists: bool
    original: bytes | None
    text: str | None  # the file's text, as read
    base_text: str | None  # the unified text (migrated when the file was legacy)
    base_data: dict[str, Any] | None
    document: Document | None  # the file as read, for drift
    records: list[dict[str, Any]] = field(default_factory=list)  # unified records
    by_identity: dict[Identity, dict[str, Any]] = field(default_factory=dict)
    by_path: dict[str, Identity] = field(default_factory=dict)
    real_paths: dict[Path, str] = field(default_factory=dict)  # folders, once per request
    #: How the new deployment file text is written: atomically on disk, unless the caller
    #: (the language server, for a file open in the editor) hands it to the editor instead.
    writer: RecordWriter | None = None

    def real_root_of(self, collection: Collection) -> str:
        """The real path of a collection's folder."""
        return self._real_folder(collection.path)

    def real_path(self, path: Path) -> str:
        """``os.path.realpath(path)``, resolving each parent folder once per request."""
        if os.path.islink(path) or path.name in ("", ".", ".."):
            return os.path.realpath(path)
        return os.path.join(self._real_folder(path.parent), path.name)

    def _real_folder(self, folder: Path) -> str:
        if folder not in self.real_paths:
            self.real_paths[folder] = os.path.realpath(folder)
        return self.real_paths[folder]

    def display(self, rel: str | None) -> str:
        return f"{self.root.name}/{rel}" if rel else self.root.name

    @property
    def file_label(self) -> str:
        return f"{self.root.name}/{self.file.name}"


def _choose_file(root: Path) -> Path:
    deployed = root / DEPLOYED_FILE_NAME
    plan = root / PLAN_FILE_NAME
    if root.name == CLAUDE_DIR and not os.path.lexists(deployed) and os.path.lexists(plan):
        return plan
    return deployed


def profile_root(project: Path, profile: Profile) -> Path:
    """The profile root a request for ``profile`` works in: the profile's own root, unless the
    project has no file there but an existing root that belongs to the profile (``.codex``, the
    codex root of releases before 0.74.0)."""
    own = Path(project) / profile.root_dir
    if os.path.lexists(_choose_file(own)):
        return own
    for file in project_files(Path(project)):
        if profile_for_root(file.parent.name).id == profile.id and file.parent != own:
            return file.parent
    return own


def deployment_file(project: Path, profile: Profile | None = None) -> Path | None:
    """The deployment file a request on ``project`` (for ``profile``, default ``claude_code``)
    reads and updates, if one exists.

    ``.claude/.skillmeat-deployed.toml`` (the file SkillMeat reads) wins over
    ``.claude/deployment.toml`` when both exist.
    """
    chosen = _choose_file(profile_root(Path(project), profile or resolve_profile(None)))
    return chosen if os.path.lexists(chosen) else None


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _load(
    project: Path | str, writer: RecordWriter | None = None, profile: Profile | None = None
) -> _State:
    profile = profile or resolve_profile(None)
    shown_root = Path(project).absolute()
    if not shown_root.is_dir():
        raise DeployError(f"no such project directory: {project}")
    real_project = Path(os.path.realpath(shown_root))
    root = profile_root(real_project, profile)
    shown_profile_root = shown_root / root.name
    if os.path.lexists(root):
        real = os.path.realpath(root)
        if real != str(root):
            raise DeployError(
                f"{shown_profile_root} is a symlink to {real}: refused, skillmeat-ls writes "
                f"only inside the project's own {root.name}/ directory"
            )
        if not root.is_dir():
            raise DeployError(f"{shown_profile_root} is not a directory")
    file = _choose_file(root)
    shown_file = shown_profile_root / file.name
    state = _State(
        shown_root, root, profile, file, shown_file, False, None, None, None, None, None
    )
    if writer is not None:
        state.writer = writer
    if not os.path.lexists(file):
        return state
    real = os.path.realpath(file)
    if not _inside(real, str(root)) or real == str(root):
        raise DeployError(f"{shown_file} is a symlink to {real}, outside {root.name}/: refused")
    try:
        raw = Path(real).read_bytes()
    except OSError as exc:
        raise DeployError(f"cannot read {shown_file}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DeployError(f"{shown_file} is not UTF-8 text ({exc}); nothing changed") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeployError(
            f"{shown_file}: invalid TOML ({exc}); fix it first (skillmeat-ls check), nothing "
            "changed"
        ) from exc
    base_text = text
    if "deployment" in data or "artifacts" in data:
        try:
            base_text = migrate_text(text)
        except MigrationError as exc:
            raise DeployError(f"{shown_file}: {exc.message}") from exc
        data = tomllib.loads(base_text)
    records = data.get("deployed", [])
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DeployError(
            f"{shown_file}: 'deployed' must be an array of tables ([[deployed]]); nothing changed"
        )
    state.exists = True
    state.original = raw
    state.text = text
    state.base_text = base_text
    state.base_data = data
    state.document = parse_document(text)
    state.records = records
    for record in records:
        identity = _record_identity(record)
        if identity is not None:
            state.by_identity.setdefault(identity, record)
            path = record.get("artifact_path")
            if isinstance(path, str) and not path_escapes(path):
                state.by_path.setdefault(_normal_rel(path), identity)
    return state


@contextlib.contextmanager
def _locked(
    project: Path | str,
    writer: RecordWriter | None,
    profile: Profile | None,
    *,
    dry_run: bool,
) -> Iterator[_State]:
    """The project's state, read under SkillMeat's lock of its deployment file, held until the
    request ends: a ``skillmeat deploy`` at the same moment waits, and nothing it wrote before
    is lost (the file is read again once the lock is held). A dry run takes no lock."""
    state = _load(project, writer, profile)
    if dry_run:
        yield state
        return
    with contextlib.ExitStack() as held:
        try:
            if not os.path.lexists(state.root):
                os.mkdir(state.root)
                held.callback(_remove_if_only_locks, state.root)
            held.enter_context(destination_lock(state.file))
        except LockTimeout as exc:
            raise DeployError(f"{exc}; nothing changed") from None
        except OSError as exc:
            raise DeployError(
                f"cannot lock {state.shown_file}: {exc.strerror or exc}; nothing changed"
            ) from exc
        yield _load(project, writer, state.profile)


def _remove_if_only_locks(folder: Path) -> None:
    """Remove a folder this request created, if it holds nothing but the lock files the request
    took there (a folder with anything else in it is left as it is)."""
    with contextlib.suppress(OSError):
        entries = list(os.scandir(folder))
        if all(entry.name.endswith(LOCK_SUFFIX) for entry in entries):
            for entry in entries:
                os.unlink(entry.path)
            os.rmdir(folder)


# --- targets inside the profile root -------------------------------------------------------------


def _checked_rel(path: object) -> str:
    """``artifact_path`` normalised, or :class:`_Refused` when it must not be touched."""
    if not isinstance(path, str) or not path:
        raise _Refused("the record has no artifact_path: refused")
    if path_escapes(path):
        raise _Refused(
            f"artifact_path {path!r} is absolute or leaves the profile root: refused", path
        )
    rel = _normal_rel(path)
    if rel in (".", "") or rel.split("/", 1)[0].startswith("."):
        raise _Refused(
            f"artifact_path {path!r} names the profile root itself or its own files: refused",
            path,
        )
    return rel


def _checked_target(state: _State, rel: str) -> Path:
    """``<root>/rel``, provided writing there cannot reach outside the profile root."""
    parts = rel.split("/")
    current = state.root
    for part in parts[:-1]:
        current = current / part
        if os.path.islink(current):
            raise _Refused(
                f"{state.display(str(current.relative_to(state.root)))} is a "
                f"symlink: refused (writes stay inside {state.root.name}/)",
                rel,
            )
        if not os.path.lexists(current):
            break
        if not current.is_dir():
            raise _Refused(
                f"{state.display(str(current.relative_to(state.root)))} is a file, not a folder",
                rel,
            )
    target = state.root.joinpath(*parts)
    if os.path.islink(target):
        real = os.path.realpath(target)
        if not _inside(real, str(state.root)) or real == str(state.root):
            raise _Refused(
                f"{state.display(rel)} is a symlink to {real}, outside {state.root.name}/: "
                "refused",
                rel,
            )
    return target


def _project_hash(path: Path) -> str | None:
    try:
        return content_hash(path)
    except (OSError, ValueError, UnicodeError):
        return None


# --- what to copy --------------------------------------------------------------------------------


@dataclass
class _CopyPlan:
    """The files of one artifact in the order the hash of the copy reads them."""

    source: str  # real path of the artifact in the collection
    is_dir: bool
    dirs: list[tuple[str, str]] = field(default_factory=list)  # (rel, source dir), parents first
    files: list[tuple[str, str]] = field(default_factory=list)  # (rel, source file)
    warnings: list[str] = field(default_factory=list)


def _skipped_name(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SKIP_PATTERNS)


def _plan_copy(artifact: CollectionArtifact, root: str, state: _State) -> _CopyPlan:
    """What to copy for ``artifact``; ``root`` is the collection folder's real path."""
    source = state.real_path(artifact.path)
    if not _inside(source, root) or source == root:
        raise _Refused(f"{artifact.rel_path} resolves to {source}, outside the collection: refused")
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError as exc:
        raise _Refused(f"{artifact.rel_path} is missing from collection folder {root}") from exc
    except OSError as exc:
        raise _Refused(f"cannot read {artifact.rel_path}: {exc.strerror or exc}") from exc
    if stat.S_ISREG(mode):
        plan = _CopyPlan(source, False)
        plan.files.append(("", source))
        return plan
    if not stat.S_ISDIR(mode):
        raise _Refused(f"{artifact.rel_path} is neither a file nor a folder")
    plan = _CopyPlan(source, True)
    _walk(plan, source, "", root, {source})
    return plan


def _walk(plan: _CopyPlan, directory: str, prefix: str, root: str, chain: set[str]) -> None:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        raise _Refused(
            f"cannot list {prefix or '.'} in the collection: {exc.strerror or exc}"
        ) from exc
    for entry in entries:
        if _skipped_name(entry.name):
            continue
        rel = prefix + entry.name
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not _inside(real, root):
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
                if real in chain:
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


def _planned_hash(plan: _CopyPlan) -> str:
    """The content hash the copy will have (for dry runs, which copy nothing).

    ``plan.files`` is in the order :func:`~skillmeat_ls.hashing.content_hash` reads the copy
    (each level by name, folders entered where they sort), so feeding the relative paths and
    bytes in that order gives the copy's hash."""
    hasher = hashlib.sha256()
    for rel, source in plan.files:
        if plan.is_dir:
            hasher.update(rel.encode("utf-8"))
        with open(source, "rb") as handle:
            while chunk := handle.read(1 << 16):
                hasher.update(chunk)
    return hasher.hexdigest()


def _copy(plan: _CopyPlan, destination: Path) -> str:
    """Copy the planned files to ``destination``; the content hash of the copy."""
    hasher = hashlib.sha256()
    if not plan.is_dir:
        _copy_file(plan.source, destination, hasher)
        return hasher.hexdigest()
    os.mkdir(destination)
    for rel, _source in plan.dirs:
        os.mkdir(destination / rel)
    for rel, source in plan.files:
        hasher.update(rel.encode("utf-8"))
        _copy_file(source, destination / rel, hasher)
    for rel, source in reversed(plan.dirs):
        _copy_stat(source, destination / rel)
    _copy_stat(plan.source, destination)
    return hasher.hexdigest()


# --- planning ------------------------------------------------------------------------------------


@dataclass
class _Item:
    name: str
    type: str
    rel: str
    target: Path
    collection: str
    plan: _CopyPlan
    replaced_from: str | None
    content_hash: str | None = None

    @property
    def identity(self) -> Identity:
        return (normalize_name(self.name), canonical_type(self.type))


def _plan_item(
    state: _State,
    collection: Collection,
    artifact: CollectionArtifact,
    *,
    name: str,
    artifact_type: str,
    rel: str,
    replace: bool,
) -> _Item:
    identity = (normalize_name(name), canonical_type(artifact_type))
    owner = state.by_path.get(rel)
    if owner is not None and owner != identity:
        raise _Refused(
            f"{state.display(rel)} is recorded for the {owner[1]} {owner[0]!r}; "
            "deploying would overwrite it",
            rel,
        )
    target = _checked_target(state, rel)
    plan = _plan_copy(artifact, state.real_root_of(collection), state)
    record = state.by_identity.get(identity)
    if os.path.lexists(target) and not replace:
        recorded_path = record.get("artifact_path") if record else None
        if isinstance(recorded_path, str) and _normal_rel(recorded_path) == rel:
            if _project_hash(target) != _recorded_hash(record):  # type: ignore[arg-type]
                raise _Skipped(
                    "local-modifications",
                    f"{state.display(rel)} was modified locally since it was deployed; "
                    "overwrite replaces it",
                    rel,
                )
        else:
            raise _Skipped(
                "untracked",
                f"{state.display(rel)} exists but is not recorded in "
                f"{state.file_label}; overwrite replaces it",
                rel,
            )
    previous = record.get("from_collection") if record else None
    replaced_from = previous if isinstance(previous, str) and previous != collection.name else None
    return _Item(name, artifact_type, rel, target, collection.name, plan, replaced_from)


# --- the transaction -----------------------------------------------------------------------------


class _Transaction:
    """Swaps paths inside a profile root and can undo every swap it made."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging: Path | None = None
        self.created: list[Path] = []
        self.moves: list[tuple[Path, Path | None, bool]] = []  # (target, aside, new one moved in)

    def begin(self) -> Path:
        if not os.path.lexists(self.root):
            os.mkdir(self.root)
            self.created.append(self.root)
        self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.root))
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
                os.mkdir(current)
                self.created.append(current)
                continue
            if not stat.S_ISDIR(mode):  # lstat: a symlinked folder is refused too
                raise NotADirectoryError(f"{current} is not a folder (a file or a symlink)")

    def put(self, index: int, staged: Path, target: Path) -> None:
        assert self.staging is not None
        aside = None
        if os.path.lexists(target):
            aside = self.staging / f"old-{index}"
            os.replace(target, aside)
        self.moves.append((target, aside, False))
        os.replace(staged, target)
        self.moves[-1] = (target, aside, True)

    def take_out(self, index: int, target: Path) -> None:
        assert self.staging is not None
        aside = self.staging / f"old-{index}"
        os.replace(target, aside)
        self.moves.append((target, aside, False))

    def rollback(self) -> list[str]:
        """Undo every swap, newest first; the problems met (none when all went back)."""
        assert self.staging is not None or not self.moves
        problems = []
        for number in range(len(self.moves) - 1, -1, -1):
            target, aside, moved_in = self.moves[number]
            try:
                if moved_in:
                    os.replace(target, self.staging / f"undo-{number}")  # type: ignore[operator]
                if aside is not None:
                    os.replace(aside, target)
            except OSError as exc:
                problems.append(f"{target}: {exc.strerror or exc}")
        self.moves.clear()
        return problems

    def finish(self, *, keep_staging: bool, remove_created: bool) -> None:
        if self.staging is not None and not keep_staging:
            shutil.rmtree(self.staging, ignore_errors=True)
        if remove_created:
            for folder in reversed(self.created):
                _remove_if_only_locks(folder)


def _record_text(record: dict[str, Any]) -> str:
    import tomli_w

    return tomli_w.dumps({"deployed": [record]})


def _trailer(chunk_text: str) -> str:
    """The blank and comment lines that end a chunk (kept when its record is replaced)."""
    lines = chunk_text.splitlines(keepends=True)
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return "".join(lines[end:])


def _new_text(state: _State, changes: dict[Identity, dict[str, Any] | None]) -> str:
    """The deployment file after ``changes`` (identity -> new record, or None to remove it).

    Records of the file that are not changed keep their text; a changed record is replaced where
    it stands (duplicates of its pair are dropped); new records are appended in request order.
    """
    ordered = {
        identity: order_record(r) if r is not None else None for identity, r in changes.items()
    }
    if state.base_data is None:
        return render_document({"deployed": [r for r in ordered.values() if r is not None]})
    expected: list[dict[str, Any]] = []
    seen: set[Identity] = set()
    for record in state.records:
        identity = _record_identity(record)
        if identity is not None and identity in ordered:
            if identity not in seen and ordered[identity] is not None:
                expected.append(ordered[identity])  # type: ignore[arg-type]
            seen.add(identity)
        else:
            expected.append(record)
    appended = [r for identity, r in ordered.items() if identity not in seen and r is not None]
    expected.extend(appended)
    wanted = {**state.base_data, "deployed": expected}
    reuse = state.document if state.base_text == state.text else None
    spliced = _splice(state.base_text or "", ordered, appended, reuse)
    if spliced is not None:
        try:
            if tomllib.loads(spliced) == wanted:
                return spliced
        except tomllib.TOMLDecodeError:
            pass
    return render_document(wanted)


def _splice(
    text: str,
    ordered: dict[Identity, dict[str, Any] | None],
    appended: list[dict[str, Any]],
    parsed: Document | None,
) -> str | None:
    """``text`` with changed records replaced in place and new ones appended; None when its
    layout does not allow it (the caller then re-renders the whole file)."""
    document = parsed if parsed is not None else parse_document(text)
    root = document.root
    if document.problems or (root is not None and "deployed" in root.chunk.entries):
        return None
    pieces: list[str] = []
    seen: set[Identity] = set()
    for placed in document.placed:
        chunk_text = placed.chunk.text
        if isinstance(placed, Record) and placed.schema == "unified":
            identity = _identity(placed.name, placed.type)
            if identity is not None and identity in ordered:
                new = ordered[identity]
                if identity not in seen and new is not None:
                    pieces.append(_record_text(new) + _trailer(chunk_text))
                seen.add(identity)
                continue
        pieces.append(chunk_text)
    out = "".join(pieces)
    if appended:
        if out and not out.endswith("\n"):
            out += "\n"
        if out.strip() and not out.endswith("\n\n"):
            out += "\n"
        out += "\n".join(_record_text(record) for record in appended)
    if out.endswith("\n\n") and not text.endswith("\n\n"):
        out = out.rstrip("\n") + "\n"  # a removed last record leaves no blank tail
    return out


def _write_file(state: _State, text: str) -> None:
    """Replace the deployment file, unless someone else changed it since it was read."""
    try:
        current = Path(os.path.realpath(state.file)).read_bytes()
    except FileNotFoundError:
        current = None
    if current != state.original:
        raise RuntimeError(f"{state.file_label} was changed by another program meanwhile")
    (state.writer or atomic_write)(state.file, text)


#: Keys of a replaced record that a redeploy carries over (SkillMeat's deploy does not set them).
_CARRIED_KEYS = ("artifact_uuid", "branch_name")


def _deployed_record(item: _Item, deployed_at: str, state: _State) -> dict[str, Any]:
    """The record SkillMeat 0.74.0's deploy writes for ``item`` (``core/deployment.py``)."""
    record: dict[str, Any] = {
        "artifact_name": item.name,
        "artifact_type": item.type,
        "from_collection": item.collection,
        "deployed_at": deployed_at,
        "artifact_path": item.rel,
        "content_hash": item.content_hash,
        "local_modifications": False,
        "version_lineage": [item.content_hash],
        "merge_base_snapshot": item.content_hash,
        **state.profile.record_keys(),
        "collection_sha": item.content_hash,
    }
    previous = state.by_identity.get(item.identity) or {}
    record.update({key: previous[key] for key in _CARRIED_KEYS if previous.get(key) is not None})
    return record


def _timestamp(now: datetime | None) -> str:
    return naive_iso(now) if now is not None else datetime.now().isoformat()


def _abort_planned(result: DeployResult, items: Sequence[_Item], why: str) -> None:
    for item in items:
        result.skipped.append(
            _item(
                item.name,
                item.type,
                item.rel,
                item.collection,
                code="aborted",
                reason=f"not deployed: {why}",
            )
        )


def _execute(
    state: _State, items: list[_Item], result: DeployResult, *, dry_run: bool, now: datetime | None
) -> None:
    """Deploy the planned ``items`` as one all-or-nothing step (see the module doc)."""
    if result.errors:
        _abort_planned(result, items, "another artifact of this request was refused")
        return
    if not items:
        return
    deployed_at = _timestamp(now)
    if dry_run:
        for item in items:
            item.content_hash = _planned_hash(item.plan)
        _report_deployed(result, items)
        result.file = state.shown_file
        return

    transaction = _Transaction(state.root)
    current: _Item | None = None
    rollback_problems: list[str] = []
    done = writing = False
    try:
        staging = transaction.begin()
        staged: list[Path] = []
        for number, item in enumerate(items):
            current = item
            destination = staging / f"new-{number}"
            item.content_hash = _copy(item.plan, destination)
            staged.append(destination)
        current = None
        text = _new_text(
            state, {item.identity: _deployed_record(item, deployed_at, state) for item in items}
        )
        with contextlib.ExitStack() as destinations:
            for number, item in enumerate(items):
                current = item
                transaction.ensure_folder(item.target.parent)
                destinations.enter_context(destination_lock(item.target))
                transaction.put(number, staged[number], item.target)
            current = None
            writing = True
            _write_file(state, text)
        done = True
    except BaseException as exc:
        rollback_problems = transaction.rollback()
        if not isinstance(exc, Exception):
            raise
        where = state.file_label if writing else f"{state.root.name}/ for the copies"
        _report_failure(result, items, current, where, exc, rollback_problems, transaction)
    finally:
        transaction.finish(keep_staging=bool(rollback_problems), remove_created=not done)
    if done:
        _report_deployed(result, items)
        result.file = state.shown_file


def _report_deployed(result: DeployResult, items: Sequence[_Item]) -> None:
    for item in items:
        result.deployed.append(
            _item(
                item.name,
                item.type,
                item.rel,
                item.collection,
                content_hash=item.content_hash,
                replaced_from=item.replaced_from,
                warnings=list(item.plan.warnings),
            )
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _Refused):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


def _report_failure(
    result: DeployResult,
    items: Sequence[_Item],
    culprit: _Item | None,
    where: str,
    exc: BaseException,
    problems: list[str],
    transaction: _Transaction,
) -> None:
    if problems:
        undo = (
            f"; undoing it failed ({'; '.join(problems)}): the previous copies are kept in "
            f"{transaction.staging}"
        )
    else:
        undo = "; every change was undone"
    if culprit is None:
        message = f"cannot write {where}: {_describe(exc)}{undo}"
        for item in items:
            result.errors.append(
                _item(item.name, item.type, item.rel, item.collection, message=message)
            )
        return
    result.errors.append(
        _item(
            culprit.name,
            culprit.type,
            culprit.rel,
            culprit.collection,
            message=f"{_describe(exc)}{undo}",
        )
    )
    _abort_planned(
        result,
        [item for item in items if item is not culprit],
        f"deploying the {culprit.type} {culprit.name!r} failed{undo}",
    )


# --- deploy --------------------------------------------------------------------------------------


def _unique(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys((name, artifact_type) for name, artifact_type in pairs))


def deploy(
    project: Path | str,
    collection: Collection,
    artifacts: Sequence[tuple[str, str]],
    *,
    overwrite: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    record_writer: RecordWriter | None = None,
    profile: Profile | None = None,
) -> DeployResult:
    """Copy ``artifacts`` ((name, type) pairs) of ``collection`` into the project's root for
    ``profile`` (default ``claude_code``: ``.claude/``) and record them; all or nothing (see the
    module doc). ``dry_run`` reports the same and writes nothing. ``record_writer`` replaces the
    atomic write of the deployment file; if it raises, the copies are rolled back. Raises
    :class:`DeployError` when the project or its deployment file is unusable."""
    with _locked(project, record_writer, profile, dry_run=dry_run) as state:
        result = DeployResult(**_result_place(state), dry_run=dry_run)
        planned: list[_Item] = []
        for name, artifact_type in _unique(artifacts):
            rel = state.profile.artifact_path(name, artifact_type) if is_safe_name(name) else None
            try:
                planned.append(
                    _plan_deploy(state, collection, name, artifact_type, rel, overwrite)
                )
            except _Refused as exc:
                result.errors.append(
                    _item(name, artifact_type, exc.path or rel, collection.name, message=exc.message)
                )
            except _Skipped as exc:
                result.skipped.append(
                    _item(
                        name,
                        artifact_type,
                        exc.path or rel,
                        collection.name,
                        code=exc.code,
                        reason=exc.reason,
                    )
                )
        _execute(state, planned, result, dry_run=dry_run, now=now)
    return result


def _result_place(state: _State) -> dict[str, Any]:
    return {
        "file": state.shown_file if state.exists else None,
        "profile": state.profile.id,
        "root": state.root.name,
    }


def _plan_deploy(
    state: _State,
    collection: Collection,
    name: str,
    artifact_type: str,
    rel: str | None,
    overwrite: bool,
) -> _Item:
    if not is_safe_name(name):
        raise _Refused(f"unsafe artifact name {name!r} (no '/', '\\', '..', NUL or leading '.')")
    profile = state.profile
    if rel is None or not profile.supports(artifact_type):
        raise _Refused(
            f"{artifact_type!r} artifacts are not deployed into {profile.root_dir}/ by the "
            f"{profile.id} profile (SkillMeat skips them as ineligible)"
        )
    found = collection.find(name, artifact_type)
    if not found:
        raise _Refused(f"collection {collection.name} has no {artifact_type} named {name!r}", rel)
    artifact = found[0]
    if artifact.name != name:
        rel = profile.artifact_path(artifact.name, artifact_type) or rel
    suffix = os.path.splitext(artifact.rel_path)[1]
    if canonical_type(artifact_type) == "orchestration" and suffix and not posixpath.splitext(rel)[1]:
        rel += suffix  # SkillMeat keeps a script's own suffix (``.js``, ``.py``, ...)
    return _plan_item(
        state,
        collection,
        artifact,
        name=artifact.name,
        artifact_type=artifact_type,
        rel=rel,
        replace=overwrite,
    )


def _parse_spec(spec: str) -> tuple[str, str | None]:
    """``NAME:TYPE`` when the part after the last ``:`` is a known type; else the whole ``NAME``."""
    name, sep, suffix = spec.rpartition(":")
    if sep and name and suffix in KNOWN_TYPES:
        return name, suffix
    return spec, None


def _type_hint(spec: str) -> str:
    """A hint for ``NAME:TYPO`` when nothing is called ``NAME:TYPO``."""
    _name, sep, suffix = spec.rpartition(":")
    if not sep:
        return ""
    suggestion = suggest_type(suffix)
    return f" ({suffix!r} is not an artifact type" + (
        f"; did you mean {_name}:{suggestion}?)" if suggestion else ")"
    )


def _choices(name: str, types: Sequence[str]) -> str:
    written = [f"{name}:{t}" for t in types]
    return ", ".join(written[:-1]) + f" or {written[-1]}"


def resolve_request(collection: Collection, specs: Sequence[str]) -> list[tuple[str, str]]:
    """``NAME`` / ``NAME:TYPE`` specs as (name, type) pairs of ``collection``.

    Raises :class:`DeployError` for an unsafe name, a name the collection does not hold, or a
    ``NAME`` held with several types (listing them)."""
    pairs: list[tuple[str, str]] = []
    for spec in specs:
        name, artifact_type = _parse_spec(spec)
        if not is_safe_name(name):
            raise DeployError(
                f"unsafe artifact name {name!r} (no '/', '\\', '..', NUL or leading '.')"
            )
        if artifact_type is not None:
            if not collection.find(name, artifact_type):
                others = sorted({a.type for a in collection.find(name)})
                hint = f" (it has {name!r} as {', '.join(others)})" if others else ""
                raise DeployError(
                    f"collection {collection.name} has no {artifact_type} named {name!r}{hint}"
                )
            pairs.append((name, artifact_type))
            continue
        found = collection.find(name)
        if not found:
            raise DeployError(
                f"collection {collection.name} has no artifact named {name!r}{_type_hint(spec)}"
            )
        if len(found) > 1:
            types = [a.type for a in found]
            raise DeployError(
                f'"{name}" is ambiguous in collection {collection.name}: '
                f"{', '.join(types)}; write {_choices(name, types)}"
            )
        pairs.append((name, found[0].type))
    return _unique(pairs)


def resolve_recorded(
    project: Path | str, specs: Sequence[str], profile: Profile | None = None
) -> list[tuple[str, str]]:
    """``NAME`` / ``NAME:TYPE`` specs as (name, type) pairs recorded in ``project``'s file of
    ``profile``; names match as SkillMeat matches them (``review.md`` is ``review``)."""
    state = _load(project, profile=profile)
    recorded: list[tuple[str, str]] = []
    for record in state.records:
        name, artifact_type = record.get("artifact_name"), record.get("artifact_type")
        if isinstance(name, str) and isinstance(artifact_type, str):
            recorded.append((name, artifact_type))
    where = state.file_label if state.exists else f"{state.root.name}/ (no deployment file)"
    pairs: list[tuple[str, str]] = []
    for spec in specs:
        name, artifact_type = _parse_spec(spec)
        wanted = normalize_name(name)
        if artifact_type is not None:
            matches = [
                p
                for p in recorded
                if normalize_name(p[0]) == wanted
                and canonical_type(p[1]) == canonical_type(artifact_type)
            ]
        else:
            matches = [p for p in recorded if normalize_name(p[0]) == wanted]
        types = list(dict.fromkeys(t for _, t in matches))
        if not matches:
            kind = f"{artifact_type} " if artifact_type else ""
            raise DeployError(f"no {kind}{name!r} is recorded in {where}{_type_hint(spec)}")
        if len(types) > 1:
            raise DeployError(
                f'"{name}" is ambiguous in {where}: {", ".join(types)}; write '
                f"{_choices(name, types)}"
            )
        pairs.append(matches[0])
    return _unique(pairs)


# --- status and update ---------------------------------------------------------------------------


def _context(state: _State, index: CollectionIndex | None) -> Context:
    return Context(file_path=state.file, collections=index, disk=DiskProbe())


def _unknown_reason(record: Record, here: str) -> str:
    root = record.text("profile_root_dir")
    if root and root != here:
        return f"recorded for {root}/ but listed in {here}/{DEPLOYED_FILE_NAME}"
    recorded = record.content_hash
    if recorded is None or not HASH_RE.fullmatch(recorded):
        return "the recorded content_hash is not a SHA-256 hash"
    return "cannot be judged"


def _status_of(state: _State, record: Record, context: Context) -> RecordStatus:
    assert state.document is not None
    collection = state.document.collection_of(record)[0] or None
    path = derived_path(record)

    where = {
        "profile": record.text("deployment_profile_id") or DEFAULT_PROFILE_ID,
        "root": state.root.name,
    }

    def unknown(reason: str) -> RecordStatus:
        return RecordStatus(
            record.name,
            record.type,
            collection,
            path,
            "unknown",
            record.content_hash,
            None,
            None,
            reason,
            **where,
        )

    try:
        _checked_rel(path)
    except _Refused as exc:  # never read through a path that update and undeploy refuse
        return unknown(exc.message)
    drift = drift_state(state.document, record, context)
    if drift is None:
        return unknown(_unknown_reason(record, state.root.name))
    message = drift.message
    if drift.state == "missing":
        message = f"{state.root.name}/{path} does not exist"
    elif drift.state == "in-sync":
        message = "matches its record"
    index = context.collections
    if index is not None and collection is not None:
        held = index.get(collection)
        if held is None:
            message += f"; collection {collection!r} is unknown"
        elif (
            record.name and record.type and not held.find(record.name, canonical_type(record.type))
        ):
            message += f"; collection {collection!r} no longer has it"
    return RecordStatus(
        record.name,
        record.type,
        collection,
        path,
        drift.state,
        drift.recorded,
        drift.project_hash,
        drift.collection_hash,
        message,
        **where,
    )


def status(
    project: Path | str, index: CollectionIndex | None, profile: Profile | None = None
) -> list[RecordStatus]:
    """The drift state of every record of ``project``'s deployment file for ``profile``, in file
    order; without ``profile``, of every profile root's file (``.claude`` first)."""
    if profile is not None:
        states = [_load(project, profile=profile)]
    else:
        shown = Path(project).absolute()
        if not shown.is_dir():
            raise DeployError(f"no such project directory: {project}")
        roots = dict.fromkeys(f.parent.name for f in project_files(shown))
        states = [
            _load(project, profile=profile_for_root(name, project=shown)) for name in roots
        ]
    found: list[RecordStatus] = []
    for state in states:
        if state.document is not None:
            context = _context(state, index)
            found.extend(_status_of(state, record, context) for record in state.document.records)
    return found


def _document_records(state: _State) -> dict[Identity, Record]:
    found: dict[Identity, Record] = {}
    if state.document is not None:
        for record in state.document.records:
            identity = _identity(record.name, record.type)
            if identity is not None:
                found.setdefault(identity, record)
    return found


def update(
    project: Path | str,
    index: CollectionIndex | None,
    name: str,
    artifact_type: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    record_writer: RecordWriter | None = None,
    profile: Profile | None = None,
) -> DeployResult:
    """Re-deploy the recorded ``(name, type)`` of ``profile`` from its own collection
    (``from_collection``), at its recorded path. Local changes (modified, conflict, or an
    unjudgeable record) are kept unless ``force``; an in-sync record is skipped as already up
    to date."""
    return update_many(
        project,
        index,
        [(name, artifact_type)],
        force=force,
        dry_run=dry_run,
        now=now,
        record_writer=record_writer,
        profile=profile,
    )


def update_many(
    project: Path | str,
    index: CollectionIndex | None,
    pairs: Sequence[tuple[str, str]],
    *,
    force: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    record_writer: RecordWriter | None = None,
    profile: Profile | None = None,
) -> DeployResult:
    """:func:`update` for several records as one all-or-nothing request."""
    with _locked(project, record_writer, profile, dry_run=dry_run) as state:
        return _update_locked(state, index, pairs, force=force, dry_run=dry_run, now=now)


def _update_locked(
    state: _State,
    index: CollectionIndex | None,
    pairs: Sequence[tuple[str, str]],
    *,
    force: bool,
    dry_run: bool,
    now: datetime | None,
) -> DeployResult:
    result = DeployResult(**_result_place(state), dry_run=dry_run)
    context = _context(state, index)
    documented = _document_records(state)
    planned: list[_Item] = []
    for name, artifact_type in _unique(pairs):
        identity = (normalize_name(name), canonical_type(artifact_type))
        record = state.by_identity.get(identity)
        collection_name = record.get("from_collection") if record else None
        path = record.get("artifact_path") if record else None
        shown = path if isinstance(path, str) else None
        try:
            if record is None:
                raise _Refused(f"no {artifact_type} {name!r} is recorded in {state.file_label}")
            rel = _checked_rel(path)
            _checked_target(state, rel)
            collection = (
                index.get(collection_name) if index and isinstance(collection_name, str) else None
            )
            if collection is None:
                known = ", ".join(index.names()) if index else "none"
                raise _Refused(f"collection {collection_name!r} is unknown (known: {known})", rel)
            recorded_type = record.get("artifact_type")
            found = collection.find(name, recorded_type) or collection.find(
                name, canonical_type(recorded_type)
            )  # type: ignore[arg-type]
            if not found:
                raise _Refused(
                    f"collection {collection.name} no longer has the {recorded_type} {name!r}", rel
                )
            document_record = documented.get(identity)
            drift = (
                _status_of(state, document_record, context) if document_record is not None else None
            )
            _check_update(drift, found[0], force, state, rel)
            planned.append(
                _plan_item(
                    state,
                    collection,
                    found[0],
                    name=name,
                    artifact_type=str(recorded_type),
                    rel=rel,
                    replace=True,
                )
            )
        except _Refused as exc:
            result.errors.append(
                _item(
                    name,
                    artifact_type,
                    exc.path or shown,
                    _text_or_none(collection_name),
                    message=exc.message,
                )
            )
        except _Skipped as exc:
            result.skipped.append(
                _item(
                    name,
                    artifact_type,
                    exc.path or shown,
                    _text_or_none(collection_name),
                    code=exc.code,
                    reason=exc.reason,
                )
            )
    _execute(state, planned, result, dry_run=dry_run, now=now)
    return result


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _check_update(
    drift: RecordStatus | None, artifact: CollectionArtifact, force: bool, state: _State, rel: str
) -> None:
    if artifact.content_hash is None:
        raise _Refused(f"cannot read the collection's copy of {artifact.rel_path}", rel)
    if drift is None:
        return
    where = state.display(rel)
    if (
        drift.state == "in-sync"
        and drift.project_hash == drift.recorded_hash
        and (drift.collection_hash in (None, drift.recorded_hash))
    ):
        raise _Skipped("up-to-date", "already up to date", rel)
    if force:
        return
    if drift.state == "modified":
        raise _Skipped(
            "local-modifications",
            f"{where} was modified locally and its collection has no update; force replaces it",
            rel,
        )
    if drift.state == "conflict":
        raise _Skipped(
            "conflict",
            f"{where} changed both here and in its collection; force replaces the local changes",
            rel,
        )
    if drift.state == "unknown":
        raise _Skipped("unknown-state", f"{where}: {drift.message}; force replaces it", rel)


# --- undeploy ------------------------------------------------------------------------------------


def undeploy(
    project: Path | str,
    name: str,
    artifact_type: str,
    *,
    dry_run: bool = False,
    profile: Profile | None = None,
) -> UndeployResult:
    """Remove the recorded ``(name, type)`` of ``profile``: its copy inside the profile root and
    its record, as one atomic step (the copy is moved aside, the file rewritten, then the copy
    deleted)."""
    with _locked(project, None, profile, dry_run=dry_run) as state:
        return _undeploy_locked(state, name, artifact_type, dry_run=dry_run)


def _undeploy_locked(
    state: _State, name: str, artifact_type: str, *, dry_run: bool
) -> UndeployResult:
    result = UndeployResult(**_result_place(state), dry_run=dry_run)
    identity = (normalize_name(name), canonical_type(artifact_type))
    record = state.by_identity.get(identity)
    collection = _text_or_none(record.get("from_collection")) if record else None
    path = _text_or_none(record.get("artifact_path")) if record else None
    try:
        if record is None:
            raise _Refused(f"no {artifact_type} {name!r} is recorded in {state.file_label}")
        rel = _checked_rel(path)
        target = _checked_target(state, rel)
    except _Refused as exc:
        result.errors.append(
            _item(name, artifact_type, exc.path or path, collection, message=exc.message)
        )
        return result
    missing = not os.path.lexists(target)
    entry = _item(
        name, artifact_type, rel, collection, content_hash=_recorded_hash(record), missing=missing
    )
    if dry_run:
        result.removed.append(entry)
        return result
    transaction = _Transaction(state.root)
    problems: list[str] = []
    done = False
    try:
        transaction.begin()
        with destination_lock(target):
            if not missing:
                transaction.take_out(0, target)
            _write_file(state, _new_text(state, {identity: None}))
        done = True
    except BaseException as exc:
        problems = transaction.rollback()
        if not isinstance(exc, Exception):
            raise
        undo = (
            f"; undoing it failed ({'; '.join(problems)}): the copy is kept in "
            f"{transaction.staging}"
            if problems
            else "; nothing was changed"
        )
        result.errors.append({**entry, "message": f"{_describe(exc)}{undo}"})
        del result.errors[-1]["missing"]
    finally:
        transaction.finish(keep_staging=bool(problems), remove_created=not done)
    if done:
        result.removed.append(entry)
    return result
