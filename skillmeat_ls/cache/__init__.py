"""The SQLite cache: models, Alembic history, and opening it at head (:func:`initialize_cache`)."""

from skillmeat_ls.cache.store import Cache, CacheState, CacheStatus, initialize_cache

__all__ = ["Cache", "CacheState", "CacheStatus", "initialize_cache"]
