"""Lossless migration of a legacy (or mixed) deployment file to the unified schema.

This module owns the mapping from the legacy schema (``[deployment]`` plus ``[[artifacts]]``) to
``[[deployed]]`` records, as the reference's mapping table describes it:

========================  ====================================================================
unified key               taken from
========================  ====================================================================
``artifact_name``         ``name``
``artifact_type``         ``type``
``from_collection``       the folder after ``collections`` in the record's ``deployed-from``
                          (``~/.skillmeat/collections/NAME``); else ``[deployment].collection``;
                          else ``"default"``, as the legacy reader did
``deployed_at``           the record's ``deployed-at``, else the header's, made naive
                          (:func:`skillmeat_ls.writer.naive_iso`: ``Z`` removed)
``artifact_path``         derived from type and name (``skills/NAME``, ``commands/NAME.md``,
                          ...). Best effort for types with no deploy convention: a context type
                          goes under its folder (``rules/NAME.md``, ``specs/NAME.md``, ...), any
                          other type under ``<type>s/NAME``. Not derived when the name or the
                          type is missing, not a string, or not a safe name (no ``/``, ``\\``,
                          ``..``, NUL, leading dot), so no derived path can leave ``.claude/``
``content_hash``          ``sha``; ``collection_sha`` and ``merge_base_snapshot`` too
``local_modifications``   ``false``
========================  ====================================================================

Nothing is lost; every legacy value lands in the output:

- Record keys with no unified slot stay in the record under their own names (``source``,
  ``version``, ``deployed-from``, unknown keys as they are). A record ``deployed-at`` that
  normalisation changed (a ``Z``, an offset, a TOML datetime) is kept as ``deployed-at`` too.
  A legacy record may also carry unified keys (a hand-edited file); they fill their slot when it
  is free, and a timestamp among them (``deployed_at``, ``last_modified_check``,
  ``modification_detected_at``) is made naive, its original kept as ``<key>-legacy``.
- Header values are copied into every record that received a legacy record:
  ``deployed-at`` as ``deployment-deployed-at``, ``skillmeat-version`` as ``skillmeat-version``,
  any other key ``K`` as ``deployment-K`` (``collection`` only where it differs from the record's
  ``from_collection``). See :data:`skillmeat_ls.schema.LEGACY_HEADER_EXTRA_KEYS`.
- An extra key whose name is already taken by a different value gets the suffix ``-legacy``
  (then ``-legacy-2``, ...); so does a value that SkillMeat's writer would drop (a falsy optional
  key, a ``collection_sha`` that differs from ``content_hash``).
- A header that no record carries (a header-only file, or a mixed file whose legacy part has no
  records) is kept whole as the top-level table ``[legacy-deployment]``
  (:data:`skillmeat_ls.schema.LEGACY_KEPT_TABLE`). SkillMeat reads such a file fine (it ignores
  other top-level tables) and drops the table on its next write.
- Other top-level keys and tables are kept as they are.

Mixed files: the existing ``[[deployed]]`` records come first, in their order, then the migrated
ones in ``[[artifacts]]`` order. A legacy record whose (name, type) is already recorded (by a
unified record or an earlier legacy one) is folded into that record instead of duplicating it;
records match as SkillMeat matches them (:func:`skillmeat_ls.schema.identity`: ``review.md`` is
``review``, ``mcp_server`` is ``mcp``). The record's values stay, and the legacy values are added
under their legacy names (``sha``, ``deployed-at``, ``source``, a differently spelt ``name`` or
``type``, ...), skipping those equal to the record's own, plus the header values as above.
Existing unified records are otherwise only re-rendered, as SkillMeat would.

Missing legacy values are never invented: a record without ``name``, ``type``, ``sha`` or any
``deployed-at`` migrates with the keys it has, and the linter then reports what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any

from skillmeat_ls.errors import UserFacingError
from skillmeat_ls.schema import (
    DEFAULT_COLLECTION,
    LEGACY_EXTRA_SUFFIX,
    LEGACY_HEADER_EXTRA_KEYS,
    LEGACY_HEADER_EXTRA_PREFIX,
    LEGACY_KEPT_TABLE,
    LEGACY_TO_UNIFIED,
    TYPE_LAYOUT,
    UNIFIED_OMIT_WHEN_FALSY,
    Identity,
    collection_from_path,
    conventional_path,
    identity,
    is_safe_name,
)
from skillmeat_ls.tomlread import RefusedText, loads, tomllib
from skillmeat_ls.writer import naive_iso, order_record, render_document

__all__ = [
    "MigrationError",
    "derive_artifact_path",
    "migrate_data",
    "migrate_document",
    "migrate_text",
]

_LEGACY_TOP = ("deployment", "artifacts")
_TIME_SLOTS = ("deployed_at", "last_modified_check", "modification_detected_at")


class MigrationError(UserFacingError, ValueError):
    """The input cannot be migrated (not TOML, or a legacy table of the wrong shape)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def migrate_text(text: str) -> str:
    """The unified file for a legacy, mixed or unified deployment file's text.

    An already unified file comes back re-rendered as SkillMeat writes it. Raises
    :class:`MigrationError` for a TOML syntax error, text that is not UTF-8 (bytes
    :func:`~skillmeat_ls.workspace.read_text` could not decode) or nesting too deep to read
    (:mod:`skillmeat_ls.tomlread`); the message gives line and column.
    """
    try:
        data = loads(text)
    except RefusedText as exc:
        raise MigrationError(f"{exc.reason}; nothing written") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MigrationError(f"not valid TOML: {exc}") from exc
    return render_document(migrate_document(data))


