"""keep-local and pull on real folders: every type, both profile roots, refusals, faults, kills.

A world is a SkillMeat home with one collection (a skill with an executable script, a command and
an agent, and a ``collection.lock`` as SkillMeat writes it) deployed by skillmeat-ls into
``.claude`` (claude_code) and ``.agents`` (codex) of one project, then edited there. Faults go
in through :class:`FileOps`; kills through the real CLI and its ``SKILLMEAT_LS_PAUSE_AT`` seam.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_crash_recovery import cli_process, finished, kill_when_stopped
from test_deploy import build_collection, snapshot

from skillmeat_ls.deploy import (
    JOURNAL_NAME,
    STAGING_PREFIX,
    DeployError,
    FileOps,
    Hasher,
    deploy,
    keep_local,
    keep_local_many,
    pull,
    recover,
    status,
)
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index import Collection, CollectionIndex, load_collections
from skillmeat_ls.profiles import Profile, resolve_profile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOTS = {".claude": "claude_code", ".agents": "codex"}
ARTIFACTS = {
    ("review", "skill"): {
        "SKILL.md": "---\nname: review\n---\n# Review skill\n",
        "scripts/run.sh": "#!/bin/sh\necho hi\n",
        "notes.txt": "notes\n",
    },
    ("review", "command"): "# /review\n",
    ("helper", "agent"): "# Helper agent\n",
}
PATHS = {
    ("review", "skill"): "skills/review",
    ("review", "command"): "commands/review.md",
    ("helper", "agent"): "agents/helper.md",
}
DEPLOYED = ".skillmeat-deployed.toml"


@dataclass
class World:
    home: Path
    project: Path
    cache: Path

    @property
    def folder(self) -> Path:
        return self.home / "collections" / "default"

    @property
    def index(self) -> CollectionIndex:
        return load_collections(self.home)

    @property
    def default(self) -> Collection:
        found = self.index.get("default")
        assert found is not None
        return found

    def root(self, name: str = ".claude") -> Path:
        return self.project / name

    def copy(self, pair: tuple[str, str], root: str = ".claude") -> Path:
        return self.root(root) / PATHS[pair]

    def records(self, root: str = ".claude") -> dict[tuple[str, str], dict[str, Any]]:
        data = tomllib.loads((self.root(root) / DEPLOYED).read_text())
        return {(r["artifact_name"], r["artifact_type"]): r for r in data["deployed"]}

    def lock(self) -> dict[str, dict[str, Any]]:
        return tomllib.loads((self.folder / "collection.lock").read_text())["lock"]["entries"]


def profile(root: str) -> Profile:
    return resolve_profile(ROOTS[root])


def lock_text(folder: Path, upstream: str | None = None) -> str:
    """A ``collection.lock`` as SkillMeat writes one for the collection's artifacts."""
    parts = ['[lock]\nversion = "1.0.0"\n']
    for (name, kind), rel in PATHS.items():
        parts.append(
            f'\n[lock.entries."{name}::{kind}"]\n'
            f'content_hash = "{content_hash(folder / rel)}"\n'
            'fetched = "2026-01-02T03:04:05.678901"\n'
        )
        if upstream and kind == "skill":
            parts.append(f'upstream = "{upstream}"\n')
    return "".join(parts)


def edit(world: World, root: str = ".claude", marker: str = "") -> None:
    """Local edits of all three copies of ``root``, as a user makes them: a new file (mode 0700),
    a removed one, files SkillMeat's deploy skip list would leave out, appended lines."""
    skill = world.copy(("review", "skill"), root)
    with open(skill / "SKILL.md", "a") as handle:
        handle.write(f"\nLocal edit{marker}.\n")
    (skill / "scripts/new.py").write_text('print("new")\n')
    (skill / "scripts/new.py").chmod(0o700)
    (skill / "notes.txt").unlink()
    (skill / ".git").mkdir()
    (skill / ".git/HEAD").write_text("ref: refs/heads/main\n")
    (skill / "__pycache__").mkdir()
    (skill / "__pycache__/x.cpython-311.pyc").write_bytes(b"PYC")
    for pair in (("review", "command"), ("helper", "agent")):
        with open(world.copy(pair, root), "a") as handle:
            handle.write(f"\nLocal edit{marker}.\n")


