"""The JSON Schema of a deployment file, for TOML tools that read JSON Schemas.

Taplo (and Even Better TOML, built on it) and Tombi check, complete and document TOML files
against a JSON Schema. This module builds that schema from the facts the rules use
(:mod:`skillmeat_ls.schema`, the key lists of :mod:`skillmeat_ls.rules.records`, the built-in
profiles of :mod:`skillmeat_ls.profiles`), so that the schema and the linter agree, and it is
never written by hand::

    python -m skillmeat_ls.json_schema > schemas/skillmeat-deployed.schema.json

The output is deterministic (keys sorted, indent 2, one trailing newline); the repository keeps
a copy at ``schemas/`` and one in the VS Code extension, and a test holds both to this output.

What the schema says, and what it leaves to the linter:

* **Draft-07**, the newest draft both tools read: Taplo validates with the ``jsonschema`` crate
  built without its 2019-09/2020-12 support; Tombi reads draft-07, 2019-09 and 2020-12. Tombi's
  ``deprecated``/``deprecationMessage`` annotations work under draft-07 too, and every object
  says ``additionalProperties: true`` because Tombi, unlike the JSON Schema standard, treats an
  object without it as closed.
* **Errors exactly where the rules report errors on a record's fields** (SM110, SM111): the
  required keys (``content_hash`` may be left out when a non-empty ``collection_sha`` stands in,
  as SkillMeat falls back to it), the types, the 64-hex hashes, the 32-hex ``artifact_uuid``, the
  ``platform`` values, the name that must not be blank, the quoted ISO 8601 timestamps. A TOML
  datetime in ``deployed_at`` is an error (SkillMeat reads the value with
  ``datetime.fromisoformat``, which refuses anything but a string).
* **Never stricter than the rules**: an unknown ``artifact_type`` is only Information (SM112), so
  the type is an ``anyOf`` of the known types (for completion and hover) and any string; unknown
  keys, at the top level (SM103, a Warning) and in a record (kept by migration, ignored by
  SkillMeat), are allowed; ``branch_name`` and the ``[deployment]`` header values, whose types no
  rule checks, have no type. The timestamp pattern checks the ISO 8601 date that must open the
  value (``fromisoformat`` accepts a wide range of times and zones after it); the full check is
  the linter's.
* **The legacy schema** (``[deployment]`` and ``[[artifacts]]``) is described and marked
  deprecated, so a legacy file gets a hint to migrate rather than a wall of errors; its records
  get the checks the rules make on them.
* Nothing that needs more than the file: collisions, paths that leave the profile root (SM114),
  a type's folder (SM113), collections and drift are the language server's.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from skillmeat_ls.profiles import _BUILTIN, _OLDER_ROOTS, BUILTIN_PROFILE_IDS, DEFAULT_PROFILE_ID
from skillmeat_ls.rules.records import _HASH_KEYS_UNIFIED, _STRING_KEYS_UNIFIED, _TIME_KEYS_UNIFIED
from skillmeat_ls.schema import (
    CLAUDE_DIR,
    CONTEXT_TYPES,
    DEPLOYABLE_TYPES,
    DEPLOYED_FILE_NAME,
    HASH_RE,
    KNOWN_TYPES,
    LEGACY_HEADER_KEYS,
    LEGACY_KEPT_TABLE,
    LEGACY_RECORD_KEYS,
    LEGACY_TO_UNIFIED,
    NEWER_TYPES,
    OLD_SPELLINGS,
    PLAN_FILE_NAME,
    PLATFORMS,
    PLATFORMS_SINCE,
    TYPE_LAYOUT,
    UNIFIED_KEY_ORDER,
    UNIFIED_REQUIRED,
    UUID_HEX_RE,
    VOCABULARY_RELEASE,
    artifact_path_in,
)

SCHEMA_FILE_NAME = "skillmeat-deployed.schema.json"
DRAFT = "http://json-schema.org/draft-07/schema#"
#: The TOML version SkillMeat reads and writes (``tomllib``/``tomli_w``), for Tombi.
TOML_VERSION = "v1.0.0"

#: A value ``datetime.fromisoformat`` reads opens with one of these ISO 8601 dates
#: (``YYYY-MM-DD``, ``YYYYMMDD``, ``YYYY-Www``, ``YYYYWww``); the time and the zone after it are
#: left to the linter. Never stricter than the rule: tests hold it to ``fromisoformat``.
ISO_DATE_PREFIX = (
    r"^[0-9]{4}(?:-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"|-?W(?:0[1-9]|[1-4][0-9]|5[0-3]))"
)
#: SM111's name check: not blank, no NUL character.
NAME_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _full(regex: str) -> str:
    return f"^(?:{regex})$"


#: ``HASH_RE``, where an empty value is allowed (the rules let an empty hash through).
_HASH_OR_EMPTY = f"^(?:{HASH_RE.pattern})?$"

_UNIFIED_DOCS: dict[str, str] = {
    "artifact_name": (
        "The artifact's name, as in its collection. Spaces are allowed; one trailing .md, .txt, "
        ".json, .yaml or .yml is not part of its identity (review.md is review)."
    ),
    "artifact_type": (
        "The artifact's type. Every type a SkillMeat release accepts is offered; an unknown type "
        "is only reported (a newer SkillMeat may have it)."
    ),
    "from_collection": (
        "The collection the artifact was deployed from: a folder name under "
        "<home>/collections/ (the SkillMeat home is ~/.skillmeat)."
    ),
    "deployed_at": (
        "When the artifact was deployed: a quoted ISO 8601 string, as SkillMeat writes it "
        '(naive local time, e.g. "2026-12-01T07:44:25.532386"). Not a TOML datetime: SkillMeat '
        "reads it with datetime.fromisoformat."
    ),
    "artifact_path": (
        "Where the deployed copy is, relative to this file's profile root (skills/NAME, "
        "commands/NAME.md, agents/pm/NAME.md, ...). Never absolute, never outside the root."
    ),
    "content_hash": (
        "SHA-256 of the deployed copy at deploy time, as SkillMeat computes it (64 lowercase hex "
        "digits). May be left out when collection_sha holds it: SkillMeat falls back to that."
    ),
    "local_modifications": "Whether the copy was modified locally; SkillMeat writes false.",
    "parent_hash": "Hash of the parent version (64 lowercase hex digits); written when set.",
    "version_lineage": (
        "Hashes of the artifact's versions, newest first (64 lowercase hex digits each). "
        "SkillMeat reads a missing lineage as [content_hash]."
    ),
    "last_modified_check": "When drift was last checked: a quoted ISO 8601 string.",
    "modification_detected_at": (
        "When a local modification was detected: a quoted ISO 8601 string (naive UTC)."
    ),
    "merge_base_snapshot": (
        "Base hash for a three-way merge (64 lowercase hex digits); a deploy writes content_hash."
    ),
    "deployment_profile_id": (
        "The deployment profile: a built-in one or a custom [deployment.profiles.ID] of the "
        f"SkillMeat config. A record without it belongs to {DEFAULT_PROFILE_ID}."
    ),
    "platform": (
        "The profile's platform. SkillMeat refuses the whole file when a record names any other "
        'value; a custom profile records "other".'
    ),
    "profile_root_dir": (
        "The profile root this record belongs to (the dot-directory holding this file); "
        f"artifact_path is relative to it. Absent: {CLAUDE_DIR}. SkillMeat's next write moves a "
        "record whose root is another directory into that directory's file."
    ),
    "artifact_uuid": "The artifact's stable id: 32 lowercase hex digits, no dashes.",
    "branch_name": (
        f"The branch the artifact was deployed from (a string; new in SkillMeat "
        f"{VOCABULARY_RELEASE}, set by its branch service, never by a plain deploy)."
    ),
    "collection_sha": (
        "Copy of content_hash that SkillMeat always writes last (64 lowercase hex digits); it "
        "judges local modifications against it."
    ),
}

_LEGACY_RECORD_DOCS: dict[str, str] = {
    "name": "The artifact's name.",
    "type": "The artifact's type.",
    "source": "Where the artifact came from (local:PATH, github:USER/REPO/PATH, ...).",
    "version": 'The artifact\'s version string (often "unknown").',
    "sha": "The artifact's content hash (64 lowercase hex digits).",
    "deployed-at": "When the artifact was deployed: a quoted ISO 8601 string (UTC, with Z).",
    "deployed-from": "The collection it came from: the collection folder's absolute path.",
}

_LEGACY_HEADER_DOCS: dict[str, str] = {
    "collection": "The collection the file's artifacts came from.",
    "deployed-at": "When the file was last updated (UTC, with Z).",
    "skillmeat-version": "The SkillMeat version that wrote the file.",
}

_MIGRATE = (
    "migrate it to [[deployed]] records (skillmeat-ls migrate, or the Migrate to Unified Schema "
    "action): SkillMeat reads a legacy file as empty and overwrites it on its next deploy"
)


def _type_doc(artifact_type: str) -> str | None:
    if artifact_type in OLD_SPELLINGS:
        return f"Old spelling of {OLD_SPELLINGS[artifact_type]}."
    if artifact_type in DEPLOYABLE_TYPES:
        folder = TYPE_LAYOUT[artifact_type][0]
        return f"Deployed to {artifact_path_in(folder, 'NAME', artifact_type)}."
    if artifact_type in CONTEXT_TYPES:
        return "A context entity (not deployed by skillmeat deploy)."
    if artifact_type in NEWER_TYPES:
        return f"No deploy folder of its own in SkillMeat {VOCABULARY_RELEASE}."
    return None


def _open_vocabulary(
    description: str, values: Sequence[str], docs: Sequence[str | None]
) -> dict[str, Any]:
    """A string that completes to ``values`` and accepts any other string too."""
    return {
        "description": description,
        "anyOf": [
            {
                "type": "string",
                "enum": list(values),
                "x-taplo": {"docs": {"enumValues": list(docs)}},
            },
            {"type": "string"},
        ],
    }


def _profile_roots() -> dict[str, str]:
    """Each built-in profile's root (and the roots of earlier releases), with its hover text."""
    roots: dict[str, str] = {}
    for profile_id in BUILTIN_PROFILE_IDS:
        spec = _BUILTIN.get(profile_id)
        root = spec["root_dir"] if spec is not None else f".{profile_id}"
        roots.setdefault(root, f"The root of the built-in {profile_id} profile.")
    for root, profile_id in _OLDER_ROOTS.items():
        roots.setdefault(root, f"The {profile_id} profile's root in earlier releases (still read).")
    return roots


