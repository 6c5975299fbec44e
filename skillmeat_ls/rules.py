"""Diagnostic rules: one small function per SPEC §4 code, and the runner that applies them.

A rule reads a parsed :class:`~skillmeat_ls.document.Document` (and, for the rules that need them,
the collections index and the project's files on disk) and yields :class:`Diagnostic` objects
with spans as code-point offsets. Rules never raise on bad input and never read outside the
file's own profile root (``.claude/``, ``.agents/``, ...).

Three kinds of rule, by what they depend on:

* record rules (SM110–SM114) read one record only. Their results are memoised per chunk, so an
  edit re-runs them for the edited record alone;
* document rules (SM100–SM104, SM120–SM122) read the record list;
* environment rules (SM105, SM130–SM132, SM140–SM142) also read the file's place, the
  collections and the disk.

Identity is SkillMeat's: (profile, name, type), the name compared without one trailing
``.md``/``.txt``/``.json``/``.yaml``/``.yml`` (:func:`~skillmeat_ls.schema.normalize_name`).
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import IntEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat_ls.document import Chunk, Document, PlacedChunk, Record, Span, derived_path
from skillmeat_ls.profiles import DEFAULT_PROFILE_ID, profile_for_root
from skillmeat_ls.schema import (
    CLAUDE_DIR,
    DEPLOYED_FILE_NAME,
    HASH_RE,
    KNOWN_TYPES,
    LEGACY_HEADER_KEYS,
    LEGACY_KEPT_TABLE,
    LEGACY_RECORD_KEYS,
    PLAN_FILE_NAME,
    PLATFORMS,
    TYPE_LAYOUT,
    UNIFIED_REQUIRED,
    UUID_HEX_RE,
    VOCABULARY_RELEASE,
    canonical_type,
    conventional_path,
    normalize_name,
    suggest_type,
)
from skillmeat_ls.workspace import is_deployment_file

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionIndex
    from skillmeat_ls.workspace import DiskProbe


class Severity(IntEnum):
    """LSP's severities, by number."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4


@dataclass(frozen=True)
class Related:
    """Another place that explains a diagnostic: a span in the same document, or a file."""

    message: str
    span: Span | None = None
    path: Path | None = None


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    related: tuple[Related, ...] = ()
    data: dict[str, Any] | None = None

    def shifted(self, offset: int) -> Diagnostic:
        """The same finding ``offset`` characters further on (built directly: this runs for
        every memoised finding on every keystroke, and ``dataclasses.replace`` is slow)."""
        if not offset:
            return self
        start, end = self.span
        related = self.related
        if related:
            related = tuple(
                Related(r.message, (r.span[0] + offset, r.span[1] + offset), None)
                if r.span and not r.path else r
                for r in related
            )
        return Diagnostic(self.code, self.severity, self.message, (start + offset, end + offset),
                          related, self.data)


SEVERITY = {
    "SM100": Severity.ERROR,
    "SM101": Severity.WARNING,
    "SM102": Severity.ERROR,
    "SM103": Severity.WARNING,
    "SM104": Severity.INFORMATION,
    "SM105": Severity.WARNING,
    "SM110": Severity.ERROR,
    "SM111": Severity.ERROR,
    "SM112": Severity.WARNING,
    "SM113": Severity.WARNING,
    "SM114": Severity.ERROR,
    "SM120": Severity.ERROR,
    "SM121": Severity.INFORMATION,
    "SM122": Severity.ERROR,
    "SM130": Severity.WARNING,
    "SM131": Severity.WARNING,
    "SM132": Severity.WARNING,
    "SM140": Severity.INFORMATION,
    "SM141": Severity.INFORMATION,
    "SM142": Severity.WARNING,
}
ALL_CODES = tuple(SEVERITY)
#: One line per code, as SPEC §4 words it (SARIF's ``shortDescription``, the CLI's help).
SUMMARIES = {
    "SM100": "TOML syntax error",
    "SM101": "legacy deployment schema ([deployment] / [[artifacts]])",
    "SM102": "legacy and unified records mixed in one file",
    "SM103": "unknown top-level key or table",
    "SM104": "a deployment.toml, which SkillMeat never reads",
    "SM105": "profile_root_dir names another profile root than the file's",
    "SM110": "a required field is missing from a record",
    "SM111": "a field has the wrong type or format",
    "SM112": "unknown artifact type",
    "SM113": "artifact_path lies under another type's folder",
    "SM114": "artifact_path is absolute or leaves its profile root",
    "SM120": "one (name, type) recorded twice",
    "SM121": "one name used by records of different types",
    "SM122": "two records resolve to the same artifact_path",
    "SM130": "from_collection names no known collection",
    "SM131": "the collection holds no artifact of that (name, type)",
    "SM132": "the deployed artifact is missing on disk",
    "SM140": "modified locally since it was deployed",
    "SM141": "update available in the collection",
    "SM142": "conflict: changed both locally and in the collection",
}


