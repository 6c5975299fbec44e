"""A skillmeat-ls write and a real SkillMeat write on one project at the same time.

SkillMeat 0.74.0 locks each destination with ``flock`` on ``.<name>.skillmeat-lock`` only around
its swap, and reads the tracking file before it locks. skillmeat-ls takes the same flock and
re-reads the file under it (SPEC §2), so it never drops a record SkillMeat wrote. (SkillMeat can
still drop one skillmeat-ls wrote between SkillMeat's read and its write: that window is
SkillMeat's, and a run that lands in it is reported as such.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import smreal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def needs_lock(release: smreal.Installed) -> None:
    if not release.release.takes_write_lock:
        pytest.skip(
            f"SkillMeat {release.version} takes no write lock (WriteTransaction is new in 0.74.0)"
        )


def records(project: Path) -> set[tuple[str, str, str]]:
    out = set()
    for path in smreal.tracking_files(project).values():
        for r in tomllib.loads(path.read_text()).get("deployed", []):
            out.add(
                (
                    r["artifact_name"],
                    r["artifact_type"],
                    r.get("deployment_profile_id") or "claude_code",
                )
            )
    return out


def wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def sm(world: smreal.World, tmp_path_factory: pytest.TempPathFactory) -> smreal.SkillMeat:
    needs_lock(world.sm.installed)
    return world.sm.copy_to(tmp_path_factory.mktemp("concurrency") / "home")


def traced_deploy(sm: smreal.SkillMeat, out: Path, *args: str) -> subprocess.Popen[str]:
    return sm.side_popen("traced-cli", out, {"args": list(args)})


# skillmeat-ls starts this long after SkillMeat: at once, and then across SkillMeat's run.
# SkillMeat 0.74.0's CLI reads and writes the tracking file about 2.2 s after it starts, within
# about 10 ms; a skillmeat-ls deploy takes about 0.5 s and writes at its end.
DELAYS = (0.0, 1.6, 1.9)


def test_started_together_both_end_with_every_record(sm: smreal.SkillMeat, tmp_path: Path) -> None:
    ours_lost_in_skillmeats_window = []
    failures = []
    for run, delay in enumerate(DELAYS):
        project = tmp_path / f"p{run}"
        project.mkdir()
        trace = tmp_path / f"trace{run}.json"
        started = time.monotonic()
        theirs = traced_deploy(
            sm,
            trace,
            "deploy",
            "review",
            "-t",
            "skill",
            "-p",
            str(project),
            *sm.release.deploy_flags,
            "--format",
            "json",
        )
        time.sleep(delay)
        ls_start = time.monotonic()
        ours = subprocess.run(
            smreal.ls_command(
                "deploy",
                "--project",
                project,
                "--collection",
                "default",
                "helper",
                "review:command",
                home=sm.smhome,
                cache=tmp_path / "ls.db",
            ),
            capture_output=True,
            text=True,
            env=smreal.ls_env(),
            timeout=120,
        )
        ls_end = time.monotonic()
        out, err = theirs.communicate(timeout=300)
        assert theirs.returncode == 0 and trace.exists(), (
            f"SkillMeat failed:\n{out[-2000:]}\n{err[-2000:]}"
        )
        events = json.loads(trace.read_text())
        assert events["exit_code"] == 0, out[-2000:]
        assert ours.returncode == 0, (
            f"run {run}: skillmeat-ls failed: {ours.stdout[-2000:]}{ours.stderr[-2000:]}"
        )
        got = records(project)
        if ("review", "skill", "claude_code") not in got:
            failures.append(f"run {run} (+{delay}s): SkillMeat's record was dropped: {sorted(got)}")
        missing = {("helper", "agent", "claude_code"), ("review", "command", "claude_code")} - got
        if missing:
            reads = [e for e in events["events"] if e[0] == "read_deployments"]
            writes = [e for e in events["events"] if e[0] == "write_deployments"]
            window = (
                (min(e[1] for e in reads), max(e[2] for e in writes)) if reads and writes else None
            )
            timeline = (
                f"SkillMeat from +0.0 s, read/write window "
                f"{[round(t - started, 3) for t in window] if window else None}, "
                f"skillmeat-ls +{ls_start - started:.3f}..+{ls_end - started:.3f} s"
            )
            if window and ls_start < window[1] and ls_end > window[0]:
                ours_lost_in_skillmeats_window.append(f"run {run}: {sorted(missing)} ({timeline})")
            else:
                failures.append(
                    f"run {run}: skillmeat-ls's records {sorted(missing)} lost ({timeline})"
                )
    assert not failures, "\n".join(failures)
    if ours_lost_in_skillmeats_window:
        pytest.xfail(
            "SkillMeat 0.74.0 read the file before skillmeat-ls wrote and wrote after (its own "
            "read-before-lock): " + "; ".join(ours_lost_in_skillmeats_window)
        )


def _deploy_while_held(
    sm: smreal.SkillMeat,
    holder: subprocess.Popen[str],
    held: Path,
    project: Path,
    cache: Path,
    *args: str,
) -> tuple[float, dict[str, float]]:
    """Deploy from ``default`` with skillmeat-ls while SkillMeat's ``holder`` holds a lock; when
    skillmeat-ls finished, and the holder's timings (``swapped``: when it let go)."""
    ours = smreal.skillmeat_ls(
        "deploy", "--project", project, "--collection", "default", *args,
        home=sm.smhome, cache=cache, timeout=120,
    )
    ls_end = time.monotonic()
    _, err = holder.communicate(timeout=60)
    assert holder.returncode == 0, err[-3000:]
    assert ours.returncode == 0, ours.stdout + ours.stderr
    times: dict[str, float] = json.loads(held.read_text())
    return ls_end, times