@pytest.fixture
def world(tmp_path: Path) -> World:
    home = tmp_path / "home"
    folder = build_collection(home, "default", ARTIFACTS)
    (folder / "skills/review/scripts/run.sh").chmod(0o755)
    (folder / "collection.lock").write_text(lock_text(folder, "https://github.com/o/r"))
    (folder / "collection.lock").chmod(0o600)
    project = tmp_path / "project"
    project.mkdir()
    made = World(home, project, tmp_path / "cache.db")
    for root in ROOTS:
        result = deploy(project, made.default, list(PATHS), profile=profile(root))
        assert not result.errors and len(result.deployed) == 3
    return made


def tree(path: Path) -> dict[str, Any]:
    """Every entry under ``path`` (or the file itself): bytes, permission bits and mtime of
    files, symlink texts, folder modes."""
    if path.is_file():
        st = path.stat()
        return {".": (path.read_bytes(), st.st_mode & 0o7777, st.st_mtime_ns)}
    found: dict[str, Any] = {}
    for directory, dirs, files in os.walk(path):
        for name in dirs + files:
            entry = Path(directory) / name
            rel = str(entry.relative_to(path))
            st = entry.lstat()
            if entry.is_symlink():
                found[rel] = ("link", os.readlink(entry))
            elif entry.is_dir():
                found[rel] = ("dir", st.st_mode & 0o7777)
            else:
                found[rel] = (entry.read_bytes(), st.st_mode & 0o7777, st.st_mtime_ns)
    return found


def everything(world: World) -> dict[str, Any]:
    return {"home": snapshot(world.home), "project": snapshot(world.project)}


def leftovers(world: World) -> list[str]:
    """Journals and staging folders anywhere in the project's roots or the collection."""
    places = [world.folder, *(world.root(r) for r in ROOTS)]
    return [
        str(p)
        for place in places
        for p in place.iterdir()
        if p.name == JOURNAL_NAME or p.name.startswith(STAGING_PREFIX)
    ]


# --- keep-local ----------------------------------------------------------------------------------


@pytest.mark.parametrize("root", list(ROOTS))
def test_keep_local_takes_every_type_as_its_baseline(world: World, root: str) -> None:
    edit(world, root)
    before = world.records(root)
    copies = {pair: tree(world.copy(pair, root)) for pair in PATHS}
    other = ".agents" if root == ".claude" else ".claude"
    other_text = (world.root(other) / DEPLOYED).read_bytes()
    result = keep_local_many(world.project, list(PATHS), profile=profile(root))
    assert not result.errors and not result.skipped and len(result.deployed) == 3
    after = world.records(root)
    for pair in PATHS:
        local = content_hash(world.copy(pair, root))
        old = before[pair]["content_hash"]
        item = next(i for i in result.deployed if (i.name, i.type) == pair)
        assert (item.content_hash, item.previous_hash, item.path) == (local, old, PATHS[pair])
        assert after[pair]["content_hash"] == after[pair]["collection_sha"] == local
        assert after[pair]["version_lineage"] == [old]  # deploy wrote [old]: not repeated
        unchanged = {
            k: v for k, v in after[pair].items() if k not in ("content_hash", "collection_sha")
        }
        assert unchanged == {
            k: v for k, v in before[pair].items() if k not in ("content_hash", "collection_sha")
        }
        assert tree(world.copy(pair, root)) == copies[pair]  # the copy is not touched
    assert (world.root(other) / DEPLOYED).read_bytes() == other_text
    states = {(s.name, s.type): s.state for s in status(world.project, world.index, profile(root))}
    # The collection still holds what was deployed: it now differs from the baseline (SM141).
    assert set(states.values()) == {"update-available"}
    assert result.as_dict()["kept"][0]["previous_hash"] is not None
    assert leftovers(world) == []


