"""SkillMeat 0.74.0's profiles and vocabulary: every profile root is found and judged against its
own root, records are written with their profile's keys, names match as SkillMeat matches them,
and every write takes SkillMeat's own lock."""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from test_deploy import build_collection
from test_rules import H1
from test_rules import record as unified

from skillmeat_ls.deploy import DeployError, FileOps, deploy, status, undeploy, update
from skillmeat_ls.document import parse_document
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index import load_collections
from skillmeat_ls.lint import lint_paths
from skillmeat_ls.locks import lock_path
from skillmeat_ls.migration import migrate_text
from skillmeat_ls.profiles import ProfileError, profile_for_root, resolve_profile
from skillmeat_ls.rules import Context, Severity, analyze
from skillmeat_ls.schema import KNOWN_TYPES, UNIFIED_KEY_ORDER, normalize_name
from skillmeat_ls.workspace import DiskProbe, find_deployment_files, is_deployment_file


def findings(text: str, path: Path | None = None, **context: object) -> list[tuple[str, Severity]]:
    ctx = Context(file_path=path, **context) if path is not None else None  # type: ignore[arg-type]
    return [(d.code, d.severity) for d in analyze(parse_document(text), ctx)]


# --- vocabulary -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "artifact_type",
    ["soul", "council", "context_pack", "orchestration", "bundle", "reviewer_role", "template"],
)
def test_types_of_0_74_are_known(artifact_type: str) -> None:
    assert artifact_type in KNOWN_TYPES
    assert findings(unified(artifact_type=artifact_type, artifact_path="x/review.md")) == []


def test_bob_platform_and_branch_name_are_no_finding() -> None:
    text = unified(
        deployment_profile_id="bob",
        platform="bob",
        profile_root_dir=".bob",
        artifact_uuid="0" * 32,
        branch_name="feature/x",
        collection_sha=H1,
    )
    assert findings(text) == []


def test_unknown_type_without_near_miss_is_information() -> None:
    assert findings(unified(artifact_type="hologram")) == [("SM112", Severity.INFORMATION)]


def test_near_miss_type_is_a_warning() -> None:
    assert findings(unified(artifact_type="skills")) == [("SM112", Severity.WARNING)]


def test_platform_no_release_has_is_an_error() -> None:
    assert findings(unified(platform="vim")) == [("SM111", Severity.ERROR)]


def test_branch_name_is_written_after_artifact_uuid() -> None:
    order = list(UNIFIED_KEY_ORDER)
    assert order.index("artifact_uuid") + 1 == order.index("branch_name")
    assert order[-1] == "collection_sha"


@pytest.mark.parametrize(
    ("name", "normal"),
    [("review.md", "review"), ("a.yaml.yml", "a.yaml"), ("x.json", "x"), ("plain", "plain")],
)
def test_names_lose_one_suffix_as_in_skillmeat(name: str, normal: str) -> None:
    assert normalize_name(name) == normal


def test_a_name_with_its_suffix_is_the_same_artifact() -> None:
    text = unified() + unified(artifact_name="review.md")
    assert [code for code, _ in findings(text)] == ["SM120"]


def test_same_pair_in_two_profiles_is_no_duplicate() -> None:
    text = unified() + unified(deployment_profile_id="codex", artifact_path="commands/r2.md")
    assert findings(text) == []


# --- profiles -------------------------------------------------------------------------------------


def test_builtin_profiles_of_0_74() -> None:
    codex = resolve_profile("codex")
    assert (codex.root_dir, codex.platform) == (".agents", "codex")
    assert codex.artifact_path("helper", "agent") == "agents/helper.md"
    assert codex.supports("hook") and not codex.supports("orchestration")
    assert resolve_profile(None).record_keys() == {
        "deployment_profile_id": "claude_code",
        "platform": "claude_code",
        "profile_root_dir": ".claude",
    }
    assert resolve_profile("claude_code").artifact_path("flow", "orchestration") == "workflows/flow"
    assert not resolve_profile("gemini").supports("agent")
    assert resolve_profile("remote_git").root_dir == ".remote_git"


def test_custom_profile_and_overrides_from_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[deployment.profiles.mytool]\nroot_dir = ".mytool"\nextends = "claude_code"\n'
        'supported_artifact_types = ["skill", "command"]\n\n'
        '[platform.defaults.codex]\nroot_dir = ".codex"\n'
    )
    mytool = resolve_profile("mytool", home=home)
    assert (mytool.root_dir, mytool.platform) == (".mytool", "other")
    assert mytool.supports("command") and not mytool.supports("agent")
    assert resolve_profile("codex", home=home).root_dir == ".codex"
    monkeypatch.setenv("SKILLMEAT_PLATFORM_DEFAULTS_JSON", '{"gemini": {"root_dir": ".gem"}}')
    assert resolve_profile("gemini", home=home).root_dir == ".gem"
    assert profile_for_root(".mytool", home=home).id == "mytool"
    with pytest.raises(ProfileError, match="unknown profile"):
        resolve_profile("nope", home=home)


