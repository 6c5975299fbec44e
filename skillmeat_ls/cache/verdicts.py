"""The ``file_verdicts`` and ``text_verdicts`` tables: each deployment file's last diagnostics,
and what the text-only rules found in the text it was last opened or saved with, kept between
runs.

Read with the ``sqlite3`` module (:meth:`~skillmeat_ls.cache.store.Cache.rows`), written through
SQLAlchemy in one transaction; what the rows mean is :mod:`skillmeat_ls.verdicts`'s. Like every
table here they are derived data: an error costs a re-analysis, so it is logged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from skillmeat_ls.cache.store import Cache, CacheReadError, in_chunks, under

log = logging.getLogger(__name__)


def stored_verdicts(cache: Cache, paths: Iterable[str]) -> dict[str, str]:
    """The stored verdicts (JSON) of ``paths``, by path."""
    return _read(cache, "file_verdicts", paths)


def store_verdicts(cache: Cache, verdicts: Mapping[str, str]) -> None:
    """Store ``verdicts`` (path -> JSON), replacing what each path had."""
    _write(cache, "file_verdicts", verdicts)


def stored_text_verdict(cache: Cache, path: str) -> str | None:
    """The stored text verdict (JSON) of ``path``, if any."""
    return _read(cache, "text_verdicts", [path]).get(path)


def store_text_verdicts(cache: Cache, verdicts: Mapping[str, str]) -> None:
    """Store text ``verdicts`` (path -> JSON), replacing what each path had."""
    _write(cache, "text_verdicts", verdicts)


_TABLES = ("file_verdicts", "text_verdicts")


def verdict_paths_under(cache: Cache, folder: str) -> set[str]:
    """The files below ``folder`` with a stored verdict of either kind."""
    found: set[str] = set()
    for table in _TABLES:
        try:
            found.update(
                path
                for (path,) in cache.rows(
                    f"SELECT path FROM {table} WHERE path > ? AND path < ?", under(folder)
                )
            )
        except CacheReadError as exc:
            log.warning("cannot read %s: %s", table, exc)
    return found


def forget_verdicts(cache: Cache, paths: Iterable[str]) -> None:
    """Delete both kinds of verdict of ``paths``."""
    gone = sorted(set(paths))
    if not gone:
        return
    from sqlalchemy import delete
    from sqlalchemy.exc import SQLAlchemyError

    from skillmeat_ls.cache.models import FileVerdict, TextVerdict

    try:
        with cache.engine.begin() as conn:
            for model in (FileVerdict, TextVerdict):
                for chunk in in_chunks(gone):
                    conn.execute(delete(model).where(model.path.in_(chunk)))
    except SQLAlchemyError as exc:
        log.warning("cannot forget verdicts: %s", exc)


def _read(cache: Cache, table: str, paths: Iterable[str]) -> dict[str, str]:
    try:
        return dict(
            cache.rows_in(f"SELECT path, content FROM {table} WHERE path IN ({{marks}})", paths)
        )
    except CacheReadError as exc:
        log.warning("cannot read %s: %s", table, exc)
        return {}


def _write(cache: Cache, table: str, rows: Mapping[str, str]) -> None:
    if not rows:
        return
    from sqlalchemy.dialects.sqlite import insert
    from sqlalchemy.exc import SQLAlchemyError

    from skillmeat_ls.cache.models import FileVerdict, TextVerdict

    model: type[FileVerdict | TextVerdict] = (
        TextVerdict if table == "text_verdicts" else FileVerdict
    )
    statement = insert(model)
    try:
        with cache.engine.begin() as conn:
            conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[model.path],
                    set_={"content": statement.excluded.content},
                ),
                [{"path": path, "content": content} for path, content in rows.items()],
            )
    except SQLAlchemyError as exc:
        log.warning("cannot store %s: %s", table, exc)
