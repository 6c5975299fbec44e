"""A deploy, update or undeploy killed at any instant ends entirely old or entirely new.

The processes are really killed: ``skillmeat-ls`` runs as a subprocess stopped by the
``SKILLMEAT_LS_PAUSE_AT`` seam right after a chosen file-system step, then ``SIGKILL``ed; the
engine's own calls run in a forked child stopped and killed the same way. Then the next command
(``status``, a new ``update``, or :func:`recover`) must find every artifact folder and record in
agreement, and no journal or staging folder left.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_deploy import NOW, build_collection, snapshot

from skillmeat_ls.deploy import (
    JOURNAL_NAME,
    STAGING_PREFIX,
    DeployError,
    FileOps,
    deploy,
    file_ops_from_environment,
    recover,
    status,
    undeploy,
    update_many,
)
from skillmeat_ls.deploy.fileops import PAUSE_ENV
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index import Collection, CollectionIndex, load_collections
from skillmeat_ls.locks import LOCK_SUFFIX, LockTimeout, destination_lock

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="SIGSTOP, fork and /proc/<pid>/stat"
)

SKILLS = 40  # each of two files: 80 copies, 80 moves in an update of all of them
NAMES = [f"s{number:02}" for number in range(SKILLS)]
EXTRA = {("x0", "skill"), ("x1", "skill"), ("c0", "command"), ("c1", "command")}
DEPLOYED = ".skillmeat-deployed.toml"

#: Where ``update --all`` of the 40 skills is killed, and what the next command must find.
UPDATE_KILLS = {
    "make_temporary_folder:1": "old",  # the staging folder exists, nothing in it
    "copy_file:1": "old",
    "copy_file:80": "old",  # every new copy staged, no journal yet
    "write_journal:1": "old",  # journalled, nothing moved
    "move:1": "old",  # the first old copy in staging: its folder is missing
    "move:2": "old",  # the first new copy in place
    "move:27": "old",  # a folder missing in the middle
    "move:40": "old",
    "move:79": "old",  # the last folder missing
    "move:80": "old",  # every new copy in place, the record still old
    "write_text:1": "new",  # committed, journal and staging still there
    "remove_file:1": "new",  # journal gone, staging left
    "remove_tree:1": "new",  # all done
}
#: Where a new ``update --all`` follows too (in another copy of the killed project).
UPDATE_AGAIN = {
    "make_temporary_folder:1",
    "write_journal:1",
    "move:1",
    "move:27",
    "move:80",
    "write_text:1",
    "remove_file:1",
}


@dataclass
class World:
    home: Path
    caches: tuple[Path, Path]  # one per process that may run at the same time
    template: Path  # a project with the 40 skills deployed, their collection since changed
    index: CollectionIndex
    old: dict[str, str]  # artifact_path -> hash, as deployed
    new: dict[str, str]  # after update --all
    scratch: Path

    def project(self, name: str) -> Path:
        copy = self.scratch / name
        shutil.copytree(self.template, copy, symlinks=True)
        return copy

    def root(self, project: Path) -> Path:
        return project / ".claude"

    @property
    def default(self) -> Collection:
        found = self.index.get("default")
        assert found is not None
        return found


def agreed_state(project: Path) -> dict[str, str]:
    """``artifact_path -> content hash`` of every record, once it is checked that each record's
    copy is there with the recorded hash, that nothing else is, and nothing was left behind."""
    root = project / ".claude"
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(STAGING_PREFIX)]
    assert not (root / JOURNAL_NAME).exists() and leftovers == []
    records = tomllib.loads((root / DEPLOYED).read_text())["deployed"]
    recorded = {r["artifact_path"]: r["content_hash"] for r in records}
    assert len(recorded) == len(records)
    on_disk = {
        f"{folder}/{entry.name}"
        for folder in ("skills", "commands")
        if (root / folder).is_dir()
        for entry in (root / folder).iterdir()
        if not entry.name.endswith(LOCK_SUFFIX)
    }
    assert on_disk == set(recorded), "a copy without a record, or a record without its copy"
    for rel, recorded_hash in recorded.items():
        assert content_hash(root / rel) == recorded_hash, f"{rel} is neither old nor new"
    return recorded


def outcome(world: World, project: Path) -> str:
    state = agreed_state(project)
    if state == world.old:
        return "old"
    assert state == world.new, "a mix of old and new copies"
    return "new"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    scratch = tmp_path_factory.mktemp("crash")
    home = scratch / "home"
    artifacts: dict[tuple[str, str], Any] = {
        (name, "skill"): {"SKILL.md": f"# {name} v1\n", "docs/notes.md": f"notes of {name}\n"}
        for name in NAMES
    }
    for name, kind in EXTRA:
        artifacts[(name, kind)] = {"SKILL.md": f"# {name}\n"} if kind == "skill" else f"# /{name}\n"
    build_collection(home, "default", artifacts)
    template = scratch / "template"
    template.mkdir()
    default = load_collections(home).get("default")
    assert default is not None
    deploy(template, default, [(name, "skill") for name in NAMES], now=NOW)
    old = agreed_state(template)
    for name in NAMES:
        (home / f"collections/default/skills/{name}/SKILL.md").write_text(f"# {name} v2\n")
    new = {rel: content_hash(home / "collections/default" / rel) for rel in old}
    assert all(new[rel] != old[rel] for rel in old)
    caches = (scratch / "cache-a.db", scratch / "cache-b.db")
    warm = [cli_process(home, cache, "status", "--project", template) for cache in caches]
    assert [finished(process)[0] for process in warm] == [0, 0]
    return World(home, caches, template, load_collections(home), old, new, scratch)


# --- killing a real skillmeat-ls -----------------------------------------------------------------


def cli_process(
    home: Path, cache: Path, *args: str | Path, pause: str | None = None
) -> subprocess.Popen[str]:
    env = {**os.environ, "SKILLMEAT_HOME": "/nonexistent-skillmeat-home"}
    env.pop("SKILLMEAT_LS_CACHE", None)
    env.pop(PAUSE_ENV, None)
    if pause is not None:
        env[PAUSE_ENV] = pause
    command = [sys.executable, "-m", "skillmeat_ls", "--home", str(home), "--cache", str(cache)]
    return subprocess.Popen(
        [*command, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def kill_when_stopped(process: subprocess.Popen[str], point: str) -> None:
    """Wait until ``process`` stops itself at ``point`` (state ``T``), then ``SIGKILL`` it."""
    stat_file = Path(f"/proc/{process.pid}/stat")
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            _, out, err = finished(process)
            pytest.fail(f"exited {process.returncode} before {point}:\n{out}{err}")
        with contextlib.suppress(FileNotFoundError):  # it may be exiting: polled again
            if stat_file.read_text().rsplit(")", 1)[1].split()[0] == "T":
                break
        assert time.monotonic() < deadline, f"never stopped at {point}"
        time.sleep(0.005)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def killed(world: World, project: Path, point: str, *args: str) -> None:
    """Run ``skillmeat-ls ARGS --project PROJECT`` and kill it right after ``point``."""
    process = cli_process(world.home, world.caches[0], *args, "--project", project, pause=point)
    kill_when_stopped(process, point)


@pytest.mark.parametrize("point", list(UPDATE_KILLS))
def test_update_all_killed_at_any_step(world: World, point: str) -> None:
    project = world.project(f"update-{point.replace(':', '-')}")
    killed(world, project, point, "update", "--all")
    step, count = point.split(":")
    if step == "move":  # move 2k+1 takes skill k out of its place, move 2k+2 puts the new one in
        number, moved_in = divmod(int(count) - 1, 2)
        rel = f"skills/{NAMES[number]}"
        if moved_in:
            assert content_hash(world.root(project) / rel) == world.new[rel]
        else:
            assert not (world.root(project) / rel).exists()
    if point != "remove_tree:1":
        assert (world.root(project) / JOURNAL_NAME).exists() or any(
            p.name.startswith(STAGING_PREFIX) for p in world.root(project).iterdir()
        )
    again = project.with_name(project.name + "-again")
    if point in UPDATE_AGAIN:
        shutil.copytree(project, again, symlinks=True)

    # The next command: status, and (at the same time, in the copy) a new update.
    looking = cli_process(world.home, world.caches[0], "status", "--project", project)
    updating = (
        cli_process(world.home, world.caches[1], "update", "--all", "--project", again)
        if point in UPDATE_AGAIN
        else None
    )
    code, out, err = finished(looking)
    assert code == 0, err
    assert outcome(world, project) == UPDATE_KILLS[point]
    assert ("note: .claude/:" in err) is (point != "remove_tree:1"), err
    assert out.count("in-sync" if UPDATE_KILLS[point] == "new" else "update-available") == SKILLS

    if updating is not None:
        code, out, err = finished(updating)
        assert code == 0, err
        assert outcome(world, again) == "new"


@pytest.mark.parametrize("point", ["move:41", "remove_file:1"])
def test_a_killed_recovery_is_completed_by_the_next_one(world: World, point: str) -> None:
    project = world.project(f"recovery-{point.replace(':', '-')}")
    killed(world, project, "move:80", "update", "--all")  # every new copy in, record old
    killed(world, project, point, "status")  # the recovery of that, killed in its turn
    code, _out, err = finished(
        cli_process(world.home, world.caches[0], "status", "--project", project)
    )
    assert code == 0, err
    assert outcome(world, project) == "old"


@pytest.mark.parametrize(("point", "expected"), [("move:3", "old"), ("write_text:1", "new")])
def test_deploy_killed_mid_swap(world: World, point: str, expected: str) -> None:
    """Two new skills and two commands (whose folder the deploy creates)."""
    project = world.project(f"deploy-{point.replace(':', '-')}")
    specs = sorted(f"{name}:{kind}" for name, kind in EXTRA)
    killed(world, project, point, "deploy", "--collection", "default", *specs)
    assert (world.root(project) / JOURNAL_NAME).exists()
    code, _out, err = finished(
        cli_process(world.home, world.caches[0], "status", "--project", project)
    )
    assert code == 0, err
    state = agreed_state(project)
    added = {rel: hash_ for rel, hash_ in state.items() if rel not in world.old}
    assert {rel: state[rel] for rel in world.old} == world.old
    if expected == "old":
        assert added == {} and not (world.root(project) / "commands").exists()
    else:
        assert sorted(added) == ["commands/c0.md", "commands/c1.md", "skills/x0", "skills/x1"]


def test_undoing_a_folder_moved_in_whole_keeps_what_another_program_put_in_it(
    world: World,
) -> None:
    """The deploy of two commands into a root without ``commands/`` moves the folder in with
    both (``move:1``) and is killed; before the next command, another program adds a command
    there. Undoing takes out the two copies, one by one, and leaves the folder and that one."""
    project = world.project("deploy-folder-then-foreign")
    killed(world, project, "move:1", "deploy", "--collection", "default", "c0:command", "c1:command")
    commands = world.root(project) / "commands"
    assert {path.name for path in commands.iterdir()} == {
        "c0.md",
        "c1.md",
        f".c0.md{LOCK_SUFFIX}",
        f".c1.md{LOCK_SUFFIX}",
    }
    (commands / "foreign.md").write_text("# written by another program\n")
    code, _out, err = finished(
        cli_process(world.home, world.caches[0], "status", "--project", project)
    )
    assert code == 0, err
    left = {path.name for path in commands.iterdir() if not path.name.endswith(LOCK_SUFFIX)}
    assert left == {"foreign.md"}  # lock files stay, as SkillMeat leaves them
    assert (commands / "foreign.md").read_text() == "# written by another program\n"
    root = world.root(project)
    assert not (root / JOURNAL_NAME).exists()
    assert not [p for p in root.iterdir() if p.name.startswith(STAGING_PREFIX)]
    records = tomllib.loads((root / DEPLOYED).read_text())["deployed"]
    assert {r["artifact_path"]: r["content_hash"] for r in records} == world.old


@pytest.mark.parametrize(("point", "expected"), [("move:1", "old"), ("write_text:1", "new")])
def test_undeploy_killed_mid_swap(world: World, point: str, expected: str) -> None:
    project = world.project(f"undeploy-{point.replace(':', '-')}")
    killed(world, project, point, "undeploy", "s05:skill")
    assert not (world.root(project) / "skills/s05").exists()  # moved aside either way
    code, _out, err = finished(
        cli_process(world.home, world.caches[0], "status", "--project", project)
    )
    assert code == 0, err
    state = agreed_state(project)
    if expected == "old":
        assert state == world.old
    else:
        assert state == {rel: h for rel, h in world.old.items() if rel != "skills/s05"}


def test_the_pause_seam_names_its_steps(world: World) -> None:
    process = cli_process(
        world.home, world.caches[0], "status", "--project", world.template, pause="nap:1"
    )
    code, _out, err = finished(process)
    assert code == 2 and f"${PAUSE_ENV}='nap:1': expected STEP:N" in err


# --- killing the engine in a forked child --------------------------------------------------------


def crash(operation: Callable[[FileOps], object], point: str | None) -> None:
    """Run ``operation`` in a forked child, stopped right after ``point`` (None: ``operation``
    stops itself), then killed with ``SIGKILL``."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the child never returns
        try:
            if point is not None:
                os.environ[PAUSE_ENV] = point
            operation(file_ops_from_environment())
        finally:
            os._exit(3)
    _, state = os.waitpid(child, os.WUNTRACED)
    assert os.WIFSTOPPED(state), f"the child ended before {point}"
    os.kill(child, signal.SIGKILL)
    _, state = os.waitpid(child, 0)
    assert os.WIFSIGNALED(state) and os.WTERMSIG(state) == signal.SIGKILL


