"""SkillMeat's content hash, byte for byte, and a cheap fingerprint to know when to recompute it.

:func:`content_hash` reproduces ``compute_content_hash`` of ``skillmeat/utils/filesystem.py``
(unchanged from ``bf0f68e3`` to HEAD), which produces the ``content_hash`` of deployment records
and ``collection.lock``:

* SHA-256, lowercase hex;
* a file: its raw bytes (no decoding, no newline normalisation; the name is not included);
* a directory: one hasher fed, for every regular file below it, the relative path
  (``str(rel).encode("utf-8")``, ``/``-separated) and then the file's bytes, with nothing between
  entries. Files come in the order of ``sorted(path.rglob("*"))``: Python compares ``Path``
  objects component by component, so ``a/x.md`` comes before ``a-b.md`` (a plain string sort of
  the joined paths puts them the other way round and gives another hash);
* ``rglob`` semantics: hidden files count, symlinked directories are not descended, a symlinked
  file contributes its target's bytes, broken links and special files (fifos, sockets) are
  skipped, a directory that cannot be listed contributes nothing, a file that cannot be read
  raises. Empty directories change nothing; an empty tree hashes to :data:`EMPTY_HASH`.

Given ``within`` (a real directory path), :func:`content_hash` also refuses what a copy inside a
profile root must not make the hash depend on: a symlink whose target lies outside ``within``
(it would be followed, or silently left out) and a special file (a FIFO, a socket, a device). It
raises :class:`LeavesRoot` naming the first such entry, so the caller reports it (SM133) instead
of judging drift on bytes from elsewhere. Symlinks that stay inside are hashed as SkillMeat
hashes them.

A depth-first walk that lists each directory with :func:`os.scandir` and visits names in sorted
order yields exactly that order (sorting paths by components is sorting each level by name), at a
fraction of the cost of building and sorting ``Path`` objects.

:func:`tree_fingerprint` reads no file contents: it digests the relative path, size, mtime and
inode of every file the hash would read, so an unchanged fingerprint means the hash need not be
recomputed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

#: SHA-256 of nothing: an empty directory (or one holding only empty directories) and an empty file.
EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# SkillMeat reads 8 KiB at a time; the digest does not depend on the chunk size, and larger reads
# are faster.
_CHUNK_SIZE = 1 << 16


class LeavesRoot(ValueError):
    """A tree holds an entry that leads outside the root it was confined to, or a special file;
    ``rel`` is its path inside the tree, ``reason`` says which."""

    def __init__(self, rel: str, reason: str) -> None:
        super().__init__(f"{rel}: {reason}")
        self.rel = rel
        self.reason = reason


def _confined(rel: str, entry: os.DirEntry[str], within: str) -> None:
    """Raise :class:`LeavesRoot` if ``entry`` is a symlink leading outside ``within`` (a broken
    one included: where it points is not ours to judge) or a special file."""
    if entry.is_symlink():
        target = os.path.realpath(entry.path)
        if not target.startswith(within + os.sep):
            raise LeavesRoot(rel, f"a symlink to {target}, outside the profile root")
        return
    if not (entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False)):
        raise LeavesRoot(rel, "a special file (a FIFO, a socket or a device)")


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    """Whether ``rglob`` descends into ``entry``: a directory that is not a symlink."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _iter_files(
    top: str, within: str | None = None, *, folders: bool = False
) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """``(relative path, entry)`` of every file the hash covers, in ``sorted(rglob)`` order
    (with ``folders``, each folder it descends into too, before its content); with ``within``,
    every entry is first checked by :func:`_confined`."""
    stack: list[tuple[str, Iterator[os.DirEntry[str]]]] = []

    def listing(directory: str) -> Iterator[os.DirEntry[str]]:
        try:
            with os.scandir(directory) as scan:
                entries = list(scan)
        except PermissionError:
            # pathlib's glob silently skips directories it may not list.
            return iter(())
        entries.sort(key=lambda entry: entry.name)
        return iter(entries)

    stack.append(("", listing(top)))
    while stack:
        prefix, entries = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        rel = prefix + entry.name
        if within is not None:
            _confined(rel, entry, within)
        if _is_real_dir(entry):
            if folders:
                yield rel + "/", entry
            stack.append((rel + "/", listing(entry.path)))
        elif entry.is_file():  # follows symlinks; False for broken links, fifos, sockets
            yield rel, entry


def _feed_file(hasher: hashlib._Hash, path: str | os.PathLike[str]) -> None:
    buffer = bytearray(_CHUNK_SIZE)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while True:
            count = handle.readinto(buffer)
            if not count:
                break
            hasher.update(view[:count])


def content_hash(path: Path, *, within: str | None = None) -> str:
    """SkillMeat's ``compute_content_hash`` of a file or directory (see the module doc).

    Raises ``FileNotFoundError`` if ``path`` does not exist (a broken symlink included),
    ``ValueError`` if it is neither a file nor a directory, and ``OSError`` if a file below it
    cannot be read, as SkillMeat does; with ``within``, :class:`LeavesRoot` for an entry that
    leads outside it.
    """
    mode = os.stat(path).st_mode
    hasher = hashlib.sha256()
    if stat.S_ISREG(mode):
        _feed_file(hasher, path)
    elif stat.S_ISDIR(mode):
        for rel, entry in _iter_files(os.fspath(path), within):
            hasher.update(rel.encode("utf-8"))
            _feed_file(hasher, entry.path)
    else:
        raise ValueError(f"Path is neither file nor directory: {path}")
    return hasher.hexdigest()


def tree_fingerprint(path: str | os.PathLike[str]) -> str:
    """A digest of the stat data of everything :func:`content_hash` would read at ``path``.

    For a file: its size, mtime (ns) and inode. For a directory: the relative path, size, mtime
    and inode of every file the hash covers (a symlinked file by its target's stat) and of every
    folder on the way, the top one included, in hash order: a folder's mtime changes whenever an
    entry is added, removed or renamed in it, so a new symlink or FIFO (which the hash refuses
    within a profile root) changes the fingerprint too. No contents are read. Raises
    ``FileNotFoundError`` if ``path`` does not exist.
    """
    st = os.stat(path)
    digest = hashlib.blake2b(digest_size=20)
    if stat.S_ISDIR(st.st_mode):
        kind = "d"
        digest.update(f"/\0{st.st_mtime_ns}\0{st.st_ino}\n".encode())
        for rel, entry in _iter_files(os.fspath(path), folders=True):
            try:
                file_stat = entry.stat()
            except FileNotFoundError:  # removed while walking; the hash would skip it too
                continue
            digest.update(
                f"{rel}\0{file_stat.st_size}\0{file_stat.st_mtime_ns}\0{file_stat.st_ino}\n".encode(
                    "utf-8", "surrogateescape"
                )
            )
    else:
        kind = "f" if stat.S_ISREG(st.st_mode) else "o"
        digest.update(f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}".encode())
    return f"{kind}:{digest.hexdigest()}"