def test_keep_local_appends_the_previous_hash_to_the_lineage(world: World) -> None:
    edit(world)
    pair = ("review", "command")
    deployed = world.records()[pair]["content_hash"]
    keep_local(world.project, *pair)
    first = world.records()[pair]["content_hash"]
    with open(world.copy(pair), "a") as handle:
        handle.write("again\n")
    keep_local(world.project, *pair)
    record = world.records()[pair]
    assert record["version_lineage"] == [deployed, first]  # oldest first
    assert record["content_hash"] == content_hash(world.copy(pair))


def test_keep_local_of_a_conflict_and_of_a_collection_with_the_same_change(world: World) -> None:
    edit(world)
    (world.folder / "commands/review.md").write_text("# /review v2\n")  # SM142 for the command
    shutil.copy2(world.copy(("helper", "agent")), world.folder / "agents/helper.md")
    before = {
        (s.name, s.type): s.state for s in status(world.project, world.index, profile(".claude"))
    }
    assert before[("review", "command")] == "conflict"
    assert before[("helper", "agent")] == "in-sync"  # both changed the same way
    result = keep_local_many(world.project, [("review", "command"), ("helper", "agent")])
    assert len(result.deployed) == 2 and not result.failed
    after = {
        (s.name, s.type): s.state for s in status(world.project, world.index, profile(".claude"))
    }
    assert after[("review", "command")] == "update-available"
    assert after[("helper", "agent")] == "in-sync"


def test_keep_local_refusals_and_dry_run(world: World, tmp_path: Path) -> None:
    before = everything(world)
    result = keep_local(world.project, "review", "command")
    assert [(s.code, s.path) for s in result.skipped] == [("not-modified", "commands/review.md")]
    assert "matches its record: nothing to keep" in result.skipped[0].reason
    assert not result.failed and everything(world) == before

    world.copy(("helper", "agent")).unlink()
    outside = tmp_path / "outside.md"
    outside.write_text("elsewhere\n")
    (world.copy(("review", "skill")) / "link.md").symlink_to(outside)
    edit_command = world.copy(("review", "command"))
    edit_command.write_text("# changed\n")
    before = everything(world)
    result = keep_local_many(
        world.project, [("helper", "agent"), ("review", "skill"), ("review", "command")]
    )
    codes = {(s.name, s.type): s.code for s in result.skipped}
    assert codes == {("helper", "agent"): "missing", ("review", "skill"): "unknown-state"}
    assert "outside the profile root" in next(s.reason for s in result.skipped if s.type == "skill")
    assert [i.type for i in result.deployed] == ["command"] and result.failed

    dry = keep_local(world.project, "review", "command", dry_run=True)  # already kept
    assert dry.skipped[0].code == "not-modified"
    edit_command.write_text("# changed again\n")
    before = everything(world)
    dry = keep_local(world.project, "review", "command", dry_run=True)
    assert dry.deployed[0].content_hash == content_hash(edit_command) and dry.dry_run
    assert everything(world) == before

    refused = keep_local_many(world.project, [("review", "command"), ("nothing", "skill")])
    assert [e.name for e in refused.errors] == ["nothing"]
    assert [(s.name, s.code) for s in refused.skipped] == [("review", "aborted")]
    assert everything(world) == before
    with pytest.raises(DeployError, match="no such project"):
        keep_local(world.project / "missing", "review", "command")


class FailingStep(FileOps):
    """The ``nth`` call of the step ``step`` fails with a full disk; the others go through."""

    def __init__(self, step: str, nth: int = 1) -> None:
        self.step, self.nth, self.calls = step, nth, 0

    def _count(self, step: str) -> None:
        if step == self.step:
            self.calls += 1
            if self.calls == self.nth:
                raise OSError(errno.ENOSPC, "No space left on device")

    def make_folder(self, path: Path) -> None:
        self._count("make_folder")
        super().make_folder(path)

    def copy_file(self, source: str, destination: Path, hasher: Hasher) -> None:
        self._count("copy_file")
        super().copy_file(source, destination, hasher)

    def move(self, source: Path, destination: Path) -> None:
        self._count("move")
        super().move(source, destination)

    def write_lock(self, path: Path, text: str, mode: int) -> None:
        self._count("write_lock")
        super().write_lock(path, text, mode)

    def write_text(self, path: Path, text: str) -> None:
        self._count("write_text")
        super().write_text(path, text)


