"""Shared pieces of the end-to-end LSP tests: a real SkillMeat home and project on disk, a test
client that answers the server's requests as an editor would, and small waiting helpers."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from skillmeat_ls.hashing import content_hash

SERVER = [sys.executable, "-m", "skillmeat_ls", "--stdio"]
CONFIG = ClientServerConfig(server_command=SERVER)
PUSH_CLIENT = "neovim@v0.7.0"  # no pull diagnostics
PULL_CLIENT = "neovim@v0.10.0"  # advertises textDocument/diagnostic


def collection(home: Path, name: str, artifacts: dict[tuple[str, str], str]) -> Path:
    """Write a collection in SkillMeat's format: ``{(name, type): content}``."""
    root = home / "collections" / name
    tables = []
    for (artifact, artifact_type), body in artifacts.items():
        if artifact_type == "skill":
            rel = f"skills/{artifact}"
            (root / rel).mkdir(parents=True, exist_ok=True)
            (root / rel / "SKILL.md").write_text(body)
        else:
            rel = f"{artifact_type}s/{artifact}.md"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(body)
        tables.append(
            f'[[artifacts]]\nname = "{artifact}"\ntype = "{artifact_type}"\npath = "{rel}"\n'
            f'origin = "local"\nadded = "2026-01-01T00:00:00"\n\n[artifacts.metadata]\n'
            f'description = "{artifact} ({artifact_type}) from {name}"\n'
        )
    (root / "collection.toml").write_text(
        f'[collection]\nname = "{name}"\nversion = "1.0.0"\ncreated = "2026-01-01T00:00:00"\n'
        'updated = "2026-01-01T00:00:00"\n\n' + "\n".join(tables)
    )
    return root


def record(name: str, artifact_type: str, collection_name: str, path: str, digest: str,
           **extra: Any) -> str:
    lines = [
        "[[deployed]]",
        f'artifact_name = "{name}"',
        f'artifact_type = "{artifact_type}"',
        f'from_collection = "{collection_name}"',
        'deployed_at = "2026-01-05T15:07:49.157370"',
        f'artifact_path = "{path}"',
        f'content_hash = "{digest}"',
        "local_modifications = false",
    ]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n\n"


def fake_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


@dataclass
class World:
    """A SkillMeat home with collections ``default`` and ``team`` and a workspace of projects."""

    root: Path
    home: Path
    workspace: Path
    cache: Path

    def project(self, name: str) -> Path:
        claude = self.workspace / name / ".claude"
        claude.mkdir(parents=True, exist_ok=True)
        return claude.parent

    def deploy_copy(self, project: Path, collection_name: str, rel: str) -> str:
        """Copy an artifact from a collection into ``project`` by hand; return its hash."""
        source = self.home / "collections" / collection_name / rel
        target = project / ".claude" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            import shutil

            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.write_bytes(source.read_bytes())
        return content_hash(target)

    def options(self, **extra: Any) -> dict[str, Any]:
        return {"home": str(self.home), "cachePath": str(self.cache), **extra}


def make_world(root: Path) -> World:
    home, workspace = root / "home", root / "workspace"
    workspace.mkdir(parents=True)
    collection(home, "default", {("review", "command"): "# Review\n",
                                 ("review", "skill"): "# Review skill\n",
                                 ("helper", "agent"): "# Helper\n"})
    collection(home, "team", {("review", "skill"): "# Team review skill\n",
                              ("planner", "agent"): "# Planner\n"})
    return World(root, home, workspace, root / "cache" / "skillmeat-ls.db")


@dataclass
class Editor:
    """What the test client does when the server asks: answers and a log of what was asked."""

    answers: list[str | None] = field(default_factory=list)  # showMessageRequest, in order
    apply_edits: bool = True
    #: False: workspace/applyEdit is not answered until ``edits_released`` is set (an editor
    #: whose user never clicks)
    answer_edits: bool = True
    edits_released: asyncio.Event = field(default_factory=asyncio.Event)
    asked: list[t.ShowMessageRequestParams] = field(default_factory=list)
    edits: list[t.WorkspaceEdit] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    registrations: list[t.Registration] = field(default_factory=list)


