"""No request holds the engine while it waits for the editor: a deploy into an open deployment
file whose ``workspace/applyEdit`` the editor never answers leaves every other document served,
and is rolled back when the wait ends."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest_lsp
from lsp_support import (
    SERVER,
    Editor,
    OpenFile,
    World,
    codes,
    install_editor,
    make_world,
    plain,
    start,
    wait_ready,
    wait_until,
)
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

EDITOR_TIMEOUT_S = 6
CONFIG = ClientServerConfig(
    server_command=SERVER,
    server_env={**os.environ, "SKILLMEAT_LS_EDITOR_TIMEOUT": str(EDITOR_TIMEOUT_S)},
)


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def test_an_unanswered_apply_edit_stalls_nothing_else(
    client: LanguageClient, tmp_path: Path
) -> None:
    editor = Editor(answer_edits=False)
    install_editor(client, editor)
    world: World = make_world(tmp_path)
    target = world.project("p") / ".claude" / ".skillmeat-deployed.toml"
    target.write_text("deployed = []\n")
    other = world.project("q") / ".claude" / ".skillmeat-deployed.toml"
    other.write_text("[deployment]\ncollection = 'default'\n")
    await start(client, world)
    await wait_ready(editor)
    OpenFile(client, target)
    edited = OpenFile(client, other)
    await wait_until(lambda: "SM101" in codes(client, other))

    deploying = asyncio.ensure_future(client.workspace_execute_command_async(
        t.ExecuteCommandParams(command="skillmeat.deploy", arguments=[{
            "project": str(target.parent.parent), "collection": "team",
            "artifacts": [{"name": "planner", "type": "agent"}]}])))
    await wait_until(lambda: len(editor.edits) == 1)  # the server now waits for the editor

    # meanwhile another document is edited and hovered, and both are answered at once
    edited.change("[deployment]\ncollection = 'default'\nbogus = 1\n")
    await wait_until(lambda: "SM103" in codes(client, other), timeout=EDITOR_TIMEOUT_S - 2)
    hover = await asyncio.wait_for(client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier(edited.uri), t.Position(1, 2))), EDITOR_TIMEOUT_S - 2)
    assert hover is None or hover.contents is not None
    assert not deploying.done()

    result = plain(await asyncio.wait_for(deploying, EDITOR_TIMEOUT_S + 20))
    assert result["deployed"] == []
    assert [e["name"] for e in result["errors"]] == ["planner"]
    assert "did not answer" in result["errors"][0]["message"]
    root = target.parent
    assert not (root / "agents" / "planner.md").exists()  # the copy was rolled back
    assert not (root / ".skillmeat-journal.json").exists()
    assert not list(root.glob(".skillmeat-staging-*"))
    assert target.read_text() == "deployed = []\n"
    editor.edits_released.set()
