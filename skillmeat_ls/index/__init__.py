"""The collections index: what the SkillMeat home holds, read from disk and kept in the cache.

This package reads ``<home>/collections/<name>/collection.toml`` and ``collection.lock``, hashes
each artifact's copy on disk (:func:`skillmeat_ls.hashing.content_hash`), and mirrors both in the
cache tables. Its public names are the ones below; this module owns the entry points
(:func:`open_index`, :func:`load_collections`) and the rest lives in:

* :mod:`~skillmeat_ls.index.model`: the public data (:class:`CollectionIndex`, :class:`Collection`,
  :class:`CollectionArtifact`, :class:`Group`, :class:`IndexProblem`) and the file names;
* :mod:`~skillmeat_ls.index.manifest`: finding the collections and reading manifests and locks;
* :mod:`~skillmeat_ls.index.hashes`: hashing artifacts, reusing stored hashes when nothing changed;
* :mod:`~skillmeat_ls.index.stored`: what the cache tables hold (read with ``sqlite3``), and
  :mod:`~skillmeat_ls.index.writes`: writing them (the only module that imports SQLAlchemy,
  imported only when something changed).

Bad input never raises. Each problem becomes an :class:`IndexProblem` naming the file (with the
1-based line and column when they are known) and the thing skipped: a broken manifest skips its
collection, a bad artifact entry skips that artifact, a broken lock leaves the lock hashes ``None``
(the details are in :mod:`~skillmeat_ls.index.manifest`); an artifact whose files are missing or
unreadable is reported and its ``content_hash`` is ``None``; a cache that cannot be read or
written is reported and the index is built without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index.hashes import Hasher, _hash_all
from skillmeat_ls.index.manifest import _discover, _parse_collection, _source_key
from skillmeat_ls.index.model import (
    COLLECTIONS_DIR,
    LOCK_NAME,
    MANIFEST_NAME,
    Collection,
    CollectionArtifact,
    CollectionIndex,
    Group,
    IndexProblem,
)

if TYPE_CHECKING:
    from skillmeat_ls.cache.store import Cache

__all__ = [
    "COLLECTIONS_DIR",
    "LOCK_NAME",
    "MANIFEST_NAME",
    "Collection",
    "CollectionArtifact",
    "CollectionIndex",
    "Group",
    "Hasher",
    "IndexProblem",
    "load_collections",
    "open_index",
]


def open_index(
    home: Path, cache_path: Path | None, *, hasher: Hasher = content_hash
) -> tuple[Cache | None, CollectionIndex]:
    """Open the cache at ``cache_path`` (migrated to head; None: no cache) and index ``home``'s
    collections through it: how the ``check`` job gets its index (the server opens its cache
    first, to serve the copy hashes, then calls :func:`load_collections`). The
    cache stays open for the caller (which closes it); its status says whether it is usable.
    ``hasher`` is passed on to :func:`load_collections`."""
    from skillmeat_ls.cache import initialize_cache

    cache = initialize_cache(cache_path) if cache_path is not None else None
    try:
        return cache, load_collections(home, cache, hasher=hasher)
    except BaseException:
        if cache is not None:
            cache.close()
        raise


def load_collections(
    home: Path, cache: Cache | None = None, *, hasher: Hasher = content_hash
) -> CollectionIndex:
    """Index the collections of the SkillMeat ``home``; with ``cache``, through it.

    Never raises for bad input (see the package doc for how problems are reported). A missing home
    or ``collections`` directory is an empty index.

    ``hasher`` computes the content hash of each artifact the index has to (re-)hash, one call
    per artifact path; it is the seam for counting or injecting hash computations. An artifact
    whose hash the cache already holds (same fingerprint and path) costs no call.
    """
    home = Path(home)
    collections_dir = home / COLLECTIONS_DIR
    problems: list[IndexProblem] = []
    discovered = _discover(collections_dir, problems)
    snapshots: dict[str, str] = {}
    if cache is not None:
        from skillmeat_ls.index.stored import _read_snapshots

        snapshots = _read_snapshots(cache, [_source_key(root) for _name, root in discovered])
    parsed = [
        _parse_collection(name, root, snapshots.get(_source_key(root)))
        for name, root in discovered
    ]

    if cache is None:
        _hash_all(parsed, {}, hasher)
    else:
        from skillmeat_ls.index.stored import _hash_through_cache

        # A collections directory that could not be listed removes nothing from the cache.
        listed = not any(problem.path == collections_dir for problem in problems)
        _hash_through_cache(cache, collections_dir, parsed, problems, hasher, remove_missing=listed)

    collections: dict[str, Collection] = {}
    for item in parsed:
        problems.extend(item.problems)
        if item.ok:
            collections[item.name] = item.to_collection()
    return CollectionIndex(home=home, collections=collections, problems=tuple(problems))
