"""Deploying, drift, update and undeploy, on real folders: safe, atomic, multi-collection."""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import stat
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from skillmeat_ls import deploy as engine
from skillmeat_ls.deploy import (
    DeployError,
    FileOps,
    Hasher,
    SkippedItem,
    deploy,
    resolve_recorded,
    resolve_request,
    status,
    undeploy,
    update,
)
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index import Collection, CollectionIndex, load_collections
from skillmeat_ls.locks import LOCK_SUFFIX
from skillmeat_ls.schema import UNIFIED_KEY_ORDER

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "data" / "samples"
REAL_HOME = ROOT / "tests" / "data" / "skillmeat-home"
NOW = datetime(2026, 2, 3, 4, 5, 6, 789)
FOLDERS = {
    "skill": "skills",
    "command": "commands",
    "agent": "agents",
    "hook": "hooks",
    "mcp": "mcp",
}

Content = str | bytes | dict[str, str | bytes]


# --- fixtures and helpers ------------------------------------------------------------------------


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)


def build_collection(home: Path, name: str, artifacts: dict[tuple[str, str], Content]) -> Path:
    """A collection in SkillMeat's format: ``collection.toml`` and the artifacts by type."""
    root = home / "collections" / name
    entries = []
    for (artifact, artifact_type), content in artifacts.items():
        folder = FOLDERS[artifact_type]
        if isinstance(content, dict):
            rel = f"{folder}/{artifact}"
            (root / rel).mkdir(parents=True, exist_ok=True)
            for inner, data in content.items():
                write(root / rel / inner, data)
        else:
            rel = f"{folder}/{artifact}.md"
            write(root / rel, content)
        entries.append(
            f'[[artifacts]]\nname = "{artifact}"\ntype = "{artifact_type}"\npath = "{rel}"\n'
            'origin = "local"\nadded = "2026-01-01T00:00:00"\n'
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / "collection.toml").write_text(
        f'[collection]\nname = "{name}"\nversion = "1.0.0"\n'
        'created = "2026-01-01T00:00:00"\nupdated = "2026-01-01T00:00:00"\n\n' + "\n".join(entries)
    )
    return root


SKILL = {"SKILL.md": "---\nname: review\n---\n# Review skill\n", "scripts/run.py": "print(1)\n"}


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    build_collection(
        home,
        "default",
        {
            ("review", "skill"): SKILL,
            ("review", "command"): "# Review\n",
            ("helper", "agent"): "# Helper agent\n",
            ("pre-commit", "hook"): "# Hook\n",
            ("github", "mcp"): {".mcp.json": '{"servers": {}}\n', "README.md": "GitHub MCP\n"},
        },
    )
    build_collection(home, "team", {("review", "command"): "# Team review\n"})
    project = tmp_path / "project"
    project.mkdir()
    return {"home": home, "project": project, "root": tmp_path}


def index_of(world: dict[str, Path]) -> CollectionIndex:
    return load_collections(world["home"])


def collection(world: dict[str, Path], name: str = "default") -> Collection:
    found = index_of(world).get(name)
    assert found is not None
    return found


def snapshot(root: Path) -> dict[str, Any]:
    """Every entry under ``root``: file bytes, symlink targets, folders. SkillMeat's empty lock
    files (``.NAME.skillmeat-lock``), which every writer leaves behind by design, are left out."""
    found: dict[str, Any] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + [f for f in files if not f.endswith(LOCK_SUFFIX)]:
            path = Path(directory) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir",)
            else:
                found[rel] = ("file", path.read_bytes())
    return found


def deployment_data(project: Path, name: str = ".skillmeat-deployed.toml") -> dict[str, Any]:
    return tomllib.loads((project / ".claude" / name).read_text())


def records(project: Path) -> list[dict[str, Any]]:
    return deployment_data(project)["deployed"]


def record_of(project: Path, name: str, artifact_type: str) -> dict[str, Any]:
    found = [
        r
        for r in records(project)
        if r["artifact_name"] == name and r["artifact_type"] == artifact_type
    ]
    assert len(found) == 1, found
    return found[0]


def no_staging(project: Path) -> bool:
    claude = project / ".claude"
    return not claude.exists() or not any(
        p.name.startswith(engine.STAGING_PREFIX) for p in claude.iterdir()
    )


class FullDisk(FileOps):
    """No room left for the deployment file: its atomic write fails."""

    def write_text(self, path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))


class BeforeEachCopy(FileOps):
    """Calls ``before(source, destination)`` ahead of every file copied: it may raise (that copy
    fails) or change the world under the request."""

    def __init__(self, before: Callable[[str, Path], None]) -> None:
        self.before = before

    def copy_file(self, source: str, destination: Path, hasher: Hasher) -> None:
        self.before(source, destination)
        super().copy_file(source, destination, hasher)


# --- deploying each type -------------------------------------------------------------------------


def test_deploy_every_type(world: dict[str, Path]) -> None:
    project = world["project"]
    pairs = [
        ("review", "skill"),
        ("review", "command"),
        ("helper", "agent"),
        ("pre-commit", "hook"),
        ("github", "mcp"),
    ]
    result = deploy(project, collection(world), pairs, now=NOW)
    assert result.errors == [] and result.skipped == []
    claude = project / ".claude"
    paths = {item.type: item.path for item in result.deployed}
    assert paths == {
        "skill": "skills/review",
        "command": "commands/review.md",
        "agent": "agents/helper.md",
        "hook": "hooks/pre-commit.md",
        "mcp": "mcp/github",
    }
    assert (claude / "skills/review/scripts/run.py").read_text() == "print(1)\n"
    assert (claude / "commands/review.md").read_text() == "# Review\n"
    assert (claude / "mcp/github/.mcp.json").is_file()
    assert result.file == project.absolute() / ".claude" / ".skillmeat-deployed.toml"
    for item in result.deployed:
        record = record_of(project, item.name, item.type)
        deployed_hash = content_hash(claude / item.path)
        assert item.content_hash == deployed_hash
        assert record["content_hash"] == record["collection_sha"] == deployed_hash
        assert record["merge_base_snapshot"] == deployed_hash
        assert record["from_collection"] == "default"
        assert record["deployed_at"] == "2026-02-03T04:05:06.000789"
        assert record["local_modifications"] is False
        assert record["artifact_path"] == item.path
        assert list(record) == [k for k in UNIFIED_KEY_ORDER if k in record]
        assert list(record)[-1] == "collection_sha"
    assert no_staging(project)


