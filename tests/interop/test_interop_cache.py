"""skillmeat-ls pointed at SkillMeat's own ``cache.db``: never a byte changed, never a sidecar.

The databases come from SkillMeat itself: ``CacheManager(path).initialize_cache()`` (fresh), then
each broken state SkillMeat can be left in (an empty ``alembic_version``, a revision SkillMeat
does not know, ``alembic_version`` dropped). For each, one copy is a control; skillmeat-ls runs
``cache status``, ``cache init``, ``check`` and ``status`` on the other; afterwards SkillMeat's
``initialize_cache()`` must do the same on both.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
import smreal

STATES = ("fresh", "empty-version", "unknown-revision", "no-version-table")


def snapshot(directory: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "(not a file)"
        for p in sorted(directory.iterdir())
    }


@pytest.fixture(scope="module")
def caches(world: smreal.World, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sm = world.sm
    if not sm.release.cache_importable:
        pytest.skip(
            f"SkillMeat {sm.version}'s cache package does not import "
            "(its wheel lacks skillmeat.core.parsers), so it has no cache.db to share"
        )
    base = tmp_path_factory.mktemp(f"caches-{sm.version}")
    built = sm.py(
        "cache-build", {"states": {s: str(base / s / "built" / "cache.db") for s in STATES}}
    )
    runs: dict[str, Any] = {}
    for state in STATES:
        made = base / state / "built"
        assert sorted(p.name for p in made.iterdir()) == ["cache.db"], (
            f"SkillMeat left more than cache.db for {state}: {sorted(p.name for p in made.iterdir())}"
        )
        for copy in ("control", "ours"):
            (base / state / copy).mkdir()
            shutil.copyfile(made / "cache.db", base / state / copy / "cache.db")
        ours = base / state / "ours"
        db = ours / "cache.db"
        before = snapshot(ours)
        steps = []
        for args in (
            ("cache", "status"),
            ("cache", "init"),
            ("check", "--format", "json", world.project),
            ("status", "--format", "json", "--project", world.project),
        ):
            result = smreal.skillmeat_ls(*args, home=sm.smhome, cache=db)
            steps.append((" ".join(map(str, args[:2])), result, snapshot(ours)))
        runs[state] = {"before": before, "steps": steps}
    inits = sm.py(
        "cache-init",
        {"paths": [str(base / s / c / "cache.db") for s in STATES for c in ("control", "ours")]},
    )
    for state in STATES:
        runs[state]["control"] = inits[str(base / state / "control" / "cache.db")]
        runs[state]["ours_then"] = inits[str(base / state / "ours" / "cache.db")]
    return {"built": built, "runs": runs}


def test_skillmeat_made_each_state(caches: dict[str, Any]) -> None:
    built = caches["built"]
    assert built["fresh"]["alembic_version"] and built["fresh"]["initialized"] is True
    assert built["empty-version"]["alembic_version"] == []
    assert built["unknown-revision"]["alembic_version"] == [
        "20260108_1700_add_mcp_to_type_constraints"
    ]
    assert built["no-version-table"]["alembic_version"] is None


@pytest.mark.parametrize("state", STATES)
def test_skillmeat_ls_changes_no_byte_and_makes_no_sidecar(
    caches: dict[str, Any], state: str
) -> None:
    run = caches["runs"][state]
    problems = []
    for name, result, after in run["steps"]:
        # Any exit status will do (``cache init`` refuses a foreign file); a crash will not.
        if "Traceback" in result.stderr:
            problems.append(f"{name}: traceback: {result.stderr[-1500:]}")
        if after != run["before"]:
            added = sorted(set(after) - set(run["before"]))
            changed = sorted(k for k in run["before"] if after.get(k) != run["before"][k])
            problems.append(f"after {name}: files added {added}, changed or removed {changed}")
            break
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("state", STATES)
def test_skillmeat_ls_calls_it_not_its_own(caches: dict[str, Any], state: str) -> None:
    status = caches["runs"][state]["steps"][0][1]
    assert status.returncode == 0, status.stderr
    assert "state:    ready" not in status.stdout, status.stdout


@pytest.mark.parametrize("state", STATES)
def test_skillmeat_initializes_it_as_before(caches: dict[str, Any], state: str) -> None:
    run = caches["runs"][state]
    assert run["ours_then"] == run["control"]


def test_skillmeat_still_fails_on_an_empty_alembic_version(caches: dict[str, Any]) -> None:
    """A fact the engine's doctor relies on (reference notes §7.1 (b)); the others self-heal."""
    runs = caches["runs"]
    assert runs["empty-version"]["control"]["initialized"] is False
    for state in ("fresh", "unknown-revision", "no-version-table"):
        assert runs[state]["control"]["initialized"] is True, state
