"""The files the real SkillMeat 0.74.0 wrote (``tests/data/skillmeat-0.74/``) give no finding.

Needs no network and no SkillMeat: the files were made once by ``make_samples.py``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import smreal

SAMPLES = smreal.ROOT / "tests" / "data" / "skillmeat-0.74"
PROJECTS = ("project", "emptied")
TRACKING = sorted(
    str(p.relative_to(SAMPLES)) for p in SAMPLES.glob("*/.*/.skillmeat-deployed.toml")
)


def test_the_samples_are_all_there() -> None:
    assert TRACKING == [
        "emptied/.agents/.skillmeat-deployed.toml",
        "emptied/.claude/.skillmeat-deployed.toml",
        "project/.agents/.skillmeat-deployed.toml",
        "project/.claude/.skillmeat-deployed.toml",
    ]
    readme = (SAMPLES / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in TRACKING), "README.md must name each file's origin"


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    # A copy, so nothing the check might leave lands in the repository (git drops empty folders;
    # the copies' hashes do not depend on them).
    target = tmp_path / "samples"
    shutil.copytree(SAMPLES, target, symlinks=True)
    return target


@pytest.mark.parametrize("with_home", [True, False], ids=["with-home", "no-home"])
@pytest.mark.parametrize("project", PROJECTS)
def test_check_finds_nothing_in_what_skillmeat_wrote(
    samples: Path, tmp_path: Path, project: str, with_home: bool
) -> None:
    home = samples / "home" if with_home else None
    report = smreal.ls_json(
        "check", samples / project, home=home, cache=tmp_path / "ls.db", ok=(0, 1)
    )
    checked = sorted(
        str(Path(f["path"]).resolve().relative_to(samples.resolve())) for f in report["files"]
    )
    assert checked == [t for t in TRACKING if t.startswith(project + "/")]
    found = [
        f"{Path(f['path']).relative_to(samples)}:{d['line']}: {d['code']} {d['message']}"
        for f in report["files"]
        for d in f["diagnostics"]
    ]
    assert found == [], "\n".join(found)
    assert all(f["error"] is None for f in report["files"]), report["files"]


def test_status_sees_every_sample_record_in_sync(samples: Path, tmp_path: Path) -> None:
    report = smreal.ls_json(
        "status", "--project", samples / "project", home=samples / "home", cache=tmp_path / "ls.db"
    )
    states = {(r["name"], r["type"], smreal.ls_profile(r)): r["state"] for r in report["records"]}
    assert states == {
        ("code-review", "skill", "claude_code"): "in-sync",
        ("lint-fix", "command", "claude_code"): "in-sync",
        ("helper", "agent", "claude_code"): "in-sync",
        ("nightly", "orchestration", "claude_code"): "in-sync",
        ("code-review", "skill", "codex"): "in-sync",
        ("helper", "agent", "codex"): "in-sync",
        ("release-notes", "command", "codex"): "in-sync",
    }
