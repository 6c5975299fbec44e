"""What skillmeat-ls writes, read back by the real SkillMeat (in its own interpreter).

One project goes through skillmeat-ls ``deploy`` (``.claude`` and the codex profile), ``update``
after SkillMeat changed the collection, ``undeploy``, and then a ``skillmeat deploy`` into the
same project, which rewrites every root's file: nothing skillmeat-ls wrote may be lost. A legacy
file goes through ``migrate --write`` the same way.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import smreal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROFILE_KEYS = {
    ".claude": {
        "deployment_profile_id": "claude_code",
        "platform": "claude_code",
        "profile_root_dir": ".claude",
    },
    ".agents": {
        "deployment_profile_id": "codex",
        "platform": "codex",
        "profile_root_dir": ".agents",
    },
    # A custom profile is recorded by its id, with platform "other" whatever it extends.
    smreal.CUSTOM_ROOT: {
        "deployment_profile_id": smreal.CUSTOM_PROFILE,
        "platform": "other",
        "profile_root_dir": smreal.CUSTOM_ROOT,
    },
}


def raw_files(project: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        root: tomllib.loads(path.read_text(encoding="utf-8")).get("deployed", [])
        for root, path in smreal.tracking_files(project).items()
    }


def identity(record: dict[str, Any]) -> tuple[str, str, str]:
    return (
        record["artifact_name"],
        record["artifact_type"],
        record.get("deployment_profile_id") or "claude_code",
    )


def read_back_problems(
    raw: dict[str, list], read: dict[str, Any], *, extras_ok: bool = False
) -> list[str]:
    """Every difference between the files as written and as SkillMeat reads (and would write) them."""
    problems = []
    if set(raw) != set(read["files"]):
        problems.append(f"roots on disk {sorted(raw)}, SkillMeat read {sorted(read['files'])}")
    for root, records in raw.items():
        theirs = read["files"].get(root, [])
        if len(records) != len(theirs):
            problems.append(f"{root}: {len(records)} records written, SkillMeat read {len(theirs)}")
            continue
        for ours, held in zip(records, theirs, strict=True):
            who = f"{root} {ours.get('artifact_name')}:{ours.get('artifact_type')}"
            fields = held["fields"]
            unknown = [k for k in ours if k not in fields]
            if unknown and not extras_ok:
                problems.append(
                    f"{who}: keys SkillMeat does not know (dropped on its next write): {unknown}"
                )
            for key, value in ours.items():
                if key in fields and fields[key] != value:
                    problems.append(
                        f"{who}: {key} written {value!r}, SkillMeat read {fields[key]!r}"
                    )
            # What SkillMeat writes back for this record is what skillmeat-ls wrote.
            back = dict(held["to_dict"])
            if "version_lineage" not in ours:
                back.pop("version_lineage", None)  # SkillMeat infers [content_hash]
            known = {k: v for k, v in ours.items() if k in fields}
            if known != back:
                problems.append(f"{who}: SkillMeat would rewrite it as {back}, written {known}")
            elif list(known) != list(back):
                problems.append(f"{who}: key order {list(known)}, SkillMeat writes {list(back)}")
    return problems


def format_problems(raw: dict[str, list]) -> list[str]:
    problems = []
    for root, records in raw.items():
        for r in records:
            who = f"{root} {r.get('artifact_name')}:{r.get('artifact_type')}"
            if r.get("collection_sha") != r.get("content_hash"):
                problems.append(
                    f"{who}: collection_sha {r.get('collection_sha')!r} != content_hash"
                )
            for key, value in PROFILE_KEYS.get(root, {}).items():
                if r.get(key) != value:
                    problems.append(f"{who}: {key} = {r.get(key)!r}, expected {value!r}")
            stamp = str(r.get("deployed_at"))
            if not isinstance(r.get("deployed_at"), str) or stamp.endswith("Z") or "+" in stamp:
                problems.append(
                    f"{who}: deployed_at {r.get('deployed_at')!r} is not a naive ISO string"
                )
    return problems


def split(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {"read": snapshot, "truth": snapshot["truth"]}


def ls(flow: dict[str, Any], *args: str | Path) -> dict[str, Any]:
    report = smreal.ls_json(*args, home=flow["sm"].smhome, cache=flow["cache"])
    assert not report.get("errors") and not report.get("skipped"), report
    return report


@pytest.fixture(scope="module")
def flow(world: smreal.World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp(f"writes-{world.sm.version}")
    sm = world.sm.copy_to(base / "home")
    project = base / "project"
    project.mkdir()
    out: dict[str, Any] = {"sm": sm, "project": project, "cache": base / "ls.db", "base": base}
    p = str(project)
    out["deploy_reports"] = [
        ls(
            out,
            "deploy",
            "--project",
            p,
            "--collection",
            "default",
            "my skill",
            "review:skill",
            "review:command",
            "helper",
        ),
        ls(
            out,
            "deploy",
            "--project",
            p,
            "--collection",
            "default",
            "--profile",
            "codex",
            "my skill",
            "helper",
        ),
        ls(out, "deploy", "--project", p, "--collection", "team", "--profile", "codex", "review"),
    ]
    if sm.release.custom_profiles:  # the world's home defines it in config.toml
        out["deploy_reports"].append(
            ls(
                out,
                "deploy",
                "--project",
                p,
                "--collection",
                "default",
                "--profile",
                smreal.CUSTOM_PROFILE,
                "helper",
            )
        )
    out["A"] = {"raw": raw_files(project), **split(sm.snapshot(project))}
    out["A"]["status"] = sm.status(project)
    out["A"]["check"] = smreal.ls_json(
        "check", project, home=sm.smhome, cache=out["cache"], ok=(0, 1)
    )

    # SkillMeat changes the agent in the collection; skillmeat-ls updates both profiles' copies.
    (world.src / "helper.md").write_bytes(b"---\nname: helper\ndescription: Helper v3\n---\n# v3\n")
    sm.add("agent", world.src / "helper.md", sm.release.replace_flag_file)
    out["update_reports"] = [
        ls(out, "update", "--project", p, "helper:agent"),
        ls(out, "update", "--project", p, "--profile", "codex", "helper:agent"),
    ]
    out["B"] = {"raw": raw_files(project), **split(sm.snapshot(project))}

    out["undeploy_reports"] = [
        ls(out, "undeploy", "--project", p, "review:skill"),
        ls(out, "undeploy", "--project", p, "--profile", "codex", "review:command"),
    ]
    out["C"] = {"raw": raw_files(project), "read": sm.read(project)}
    out["C"]["copies"] = {
        rel: (project / rel).exists()
        for rel in (
            ".claude/skills/review",
            ".agents/commands/review.md",
            ".claude/commands/review.md",
        )
    }

    # Then SkillMeat deploys into the same project: it rewrites every root's file.
    sm.deploy(project, "review", artifact_type="skill")
    out["D"] = {"raw": raw_files(project), "read": sm.read(project)}
    return out


def test_deploy_reports_every_item(flow: dict[str, Any]) -> None:
    deployed = [(i["name"], i["type"]) for r in flow["deploy_reports"] for i in r["deployed"]]
    assert sorted(deployed) == sorted(
        [
            ("my skill", "skill"),
            ("review", "skill"),
            ("review", "command"),
            ("helper", "agent"),
            ("my skill", "skill"),
            ("helper", "agent"),
            ("review", "command"),
        ]
        + ([("helper", "agent")] if flow["sm"].release.custom_profiles else [])
    )


@pytest.mark.parametrize("stage", ["A", "B", "C"])
def test_skillmeat_reads_every_field_skillmeat_ls_wrote(flow: dict[str, Any], stage: str) -> None:
    problems = read_back_problems(flow[stage]["raw"], flow[stage]["read"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stage", ["A", "B", "C"])
def test_records_are_written_as_skillmeat_writes_them(flow: dict[str, Any], stage: str) -> None:
    raw = flow[stage]["raw"]
    assert set(raw) <= set(PROFILE_KEYS), f"profile roots written: {sorted(raw)}"
    problems = format_problems(raw)
    assert not problems, "\n".join(problems)


def test_deploy_writes_one_file_per_profile_root(flow: dict[str, Any]) -> None:
    raw = flow["A"]["raw"]
    expected = {
        ".claude": sorted(
            [
                ("my skill", "skill", "claude_code"),
                ("review", "skill", "claude_code"),
                ("review", "command", "claude_code"),
                ("helper", "agent", "claude_code"),
            ]
        ),
        ".agents": sorted(
            [
                ("my skill", "skill", "codex"),
                ("helper", "agent", "codex"),
                ("review", "command", "codex"),
            ]
        ),
    }
    if flow["sm"].release.custom_profiles:
        expected[smreal.CUSTOM_ROOT] = [("helper", "agent", smreal.CUSTOM_PROFILE)]
    assert {root: sorted(identity(r) for r in records) for root, records in raw.items()} == expected
    paths = {
        (r["artifact_name"], r["artifact_type"]): r["artifact_path"]
        for rs in raw.values()
        for r in rs
    }
    assert paths == {
        ("my skill", "skill"): "skills/my skill",
        ("review", "skill"): "skills/review",
        ("review", "command"): "commands/review.md",
        ("helper", "agent"): "agents/helper.md",
    }
    froms = {identity(r): r["from_collection"] for rs in raw.values() for r in rs}
    assert froms[("review", "command", "codex")] == "team"


@pytest.mark.parametrize("stage", ["A", "B"])
def test_recorded_hashes_are_skillmeats_hashes(flow: dict[str, Any], stage: str) -> None:
    """content_hash = SkillMeat's compute_content_hash of the copy = the collection.lock entry."""
    behind = {("helper", "agent", smreal.CUSTOM_PROFILE)} if stage == "B" else set()
    wrong = [
        t
        for t in flow[stage]["truth"]
        if t["recorded"] != t["project_hash"]
        or (
            (t["recorded"] == t["collection_hash"])
            == ((t["name"], t["type"], t["profile"]) in behind)
        )
    ]
    assert not wrong, wrong


