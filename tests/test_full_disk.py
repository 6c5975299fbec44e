"""A real full disk: the project lives on a small tmpfs filled to many levels before an update
of every record; each run ends with the project entirely as it was or entirely updated, files
and records together, with no journal or staging left (skipped, with the reason, where a tmpfs
cannot be mounted)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_deploy import NOW, build_collection, snapshot

from skillmeat_ls.deploy import JOURNAL_NAME, STAGING_PREFIX, deploy, update_many
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index import load_collections

SKILLS = 8
BODY = 40_000  # bytes per skill file; two files per skill


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def fill(disk: Path, leave: int) -> None:
    """Write a ballast file so that about ``leave`` bytes stay free."""
    ballast = disk / "ballast"
    with ballast.open("wb") as handle:
        chunk = b"\0" * 4096
        while free_bytes(disk) > leave + len(chunk):
            handle.write(chunk)
            handle.flush()


def test_update_on_a_full_disk_is_old_or_new(small_disk: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    names = [f"s{number}" for number in range(SKILLS)]
    build_collection(home, "default", {
        (name, "skill"): {"SKILL.md": "a" * BODY, "notes.md": "b" * BODY} for name in names
    })
    template = small_disk / "template"
    template.mkdir()
    collection = load_collections(home).get("default")
    assert collection is not None
    deploy(template, collection, [(name, "skill") for name in names], now=NOW)
    old = snapshot(template)
    for name in names:  # the collection changes: every record has an update
        (home / f"collections/default/skills/{name}/SKILL.md").write_text("c" * BODY)
    index = load_collections(home)
    new_hashes = {
        f"skills/{name}": content_hash(home / f"collections/default/skills/{name}")
        for name in names
    }
    project = small_disk / "project"
    base = free_bytes(small_disk)
    outcomes: dict[str, int] = {"old": 0, "new": 0}
    for leave in range(0, base, max(base // 24, 4096)):  # from a full disk to room to spare
        shutil.copytree(template, project, symlinks=True)
        fill(small_disk, leave)
        result = update_many(project, index, [(name, "skill") for name in names], now=NOW)
        (small_disk / "ballast").unlink()
        root = project / ".claude"
        assert not (root / JOURNAL_NAME).exists()
        assert not [p for p in root.iterdir() if p.name.startswith(STAGING_PREFIX)]
        if result.errors:
            assert snapshot(project) == old, f"left {leave} bytes: not all undone"
            outcomes["old"] += 1
        else:
            assert {rel: content_hash(root / rel) for rel in new_hashes} == new_hashes
            assert all(new_hashes[f"skills/{n}"] in (root / ".skillmeat-deployed.toml").read_text()
                       for n in names)
            outcomes["new"] += 1
        shutil.rmtree(project)
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes  # both ends were reached
