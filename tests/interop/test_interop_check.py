"""skillmeat-ls's findings and drift states on a world the real SkillMeat made, against SkillMeat.

Ground truth is SkillMeat's own: its ``status -p`` (profile-aware; ``sync-check`` is not used, it
sees only skills under ``.claude/``) and its ``compute_content_hash`` of the project copy and the
``collection.lock`` entry, against each record's hash.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import smreal

DRIFT_CODES = {"SM140", "SM141", "SM142"}


@pytest.fixture(scope="module")
def facts(world: smreal.World, tmp_path_factory: pytest.TempPathFactory) -> dict:
    sm = world.sm
    truth = sm.truth(world.project)
    status = smreal.status_by_identity(smreal.parse_status(world.status_text), truth)
    cache = tmp_path_factory.mktemp("ls-cache") / "ls.db"
    report = smreal.ls_json("check", world.project, home=sm.smhome, cache=cache, ok=(0, 1))
    ls_status = smreal.ls_json("status", "--project", world.project, home=sm.smhome, cache=cache)
    return {"truth": truth, "status": status, "report": report, "ls_status": ls_status}


def test_the_world_has_every_drift_state_in_both_roots(world: smreal.World, facts: dict) -> None:
    """The recipe did what it meant to (SkillMeat's hashes agree with the plan)."""
    roots = {v: k for k, v in world.roots.items()}
    got = {
        (roots[t["root"]], t["name"], t["type"]): smreal.expected_drift(t) for t in facts["truth"]
    }
    assert got == world.expected_drift
    assert set(smreal.tracking_files(world.project)) == set(world.roots.values())


def test_skillmeat_status_is_what_its_hashes_say(facts: dict) -> None:
    for t in facts["truth"]:
        state = facts["status"][(t["name"], t["type"], t["profile"])]
        assert (state == "modified") == (t["project_hash"] != t["recorded"]), t


def test_check_reports_exactly_the_true_findings(world: smreal.World, facts: dict) -> None:
    report = facts["report"]
    files = smreal.tracking_files(world.project)
    checked = {Path(f["path"]).resolve() for f in report["files"]}
    assert {p.resolve() for p in files.values()} <= checked, "a profile root's file was not checked"
    problems = []
    for root, path in files.items():
        by_record, outside = smreal.diagnostics_by_record(report, path)
        if outside:
            problems.append(f"{root}: findings outside any record: {outside}")
        names: dict[str, set[str]] = {}
        for name, kind in by_record:
            names.setdefault(name, set()).add(kind)
        for (name, kind), codes in by_record.items():
            t = next(
                t for t in facts["truth"] if (t["root"], t["name"], t["type"]) == (root, name, kind)
            )
            expected = {smreal.expected_drift(t)} - {None}
            if len(names[name]) > 1:
                expected.add("SM121")  # true: one name, two types in this file
            if sorted(codes) != sorted(expected):
                problems.append(
                    f"{root} {name}:{kind}: got {sorted(codes)}, expected {sorted(expected)}"
                )
    assert not problems, "\n".join(problems)


def test_every_drift_skillmeat_reports_shows_up(world: smreal.World, facts: dict) -> None:
    files = smreal.tracking_files(world.project)
    roots = {t["profile"]: t["root"] for t in facts["truth"]}
    missing = []
    for (name, kind, profile), state in facts["status"].items():
        if state != "modified":
            continue
        by_record, _ = smreal.diagnostics_by_record(facts["report"], files[roots[profile]])
        if not {"SM140", "SM142"} & set(by_record.get((name, kind), [])):
            missing.append(f"{name}:{kind} in {roots[profile]} ({profile})")
    assert not missing, f"SkillMeat says locally modified, skillmeat-ls says nothing: {missing}"


LS_TO_SKILLMEAT = {
    "in-sync": "synced",
    "update-available": "synced",
    "modified": "modified",
    "conflict": "modified",
}


def test_status_agrees_with_skillmeat_status(facts: dict) -> None:
    ours = {}
    for item in facts["ls_status"]["records"]:
        key = (item["name"], item["type"], smreal.ls_profile(item))
        assert key not in ours, f"two status items for {key}"
        ours[key] = item["state"]
    theirs = facts["status"]
    assert set(ours) == set(theirs), (
        f"only skillmeat-ls: {sorted(set(ours) - set(theirs))}; "
        f"only SkillMeat: {sorted(set(theirs) - set(ours))}"
    )
    wrong = {
        key: (state, theirs[key])
        for key, state in ours.items()
        if LS_TO_SKILLMEAT.get(state) != theirs[key]
    }
    assert not wrong, f"(skillmeat-ls state, SkillMeat state) differ: {wrong}"


def test_status_names_update_and_conflict_as_skillmeat_hashes_say(facts: dict) -> None:
    """SkillMeat's status cannot tell an update from in-sync; its hashes can."""
    names = {None: "in-sync", "SM140": "modified", "SM141": "update-available", "SM142": "conflict"}
    expected = {
        (t["name"], t["type"], t["profile"]): names[smreal.expected_drift(t)]
        for t in facts["truth"]
    }
    ours = {
        (i["name"], i["type"], smreal.ls_profile(i)): i["state"]
        for i in facts["ls_status"]["records"]
    }
    assert ours == expected