class CountingMoves(FileOps):
    """Counts the renames a request makes (what a whole-folder swap saves)."""

    def __init__(self) -> None:
        self.moves = 0

    def move(self, source: Path, destination: Path) -> None:
        self.moves += 1
        super().move(source, destination)


def tree(root: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every entry under ``root``, lock files included: permission bits, and a file's bytes."""
    return {
        str(path.relative_to(root)): (
            stat.S_IMODE(path.lstat().st_mode),
            path.read_bytes() if path.is_file() else None,
        )
        for path in sorted(root.rglob("*"))
    }


def test_copies_for_missing_folders_are_swapped_in_with_their_folder(tmp_path: Path) -> None:
    """Into a root with no ``skills/`` nor ``commands/``, each goes in with one rename, its
    copies' locks taken inside it; the end state is that of a deploy where the folders were
    there (empty), lock files included, and the locks are held where they belong."""
    skills = {(f"s{n}", "skill"): {"SKILL.md": f"# s{n}\n", "docs/a.md": "a\n"} for n in range(3)}
    commands = {(f"c{n}", "command"): f"# c{n}\n" for n in range(2)}
    build_collection(tmp_path / "home", "default", {**skills, **commands})
    found = load_collections(tmp_path / "home").get("default")
    assert found is not None
    pairs = [*skills, *commands]
    fresh, ready = tmp_path / "fresh", tmp_path / "ready"
    fresh.mkdir()
    for folder in ("skills", "commands"):
        (ready / ".claude" / folder).mkdir(parents=True)
    counted = {fresh: CountingMoves(), ready: CountingMoves()}
    for project, file_ops in counted.items():
        result = deploy(project, found, pairs, now=NOW, file_ops=file_ops)
        assert not result.errors and len(result.deployed) == 5
    assert counted[fresh].moves == 2 and counted[ready].moves == 5
    made = tree(fresh / ".claude")
    assert made == tree(ready / ".claude")
    assert made["skills/.s0.skillmeat-lock"][0] == 0o644
    assert made["commands/.c1.md.skillmeat-lock"][0] == 0o644


def test_a_missing_folder_made_by_another_program_meanwhile_takes_the_copies_one_by_one(
    world: dict[str, Path],
) -> None:
    """Another program makes ``skills/`` (and puts a skill in it) while the copies are staged:
    the staged folder is not moved over it; each copy goes in by its own swap, under its lock."""
    project = world["project"]
    skills = project / ".claude/skills"

    def meanwhile(source: str, destination: Path) -> None:
        if not skills.exists():
            write(skills / "theirs/SKILL.md", "# theirs\n")

    result = deploy(
        project,
        collection(world),
        [("review", "skill"), ("helper", "agent")],
        now=NOW,
        file_ops=BeforeEachCopy(meanwhile),
    )
    assert not result.errors and len(result.deployed) == 2
    assert sorted(path.name for path in skills.iterdir()) == [
        f".review{LOCK_SUFFIX}",
        "review",
        "theirs",
    ]
    assert (skills / "theirs/SKILL.md").read_text() == "# theirs\n"
    assert content_hash(skills / "review") == record_of(project, "review", "skill")["content_hash"]
    assert (project / ".claude/agents/helper.md").is_file()


def test_deployed_at_defaults_to_naive_local_now(world: dict[str, Path]) -> None:
    before = datetime.now()
    deploy(world["project"], collection(world), [("helper", "agent")])
    stamp = datetime.fromisoformat(record_of(world["project"], "helper", "agent")["deployed_at"])
    assert stamp.tzinfo is None and before <= stamp <= datetime.now()
    text = (world["project"] / ".claude/.skillmeat-deployed.toml").read_text()
    assert 'deployed_at = "' in text  # a quoted string, as SkillMeat writes it


def test_hashes_match_real_skillmeat_lock(tmp_path: Path) -> None:
    """Deployed copies with nothing skipped hash as SkillMeat's own lock file says."""
    home = tmp_path / "home"
    shutil.copytree(REAL_HOME, home)
    index = load_collections(home)
    default = index.get("default")
    assert default is not None
    project = tmp_path / "p"
    project.mkdir()
    result = deploy(project, default, resolve_request(default, ["my-skill", "review", "helper"]))
    lock = tomllib.loads((home / "collections/default/collection.lock").read_text())
    entries = lock["lock"]["entries"]
    assert len(result.deployed) == 3
    for item in result.deployed:
        expected = entries[f"{item.name}::{item.type}"]["content_hash"]
        assert item.content_hash == expected
        assert record_of(project, item.name, item.type)["content_hash"] == expected
        assert content_hash(project / ".claude" / item.path) == expected


def test_skip_list_is_honoured(world: dict[str, Path]) -> None:
    junk = {
        ".git/HEAD": "ref\n",
        ".github/workflows/ci.yml": "on: push\n",
        ".gitignore": "*.pyc\n",
        "__pycache__/x.cpython-311.pyc": b"\0",
        "scripts/__pycache__/y.pyc": b"\0",
        "scripts/mod.pyc": b"\0",
        "scripts/mod.pyo": b"\0",
        "node_modules/a/index.js": "1\n",
        ".venv/bin/python": "#!\n",
        "venv/lib/x": "x\n",
        "pkg.egg-info/PKG-INFO": "x\n",
        ".DS_Store": b"\0\1",
        "docs/Thumbs.db": b"\0",
        ".env.example": "KEY=\n",
    }
    build_collection(world["home"], "junk", {("tidy", "skill"): {**SKILL, **junk}})
    source = world["home"] / "collections/junk/skills/tidy"
    result = deploy(world["project"], collection(world, "junk"), [("tidy", "skill")])
    deployed = world["project"] / ".claude/skills/tidy"
    kept = sorted(str(p.relative_to(deployed)) for p in deployed.rglob("*") if p.is_file())
    assert kept == [".env.example", "SKILL.md", "scripts/run.py"]
    assert result.deployed[0].content_hash == content_hash(deployed)
    assert result.deployed[0].content_hash != content_hash(source)
    # copy2 semantics: times and permission bits come along
    assert (deployed / "SKILL.md").stat().st_mtime_ns == (source / "SKILL.md").stat().st_mtime_ns


def test_copy_keeps_permission_bits(world: dict[str, Path]) -> None:
    script = world["home"] / "collections/default/skills/review/scripts/run.py"
    script.chmod(0o755)
    deploy(world["project"], collection(world), [("review", "skill")])
    copied = world["project"] / ".claude/skills/review/scripts/run.py"
    assert copied.stat().st_mode & 0o777 == 0o755


# --- identity, collections, replacing records ----------------------------------------------------


def test_same_name_skill_and_command_are_two_records(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("review", "skill")], now=NOW)
    before = record_of(project, "review", "skill")
    deploy(project, collection(world), [("review", "command")], now=datetime(2026, 5, 5))
    assert len(records(project)) == 2
    assert record_of(project, "review", "skill") == before
    assert record_of(project, "review", "command")["artifact_path"] == "commands/review.md"
    assert (project / ".claude/skills/review/SKILL.md").is_file()


