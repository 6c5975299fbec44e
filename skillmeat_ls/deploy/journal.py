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
for a removal). A swap ``k`` moves what is at the target, if anything, to ``staging/aside`` (an
old copy there is how recovery knows the target had one: whether it has is decided under the
target's lock, at the swap, as another program may have written it until then), then
``staging/new`` to the target; undoing it moves the new copy to ``staging/undo-k`` first. What
recovery does with a journal is :mod:`.recovery`'s; how each swap is undone is
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
from skillmeat_ls.schema import DEPLOYED_FILE_NAME, PLAN_FILE_NAME

#: The journal's name inside the profile root.
JOURNAL_NAME = ".skillmeat-journal.json"
#: Prefix of the temporary folder inside a profile root that holds copies while a request runs.
STAGING_PREFIX = ".skillmeat-staging-"

_MARKER = "skillmeat-ls"
_VERSION = 1
_OPERATIONS = ("deploy", "update", "undeploy")
_MAX_BYTES = 32 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")
_STAGED_NAME = re.compile(r"(old|new)-[0-9]+")


@dataclass(frozen=True)
class Swap:
    """One target of a request: ``path`` (relative to the root), where a copy there goes in
    staging (``aside``), and the new copy's name in staging (None: the target is removed)."""

    path: str
    aside: str
    new: str | None


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

    def to_text(self) -> str:
        data = {"journal": _MARKER, "version": _VERSION, **asdict(self)}
        return json.dumps(data, indent=1) + "\n"

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
    staging = _field(data, "staging", str)
    if not staging.startswith(STAGING_PREFIX) or not _plain_name(staging):
        raise ValueError(f"staging {staging!r} is not a {STAGING_PREFIX}* folder of the root")
    deployment_file = _field(data, "deployment_file", str)
    if deployment_file not in (DEPLOYED_FILE_NAME, PLAN_FILE_NAME):
        raise ValueError(f"deployment_file {deployment_file!r} is not a deployment file name")
    old_sha256 = data.get("old_sha256")
    if old_sha256 is not None:
        old_sha256 = _hash(data, "old_sha256")
    created = tuple(checked_rel(rel) for rel in _list(data, "created", str))
    swaps = tuple(_swap(entry) for entry in _list(data, "swaps", dict))
    return Journal(
        operation, staging, deployment_file, old_sha256, _hash(data, "new_sha256"), created, swaps
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


def _swap(entry: dict[str, Any]) -> Swap:
    rel = checked_rel(_field(entry, "path", str))
    aside = _field(entry, "aside", str)
    new = entry.get("new")
    for name in (aside, new):
        if name is not None and (not isinstance(name, str) or not _STAGED_NAME.fullmatch(name)):
            raise ValueError(f"swap of {rel!r}: {name!r} is not a name inside the staging folder")
    return Swap(rel, aside, new)


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