def _unified_property(key: str) -> dict[str, Any]:
    doc = _UNIFIED_DOCS[key]
    if key == "artifact_type":
        types = sorted(KNOWN_TYPES)
        return _open_vocabulary(doc, types, [_type_doc(t) for t in types])
    if key == "deployment_profile_id":
        ids = list(BUILTIN_PROFILE_IDS)
        return _open_vocabulary(doc, ids, [f"The built-in {i} profile." for i in ids])
    if key == "profile_root_dir":
        roots = _profile_roots()
        return _open_vocabulary(doc, list(roots), list(roots.values()))
    if key == "platform":
        docs = [
            f"New in SkillMeat {PLATFORMS_SINCE[p]}: older releases refuse the file."
            if p in PLATFORMS_SINCE
            else None
            for p in PLATFORMS
        ]
        return {
            "description": doc,
            "type": "string",
            "enum": list(PLATFORMS),
            "x-taplo": {"docs": {"enumValues": docs}},
        }
    if key == "local_modifications":
        return {"description": doc, "type": "boolean", "default": False}
    if key == "version_lineage":
        return {
            "description": doc,
            "type": "array",
            "items": {"type": "string", "pattern": _full(HASH_RE.pattern)},
        }
    if key == "artifact_uuid":
        return {"description": doc, "type": "string", "pattern": _full(UUID_HEX_RE.pattern)}
    if key in _HASH_KEYS_UNIFIED:
        return {"description": doc, "type": "string", "pattern": _HASH_OR_EMPTY}
    if key in _TIME_KEYS_UNIFIED:
        return {"description": doc, "type": "string", "pattern": ISO_DATE_PREFIX}
    if key == "artifact_name":
        return {"description": doc, "type": "string", "pattern": NAME_PATTERN}
    if key in _STRING_KEYS_UNIFIED:
        return {"description": doc, "type": "string"}
    return {"description": doc}  # a key no rule checks the type of