def test_deploying_from_another_collection_replaces_the_record(world: dict[str, Path]) -> None:
    project = world["project"]
    first = deploy(project, collection(world), [("review", "command"), ("helper", "agent")])
    assert first.deployed[0].replaced_from is None
    result = deploy(project, collection(world, "team"), [("review", "command")])
    assert result.errors == [] and result.skipped == []
    assert result.deployed[0].replaced_from == "default"
    assert result.deployed[0].collection == "team"
    reviews = [r for r in records(project) if r["artifact_name"] == "review"]
    assert len(reviews) == 1 and reviews[0]["from_collection"] == "team"
    assert records(project)[0]["artifact_name"] == "review"  # replaced where it stood
    assert (project / ".claude/commands/review.md").read_text() == "# Team review\n"
    assert reviews[0]["content_hash"] == content_hash(project / ".claude/commands/review.md")
    assert record_of(project, "helper", "agent")["from_collection"] == "default"


def test_duplicate_records_of_a_pair_collapse_to_one(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("review", "command")])
    file = project / ".claude/.skillmeat-deployed.toml"
    text = file.read_text()
    file.write_text(text + "\n" + text)  # SM120: the pair twice
    deploy(project, collection(world, "team"), [("review", "command")])
    assert len(records(project)) == 1


def test_untouched_records_keep_their_exact_text(world: dict[str, Path]) -> None:
    project = world["project"]
    file = project / ".claude/.skillmeat-deployed.toml"
    original = (
        "# deployments of this project\n"
        "[[deployed]]\n"
        'artifact_name = "other"\n'
        'artifact_type = "command"\n'
        "from_collection = 'elsewhere'   # a comment\n"
        'deployed_at = "2025-12-10T10:00:00"\n'
        'artifact_path = "commands/other.md"\n'
        f'content_hash = "{"a" * 64}"\n'
        "local_modifications = false\n"
        'custom-note = "kept"\n'
        f'collection_sha = "{"a" * 64}"\n'
    )
    write(file, original)
    deploy(project, collection(world), [("helper", "agent")])
    text = file.read_text()
    assert text.startswith(original)
    other = record_of(project, "other", "command")
    assert other["custom-note"] == "kept" and other["from_collection"] == "elsewhere"


def test_inline_records_are_re_rendered_with_their_values(world: dict[str, Path]) -> None:
    """A layout the splice cannot extend (inline tables) is re-rendered, values intact."""
    project = world["project"]
    file = project / ".claude/.skillmeat-deployed.toml"
    write(
        file,
        'deployed = [{artifact_name = "x", artifact_type = "command", from_collection = "d", '
        'deployed_at = "2026-01-01T00:00:00", artifact_path = "commands/x.md", '
        f'content_hash = "{"c" * 64}", note = "mine"}}]\n',
    )
    deploy(project, collection(world), [("helper", "agent")])
    assert "[[deployed]]" in file.read_text()
    kept = record_of(project, "x", "command")
    assert kept["note"] == "mine" and kept["content_hash"] == "c" * 64
    assert record_of(project, "helper", "agent")["from_collection"] == "default"


def test_empty_api_file_gets_records(world: dict[str, Path]) -> None:
    project = world["project"]
    write(project / ".claude/.skillmeat-deployed.toml", "deployed = []\n")
    deploy(project, collection(world), [("helper", "agent")])
    assert [r["artifact_name"] for r in records(project)] == ["helper"]


# --- which file ----------------------------------------------------------------------------------


def test_plan_file_is_updated_in_place(world: dict[str, Path]) -> None:
    project = world["project"]
    write(project / ".claude/deployment.toml", "deployed = []\n")
    result = deploy(project, collection(world), [("helper", "agent")])
    assert result.file is not None and result.file.name == "deployment.toml"
    assert not (project / ".claude/.skillmeat-deployed.toml").exists()
    assert deployment_data(project, "deployment.toml")["deployed"][0]["artifact_name"] == "helper"


def test_skillmeat_file_wins_when_both_exist(world: dict[str, Path]) -> None:
    project = world["project"]
    write(project / ".claude/deployment.toml", "deployed = []\n")
    write(project / ".claude/.skillmeat-deployed.toml", "deployed = []\n")
    deploy(project, collection(world), [("helper", "agent")])
    assert (project / ".claude/deployment.toml").read_text() == "deployed = []\n"
    assert records(project)[0]["artifact_name"] == "helper"


def test_new_project_gets_skillmeat_file(world: dict[str, Path]) -> None:
    result = deploy(world["project"], collection(world), [("helper", "agent")])
    assert result.file == world["project"].absolute() / ".claude/.skillmeat-deployed.toml"


# --- legacy files --------------------------------------------------------------------------------