def test_skillmeat_status_sees_every_deploy_in_sync(flow: dict[str, Any]) -> None:
    status = smreal.status_by_identity(flow["A"]["status"], flow["A"]["truth"])
    assert status == {identity(r): "synced" for rs in flow["A"]["raw"].values() for r in rs}


def test_check_finds_only_the_shared_name_after_deploy(flow: dict[str, Any]) -> None:
    found = sorted(
        (Path(f["path"]).parent.name, d["code"])
        for f in flow["A"]["check"]["files"]
        for d in f["diagnostics"]
    )
    assert found == [(".claude", "SM121"), (".claude", "SM121")]  # review: a skill and a command


def test_update_rerecords_both_profiles_and_leaves_the_rest(flow: dict[str, Any]) -> None:
    lock = tomllib.loads(
        (flow["sm"].smhome / "collections" / "default" / "collection.lock").read_text()
    )
    new_hash = lock["lock"]["entries"]["helper::agent"]["content_hash"]
    before = {identity(r): r for rs in flow["A"]["raw"].values() for r in rs}
    after = {identity(r): r for rs in flow["B"]["raw"].values() for r in rs}
    assert set(before) == set(after)
    for key, record in after.items():
        if key in {("helper", "agent", "claude_code"), ("helper", "agent", "codex")}:
            assert record["content_hash"] == new_hash, key
            assert record["collection_sha"] == new_hash, key
        else:
            assert record == before[key], f"update changed {key}"
    for root in (".claude", ".agents"):
        copy = flow["project"] / root / "agents" / "helper.md"
        assert b"# v3" in copy.read_bytes(), copy
    if flow["sm"].release.custom_profiles:  # not updated: it still has the older copy
        custom = [r for r in after.values() if r.get("profile_root_dir") == smreal.CUSTOM_ROOT]
        assert custom and all(r["content_hash"] != new_hash for r in custom)