def test_roots_map_back_to_profiles() -> None:
    assert profile_for_root(".agents").id == "codex"
    older = profile_for_root(".codex")
    assert (older.id, older.root_dir) == ("codex", ".codex")
    assert profile_for_root(".claude").id == "claude_code"
    assert profile_for_root(".weird").id == "weird"


# --- finding files --------------------------------------------------------------------------------


def test_every_profile_root_is_found_and_nothing_else(tmp_path: Path) -> None:
    project = tmp_path / "p"
    for root in (".claude", ".agents", ".mytool"):
        (project / root).mkdir(parents=True)
        (project / root / ".skillmeat-deployed.toml").write_text("deployed = []\n")
    (project / ".claude" / "..skillmeat-deployed.toml.skillmeat-lock").write_text("")
    (project / ".claude" / ".skillmeat-deployed.toml.abc.txn.tmp").write_text("x")
    (project / ".git").mkdir()
    (project / ".venv" / "lib").mkdir(parents=True)
    nested = project / ".agents" / "skills" / "s" / ".claude"
    nested.mkdir(parents=True)
    (nested / ".skillmeat-deployed.toml").write_text("deployed = []\n")  # a copy, not a project
    found = [p.relative_to(tmp_path).as_posix() for p in find_deployment_files([tmp_path])]
    assert found == [
        "p/.claude/.skillmeat-deployed.toml",
        "p/.agents/.skillmeat-deployed.toml",
        "p/.mytool/.skillmeat-deployed.toml",
    ]
    assert not is_deployment_file(project / ".claude" / "..skillmeat-deployed.toml.skillmeat-lock")
    assert not is_deployment_file(project / "agents" / ".skillmeat-deployed.toml")


# --- worlds on disk -------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    build_collection(
        home,
        "default",
        {("review", "command"): "# Review\n", ("helper", "agent"): "# Helper\n",
         ("my-skill", "skill"): {"SKILL.md": "# My skill\n"}},
    )
    project = tmp_path / "project"
    project.mkdir()
    return {"home": home, "project": project}


def test_codex_deploy_writes_what_skillmeat_writes(world: dict[str, Path]) -> None:
    project = world["project"]
    default = load_collections(world["home"]).get("default")
    assert default is not None
    result = deploy(project, default, [("helper", "agent")], profile=resolve_profile("codex"))
    assert result.errors == [] and result.root == ".agents"
    data = tomllib.loads((project / ".agents/.skillmeat-deployed.toml").read_text())
    (written,) = data["deployed"]
    digest = content_hash(project / ".agents/agents/helper.md")
    assert written == {
        "artifact_name": "helper",
        "artifact_type": "agent",
        "from_collection": "default",
        "deployed_at": written["deployed_at"],
        "artifact_path": "agents/helper.md",
        "content_hash": digest,
        "local_modifications": False,
        "version_lineage": [digest],
        "merge_base_snapshot": digest,
        "deployment_profile_id": "codex",
        "platform": "codex",
        "profile_root_dir": ".agents",
        "collection_sha": digest,
    }
    assert list(written) == [k for k in UNIFIED_KEY_ORDER if k in written]
    assert not (project / ".claude").exists()
    assert (project / ".agents/agents/.helper.md.skillmeat-lock").exists()  # as SkillMeat leaves


def test_ineligible_type_is_refused_for_the_profile(world: dict[str, Path]) -> None:
    default = load_collections(world["home"]).get("default")
    assert default is not None
    result = deploy(world["project"], default, [("helper", "agent")],
                    profile=resolve_profile("gemini"))
    assert "gemini profile" in result.errors[0].message
    assert not (world["project"] / ".gemini").exists()


def test_redeploy_keeps_skillmeat_keys_and_mode(world: dict[str, Path]) -> None:
    project = world["project"]
    index = load_collections(world["home"])
    default = index.get("default")
    assert default is not None
    claude = project / ".claude"
    claude.mkdir()
    file = claude / ".skillmeat-deployed.toml"
    file.write_text(unified(artifact_name="review.md", artifact_uuid="f" * 32,
                            branch_name="feat", deployment_profile_id="claude_code",
                            platform="claude_code", profile_root_dir=".claude"))
    file.chmod(0o600)
    (claude / "commands").mkdir()
    (claude / "commands/review.md").write_text("# Review\n")
    # the record says review.md, the collection says review: the same artifact for SkillMeat
    result = deploy(project, default, [("review", "command")], overwrite=True)
    assert result.errors == [] and result.deployed[0].name == "review"
    (written,) = tomllib.loads(file.read_text())["deployed"]
    assert (written["artifact_uuid"], written["branch_name"]) == ("f" * 32, "feat")
    assert written["profile_root_dir"] == ".claude"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert update(project, index, "review.md", "command").skipped[0].code == "up-to-date"
    assert undeploy(project, "review.md", "command").errors == []
    assert tomllib.loads(file.read_text())["deployed"] == []