def scalar_values(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [v for value in data.values() for v in scalar_values(value)]
    if isinstance(data, list):
        return [v for value in data for v in scalar_values(value)]
    return [data]


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.glob("legacy*.toml")))
def test_legacy_file_is_migrated_then_deployed_into(world: dict[str, Path], sample: str) -> None:
    project = world["project"]
    file = project / ".claude/.skillmeat-deployed.toml"
    write(file, (SAMPLES / sample).read_bytes())
    legacy = tomllib.loads((SAMPLES / sample).read_text())
    result = deploy(project, collection(world), [("helper", "agent")])
    assert result.errors == []
    data = tomllib.loads(file.read_text())
    assert "artifacts" not in data and "deployment" not in data
    kept = scalar_values(data)
    for value in scalar_values(legacy):
        assert value in kept, value
    assert data["deployed"][-1]["artifact_name"] == "helper"
    assert len(data["deployed"]) == len(legacy.get("artifacts", [])) + 1


# --- local changes -------------------------------------------------------------------------------


def test_local_modification_is_skipped_then_overwritten(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("review", "command")])
    copy = project / ".claude/commands/review.md"
    copy.write_text("# mine\n")
    before = snapshot(project)
    result = deploy(project, collection(world, "team"), [("review", "command")])
    assert result.deployed == [] and result.errors == []
    assert result.skipped[0].code == "local-modifications"
    assert "modified locally" in result.skipped[0].reason
    assert result.failed
    assert snapshot(project) == before
    forced = deploy(project, collection(world, "team"), [("review", "command")], overwrite=True)
    assert forced.deployed[0].replaced_from == "default"
    assert copy.read_text() == "# Team review\n"


def test_unrecorded_file_is_not_clobbered(world: dict[str, Path]) -> None:
    project = world["project"]
    write(project / ".claude/agents/helper.md", "# my own helper\n")
    result = deploy(project, collection(world), [("helper", "agent"), ("review", "command")])
    assert result.skipped[0].code == "untracked"
    assert [i.name for i in result.deployed] == ["review"]  # skips do not stop the others
    assert (project / ".claude/agents/helper.md").read_text() == "# my own helper\n"
    result = deploy(project, collection(world), [("helper", "agent")], overwrite=True)
    assert result.deployed and (project / ".claude/agents/helper.md").read_text() == (
        "# Helper agent\n"
    )


def test_redeploy_of_unmodified_copy_needs_no_overwrite(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("review", "skill")])
    result = deploy(project, collection(world), [("review", "skill")])
    assert len(result.deployed) == 1 and result.deployed[0].replaced_from is None


# --- dry run -------------------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_predicts_the_result(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("helper", "agent")])
    (project / ".claude/agents/helper.md").write_text("# changed\n")
    pairs = [("review", "skill"), ("review", "command"), ("helper", "agent"), ("github", "mcp")]
    before = snapshot(world["root"])
    predicted = deploy(project, collection(world), pairs, dry_run=True, now=NOW)
    assert snapshot(world["root"]) == before
    real = deploy(project, collection(world), pairs, now=NOW)
    assert predicted.as_dict() == real.as_dict()
    assert predicted.skipped[0].code == "local-modifications"


def test_dry_run_on_a_new_project_creates_nothing(world: dict[str, Path]) -> None:
    result = deploy(world["project"], collection(world), [("review", "skill")], dry_run=True)
    assert result.deployed and not (world["project"] / ".claude").exists()


# --- drift states and update ---------------------------------------------------------------------


def change_collection(world: dict[str, Path], rel: str, text: str, name: str = "default") -> None:
    write(world["home"] / "collections" / name / rel, text)


def drift_world(world: dict[str, Path]) -> Path:
    """One record in each drift state."""
    project = world["project"]
    deploy(
        project,
        collection(world),
        [
            ("review", "skill"),
            ("review", "command"),
            ("helper", "agent"),
            ("pre-commit", "hook"),
            ("github", "mcp"),
        ],
    )
    claude = project / ".claude"
    # modified: the project copy changed
    (claude / "agents/helper.md").write_text("# helper, edited here\n")
    # update-available: the collection copy changed
    change_collection(world, "commands/review.md", "# Review v2\n")
    # conflict: both changed
    (claude / "hooks/pre-commit.md").write_text("# hook, edited here\n")
    change_collection(world, "hooks/pre-commit.md", "# Hook v2\n")
    # missing
    shutil.rmtree(claude / "mcp/github")
    # unknown: a record whose hash is not a hash
    file = claude / ".skillmeat-deployed.toml"
    file.write_text(
        file.read_text()
        + (
            '\n[[deployed]]\nartifact_name = "odd"\nartifact_type = "command"\n'
            'from_collection = "default"\ndeployed_at = "2026-01-01T00:00:00"\n'
            'artifact_path = "commands/odd.md"\ncontent_hash = "abc123"\n'
        )
    )
    write(claude / "commands/odd.md", "odd\n")
    return project


def test_status_reports_every_drift_state(world: dict[str, Path]) -> None:
    project = drift_world(world)
    states = {(s.name, s.type): s for s in status(project, index_of(world))}
    assert {key: s.state for key, s in states.items()} == {
        ("review", "skill"): "in-sync",
        ("review", "command"): "update-available",
        ("helper", "agent"): "modified",
        ("pre-commit", "hook"): "conflict",
        ("github", "mcp"): "missing",
        ("odd", "command"): "unknown",
    }
    update_available = states[("review", "command")].as_dict()
    assert update_available["collection_hash"] != update_available["content_hash"]
    assert update_available["project_hash"] == update_available["content_hash"]
    assert "not a SHA-256" in states[("odd", "command")].message


def test_status_of_a_legacy_file(world: dict[str, Path]) -> None:
    project = world["project"]
    write(
        project / ".claude/.skillmeat-deployed.toml",
        (SAMPLES / "legacy.generated-bf0f68e3-legacy-project.skillmeat-deployed.toml").read_bytes(),
    )
    (found,) = status(project, index_of(world))
    assert (found.name, found.type, found.state) == ("my-skill", "skill", "missing")


