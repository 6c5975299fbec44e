"""What the cache holds about the collections, read with the standard ``sqlite3`` module.

The cache mirrors the index in SkillMeat's tables ``collections``, ``collection_artifacts``,
``groups`` and ``group_artifacts`` and in this server's ``collection_sources`` and
``indexed_artifacts``; this module reads them (:meth:`~skillmeat_ls.cache.store.Cache.rows`, no
SQLAlchemy) and :mod:`skillmeat_ls.index.writes` writes them.

:func:`_hash_through_cache` reads the stored hashes (so unchanged artifacts are not re-hashed, see
:mod:`skillmeat_ls.index.hashes`), hashes, then writes. The manifest and lock are re-read on every
load; their stat data is stored in ``collection_sources``. Writes happen in one
``BEGIN IMMEDIATE`` transaction per load, after all hashing, so concurrent servers on one cache
serialise cleanly; a collection whose manifest, lock and artifacts are all as stored is not
written, and a load that finds nothing changed (a warm start) writes nothing at all and loads no
SQLAlchemy. A collection removed from disk is deleted from the cache (the cascades remove the
rest); one whose manifest is broken keeps its rows, with the problem in
``collection_sources.error``, so fixing it costs no re-hash. The cache mirrors one home: rows of
collections under another home are left alone. A cache that cannot be read or written is reported
as an :class:`~skillmeat_ls.index.IndexProblem` on the database file; the index is still built.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.cache.store import CacheReadError
from skillmeat_ls.index.hashes import Hasher, _hash_all, _Stored
from skillmeat_ls.index.manifest import _Parsed
from skillmeat_ls.index.model import IndexProblem

if TYPE_CHECKING:
    from skillmeat_ls.cache.store import Cache


@dataclass(frozen=True)
class _Source:
    """A ``collection_sources`` row."""

    collection_id: str
    root_path: str
    manifest_mtime_ns: int | None
    manifest_size: int | None
    lock_mtime_ns: int | None
    lock_size: int | None
    error: str | None


def _hash_through_cache(
    cache: Cache,
    collections_dir: Path,
    parsed: Sequence[_Parsed],
    problems: list[IndexProblem],
    hasher: Hasher,
    *,
    remove_missing: bool,
) -> None:
    """Hash ``parsed`` reusing the hashes stored in ``cache``, then bring the cache up to
    date (deleting the rows of collections gone from ``collections_dir`` if ``remove_missing``).
    A cache error is appended to ``problems``; a cache that cannot be read is not written."""
    try:
        stored = _read_stored(cache, [p.source_key for p in parsed])
        sources = _read_sources(cache)
    except CacheReadError as exc:
        problems.append(_cache_problem(cache, f"cannot read the cache: {exc}"))
        _hash_all(parsed, {}, hasher)
        return
    _hash_all(parsed, stored, hasher)
    stored_counts = Counter(key for key, _artifact in stored)
    unchanged = {
        item.source_key
        for item in parsed
        if _unchanged(item, stored, stored_counts[item.source_key], sources.get(item.source_key))
    }
    home_key = str(collections_dir.resolve())
    present = {item.source_key for item in parsed}
    gone = any(key not in present and str(Path(key).parent) == home_key for key in sources)
    if len(unchanged) == len(parsed) and not (gone and remove_missing):
        return  # a warm start with nothing changed writes nothing (and takes no write lock)
    from sqlalchemy.exc import SQLAlchemyError

    from skillmeat_ls.index.writes import write_cache

    try:
        write_cache(cache.engine, collections_dir, parsed, unchanged, remove_missing=remove_missing)
    except SQLAlchemyError as exc:
        problems.append(_cache_problem(cache, f"cannot update the cache: {exc}"))


def _read_snapshots(cache: Cache, keys: Sequence[str]) -> dict[str, str]:
    """The stored snapshots of the collections at ``keys`` (none if the cache cannot be read:
    :func:`_hash_through_cache` reports that)."""
    try:
        return dict(
            cache.rows_in(
                "SELECT root_path, content FROM collection_snapshots WHERE root_path IN ({marks})",
                keys,
            )
        )
    except CacheReadError:
        return {}


def _read_sources(cache: Cache) -> dict[str, _Source]:
    """Every ``collection_sources`` row, by root path."""
    rows = cache.rows(
        "SELECT collection_id, root_path, manifest_mtime_ns, manifest_size, lock_mtime_ns,"
        " lock_size, error FROM collection_sources"
    )
    return {row[1]: _Source(*row) for row in rows}


def _unchanged(
    item: _Parsed, stored: dict[tuple[str, str], _Stored], count: int, source: _Source | None
) -> bool:
    """Whether the cache already holds exactly what ``item`` would write: its manifest and lock
    unchanged (so its entries and groups, which are read from them alone), the same problems,
    the same artifacts (``count`` are stored for it), every hash reused, and its reading restored
    from the stored snapshot."""
    if not item.restored or source is None or source.error != _problem_summary(item.problems):
        return False
    if not item.ok:
        return True
    if (
        source.manifest_mtime_ns,
        source.manifest_size,
        source.lock_mtime_ns,
        source.lock_size,
    ) != (
        item.manifest_stat.mtime_ns,
        item.manifest_stat.size,
        item.lock_stat.mtime_ns,
        item.lock_stat.size,
    ):
        return False
    key = item.source_key
    if count != len(item.entries):
        return False
    for entry in item.entries:
        previous = stored.get((key, entry.artifact_id))
        if previous is None or (previous.rel_path, previous.fingerprint, previous.content_hash) != (
            entry.rel_path,
            entry.fingerprint,
            entry.content_hash,
        ):
            return False
    return True


def _cache_problem(cache: Cache, message: str) -> IndexProblem:
    return IndexProblem(cache.status.path, message)


def _read_stored(cache: Cache, keys: Sequence[str]) -> dict[tuple[str, str], _Stored]:
    """Stored hashes of the artifacts of the collections at ``keys``: ``(key, artifact_id)``."""
    return {
        (root_path, artifact_id): _Stored(rel_path, fingerprint, digest)
        for root_path, artifact_id, rel_path, fingerprint, digest in cache.rows_in(
            "SELECT s.root_path, a.artifact_id, a.rel_path, a.fingerprint, a.content_hash"
            " FROM indexed_artifacts a JOIN collection_sources s"
            " ON s.collection_id = a.collection_id WHERE s.root_path IN ({marks})",
            keys,
        )
    }


def _problem_summary(problems: Iterable[IndexProblem]) -> str | None:
    text = "\n".join(str(problem) for problem in problems)
    return text or None
