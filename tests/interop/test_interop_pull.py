"""skillmeat-ls's pull, checked against the real SkillMeat 0.74.0.

One world made by SkillMeat's own CLI (a skill, a command and an agent deployed to ``.claude``
and ``.agents``, then edited the same way in both, with files SkillMeat's deploy skip list would
leave out), copied byte for byte into a second one. skillmeat-ls pulls the ``.claude`` skill in
the first, SkillMeat's own ``sync-pull --strategy overwrite`` in the second: both collections
must then hold the same copy and the same ``collection.toml``, and ``collection.lock`` the same
fields (``fetched`` aside). Then skillmeat-ls pulls every other artifact of both roots, and
SkillMeat's ``list``, ``show`` and ``status`` must read the collection and agree: every record
synced; skillmeat-ls's ``check`` finds no drift (SM140-SM142) either.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import smreal
from conftest import installed_release

from skillmeat_ls.hashing import content_hash

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.interop

SOURCES: dict[str, bytes] = {
    "my-skill/SKILL.md": b"---\nname: my-skill\ndescription: A test skill\n---\n# My Skill\n",
    "my-skill/scripts/run.sh": b"#!/bin/sh\necho hi\n",
    "my-skill/notes.txt": b"notes\n",
    "review.md": b"---\ndescription: Review code\n---\n# Review\n",
    "helper.md": b"---\nname: helper\ndescription: Helper agent\n---\n# Helper\n",
}
COPIES = {"my-skill:skill": "skills/my-skill", "review:command": "commands/review.md"}
COPIES["helper:agent"] = "agents/helper.md"
ROOTS = {".claude": "claude_code", ".agents": "codex"}
FETCHED = re.compile(r'^fetched = ".*"$', re.MULTILINE)


@dataclass
class Side:
    sm: smreal.SkillMeat
    project: Path

    @property
    def collection(self) -> Path:
        return self.sm.smhome / "collections" / "default"

    def lock_text(self) -> str:
        return (self.collection / "collection.lock").read_text()


def edit(root: Path) -> None:
    """The same local edits in every root: SkillMeat's research recipe (a new 0700 file, a
    removed one, ``.git``, ``__pycache__``, ``.DS_Store``, appended lines)."""
    skill = root / "skills" / "my-skill"
    with open(skill / "SKILL.md", "ab") as handle:
        handle.write(b"\nLocal edit line.\n")
    (skill / "scripts" / "new.py").write_bytes(b'print("new")\n')
    (skill / "scripts" / "new.py").chmod(0o700)
    (skill / "notes.txt").unlink()
    (skill / ".git").mkdir()
    (skill / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    (skill / "__pycache__").mkdir()
    (skill / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"PYC")
    (skill / ".DS_Store").write_bytes(b"ds")
    for rel in ("commands/review.md", "agents/helper.md"):
        with open(root / rel, "ab") as handle:
            handle.write(b"\nLocal edit.\n")


def tree(path: Path) -> dict[str, Any]:
    """Files (bytes, permission bits, mtime), symlinks and folders (permission bits)."""
    found: dict[str, Any] = {}
    for directory, dirs, files in os.walk(path):
        for name in dirs + files:
            entry = Path(directory) / name
            st = entry.lstat()
            rel = str(entry.relative_to(path))
            if entry.is_symlink():
                found[rel] = os.readlink(entry)
            elif entry.is_dir():
                found[rel] = st.st_mode & 0o7777
            else:
                found[rel] = (entry.read_bytes(), st.st_mode & 0o7777, st.st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[Side, Side]:
    """Ours and SkillMeat's world, identical up to the pulls."""
    installed = installed_release("0.74.0")
    base = tmp_path_factory.mktemp("pull")
    sm = smreal.SkillMeat(installed, base / "ours" / "home")
    src = base / "src"
    for rel, data in SOURCES.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    (src / "my-skill/scripts/run.sh").chmod(0o755)
    sm.cli(*sm.release.init_args)
    sm.add("skill", src / "my-skill")
    sm.add("command", src / "review.md")
    sm.add("agent", src / "helper.md")
    project = base / "ours" / "project"
    project.mkdir()
    sm.deploy(project, "my-skill", "review", "helper", profiles=tuple(ROOTS.values()))
    for root in ROOTS:
        edit(project / root)
    shutil.copytree(base / "ours", base / "theirs", symlinks=True)
    theirs = Side(
        smreal.SkillMeat(installed, base / "theirs" / "home"), base / "theirs" / "project"
    )
    return Side(sm, project), theirs