def test_keep_local_write_failure_changes_nothing(world: World) -> None:
    edit(world)
    before = everything(world)
    result = keep_local(world.project, "review", "skill", file_ops=FailingStep("write_text"))
    assert result.errors and "No space left on device" in result.errors[0].message
    assert "every change was undone" in result.errors[0].message
    assert everything(world) == before and leftovers(world) == []


# --- pull ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("root", list(ROOTS))
def test_pull_every_type_into_the_collection(world: World, root: str) -> None:
    edit(world, root)
    manifest = (world.folder / "collection.toml").read_bytes()
    before_lock = world.lock()
    before_records = world.records(root)
    for pair, rel in PATHS.items():
        old = content_hash(world.folder / rel)
        result = pull(world.project, world.index, *pair, profile=profile(root))
        assert not result.errors and not result.skipped, result.as_dict()
        item = result.deployed[0]
        local = content_hash(world.copy(pair, root))
        assert (item.strategy, item.collection_path, item.previous_hash) == ("overwrite", rel, old)
        assert item.content_hash == local and item.record_updated
        # The collection's copy is the project's: bytes, modes, times, and what deploy skips.
        assert tree(world.folder / rel) == tree(world.copy(pair, root))
        entry = world.lock()[f"{pair[0]}::{pair[1]}"]
        assert set(entry) == {"content_hash", "fetched", "resolved_sha", "resolved_version"}
        assert (entry["content_hash"], entry["resolved_sha"]) == (local, old)
        assert entry["resolved_version"] == "unknown"
        fetched = datetime.fromisoformat(entry["fetched"])
        assert fetched.tzinfo is None and abs((datetime.utcnow() - fetched).total_seconds()) < 60
        record = world.records(root)[pair]
        assert record["content_hash"] == record["collection_sha"] == local
        assert record["version_lineage"] == [before_records[pair]["content_hash"]]
    assert (world.folder / "skills/review/.git/HEAD").read_text() == "ref: refs/heads/main\n"
    assert (world.folder / "collection.toml").read_bytes() == manifest
    assert (world.folder / "collection.lock").stat().st_mode & 0o777 == 0o600
    assert list(world.lock()) == list(before_lock)  # entries in their places, upstream dropped
    assert "upstream" not in world.lock()["review::skill"]
    states = [s.state for s in status(world.project, world.index, profile(root))]
    assert states == ["in-sync"] * 3
    assert leftovers(world) == []


def test_pull_keeps_relative_links_inside_the_copy(world: World, tmp_path: Path) -> None:
    skill = world.copy(("review", "skill"))
    (skill / "docs").mkdir()
    (skill / "docs/run.sh").symlink_to("../scripts/run.sh")
    result = pull(world.project, world.index, "review", "skill")
    assert not result.errors, result.as_dict()
    assert os.readlink(world.folder / "skills/review/docs/run.sh") == "../scripts/run.sh"
    assert content_hash(world.folder / "skills/review") == result.deployed[0].content_hash

    (skill / "docs/run.sh").unlink()
    (skill / "docs/run.sh").symlink_to(world.copy(("review", "command")))  # absolute, in .claude
    before = everything(world)
    refused = pull(world.project, world.index, "review", "skill")
    assert "outside the copy" in refused.errors[0].message
    assert everything(world) == before
    (skill / "docs/run.sh").unlink()
    (tmp_path / "elsewhere.sh").write_text("echo elsewhere\n")
    (skill / "docs/run.sh").symlink_to(tmp_path / "elsewhere.sh")  # out of the profile root
    before = everything(world)
    unjudged = pull(world.project, world.index, "review", "skill")
    assert [s.code for s in unjudged.skipped] == ["unknown-state"] and unjudged.failed
    assert "(SM133)" in unjudged.skipped[0].reason
    assert everything(world) == before


