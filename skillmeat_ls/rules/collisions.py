"""Collision rules (SM120–SM122): records that clash with each other within one profile.

Each compares the records by keys derived from each record alone (:class:`RecordKeys`), which
the analyzer computes once per chunk: a keystroke re-derives the edited record's keys only.
Identity is SkillMeat's: (name, type) within a profile, the name compared without one trailing
``.md``/``.txt``/``.json``/``.yaml``/``.yml`` and the type by its canonical spelling
(:func:`~skillmeat_ls.schema.identity`).
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from skillmeat_ls.document import Record, derived_path
from skillmeat_ls.profiles import DEFAULT_PROFILE_ID
from skillmeat_ls.rules.diagnostic import Diagnostic, Related, finding
from skillmeat_ls.rules.records import path_escapes
from skillmeat_ls.schema import CLAUDE_DIR, identity


class RecordKeys(NamedTuple):
    """What the collision rules compare a record by; None where the record lacks the parts."""

    #: (normalised name, canonical type, profile id)
    identity: tuple[str, str, str] | None
    #: (profile root, normalised ``artifact_path``), for a path inside its root
    path: tuple[str, str] | None
    #: (normalised name, profile id): the identity without the type
    name: tuple[str, str] | None


def keys_of(record: Record) -> RecordKeys:
    name, artifact_type = record.name, record.type
    key = name_key = None
    if name is not None and artifact_type is not None:
        profile = record.text("deployment_profile_id") or DEFAULT_PROFILE_ID
        key = (*identity(name, artifact_type), profile)
        name_key = (key[0], profile)
    path = derived_path(record)
    place = None
    if path is not None and not path_escapes(path):
        root = record.text("profile_root_dir") or CLAUDE_DIR
        place = (root, posixpath.normpath(path.replace("\\", "/")))
    return RecordKeys(key, place, name_key)


# Each rule takes the document's records and, in the same order, their keys: two sequences
# rather than one of pairs, because a keystroke in a 10,000-record file must not allocate
# 10,000 pairs (they would outlive young collections and bring on full ones).


def rule_duplicate_records(
    records: Sequence[Record], keys: Sequence[RecordKeys]
) -> Iterator[Diagnostic]:
    """SM120: one (name, type) of one profile recorded twice; on each later record, linked to
    the first."""
    first: dict[tuple[str, str, str], Record] = {}
    for record, record_key in zip(records, keys, strict=True):
        key = record_key.identity
        if key is None:
            continue
        original = first.setdefault(key, record)
        if original is not record:
            yield finding(
                "SM120",
                f"{key[1]} '{key[0]}' is recorded twice; SkillMeat "
                "keeps one record per (name, type) and profile",
                record.header_span,
                related=(Related("first recorded here", original.header_span),),
                data={"duplicate_of": original.index},
            )


def rule_shared_names(
    records: Sequence[Record], keys: Sequence[RecordKeys]
) -> Iterator[Diagnostic]:
    """SM121: one name used by records of different types in one profile (allowed, but
    confusable)."""
    # Names are rarely shared: find those first (no allocation per record on a keystroke), then
    # gather the records of those names only.
    first_type: dict[tuple[str, str], str] = {}
    shared: set[tuple[str, str]] = set()
    for record_key in keys:
        key, name_key = record_key.identity, record_key.name
        if (
            key is not None
            and name_key is not None
            and first_type.setdefault(name_key, key[1]) != key[1]
        ):
            shared.add(name_key)
    if not shared:
        return
    by_name: dict[tuple[str, str], dict[str, Record]] = defaultdict(dict)
    for record, record_key in zip(records, keys, strict=True):
        key, name_key = record_key.identity, record_key.name
        if key is not None and name_key in shared:
            by_name[name_key].setdefault(key[1], record)
    for (name, _profile), by_type in by_name.items():
        for artifact_type, record in by_type.items():
            others = [(t, r) for t, r in by_type.items() if t != artifact_type]
            listed = ", ".join(t for t, _ in others)
            yield finding(
                "SM121",
                f"'{name}' is also the name of a {listed}: a different "
                "artifact; tools that match on the name alone confuse them",
                record.anchor("artifact_name"),
                related=tuple(Related(f"the {t} '{name}'", r.header_span) for t, r in others),
            )


def rule_shared_paths(
    records: Sequence[Record], keys: Sequence[RecordKeys]
) -> Iterator[Diagnostic]:
    """SM122: two records resolve to one ``artifact_path`` (duplicates are SM120's, not this)."""
    first: dict[tuple[str, str], int] = {}  # path -> position of its first record
    for position, record_key in enumerate(keys):
        place = record_key.path
        if place is None:
            continue
        earlier = first.setdefault(place, position)
        if earlier != position and keys[earlier].identity != record_key.identity:
            original, record = records[earlier], records[position]
            yield finding(
                "SM122",
                f"'{place[1]}' is also the path of {original.name!r} "
                f"({original.type}): deploying one overwrites the other",
                record.anchor("artifact_path"),
                related=(Related("the other record", original.header_span),),
            )
