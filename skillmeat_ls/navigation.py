"""Hover, completion, document symbols, go-to-definition and code lenses (SPEC §7), as plain data.

Everything takes a parsed :class:`~skillmeat_ls.document.Document`, an offset where the editor
asks, and the analysis :class:`~skillmeat_ls.rules.Context`; the protocol layer converts the
results. Context sync is complete — pull (``skillmeat.pullToCollection``), push (an update) and
resolve (compare, then keep local, update or pull) — so nothing here carries a Preview marker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat_ls import command_ids
from skillmeat_ls.actions import profile_argument
from skillmeat_ls.document import Document, Record, Span, derived_path
from skillmeat_ls.rules import Context, DriftState, drift_state
from skillmeat_ls.schema import (
    DEPLOYABLE_TYPES,
    KNOWN_TYPES,
    UNIFIED_KEY_ORDER,
    canonical_type,
    conventional_path,
)
from skillmeat_ls.workspace import contained
from skillmeat_ls.writer import toml_string

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionArtifact

#: How a drifted record is settled (the quick fixes on its SM140–SM142 offer each).
RESOLVE_NOTE = (
    "Resolve with the quick fixes: compare with the collection, then keep the local changes, "
    "update from the collection, or pull the local changes into it."
)

STATE_LABELS = {
    "in-sync": "✓ in sync",
    "modified": "● modified locally",
    "update-available": "↑ update available",
    "conflict": "⚠ conflict: changed here and in the collection",
    "missing": "✗ missing on disk",
}


def collection_artifact(
    doc: Document, record: Record, context: Context
) -> CollectionArtifact | None:
    """The collection's copy of ``record``'s artifact, matched on (name, type)."""
    name, artifact_type = record.name, record.type
    if context.collections is None or not name or not artifact_type:
        return None
    collection = context.collections.get(doc.collection_of(record)[0])
    if collection is None:
        return None
    found = collection.find(name, canonical_type(artifact_type)) or collection.find(
        name, artifact_type
    )
    return found[0] if found else None


# --- hover ----------------------------------------------------------------------------------------


def _short(value: str | None) -> str:
    return f"`{value[:12]}…`" if value else "—"


def hover(doc: Document, offset: int, context: Context) -> tuple[str, Span] | None:
    """Markdown describing the record at ``offset``: collection, time, hashes, state, groups."""
    record = doc.record_at(offset)
    if record is None:
        return None
    name, artifact_type = record.name or "?", record.type or "?"
    collection = doc.collection_of(record)[0]
    artifact = collection_artifact(doc, record, context)
    state = drift_state(doc, record, context)
    lines = [f"**{name}** ({artifact_type})", ""]
    where = ""
    if context.collections is not None and collection:
        found = context.collections.get(collection) is not None
        where = " — found" if found else " — **not found**"
    lines.append(f"- Collection: `{collection or '?'}`{where}")
    lines.append(f"- Deployed: {record.text('deployed_at') or '—'}")
    path = derived_path(record)
    root = context.root_name or ".claude"
    lines.append(f"- Path: `{root}/{path}`" if path else "- Path: —")
    lines.append(f"- Recorded hash: {_short(record.content_hash)}")
    if state is not None:
        lines.append(f"- Project copy: {_short(state.project_hash)}")
        lines.append(f"- Collection copy: {_short(state.collection_hash)}")
        lines.append(f"- State: {STATE_LABELS.get(state.state, state.state)}")
    if artifact is not None and artifact.groups:
        lines.append(f"- Groups: {', '.join(artifact.groups)}")
    if artifact is not None and artifact.description:
        lines += ["", artifact.description]
    if state is not None and state.code is not None:
        lines += ["", RESOLVE_NOTE]
    return "\n".join(lines), record.header_span


# --- completion -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    label: str
    detail: str = ""
    insert_text: str | None = None
    kind: str = "value"  # value | field


_VALUE_LINE = re.compile(r"^[ \t]*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*=[ \t]*(\"?)([^\"]*)$")
_KEY_LINE = re.compile(r"^[ \t]*([A-Za-z_-]*)$")


def completions(doc: Document, offset: int, context: Context) -> list[Completion]:
    """Values for ``artifact_type``, ``from_collection``, ``artifact_name`` and ``artifact_path``,
    and the record's missing keys at the start of a line."""
    line_start = doc.text.rfind("\n", 0, offset) + 1
    before = doc.text[line_start:offset]
    record = doc.record_at(offset)
    value = _VALUE_LINE.match(before)
    if value is None:
        if _KEY_LINE.match(before) and record is not None and record.schema == "unified":
            present = set(record.chunk.entries)
            return [
                Completion(key, "deployment record field", f"{key} = ", "field")
                for key in UNIFIED_KEY_ORDER
                if key not in present
            ]
        return []
    key, quoted = value.group(1), bool(value.group(2))

    def item(label: str, detail: str = "") -> Completion:
        return Completion(label, detail, label if quoted else toml_string(label))

    if key in ("artifact_type", "type"):
        ordered = [*DEPLOYABLE_TYPES, *sorted(KNOWN_TYPES - set(DEPLOYABLE_TYPES))]
        return [
            item(t, "deployable" if t in DEPLOYABLE_TYPES else "artifact type") for t in ordered
        ]
    index = context.collections
    if key in ("from_collection", "collection") and index is not None:
        return [
            item(n, f"{len(index.get(n).artifacts)} artifacts")  # type: ignore[union-attr]
            for n in index.names()
        ]
    if key in ("artifact_name", "name") and record is not None and index is not None:
        collection = index.get(doc.collection_of(record)[0])
        if collection is None:
            return []
        wanted = record.type
        return [
            item(a.name, f"{a.type} in {collection.name}")
            for a in collection.artifacts.values()
            if wanted is None or canonical_type(a.type) == canonical_type(wanted)
        ]
    if key == "artifact_path" and record is not None and record.name and record.type:
        path = conventional_path(record.name, record.type)
        return [item(path, "where SkillMeat deploys it")] if path else []
    return []