def unified_record_schema() -> dict[str, Any]:
    """One ``[[deployed]]`` record."""
    for key in (*_STRING_KEYS_UNIFIED, *_HASH_KEYS_UNIFIED, *_TIME_KEYS_UNIFIED):
        if key not in UNIFIED_KEY_ORDER:
            raise AssertionError(f"the rules check {key!r}, which is no unified key")
    fallback = "collection_sha"
    return {
        "title": "Deployment record",
        "description": (
            "One deployed artifact. Keys are written in this order by SkillMeat: "
            + ", ".join(UNIFIED_KEY_ORDER)
            + ". Other keys (those migration keeps from a legacy file, say) are allowed: "
            "SkillMeat ignores them and drops them on its next write."
        ),
        "type": "object",
        "properties": {key: _unified_property(key) for key in UNIFIED_KEY_ORDER},
        "required": [key for key in UNIFIED_REQUIRED if key != "content_hash"],
        # SkillMeat reads content_hash from collection_sha when it is missing (SM110 agrees).
        "anyOf": [
            {"required": ["content_hash"]},
            {"required": [fallback], "properties": {fallback: {"minLength": 1}}},
        ],
        "additionalProperties": True,
    }


def legacy_record_schema() -> dict[str, Any]:
    """One ``[[artifacts]]`` record of the legacy schema."""
    properties: dict[str, Any] = {}
    for key in LEGACY_RECORD_KEYS:
        doc = _LEGACY_RECORD_DOCS[key]
        if key in LEGACY_TO_UNIFIED:
            doc += f" In the unified schema: {LEGACY_TO_UNIFIED[key]}."
        prop: dict[str, Any] = {"description": doc, "type": "string"}
        if key == "type":  # an unknown type is only reported (SM112), as in the unified schema
            prop = _unified_property("artifact_type") | {"description": doc}
        elif key == "sha":
            prop["pattern"] = _HASH_OR_EMPTY
        elif key == "deployed-at":
            prop["pattern"] = ISO_DATE_PREFIX
        properties[key] = prop
    return {
        "title": "Legacy artifact record (deprecated)",
        "description": f"A record of the legacy schema; {_MIGRATE}.",
        "type": "object",
        "properties": properties,
        "required": list(LEGACY_RECORD_KEYS),
        "additionalProperties": True,
    }


