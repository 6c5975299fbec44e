"""Environment rules: what a record says against the world outside the file.

SM104 reads the file's name and its siblings; SM105 the file's profile root; SM130–SM131 the
collections index; SM132 and SM140–SM142 the deployed copies on disk (through the context's
:class:`~skillmeat_ls.workspace.DiskProbe`, never outside the file's own profile root). A rule
whose input is missing from the :class:`~skillmeat_ls.rules.context.Context` finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.document import Document, Record, Span, derived_path
from skillmeat_ls.rules.context import Context
from skillmeat_ls.rules.diagnostic import Diagnostic, Related, Severity, finding
from skillmeat_ls.rules.records import path_escapes

if TYPE_CHECKING:
    from skillmeat_ls.workspace import DiskProbe

from skillmeat_ls.schema import (
    CLAUDE_DIR,
    DEPLOYED_FILE_NAME,
    HASH_RE,
    KNOWN_TYPES,
    PLAN_FILE_NAME,
    canonical_type,
)


def _first_span(doc: Document) -> Span:
    """Where a finding about the whole file goes: its first header or key."""
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
        yield finding(
            "SM104",
            f"this project also has {DEPLOYED_FILE_NAME}: two deployment "
            "records for one project, and SkillMeat reads only the other one",
            _first_span(doc),
            severity=Severity.WARNING,
            related=(Related("the file SkillMeat reads", path=sibling),),
        )
    else:
        yield finding(
            "SM104",
            f"SkillMeat never reads {PLAN_FILE_NAME}; it reads and writes "
            f".claude/{DEPLOYED_FILE_NAME}",
            _first_span(doc),
            data={"rename_to": DEPLOYED_FILE_NAME},
        )




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
    yield finding("SM105", message, record.anchor("profile_root_dir"), data={"root": here})


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
        yield finding(
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
    yield finding(
        "SM131",
        f"collection '{collection_name}' has no {artifact_type} named '{name}'{hint}",
        span,
        data={"collections": holders},
    )


def _on_disk(record: Record, context: Context) -> tuple[Path, str, DiskProbe] | None:
    """(profile root, recorded path, probe) for the disk rules, when the record's copy can be
    looked at: a safe path in this file's own root, and a probe to look with."""
    root, disk = context.profile_root, context.disk
    path = derived_path(record)
    if root is None or disk is None or path is None or path_escapes(path):
        return None
    return (root, path, disk) if _in_file_root(record, context) else None


def rule_missing_on_disk(doc: Document, record: Record, context: Context) -> Iterator[Diagnostic]:
    """SM132: the deployed artifact is not on disk."""
    found = _on_disk(record, context)
    if found is not None and not found[2].exists(found[0], found[1]):
        root, path, _ = found
        yield finding(
            "SM132",
            f"{record.type} '{record.name}' is recorded but {root.name}/{path} does not exist",
            record.anchor("artifact_path"),
            data={"collection": doc.collection_of(record)[0]},
        )


def rule_copy_leaves_root(
    doc: Document, record: Record, context: Context
) -> Iterator[Diagnostic]:
    """SM133: the deployed copy holds a symlink leading outside its profile root, or a special
    file: it is not followed, and the record's drift is not judged."""
    found = _on_disk(record, context)
    why = found[2].leaving(found[0], found[1]) if found is not None else None
    if found is not None and why is not None:
        yield finding(
            "SM133",
            f"{found[0].name}/{why}: not followed, so whether {record.type} '{record.name}' "
            "drifted is not judged",
            record.anchor("artifact_path"),
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
        yield finding(
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
    if project_hash is None and disk.leaving(root, path) is not None:
        return None  # SM133: not judged
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