def install_editor(client: LanguageClient, editor: Editor) -> None:
    # LSP tells a Command from a CodeAction by the type of "command" (a string in a Command);
    # the test client's converter looks only at the key, so teach it the rule.
    converter = client.protocol._converter

    def command_or_action(value: Any, _type: Any) -> t.Command | t.CodeAction:
        if isinstance(value.get("command"), str):
            return converter.structure(value, t.Command)
        return converter.structure(value, t.CodeAction)

    converter.register_structure_hook(t.Command | t.CodeAction, command_or_action)
    # lsprotocol spells its unions with typing.Union, a different key from `X | Y`
    converter.register_structure_hook(Union[t.Command, t.CodeAction], command_or_action)  # noqa: UP007

    @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(
        params: t.ShowMessageRequestParams,
    ) -> t.MessageActionItem | None:
        editor.asked.append(params)
        answer = editor.answers.pop(0) if editor.answers else None
        return t.MessageActionItem(title=answer) if answer is not None else None

    @client.feature(t.WORKSPACE_APPLY_EDIT)
    async def apply_edit(params: t.ApplyWorkspaceEditParams) -> t.ApplyWorkspaceEditResult:
        editor.edits.append(params.edit)
        if not editor.answer_edits:
            await editor.edits_released.wait()
        return t.ApplyWorkspaceEditResult(applied=editor.apply_edits)

    @client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: t.RegistrationParams) -> None:
        editor.registrations.extend(params.registrations)

    @client.feature("skillmeat/status")
    def status(params: Any) -> None:
        editor.statuses.append(plain(params))


def plain(value: Any) -> Any:
    """JSON-like data as plain dicts and lists (pygls gives untyped results as named tuples)."""
    if hasattr(value, "_asdict"):
        return {key: plain(item) for key, item in value._asdict().items()}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


async def raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """Send a request exactly as given (no typing), as a buggy or hostile client would."""
    msg_id = str(uuid.uuid4())
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(future, timeout=20)


def capabilities(spec: str) -> t.ClientCapabilities:
    return client_capabilities(spec)


async def start(client: LanguageClient, world: World, spec: str = PUSH_CLIENT,
                **options: Any) -> t.InitializeResult:
    workspace = world.workspace.as_uri()
    return await client.initialize_session(t.InitializeParams(
        capabilities=capabilities(spec),
        root_uri=workspace,
        workspace_folders=[t.WorkspaceFolder(uri=workspace, name="workspace")],
        initialization_options=world.options(**options),
    ))


async def wait_until(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait (bounded) until ``predicate()`` is true; fail with a clear message otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for a condition")
        await asyncio.sleep(0.05)


async def wait_ready(editor: Editor) -> dict[str, Any]:
    await wait_until(lambda: any(s.get("state") != "initializing" for s in editor.statuses))
    return next(s for s in editor.statuses if s.get("state") != "initializing")


def codes(client: LanguageClient, path: Path) -> list[str]:
    return sorted(str(d.code) for d in client.diagnostics.get(path.as_uri(), []))


class OpenFile:
    """A document open in the test client, edited with full-text changes."""

    def __init__(self, client: LanguageClient, path: Path, text: str | None = None) -> None:
        self.client, self.path, self.version = client, path, 1
        self.text = path.read_text() if text is None else text
        client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(
            uri=path.as_uri(), language_id="toml", version=1, text=self.text)))

    @property
    def uri(self) -> str:
        return self.path.as_uri()

    def change(self, text: str) -> None:
        self.version += 1
        self.text = text
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=text)],
        ))

    def replace_line(self, line: int, text: str) -> None:
        """Replace one line with an incremental change, as editors send keystrokes."""
        lines = self.text.splitlines(keepends=True)
        old = lines[line].rstrip("\n")
        lines[line] = text + "\n"
        self.version += 1
        self.text = "".join(lines)
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[t.TextDocumentContentChangePartial(
                range=t.Range(t.Position(line, 0), t.Position(line, len(old))), text=text)],
        ))

    def apply(self, edit: t.WorkspaceEdit) -> None:
        """Apply a server's edit to this document, as an editor does, and send the change."""
        edits: list[t.TextEdit] = []
        for change in edit.document_changes or []:
            if isinstance(change, t.TextDocumentEdit) and change.text_document.uri == self.uri:
                edits.extend(e for e in change.edits if isinstance(e, t.TextEdit))
        for uri, more in (edit.changes or {}).items():
            if uri == self.uri:
                edits.extend(more)
        self.change(apply_text_edits(self.text, edits))


def apply_text_edits(text: str, edits: list[t.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) to ``text``."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: t.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        line = lines[position.line]
        units = 0
        for index, char in enumerate(line):
            if units >= position.character:
                return starts[position.line] + index
            units += 2 if ord(char) > 0xFFFF else 1
        return starts[position.line] + len(line.rstrip("\r\n"))

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
    return text
