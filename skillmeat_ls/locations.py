"""Where things live: the SkillMeat home and the cache database.

Precedence, most specific first (SPEC §2): an explicit value (CLI flag or LSP setting), then the
environment (``$SKILLMEAT_HOME``, ``$SKILLMEAT_LS_CACHE``), then the defaults ``~/.skillmeat`` and
``<home>/cache/skillmeat-ls.db``. SkillMeat itself only knows ``~/.skillmeat``; the overrides exist
so that tests and examples never touch a user's real home.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_FILE_NAME = "skillmeat-ls.db"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    if home:
        return Path(home).expanduser()
    env = os.environ.get("SKILLMEAT_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".skillmeat"


def resolve_cache_path(
    cache: str | os.PathLike[str] | None = None, home: str | os.PathLike[str] | None = None
) -> Path:
    if cache:
        return Path(cache).expanduser()
    env = os.environ.get("SKILLMEAT_LS_CACHE")
    if env:
        return Path(env).expanduser()
    return resolve_home(home) / "cache" / CACHE_FILE_NAME
