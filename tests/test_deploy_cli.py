"""The deploy, update, undeploy and status commands, run as a user runs them: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skillmeat_ls.hashing import content_hash


def run(*args: str | Path, home: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SKILLMEAT_HOME": "/nonexistent-skillmeat-home"}
    env.pop("SKILLMEAT_LS_CACHE", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "skillmeat_ls",
            *map(str, args),
            "--home",
            str(home),
            "--cache",
            str(cache),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def collection(home: Path, name: str, files: dict[str, str]) -> None:
    """A collection in SkillMeat's format; ``files`` by path, the type from the folder."""
    root = home / "collections" / name
    kinds = {"skills": "skill", "commands": "command", "agents": "agent"}
    entries = []
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        folder, artifact = rel.split("/")[:2]
        path = f"{folder}/{artifact}"
        entries.append(
            f'[[artifacts]]\nname = "{artifact.removesuffix(".md")}"\n'
            f'type = "{kinds[folder]}"\npath = "{path}"\norigin = "local"\n'
            'added = "2026-01-01T00:00:00"\n'
        )
    (root / "collection.toml").write_text(
        f'[collection]\nname = "{name}"\nversion = "1.0.0"\n'
        'created = "2026-01-01T00:00:00"\nupdated = "2026-01-01T00:00:00"\n\n' + "\n".join(entries)
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    collection(
        home,
        "default",
        {
            "skills/code-review/SKILL.md": "# Code review\n",
            "commands/code-review.md": "# /code-review\n",
            "agents/helper.md": "# Helper\n",
        },
    )
    collection(home, "team", {"commands/code-review.md": "# team /code-review\n"})
    project = tmp_path / "project"
    project.mkdir()
    return {"home": home, "cache": tmp_path / "cache.db", "project": project}


def cli(env: dict[str, Path], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return run(*args, home=env["home"], cache=env["cache"])


def test_deploy_text(env: dict[str, Path]) -> None:
    result = cli(
        env,
        "deploy",
        "--project",
        env["project"],
        "--collection",
        "default",
        "helper",
        "code-review:skill",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("deployed  agent helper -> .claude/agents/helper.md (from default")
    assert lines[1].startswith("deployed  skill code-review -> .claude/skills/code-review")
    assert lines[-1].startswith("2 deployed, 0 skipped, 0 errors: ")
    assert (env["project"] / ".claude/skills/code-review/SKILL.md").is_file()


def test_deploy_json_is_the_command_result(env: dict[str, Path]) -> None:
    result = cli(
        env,
        "deploy",
        "--project",
        env["project"],
        "--collection",
        "default",
        "code-review:command",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"deployed", "skipped", "errors", "file", "profile", "root"}
    assert (data["profile"], data["root"]) == ("claude_code", ".claude")
    (item,) = data["deployed"]
    assert item["name"] == "code-review" and item["type"] == "command"
    assert item["path"] == "commands/code-review.md" and item["collection"] == "default"
    assert item["content_hash"] == content_hash(env["project"] / ".claude" / item["path"])
    assert data["file"].endswith(".claude/.skillmeat-deployed.toml")

    switched = cli(
        env,
        "deploy",
        "--project",
        env["project"],
        "--collection",
        "team",
        "code-review:command",
        "--format",
        "json",
    )
    assert json.loads(switched.stdout)["deployed"][0]["replaced_from"] == "default"


def test_ambiguous_name_lists_candidates(env: dict[str, Path]) -> None:
    result = cli(
        env, "deploy", "--project", env["project"], "--collection", "default", "code-review"
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        'skillmeat-ls: error: "code-review" is ambiguous in collection default: skill, '
        "command; write code-review:skill or code-review:command"
    )
    assert not (env["project"] / ".claude").exists()


def test_unknown_collection_lists_the_known_ones(env: dict[str, Path]) -> None:
    result = cli(env, "deploy", "--project", env["project"], "--collection", "defualt", "helper")
    assert result.returncode == 2
    assert result.stderr.strip().endswith(
        f"unknown collection 'defualt' in {env['home']} (known: default, team)"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_artifact_and_missing_home(env: dict[str, Path], tmp_path: Path) -> None:
    result = cli(env, "deploy", "--project", env["project"], "--collection", "default", "nope")
    assert result.returncode == 2
    assert "collection default has no artifact named 'nope'" in result.stderr
    missing = run(
        "deploy",
        "--project",
        env["project"],
        "--collection",
        "default",
        "helper",
        home=tmp_path / "no-home",
        cache=env["cache"],
    )
    assert missing.returncode == 2 and "no SkillMeat collections under" in missing.stderr


def test_exit_codes_and_overwrite(env: dict[str, Path]) -> None:
    project = env["project"]
    assert (
        cli(env, "deploy", "--project", project, "--collection", "default", "helper").returncode
        == 0
    )
    (project / ".claude/agents/helper.md").write_text("# mine\n")
    kept = cli(env, "deploy", "--project", project, "--collection", "default", "helper")
    assert kept.returncode == 1
    assert "skipped   agent helper: .claude/agents/helper.md was modified locally" in kept.stdout
    dry = cli(
        env,
        "deploy",
        "--project",
        project,
        "--collection",
        "default",
        "helper",
        "--overwrite",
        "--dry-run",
    )
    assert dry.returncode == 0 and "dry run: nothing was written" in dry.stdout
    assert (project / ".claude/agents/helper.md").read_text() == "# mine\n"
    forced = cli(
        env, "deploy", "--project", project, "--collection", "default", "helper", "--overwrite"
    )
    assert forced.returncode == 0
    assert (project / ".claude/agents/helper.md").read_text() == "# Helper\n"
    refused = cli(
        env,
        "deploy",
        "--project",
        project,
        "--collection",
        "default",
        "--format",
        "json",
        "../evil",
    )
    assert refused.returncode == 2 and "unsafe artifact name" in refused.stderr
    usage = cli(env, "deploy", "--project", project, "helper")
    assert usage.returncode == 2 and "--collection" in usage.stderr


def test_status_update_and_undeploy(env: dict[str, Path]) -> None:
    project = env["project"]
    assert (
        cli(
            env,
            "deploy",
            "--project",
            project,
            "--collection",
            "default",
            "helper",
            "code-review:skill",
        ).returncode
        == 0
    )
    (env["home"] / "collections/default/agents/helper.md").write_text("# Helper v2\n")

    table = cli(env, "status", "--project", project)
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == ["STATE", "TYPE", "NAME", "COLLECTION", "PATH"]
    assert "update-available  agent" in table.stdout
    data = json.loads(cli(env, "status", "--project", project, "--format", "json").stdout)
    assert {r["name"]: r["state"] for r in data["records"]} == {
        "helper": "update-available",
        "code-review": "in-sync",
    }

    assert cli(env, "update", "--project", project).returncode == 2  # names or --all
    updated = cli(env, "update", "--project", project, "--all", "--format", "json")
    assert updated.returncode == 0, updated.stderr
    assert [i["name"] for i in json.loads(updated.stdout)["deployed"]] == ["helper"]
    assert (project / ".claude/agents/helper.md").read_text() == "# Helper v2\n"
    again = cli(env, "update", "--project", project, "code-review")
    assert again.returncode == 0 and "already up to date" in again.stdout

    (project / ".claude/agents/helper.md").write_text("# mine\n")
    assert cli(env, "update", "--project", project, "helper:agent").returncode == 1
    assert cli(env, "update", "--project", project, "helper", "--force").returncode == 0

    removed = cli(env, "undeploy", "--project", project, "code-review:skill")
    assert removed.returncode == 0, removed.stderr
    assert "removed   skill code-review: .claude/skills/code-review" in removed.stdout
    assert not (project / ".claude/skills/code-review").exists()
    unknown = cli(env, "undeploy", "--project", project, "code-review:skill")
    assert unknown.returncode == 2 and "no skill 'code-review' is recorded" in unknown.stderr


def test_status_without_a_file(env: dict[str, Path]) -> None:
    result = cli(env, "status", "--project", env["project"])
    assert result.returncode == 0 and "no deployment file" in result.stdout


def test_symlinked_claude_is_one_error_line(env: dict[str, Path], tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (env["project"] / ".claude").symlink_to(elsewhere)
    result = cli(env, "deploy", "--project", env["project"], "--collection", "default", "helper")
    assert result.returncode == 2 and "is a symlink" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(elsewhere.iterdir()) == []


def test_what_a_killed_request_left_is_recovered_first(env: dict[str, Path]) -> None:
    project = env["project"]
    assert (
        cli(env, "deploy", "--project", project, "--collection", "default", "helper").returncode
        == 0
    )
    stale = project / ".claude/.skillmeat-staging-killed"
    (stale / "new-0").mkdir(parents=True)
    result = cli(
        env, "deploy", "--project", project, "--collection", "default", "code-review:skill"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "note: .claude/: 1 staging folder left by interrupted requests removed\n"
    )
    assert not stale.exists()

    journal = project / ".claude/.skillmeat-journal.json"
    journal.write_text("{half a journal")
    before = (project / ".claude/.skillmeat-deployed.toml").read_text()
    refused = cli(env, "undeploy", "--project", project, "helper")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith(
        "skillmeat-ls: error: .claude/.skillmeat-journal.json (the journal of an interrupted "
        "skillmeat-ls request) is not acted on: it is not JSON"
    )
    assert (project / ".claude/agents/helper.md").is_file() and journal.is_file()
    assert (project / ".claude/.skillmeat-deployed.toml").read_text() == before