def test_undeploy_removes_the_copy_and_the_record_only(flow: dict[str, Any]) -> None:
    before = {identity(r): r for rs in flow["B"]["raw"].values() for r in rs}
    after = {identity(r): r for rs in flow["C"]["raw"].values() for r in rs}
    gone = {("review", "skill", "claude_code"), ("review", "command", "codex")}
    assert set(before) - set(after) == gone
    assert all(after[k] == before[k] for k in after)
    assert flow["C"]["copies"] == {
        ".claude/skills/review": False,
        ".agents/commands/review.md": False,
        ".claude/commands/review.md": True,
    }


def test_a_later_skillmeat_deploy_loses_nothing_skillmeat_ls_wrote(flow: dict[str, Any]) -> None:
    before = {identity(r): r for rs in flow["C"]["raw"].values() for r in rs}
    after = {identity(r): r for rs in flow["D"]["raw"].values() for r in rs}
    assert ("review", "skill", "claude_code") in after
    lost = []
    for key, record in before.items():
        if key not in after:
            lost.append(f"{key}: record gone")
            continue
        for field, value in record.items():
            if after[key].get(field) != value:
                lost.append(f"{key}: {field} {value!r} -> {after[key].get(field)!r}")
    assert not lost, "\n".join(lost)


def test_emptying_a_root_leaves_what_skillmeat_writes(world: smreal.World, tmp_path: Path) -> None:
    sm = world.sm
    project = tmp_path / "p"
    project.mkdir()
    flow = {"sm": sm, "cache": tmp_path / "ls.db"}
    ls(
        flow,
        "deploy",
        "--project",
        str(project),
        "--collection",
        "default",
        "--profile",
        "codex",
        "helper",
    )
    ls(flow, "undeploy", "--project", str(project), "--profile", "codex", "helper")
    path = project / ".agents" / ".skillmeat-deployed.toml"
    # SkillMeat 0.74.0 writes an emptied root as `deployed = []` (0.9.0 deleted the file).
    assert path.exists(), (
        "the emptied root's file was deleted; SkillMeat 0.74.0 keeps `deployed = []`"
    )
    assert tomllib.loads(path.read_text()) == {"deployed": []}
    assert sm.read(project)["all"] == []