def deployment_file_schema() -> dict[str, Any]:
    """The whole file: ``[[deployed]]`` records, and the legacy tables described as deprecated."""
    header = {key: {"description": _LEGACY_HEADER_DOCS.get(key, "")} for key in LEGACY_HEADER_KEYS}
    deprecation = f"Legacy deployment schema: {_MIGRATE}."
    return {
        "$schema": DRAFT,
        "title": "SkillMeat deployment file",
        "description": (
            f"<root>/{DEPLOYED_FILE_NAME}, one per profile root (.claude, .agents, ...), as "
            f"SkillMeat {VOCABULARY_RELEASE} and earlier read and write it; also "
            f"{CLAUDE_DIR}/{PLAN_FILE_NAME}, which SkillMeat never reads. Generated by "
            "python -m skillmeat_ls.json_schema; the skillmeat-ls language server checks more "
            "(collisions, paths, collections, drift)."
        ),
        "x-tombi-toml-version": TOML_VERSION,
        "type": "object",
        "properties": {
            "deployed": {
                "description": (
                    "The deployment records, one [[deployed]] table each. An empty root keeps "
                    "deployed = []."
                ),
                "type": "array",
                "items": unified_record_schema(),
            },
            "deployment": {
                "title": "Legacy deployment header (deprecated)",
                "description": deprecation,
                "deprecated": True,
                "deprecationMessage": deprecation,
                "type": "object",
                "properties": header,
                "additionalProperties": True,
            },
            "artifacts": {
                "title": "Legacy artifact records (deprecated)",
                "description": deprecation,
                "deprecated": True,
                "deprecationMessage": deprecation,
                "type": "array",
                "items": legacy_record_schema(),
            },
            LEGACY_KEPT_TABLE: {
                "description": (
                    "A legacy [deployment] header that no record carries, kept by skillmeat-ls "
                    "migrate. SkillMeat ignores it and drops it on its next write."
                ),
                "type": "object",
                "additionalProperties": True,
            },
        },
        "additionalProperties": True,
    }


def render() -> str:
    """The schema as the repository keeps it: sorted keys, indent 2, a trailing newline."""
    return json.dumps(deployment_file_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        sys.stderr.write(
            "usage: python -m skillmeat_ls.json_schema > schemas/" + SCHEMA_FILE_NAME + "\n"
        )
        return 2
    sys.stdout.flush()
    sys.stdout.buffer.write(render().encode("utf-8"))  # LF on every platform
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