def test_update_follows_the_drift_state(world: dict[str, Path]) -> None:
    project = drift_world(world)
    index = index_of(world)
    claude = project / ".claude"

    result = update(project, index, "review", "command", now=NOW)
    assert result.deployed[0].collection == "default"
    assert (claude / "commands/review.md").read_text() == "# Review v2\n"
    assert record_of(project, "review", "command")["content_hash"] == content_hash(
        claude / "commands/review.md"
    )

    skipped = update(project, index, "review", "skill")
    assert skipped.skipped[0].code == "up-to-date"
    assert skipped.skipped[0].reason == "already up to date"
    assert not skipped.failed

    modified = update(project, index, "helper", "agent")
    assert modified.skipped[0].code == "local-modifications" and modified.failed
    assert (claude / "agents/helper.md").read_text() == "# helper, edited here\n"

    conflict = update(project, index, "pre-commit", "hook")
    assert conflict.skipped[0].code == "conflict"
    assert (claude / "hooks/pre-commit.md").read_text() == "# hook, edited here\n"
    forced = update(project, index, "pre-commit", "hook", force=True)
    assert forced.deployed and (claude / "hooks/pre-commit.md").read_text() == "# Hook v2\n"

    gone = update(project, index, "odd", "command")
    assert "collection default no longer has the command 'odd'" in gone.errors[0].message

    restored = update(project, index, "github", "mcp")
    assert restored.deployed and (claude / "mcp/github/.mcp.json").is_file()
    assert {s.state for s in status(project, index) if s.name != "odd" and s.type != "agent"} == {
        "in-sync"
    }


def test_update_of_an_unjudgeable_record_needs_force(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("helper", "agent")])
    file = project / ".claude/.skillmeat-deployed.toml"
    recorded = record_of(project, "helper", "agent")["content_hash"]
    file.write_text(file.read_text().replace(recorded, "abc123"))
    (found,) = status(project, index_of(world))
    assert found.state == "unknown"
    result = update(project, index_of(world), "helper", "agent")
    assert result.skipped[0].code == "unknown-state" and result.failed
    forced = update(project, index_of(world), "helper", "agent", force=True)
    assert forced.deployed and record_of(project, "helper", "agent")["content_hash"] == recorded


def test_update_uses_the_records_own_collection_and_path(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world, "team"), [("review", "command")])
    # a record imported at a nested path (SkillMeat's discovery records the real location)
    file = project / ".claude/.skillmeat-deployed.toml"
    file.write_text(file.read_text().replace('"commands/review.md"', '"commands/team/review.md"'))
    write(project / ".claude/commands/team/review.md", "# Team review\n")
    (project / ".claude/commands/review.md").unlink()
    change_collection(world, "commands/review.md", "# Team review v2\n", name="team")
    result = update(project, index_of(world), "review", "command")
    assert result.deployed[0].path == "commands/team/review.md"
    assert (project / ".claude/commands/team/review.md").read_text() == "# Team review v2\n"
    assert record_of(project, "review", "command")["from_collection"] == "team"
    assert not (project / ".claude/commands/review.md").exists()


def test_update_of_an_unknown_record_or_collection(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world, "team"), [("review", "command")])
    result = update(project, index_of(world), "nothing", "skill")
    assert "no skill 'nothing' is recorded" in result.errors[0].message
    shutil.rmtree(world["home"] / "collections/team")
    result = update(project, index_of(world), "review", "command")
    assert "collection 'team' is unknown (known: default)" in result.errors[0].message


# --- undeploy ------------------------------------------------------------------------------------


def test_undeploy_removes_copy_and_record(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("review", "skill"), ("review", "command")])
    result = undeploy(project, "review", "skill")
    assert result.errors == []
    assert result.removed[0].path == "skills/review" and not result.removed[0].missing
    assert not (project / ".claude/skills/review").exists()
    assert [(r["artifact_name"], r["artifact_type"]) for r in records(project)] == [
        ("review", "command")
    ]
    assert (project / ".claude/commands/review.md").exists()
    assert no_staging(project)
    gone = undeploy(project, "review", "skill")
    assert "no skill 'review' is recorded" in gone.errors[0].message
    last = undeploy(project, "review", "command")
    assert last.removed and records(project) == []


def test_undeploy_of_a_missing_copy_drops_the_record(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("helper", "agent")])
    (project / ".claude/agents/helper.md").unlink()
    result = undeploy(project, "helper", "agent")
    assert result.removed[0].missing is True and records(project) == []


def test_undeploy_dry_run_and_write_failure(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("review", "skill")])
    before = snapshot(project)
    assert undeploy(project, "review", "skill", dry_run=True).removed
    assert snapshot(project) == before

    result = undeploy(project, "review", "skill", file_ops=FullDisk())
    assert "No space left" in result.errors[0].message
    assert snapshot(project) == before


# --- all or nothing ------------------------------------------------------------------------------


def many_world(world: dict[str, Path]) -> tuple[Collection, list[tuple[str, str]]]:
    """20 artifacts of mixed types, 5 of them already deployed in an older version."""
    artifacts: dict[tuple[str, str], Content] = {}
    for number in range(20):
        kind = ("skill", "command", "agent", "hook", "mcp")[number % 5]
        if kind in ("skill", "mcp"):
            artifacts[(f"a{number:02}", kind)] = {"SKILL.md": f"# {number}\n", "x/y.txt": "y\n"}
        else:
            artifacts[(f"a{number:02}", kind)] = f"# {number}\n"
    build_collection(world["home"], "many", artifacts)
    many = collection(world, "many")
    pairs = list(artifacts)
    deploy(world["project"], many, pairs[:5])
    for name, kind in pairs[:5]:
        path = world["home"] / "collections/many" / many.artifacts[(name, kind)].rel_path
        if path.is_dir():
            (path / "SKILL.md").write_text("# newer\n")
        else:
            path.write_text("# newer\n")
    return collection(world, "many"), pairs


@pytest.mark.parametrize("failing_artifact", [1, 3, 11, 20])
def test_copy_failure_leaves_everything_as_it_was(
    world: dict[str, Path], failing_artifact: int
) -> None:
    many, pairs = many_world(world)
    before = snapshot(world["root"])
    wanted = pairs[failing_artifact - 1][0]
    collection_root = world["home"] / "collections/many"

    def failing(source: str, destination: Path) -> None:
        rel = Path(source).relative_to(collection_root)
        if rel.parts[1].removesuffix(".md") == wanted:
            raise OSError(errno.ENOSPC, "No space left on device", str(destination))

    result = deploy(world["project"], many, pairs, overwrite=True, file_ops=BeforeEachCopy(failing))
    assert result.deployed == []
    assert len(result.errors) == 1 and "No space left" in result.errors[0].message
    assert result.errors[0].name == wanted
    assert "every change was undone" in result.errors[0].message
    assert {s.code for s in result.skipped} == {"aborted"} and len(result.skipped) == 19
    assert snapshot(world["root"]) == before
    assert no_staging(world["project"])


