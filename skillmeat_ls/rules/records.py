"""Record rules (SM110–SM114): each reads one record and nothing else.

Their results depend on the record's chunk alone, so the analyzer computes them once per chunk
(with spans relative to it) and reuses them while the chunk stands unchanged, and, for a record
they name by its number (:func:`numbered`), while it keeps that number.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any

from skillmeat_ls.document import Record, derived_path
from skillmeat_ls.rules.diagnostic import Diagnostic, Severity, finding
from skillmeat_ls.schema import (
    HASH_RE,
    KNOWN_TYPES,
    LEGACY_RECORD_KEYS,
    PLATFORMS,
    TYPE_LAYOUT,
    UNIFIED_REQUIRED,
    UUID_HEX_RE,
    VOCABULARY_RELEASE,
    conventional_path,
    suggest_type,
)

_STRING_KEYS_UNIFIED = (
    "artifact_name",
    "artifact_type",
    "from_collection",
    "artifact_path",
    "deployment_profile_id",
    "profile_root_dir",
)
_HASH_KEYS_UNIFIED = ("content_hash", "collection_sha", "parent_hash", "merge_base_snapshot")
_TIME_KEYS_UNIFIED = ("deployed_at", "last_modified_check", "modification_detected_at")


def _is_iso(value: str) -> bool:
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _type_name(value: Any) -> str:
    names = {
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        list: "an array",
        dict: "a table",
    }
    for kind, label in names.items():
        if type(value) is kind:
            return label
    return "a TOML date/time" if hasattr(value, "isoformat") else type(value).__name__


def _check_string(record: Record, key: str) -> Diagnostic | None:
    found = record.field(key)
    if found is None or isinstance(found.value, str):
        return None
    return finding(
        "SM111", f"'{key}' must be a string, not {_type_name(found.value)}", found.value_span
    )


def _check_time(record: Record, key: str) -> Diagnostic | None:
    found = record.field(key)
    if found is None:
        return None
    if not isinstance(found.value, str):
        hint = (
            " (quote it: SkillMeat reads it with datetime.fromisoformat)"
            if hasattr(found.value, "isoformat")
            else ""
        )
        return finding(
            "SM111",
            f"'{key}' must be a quoted ISO 8601 string, not {_type_name(found.value)}{hint}",
            found.value_span,
        )
    if not _is_iso(found.value):
        return finding(
            "SM111", f"'{key}' is not an ISO 8601 date-time: {found.value!r}", found.value_span
        )
    return None


def _check_hash(record: Record, key: str) -> Diagnostic | None:
    found = record.field(key)
    if found is None:
        return None
    if not isinstance(found.value, str):
        return _check_string(record, key)
    if found.value and not HASH_RE.fullmatch(found.value):
        return finding(
            "SM111",
            f"'{key}' is not a SHA-256 hash (64 lowercase hex digits): {found.value!r}",
            found.value_span,
        )
    return None


def numbered(record: Record) -> bool:
    """Whether what these rules say about ``record`` names it by its number ("record 3", for a
    record without a name), which changes when records are added or removed above it."""
    return not record.name


def rule_required_fields(record: Record) -> Iterator[Diagnostic]:
    """SM110: a required field is missing; reported on the record's header."""
    data = record.chunk.data or {}
    if record.schema == "unified":
        missing = [key for key in UNIFIED_REQUIRED if key not in data]
        if "content_hash" in missing and data.get("collection_sha"):
            missing.remove("content_hash")  # SkillMeat falls back to collection_sha
    else:
        missing = [key for key in LEGACY_RECORD_KEYS if key not in data]
    if missing:
        label = record.name or f"record {record.index + 1}"
        noun = "field" if len(missing) == 1 else "fields"
        yield finding(
            "SM110",
            f"{label}: missing required {noun} {', '.join(missing)}",
            record.header_span,
            data={"missing": missing},
        )


def rule_field_formats(record: Record) -> Iterator[Diagnostic]:
    """SM111: a field has the wrong type or format."""
    if record.schema == "legacy":
        for key in LEGACY_RECORD_KEYS:
            if key == "sha":
                problem = _check_hash(record, key)
            elif key == "deployed-at":
                problem = _check_time(record, key)
            else:
                problem = _check_string(record, key)
            if problem:
                yield problem
        return
    for key in _STRING_KEYS_UNIFIED:
        if problem := _check_string(record, key):
            yield problem
    for key in _HASH_KEYS_UNIFIED:
        if problem := _check_hash(record, key):
            yield problem
    for key in _TIME_KEYS_UNIFIED:
        if problem := _check_time(record, key):
            yield problem
    yield from _check_unified_extras(record)


