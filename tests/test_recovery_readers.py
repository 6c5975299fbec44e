"""The readers settle interrupted requests before they judge a project (SPEC §6): ``check`` and
the language server complete or undo what a killed ``skillmeat-ls update`` left, and report a
project whose interrupted request cannot be settled instead of analysing its half state."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsp_support import CONFIG, Editor, capabilities, codes, install_editor, wait_ready, wait_until
from lsprotocol import types as t
from pytest_lsp import LanguageClient
from test_crash_recovery import DEPLOYED, SKILLS, World, killed, outcome
from test_crash_recovery import world as crash_world  # noqa: F401  (a module-scoped fixture)

from skillmeat_ls.deploy import JOURNAL_NAME, STAGING_PREFIX


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    """The 40-skill world of the kill tests (built once per module there)."""
    found: World = request.getfixturevalue("crash_world")
    return found


def check(world: World, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "skillmeat_ls", "--home", str(world.home), "--cache",
         str(world.caches[0]), "check", "--format", "json", *map(str, paths)],
        capture_output=True, text=True, timeout=120,
    )


def interrupted(world: World, name: str) -> Path:
    """A project whose ``update --all`` was killed with the first old copy in staging."""
    project = world.project(name)
    killed(world, project, "move:1", "update", "--all")
    assert (project / ".claude" / JOURNAL_NAME).exists()
    return project


def test_check_rolls_an_interrupted_update_back_before_judging(world: World) -> None:
    project = interrupted(world, "check-killed")
    result = check(world, project)
    report = json.loads(result.stdout)
    assert any("was undone" in note for note in report["notes"]), report["notes"]
    assert outcome(world, project) == "old"
    (file,) = report["files"]
    assert [d["code"] for d in file["diagnostics"]] == ["SM141"] * SKILLS  # old, and it says so


def hostile(world: World, name: str) -> Path:
    project = world.project(name)
    (project / ".claude" / JOURNAL_NAME).write_text("{ not json")
    return project


def test_check_reports_a_project_it_cannot_settle_instead_of_judging_it(world: World) -> None:
    project = hostile(world, "check-hostile")
    result = check(world, project)
    assert result.returncode == 2  # as for a file that cannot be read: nothing was judged
    (file,) = json.loads(result.stdout)["files"]
    assert file["diagnostics"] == [] and file["error"].startswith("not analysed: ")
    assert JOURNAL_NAME in file["error"]
    assert (project / ".claude" / JOURNAL_NAME).read_text() == "{ not json"  # left as it was


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def test_the_server_settles_the_workspace_at_start(
    client: LanguageClient, world: World
) -> None:
    editor = Editor()
    install_editor(client, editor)
    workspace = world.scratch / "server-workspace"
    workspace.mkdir()
    killed_project = interrupted(world, "server-workspace/killed")
    stuck = hostile(world, "server-workspace/stuck")
    await start_in(client, world, workspace)
    await wait_ready(editor)
    killed_file, stuck_file = (p / ".claude" / DEPLOYED for p in (killed_project, stuck))
    await wait_until(lambda: codes(client, killed_file).count("SM141") == SKILLS, timeout=60)
    assert outcome(world, killed_project) == "old"
    assert not any(p.name.startswith(STAGING_PREFIX) for p in (killed_project / ".claude").iterdir())
    await wait_until(lambda: codes(client, stuck_file) == ["SM100"])
    (diagnostic,) = client.diagnostics[stuck_file.as_uri()]
    assert diagnostic.message.startswith("not analysed: ") and JOURNAL_NAME in diagnostic.message
    await wait_until(lambda: any(JOURNAL_NAME in m.message for m in client.messages))


async def start_in(client: LanguageClient, world: World, workspace: Path) -> None:
    await client.initialize_session(t.InitializeParams(
        capabilities=capabilities("neovim@v0.7.0"),
        root_uri=workspace.as_uri(),
        workspace_folders=[t.WorkspaceFolder(uri=workspace.as_uri(), name="w")],
        initialization_options={"home": str(world.home), "cachePath": str(world.caches[1])},
    ))
