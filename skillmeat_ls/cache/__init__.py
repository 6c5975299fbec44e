"""The SQLite cache: models, Alembic history, and opening it at head (:func:`initialize_cache`).

The names below are loaded on first use, so importing :mod:`skillmeat_ls.cache.revisions` (or
starting the language server) does not import SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skillmeat_ls.cache.store import Cache, CacheState, CacheStatus, initialize_cache

__all__ = ["Cache", "CacheState", "CacheStatus", "initialize_cache"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from skillmeat_ls.cache import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