# --- symbols, definitions, lenses -----------------------------------------------------------------

SYMBOL_KIND = {
    "skill": "package",
    "command": "function",
    "agent": "class",
    "hook": "event",
    "mcp": "interface",
    "mcp_server": "interface",
}


@dataclass(frozen=True)
class Symbol:
    name: str
    detail: str
    kind: str  # package | function | class | event | interface | object
    span: Span
    selection: Span


def symbols(doc: Document) -> list[Symbol]:
    """One symbol per record, ``name (type)``."""
    found = []
    for record in doc.records:
        text = record.chunk.text
        end = record.offset + len(text.rstrip())
        name = record.field(record.meaning("artifact_name"))
        selection = name.value_span if name is not None else record.header_span
        found.append(
            Symbol(
                f"{record.name or '?'} ({record.type or '?'})",
                f"from {doc.collection_of(record)[0] or '?'}",
                SYMBOL_KIND.get(record.type or "", "object"),
                (record.offset, max(end, selection[1])),
                selection,
            )
        )
    return found


def _openable(path: Path) -> Path:
    """A file an editor can open for ``path``: the file itself, or a directory's main file."""
    if path.is_dir():
        for candidate in ("SKILL.md", "README.md"):
            if (path / candidate).is_file():
                return path / candidate
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return files[0] if files else path
    return path


@dataclass(frozen=True)
class Copies:
    """Where one record's artifact is: its deployed copy and its collection's copy (None for the
    one that does not exist), each a file or a directory."""

    deployed: Path | None
    collection: Path | None


def copies_of(doc: Document, record: Record, context: Context) -> Copies:
    """The deployed copy (inside the profile root only) and the collection's copy of ``record``."""
    deployed = None
    path = derived_path(record)
    root = context.profile_root
    if path and root is not None:
        inside = contained(root, path)
        deployed = inside if inside is not None and inside.exists() else None
    artifact = collection_artifact(doc, record, context)
    source = artifact.path if artifact is not None and artifact.path.exists() else None
    return Copies(deployed, source)


def definitions(doc: Document, offset: int, context: Context) -> list[Path]:
    """The deployed copy and the collection's copy of the record at ``offset``."""
    record = doc.record_at(offset)
    if record is None:
        return []
    found = copies_of(doc, record, context)
    return [_openable(p) for p in (found.deployed, found.collection) if p is not None]


@dataclass(frozen=True)
class Lens:
    span: Span
    title: str
    tooltip: str
    command: str = ""  # "" = a label that does nothing when clicked
    arguments: list[Any] = field(default_factory=list)


def code_lenses(doc: Document, context: Context) -> list[Lens]:
    """Each record's sync state, with the action that resolves it where there is one."""
    lenses = []
    project = str(context.profile_root.parent) if context.profile_root is not None else None
    for record in doc.records:
        state = drift_state(doc, record, context)
        lenses.append(_state_lens(doc, record, state, project, context))
    return lenses


def _state_lens(
    doc: Document, record: Record, state: DriftState | None, project: str | None,
    context: Context,
) -> Lens:
    collection = doc.collection_of(record)[0] or "?"
    if state is None:
        return Lens(
            record.header_span,
            f"from {collection} · sync state unknown",
            "The record's path or hash cannot be checked.",
        )
    title = f"{STATE_LABELS.get(state.state, state.state)} · {collection}"
    tooltip = (
        f"Recorded {_short(state.recorded)}; project {_short(state.project_hash)}; "
        f"collection {_short(state.collection_hash)}."
        + (f" {RESOLVE_NOTE}" if state.code is not None else "")
    )
    artifact = {"name": record.name, "type": canonical_type(record.type or "")}
    profile = profile_argument(record, context.root_name)
    if project and state.state in ("update-available", "conflict"):
        return Lens(
            record.header_span,
            title + " — update",
            tooltip,
            command_ids.UPDATE_FROM_COLLECTION,
            [{"project": project, **artifact, **profile}],
        )
    if project and state.state == "modified":
        return Lens(
            record.header_span,
            title + " — compare",
            tooltip,
            command_ids.COMPARE,
            [{"project": project, **artifact, **profile}],
        )
    if project and state.state == "missing":
        return Lens(
            record.header_span,
            title + " — deploy",
            tooltip,
            command_ids.DEPLOY,
            [{"project": project, "collection": collection, "artifacts": [artifact], **profile}],
        )
    return Lens(record.header_span, title, tooltip)
