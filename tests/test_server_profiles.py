"""The language server on profile roots other than ``.claude``: a Codex project's
``.agents/.skillmeat-deployed.toml`` is found, judged against ``.agents/``, and re-analysed when a
deployed copy under ``.agents/`` changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsp_support import (
    CONFIG,
    Editor,
    World,
    codes,
    install_editor,
    make_world,
    plain,
    record,
    start,
    wait_ready,
    wait_until,
)
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from skillmeat_ls.hashing import content_hash

CODEX_KEYS = {
    "deployment_profile_id": '"codex"',
    "platform": '"codex"',
    "profile_root_dir": '".agents"',
}


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path)


@pytest.fixture
def editor() -> Editor:
    return Editor()


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, editor: Editor):
    install_editor(lsp_client, editor)
    yield
    await lsp_client.shutdown_session()


def codex_project(world: World) -> tuple[Path, Path]:
    """A project deployed for Codex only: ``.agents/agents/helper.md`` and its record."""
    project = world.workspace / "tools"
    copy = project / ".agents" / "agents" / "helper.md"
    copy.parent.mkdir(parents=True)
    copy.write_bytes((world.home / "collections/default/agents/helper.md").read_bytes())
    file = project / ".agents" / ".skillmeat-deployed.toml"
    file.write_text(
        record("helper", "agent", "default", "agents/helper.md", content_hash(copy), **CODEX_KEYS)
    )
    (project / ".agents" / "..skillmeat-deployed.toml.skillmeat-lock").write_text("")
    return file, copy


async def test_codex_file_is_scanned_and_follows_its_copies(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    file, copy = codex_project(world)
    await start(client, world)
    assert (await wait_ready(editor))["state"] == "ready"
    # found by the workspace scan, never opened: clean
    await wait_until(lambda: file.as_uri() in client.diagnostics)
    assert codes(client, file) == []
    assert not any("skillmeat-lock" in uri for uri in client.diagnostics)
    copy.write_text("# Helper, edited for Codex\n")
    client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams(
            changes=[t.FileEvent(uri=copy.as_uri(), type=t.FileChangeType.Changed)]
        )
    )
    await wait_until(lambda: "SM140" in codes(client, file))
    (diagnostic,) = client.diagnostics[file.as_uri()]
    assert "modified locally" in diagnostic.message


async def test_actions_on_a_codex_record_carry_the_profile(
    client: LanguageClient, world: World
) -> None:
    file, copy = codex_project(world)
    copy.unlink()  # SM132: deploy it again, into .agents
    await start(client, world)
    await wait_until(lambda: "SM132" in codes(client, file))
    (diagnostic,) = client.diagnostics[file.as_uri()]
    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=file.as_uri()),
            range=diagnostic.range,
            context=t.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    deploys = [a for a in actions or [] if isinstance(a, t.CodeAction) and a.command]
    assert deploys, actions
    command = deploys[0].command
    assert command is not None
    arguments = plain(command.arguments)
    assert arguments[0]["profile"] == "codex"
    result = plain(
        await client.workspace_execute_command_async(
            t.ExecuteCommandParams(command=command.command, arguments=command.arguments)
        )
    )
    assert result["root"] == ".agents" and result["errors"] == []
    assert copy.exists() and not (file.parent.parent / ".claude").exists()
    await wait_until(lambda: codes(client, file) == [])
