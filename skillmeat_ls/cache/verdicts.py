"""The ``file_verdicts`` table: each deployment file's last diagnostics, kept between runs.

Read with the ``sqlite3`` module (:meth:`~skillmeat_ls.cache.store.Cache.rows`), written through
SQLAlchemy in one transaction; what the rows mean is :mod:`skillmeat_ls.verdicts`'s. Like every
table here they are derived data: an error costs a re-analysis, so it is logged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from skillmeat_ls.cache.store import Cache, CacheReadError

log = logging.getLogger(__name__)

def stored_verdicts(cache: Cache, paths: Iterable[str]) -> dict[str, str]:
    """The stored verdicts (JSON) of ``paths``, by path."""
    try:
        return dict(
            cache.rows_in("SELECT path, content FROM file_verdicts WHERE path IN ({marks})", paths)
        )
    except CacheReadError as exc:
        log.warning("cannot read the stored verdicts: %s", exc)
        return {}


def store_verdicts(cache: Cache, verdicts: Mapping[str, str]) -> None:
    """Store ``verdicts`` (path -> JSON), replacing what each path had."""
    if not verdicts:
        return
    from sqlalchemy.dialects.sqlite import insert
    from sqlalchemy.exc import SQLAlchemyError

    from skillmeat_ls.cache.models import FileVerdict

    statement = insert(FileVerdict)
    try:
        with cache.engine.begin() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[FileVerdict.path],
                    set_={"content": statement.excluded.content},
                ),
                [{"path": path, "content": content} for path, content in verdicts.items()],
            )
    except SQLAlchemyError as exc:
        log.warning("cannot store the verdicts: %s", exc)
