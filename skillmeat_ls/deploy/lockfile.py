"""A collection's ``collection.lock`` as SkillMeat 0.74.0's ``LockManager`` reads and writes it
(``storage/lockfile.py``), for a pull's rewrite of one entry.

SkillMeat never edits the file in place: it reads every entry into its ``LockEntry`` model and
writes the whole file again with ``tomli_w``: ``[lock] version = "1.0.0"``, then each entry in
file order as ``[lock.entries."NAME::TYPE"]`` with ``content_hash`` and ``fetched`` (its
``datetime.fromisoformat(...).isoformat()``), then ``upstream``, ``resolved_sha``,
``resolved_version``, ``recipe_hash`` and ``applied_at`` when they are set. Whatever else the
file held (other keys of an entry or of ``[lock]``, other tables) is dropped, as SkillMeat drops
it. :func:`read_entries` is that read, refusing (:class:`LockFileError`) what makes SkillMeat's
read fail (its pull then leaves the lock stale and says so only in a log line);
:func:`render_lock` is that write. :func:`pulled_entry` is the entry a pull writes.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: The permission bits SkillMeat's ``atomic_write`` (``mkstemp``) leaves on ``collection.lock``.
LOCK_FILE_MODE = 0o600
#: The ``[lock] version`` SkillMeat writes.
LOCK_VERSION = "1.0.0"
#: The optional keys of an entry, in the order SkillMeat writes them after the two it always has.
_OPTIONAL = ("upstream", "resolved_sha", "resolved_version", "recipe_hash", "applied_at")

#: Entries by their key (``"NAME::TYPE"``), in file order, each as SkillMeat would write it.
Entries = dict[str, dict[str, Any]]


class LockFileError(ValueError):
    """``collection.lock`` holds something SkillMeat's ``LockManager.read`` fails on."""


def lock_key(name: str, artifact_type: str) -> str:
    """The key of an artifact's entry, as SkillMeat composes it."""
    return f"{name}::{artifact_type}"


def _timestamp(value: object, key: str, where: str) -> str:
    if not isinstance(value, str):
        raise LockFileError(f"entry {where}: {key!r} is not a quoted ISO timestamp")
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        raise LockFileError(f"entry {where}: {key!r} = {value!r} is not an ISO timestamp") from None


def read_entries(text: str | None) -> Entries:
    """The entries of a ``collection.lock`` holding ``text`` (None: there is no file), each
    normalised as SkillMeat's read-then-write normalises it."""
    if text is None:
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockFileError(f"invalid TOML ({exc})") from None
    table = data.get("lock", {})
    if not isinstance(table, dict) or not isinstance(table.get("entries", {}), dict):
        raise LockFileError("[lock] and [lock.entries] must be tables")
    entries: Entries = {}
    for key, raw in table.get("entries", {}).items():
        if "::" not in key:
            raise LockFileError(f"entry {key!r} is not 'NAME::TYPE'")
        if not isinstance(raw, dict) or "content_hash" not in raw:
            raise LockFileError(f"entry {key!r} has no content_hash")
        entry = {
            "content_hash": raw["content_hash"],
            "fetched": _timestamp(raw.get("fetched"), "fetched", key),
        }
        for optional in _OPTIONAL:
            value = raw.get(optional)
            if value is not None:
                entry[optional] = (
                    _timestamp(value, optional, key) if optional == "applied_at" else value
                )
        entries[key] = entry
    return entries


def render_lock(entries: Entries) -> str:
    """The text SkillMeat's ``LockManager.write`` gives these entries."""
    return tomli_w.dumps({"lock": {"version": LOCK_VERSION, "entries": entries}})


def pulled_entry(content_hash: str, previous_hash: str | None, fetched: str) -> dict[str, Any]:
    """The entry SkillMeat's sync-pull writes for an artifact it replaced
    (``SyncManager._update_collection_lock``): the new copy's hash, when, and the hash the
    collection's copy had before as ``resolved_sha``; ``upstream`` and the recipe keys are
    dropped."""
    entry: dict[str, Any] = {"content_hash": content_hash, "fetched": fetched}
    if previous_hash is not None:
        entry["resolved_sha"] = previous_hash
    entry["resolved_version"] = "unknown"
    return entry


def utc_now() -> str:
    """``datetime.utcnow().isoformat()``, SkillMeat's ``fetched``: naive UTC, microseconds."""
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
