"""The journal of a request: every change it is about to make in a profile root, on disk before
the first one (:class:`Journal`), and reading one back without trusting it (:func:`read_journal`).

A deploy, update or undeploy writes ``<root>/.skillmeat-journal.json`` (one per root: the request
holds the root's deployment-file lock), synced with its folder, once its new copies are staged and
before it moves anything in the root; it is removed once the request is over. JSON, one object::

    {
      "journal": "skillmeat-ls", "version": 1,
      "operation": "update",                        # deploy, update or undeploy
      "staging": ".skillmeat-staging-1a2b3c",       # the request's folder in the root
      "deployment_file": ".skillmeat-deployed.toml",  # or "deployment.toml", in the root
      "old_sha256": "…",                            # that file as read (null: there was none)
      "new_sha256": "…",                            # the text the request writes there
      "created": ["skills"],                        # folders it creates, parents first
      "swaps": [                                    # per target, in the order they are made
        {"path": "skills/review", "aside": "old-0", "new": "new-0"}
      ]
    }

Every path is relative to the root: ``path`` and ``created`` as an ``artifact_path`` is
(:func:`~.paths.checked_rel`), ``aside``/``new`` as names inside ``staging`` (``new`` is null
for a removal, and ``new-N/NAME``, NAME the target's own name, for a copy staged inside a folder
that the request moves in whole: :mod:`.staginglayout`). A swap ``k`` moves what is at the
target, if anything, to ``staging/aside`` (an old copy there is how recovery knows the target
had one: whether it has is decided under the target's lock, at the swap, as another program may
have written it until then), then ``staging/new`` to the target; undoing it moves the new copy
to ``staging/undo-k`` first.

A keep-local journals no swaps. A pull journals no swaps in the root either, but a
``"collection"`` part: what it changes in the collection it pulls into, which the recovery of
the root completes or undoes with the rest (:mod:`.collectionside`)::

    "collection": {
      "name": "default",                              # the record's from_collection
      "folder": "/home/me/.skillmeat/collections/default",  # its real path, named like it
      "staging": ".skillmeat-staging-9f8e7d",         # in that folder, made after the journal
      "swaps": [{"path": "skills/review", "aside": "old-0", "new": "new-0",
                 "new_hash": "…", "old_hash": "…"}],  # content hashes (old: null, no copy)
      "lock": {"key": "review::skill",                # null: collection.lock is not rewritten
               "old_text": "…", "old_mode": 384,      # the file as read (null: none)
               "old_entry": {…}, "new_entry": {…},    # the entry before and as written
               "new_sha256": "…"}                     # of the text written
    }

What recovery does with a journal is :mod:`.recovery`'s; how each swap is undone is
:mod:`.transaction`'s.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from skillmeat_ls.deploy.paths import checked_rel, checked_target, display
from skillmeat_ls.deploy.results import DeployError, Refused
from skillmeat_ls.index.model import MANIFEST_NAME
from skillmeat_ls.schema import DEPLOYED_FILE_NAME, PLAN_FILE_NAME

#: The journal's name inside the profile root.
JOURNAL_NAME = ".skillmeat-journal.json"
#: Prefix of the temporary folder inside a profile root that holds copies while a request runs.
STAGING_PREFIX = ".skillmeat-staging-"

_MARKER = "skillmeat-ls"
_VERSION = 1
_OPERATIONS = ("deploy", "update", "undeploy", "keep-local", "pull")
_MAX_BYTES = 32 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_STAGED_NAME = re.compile(r"(old|new)-[0-9]+")
_STAGED_COPY = re.compile(r"new-[0-9]+/(?P<name>[^/]+)")


@dataclass(frozen=True)
class Swap:
    """One target of a request: ``path`` (relative to the root), where a copy there goes in
    staging (``aside``), and the new copy's name in staging (None: the target is removed)."""

    path: str
    aside: str
    new: str | None


@dataclass(frozen=True)
class CollectionSwap(Swap):
    """A swap inside a collection folder, with the content hashes that tell recovery whether
    the copy at the target is still the one the pull put there (``old_hash``: of the copy that
    was there, None when there was none)."""

    new_hash: str
    old_hash: str | None


@dataclass(frozen=True)
class LockRewrite:
    """The rewrite of a collection's ``collection.lock``: the file as read (``old_text`` None:
    there was none), the entry ``key`` before and as written, the hash of the text written."""

    key: str
    old_text: str | None
    old_mode: int | None
    old_entry: dict[str, Any] | None
    new_entry: dict[str, Any]
    new_sha256: str