def _hold(sm: smreal.SkillMeat, tmp_path: Path, request: dict[str, Any], hold: float):
    signal = tmp_path / "locked"
    out = tmp_path / "held.json"
    process = sm.side_popen("hold-lock", out, {**request, "signal": str(signal), "hold": hold})
    wait_for(signal)
    return process, out


def test_skillmeat_ls_waits_for_skillmeats_lock_and_rereads(
    sm: smreal.SkillMeat, tmp_path: Path
) -> None:
    """SkillMeat holds the tracking file's flock and then writes a record: none may be lost."""
    project = tmp_path / "p"
    project.mkdir()
    cache = tmp_path / "ls.db"
    first = smreal.skillmeat_ls(
        "deploy",
        "--project",
        project,
        "--collection",
        "default",
        "helper",
        home=sm.smhome,
        cache=cache,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    tracking = project / ".claude" / ".skillmeat-deployed.toml"
    assert (project / ".claude" / "..skillmeat-deployed.toml.skillmeat-lock").exists(), (
        "skillmeat-ls wrote the tracking file without SkillMeat's lock file beside it"
    )
    lock = tomllib.loads((sm.smhome / "collections" / "default" / "collection.lock").read_text())
    command_hash = lock["lock"]["entries"]["review::command"]["content_hash"]
    theirs = {
        "artifact_name": "review",
        "artifact_type": "command",
        "from_collection": "default",
        "deployed_at": "2026-12-01T10:00:00",
        "artifact_path": "commands/review.md",
        "content_hash": command_hash,
        "local_modifications": False,
        "merge_base_snapshot": command_hash,
        "deployment_profile_id": "claude_code",
        "platform": "claude_code",
        "profile_root_dir": ".claude",
    }
    holder, held = _hold(
        sm,
        tmp_path,
        {
            "destination": str(tracking),
            "project": str(project),
            "root": ".claude",
            "record": theirs,
        },
        hold=2.5,
    )
    ls_end, times = _deploy_while_held(sm, holder, held, project, cache, "review:skill")
    got = records(project)
    assert ("review", "command", "claude_code") in got, (
        f"SkillMeat's record was dropped: {sorted(got)}"
    )
    assert {("helper", "agent", "claude_code"), ("review", "skill", "claude_code")} <= got, sorted(
        got
    )
    assert ls_end > times["swapped"], "skillmeat-ls finished while SkillMeat held the lock"


def test_skillmeat_ls_waits_for_skillmeats_lock_on_a_copy(
    sm: smreal.SkillMeat, tmp_path: Path
) -> None:
    """SkillMeat holds the flock of a skill's destination folder; skillmeat-ls deploys it too."""
    project = tmp_path / "p"
    (project / ".claude" / "skills").mkdir(parents=True)
    cache = tmp_path / "ls.db"
    destination = project / ".claude" / "skills" / "review"
    source = sm.smhome / "collections" / "default" / "skills" / "review"
    holder, held = _hold(
        sm, tmp_path, {"destination": str(destination), "source": str(source)}, hold=2.5
    )
    ls_end, times = _deploy_while_held(
        sm, holder, held, project, cache, "--overwrite", "review:skill"
    )
    assert ls_end > times["swapped"], (
        "skillmeat-ls replaced the folder while SkillMeat held its lock"
    )
    truth = sm.truth(project)
    assert [(t["name"], t["recorded"] == t["project_hash"]) for t in truth] == [("review", True)], (
        truth
    )
