"""One table of command ids: what the server registers at ``initialize``, the engine's table
(``skillmeat_ls/command_ids.py``), and what the VS Code extension calls
(``vscode-extension/src/core/serverCommands.ts``) are the same ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest_lsp
from lsp_support import CONFIG, make_world, start
from pytest_lsp import LanguageClient

from skillmeat_ls import command_ids

EXTENSION_SRC = Path(__file__).resolve().parents[1] / "vscode-extension" / "src"
TABLE = EXTENSION_SRC / "core" / "serverCommands.ts"


def extension_ids() -> list[str]:
    body = TABLE.read_text().split("export const ServerCommand = {", 1)[1].split("}", 1)[0]
    return re.findall(r"^\s*\w+: '([^']+)',$", body, re.MULTILINE)


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def test_the_server_reports_the_ids_the_extension_calls(
    client: LanguageClient, tmp_path: Path
) -> None:
    result = await start(client, make_world(tmp_path))
    provider = result.capabilities.execute_command_provider
    assert provider is not None
    assert list(provider.commands) == list(command_ids.ALL)
    assert sorted(extension_ids()) == sorted(provider.commands)


def test_the_extension_names_server_commands_only_through_its_table() -> None:
    literal = re.compile("'(" + "|".join(re.escape(c) for c in command_ids.ALL) + ")'")
    offenders = [
        f"{path.relative_to(EXTENSION_SRC)}:{number}"
        for path in EXTENSION_SRC.rglob("*.ts")
        if path != TABLE
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []
