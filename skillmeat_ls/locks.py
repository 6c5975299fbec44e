"""SkillMeat's advisory write locks, taken by every write skillmeat-ls makes next to SkillMeat.

SkillMeat 0.74.0 (``core/write_transaction.py``) serialises writes to a destination ``D`` (a
deployment file, a deployed skill folder, a command file) with ``flock(LOCK_EX)`` on the sibling
``.<D.name>.skillmeat-lock``, created 0644 and never deleted, polling every 50 ms for at most
10 s. :func:`destination_lock` takes the very same lock, so a ``skillmeat deploy`` and a
skillmeat-ls deploy running at once take turns. The wait is bounded by
``$SKILLMEAT_LS_LOCK_TIMEOUT`` (seconds, default 10, as SkillMeat's); past it
:class:`LockTimeout` names the destination.

A lock nobody holds (the usual case: a deploy takes one per artifact) is taken at once with one
non-blocking ``flock`` on the file, opened (or created 0644) here. Whenever that does not simply
succeed (another process holds the lock, the file or its folder is missing or unusual, ``flock``
fails), the attempt is given up and ``filelock``'s ``UnixFileLock`` takes over: ``flock`` on
the same file, left in place on release, retried every 50 ms until the timeout. Either way the
lock is released by ``flock(LOCK_UN)`` and closing the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from contextlib import AbstractContextManager
from pathlib import Path

from filelock import Timeout, UnixFileLock

if sys.platform != "win32":
    import fcntl

LOCK_SUFFIX = ".skillmeat-lock"
DEFAULT_TIMEOUT = 10.0
TIMEOUT_ENV = "SKILLMEAT_LS_LOCK_TIMEOUT"

#: The permission bits of a lock file skillmeat-ls creates (SkillMeat's ``0o644``).
LOCK_MODE = 0o644
#: How a lock file is opened: as ``filelock`` opens it (never through a symlink, and without
#: waiting for a lease on it), and not inherited by child processes.
_OPEN_FLAGS = (
    os.O_RDWR
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


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


def destination_lock(
    destination: Path, timeout: float | None = None
) -> AbstractContextManager[None]:
    """Hold SkillMeat's lock for ``destination`` (its folder must exist) while in the context.
    No-op where ``flock`` does not exist (Windows), as in SkillMeat."""
    return _DestinationLock(destination, timeout)


class _DestinationLock(AbstractContextManager[None]):
    """:func:`destination_lock`: taken on entry, released on exit."""

    __slots__ = ("_descriptor", "_destination", "_timeout", "_waited")

    def __init__(self, destination: Path, timeout: float | None) -> None:
        self._destination = destination
        self._timeout = timeout
        self._descriptor: int | None = None  # the lock file, when locked at once
        self._waited: UnixFileLock | None = None  # else filelock's lock, acquired

    def __enter__(self) -> None:
        if sys.platform == "win32":  # pragma: no cover - SkillMeat takes no lock there either
            return
        folder, name = os.path.split(os.fspath(self._destination))
        path = os.path.join(folder, f".{name}{LOCK_SUFFIX}")  # as :func:`lock_path` names it
        self._descriptor = _lock_at_once(path)
        if self._descriptor is None:
            self._waited = _wait_for(self._destination, path, self._timeout)

    def __exit__(self, *exc_info: object) -> None:
        descriptor, self._descriptor = self._descriptor, None
        waited, self._waited = self._waited, None
        if descriptor is not None:
            _unlock(descriptor)
        if waited is not None:
            waited.release()


def _lock_at_once(path: str) -> int | None:
    """The open lock file ``path``, locked, when one non-blocking ``flock`` gets the lock and the
    file is the plain one ``filelock`` would lock too (a regular file of this user, with one
    link); None otherwise (nothing is held then: :func:`_wait_for` decides)."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS | os.O_CREAT | os.O_EXCL, LOCK_MODE)
        created = True
    except FileExistsError:
        try:
            descriptor = os.open(path, _OPEN_FLAGS)
        except OSError:
            return None
        created = False
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        status = os.fstat(descriptor)
        if created and stat.S_IMODE(status.st_mode) != LOCK_MODE:
            # the mode asked for, whatever the umask (as ``filelock``'s explicit mode)
            with contextlib.suppress(PermissionError):
                os.fchmod(descriptor, LOCK_MODE)
        if stat.S_ISREG(status.st_mode) and status.st_nlink == 1 and status.st_uid == os.geteuid():
            return descriptor
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    except OSError:
        pass  # held elsewhere, or no flock on this file system: filelock deals with either
    except BaseException:  # interrupted: nothing may stay held
        os.close(descriptor)
        raise
    os.close(descriptor)
    return None


def _unlock(descriptor: int) -> None:
    """Release a lock taken by :func:`_lock_at_once` (for every process sharing the open file,
    as ``filelock`` does), then close its file."""
    try:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _wait_for(destination: Path, path: str, timeout: float | None) -> UnixFileLock:
    """The lock file ``path`` locked by ``filelock``, which waits up to ``timeout`` (default
    :func:`lock_timeout`) for whoever holds it, trying every 50 ms; :class:`LockTimeout` past
    it."""
    wait = lock_timeout() if timeout is None else timeout
    lock = UnixFileLock(path, timeout=wait, mode=LOCK_MODE)
    try:
        lock.acquire()
    except Timeout:
        raise LockTimeout(
            f"{destination} is locked by another skillmeat process (waited {wait:g} s)"
        ) from None
    return lock