def test_third_copy_call_failing(world: dict[str, Path]) -> None:
    many, pairs = many_world(world)
    before = snapshot(world["root"])
    calls = itertools.count(1)  # copies run on several threads: one atomic counter

    def third_fails(source: str, destination: Path) -> None:
        if next(calls) == 3:
            raise PermissionError(errno.EACCES, "Permission denied", str(destination))

    result = deploy(
        world["project"], many, pairs, overwrite=True, file_ops=BeforeEachCopy(third_fails)
    )
    assert result.deployed == [] and "Permission denied" in result.errors[0].message
    assert snapshot(world["root"]) == before
    assert no_staging(world["project"])


def test_of_two_failing_copies_the_error_names_the_one_a_copy_in_order_meets_first(
    world: dict[str, Path],
) -> None:
    many, pairs = many_world(world)
    before = snapshot(world["root"])
    failing = {pairs[13][0], pairs[17][0]}  # both copied side by side (the first are timed)
    collection_root = world["home"] / "collections/many"

    class FourThreads(BeforeEachCopy):
        copy_workers = 4
        slow_entry_s = 0.0  # side by side after the first copies, whatever the disk

    def fail_both(source: str, destination: Path) -> None:
        if Path(source).relative_to(collection_root).parts[1].removesuffix(".md") in failing:
            raise OSError(errno.ENOSPC, "No space left on device", str(destination))

    result = deploy(world["project"], many, pairs, overwrite=True, file_ops=FourThreads(fail_both))
    assert [error.name for error in result.errors] == [pairs[13][0]]
    assert len(result.skipped) == 19 and snapshot(world["root"]) == before
    assert no_staging(world["project"])


def test_artifacts_are_copied_side_by_side(world: dict[str, Path]) -> None:
    """Two copies are under way at once: after the first copies (on the request's own thread),
    each copying thread's first copy waits for the other's."""
    many, pairs = many_world(world)
    met = threading.Barrier(2, timeout=30)
    started: set[int] = set()

    class TwoThreads(FileOps):
        copy_workers = 2
        slow_entry_s = 0.0  # side by side after the first copies, whatever the disk

        def copy_file(self, source: str, destination: str | Path, hasher: Hasher) -> None:
            copying_thread = threading.current_thread() is not threading.main_thread()
            if copying_thread and threading.get_ident() not in started:
                started.add(threading.get_ident())
                met.wait()  # broken (and the deploy failed) if no other copy ever runs meanwhile
            super().copy_file(source, destination, hasher)

    result = deploy(world["project"], many, pairs, overwrite=True, file_ops=TwoThreads())
    assert result.errors == [] and len(result.deployed) == 20
    assert len(started) == 2
    for item in result.deployed:
        assert content_hash(world["project"] / ".claude" / item.path) == item.content_hash


@pytest.mark.parametrize("failing_swap", [1, 3, 20])
def test_swap_failure_undoes_the_earlier_swaps(world: dict[str, Path], failing_swap: int) -> None:
    many, pairs = many_world(world)
    before = snapshot(world["root"])

    class FailingSwap(FileOps):
        """The ``failing_swap``-th move of a new copy into place fails."""

        swaps = 0

        def move(self, source: Path, destination: Path) -> None:
            if source.name.startswith("new-"):
                self.swaps += 1
                if self.swaps == failing_swap:
                    raise PermissionError(errno.EACCES, "Permission denied", str(destination))
            super().move(source, destination)

    result = deploy(world["project"], many, pairs, overwrite=True, file_ops=FailingSwap())
    assert result.deployed == [] and result.errors[0].name == pairs[failing_swap - 1][0]
    assert snapshot(world["root"]) == before
    assert no_staging(world["project"])


def test_deployment_file_write_failure_undoes_every_swap(world: dict[str, Path]) -> None:
    many, pairs = many_world(world)
    before = snapshot(world["root"])
    result = deploy(world["project"], many, pairs, overwrite=True, file_ops=FullDisk())
    assert result.deployed == [] and len(result.errors) == 20
    assert "cannot write .claude/.skillmeat-deployed.toml" in result.errors[0].message
    assert snapshot(world["root"]) == before
    assert no_staging(world["project"])


def test_a_failed_undo_keeps_the_journal_for_the_next_request(world: dict[str, Path]) -> None:
    many, pairs = many_world(world)
    before = snapshot(world["root"])

    class StuckUndo(FullDisk):
        """The deployment file cannot be written, nor can a new copy be moved out again."""

        def move(self, source: Path, destination: Path) -> None:
            if destination.name.startswith("undo-"):
                raise PermissionError(errno.EACCES, "Permission denied", str(source))
            super().move(source, destination)

    result = deploy(world["project"], many, pairs, overwrite=True, file_ops=StuckUndo())
    message = result.errors[0].message
    assert "undoing it failed (.claude/" in message and "; and 17 more)" in message
    assert "the next skillmeat-ls request puts them back" in message
    assert (world["project"] / ".claude" / engine.JOURNAL_NAME).is_file()
    assert not no_staging(world["project"])
    found: list[engine.RecoveryReport] = []
    status(world["project"], index_of(world), on_recovery=found.append)
    assert [(r.operation, r.outcome, len(r.paths)) for r in found] == [
        ("deploy", "rolled back", 20)
    ]
    assert snapshot(world["root"]) == before


def test_staging_left_by_a_killed_request_is_swept_by_the_next_write(
    world: dict[str, Path],
) -> None:
    project = world["project"]
    deploy(project, collection(world), [("helper", "agent")])
    stale = project / ".claude" / f"{engine.STAGING_PREFIX}killed"
    write(stale / "new-0/SKILL.md", "half a copy")
    result = deploy(project, collection(world), [("review", "command")])
    assert result.recovered is not None and result.recovered.swept == (stale.name,)
    assert result.recovered.outcome is None and no_staging(project)
    assert undeploy(project, "review", "command").recovered is None


