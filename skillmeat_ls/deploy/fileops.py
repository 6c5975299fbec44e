"""The seam between a request and the file system: :class:`FileOps`.

Every change a deploy, update or undeploy makes on disk goes through one ``FileOps`` object:
creating a folder, creating the staging folder, copying a file while hashing it, moving a path
into the staging folder or back, atomically replacing the deployment file, and removing what the
request created. Reads (planning, hashing a project copy, re-reading the deployment file) do not:
they change nothing. Nor do SkillMeat's advisory locks (:mod:`skillmeat_ls.locks`), which only
order this request against other writers.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from skillmeat_ls.locks import LOCK_SUFFIX
from skillmeat_ls.writer import atomic_write

#: Bytes read and written at a time when a file is copied or hashed.
CHUNK = 1 << 16


class Hasher(Protocol):
    """What :meth:`FileOps.copy_file` feeds the copied bytes to (a ``hashlib`` object)."""

    def update(self, data: bytes | memoryview, /) -> None: ...


class FileOps:
    """The file-system operations of a request, one method per kind of step.

    Passed as ``file_ops=`` to :func:`~skillmeat_ls.deploy.deploy`,
    :func:`~skillmeat_ls.deploy.update`, :func:`~skillmeat_ls.deploy.update_many` and
    :func:`~skillmeat_ls.deploy.undeploy`; without it, this class, which does the real thing.
    This is the one way to observe or intercept the steps of a request's transaction: tests
    subclass it and raise from the chosen step to check that the request rolls back and leaves
    the files and the record as they were, and it is where crash safety hooks in, to journal
    each intended step before it is taken. A subclass must keep each method's contract (an
    override that does not raise must have done what the method says).
    """

    def make_folder(self, path: Path) -> None:
        """Create the folder ``path`` (its parent exists; ``path`` must not)."""
        os.mkdir(path)

    def make_temporary_folder(self, parent: Path, prefix: str) -> Path:
        """Create a new folder with a unique name starting with ``prefix`` inside ``parent``."""
        return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))

    def copy_file(self, source: str, destination: Path, hasher: Hasher) -> None:
        """``shutil.copy2`` of one file to a new ``destination`` (bytes, then permission bits and
        times), feeding the bytes written to ``hasher`` on the way: the copy is hashed without
        being read back."""
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        with open(source, "rb", buffering=0) as reader, open(destination, "xb") as writer:
            while count := reader.readinto(buffer):
                chunk = view[:count]
                hasher.update(chunk)
                writer.write(chunk)
        self.copy_stat(source, destination)

    def copy_stat(self, source: str, destination: Path) -> None:
        """Give ``destination`` the permission bits and times of ``source`` (``copystat``)."""
        shutil.copystat(source, destination)

    def move(self, source: Path, destination: Path) -> None:
        """Rename ``source`` to ``destination`` in one step (``os.replace``), within one root."""
        os.replace(source, destination)

    def write_text(self, path: Path, text: str) -> None:
        """Replace the file ``path`` with ``text`` atomically, synced
        (:func:`skillmeat_ls.writer.atomic_write`)."""
        atomic_write(path, text)

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
