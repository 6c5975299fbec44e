"""Alembic environment for the skillmeat-ls cache (SQLite).

Two ways in:

* from code (:mod:`skillmeat_ls.cache.store`): the caller passes an open connection in
  ``config.attributes["connection"]``;
* from the ``alembic`` command with the root ``alembic.ini``: the database is ``-x cache=PATH``,
  else ``$SKILLMEAT_LS_CACHE``, else the default cache under the SkillMeat home.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from skillmeat_ls.cache.engine import make_engine
from skillmeat_ls.cache.models import Base
from skillmeat_ls.locations import resolve_cache_path

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    cache = context.get_x_argument(as_dictionary=True).get("cache")
    engine = make_engine(resolve_cache_path(cache=cache))
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("The skillmeat-ls cache migrations run online only (SQLite).")
run_migrations_online()