def test_pull_fork_adds_a_copy_beside_and_changes_nothing_else(world: World) -> None:
    edit(world)
    lock = (world.folder / "collection.lock").read_bytes()
    manifest = (world.folder / "collection.toml").read_bytes()
    record_file = (world.root() / DEPLOYED).read_bytes()
    original = tree(world.folder / "skills/review")
    made = []
    for _ in range(3):
        result = pull(world.project, world.index, "review", "skill", strategy="fork")
        item = result.deployed[0]
        assert not item.record_updated and item.previous_hash is None
        made.append(item.collection_path)
        assert tree(world.folder / item.collection_path) == tree(world.copy(("review", "skill")))
    assert made == ["skills/review-fork", "skills/review-fork-2", "skills/review-fork-3"]
    result = pull(world.project, world.index, "review", "command", strategy="fork")
    assert result.deployed[0].collection_path == "commands/review-fork.md"
    assert (world.folder / "commands/review-fork.md").read_bytes() == world.copy(
        ("review", "command")
    ).read_bytes()
    assert tree(world.folder / "skills/review") == original
    assert (world.folder / "collection.lock").read_bytes() == lock
    assert (world.folder / "collection.toml").read_bytes() == manifest
    assert (world.root() / DEPLOYED).read_bytes() == record_file
    assert ("review-fork", "skill") not in world.default.artifacts  # as SkillMeat's list
    dry = pull(world.project, world.index, "review", "skill", strategy="fork", dry_run=True)
    assert dry.deployed[0].collection_path == "skills/review-fork-4"
    assert leftovers(world) == []


def test_pull_refusals(world: World) -> None:
    before = everything(world)
    nothing = pull(world.project, world.index, "review", "skill")
    assert nothing.skipped[0].code == "not-modified" and not nothing.failed
    (world.folder / "skills/review/SKILL.md").write_text("# newer in the collection\n")
    update = pull(world.project, world.index, "review", "skill")
    assert (
        update.skipped[0].code == "not-modified" and "nothing to pull" in update.skipped[0].reason
    )
    (world.folder / "skills/review/SKILL.md").write_text(ARTIFACTS[("review", "skill")]["SKILL.md"])  # type: ignore[index]
    edit(world)
    before = everything(world)

    unknown = pull(world.project, None, "review", "skill")
    assert "collection 'default' is unknown (known: none)" in unknown.errors[0].message
    with pytest.raises(DeployError, match="unknown pull strategy"):
        pull(world.project, world.index, "review", "skill", strategy="merge")
    assert pull(world.project, world.index, "nope", "skill").errors
    # The collection no longer lists the agent.
    manifest = world.folder / "collection.toml"
    text = manifest.read_text()
    manifest.write_text(text.replace('name = "helper"', 'name = "other"'))
    gone = pull(world.project, world.index, "helper", "agent")
    assert "no longer has the agent 'helper'" in gone.errors[0].message
    manifest.write_text(text)
    # A lock SkillMeat's own reader fails on.
    lock = world.folder / "collection.lock"
    good = lock.read_text()
    lock.write_text(
        good.replace('fetched = "2026-01-02T03:04:05.678901"', "fetched = 2026-01-02T03:04:05", 1)
    )
    bad = pull(world.project, world.index, "review", "skill")
    assert "cannot be read as SkillMeat reads it" in bad.errors[0].message
    lock.write_text(good)
    # A type no collection stores.
    records = world.root() / DEPLOYED
    records.write_text(
        records.read_text().replace('artifact_type = "agent"', 'artifact_type = "workflow"')
    )
    workflow = pull(world.project, world.index, "helper", "workflow")
    assert "SkillMeat's collections hold no 'workflow' artifacts" in workflow.errors[0].message
    records.write_text(
        records.read_text().replace('artifact_type = "workflow"', 'artifact_type = "agent"')
    )
    dry = pull(world.project, world.index, "review", "skill", dry_run=True)
    assert dry.deployed and dry.dry_run
    assert everything(world) == before and leftovers(world) == []


