"""The command line, run as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data" / "samples"
EXAMPLES = ROOT / "examples"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SKILLMEAT_HOME": "/nonexistent-skillmeat-home"}
    env.pop("SKILLMEAT_LS_CACHE", None)
    return subprocess.run(
        [sys.executable, "-m", "skillmeat_ls", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def place(sample: Path, project: Path) -> Path:
    """Put a sample deployment file where SkillMeat keeps it: ``<project>/.claude/``."""
    target = project / ".claude" / ".skillmeat-deployed.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample, target)
    return target


def codes_of(result: subprocess.CompletedProcess[str]) -> set[str]:
    report = json.loads(result.stdout)
    return {d["code"] for f in report["files"] for d in f["diagnostics"]}


# What each real file must produce, and nothing more. The fixtures' fake hashes ("abc123") are
# real format errors (SM111); the repository's HEAD file really records two artifacts at one path
# (SM122) and one name as two types (SM121). Disk rules (SM132) are off: the deployed copies of
# these files are not part of the samples.
EXPECTED = {
    "unified.real-skillmeat-repo.bf0f68e3.skillmeat-deployed.toml": set(),
    "unified-profiles.real-skillmeat-repo.HEAD-9798d2f8.skillmeat-deployed.toml": {"SM121", "SM122"},
    "unified-empty.created-by-api-create-project.bf0f68e3.skillmeat-deployed.toml": set(),
    "unified-context-entity.test_context_sync.bf0f68e3.toml": set(),
    "unified.test_sync-load_valid_metadata.bf0f68e3.toml": {"SM111"},
    "unified.test_sync-load_multiple_artifacts.bf0f68e3.toml": {"SM111"},
    "legacy.test_sync-load_valid_metadata.bf0f68e3-parent.toml": {"SM101", "SM111"},
    "legacy.test_sync-load_multiple_artifacts.bf0f68e3-parent.toml": {"SM101", "SM111"},
    "legacy.test_sync_flow-deployed_project.bf0f68e3.toml": {"SM101", "SM111"},
    "legacy-header-only.test_sync_rollback.bf0f68e3.toml": {"SM101"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_samples_give_exactly_the_expected_codes(name: str, tmp_path: Path) -> None:
    path = place(SAMPLES / name, tmp_path / "project")
    result = run("check", "--format", "json", "--disable", "SM132", path)
    assert codes_of(result) == EXPECTED[name], result.stdout
    assert result.returncode == (1 if "SM111" in EXPECTED[name] or "SM122" in EXPECTED[name] else 0)


def test_generated_project_with_its_home_is_clean(tmp_path: Path) -> None:
    home = ROOT / "tests" / "data" / "skillmeat-home"
    project = SAMPLES / "generated-project"
    result = run("--home", home, "--cache", tmp_path / "c.db", "check", "--format", "json", project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert codes_of(result) == set()


def test_text_output_is_compiler_style(tmp_path: Path) -> None:
    path = place(SAMPLES / "legacy.test_sync_flow-deployed_project.bf0f68e3.toml", tmp_path)
    result = run("check", tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}:1:1: warning SM101 " + lines[0].split(" SM101 ", 1)[1]
    assert f"{path}:11:7: error SM111" in result.stdout
    assert f"{path}:6:1: warning SM132" in result.stdout  # the skill is not in .claude/skills/
    assert lines[-1] == "1 deployment file checked: 1 error, 2 warnings, 0 information"
    assert result.returncode == 1


def test_examples_show_every_kind_of_diagnostic(tmp_path: Path) -> None:
    result = run(
        "--home", EXAMPLES / "home", "--cache", tmp_path / "c.db",
        "check", "--format", "json", EXAMPLES / "workspace",
    )
    found = codes_of(result)
    expected = {f"SM{n}" for n in (100, 101, 103, 104, 105, 110, 111, 112, 113, 114, 120, 121, 122,
                                   130, 131, 132, 140, 141, 142)}
    assert expected <= found
    clean = json.loads(result.stdout)["files"]
    assert [f["diagnostics"] for f in clean if "/clean/" in f["path"]] == [[]]


def test_missing_path_is_one_clear_line(tmp_path: Path) -> None:
    result = run("check", tmp_path / "nope")
    assert result.returncode == 2
    assert result.stderr.strip() == f"skillmeat-ls: error: no such file or directory: {tmp_path / 'nope'}"
    assert "Traceback" not in result.stderr


def test_unreadable_and_hostile_files_do_not_crash(tmp_path: Path) -> None:
    claude = tmp_path / "p" / ".claude"
    claude.mkdir(parents=True)
    (claude / ".skillmeat-deployed.toml").write_bytes(b"\xff\xfe[[deployed]]\x00\n" + os.urandom(4096))
    result = run("check", "--format", "json", tmp_path)
    assert result.returncode == 1
    assert "SM100" in codes_of(result)


def test_migrate_prints_then_writes_atomically_with_backup(tmp_path: Path) -> None:
    path = place(SAMPLES / "legacy.test_sync-load_multiple_artifacts.bf0f68e3-parent.toml", tmp_path)
    original = path.read_bytes()
    printed = run("migrate", path)
    assert printed.returncode == 0
    assert "[[deployed]]" in printed.stdout
    assert path.read_bytes() == original
    written = run("migrate", "--write", path)
    assert written.returncode == 0, written.stderr
    assert path.read_text() == printed.stdout
    assert path.with_name(path.name + ".bak").read_bytes() == original
    again = run("check", "--format", "json", path)
    assert not {"SM100", "SM101", "SM102", "SM103", "SM110"} & codes_of(again)
    assert "already in the unified schema" in run("migrate", "--write", path).stdout


def test_migrate_refuses_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[deployment\n")
    result = run("migrate", path)
    assert result.returncode == 2
    assert str(path) in result.stderr and "Traceback" not in result.stderr


def test_migrate_refuses_bytes_that_are_not_utf8_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p" / ".claude" / ".skillmeat-deployed.toml"
    path.parent.mkdir(parents=True)
    original = b'[deployment]\ncollection = "d"\n\n[[artifacts]]\nname = "caf\xe9"\ntype = "skill"\n'
    path.write_bytes(original)
    for args in (("migrate", path), ("migrate", "--write", path)):
        result = run(*args)
        assert result.returncode == 2, result.stdout
        assert result.stderr == (
            f"skillmeat-ls: error: {path}: bytes that are not UTF-8 (0xe9) at line 5, column 12; "
            "nothing written\n"
        )
        assert result.stdout == ""
    assert path.read_bytes() == original
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no backup, no temp


def test_migrate_refuses_nesting_too_deep_with_the_place(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("[[artifacts]]\nname = 'a'\nextra = " + "[" * 600 + "]" * 600 + "\n")
    result = run("migrate", "--write", path)
    assert result.returncode == 2
    assert result.stderr == (
        f"skillmeat-ls: error: {path}: Nested more than 100 levels deep at line 3, column 109; "
        "nothing written\n"
    )


def test_check_prints_a_file_that_is_not_utf8_in_every_format(tmp_path: Path) -> None:
    """One SM100 at the first bad byte, and output that is UTF-8 whatever the file held."""
    path = tmp_path / "p" / ".claude" / ".skillmeat-deployed.toml"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'[[deployed]]\nartifact_name = "\xff\xfe"\nartifact_type = "skils"\n')
    for form in ("text", "json", "sarif", "github"):
        result = subprocess.run(
            [sys.executable, "-m", "skillmeat_ls", "check", "--format", form, str(path)],
            capture_output=True, timeout=120,
            env={**os.environ, "SKILLMEAT_HOME": "/nonexistent-skillmeat-home"},
        )
        assert result.returncode == 1, result.stderr
        out = result.stdout.decode("utf-8")  # strictly: no lone surrogate got through
        assert "0xff" in out
        if form == "text":
            assert out.splitlines()[:2] == [
                f"{path}:2:18: error SM100 bytes that are not UTF-8 (0xff) at line 2, column 18: "
                "a TOML file must be UTF-8 (SkillMeat cannot read this one either)",
                "1 deployment file checked: 1 error, 0 warnings, 0 information",
            ]
        elif form == "json":
            [diagnostic] = json.loads(out)["files"][0]["diagnostics"]
            assert (diagnostic["code"], diagnostic["line"], diagnostic["column"]) == ("SM100", 2, 18)
        elif form == "sarif":
            [found] = json.loads(out)["runs"][0]["results"]
            region = found["locations"][0]["physicalLocation"]["region"]
            assert (found["ruleId"], region["startLine"], region["startColumn"]) == ("SM100", 2, 18)
        else:
            assert out.startswith("::error file=") and out.count("::error") == 1


def test_cache_status_and_init(tmp_path: Path) -> None:
    cache = tmp_path / "c.db"
    assert "state:    missing" in run("--cache", cache, "cache", "status").stdout
    assert run("cache", "init", "--cache", cache).returncode == 0
    status = run("cache", "status", "--cache", cache).stdout
    assert "state:    ready" in status and "collections" in status


def test_special_files_are_refused_at_once_with_their_name(tmp_path: Path) -> None:
    """A FIFO, a link to a device and a file claiming to be huge are named, never read."""
    for name, make in (
        ("fifo", lambda f: os.mkfifo(f)),
        ("device", lambda f: f.symlink_to("/dev/zero")),
        ("huge", lambda f: os.truncate(f.open("wb").name, 65 * 1024 * 1024)),
    ):
        claude = tmp_path / name / ".claude"
        claude.mkdir(parents=True)
        make(claude / ".skillmeat-deployed.toml")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "skillmeat_ls", "check", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert time.monotonic() - started < 10  # the interpreter's start; nothing waits on a read
    assert result.returncode == 2
    for name, why in (("fifo", "not a regular file"), ("device", "not a regular file"),
                      ("huge", "too large")):
        file = tmp_path / name / ".claude" / ".skillmeat-deployed.toml"
        line = next(x for x in result.stdout.splitlines() if f"/{name}/" in x)
        assert line.startswith(f"{file}: error cannot read: ") and why in line
        assert line.count(str(file)) == 1
    named = [tmp_path / name / ".claude" / ".skillmeat-deployed.toml" for name in ("fifo", "device")]
    direct = run("check", *named)  # named on the command line: refused too, not skipped
    assert direct.returncode == 2
    assert [line.split(": error cannot read: ")[0] for line in direct.stdout.splitlines()[:2]] == [
        str(file) for file in named
    ]
    huge = tmp_path / "huge" / ".claude" / ".skillmeat-deployed.toml"
    migrated = run("migrate", huge)
    assert migrated.returncode == 2
    assert migrated.stderr.startswith(f"skillmeat-ls: error: {huge}: larger than ")