@dataclass(frozen=True)
class CollectionPart:
    """What a pull changes in the collection ``name``, whose real folder is ``folder``."""

    name: str
    folder: str
    staging: str  # a folder name in ``folder``
    swaps: tuple[CollectionSwap, ...]
    lock: LockRewrite | None

    @property
    def path(self) -> Path:
        return Path(self.folder)

    def display(self, rel: str | None) -> str:
        return f"collection {self.name}" + (f": {rel}" if rel else "")


@dataclass(frozen=True)
class Journal:
    """What a request is about to change in its profile root (the module doc has the format)."""

    operation: str
    staging: str  # a folder name in the root
    deployment_file: str  # a file name in the root
    old_sha256: str | None
    new_sha256: str
    created: tuple[str, ...]
    swaps: tuple[Swap, ...]
    collection: CollectionPart | None = None  # a pull's changes in its collection

    def to_text(self) -> str:
        if self.collection is not None or any(type(swap) is not Swap for swap in self.swaps):
            data = {"journal": _MARKER, "version": _VERSION, **asdict(self)}
            if self.collection is None:
                del data["collection"]
            return json.dumps(data, indent=1) + "\n"
        # What ``asdict`` gives for a journal of plain swaps, built directly (quicker).
        plain = {
            "journal": _MARKER,
            "version": _VERSION,
            "operation": self.operation,
            "staging": self.staging,
            "deployment_file": self.deployment_file,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            "created": self.created,
            "swaps": [{"path": s.path, "aside": s.aside, "new": s.new} for s in self.swaps],
        }
        return json.dumps(plain, indent=1) + "\n"

    @property
    def changes_record(self) -> bool:
        """False when the request writes the deployment file's text unchanged: then the file
        cannot tell whether it committed."""
        return self.new_sha256 != self.old_sha256


def journal_path(root: Path) -> Path:
    return root / JOURNAL_NAME


def read_journal(root: Path) -> Journal:
    """The journal of ``root``, checked: every path it names stays inside ``root`` and is
    reached without following a symlink. :class:`DeployError` (naming the journal and what to
    do) when it cannot be read, is not one skillmeat-ls wrote, or names a path it must not."""
    path = journal_path(root)
    try:
        journal = _parse(root, _read_bytes(path))
        _check_on_disk(root, journal)
    except (OSError, ValueError, Refused) as exc:
        reason = exc.message if isinstance(exc, Refused) else _reason(exc)
        raise DeployError(
            f"{display(root, JOURNAL_NAME)} (the journal of an interrupted skillmeat-ls request) "
            f"is not acted on: {reason}. Nothing was changed; check the copies in "
            f"{display(root, None)}/ and its {STAGING_PREFIX}* folders, then delete the journal"
        ) from exc
    return journal


def _reason(exc: OSError | ValueError) -> str:
    if isinstance(exc, OSError):
        return f"cannot read it ({exc.strerror or exc})"
    return str(exc)


def _read_bytes(path: Path) -> bytes:
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise ValueError("it is not a regular file (a symlink is never followed)")
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise ValueError(f"it is larger than {_MAX_BYTES >> 20} MB")
    return data


def _parse(root: Path, raw: bytes) -> Journal:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"it is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("journal") != _MARKER:
        raise ValueError("it is not a journal skillmeat-ls wrote")
    if data.get("version") != _VERSION:
        raise ValueError(f"journal version {data.get('version')!r} is not {_VERSION}")
    operation = _field(data, "operation", str)
    if operation not in _OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    staging = _staging_name(data)
    deployment_file = _field(data, "deployment_file", str)
    if deployment_file not in (DEPLOYED_FILE_NAME, PLAN_FILE_NAME):
        raise ValueError(f"deployment_file {deployment_file!r} is not a deployment file name")
    old_sha256 = data.get("old_sha256")
    if old_sha256 is not None:
        old_sha256 = _hash(data, "old_sha256")
    created = tuple(checked_rel(rel) for rel in _list(data, "created", str))
    swaps = tuple(_swap(entry) for entry in _list(data, "swaps", dict))
    part = data.get("collection")
    collection = _collection(_field(data, "collection", dict)) if part is not None else None
    return Journal(
        operation,
        staging,
        deployment_file,
        old_sha256,
        _hash(data, "new_sha256"),
        created,
        swaps,
        collection,
    )