def _diag(code: str, message: str, span: Span, **kw: Any) -> Diagnostic:
    return Diagnostic(code, kw.pop("severity", SEVERITY[code]), message, span, **kw)


@dataclass
class Context:
    """What the environment rules may consult. Each part is optional: a rule whose input is
    missing does not run (no SkillMeat home: no collection rules; a file that is not in a
    profile root: no disk rules)."""

    file_path: Path | None = None
    collections: CollectionIndex | None = None
    disk: DiskProbe | None = None
    #: The project's own rule settings (its ``skillmeat-ls.toml``); the analyzer's apply on top.
    project: RuleSettings | None = None
    #: The file's profile root (``<project>/.claude``, ``<project>/.agents``, ...).
    profile_root: Path | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.file_path is not None and is_deployment_file(self.file_path):
            self.profile_root = self.file_path.parent

    @property
    def root_name(self) -> str | None:
        return self.profile_root.name if self.profile_root is not None else None


# --- record rules ---------------------------------------------------------------------------------

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
    return _diag(
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
        return _diag(
            "SM111",
            f"'{key}' must be a quoted ISO 8601 string, not {_type_name(found.value)}{hint}",
            found.value_span,
        )
    if not _is_iso(found.value):
        return _diag(
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
        return _diag(
            "SM111",
            f"'{key}' is not a SHA-256 hash (64 lowercase hex digits): {found.value!r}",
            found.value_span,
        )
    return None


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
        yield _diag(
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
        yield _diag(
            "SM111",
            "'artifact_name' must be a non-empty name without NUL characters",
            name.value_span,
        )
    flag = record.field("local_modifications")
    if flag is not None and not isinstance(flag.value, bool):
        yield _diag(
            "SM111",
            f"'local_modifications' must be true or false, not {_type_name(flag.value)}",
            flag.value_span,
        )
    lineage = record.field("version_lineage")
    if lineage is not None:
        if not isinstance(lineage.value, list):
            yield _diag("SM111", "'version_lineage' must be an array of hashes", lineage.value_span)
        elif any(not isinstance(v, str) or not HASH_RE.fullmatch(v) for v in lineage.value):
            yield _diag(
                "SM111",
                "'version_lineage' must hold SHA-256 hashes (64 hex digits)",
                lineage.value_span,
            )
    platform = record.field("platform")
    if platform is not None and platform.value not in PLATFORMS:
        yield _diag(
            "SM111",
            f"'platform' must be one of {', '.join(PLATFORMS)} "
            f"(SkillMeat ≤ {VOCABULARY_RELEASE} rejects {platform.value!r} and refuses the file)",
            platform.value_span,
        )

    uuid = record.field("artifact_uuid")
    if uuid is not None and not (isinstance(uuid.value, str) and UUID_HEX_RE.fullmatch(uuid.value)):
        yield _diag("SM111", "'artifact_uuid' must be 32 lowercase hex digits", uuid.value_span)


def rule_artifact_type(record: Record) -> Iterator[Diagnostic]:
    """SM112: a near miss of a known type (Warning, with the type suggested); a type no known
    release has (Information: a newer SkillMeat may have it)."""
    artifact_type = record.type
    if artifact_type is None or artifact_type in KNOWN_TYPES:
        return
    suggestion = suggest_type(artifact_type)
    if suggestion is None:
        yield _diag(
            "SM112",
            f"artifact type '{artifact_type}' is unknown to SkillMeat ≤ {VOCABULARY_RELEASE}",
            record.anchor("artifact_type"),
            severity=Severity.INFORMATION,
        )
        return
    yield _diag(
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
        yield _diag(
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
    wanted = conventional_path(record.name or "", artifact_type) if record.name else None
    article = "an" if artifact_type[:1] in "aeiou" else "a"
    yield _diag(
        "SM113",
        f"{article} {artifact_type} recorded under '{first}/', the folder of "
        f"{other} artifacts" + (f"; SkillMeat deploys it to '{wanted}'" if wanted else ""),
        record.anchor("artifact_path"),
        data={"conventional": wanted} if wanted else None,
    )


RECORD_RULES: tuple[Callable[[Record], Iterable[Diagnostic]], ...] = (
    rule_required_fields,
    rule_field_formats,
    rule_artifact_type,
    rule_path_containment,
    rule_path_folder,
)


def record_diagnostics(
    record: Record, memo: dict[int, tuple[Chunk, list[Diagnostic]]]
) -> list[Diagnostic]:
    """The record rules' findings, computed once per chunk (relative) and placed at the record."""
    chunk = record.chunk
    if chunk.data is None:
        return []  # its syntax error (SM100) says it all
    cached = memo.get(id(chunk))
    if cached is None or cached[0] is not chunk:
        local = Record(record.schema, chunk, 0, 0, record.index)
        found = [d for rule in RECORD_RULES for d in rule(local)]
        cached = (chunk, found)
        memo[id(chunk)] = cached
    return [d.shifted(record.offset) for d in cached[1]]


# --- document rules -------------------------------------------------------------------------------


def rule_syntax(doc: Document) -> Iterator[Diagnostic]:
    """SM100: TOML syntax errors, at the parser's position."""
    for problem in doc.problems:
        end = min(problem.offset + 1, len(doc.text))
        if end <= problem.offset or doc.text[problem.offset : end] == "\n":
            end = problem.offset
        yield _diag("SM100", f"TOML syntax error: {problem.message}", (problem.offset, end))


def _legacy_tables(doc: Document) -> list[PlacedChunk]:
    return [p for p in doc.tables() if p.chunk.path[:1] in (("deployment",), ("artifacts",))]


def _unified_places(doc: Document) -> list[Span]:
    spans = [r.header_span for r in doc.unified_records()]
    root = doc.root
    if root is not None and "deployed" in root.chunk.entries:
        entry = root.chunk.entries["deployed"]
        spans.append((root.offset + entry.key_span[0], root.offset + entry.key_span[1]))
    return sorted(spans)


def rule_legacy_schema(doc: Document) -> Iterator[Diagnostic]:
    """SM101: the legacy schema; on the first legacy header."""
    legacy = _legacy_tables(doc)
    if legacy:
        yield _diag(
            "SM101",
            "legacy deployment schema ([deployment]/[[artifacts]]): SkillMeat "
            "reads this file as empty and overwrites it on its next deploy; migrate it "
            "to [[deployed]] records",
            legacy[0].header_span,
        )


def rule_mixed_schema(doc: Document) -> Iterator[Diagnostic]:
    """SM102: legacy and unified records in one file; on the first header of the later schema."""
    legacy = [p.header_span for p in _legacy_tables(doc)]
    unified = _unified_places(doc)
    if legacy and unified:
        span = max(legacy[0], unified[0])
        yield _diag(
            "SM102",
            "legacy and unified records are mixed in one file: each SkillMeat "
            "reader sees only its half, and the next write loses the other",
            span,
        )


#: ``legacy-deployment`` holds a header-only legacy file's values after migration (kept, lossless).
_KNOWN_TOP = {("deployed",), ("deployment",), ("artifacts",), (LEGACY_KEPT_TABLE,)}


def rule_unknown_top_level(doc: Document) -> Iterator[Diagnostic]:
    """SM103: unknown top-level keys and tables."""
    root = doc.root
    if root is not None:
        for key, entry in root.chunk.entries.items():
            if key != "deployed":
                span = (root.offset + entry.key_span[0], root.offset + entry.key_span[1])
                yield _diag(
                    "SM103",
                    f"unknown top-level key '{key}' (SkillMeat ignores it and "
                    "drops it on its next write)",
                    span,
                )
    for placed in doc.tables():
        if placed.chunk.path[:1] not in _KNOWN_TOP:
            name = ".".join(placed.chunk.path)
            yield _diag(
                "SM103",
                f"unknown table [{name}] (SkillMeat ignores it and drops it on its next write)",
                placed.header_span,
            )
    if doc.legacy_header is not None:
        for key, entry in doc.legacy_header.chunk.entries.items():
            if key not in LEGACY_HEADER_KEYS:
                offset = doc.legacy_header.offset
                yield _diag(
                    "SM103",
                    f"unknown key '{key}' in [deployment]",
                    (offset + entry.key_span[0], offset + entry.key_span[1]),
                )


def _first_span(doc: Document) -> Span:
    for placed in doc.placed:
        chunk = placed.chunk
        if chunk.kind != "root":
            return placed.header_span
        for entry in chunk.entries.values():
            return (placed.offset + entry.key_span[0], placed.offset + entry.key_span[1])
    return (0, 0)


def rule_plan_file_name(doc: Document, context: Context) -> Iterator[Diagnostic]:
    """SM104: ``deployment.toml`` is never read by SkillMeat."""
    path = context.file_path
    if path is None or path.name != PLAN_FILE_NAME or context.profile_root is None:
        return
    sibling = path.with_name(DEPLOYED_FILE_NAME)
    disk = context.disk
    if disk is not None and disk.exists(context.profile_root, DEPLOYED_FILE_NAME):
        yield _diag(
            "SM104",
            f"this project also has {DEPLOYED_FILE_NAME}: two deployment "
            "records for one project, and SkillMeat reads only the other one",
            _first_span(doc),
            severity=Severity.WARNING,
            related=(Related("the file SkillMeat reads", path=sibling),),
        )
    else:
        yield _diag(
            "SM104",
            f"SkillMeat never reads {PLAN_FILE_NAME}; it reads and writes "
            f".claude/{DEPLOYED_FILE_NAME}",
            _first_span(doc),
            data={"rename_to": DEPLOYED_FILE_NAME},
        )


def _identity(record: Record) -> tuple[str, str, str] | None:
    """(normalised name, canonical type, profile): what SkillMeat identifies a record by.
    Memoised per chunk."""
    memo = record.chunk.memo
    key = "identity:" + record.schema
    if key not in memo:
        name, artifact_type = record.name, record.type
        memo[key] = (
            None
            if name is None or artifact_type is None
            else (
                normalize_name(name),
                canonical_type(artifact_type),
                record.text("deployment_profile_id") or DEFAULT_PROFILE_ID,
            )
        )
    return memo[key]  # type: ignore[no-any-return]


def rule_duplicate_records(doc: Document) -> Iterator[Diagnostic]:
    """SM120: one (name, type) of one profile recorded twice; on each later record, linked to
    the first."""
    first: dict[tuple[str, str, str], Record] = {}
    for record in doc.records:
        identity = _identity(record)
        if identity is None:
            continue
        original = first.setdefault(identity, record)
        if original is not record:
            yield _diag(
                "SM120",
                f"{identity[1]} '{identity[0]}' is recorded twice; SkillMeat "
                "keeps one record per (name, type) and profile",
                record.header_span,
                related=(Related("first recorded here", original.header_span),),
                data={"duplicate_of": original.index},
            )


def rule_shared_names(doc: Document) -> Iterator[Diagnostic]:
    """SM121: one name used by records of different types in one profile (allowed, but
    confusable)."""
    by_name: dict[tuple[str, str], dict[str, Record]] = defaultdict(dict)
    for record in doc.records:
        identity = _identity(record)
        if identity is not None:
            by_name[(identity[0], identity[2])].setdefault(identity[1], record)
    for (name, _profile), by_type in by_name.items():
        if len(by_type) < 2:
            continue
        for artifact_type, record in by_type.items():
            others = [(t, r) for t, r in by_type.items() if t != artifact_type]
            listed = ", ".join(t for t, _ in others)
            yield _diag(
                "SM121",
                f"'{name}' is also the name of a {listed}: a different "
                "artifact; tools that match on the name alone confuse them",
                record.anchor("artifact_name"),
                related=tuple(Related(f"the {t} '{name}'", r.header_span) for t, r in others),
            )


def _path_key(record: Record) -> tuple[str, str] | None:
    """(profile root, normalised path) of a record inside its root. Memoised per chunk."""
    memo = record.chunk.memo
    key = "path:" + record.schema
    if key not in memo:
        path = derived_path(record)
        if path is None or path_escapes(path):
            memo[key] = None
        else:
            root = record.text("profile_root_dir") or CLAUDE_DIR
            memo[key] = (root, posixpath.normpath(path.replace("\\", "/")))
    return memo[key]


def rule_shared_paths(doc: Document) -> Iterator[Diagnostic]:
    """SM122: two records resolve to one ``artifact_path`` (duplicates are SM120's, not this)."""
    first: dict[tuple[str, str], Record] = {}
    for record in doc.records:
        key = _path_key(record)
        if key is None:
            continue
        original = first.setdefault(key, record)
        if original is not record and _identity(original) != _identity(record):
            yield _diag(
                "SM122",
                f"'{key[1]}' is also the path of {original.name!r} "
                f"({original.type}): deploying one overwrites the other",
                record.anchor("artifact_path"),
                related=(Related("the other record", original.header_span),),
            )


# --- environment rules ----------------------------------------------------------------------------


def rule_profile_root(doc: Document, record: Record, context: Context) -> Iterator[Diagnostic]:
    """SM105: ``profile_root_dir`` names another root than the file's (SkillMeat writes each
    record into the file of ``profile_root_dir or ".claude"``)."""
    here = context.root_name
    if here is None or record.schema != "unified" or record.chunk.data is None:
        return
    recorded = record.text("profile_root_dir")
    if (recorded or CLAUDE_DIR) == here:
        return
    if recorded:
        message = (
            f"profile_root_dir is '{recorded}' but this file is in {here}/: SkillMeat's next "
            f"write moves the record to {recorded}/{DEPLOYED_FILE_NAME}"
        )
    else:
        message = (
            f"this record in {here}/ has no profile_root_dir: SkillMeat's next write moves it "
            f"to {CLAUDE_DIR}/{DEPLOYED_FILE_NAME}"
        )
    yield _diag("SM105", message, record.anchor("profile_root_dir"), data={"root": here})


def rule_collection_reference(
    doc: Document, record: Record, context: Context
) -> Iterator[Diagnostic]:
    """SM130 (no such collection) and SM131 (the collection lacks this (name, type))."""
    index = context.collections
    if index is None:
        return
    name, artifact_type = record.name, record.type
    collection_name, span = doc.collection_of(record)
    if not collection_name or name is None or artifact_type not in KNOWN_TYPES:
        return  # an unknown type is SM112's finding
    collection = index.get(collection_name)
    if collection is None:
        closest = index.closest(collection_name)
        hint = f"; did you mean '{closest[0]}'?" if closest else ""
        yield _diag(
            "SM130",
            f"no collection named '{collection_name}' in {index.home}{hint}",
            span,
            data={"suggestions": closest},
        )
        return
    if collection.find(name, canonical_type(artifact_type)) or collection.find(name, artifact_type):
        return
    holders = index.holding(name, canonical_type(artifact_type))
    other_types = sorted({a.type for a in collection.find(name)})
    hint = ""
    if other_types:
        hint = f" (it has '{name}' as {', '.join(other_types)}, a different artifact)"
    elif holders:
        hint = f"; {', '.join(holders)} has it"
    yield _diag(
        "SM131",
        f"collection '{collection_name}' has no {artifact_type} named '{name}'{hint}",
        span,
        data={"collections": holders},
    )


def rule_missing_on_disk(doc: Document, record: Record, context: Context) -> Iterator[Diagnostic]:
    """SM132: the deployed artifact is not on disk."""
    root, disk = context.profile_root, context.disk
    if root is None or disk is None:
        return
    path = derived_path(record)
    if path is None or path_escapes(path) or not _in_file_root(record, context):
        return
    if not disk.exists(root, path):
        yield _diag(
            "SM132",
            f"{record.type} '{record.name}' is recorded but {root.name}/{path} does not exist",
            record.anchor("artifact_path"),
            data={"collection": doc.collection_of(record)[0]},
        )


def _in_file_root(record: Record, context: Context) -> bool:
    """The record's copy lives in its file's root: its ``profile_root_dir`` names that root, or
    it names none (disk rules then judge it where it is; SM105 says where SkillMeat moves it)."""
    recorded = record.text("profile_root_dir")
    return not recorded or recorded == context.root_name


def rule_drift(doc: Document, record: Record, context: Context) -> Iterator[Diagnostic]:
    """SM140 modified locally, SM141 update available, SM142 conflict."""
    state = drift_state(doc, record, context)
    if state is not None and state.code is not None:
        yield _diag(
            state.code,
            state.message,
            record.anchor("content_hash"),
            data={"project_hash": state.project_hash, "collection_hash": state.collection_hash},
        )


@dataclass(frozen=True)
class DriftState:
    """A record's sync state: recorded hash vs project copy vs collection copy."""

    state: str  # in-sync, modified, update-available, conflict, missing, unknown
    recorded: str | None
    project_hash: str | None
    collection_hash: str | None
    message: str = ""
    code: str | None = field(default=None)


def drift_state(doc: Document, record: Record, context: Context) -> DriftState | None:
    """The sync state of ``record``, or None when it cannot be judged (bad path or hash)."""
    root, disk = context.profile_root, context.disk
    path = derived_path(record)
    recorded = record.content_hash
    if root is None or disk is None or path is None or path_escapes(path):
        return None
    if not _in_file_root(record, context) or recorded is None or not HASH_RE.fullmatch(recorded):
        return None
    project_hash = disk.hash(root, path)
    collection_hash = None
    if context.collections is not None and record.name and record.type:
        collection = context.collections.get(doc.collection_of(record)[0])
        if collection is not None:
            found = collection.find(record.name, canonical_type(record.type))
            collection_hash = found[0].content_hash if found else None
    label = f"{record.type} '{record.name}'"
    if project_hash is None:
        return DriftState("missing", recorded, None, collection_hash)
    local = project_hash != recorded
    upstream = collection_hash is not None and collection_hash != recorded
    if local and upstream and project_hash != collection_hash:
        return DriftState(
            "conflict",
            recorded,
            project_hash,
            collection_hash,
            f"{label} changed both here and in its collection since it was deployed",
            "SM142",
        )
    if local and not upstream:
        return DriftState(
            "modified",
            recorded,
            project_hash,
            collection_hash,
            f"{label} was modified locally since it was deployed",
            "SM140",
        )
    if upstream and not local:
        return DriftState(
            "update-available",
            recorded,
            project_hash,
            collection_hash,
            f"{label} has an update in its collection",
            "SM141",
        )
    return DriftState("in-sync", recorded, project_hash, collection_hash)


DOCUMENT_RULES: tuple[Callable[[Document], Iterable[Diagnostic]], ...] = (
    rule_syntax,
    rule_legacy_schema,
    rule_mixed_schema,
    rule_unknown_top_level,
    rule_duplicate_records,
    rule_shared_names,
    rule_shared_paths,
)
ENVIRONMENT_RULES: tuple[Callable[[Document, Context], Iterable[Diagnostic]], ...] = (
    rule_plan_file_name,
)
#: Rules that read one record and the environment (collections, disk).
RECORD_ENVIRONMENT_RULES: tuple[
    Callable[[Document, Record, Context], Iterable[Diagnostic]], ...
] = (rule_profile_root, rule_collection_reference, rule_missing_on_disk, rule_drift)


# --- the runner -----------------------------------------------------------------------------------


SEVERITY_BY_NAME = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "information": Severity.INFORMATION,
    "info": Severity.INFORMATION,
    "hint": Severity.HINT,
}


@dataclass(frozen=True)
class Ignore:
    """An ``[[ignore]]`` entry of a project's config: ``code``, for one artifact (normalised
    name, canonical type) or all, in one profile or all."""

    code: str
    artifact: tuple[str, str] | None
    profile: str | None
    reason: str

    def matches(self, diagnostic: Diagnostic, subject: tuple[str, str, str] | None) -> bool:
        if diagnostic.code != self.code:
            return False
        if self.artifact is not None and (subject is None or subject[:2] != self.artifact):
            return False
        return self.profile is None or (subject is not None and subject[2] == self.profile)


@dataclass(frozen=True)
class RuleSettings:
    """Which codes run and at which severity (the ``rules`` / ``severity`` settings), and what
    a project's config ignores."""

    disabled: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    ignores: tuple[Ignore, ...] = ()

    def over(self, base: RuleSettings) -> RuleSettings:
        """These settings applied on top of ``base`` (editor settings over a project's)."""
        return RuleSettings(
            self.disabled | base.disabled,
            {**base.severity, **self.severity},
            base.ignores + self.ignores,
        )

    def apply(
        self, diagnostics: Iterable[Diagnostic], doc: Document | None = None, root: str | None = None
    ) -> list[Diagnostic]:
        out = []
        for d in diagnostics:
            if d.code in self.disabled:
                continue
            if self.ignores and doc is not None:
                subject = subject_of(doc, d, root)
                if any(ignore.matches(d, subject) for ignore in self.ignores):
                    continue
            override = self.severity.get(d.code)
            out.append(replace(d, severity=override) if override else d)
        return out


def subject_of(
    doc: Document, diagnostic: Diagnostic, root: str | None
) -> tuple[str, str, str] | None:
    """The artifact a finding is about: (normalised name, canonical type, profile), the profile
    read from the record or else from its file's root; None for a finding about the file."""
    record = doc.record_at(diagnostic.span[0])
    if record is None or not record.name or not record.type:
        return None
    return (normalize_name(record.name), canonical_type(record.type), record_profile(record, root))


def record_profile(record: Record, root: str | None) -> str:
    """The profile a record is deployed for, as a person names it: its ``deployment_profile_id``,
    else the profile of the root its file is in (``.agents`` -> ``codex``), else the default."""
    profile = record.text("deployment_profile_id")
    if profile:
        return profile
    return profile_for_root(root).id if root else DEFAULT_PROFILE_ID


class Analyzer:
    """Runs every rule over successive versions of one document, reusing per-record results.

    Record rules are memoised per chunk. Environment rules per record are memoised per chunk too,
    for as long as the environment is the same: the same collections index and the same window
    of the disk probe (see :class:`~skillmeat_ls.workspace.DiskProbe`). A keystroke therefore
    re-checks the edited record only.
    """

    def __init__(self, settings: RuleSettings | None = None) -> None:
        self.settings = settings or RuleSettings()
        self._memo: dict[int, tuple[Chunk, list[Diagnostic]]] = {}
        self._env_memo: dict[int, tuple[Chunk, tuple[Any, ...], list[Diagnostic]]] = {}
        self._env_index: object = None  # keeps the index alive while its id() is a memo key

    def analyze(self, doc: Document, context: Context | None = None) -> list[Diagnostic]:
        context = context or Context()
        found: list[Diagnostic] = []
        for rule in DOCUMENT_RULES:
            found.extend(rule(doc))
        live: dict[int, tuple[Chunk, list[Diagnostic]]] = {}
        for record in doc.records:
            found.extend(record_diagnostics(record, self._memo))
            memoised = self._memo.get(id(record.chunk))
            if memoised is not None:
                live[id(record.chunk)] = memoised
        self._memo = live  # forget chunks the document no longer has
        for env_rule in ENVIRONMENT_RULES:
            found.extend(env_rule(doc, context))
        found.extend(self._environment(doc, context))
        found.sort(key=lambda d: (d.span, d.code))
        settings = self.settings.over(context.project) if context.project else self.settings
        return settings.apply(found, doc, context.root_name)

    def _environment(self, doc: Document, context: Context) -> list[Diagnostic]:
        self._env_index = context.collections
        key = (
            id(context.collections),
            context.disk.generation if context.disk is not None else None,
            context.file_path,
        )
        found: list[Diagnostic] = []
        live: dict[int, tuple[Chunk, tuple[Any, ...], list[Diagnostic]]] = {}
        for record in doc.records:
            chunk = record.chunk
            if record.schema == "legacy" or chunk.data is None:
                # a legacy record's collection lives in [deployment]: not memoised per chunk
                for rule in RECORD_ENVIRONMENT_RULES:
                    found.extend(rule(doc, record, context))
                continue
            cached = self._env_memo.get(id(chunk))
            if cached is None or cached[0] is not chunk or cached[1] != key:
                local = Record(record.schema, chunk, 0, 0, record.index)
                found_here = [d for rule in RECORD_ENVIRONMENT_RULES for d in rule(doc, local, context)]
                cached = (chunk, key, found_here)
            live[id(chunk)] = cached
            found.extend(d.shifted(record.offset) for d in cached[2])
        self._env_memo = live
        return found


def analyze(
    doc: Document, context: Context | None = None, settings: RuleSettings | None = None
) -> list[Diagnostic]:
    """Every diagnostic of ``doc`` (a one-off; editors keep an :class:`Analyzer` per document)."""
    return Analyzer(settings).analyze(doc, context)