def test_the_journal_is_off_only_for_benchmarks(world: dict[str, Path]) -> None:
    class Unjournalled(FileOps):
        journalled = False

        def write_journal(self, path: Path, text: str) -> None:
            raise AssertionError("journalled")

    result = deploy(
        world["project"], collection(world), [("review", "skill")], file_ops=Unjournalled()
    )
    assert [item.name for item in result.deployed] == ["review"] and no_staging(world["project"])


def test_failure_in_a_new_project_leaves_no_claude_folder(world: dict[str, Path]) -> None:
    class DiskOnFire(FileOps):
        def write_text(self, path: Path, text: str) -> None:
            raise RuntimeError("disk on fire")

    before = snapshot(world["root"])
    result = deploy(
        world["project"],
        collection(world),
        [("review", "skill"), ("github", "mcp")],
        file_ops=DiskOnFire(),
    )
    assert "disk on fire" in result.errors[0].message
    assert snapshot(world["root"]) == before
    assert not (world["project"] / ".claude").exists()


def test_file_where_a_folder_should_be(world: dict[str, Path]) -> None:
    project = world["project"]
    write(project / ".claude/skills", "not a folder\n")
    before = snapshot(world["root"])
    result = deploy(project, collection(world), [("helper", "agent"), ("review", "skill")])
    assert result.errors[0].name == "review" and "is a file" in result.errors[0].message
    assert result.skipped[0].code == "aborted"  # nothing is written when one item fails
    assert snapshot(world["root"]) == before


def test_file_where_a_folder_should_be_found_late(world: dict[str, Path]) -> None:
    """A file appears where the missing folder was to go, between planning and swapping: the
    swap fails cleanly."""
    project = world["project"]
    deploy(project, collection(world), [("helper", "agent")])
    before = snapshot(world["root"])

    def sabotage(source: str, destination: Path) -> None:
        if not (project / ".claude/skills").exists():
            write(project / ".claude/skills", "surprise\n")

    result = deploy(
        project,
        collection(world),
        [("helper", "agent"), ("review", "skill")],
        overwrite=True,
        file_ops=BeforeEachCopy(sabotage),
    )
    assert result.deployed == [] and "not a folder" in result.errors[0].message
    after = snapshot(world["root"])
    assert after.pop("project/.claude/skills") == ("file", b"surprise\n")
    assert after == before


