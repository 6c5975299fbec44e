"""Naming the copy of a database file kept beside it: ``NAME.LABEL-<timestamp>``.

Shared by the cache, which moves a corrupt file aside (``cache.db.corrupt-…``), and by doctor,
which keeps a backup of SkillMeat's before a repair (``cache.db.bak-…``). A module of its own,
standard library only: doctor needs it without the SQLAlchemy that :mod:`.store` imports.
"""

from __future__ import annotations

import time
from pathlib import Path


def timestamped_sibling(path: Path, label: str) -> Path:
    """A name beside ``path`` for a kept copy of it, ``NAME.LABEL-20260131T120000`` (with
    ``-2``, ``-3``… when taken), that no file has yet.

    Only the main file's name is checked: its ``-wal``/``-shm`` go beside the copy under that
    same name plus their suffix.
    """
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.{label}-{stamp}")
    serial = 1
    while target.exists():
        serial += 1
        target = path.with_name(f"{path.name}.{label}-{stamp}-{serial}")
    return target
