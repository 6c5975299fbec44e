"""The seam between a request and the file system: :class:`FileOps`.

Every change a request (deploy, update, undeploy, keep-local, pull) or a recovery makes on disk
goes through one ``FileOps`` object: creating a folder, creating the staging folder, copying a
file while hashing it, recreating a symlink, moving a path into the staging folder or back,
atomically replacing the deployment file or a collection's ``collection.lock``, writing and
removing the journal, and removing what the request created. Reads (planning, hashing a project
copy, re-reading the deployment file) do not: they change nothing. Nor do SkillMeat's advisory
locks (:mod:`skillmeat_ls.locks`), which only order this request against other writers.

:func:`file_ops_from_environment` is the ``FileOps`` of a command-line process: the plain one,
or, for crash tests only, one that stops the process at a chosen step (see there).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol

from skillmeat_ls.locks import LOCK_SUFFIX
from skillmeat_ls.writer import atomic_write

#: Bytes read and written at a time when a file is copied or hashed.
CHUNK = 1 << 16

#: How :meth:`FileOps.copy_file` opens the file it copies, and the new copy (``xb``).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
)
#: Where ``copystat``'s steps for a file without extended attributes (its times, its permission
#: bits; there are no file flags) can be taken on the open files rather than by path.
_STAT_ON_DESCRIPTORS = sys.platform.startswith("linux")

#: The steps of a request, by method name (what the pause seam counts).
STEPS = (
    "make_folder",
    "make_temporary_folder",
    "copy_file",
    "copy_stat",
    "make_symlink",
    "move",
    "write_text",
    "write_lock",
    "write_journal",
    "remove_file",
    "remove_tree",
    "remove_if_only_locks",
)

#: Test seam: ``STEP:N`` stops the command-line process (``SIGSTOP``) right after its N-th STEP.
PAUSE_ENV = "SKILLMEAT_LS_PAUSE_AT"


class Hasher(Protocol):
    """What :meth:`FileOps.copy_file` feeds the copied bytes to (a ``hashlib`` object)."""

    def update(self, data: bytes | memoryview, /) -> None: ...


class FileOps:
    """The file-system operations of a request, one method per kind of step.

    Passed as ``file_ops=`` to :func:`~skillmeat_ls.deploy.deploy`,
    :func:`~skillmeat_ls.deploy.update`, :func:`~skillmeat_ls.deploy.update_many`,
    :func:`~skillmeat_ls.deploy.undeploy`, :func:`~skillmeat_ls.deploy.keep_local`,
    :func:`~skillmeat_ls.deploy.pull`, :func:`~skillmeat_ls.deploy.status` and
    :func:`~skillmeat_ls.deploy.recover`; without it, this class, which does the real thing.
    This is the one way to observe or intercept the steps of a request's transaction: tests
    subclass it and raise from the chosen step to check that the request rolls back and leaves
    the files and the record as they were. A subclass must keep each method's contract (an
    override that does not raise must have done what the method says). Paths are ``Path``
    objects, except the folders, files and links inside a copy being made
    (:func:`~.copyplan.copy_planned`), which are named by strings.

    Two seams are for tests and benchmarks only, never for users: :attr:`journalled` (a
    benchmark subclass sets it to False to measure what the journal costs; a request without
    its journal is not recovered after a crash), and the environment variable
    ``SKILLMEAT_LS_PAUSE_AT=STEP:N`` read by :func:`file_ops_from_environment`, which makes the
    command line stop itself with ``SIGSTOP`` right after the N-th call of the method STEP (one of
    :data:`STEPS`, e.g. ``move:1``: the first old copy has just been moved into staging), so that
    a test can wait for the stopped state and ``SIGKILL`` the process at exactly that point.
    """

    #: Whether requests write their journal before the first change to a live path.
    journalled: ClassVar[bool] = True
    #: How many threads copy a request's artifacts into its staging folder at once where the
    #: disk is slow (:func:`~.copyplan.copy_all`); the methods are then called from all of them.
    #: One per core, up to eight.
    copy_workers: ClassVar[int] = min(os.cpu_count() or 1, 8)
    #: Seconds per entry (file or folder) made, on average over a request's first copies, from
    #: which the disk counts as slow. Copying on a page-cached or memory file system takes
    #: 20-60 µs an entry, and there threads only take turns holding the interpreter; on a disk
    #: busy with other work it takes 300-800 µs, mostly waiting, and the waits of several
    #: threads overlap (``benchmarks/deploy.py``).
    slow_entry_s: ClassVar[float] = 150e-6

    def make_folder(self, path: str | Path) -> None:
        """Create the folder ``path`` (its parent exists; ``path`` must not)."""
        os.mkdir(path)

    def make_temporary_folder(self, parent: Path, prefix: str) -> Path:
        """Create a new folder with a unique name starting with ``prefix`` inside ``parent``."""
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))

    def copy_file(self, source: str, destination: str | Path, hasher: Hasher) -> None:
        """``shutil.copy2`` of one file to a new ``destination`` (bytes, then what ``copystat``
        copies: times, extended attributes, permission bits), feeding the bytes written to
        ``hasher`` on the way: the copy is hashed without being read back."""
        reader = os.open(source, _READ_FLAGS)
        try:
            writer = os.open(destination, _CREATE_FLAGS, 0o666)
            try:
                while data := os.read(reader, CHUNK):
                    hasher.update(data)
                    _write_all(writer, data)
                copied = _STAT_ON_DESCRIPTORS and _stat_copied(reader, writer)
            finally:
                os.close(writer)
        finally:
            os.close(reader)
        if not copied:
            shutil.copystat(source, destination)

    def copy_stat(self, source: str, destination: str | Path) -> None:
        """Give the folder ``destination`` the permission bits and times of ``source``
        (``copystat``), once what it holds is in (:meth:`copy_file` does the same for a file)."""
        if not (_STAT_ON_DESCRIPTORS and _stat_copied(source, destination)):
            shutil.copystat(source, destination)

    def make_symlink(self, link_text: str, path: str | Path) -> None:
        """Create the symlink ``path`` holding ``link_text`` as it is (``copytree(symlinks=True)``
        of a pulled copy)."""
        os.symlink(link_text, path)

    def move(self, source: Path, destination: Path) -> None:
        """Rename ``source`` to ``destination`` in one step (``os.replace``), within one root."""
        os.replace(source, destination)

    def write_text(self, path: Path, text: str) -> None:
        """Replace the deployment file ``path`` with ``text`` atomically, synced
        (:func:`skillmeat_ls.writer.atomic_write`)."""
        atomic_write(path, text)

    def write_lock(self, path: Path, text: str, mode: int) -> None:
        """Replace a collection's ``collection.lock`` ``path`` with ``text`` atomically, synced,
        with the permission bits ``mode`` (SkillMeat's writer leaves it ``0600``)."""
        atomic_write(path, text, mode=mode)

    def write_journal(self, path: Path, text: str) -> None:
        """Write the journal ``path`` atomically; the file and its folder are synced before this
        returns, so the journal is on disk before the first change it announces."""
        atomic_write(path, text)

    def remove_file(self, path: Path) -> None:
        """Remove the file ``path`` (the journal); nothing to do when it is already gone."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def remove_tree(self, path: Path) -> None:
        """Remove ``path`` and everything in it, as far as possible (errors are ignored)."""
        shutil.rmtree(path, ignore_errors=True)

    def remove_if_only_locks(self, folder: Path) -> None:
        """Remove a folder the request created, if it holds nothing but the lock files the
        request took there (a folder with anything else in it is left as it is)."""
        with contextlib.suppress(OSError):
            entries = list(os.scandir(folder))
            if all(entry.name.endswith(LOCK_SUFFIX) for entry in entries):
                for entry in entries:
                    os.unlink(entry.path)
                os.rmdir(folder)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def _stat_copied(source: int | str, destination: int | str | Path) -> bool:
    """Do what ``shutil.copystat`` does from ``source`` to ``destination`` (open files, or
    paths followed as it follows them) when ``source`` has no extended attributes: its times,
    then its permission bits; False, having done nothing, when it has some, or listing them
    failed (``copystat`` itself is used then)."""
    try:
        if os.listxattr(source):
            return False
    except OSError as exc:
        if exc.errno not in (errno.ENOTSUP, errno.ENODATA, errno.EINVAL):  # as copystat's
            return False
    status = os.stat(source)
    os.utime(destination, ns=(status.st_atime_ns, status.st_mtime_ns))
    os.chmod(destination, stat.S_IMODE(status.st_mode))
    return True


def file_ops_from_environment() -> FileOps:
    """The ``FileOps`` of a command-line process: a plain :class:`FileOps`, unless the crash-test
    seam ``$SKILLMEAT_LS_PAUSE_AT`` (``STEP:N``, see :class:`FileOps`) is set; then the same,
    except that the process stops itself right after the N-th STEP."""
    file_ops = FileOps()
    value = os.environ.get(PAUSE_ENV)
    if not value:
        return file_ops
    step, _, count = value.partition(":")
    if step not in STEPS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"${PAUSE_ENV}={value!r}: expected STEP:N, STEP one of {', '.join(STEPS)}")
    step_method: Callable[..., Any] = getattr(file_ops, step)
    calls = 0
    counting = threading.Lock()  # copies run on several threads

    def paused(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        result = step_method(*args, **kwargs)
        with counting:
            calls += 1
            reached = calls == int(count)
        if reached:
            os.kill(os.getpid(), signal.SIGSTOP)
        return result

    setattr(file_ops, step, paused)
    return file_ops