def test_a_held_skillmeat_lock_is_waited_for_then_reported(
    world: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = world["project"]
    default = load_collections(world["home"]).get("default")
    assert default is not None
    (project / ".claude").mkdir()
    lock = lock_path(project / ".claude/.skillmeat-deployed.toml")
    monkeypatch.setenv("SKILLMEAT_LS_LOCK_TIMEOUT", "0.3")
    with open(os.open(lock, os.O_CREAT | os.O_RDWR, 0o644), "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(DeployError, match=r"locked by another skillmeat process.*nothing"):
            deploy(project, default, [("helper", "agent")])
    assert not (project / ".claude/agents").exists()
    assert deploy(project, default, [("helper", "agent")]).errors == []


def test_another_process_waits_for_our_lock(world: dict[str, Path], tmp_path: Path) -> None:
    """A second writer (a real process taking flock as SkillMeat does) blocks while ours holds."""
    project = world["project"]
    default = load_collections(world["home"]).get("default")
    assert default is not None
    target = project / ".claude/.skillmeat-deployed.toml"
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR, 0o644)\n"
        "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('free')\n"
        "except BlockingIOError:\n    print('held')\n"
    )
    seen: list[str] = []

    class Probing(FileOps):
        """Asks another process, at the moment the record is written, whether the lock is held."""

        def write_text(self, path: Path, text: str) -> None:
            out = subprocess.run([sys.executable, "-c", probe, str(lock_path(target))],
                                 capture_output=True, text=True, check=True)
            seen.append(out.stdout.strip())
            super().write_text(path, text)

    deploy(project, default, [("helper", "agent")], file_ops=Probing())
    assert seen == ["held"]


def test_check_judges_each_file_against_its_own_root(world: dict[str, Path]) -> None:
    project = world["project"]
    index = load_collections(world["home"])
    default = index.get("default")
    assert default is not None
    deploy(project, default, [("helper", "agent")])
    deploy(project, default, [("helper", "agent")], profile=resolve_profile("codex"))
    (project / ".agents/agents/helper.md").write_text("# Helper, edited for Codex\n")
    result = lint_paths([project], world["home"], None)
    by_file = {r.path.relative_to(project).as_posix(): [d.code for d in r.diagnostics]
               for r in result.reports}
    assert by_file == {".claude/.skillmeat-deployed.toml": [],
                       ".agents/.skillmeat-deployed.toml": ["SM140"]}
    # the file given on its own gets the same disk rules
    alone = lint_paths([project / ".agents/.skillmeat-deployed.toml"], world["home"], None)
    assert [d.code for d in alone.reports[0].diagnostics] == ["SM140"]
    states = {(s.profile, s.root, s.state) for s in status(project, index)}
    assert states == {("claude_code", ".claude", "in-sync"), ("codex", ".agents", "modified")}


def test_record_of_another_root_gets_sm105(world: dict[str, Path]) -> None:
    agents = world["project"] / ".agents"
    agents.mkdir()
    path = agents / ".skillmeat-deployed.toml"
    text = unified(profile_root_dir=".claude") + unified(
        artifact_name="helper", artifact_type="agent", artifact_path="agents/helper.md"
    )
    context = {"disk": DiskProbe(one_shot=True)}
    assert [c for c, _ in findings(text, path, **context)].count("SM105") == 2
    claude_text = unified(profile_root_dir=".claude")
    claude = world["project"] / ".claude" / ".skillmeat-deployed.toml"
    assert "SM105" not in [c for c, _ in findings(claude_text, claude, **context)]


def test_legacy_deployed_from_names_the_collection() -> None:
    legacy = (
        '[deployment]\ncollection = "default"\n\n[[artifacts]]\nname = "review"\n'
        'type = "command"\nsource = "local"\nversion = "1"\nsha = "' + H1 + '"\n'
        'deployed-at = "2026-01-01T00:00:00Z"\n'
        'deployed-from = "/home/u/.skillmeat/collections/second"\n'
    )
    document = parse_document(legacy)
    assert document.collection_of(document.records[0])[0] == "second"
    (migrated,) = tomllib.loads(migrate_text(legacy))["deployed"]
    assert migrated["from_collection"] == "second"
    assert migrated["deployment-collection"] == "default"  # nothing lost


def test_skillmeat_siblings_in_the_collections_are_no_collections(world: dict[str, Path]) -> None:
    """A backup or swap copy SkillMeat leaves beside a collection is not indexed as one."""
    collections = world["home"] / "collections"
    shutil.copytree(collections / "default", collections / ".default.skillmeat-txn-0a1b2c3d")
    assert load_collections(world["home"]).names() == ["default"]
