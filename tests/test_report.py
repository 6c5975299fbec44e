"""``check`` for CI: SARIF 2.1.0 that validates against the schema, GitHub workflow commands with
GitHub's escaping, ``--fail-level``, exit codes 0/1/2 and stable ``--shard``s."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from skillmeat_ls.report import escape_data, escape_property

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((ROOT / "tests/data/sarif-2.1.0-rtm.5.json").read_text())


def check(tmp_path: Path, *args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skillmeat_ls", "--home", str(EXAMPLES / "home"),
         "--cache", str(tmp_path / "c.db"), "check", *map(str, args)],
        capture_output=True, text=True, cwd=cwd or tmp_path, timeout=300,
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "workspace", copy)
    return copy


def test_sarif_is_valid_and_complete(tmp_path: Path, workspace: Path) -> None:
    result = check(tmp_path, "--format", "sarif", "repo")
    assert result.returncode == 1, result.stderr
    log = json.loads(result.stdout)
    jsonschema.validate(log, SCHEMA)
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "skillmeat-ls" and driver["version"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert rules["SM120"]["defaultConfiguration"]["level"] == "error"
    assert rules["SM140"]["defaultConfiguration"]["level"] == "note"
    assert all(rule["shortDescription"]["text"] and rule["helpUri"] for rule in rules.values())
    results = run["results"]
    assert {r["ruleId"] for r in results} >= {"SM100", "SM120", "SM140", "SM142"}
    for item in results:
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert location["artifactLocation"]["uri"].startswith("repo/")
        region = location["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert item["level"] in ("error", "warning", "note")
        assert item["partialFingerprints"]["skillmeatFinding/v1"]


def fingerprints(tmp_path: Path, cwd: Path) -> dict[str, str]:
    log = json.loads(check(tmp_path, "--format", "sarif", ".", cwd=cwd).stdout)
    return {r["partialFingerprints"]["skillmeatFinding/v1"]: r["ruleId"]
            for r in log["runs"][0]["results"]}


def test_fingerprints_follow_the_artifact_not_the_line(tmp_path: Path, workspace: Path) -> None:
    project = workspace / "collisions"
    before = fingerprints(tmp_path, project)
    file = project / ".claude/.skillmeat-deployed.toml"
    file.write_text("\n\n# moved down by a comment\n" + file.read_text())
    assert fingerprints(tmp_path, project) == before
    assert len(before) > 3


def test_github_commands(tmp_path: Path, workspace: Path) -> None:
    result = check(tmp_path, "--format", "github", "repo/collisions")
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    first = next(line for line in lines if line.startswith("::error "))
    head, message = first[2:].split("::", 1)
    command, properties = head.split(" ", 1)
    fields = dict(part.split("=", 1) for part in properties.split(","))
    assert command == "error"
    assert fields["file"] == "repo/collisions/.claude/.skillmeat-deployed.toml"
    assert {"line", "col", "endLine", "endColumn", "title"} <= set(fields)
    assert fields["title"].startswith("SM1") and message
    assert any(line.startswith("::notice ") or line.startswith("::warning ") for line in lines)
    assert lines[-1].startswith("skillmeat-ls: 1 deployment files checked")


def test_github_escaping() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert escape_data("a:b,c") == "a:b,c"  # only properties escape ':' and ','


def project_with(tmp_path: Path, text: str) -> Path:
    claude = tmp_path / "p" / ".claude"
    claude.mkdir(parents=True)
    (claude / ".skillmeat-deployed.toml").write_text(text)
    return tmp_path / "p"


WARNING_ONLY = """[[deployed]]
artifact_name = "x"
artifact_type = "skills"
from_collection = "default"
deployed_at = "2026-01-05T15:07:49.157370"
artifact_path = "skills/x"
content_hash = "{h}"
local_modifications = false
""".format(h="a" * 64)


def test_exit_codes_and_fail_level(tmp_path: Path) -> None:
    clean = project_with(tmp_path / "clean", "deployed = []\n")
    assert check(tmp_path, clean).returncode == 0
    warned = project_with(tmp_path / "warned", WARNING_ONLY)
    assert check(tmp_path, warned).returncode == 0  # a warning does not fail at 'error'
    assert check(tmp_path, warned, "--fail-level", "warning").returncode == 1
    assert check(tmp_path, warned, "--fail-level", "information").returncode == 1
    broken = project_with(tmp_path / "broken", "[[deployed]\n")
    assert check(tmp_path, broken).returncode == 1
    assert check(tmp_path, tmp_path / "nope").returncode == 2
    assert check(tmp_path, "--fail-level", "fatal", clean).returncode == 2
    assert check(tmp_path, "--shard", "3/2", clean).returncode == 2


def test_an_unreadable_file_is_exit_2(tmp_path: Path) -> None:
    project = project_with(tmp_path / "odd", "")
    file = project / ".claude/.skillmeat-deployed.toml"
    file.unlink()
    file.symlink_to(tmp_path / "gone.toml")  # a dangling link: found, but it cannot be read
    result = check(tmp_path, project)
    assert result.returncode == 2, result.stdout
    assert "cannot read" in result.stdout


def test_shards_split_the_files_exactly_and_stably(tmp_path: Path, workspace: Path) -> None:
    def files(*args: str) -> list[str]:
        out = json.loads(check(tmp_path, "--format", "json", *args, "repo").stdout)
        return [f["path"] for f in out["files"]]

    everything = files()
    parts = [files("--shard", f"{k}/3") for k in (1, 2, 3)]
    assert sorted(p for part in parts for p in part) == sorted(everything)
    assert sum(1 for part in parts if part) >= 2  # the hash spreads the 8 files
    assert files("--shard", "2/3") == parts[1]
