"""SkillMeat's advisory write locks, taken by every write skillmeat-ls makes next to SkillMeat.

SkillMeat 0.74.0 (``core/write_transaction.py``) serialises writes to a destination ``D`` (a
deployment file, a deployed skill folder, a command file) with ``flock(LOCK_EX)`` on the sibling
``.<D.name>.skillmeat-lock``, created 0644 and never deleted, polling every 50 ms for at most
10 s. :func:`destination_lock` takes the very same lock (``filelock``'s ``UnixFileLock`` is
``flock`` on that file, left in place on release), so a ``skillmeat deploy`` and a skillmeat-ls
deploy running at once take turns. The wait is bounded by ``$SKILLMEAT_LS_LOCK_TIMEOUT``
(seconds, default 10, as SkillMeat's); past it :class:`LockTimeout` names the destination.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import Timeout

LOCK_SUFFIX = ".skillmeat-lock"
DEFAULT_TIMEOUT = 10.0
TIMEOUT_ENV = "SKILLMEAT_LS_LOCK_TIMEOUT"


class LockTimeout(Exception):
    """Another process (SkillMeat or skillmeat-ls) holds a destination's lock for too long."""


def lock_path(destination: Path) -> Path:
    """``.<name>.skillmeat-lock`` beside ``destination``, as SkillMeat names it."""
    return destination.parent / f".{destination.name}{LOCK_SUFFIX}"


def lock_timeout() -> float:
    try:
        return max(float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT)), 0.0)
    except ValueError:
        return DEFAULT_TIMEOUT


@contextmanager
def destination_lock(destination: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold SkillMeat's lock for ``destination`` (its folder must exist). No-op where ``flock``
    does not exist (Windows), as in SkillMeat."""
    if sys.platform == "win32":  # pragma: no cover - SkillMeat takes no lock there either
        yield
        return
    from filelock import UnixFileLock

    wait = lock_timeout() if timeout is None else timeout
    lock = UnixFileLock(str(lock_path(destination)), timeout=wait, mode=0o644)
    try:
        lock.acquire()
    except Timeout:
        raise LockTimeout(
            f"{destination} is locked by another skillmeat process (waited {wait:g} s)"
        ) from None
    try:
        yield
    finally:
        lock.release()