def test_redeploying_the_same_text_killed_mid_swap(world: World) -> None:
    """A redeploy that writes the deployment file unchanged: the file cannot tell whether it
    committed, and recovery rolls the copies back, which agrees with the same records."""
    project = world.project("same-text")
    default = world.default
    pairs = sorted(EXTRA)
    deploy(project, default, pairs, now=NOW)
    before = agreed_state(project)
    crash(lambda ops: deploy(project, default, pairs, now=NOW, file_ops=ops), "move:3")
    report = recover(project / ".claude")
    assert report is not None and report.outcome == "rolled back"
    assert agreed_state(project) == before


def test_hold_record_commit_from_another_thread(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = world.project("hold-commit")
    pairs = [(name, "skill") for name in NAMES]
    result = update_many(project, world.index, pairs, hold_record=True)
    pending = result.pending
    assert pending is not None and "pending" not in result.as_dict()
    assert str(pending.path) == os.path.realpath(world.root(project) / DEPLOYED)
    assert tomllib.loads(pending.path.read_text()) != tomllib.loads(pending.text)
    journal = json.loads((world.root(project) / JOURNAL_NAME).read_text())
    assert (journal["operation"], len(journal["swaps"]), journal["created"]) == ("update", 40, [])
    assert journal["swaps"][0] == {"path": "skills/s00", "aside": "old-0", "new": "new-0"}
    # the deployment file's lock is held meanwhile
    with pytest.raises(LockTimeout), destination_lock(pending.path, timeout=0):
        pass
    monkeypatch.setenv("SKILLMEAT_LS_LOCK_TIMEOUT", "0.1")
    with pytest.raises(DeployError, match="waiting for the editor to record it"):
        deploy(project, world.default, [("x0", "skill")])  # refused at once, in this process
    assert len(status(project, world.index)) == SKILLS  # its journal is left alone

    pending.path.write_text(pending.text)  # as the editor saves it
    worker = threading.Thread(target=pending.commit)
    worker.start()
    worker.join()
    pending.commit()  # again: nothing more to do
    assert pending.outcome == "committed"
    assert outcome(world, project) == "new"
    with destination_lock(pending.path, timeout=0):  # released, though by another thread
        pass
    with pytest.raises(RuntimeError, match="already committed"):
        pending.rollback()


def test_hold_record_rollback(world: World) -> None:
    project = world.project("hold-rollback")
    result = update_many(project, world.index, [(n, "skill") for n in NAMES], hold_record=True)
    assert result.pending is not None
    assert result.pending.rollback() == ()
    assert result.pending.rollback() == ()
    assert outcome(world, project) == "old"
    with destination_lock(result.pending.path, timeout=0):
        pass


def test_a_process_killed_while_pending_is_rolled_back(world: World) -> None:
    project = world.project("hold-killed")

    def prepare_then_stop(ops: FileOps) -> None:
        result = update_many(
            project, world.index, [(n, "skill") for n in NAMES], file_ops=ops, hold_record=True
        )
        assert result.pending is not None
        os.kill(os.getpid(), signal.SIGSTOP)

    crash(prepare_then_stop, None)
    reports: list[Any] = []
    status(project, world.index, on_recovery=reports.append)
    assert [(r.operation, r.outcome, len(r.paths)) for r in reports] == [
        ("update", "rolled back", SKILLS)
    ]
    assert outcome(world, project) == "old"


class ReadOnly(FileOps):
    """Nothing can be moved: a read-only checkout."""

    def move(self, source: Path, destination: Path) -> None:
        raise OSError(30, "Read-only file system", str(source))


def test_a_recovery_that_cannot_write_reports_the_interrupted_request(world: World) -> None:
    project = world.project("read-only")
    pairs = [(name, "skill") for name in NAMES]
    crash(lambda ops: update_many(project, world.index, pairs, file_ops=ops), "move:9")
    before = snapshot(project)
    with pytest.raises(DeployError) as caught:
        status(project, world.index, file_ops=ReadOnly())
    message = str(caught.value)
    assert f".claude/{JOURNAL_NAME}: undoing the interrupted update failed" in message
    assert "Read-only file system" in message and "run skillmeat-ls again" in message
    assert snapshot(project) == before  # the journal and the staging folder are kept
    report = recover(project / ".claude")
    assert report is not None and report.outcome == "rolled back"
    assert outcome(world, project) == "old"


# --- journals not to be trusted ------------------------------------------------------------------


def journal_of(swaps: list[dict[str, Any]], staging: str = STAGING_PREFIX + "x") -> str:
    return json.dumps(
        {
            "journal": "skillmeat-ls",
            "version": 1,
            "operation": "update",
            "staging": staging,
            "deployment_file": DEPLOYED,
            "old_sha256": None,
            "new_sha256": "0" * 64,
            "created": [],
            "swaps": swaps,
        }
    )


def test_hostile_journals_are_not_acted_on(world: World, tmp_path: Path) -> None:
    project = world.project("hostile")
    root = world.root(project)
    outside = tmp_path / "outside"
    (outside / "victim").mkdir(parents=True)
    (outside / "victim/keep.txt").write_text("user data\n")
    (outside / "old-0").mkdir()
    (root / (STAGING_PREFIX + "x")).mkdir()
    victim = str(outside / "victim")
    journals = {
        "{not json": "it is not JSON",
        "[]": "not a journal skillmeat-ls wrote",
        journal_of(
            [{"path": "../../outside/victim", "aside": "old-0", "new": "new-0"}]
        ): "leaves the profile root",
        journal_of([{"path": victim, "aside": "old-0", "new": "new-0"}]): "is absolute",
        journal_of(
            [{"path": "skills/s00", "aside": "../../x", "new": "new-0"}]
        ): "is not a name inside the staging folder",
        journal_of([], staging="../outside"): "is not a .skillmeat-staging-* folder",
        # a copy inside a staged folder is named by its own name only, under a new-N folder
        journal_of(
            [{"path": "skills/s00", "aside": "old-0", "new": "new-0/../../../outside"}]
        ): "is not a name inside the staging folder",
        journal_of(
            [{"path": "skills/s00", "aside": "old-0", "new": "old-0/s00"}]
        ): "is not a name inside the staging folder",
        journal_of(
            [{"path": "skills/s00", "aside": "old-0", "new": "new-0/s01"}]
        ): "is not a name inside the staging folder",
        journal_of(
            [{"path": "skills/s00", "aside": "new-0/s00", "new": "new-1"}]
        ): "is not a name inside the staging folder",
    }

    def everything() -> tuple[dict[str, Any], dict[str, Any]]:
        inside = snapshot(project)
        inside.pop(f".claude/{JOURNAL_NAME}", None)
        return snapshot(tmp_path), inside

    before = everything()
    for text, reason in journals.items():
        (root / JOURNAL_NAME).write_text(text)
        with pytest.raises(DeployError) as caught:
            recover(root)
        assert f".claude/{JOURNAL_NAME} (the journal of an interrupted" in str(caught.value)
        assert reason in str(caught.value) and "then delete the journal" in str(caught.value)
        assert everything() == before

    # A staging folder that is a symlink out of the root, and a symlinked folder on the way.
    (root / (STAGING_PREFIX + "x")).rmdir()
    (root / (STAGING_PREFIX + "x")).symlink_to(outside)
    (root / JOURNAL_NAME).write_text(
        journal_of([{"path": "skills/s00", "aside": "old-0", "new": "new-0"}])
    )
    with pytest.raises(DeployError, match="is not a folder"):
        recover(root)
    (root / (STAGING_PREFIX + "x")).unlink()
    (root / "commands").symlink_to(outside)
    (root / JOURNAL_NAME).write_text(
        journal_of([{"path": "commands/victim", "aside": "old-0", "new": "new-0"}])
    )
    with pytest.raises(DeployError, match="symlink"):
        status(project, world.index)  # status refuses to read past it, as every request does
    with pytest.raises(DeployError, match="symlink"):
        deploy(project, world.default, [("x0", "skill")])
    (root / JOURNAL_NAME).unlink()
    (root / JOURNAL_NAME).symlink_to(outside / "victim/keep.txt")
    with pytest.raises(DeployError, match="not a regular file"):
        recover(root)
    assert everything()[0] == before[0]
    assert (outside / "victim/keep.txt").read_text() == "user data\n"


# --- stale staging folders -----------------------------------------------------------------------


def test_stale_staging_is_swept_by_status_unless_a_request_runs(
    world: World, tmp_path: Path
) -> None:
    project = world.project("stale-status")
    root = world.root(project)
    (root / (STAGING_PREFIX + "dead1") / "new-0").mkdir(parents=True)
    (root / (STAGING_PREFIX + "dead2")).mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine\n")
    (root / (STAGING_PREFIX + "link")).symlink_to(outside)
    with destination_lock(root / DEPLOYED):  # a request is running: its staging is its own
        assert status(project, world.index)
        assert (root / (STAGING_PREFIX + "dead1")).is_dir()
    reports: list[Any] = []
    status(project, world.index, on_recovery=reports.append)
    assert [(r.outcome, r.swept) for r in reports] == [
        (None, (STAGING_PREFIX + "dead1", STAGING_PREFIX + "dead2"))
    ]
    assert "2 staging folders left by interrupted requests removed" in reports[0].message
    assert (root / (STAGING_PREFIX + "link")).is_symlink()  # never followed
    assert (outside / "keep.txt").read_text() == "mine\n"
    (root / (STAGING_PREFIX + "link")).unlink()
    assert agreed_state(project) == world.old
    assert recover(root) is None


def test_undeploy_of_a_missing_copy_is_journalled_without_swaps(world: World) -> None:
    project = world.project("missing-copy")
    shutil.rmtree(world.root(project) / "skills/s07")
    crash(lambda ops: undeploy(project, "s07", "skill", file_ops=ops), "write_journal:1")
    report = recover(project / ".claude")
    assert report is not None and (report.outcome, report.paths) == ("rolled back", ())
    result = undeploy(project, "s07", "skill")
    assert result.removed[0].missing and result.recovered is None
    assert agreed_state(project) == {r: h for r, h in world.old.items() if r != "skills/s07"}