def migrate_data(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The unified records (in written key order) for a parsed deployment file."""
    return [order_record(record) for record in migrate_document(data)["deployed"]]


def migrate_document(data: Mapping[str, Any]) -> dict[str, Any]:
    """The whole unified file for a parsed deployment file, as a mapping.

    ``"deployed"`` holds the records; other top-level entries follow (unknown ones as they were,
    then ``legacy-deployment`` when a header has no record to carry it).
    """
    header = _header(data)
    legacy_records = _legacy_records(data)
    records = [dict(record) for record in _unified_records(data)]

    index: dict[Identity, int] = {}  # identity -> position of its record
    for position, record in enumerate(records):
        record_id = _identity(record.get("artifact_name"), record.get("artifact_type"))
        if record_id is not None:
            index.setdefault(record_id, position)

    for raw in legacy_records:
        record_id = _identity(raw.get("name"), raw.get("type"))
        if record_id is not None and record_id in index:
            _fold(records[index[record_id]], raw, header)
            continue
        records.append(_migrate_record(raw, header))
        if record_id is not None:
            index[record_id] = len(records) - 1

    document: dict[str, Any] = {"deployed": records}
    for key, value in data.items():
        if key not in (*_LEGACY_TOP, "deployed"):
            document[key] = value
    if header and not legacy_records:
        _put_extra(document, LEGACY_KEPT_TABLE, dict(header))
    return document


def derive_artifact_path(name: object, artifact_type: object) -> str | None:
    """``artifact_path`` for a migrated record (see the module docstring), or None."""
    if not (isinstance(name, str) and isinstance(artifact_type, str)):
        return None
    if not (is_safe_name(name) and is_safe_name(artifact_type)):
        return None
    path = conventional_path(name, artifact_type)
    if path is not None:
        return path
    layout = TYPE_LAYOUT.get(artifact_type)
    if layout is None:
        return f"{artifact_type}s/{name}"
    folder, is_dir = layout
    if is_dir or name.endswith(".md"):
        return f"{folder}/{name}"
    return f"{folder}/{name}.md"


# --- reading the input ------------------------------------------------------------------------


def _header(data: Mapping[str, Any]) -> dict[str, Any]:
    header = data.get("deployment", {})
    if not isinstance(header, dict):
        raise MigrationError(
            f"'deployment' must be a table ([deployment]), not {_kind(header)}; nothing migrated"
        )
    return header


def _legacy_records(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _table_array(data, "artifacts")


def _unified_records(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _table_array(data, "deployed")


def _table_array(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise MigrationError(
            f"'{key}' must be an array of tables ([[{key}]]), not {_kind(value)}; nothing migrated"
        )
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise MigrationError(
                f"'{key}' entry {number} must be a table ([[{key}]]), not {_kind(item)}; "
                "nothing migrated"
            )
    return value


def _kind(value: object) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a float"}
    names.update({list: "an array", dict: "a table"})
    return names.get(type(value), type(value).__name__)


def _identity(name: object, artifact_type: object) -> Identity | None:
    """The (name, type) SkillMeat matches records by, if both are strings."""
    if isinstance(name, str) and isinstance(artifact_type, str):
        return identity(name, artifact_type)
    return None


# --- building records -------------------------------------------------------------------------


def _migrate_record(raw: Mapping[str, Any], header: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if "name" in raw:
        record["artifact_name"] = raw["name"]
    if "type" in raw:
        record["artifact_type"] = raw["type"]
    own_collection = collection_from_path(raw.get("deployed-from"))
    if own_collection is not None:
        record["from_collection"] = own_collection
    elif "collection" in header:
        record["from_collection"] = header["collection"]
    if "deployed-at" in raw:
        record["deployed_at"] = _normalise_time(raw["deployed-at"])
    elif "deployed-at" in header:
        record["deployed_at"] = _normalise_time(header["deployed-at"])
    if "sha" in raw:
        record["content_hash"] = raw["sha"]
        record["collection_sha"] = raw["sha"]

    for key, value in raw.items():
        if key in ("name", "type", "sha"):
            continue
        if key == "deployed-at" and _same(record.get("deployed_at"), value):
            continue
        _put_extra(record, key, value)
    _add_header(record, header)

    if "from_collection" not in record:
        record["from_collection"] = DEFAULT_COLLECTION
    if "artifact_path" not in record:
        path = derive_artifact_path(raw.get("name"), raw.get("type"))
        if path is not None:
            record["artifact_path"] = path
    if "merge_base_snapshot" not in record and raw.get("sha"):
        record["merge_base_snapshot"] = raw["sha"]
    if "local_modifications" not in record:
        record["local_modifications"] = False
    _normalise_times(record, _TIME_SLOTS)
    _settle_hashes(record)
    return record


def _fold(target: dict[str, Any], raw: Mapping[str, Any], header: Mapping[str, Any]) -> None:
    """Add a legacy record's values to the record it duplicates, keeping the record's own.

    A value equal to the one in its unified slot is not repeated. ``name`` and ``type`` matched
    by identity, so they can differ only in spelling (``review.md``, ``mcp_server``); such a
    spelling is kept like any other differing value."""
    empty_slots = [slot for slot in _TIME_SLOTS if slot not in target]
    for key, value in raw.items():
        slot = LEGACY_TO_UNIFIED.get(key)
        if slot is not None and _same(target.get(slot), value):
            continue
        _put_extra(target, key, value)
    _add_header(target, header)
    _normalise_times(target, empty_slots)
    _settle_hashes(target)


def _add_header(record: dict[str, Any], header: Mapping[str, Any]) -> None:
    for key, value in header.items():
        if key == "collection" and _same(record.get("from_collection"), value):
            continue
        name = LEGACY_HEADER_EXTRA_KEYS.get(key, LEGACY_HEADER_EXTRA_PREFIX + key)
        _put_extra(record, name, value)


def _put_extra(record: dict[str, Any], key: str, value: Any, *, own_name: bool = True) -> None:
    """Store ``value`` under ``key``, or under the first free ``key-legacy[-N]`` name.

    A name already holding an identical value counts as done; a name SkillMeat's writer would
    drop the value from (a falsy optional key) is skipped.
    """
    candidates = [key] if own_name else []
    candidates.append(key + LEGACY_EXTRA_SUFFIX)
    number = 2
    while True:
        for name in candidates:
            if name in record:
                if _same(record[name], value):
                    return
                continue
            if name in UNIFIED_OMIT_WHEN_FALSY and not value:
                continue
            record[name] = value
            return
        candidates = [f"{key}{LEGACY_EXTRA_SUFFIX}-{number}"]
        number += 1


def _settle_hashes(record: dict[str, Any]) -> None:
    """Move aside a ``content_hash``/``collection_sha`` value the writer would overwrite."""
    content_hash = record.get("content_hash")
    collection_sha = record.get("collection_sha")
    written = content_hash if content_hash else (collection_sha or content_hash)
    for key, value in (("content_hash", content_hash), ("collection_sha", collection_sha)):
        if value is not None and not _same(value, written):
            del record[key]
            _put_extra(record, key, value, own_name=False)


def _normalise_times(record: dict[str, Any], slots: Iterable[str]) -> None:
    """Make timestamps that came from legacy values naive; keep a changed original aside."""
    for slot in slots:
        if slot not in record:
            continue
        value = record[slot]
        normalised = _normalise_time(value)
        if not _same(normalised, value):
            record[slot] = normalised
            _put_extra(record, slot, value, own_name=False)


def _normalise_time(value: Any) -> Any:
    if isinstance(value, (str, date)) and not isinstance(value, time):
        return naive_iso(value)
    return value


def _same(left: object, right: object) -> bool:
    return type(left) is type(right) and left == right
