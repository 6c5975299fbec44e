"""The CI integrations, run for real: the composite action's steps as a runner runs them, and the
pre-commit hook through the real ``pre-commit`` on a temporary git repository. Each installs
this package from the working tree into an environment of its own (PyPI serves the
dependencies)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

yaml = pytest.importorskip("yaml")  # pre-commit's own dependency

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BROKEN = '[[deployed]]\nartifact_name = "x"\nartifact_type = "skill"\n'
INPUT = re.compile(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}")


def run_action(workspace: Path, tmp_path: Path, **inputs: str) -> tuple[int, str, dict[str, str]]:
    """Run ``action.yml``'s steps in order, as GitHub's runner does: ``${{ inputs.* }}`` filled
    in, ``$GITHUB_PATH`` prepended to ``PATH`` between steps, ``$GITHUB_OUTPUT`` collected."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({key.replace("_", "-"): value for key, value in inputs.items()})
    (tmp_path / "runner").mkdir(parents=True)
    github_path, github_output = tmp_path / "github_path", tmp_path / "github_output"
    github_path.write_text("")
    github_output.write_text("")
    env = {**os.environ, "GITHUB_PATH": str(github_path), "GITHUB_OUTPUT": str(github_output),
           "RUNNER_TEMP": str(tmp_path / "runner"), "SKILLMEAT_HOME": str(EXAMPLES / "home"),
           "SKILLMEAT_LS_CACHE": str(tmp_path / "c.db")}
    output = ""
    status = 0
    for step in action["runs"]["steps"]:
        step_env = {key: INPUT.sub(lambda m: values[m.group(1)], str(value))
                    for key, value in step.get("env", {}).items()}
        extra = [line for line in github_path.read_text().splitlines() if line]
        env["PATH"] = os.pathsep.join([*reversed(extra), os.environ["PATH"]])
        done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=workspace,
                              env={**env, **step_env}, capture_output=True, text=True,
                              timeout=600)
        output += done.stdout
        status = done.returncode
        if status != 0:
            break
    outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines() if line)
    return status, output, outputs


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "workspace", copy)
    return copy


def test_composite_action_annotates_and_writes_sarif(tmp_path: Path, workspace: Path) -> None:
    status, output, _ = run_action(workspace, tmp_path / "a", package=str(ROOT), paths="collisions")
    assert status == 1  # errors in the collisions project fail the step
    assert "::error file=collisions/.claude/.skillmeat-deployed.toml,line=" in output
    status, _, outputs = run_action(
        workspace, tmp_path / "b", package=str(ROOT), format="sarif", paths="clean",
        fail_level="warning",
    )
    assert status == 0
    log: dict[str, Any] = json.loads((workspace / outputs["sarif-file"]).read_text())
    jsonschema.validate(log, json.loads((ROOT / "tests/data/sarif-2.1.0-rtm.5.json").read_text()))
    assert log["runs"][0]["results"] == []


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"})


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_hook_blocks_a_broken_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app" / ".agents").mkdir(parents=True)
    git(repo, "init", "-q")
    target = repo / "app" / ".agents" / ".skillmeat-deployed.toml"
    target.write_text(BROKEN)
    (repo / "pyproject.toml").write_text("[project]\nname = 'not a deployment file'\n")
    git(repo, "add", ".")
    env = {**os.environ, "SKILLMEAT_HOME": str(tmp_path / "no-home"),
           "SKILLMEAT_LS_CACHE": str(tmp_path / "c.db"),
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "skillmeat-ls-check",
                  "--all-files"]
    failed = subprocess.run(pre_commit, cwd=repo, env=env, capture_output=True, text=True,
                            timeout=900)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "app/.agents/.skillmeat-deployed.toml:1:1: error SM110" in failed.stdout
    assert "pyproject.toml" not in failed.stdout.split("skillmeat-ls check", 1)[-1]
    target.write_text("deployed = []\n")
    git(repo, "add", ".")
    passed = subprocess.run(pre_commit, cwd=repo, env=env, capture_output=True, text=True,
                            timeout=900)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