def _field(data: dict[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise ValueError(f"{key!r} is missing or not a {kind.__name__}")
    return value


def _list(data: dict[str, Any], key: str, kind: type) -> list[Any]:
    values: list[Any] = _field(data, key, list)
    if not all(isinstance(value, kind) for value in values):
        raise ValueError(f"{key!r} must list {kind.__name__} values")
    return values


def _hash(data: dict[str, Any], key: str) -> str:
    value = _field(data, key, str)
    if not _SHA256.fullmatch(value):
        raise ValueError(f"{key!r} is not a SHA-256 hash")
    return str(value)


def _plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0")


def _staging_name(data: dict[str, Any]) -> str:
    staging = _field(data, "staging", str)
    if not staging.startswith(STAGING_PREFIX) or not _plain_name(staging):
        raise ValueError(f"staging {staging!r} is not a {STAGING_PREFIX}* folder")
    return str(staging)


def _swap(entry: dict[str, Any]) -> Swap:
    rel = checked_rel(_field(entry, "path", str))
    aside = _field(entry, "aside", str)
    new = entry.get("new")
    staged = new is None or (
        isinstance(new, str) and (_STAGED_NAME.fullmatch(new) or _in_staged_folder(new, rel))
    )
    for name, fits in ((aside, _STAGED_NAME.fullmatch(aside)), (new, staged)):
        if not fits:
            raise ValueError(f"swap of {rel!r}: {name!r} is not a name inside the staging folder")
    return Swap(rel, aside, new)


def _in_staged_folder(new: str, rel: str) -> bool:
    """Whether ``new`` names the copy for ``rel`` inside a staged folder (``new-N/NAME``, NAME
    the last part of ``rel``; :mod:`.staginglayout`)."""
    match = _STAGED_COPY.fullmatch(new)
    return match is not None and "/" in rel and match["name"] == rel.rsplit("/", 1)[1]


def _collection(data: dict[str, Any]) -> CollectionPart:
    name = _field(data, "name", str)
    folder = _field(data, "folder", str)
    if not _plain_name(name) or not os.path.isabs(folder) or os.path.basename(folder) != name:
        raise ValueError(f"collection folder {folder!r} is not the absolute path of {name!r}")
    swaps = []
    for entry in _list(data, "swaps", dict):
        swap = _swap(entry)
        old = entry.get("old_hash")
        swaps.append(
            CollectionSwap(
                swap.path,
                swap.aside,
                swap.new,
                _hash(entry, "new_hash"),
                _hash(entry, "old_hash") if old is not None else None,
            )
        )
    lock = data.get("lock")
    return CollectionPart(
        name,
        folder,
        _staging_name(data),
        tuple(swaps),
        _lock_rewrite(_field(data, "lock", dict)) if lock is not None else None,
    )


def _lock_rewrite(data: dict[str, Any]) -> LockRewrite:
    key = _field(data, "key", str)
    old_text = data.get("old_text")
    old_mode = data.get("old_mode")
    old_entry = data.get("old_entry")
    if "::" not in key:
        raise ValueError(f"lock key {key!r} is not 'NAME::TYPE'")
    if old_text is not None and not isinstance(old_text, str):
        raise ValueError("'old_text' is not a string")
    if old_mode is not None and (not isinstance(old_mode, int) or not 0 <= old_mode <= 0o7777):
        raise ValueError("'old_mode' is not a permission mode")
    if old_entry is not None and not isinstance(old_entry, dict):
        raise ValueError("'old_entry' is not an object")
    return LockRewrite(
        key,
        old_text,
        old_mode,
        old_entry,
        _field(data, "new_entry", dict),
        _hash(data, "new_sha256"),
    )


def _check_on_disk(root: Path, journal: Journal) -> None:
    """Every path the journal names is reached from ``root`` without a symlink (the staging
    folder is a real folder, when it is there)."""
    staging = root / journal.staging
    try:
        mode = os.lstat(staging).st_mode
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISDIR(mode):
            raise ValueError(f"{display(root, journal.staging)} is not a folder (or a symlink)")
    for rel in (*journal.created, *(swap.path for swap in journal.swaps)):
        checked_target(root, rel)
    if journal.collection is not None:
        _check_collection(journal.collection)


def _check_collection(part: CollectionPart) -> None:
    """The collection folder is a real folder (reached without a symlink) holding a
    ``collection.toml``; its staging folder, when it is there, is a real folder; its targets are
    reached without a symlink."""
    if os.path.realpath(part.folder) != part.folder or not os.path.isdir(part.folder):
        raise ValueError(f"{part.folder} is not the real folder of collection {part.name!r}")
    manifest = part.path / MANIFEST_NAME
    if not os.path.lexists(manifest) or not stat.S_ISREG(os.lstat(manifest).st_mode):
        raise ValueError(f"{part.folder} holds no collection.toml: it is not a collection")
    staging = part.path / part.staging
    if os.path.lexists(staging) and not stat.S_ISDIR(os.lstat(staging).st_mode):
        raise ValueError(f"{part.display(part.staging)} is not a folder (or a symlink)")
    for swap in part.swaps:
        checked_target(part.path, swap.path)