def test_concurrent_change_of_the_deployment_file_aborts(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(project, collection(world), [("helper", "agent")])
    file = project / ".claude/.skillmeat-deployed.toml"

    def other_writer(source: str, destination: Path) -> None:
        file.write_text("deployed = []\n")

    result = deploy(
        project, collection(world), [("review", "command")], file_ops=BeforeEachCopy(other_writer)
    )
    assert "changed by another program" in result.errors[0].message
    assert file.read_text() == "deployed = []\n"  # theirs is kept
    assert not (project / ".claude/commands").exists()


def test_one_refused_item_means_nothing_is_written(world: dict[str, Path]) -> None:
    before = snapshot(world["root"])
    result = deploy(world["project"], collection(world), [("helper", "agent"), ("../x", "skill")])
    assert result.errors[0].name == "../x"
    assert result.skipped == [
        SkippedItem(
            name="helper",
            type="agent",
            path="agents/helper.md",
            collection="default",
            code="aborted",
            reason="not deployed: another artifact of this request was refused",
        )
    ]
    assert snapshot(world["root"]) == before


# --- refusals: names, symlinks, paths ------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "x\x00y", "a\\b", "..", ""])
def test_unsafe_names_are_refused(world: dict[str, Path], name: str) -> None:
    before = snapshot(world["root"])
    result = deploy(world["project"], collection(world), [(name, "skill")])
    assert result.deployed == [] and "unsafe artifact name" in result.errors[0].message
    assert result.errors[0].path is None
    assert snapshot(world["root"]) == before
    with pytest.raises(DeployError, match="unsafe artifact name"):
        resolve_request(collection(world), [name or ":skill"] if name else ["../y"])


def test_non_deployable_type_is_refused(world: dict[str, Path]) -> None:
    result = deploy(world["project"], collection(world), [("notes", "rule_file")])
    assert "not deployed into .claude/" in result.errors[0].message


def test_symlinks_out_of_the_collection_are_not_followed(world: dict[str, Path]) -> None:
    outside = world["root"] / "outside"
    write(outside / "secret.txt", "secret\n")
    write(outside / "dir/inner.txt", "inner\n")
    skill = world["home"] / "collections/default/skills/review"
    (skill / "hostname").symlink_to("/etc/hostname")
    (skill / "secret.txt").symlink_to(outside / "secret.txt")
    (skill / "linked-dir").symlink_to(outside / "dir")
    (skill / "shared.md").symlink_to(skill.parent.parent / "commands/review.md")  # inside: kept
    (skill / "loop").symlink_to(skill)
    (skill / "broken").symlink_to(skill / "nowhere")
    result = deploy(world["project"], collection(world), [("review", "skill")])
    (item,) = result.deployed
    deployed = world["project"] / ".claude/skills/review"
    names = sorted(p.name for p in deployed.iterdir())
    assert names == ["SKILL.md", "scripts", "shared.md"]
    assert not (deployed / "shared.md").is_symlink()
    assert (deployed / "shared.md").read_text() == "# Review\n"
    warnings = "\n".join(item.warnings)
    for name in ("hostname", "secret.txt", "linked-dir"):
        assert f"{name}: symlink to" in warnings and "outside the collection" in warnings
    assert "loop: symlink loop" in warnings and "broken: broken symlink" in warnings
    assert item.content_hash == content_hash(deployed)


def test_artifact_that_became_a_symlink_out_is_refused(world: dict[str, Path]) -> None:
    default = collection(world)  # loaded while the artifact was a real file
    outside = world["root"] / "outside.md"
    outside.write_text("outside\n")
    command = world["home"] / "collections/default/commands/review.md"
    command.unlink()
    command.symlink_to(outside)
    before = snapshot(world["root"])
    result = deploy(world["project"], default, [("review", "command")])
    assert "outside the collection" in result.errors[0].message
    assert snapshot(world["root"]) == before


def test_claude_symlinked_elsewhere_is_refused(world: dict[str, Path]) -> None:
    elsewhere = world["root"] / "elsewhere"
    elsewhere.mkdir()
    (world["project"] / ".claude").symlink_to(elsewhere)
    before = snapshot(world["root"])
    with pytest.raises(DeployError, match="symlink"):
        deploy(world["project"], collection(world), [("helper", "agent")])
    with pytest.raises(DeployError, match="symlink"):
        undeploy(world["project"], "helper", "agent")
    assert snapshot(world["root"]) == before


def test_symlinked_type_folder_is_refused(world: dict[str, Path]) -> None:
    elsewhere = world["root"] / "elsewhere"
    elsewhere.mkdir()
    (world["project"] / ".claude").mkdir()
    (world["project"] / ".claude/agents").symlink_to(elsewhere)
    before = snapshot(world["root"])
    result = deploy(world["project"], collection(world), [("helper", "agent")], overwrite=True)
    assert "is a symlink" in result.errors[0].message
    assert snapshot(world["root"]) == before


def test_target_symlinked_outside_is_refused(world: dict[str, Path]) -> None:
    outside = world["root"] / "victim.md"
    outside.write_text("do not touch\n")
    (world["project"] / ".claude/agents").mkdir(parents=True)
    (world["project"] / ".claude/agents/helper.md").symlink_to(outside)
    before = snapshot(world["root"])
    result = deploy(world["project"], collection(world), [("helper", "agent")], overwrite=True)
    assert "outside .claude/" in result.errors[0].message
    assert snapshot(world["root"]) == before


def test_deployment_file_symlinked_outside_is_refused(world: dict[str, Path]) -> None:
    outside = world["root"] / "victim.toml"
    outside.write_text("deployed = []\n")
    (world["project"] / ".claude").mkdir()
    (world["project"] / ".claude/.skillmeat-deployed.toml").symlink_to(outside)
    before = snapshot(world["root"])
    with pytest.raises(DeployError, match=r"outside \.claude/"):
        deploy(world["project"], collection(world), [("helper", "agent")])
    assert snapshot(world["root"]) == before


ESCAPING = [
    "../../outside",
    "/etc/hostname",
    "../victim.md",
    "commands/../../x",
    ".",
    "",
    "C:\\Windows\\x",
    ".skillmeat-deployed.toml",
]


def escaping_record(world: dict[str, Path], path: str) -> Path:
    project = world["project"]
    write(world["root"] / "outside/x", "keep me\n")
    write(world["root"] / "victim.md", "keep me\n")
    write(
        project / ".claude/.skillmeat-deployed.toml",
        '[[deployed]]\nartifact_name = "review"\nartifact_type = "command"\n'
        f'from_collection = "default"\ndeployed_at = "2026-01-01T00:00:00"\n'
        f"artifact_path = '{path}'\ncontent_hash = \"{'a' * 64}\"\n",
    )
    return project


@pytest.mark.parametrize("path", ESCAPING)
def test_escaping_artifact_path_is_refused_by_undeploy(world: dict[str, Path], path: str) -> None:
    project = escaping_record(world, path)
    before = snapshot(world["root"])
    result = undeploy(project, "review", "command")
    assert result.removed == [] and "refused" in result.errors[0].message
    assert snapshot(world["root"]) == before


@pytest.mark.parametrize("path", ESCAPING)
def test_escaping_artifact_path_is_refused_by_update(world: dict[str, Path], path: str) -> None:
    project = escaping_record(world, path)
    before = snapshot(world["root"])
    result = update(project, index_of(world), "review", "command", force=True)
    assert result.deployed == [] and "refused" in result.errors[0].message
    assert snapshot(world["root"]) == before
    (found,) = status(project, index_of(world))
    assert found.state == "unknown" and found.project_hash is None


def test_unreadable_deployment_file_is_never_touched(world: dict[str, Path]) -> None:
    file = world["project"] / ".claude/.skillmeat-deployed.toml"
    write(file, "[[deployed]\nbroken")
    with pytest.raises(DeployError, match="invalid TOML"):
        deploy(world["project"], collection(world), [("helper", "agent")])
    write(file, b"deployed = []\n\xff\xfe")
    with pytest.raises(DeployError, match="not UTF-8"):
        deploy(world["project"], collection(world), [("helper", "agent")])
    with pytest.raises(DeployError, match="no such project"):
        deploy(world["root"] / "nope", collection(world), [("helper", "agent")])


# --- resolving requests --------------------------------------------------------------------------


def test_resolve_request(world: dict[str, Path]) -> None:
    default = collection(world)
    assert resolve_request(default, ["helper", "review:skill", "review:command", "helper"]) == [
        ("helper", "agent"),
        ("review", "skill"),
        ("review", "command"),
    ]
    with pytest.raises(DeployError) as ambiguous:
        resolve_request(default, ["review"])
    assert str(ambiguous.value) == (
        '"review" is ambiguous in collection default: skill, command; '
        "write review:skill or review:command"
    )
    with pytest.raises(DeployError, match="collection default has no artifact named 'nope'"):
        resolve_request(default, ["nope"])
    with pytest.raises(DeployError, match=r"has no agent named 'review' \(it has 'review' as"):
        resolve_request(default, ["review:agent"])
    with pytest.raises(DeployError, match="did you mean review:skill"):
        resolve_request(default, ["review:skills"])


def test_resolve_recorded(world: dict[str, Path]) -> None:
    project = world["project"]
    deploy(
        project,
        collection(world),
        [("review", "skill"), ("review", "command"), ("helper", "agent")],
    )
    assert resolve_recorded(project, ["helper", "review:command"]) == [
        ("helper", "agent"),
        ("review", "command"),
    ]
    with pytest.raises(DeployError, match=r'"review" is ambiguous in \.claude/'):
        resolve_recorded(project, ["review"])
    with pytest.raises(DeployError, match="no 'nope' is recorded"):
        resolve_recorded(project, ["nope"])


def test_result_is_plain_json(world: dict[str, Path]) -> None:
    import json

    result = deploy(world["project"], collection(world), [("review", "skill")])
    data = json.loads(json.dumps(result.as_dict()))
    assert set(data) == {"deployed", "skipped", "errors", "file", "profile", "root"}
    assert {"name", "type", "path", "collection", "content_hash", "replaced_from"} <= set(
        data["deployed"][0]
    )