@pytest.mark.parametrize(
    "step, nth",
    [
        ("make_folder", 1),  # the collection's staging folder
        ("copy_file", 3),
        ("move", 1),  # the collection's copy into staging
        ("move", 2),  # the project's copy into the collection
        ("write_lock", 1),
        ("write_text", 1),  # the record
    ],
)
def test_pull_failing_midway_leaves_everything_old(world: World, step: str, nth: int) -> None:
    edit(world)
    before = everything(world)
    lock = (world.folder / "collection.lock").stat()
    result = pull(world.project, world.index, "review", "skill", file_ops=FailingStep(step, nth))
    assert result.errors and not result.deployed
    assert "No space left on device" in result.errors[0].message
    assert "every change was undone" in result.errors[0].message
    assert everything(world) == before and leftovers(world) == []
    assert (world.folder / "collection.lock").stat().st_mode == lock.st_mode


def test_hold_record_commits_or_rolls_back(world: World) -> None:
    edit(world)
    before = everything(world)
    held = pull(world.project, world.index, "review", "skill", hold_record=True)
    assert held.pending is not None and held.deployed
    assert held.pending.path.name == DEPLOYED
    assert (world.root() / JOURNAL_NAME).exists()
    assert held.pending.rollback() == ()
    assert everything(world) == before and leftovers(world) == []

    held = pull(world.project, world.index, "review", "skill", hold_record=True)
    assert held.pending is not None
    held.pending.path.write_text(held.pending.text)  # the editor writes it
    held.pending.commit()
    states = {
        (s.name, s.type): s.state for s in status(world.project, world.index, profile(".claude"))
    }
    assert states[("review", "skill")] == "in-sync"
    assert content_hash(world.folder / "skills/review") == content_hash(
        world.copy(("review", "skill"))
    )
    assert leftovers(world) == []

    kept = keep_local(world.project, "review", "command", hold_record=True)
    assert kept.pending is not None and kept.pending.rollback() == ()
    assert leftovers(world) == []


def test_a_later_write_to_the_lock_is_kept_when_a_pull_is_undone(world: World) -> None:
    """A pull interrupted after it rewrote the lock, then another writer rewrote the lock:
    undoing the pull puts back its own entry only."""
    edit(world)

    class ThenAnotherWriter(FailingStep):
        def write_lock(self, path: Path, text: str, mode: int) -> None:
            super().write_lock(path, text, mode)
            if "extra::agent" not in text:  # the pull's write, not its undo
                extra = (
                    '[lock.entries."extra::agent"]\ncontent_hash = "e"\nfetched = "2026-01-01"\n'
                )
                Path(path).write_text(text + "\n" + extra)

    before = world.lock()
    result = pull(
        world.project, world.index, "review", "skill", file_ops=ThenAnotherWriter("write_text")
    )
    assert result.errors
    after = world.lock()
    assert after["review::skill"] == before["review::skill"]
    assert set(after) == {*before, "extra::agent"}


# --- killed ----------------------------------------------------------------------------------------

#: Where ``pull review:skill`` is killed, and what the next command must find.
PULL_KILLS = {
    "write_journal:1": "old",
    "make_folder:1": "old",  # the collection's staging folder made
    "move:1": "old",  # the collection's copy moved aside: missing from the collection
    "move:2": "old",  # the project's copy in the collection, the lock still old
    "write_lock:1": "old",  # the lock rewritten, the record still old
    "write_text:1": "new",  # the record written: committed
    "remove_tree:1": "new",  # the collection's staging folder gone, the journal not yet
    "remove_file:1": "new",  # the journal gone, the root's staging left
}


