"""SkillMeat's destination locks (:mod:`skillmeat_ls.locks`), against other real processes that
take them as SkillMeat 0.74.0 does (``flock`` on ``.<name>.skillmeat-lock``, polled)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_deploy import build_collection

from skillmeat_ls.deploy import deploy
from skillmeat_ls.index import load_collections
from skillmeat_ls.locks import LockTimeout, destination_lock, lock_path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock")

#: A process holding the lock of ``argv[1]`` (blocking until it has it), for ``argv[2]`` seconds.
HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
fcntl.flock(fd, fcntl.LOCK_UN)
print("released", flush=True)
"""

#: A process that tries the lock of ``argv[1]`` once, without waiting: prints free or held.
PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("free")
except BlockingIOError:
    print("held")
"""


def probe(destination: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(lock_path(destination))],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@contextmanager
def held_elsewhere(destination: Path, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holding ``destination``'s lock for ``seconds`` (from when it has it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_path(destination)), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def destination(tmp_path: Path) -> Path:
    (tmp_path / ".claude" / "skills").mkdir(parents=True)
    return tmp_path / ".claude" / "skills" / "review"


def test_a_free_lock_is_taken_at_once_on_a_new_0644_file_left_in_place(destination: Path) -> None:
    previous = os.umask(0o077)  # SkillMeat's mode whatever the umask
    try:
        with destination_lock(destination):
            lock = lock_path(destination)
            assert stat.S_IMODE(lock.stat().st_mode) == 0o644
            assert probe(destination) == "held"
    finally:
        os.umask(previous)
    assert probe(destination) == "free"
    assert lock.read_bytes() == b""  # empty, and never deleted
    inode = lock.stat().st_ino
    lock.chmod(0o600)  # an existing file is used as it is
    with destination_lock(destination):
        assert probe(destination) == "held"
        assert (lock.stat().st_ino, stat.S_IMODE(lock.stat().st_mode)) == (inode, 0o600)
    assert probe(destination) == "free"


def test_a_lock_is_released_when_the_body_raises(destination: Path) -> None:
    with pytest.raises(RuntimeError, match="inside"), destination_lock(destination):
        raise RuntimeError("inside")
    assert probe(destination) == "free"


def test_a_held_lock_is_waited_for_then_times_out_naming_the_destination(
    destination: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLMEAT_LS_LOCK_TIMEOUT", "0.4")
    with held_elsewhere(destination, 30):
        started = time.monotonic()
        with pytest.raises(LockTimeout) as caught, destination_lock(destination):
            pass
        waited = time.monotonic() - started
        assert str(caught.value) == (
            f"{destination} is locked by another skillmeat process (waited 0.4 s)"
        )
        assert 0.4 <= waited < 5
        with (
            pytest.raises(LockTimeout, match=r"\(waited 0 s\)$"),
            destination_lock(destination, timeout=0),
        ):
            pass


def test_a_held_lock_is_taken_once_its_holder_releases_it(destination: Path) -> None:
    with held_elsewhere(destination, 0.5) as holder:
        started = time.monotonic()
        with destination_lock(destination, timeout=20):
            assert time.monotonic() - started >= 0.3  # it waited for the holder
            assert holder.stdout is not None and holder.stdout.readline().strip() == "released"
            assert probe(destination) == "held"  # and holds it now
    assert probe(destination) == "free"


def test_two_locks_of_one_process_on_one_destination_take_turns(destination: Path) -> None:
    """As with two SkillMeat processes: the second waits for the first, even in this process."""
    order: list[str] = []
    first_in = threading.Event()

    def second() -> None:
        first_in.wait()
        with destination_lock(destination, timeout=20):
            order.append("second")

    worker = threading.Thread(target=second)
    worker.start()
    with destination_lock(destination):
        first_in.set()
        time.sleep(0.3)
        order.append("first")
        with pytest.raises(LockTimeout), destination_lock(destination, timeout=0):
            pass
    worker.join()
    assert order == ["first", "second"]
    assert probe(destination) == "free"


def test_a_symlink_in_place_of_the_lock_file_is_never_followed(
    destination: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    lock_path(destination).symlink_to(elsewhere)
    with pytest.raises(OSError), destination_lock(destination, timeout=0):
        pass
    assert not os.path.lexists(elsewhere)


def test_locks_taken_in_a_staged_folder_are_held_at_their_place_once_it_is_in(
    tmp_path: Path,
) -> None:
    """A deploy into a root without ``skills/`` locks each copy inside the staged folder and
    moves the folder in; until the request ends, another process finds each lock held at
    ``skills/.NAME.skillmeat-lock``, and free once it is over."""
    skills = {(name, "skill"): {"SKILL.md": f"# {name}\n"} for name in ("s0", "s1")}
    build_collection(tmp_path / "home", "default", skills)
    found = load_collections(tmp_path / "home").get("default")
    assert found is not None
    project = tmp_path / "project"
    project.mkdir()
    result = deploy(project, found, list(skills), hold_record=True)
    assert result.pending is not None and not result.errors
    copies = [project / ".claude/skills/s0", project / ".claude/skills/s1"]
    try:
        assert [probe(copy) for copy in copies] == ["held", "held"]
    finally:
        result.pending.commit()
    assert [probe(copy) for copy in copies] == ["free", "free"]