# --- migrate --write ------------------------------------------------------------------------------

LEGACY = """\
[deployment]
collection = "default"
deployed-at = "2026-11-24T02:22:37.820652Z"
skillmeat-version = "0.2.0-alpha"

[[artifacts]]
name = "my skill"
type = "skill"
source = "local:{home}/collections/default/skills/my skill"
version = "unknown"
sha = "{skill_sha}"
deployed-at = "2026-11-24T02:22:37.820652Z"
deployed-from = "{home}/collections/default"

[[artifacts]]
name = "review"
type = "command"
source = "local:{home}/collections/team/commands/review.md"
version = "unknown"
sha = "{command_sha}"
deployed-at = "2026-11-24T02:23:00Z"
deployed-from = "{home}/collections/team"
"""


@pytest.fixture(scope="module")
def migrated(world: smreal.World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp(f"migrate-{world.sm.version}")
    sm = world.sm.copy_to(base / "home")
    collections = sm.smhome / "collections"
    project = base / "project"
    claude = project / ".claude"
    shutil.copytree(
        collections / "default" / "skills" / "my skill",
        claude / "skills" / "my skill",
        symlinks=True,
    )
    (claude / "commands").mkdir(parents=True)
    shutil.copy2(collections / "team" / "commands" / "review.md", claude / "commands" / "review.md")
    locks = {
        name: tomllib.loads((collections / name / "collection.lock").read_text())["lock"]["entries"]
        for name in ("default", "team")
    }
    legacy = claude / ".skillmeat-deployed.toml"
    legacy.write_text(
        LEGACY.format(
            home=sm.smhome,
            skill_sha=locks["default"]["my skill::skill"]["content_hash"],
            command_sha=locks["team"]["review::command"]["content_hash"],
        )
    )
    out: dict[str, Any] = {"sm": sm, "project": project, "locks": locks}
    out["before"] = sm.read(project)
    result = smreal.skillmeat_ls("migrate", "--write", legacy, home=sm.smhome, cache=base / "ls.db")
    assert result.returncode == 0, result.stdout + result.stderr
    out["raw"] = raw_files(project)
    out.update(split(sm.snapshot(project)))
    out["check"] = smreal.ls_json("check", project, home=sm.smhome, cache=base / "ls.db", ok=(0, 1))
    sm.deploy(project, "helper")
    out["after"] = raw_files(project)
    return out


def test_skillmeat_reads_a_legacy_file_as_nothing(migrated: dict[str, Any]) -> None:
    assert migrated["before"]["all"] == []  # why migrating matters: SkillMeat ignores it


def test_skillmeat_reads_the_migrated_file(migrated: dict[str, Any]) -> None:
    problems = read_back_problems(migrated["raw"], migrated["read"], extras_ok=True)
    assert not problems, "\n".join(problems)
    fields = {
        (r["fields"]["artifact_name"], r["fields"]["artifact_type"]): r["fields"]
        for r in migrated["read"]["all"]
    }
    skill, command = fields[("my skill", "skill")], fields[("review", "command")]
    assert skill["from_collection"] == "default"
    assert command["from_collection"] == "team"  # its deployed-from names a collection of the home
    assert skill["deployed_at"] == "2026-11-24T02:22:37.820652"
    assert command["deployed_at"] == "2026-11-24T02:23:00"
    assert skill["artifact_path"] == "skills/my skill"
    assert command["artifact_path"] == "commands/review.md"
    assert skill["content_hash"] == migrated["locks"]["default"]["my skill::skill"]["content_hash"]
    assert command["content_hash"] == migrated["locks"]["team"]["review::command"]["content_hash"]
    assert all(t["recorded"] == t["project_hash"] for t in migrated["truth"]), migrated["truth"]


def test_the_migrated_project_checks_clean(migrated: dict[str, Any]) -> None:
    found = [
        f"{d['code']} {d['message']}" for f in migrated["check"]["files"] for d in f["diagnostics"]
    ]
    assert found == []


def test_a_later_skillmeat_deploy_keeps_the_migrated_records(migrated: dict[str, Any]) -> None:
    fields = {f for r in migrated["read"]["all"] for f in r["fields"]}
    before = {identity(r): r for rs in migrated["raw"].values() for r in rs}
    after = {identity(r): r for rs in migrated["after"].values() for r in rs}
    assert ("helper", "agent", "claude_code") in after
    lost = [
        f"{key}: {k} {v!r} -> {after.get(key, {}).get(k)!r}"
        for key, record in before.items()
        for k, v in record.items()
        if k in fields and after.get(key, {}).get(k) != v
    ]
    assert not lost, "\n".join(lost)