def state_of(world: World, old_copy: str, old_lock: bytes, old_record: str) -> str:
    """ "old" or "new" across the collection's copy, its lock entry and the record, once it is
    checked that they agree and nothing was left behind."""
    assert leftovers(world) == []
    copy = content_hash(world.folder / "skills/review")
    record = world.records()[("review", "skill")]["content_hash"]
    entry = world.lock()["review::skill"]["content_hash"]
    if copy == old_copy:
        assert (world.folder / "collection.lock").read_bytes() == old_lock
        assert record == old_record
        return "old"
    local = content_hash(world.copy(("review", "skill")))
    assert copy == entry == record == local
    return "new"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGSTOP and /proc/<pid>/stat")
@pytest.mark.parametrize("point", list(PULL_KILLS))
def test_pull_killed_at_any_step_ends_old_or_new(world: World, point: str) -> None:
    edit(world)
    old_copy = content_hash(world.folder / "skills/review")
    old_lock = (world.folder / "collection.lock").read_bytes()
    old_record = world.records()[("review", "skill")]["content_hash"]
    args = ("pull", "review:skill", "--project", world.project)
    kill_when_stopped(cli_process(world.home, world.cache, *args, pause=point), point)
    assert leftovers(world)  # something to settle
    looking = ("status", "--project", world.project, "--profile", "claude_code", "--format", "json")
    code, out, err = finished(cli_process(world.home, world.cache, *looking))
    assert code == 0, err
    assert state_of(world, old_copy, old_lock, old_record) == PULL_KILLS[point]
    # Judged against the collection as recovered, not as the killed pull had left it.
    states = {(r["name"], r["type"]): r["state"] for r in json.loads(out)["records"]}
    assert states[("review", "skill")] == ("modified" if PULL_KILLS[point] == "old" else "in-sync")
    if point == "move:1":  # the collection's copy was missing: the next pull goes through
        code, out, err = finished(cli_process(world.home, world.cache, *args))
        assert code == 0, out + err
        assert state_of(world, old_copy, old_lock, old_record) == "new"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGSTOP and /proc/<pid>/stat")
@pytest.mark.parametrize(
    "point, expected", [("move:1", "old"), ("remove_tree:1", "old"), ("remove_file:1", "new")]
)
def test_fork_and_keep_local_killed(world: World, point: str, expected: str) -> None:
    edit(world)
    lock = (world.folder / "collection.lock").read_bytes()
    fork = ("pull", "review:skill", "--strategy", "fork", "--project", world.project)
    kill_when_stopped(cli_process(world.home, world.cache, *fork, pause=point), point)
    report = recover(world.root())  # what the server and check do first
    assert report is not None
    assert report.collection == (None if point == "remove_file:1" else "default")
    assert leftovers(world) == []
    assert (world.folder / "skills/review-fork").exists() is (expected == "new")
    assert (world.folder / "collection.lock").read_bytes() == lock

    keep = ("keep-local", "review:command", "--project", world.project)
    old = world.records()[("review", "command")]["content_hash"]
    step = "write_journal:1" if expected == "old" else "write_text:1"
    kill_when_stopped(cli_process(world.home, world.cache, *keep, pause=step), step)
    recover(world.root())
    assert leftovers(world) == []
    now = world.records()[("review", "command")]["content_hash"]
    assert now == (old if expected == "old" else content_hash(world.copy(("review", "command"))))


# --- the command line ----------------------------------------------------------------------------


