"""The ``copy_hashes`` table: deployed copies' content hashes, kept between runs.

:class:`StoredCopies` is the :class:`~skillmeat_ls.workspace.CopyHashes` a
:class:`~skillmeat_ls.workspace.DiskProbe` gets when there is a cache: it reads the rows of the
profile roots the probe looks into (one query for many roots, with the ``sqlite3`` module, so a
warm start loads no SQLAlchemy) and writes back through SQLAlchemy, in one transaction, what the
probe hashed and the folders a file event invalidated. The rows are derived data: a cache that
cannot be read or written costs re-hashing, never a wrong answer, so errors are logged and
otherwise ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from skillmeat_ls.cache.store import Cache, CacheReadError, in_chunks, under
from skillmeat_ls.workspace import KnownCopy

log = logging.getLogger(__name__)


class StoredCopies:
    """Copy hashes in ``cache``."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def known(self, roots: Iterable[str]) -> dict[str, KnownCopy]:
        """The stored copies under the real profile roots ``roots``, by real path."""
        found: dict[str, KnownCopy] = {}
        try:
            for path, root, fingerprint, digest, leaves in self.cache.rows_in(
                "SELECT path, root, fingerprint, content_hash, leaves FROM copy_hashes"
                " WHERE root IN ({marks})",
                roots,
            ):
                found[path] = KnownCopy(root, fingerprint, digest, leaves)
        except CacheReadError as exc:
            log.warning("cannot read the stored copy hashes: %s", exc)
            return {}
        return found

    def roots_under(self, folder: str) -> set[str]:
        """The real profile roots below ``folder`` with stored copies."""
        try:
            return {
                root
                for (root,) in self.cache.rows(
                    "SELECT DISTINCT root FROM copy_hashes WHERE root > ? AND root < ?",
                    under(folder),
                )
            }
        except CacheReadError as exc:
            log.warning("cannot read the stored copy hashes: %s", exc)
            return set()

    def save(self, learned: Mapping[str, KnownCopy], forgotten: Iterable[str] = ()) -> None:
        """Delete the rows at or under each path of ``forgotten``, then store ``learned``."""
        prefixes = sorted(set(forgotten))
        if not learned and not prefixes:
            return
        from sqlalchemy import delete, or_
        from sqlalchemy.dialects.sqlite import insert
        from sqlalchemy.exc import SQLAlchemyError

        from skillmeat_ls.cache.models import CopyHash as row

        try:
            with self.cache.engine.begin() as conn:
                for chunk in in_chunks(prefixes):
                    at_or_under = []
                    for prefix in chunk:
                        low, high = under(prefix)
                        at_or_under.append(
                            or_(row.path == prefix, (row.path > low) & (row.path < high))
                        )
                    conn.execute(delete(row).where(or_(*at_or_under)))
                if learned:
                    statement = insert(row)
                    conn.execute(
                        statement.on_conflict_do_update(
                            index_elements=[row.path],
                            set_={
                                "root": statement.excluded.root,
                                "fingerprint": statement.excluded.fingerprint,
                                "content_hash": statement.excluded.content_hash,
                                "leaves": statement.excluded.leaves,
                                "hashed_at": statement.excluded.hashed_at,
                            },
                        ),
                        [
                            {
                                "path": path,
                                "root": copy.root,
                                "fingerprint": copy.fingerprint,
                                "content_hash": copy.content_hash,
                                "leaves": copy.leaves,
                            }
                            for path, copy in learned.items()
                        ],
                    )
        except SQLAlchemyError as exc:
            log.warning("cannot store the copy hashes: %s", exc)
