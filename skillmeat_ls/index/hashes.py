"""Hashing each artifact's copy on disk, reusing a stored hash when nothing changed.

This module owns filling in ``_Entry.content_hash`` and ``_Entry.fingerprint``. The hash itself is
computed by a :data:`Hasher`, :func:`skillmeat_ls.hashing.content_hash` unless the caller of
:func:`~skillmeat_ls.index.load_collections` passes another (the seam for counting or injecting
hash computations). With hashes stored in the cache (:class:`_Stored`, read by
:mod:`skillmeat_ls.index.stored`), an artifact whose :func:`~skillmeat_ls.hashing.tree_fingerprint`
(stat data only) and path are unchanged is not re-hashed.

An artifact whose files are missing or unreadable is reported (an
:class:`~skillmeat_ls.index.IndexProblem` on its manifest) and its ``content_hash`` is ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from skillmeat_ls.hashing import tree_fingerprint
from skillmeat_ls.index.manifest import _Parsed
from skillmeat_ls.index.model import MANIFEST_NAME, IndexProblem

Hasher = Callable[[Path], str]
"""Computes the content hash of an artifact's copy on disk (a file or a directory)."""


@dataclass(frozen=True)
class _Stored:
    """What the cache holds about one artifact."""

    rel_path: str
    fingerprint: str | None
    content_hash: str | None


def _hash_entries(parsed: _Parsed, stored: dict[tuple[str, str], _Stored], hasher: Hasher) -> None:
    """Fill in each entry's hash and fingerprint, reusing the stored hash when nothing changed;
    ``stored`` is keyed by ``(source_key, artifact_id)``, ``hasher`` computes the new hashes."""
    manifest = parsed.root / MANIFEST_NAME
    for entry in parsed.entries:
        label = f"{entry.type} {entry.name!r}"
        try:
            fingerprint = tree_fingerprint(entry.path)
        except FileNotFoundError:
            parsed.problems.append(
                IndexProblem(manifest, f"{label}: {entry.rel_path} is missing on disk")
            )
            continue
        except OSError as exc:
            parsed.problems.append(
                IndexProblem(manifest, f"{label}: cannot read {entry.rel_path}: {exc}")
            )
            continue
        previous = stored.get((parsed.source_key, entry.artifact_id))
        if (
            previous is not None
            and previous.content_hash is not None
            and previous.fingerprint == fingerprint
            and previous.rel_path == entry.rel_path
        ):
            entry.content_hash, entry.fingerprint = previous.content_hash, fingerprint
            continue
        try:
            entry.content_hash = hasher(entry.path)
        except (OSError, ValueError, UnicodeError) as exc:
            parsed.problems.append(
                IndexProblem(manifest, f"{label}: cannot hash {entry.rel_path}: {exc}")
            )
            continue
        entry.fingerprint = fingerprint


def _hash_all(
    parsed: Sequence[_Parsed], stored: dict[tuple[str, str], _Stored], hasher: Hasher
) -> None:
    """:func:`_hash_entries` for every collection whose manifest could be read."""
    for item in parsed:
        if item.ok:
            _hash_entries(item, stored, hasher)