def _check_unified_extras(record: Record) -> Iterator[Diagnostic]:
    name = record.field("artifact_name")
    if (
        name is not None
        and isinstance(name.value, str)
        and (not name.value.strip() or "\x00" in name.value)
    ):
        yield finding(
            "SM111",
            "'artifact_name' must be a non-empty name without NUL characters",
            name.value_span,
        )
    flag = record.field("local_modifications")
    if flag is not None and not isinstance(flag.value, bool):
        yield finding(
            "SM111",
            f"'local_modifications' must be true or false, not {_type_name(flag.value)}",
            flag.value_span,
        )
    lineage = record.field("version_lineage")
    if lineage is not None:
        if not isinstance(lineage.value, list):
            yield finding("SM111", "'version_lineage' must be an array of hashes", lineage.value_span)
        elif any(not isinstance(v, str) or not HASH_RE.fullmatch(v) for v in lineage.value):
            yield finding(
                "SM111",
                "'version_lineage' must hold SHA-256 hashes (64 hex digits)",
                lineage.value_span,
            )
    platform = record.field("platform")
    if platform is not None and platform.value not in PLATFORMS:
        yield finding(
            "SM111",
            f"'platform' must be one of {', '.join(PLATFORMS)} "
            f"(SkillMeat ≤ {VOCABULARY_RELEASE} rejects {platform.value!r} and refuses the file)",
            platform.value_span,
        )

    uuid = record.field("artifact_uuid")
    if uuid is not None and not (isinstance(uuid.value, str) and UUID_HEX_RE.fullmatch(uuid.value)):
        yield finding("SM111", "'artifact_uuid' must be 32 lowercase hex digits", uuid.value_span)


def rule_artifact_type(record: Record) -> Iterator[Diagnostic]:
    """SM112: a near miss of a known type (Warning, with the type suggested); a type no known
    release has (Information: a newer SkillMeat may have it)."""
    artifact_type = record.type
    if artifact_type is None or artifact_type in KNOWN_TYPES:
        return
    suggestion = suggest_type(artifact_type)
    if suggestion is None:
        yield finding(
            "SM112",
            f"artifact type '{artifact_type}' is unknown to SkillMeat ≤ {VOCABULARY_RELEASE}",
            record.anchor("artifact_type"),
            severity=Severity.INFORMATION,
        )
        return
    yield finding(
        "SM112",
        f"unknown artifact type '{artifact_type}'; did you mean '{suggestion}'?",
        record.anchor("artifact_type"),
        data={"suggestion": suggestion},
    )


_TYPE_OF_FOLDER = {folder: t for t, (folder, _) in TYPE_LAYOUT.items() if t != "mcp_server"}
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]|^[\\/]{2}")


@lru_cache(maxsize=1 << 16)
def path_escapes(path: str) -> bool:
    """True if ``path`` is absolute or leaves the directory it is relative to."""
    if "\x00" in path or path.startswith(("/", "\\")) or _WINDOWS_ABSOLUTE.match(path):
        return True
    if ntpath.splitdrive(path)[0]:
        return True
    normal = posixpath.normpath(path.replace("\\", "/"))
    return normal == ".." or normal.startswith("../")


def rule_path_containment(record: Record) -> Iterator[Diagnostic]:
    """SM114: ``artifact_path`` is absolute or leaves its profile root."""
    path = derived_path(record)
    if path is None:
        return
    if path_escapes(path) or (record.name and "\x00" in record.name):
        yield finding(
            "SM114",
            f"'{path}' is outside the profile root; skillmeat-ls never reads or writes through it",
            record.anchor("artifact_path" if record.schema == "unified" else "artifact_name"),
        )


def rule_path_folder(record: Record) -> Iterator[Diagnostic]:
    """SM113: ``artifact_path`` lies under another type's folder."""
    path, artifact_type = derived_path(record), record.type
    if record.schema != "unified" or path is None or artifact_type is None or path_escapes(path):
        return
    own = TYPE_LAYOUT.get(artifact_type)
    first = path.replace("\\", "/").split("/", 1)[0].lower()
    other = _TYPE_OF_FOLDER.get(first)
    if own is None or other is None or first == own[0]:
        return
    wanted = conventional_path(record.name, artifact_type) if record.name else None
    article = "an" if artifact_type[:1] in "aeiou" else "a"
    yield finding(
        "SM113",
        f"{article} {artifact_type} recorded under '{first}/', the folder of "
        f"{other} artifacts" + (f"; SkillMeat deploys it to '{wanted}'" if wanted else ""),
        record.anchor("artifact_path"),
        data={"conventional": wanted} if wanted else None,
    )
