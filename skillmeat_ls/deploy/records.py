"""The records a request writes, and the deployment file text with them in it.

Records are written in SkillMeat 0.74.0's shape (:func:`deployed_record`, then
:func:`skillmeat_ls.writer.order_record`). The other records keep their exact text (comments
included) when the file has the usual ``[[deployed]]`` layout (:func:`_splice`); otherwise the file
is re-rendered as SkillMeat would render it. A legacy file is written in its migrated form.
"""

from __future__ import annotations

import sys
from typing import Any

from skillmeat_ls.deploy.copyplan import PlannedItem
from skillmeat_ls.deploy.project import LoadedProject, identity_of
from skillmeat_ls.document import Document, Record, parse_document
from skillmeat_ls.schema import Identity
from skillmeat_ls.writer import order_record, render_document, render_records

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Keys of a replaced record that a redeploy carries over (SkillMeat's deploy does not set them).
_CARRIED_KEYS = ("artifact_uuid", "branch_name")

#: What a request changes in the file: identity -> the new record, or None to remove it.
Changes = dict[Identity, dict[str, Any] | None]


def deployed_record(
    loaded: LoadedProject, item: PlannedItem, content_hash: str, deployed_at: str
) -> dict[str, Any]:
    """The record SkillMeat 0.74.0's deploy writes for ``item`` (``core/deployment.py``)."""
    record: dict[str, Any] = {
        "artifact_name": item.name,
        "artifact_type": item.type,
        "from_collection": item.collection,
        "deployed_at": deployed_at,
        "artifact_path": item.rel,
        "content_hash": content_hash,
        "local_modifications": False,
        "version_lineage": [content_hash],
        "merge_base_snapshot": content_hash,
        **loaded.profile.record_keys(),
        "collection_sha": content_hash,
    }
    previous = loaded.by_identity.get(item.identity) or {}
    record.update({key: previous[key] for key in _CARRIED_KEYS if previous.get(key) is not None})
    return record


def rebaselined_record(record: dict[str, Any], content_hash: str) -> dict[str, Any]:
    """``record`` with ``content_hash`` as its baseline, as SkillMeat's only writer of an
    accepted local copy (context sync's pull, ``resolve_conflict("keep_local")``) records it:
    ``content_hash`` and ``collection_sha`` become the new hash and the previous hash ends
    ``version_lineage`` (oldest first; SkillMeat reads a record without one as
    ``[content_hash]``, and the previous hash is not repeated when it already ends it); every
    other key is kept."""
    previous = recorded_hash(record)
    lineage = record.get("version_lineage")
    lineage = list(lineage) if isinstance(lineage, list) else []
    if previous is not None and lineage[-1:] != [previous]:
        lineage.append(previous)
    return {
        **record,
        "content_hash": content_hash,
        "collection_sha": content_hash,
        "version_lineage": lineage,
    }


def new_text(loaded: LoadedProject, changes: Changes) -> str:
    """The deployment file after ``changes``.

    Records of the file that are not changed keep their text; a changed record is replaced where
    it stands (duplicates of its pair are dropped); new records are appended in request order.
    """
    ordered = {
        identity: order_record(r) if r is not None else None for identity, r in changes.items()
    }
    contents = loaded.contents
    if contents is None:
        return render_records([r for r in ordered.values() if r is not None])
    expected: list[dict[str, Any]] = []
    seen: set[Identity] = set()
    for record in contents.records:
        identity = identity_of(record.get("artifact_name"), record.get("artifact_type"))
        if identity is not None and identity in ordered:
            new = ordered[identity]
            if identity not in seen and new is not None:
                expected.append(new)
            seen.add(identity)
        else:
            expected.append(record)
    appended = [r for identity, r in ordered.items() if identity not in seen and r is not None]
    expected.extend(appended)
    wanted = {**contents.data, "deployed": expected}
    # The parsed document is the unified text's only when the file needed no migration.
    reuse = contents.document if contents.unified_text == contents.text else None
    spliced = _splice(contents.unified_text, ordered, appended, reuse)
    if spliced is not None:
        try:
            if tomllib.loads(spliced) == wanted:
                return spliced
        except tomllib.TOMLDecodeError:
            pass
    return render_document(wanted)


def _trailer(chunk_text: str) -> str:
    """The blank and comment lines that end a chunk (kept when its record is replaced)."""
    lines = chunk_text.splitlines(keepends=True)
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return "".join(lines[end:])


def _splice(
    text: str,
    ordered: Changes,
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
            identity = identity_of(placed.name, placed.type)
            if identity is not None and identity in ordered:
                new = ordered[identity]
                if identity not in seen and new is not None:
                    pieces.append(render_records([new]) + _trailer(chunk_text))
                seen.add(identity)
                continue
        pieces.append(chunk_text)
    out = "".join(pieces)
    if appended:
        if out and not out.endswith("\n"):
            out += "\n"
        if out.strip() and not out.endswith("\n\n"):
            out += "\n"
        out += render_records(appended)
    if out.endswith("\n\n") and not text.endswith("\n\n"):
        out = out.rstrip("\n") + "\n"  # a removed last record leaves no blank tail
    return out


def recorded_hash(record: dict[str, Any]) -> str | None:
    """The hash a record says its copy has (``content_hash``, else ``collection_sha``)."""
    value = record.get("content_hash") or record.get("collection_sha")
    return value if isinstance(value, str) else None


def recorded_text(record: dict[str, Any] | None, key: str) -> str | None:
    """A record's value for ``key`` if it is a string (no record: None)."""
    value = record.get(key) if record is not None else None
    return value if isinstance(value, str) else None