@pytest.fixture(scope="module")
def pulled(sides: tuple[Side, Side]) -> dict[str, Any]:
    """The ``.claude`` skill pulled by each tool; the collection files before."""
    ours, theirs = sides
    before = {
        "toml": (ours.collection / "collection.toml").read_bytes(),
        "lock": tomllib.loads(ours.lock_text())["lock"]["entries"],
    }
    result = smreal.ls_json(
        "pull", "my-skill:skill", "--project", ours.project,
        home=ours.sm.smhome, cache=ours.project.parent / "cache.db",
    )  # fmt: skip
    assert result["pulled"] and not result["errors"], result
    theirs.sm.cli(
        "sync-pull", theirs.project, "--strategy", "overwrite", "--no-interactive",
        "--format", "json", cwd=theirs.project,
    )  # fmt: skip
    return before


def test_the_collection_changes_exactly_as_with_skillmeats_sync_pull(
    sides: tuple[Side, Side], pulled: dict[str, Any]
) -> None:
    ours, theirs = sides
    skill = ours.project / ".claude" / "skills" / "my-skill"
    copy = tree(ours.collection / "skills" / "my-skill")
    assert copy == tree(skill)  # the project's copy, with .git, __pycache__, modes and times
    assert copy == tree(theirs.collection / "skills" / "my-skill")
    for side in sides:
        assert (side.collection / "collection.toml").read_bytes() == pulled["toml"]
        assert (side.collection / "collection.lock").stat().st_mode & 0o777 == 0o600
    # collection.lock: the same text but for the timestamps, so the same fields and values.
    assert FETCHED.sub("fetched", ours.lock_text()) == FETCHED.sub("fetched", theirs.lock_text())
    mine = tomllib.loads(ours.lock_text())["lock"]["entries"]
    skillmeats = tomllib.loads(theirs.lock_text())["lock"]["entries"]
    assert list(mine) == list(skillmeats) == list(pulled["lock"])
    entry = mine["my-skill::skill"]
    assert entry == {**skillmeats["my-skill::skill"], "fetched": entry["fetched"]}
    assert entry["content_hash"] == content_hash(skill)
    assert entry["resolved_sha"] == pulled["lock"]["my-skill::skill"]["content_hash"]
    assert entry["resolved_version"] == "unknown"
    assert mine["review::command"] == pulled["lock"]["review::command"]


def test_skillmeat_reads_every_pulled_artifact_as_synced(
    sides: tuple[Side, Side], pulled: dict[str, Any]
) -> None:
    ours, _theirs = sides
    cache = ours.project.parent / "cache.db"
    for root, profile in ROOTS.items():
        for spec, rel in COPIES.items():
            if (root, spec) != (".claude", "my-skill:skill"):
                result = smreal.ls_json(
                    "pull", spec, "--project", ours.project, "--profile", profile,
                    home=ours.sm.smhome, cache=cache,
                )  # fmt: skip
                assert result["pulled"] and not result["errors"], result
            assert content_hash(ours.collection / rel) == content_hash(ours.project / root / rel)
    listed = ours.sm.cli("list").stdout
    assert all(name in listed for name in ("my-skill", "review", "helper")), listed
    shown = ours.sm.cli("show", "my-skill").stdout
    assert "my-skill" in shown and "A test skill" in shown, shown
    states = ours.sm.status(ours.project)
    assert len(states) == 6 and set(states.values()) == {"synced"}, states
    report = smreal.ls_json("check", ours.project, home=ours.sm.smhome, cache=cache, ok=(0, 1))
    for path in smreal.tracking_files(ours.project).values():
        by_record, _outside = smreal.diagnostics_by_record(report, path)
        drift = {
            key: codes
            for key, codes in by_record.items()
            if {"SM140", "SM141", "SM142"} & set(codes)
        }
        assert drift == {}, (path, by_record)