def run(world: World, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SKILLMEAT_HOME": "/nonexistent-skillmeat-home"}
    env.pop("SKILLMEAT_LS_CACHE", None)
    command = [sys.executable, "-m", "skillmeat_ls", "--home", world.home, "--cache", world.cache]
    return subprocess.run(
        [*map(str, command), *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_command_line(world: World) -> None:
    edit(world, ".agents")
    agents = ("--project", world.project, "--profile", "codex")
    dry = run(world, "pull", "review:skill", "helper", *agents, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "pulled    skill review: .agents/skills/review -> default:skills/review (" in dry.stdout
    assert "2 would be pulled, 0 skipped, 0 errors" in dry.stdout and "dry run" in dry.stdout
    done = run(world, "pull", "review:command", *agents, "--strategy", "fork", "--format", "json")
    assert done.returncode == 0, done.stderr
    pulled = json.loads(done.stdout)
    assert pulled["profile"] == "codex" and pulled["root"] == ".agents"
    assert pulled["pulled"][0]["collection_path"] == "commands/review-fork.md"
    assert pulled["pulled"][0]["record_updated"] is False
    assert set(pulled["pulled"][0]) == {
        "name", "type", "path", "collection", "content_hash", "strategy", "collection_path",
        "previous_hash", "record_updated",
    }  # fmt: skip
    kept = run(world, "keep-local", "review:command", "helper", *agents)
    assert kept.returncode == 0, kept.stderr
    assert (
        "kept      command review: .agents/commands/review.md is its record's baseline"
        in kept.stdout
    )
    assert "2 kept, 0 skipped, 0 errors" in kept.stdout
    again = run(world, "keep-local", "helper", *agents, "--format", "json")
    assert (
        again.returncode == 0 and json.loads(again.stdout)["skipped"][0]["code"] == "not-modified"
    )
    world.copy(("review", "skill"), ".agents").joinpath("SKILL.md").unlink()
    shutil.rmtree(world.copy(("review", "skill"), ".agents"))
    missing = run(world, "pull", "review:skill", *agents)
    assert missing.returncode == 1 and "does not exist: nothing to pull" in missing.stdout
    unknown = run(world, "keep-local", "nothing", *agents)
    assert unknown.returncode == 2 and "no 'nothing' is recorded in .agents/" in unknown.stderr
    helps = [run(world, command, "--help").stdout for command in ("keep-local", "pull")]
    assert "--dry-run" in helps[0] and "--strategy {overwrite,fork}" in helps[1]


def test_hostile_pull_journals_are_not_acted_on(world: World, tmp_path: Path) -> None:
    """A journal in a project is not to be trusted: its collection part acts only on a real
    collection folder, and there only on what is still the pull's own."""
    victim = tmp_path / "victim"
    (victim / "skills/review").mkdir(parents=True)
    (victim / "skills/review/keep.txt").write_text("user data\n")
    (tmp_path / "alias").symlink_to(world.folder)

    def journal(folder: Path, name: str, old_hash: str | None) -> str:
        swap = {"path": "skills/review", "aside": "old-0", "new": "new-0"}
        part = {"name": name, "folder": str(folder), "staging": STAGING_PREFIX + "x", "lock": None}
        part["swaps"] = [{**swap, "new_hash": "0" * 64, "old_hash": old_hash}]
        data = {
            "journal": "skillmeat-ls",
            "version": 1,
            "operation": "pull",
            "staging": STAGING_PREFIX + "y",
            "deployment_file": DEPLOYED,
            "old_sha256": None,
            "new_sha256": "0" * 64,
            "created": [],
            "swaps": [],
            "collection": part,
        }
        return json.dumps(data)

    before = everything(world), snapshot(victim)
    hostile = {
        journal(victim, "victim", None): "holds no collection.toml",
        journal(victim, "default", None): "is not the absolute path of 'default'",
        journal(tmp_path / "alias", "alias", None): "is not the real folder of collection",
    }
    for text, reason in hostile.items():
        (world.root() / JOURNAL_NAME).write_text(text)
        with pytest.raises(DeployError, match=reason):
            recover(world.root())
        (world.root() / JOURNAL_NAME).unlink()
        assert (everything(world), snapshot(victim)) == before
    # A real collection, but nothing there is the pull's: nothing is moved or removed.
    (world.root() / JOURNAL_NAME).write_text(journal(world.folder, "default", None))
    report = recover(world.root())
    assert report is not None and report.outcome == "rolled back"
    assert report.paths == ("collection default: skills/review",)
    assert (everything(world), snapshot(victim)) == before
