"""Where a deploy does a library's work itself (for speed), it gives what the library gives:
``shutil.copy2``/``copystat`` for copies, ``fnmatch`` for the skip list, ``os.path`` for the paths
a plan checks."""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
import shutil
import stat
import sys
import time
from pathlib import Path

import pytest

from skillmeat_ls.deploy import SKIP_PATTERNS, FileOps
from skillmeat_ls.deploy.copyplan import _skipped_name
from skillmeat_ls.deploy.paths import RealPaths, checked_target, checked_target_present
from skillmeat_ls.deploy.results import Refused

# --- copies --------------------------------------------------------------------------------------


def copied_stat(path: Path) -> tuple[int, int, int, bytes]:
    status = os.stat(path)
    return status.st_mode, status.st_mtime_ns, status.st_atime_ns, path.read_bytes()


def xattrs(path: Path) -> dict[str, bytes]:
    return {name: os.getxattr(path, name) for name in os.listxattr(path)}


@pytest.mark.parametrize("mode", [0o644, 0o755, 0o600, 0o4755])
def test_a_copied_file_is_copy2s_copy_and_hashed_on_the_way(tmp_path: Path, mode: int) -> None:
    source = tmp_path / "source.py"
    data = os.urandom(200_000)  # several chunks
    source.write_bytes(data)
    os.chmod(source, mode)
    # An access time after the file's change times, which reading it keeps (relatime).
    os.utime(source, ns=(time.time_ns() + 60_000_000_001, 1_700_000_000_987_654_321))
    hasher = hashlib.sha256()
    FileOps().copy_file(str(source), str(tmp_path / "ours.py"), hasher)
    shutil.copy2(source, tmp_path / "theirs.py")
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert copied_stat(tmp_path / "ours.py") == copied_stat(tmp_path / "theirs.py")
    with pytest.raises(FileExistsError):  # only ever to a new file
        FileOps().copy_file(str(source), tmp_path / "ours.py", hasher)


@pytest.mark.skipif(not hasattr(os, "setxattr"), reason="extended attributes")
def test_extended_attributes_are_copied_as_copystat_copies_them(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.write_text("text\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    try:
        os.setxattr(source, "user.skillmeat", b"one")
        os.setxattr(folder, "user.skillmeat", b"two")
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EPERM):
            pytest.skip("no user extended attributes here")
        raise
    FileOps().copy_file(str(source), tmp_path / "copy", hashlib.sha256())
    assert xattrs(tmp_path / "copy") == {"user.skillmeat": b"one"}
    assert copied_stat(tmp_path / "copy")[:3] == copied_stat(source)[:3]
    (tmp_path / "made").mkdir()
    FileOps().copy_stat(str(folder), str(tmp_path / "made"))
    assert xattrs(tmp_path / "made") == {"user.skillmeat": b"two"}


def test_folder_times_and_bits_are_copystats(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    os.chmod(folder, 0o750)
    os.utime(folder, ns=(1_500_000_000_000_000_001, 1_500_000_000_000_000_002))
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    FileOps().copy_stat(str(folder), tmp_path / "ours")
    shutil.copystat(folder, tmp_path / "theirs")
    ours, theirs = os.stat(tmp_path / "ours"), os.stat(tmp_path / "theirs")
    assert (ours.st_mode, ours.st_mtime_ns, ours.st_atime_ns) == (
        theirs.st_mode,
        theirs.st_mtime_ns,
        theirs.st_atime_ns,
    )
    with pytest.raises(FileNotFoundError):
        FileOps().copy_stat(str(tmp_path / "missing"), tmp_path / "ours")


# --- planning ------------------------------------------------------------------------------------


def test_the_skip_list_matches_as_fnmatch_matches() -> None:
    names = [p for p in SKIP_PATTERNS] + [p.replace("*", "x") for p in SKIP_PATTERNS]
    names += ["git", ".GIT", "a.pyc.txt", ".pyc", "pyc", "x.egg-info", "egg-info", "Venv"]
    names += ["thumbs.db", "node_modules2", "", "a.b.pyo", "SKILL.md", "__pycache__x"]
    for name in names:
        expected = any(fnmatch.fnmatchcase(name, pattern) for pattern in SKIP_PATTERNS)
        assert _skipped_name(name) == expected, name


def test_a_checked_target_says_whether_something_is_there(tmp_path: Path) -> None:
    root = tmp_path / ".claude"
    (root / "skills" / "review").mkdir(parents=True)
    (root / "commands").mkdir()
    (root / "commands" / "inner.md").symlink_to("../skills/review")
    (root / "agents").write_text("a file\n")
    (root / "hooks").symlink_to(tmp_path)
    (root / "mcp").mkdir()
    (root / "mcp" / "out").symlink_to(tmp_path)
    assert checked_target_present(root, "skills/review") == (root / "skills/review", True)
    assert checked_target_present(root, "skills/other") == (root / "skills/other", False)
    assert checked_target_present(root, "missing/a/b") == (root / "missing/a/b", False)
    assert checked_target_present(root, "commands/inner.md") == (root / "commands/inner.md", True)
    assert checked_target(root, "skills/review") == root / "skills/review"
    for rel, message in [
        ("agents/helper.md", ".claude/agents is a file, not a folder"),
        ("hooks/pre.md", ".claude/hooks is a symlink: refused"),
        ("mcp/out", ".claude/mcp/out is a symlink to "),
    ]:
        with pytest.raises(Refused, match=message):
            checked_target_present(root, rel)


def test_real_paths_resolve_as_realpath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "file").write_text("x")
    (tmp_path / "link").symlink_to("real")
    (tmp_path / "real" / "to-file").symlink_to("file")
    monkeypatch.chdir(tmp_path)
    real_paths = RealPaths()
    for path in [
        tmp_path / "link" / "file",
        tmp_path / "real" / "to-file",
        tmp_path / "link" / "missing",
        tmp_path / "link",
        Path("file-here"),
        Path("."),
        tmp_path / "real" / "..",
    ]:
        resolved, mode = real_paths.resolved(path)
        assert resolved == os.path.realpath(path) == real_paths.of(path), path
        if mode is not None:
            assert mode == os.stat(path).st_mode and not stat.S_ISLNK(os.lstat(path).st_mode)
    assert (
        real_paths.resolved(tmp_path / "real" / "file")[1]
        == os.stat(tmp_path / "real/file").st_mode
    )
    assert real_paths.resolved(tmp_path / "real" / "to-file")[1] is None  # a symlink: stat it


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_a_file_copied_under_a_strict_umask_keeps_its_bits(tmp_path: Path) -> None:
    source = tmp_path / "tool.sh"
    source.write_text("#!/bin/sh\n")
    os.chmod(source, 0o775)
    previous = os.umask(0o077)
    try:
        FileOps().copy_file(str(source), tmp_path / "copy.sh", hashlib.sha256())
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "copy.sh").st_mode) == 0o775
