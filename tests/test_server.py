"""The language server end to end: a real client over stdio, real files, a real SQLite cache;
profile roots other than ``.claude`` (a Codex project's ``.agents/``) included."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_support import (
    CONFIG,
    PULL_CLIENT,
    Editor,
    OpenFile,
    World,
    codes,
    fake_hash,
    install_editor,
    make_world,
    plain,
    raw_request,
    record,
    start,
    wait_ready,
    wait_until,
)
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException, JsonRpcMethodNotFound
from pytest_lsp import LanguageClient

from skillmeat_ls.cache.revisions import HEAD
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.session import DISK_FRESHNESS_S

DEPLOYED = ".skillmeat-deployed.toml"


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


def deployment_file(world: World, project: str, text: str, name: str = DEPLOYED) -> Path:
    path = world.project(project) / ".claude" / name
    path.write_text(text)
    return path


async def diagnosed(client: LanguageClient, path: Path, code: str | None = None) -> list[str]:
    """Wait for a publish for ``path`` (containing ``code`` if given) and return its codes."""
    await wait_until(lambda: path.as_uri() in client.diagnostics
                     and (code is None or code in codes(client, path)))
    return codes(client, path)


# --- lifecycle ------------------------------------------------------------------------------------


async def test_background_start_reports_progress_and_status(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    result = await start(client, world)
    assert result.server_info is not None and result.server_info.name == "skillmeat-ls"
    status = await wait_ready(editor)
    assert status["state"] == "ready"
    assert status["revision"] == HEAD == "0005_text_verdicts"
    assert editor.statuses[0]["state"] == "initializing"
    await wait_until(lambda: any(
        any(isinstance(v, t.WorkDoneProgressEnd) for v in values)
        for values in client.progress_reports.values()))
    (reports,) = client.progress_reports.values()
    assert isinstance(reports[0], t.WorkDoneProgressBegin)
    with sqlite3.connect(world.cache) as conn:
        assert conn.execute("SELECT count(*) FROM collections").fetchone()[0] == 2


async def test_every_workspace_file_is_analysed_without_opening(
    client: LanguageClient, world: World
) -> None:
    legacy = deployment_file(world, "old", "[deployment]\ncollection = 'default'\n")
    await start(client, world)
    assert await diagnosed(client, legacy) == ["SM101"]


async def test_foreign_cache_degrades_but_syntax_is_still_served(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    world.cache.parent.mkdir(parents=True)
    with sqlite3.connect(world.cache) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999_newer')")
    before = world.cache.read_bytes()
    path = deployment_file(world, "p", "[[deployed]\n")
    await start(client, world)
    status = await wait_ready(editor)
    assert status["state"] == "degraded"
    assert "9999_newer" in status["message"]
    OpenFile(client, path)
    assert "SM100" in await diagnosed(client, path, "SM100")
    assert world.cache.read_bytes() == before
    cache_status = await execute(client, "skillmeat.cacheStatus")
    assert cache_status["state"] == "degraded" and cache_status["revision"] == "9999_newer"


async def test_settings_from_configuration_disable_and_override(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    client.set_configuration({"rules": {"SM132": False}, "severity": {"SM111": "hint"}},
                             section="skillmeat")
    path = deployment_file(world, "p", record("helper", "agent", "default", "agents/helper.md",
                                              "abc"))
    await start(client, world, "visual-studio-code")  # asks workspace/configuration
    await wait_ready(editor)
    OpenFile(client, path)
    await wait_until(lambda: codes(client, path) == ["SM111"])
    (found,) = client.diagnostics[path.as_uri()]
    assert found.severity == t.DiagnosticSeverity.Hint
    client.workspace_did_change_configuration(t.DidChangeConfigurationParams(
        settings={"skillmeat": {"rules": {"SM111": False, "SM132": True}}}))
    await wait_until(lambda: codes(client, path) == ["SM132"])


class PublishLog(dict):  # type: ignore[type-arg]
    """``client.diagnostics`` that also keeps every set published, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.sets: list[tuple[str, list[str]]] = []

    def __setitem__(self, uri: str, diagnostics: list[t.Diagnostic]) -> None:
        self.sets.append((uri, sorted(str(d.code) for d in diagnostics)))
        super().__setitem__(uri, diagnostics)


async def test_a_document_opened_before_the_settings_arrive_is_first_analysed_with_them(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    """The editor opens a file while the server is still asking for its settings: the very first
    diagnostics already follow them (no flash of a finding the user turned off)."""
    log = PublishLog()
    client.diagnostics = log
    client.set_configuration({"rules": {"SM132": False}}, section="skillmeat")
    path = deployment_file(world, "p", record("helper", "agent", "default", "agents/helper.md",
                                              "abc"))
    await start(client, world, "visual-studio-code")  # asks workspace/configuration
    OpenFile(client, path)  # at once, before the settings are answered
    await wait_until(lambda: any(uri == path.as_uri() for uri, _ in log.sets))
    await wait_ready(editor)
    sets = [found for uri, found in log.sets if uri == path.as_uri()]
    assert sets[0] == ["SM111"]  # SM111 (a malformed hash) yes, SM132 (copy missing) turned off
    assert all("SM132" not in found for found in sets)


async def test_a_text_opened_again_first_shows_what_the_text_rules_found_in_it(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    """Opened after a restart with the text it had when last opened, a file first gets the
    findings of the rules that read only the text (SM111: a malformed hash) before it is
    parsed, then all of them (SM132: its copy is missing); a file whose text changed since gets
    all of them at once. Without the kept findings the first set already holds SM132."""
    same = deployment_file(world, "p", record("helper", "agent", "default", "agents/helper.md",
                                              "abc"))
    changed = deployment_file(world, "q", record("helper", "agent", "default", "agents/helper.md",
                                                 "abc"))
    first = await CONFIG.start()
    install_editor(first, Editor())
    try:
        await start(first, world)
        OpenFile(first, same)
        OpenFile(first, changed)
        for path in (same, changed):
            await wait_until(lambda path=path: codes(first, path) == ["SM111", "SM132"])
    finally:
        await first.shutdown_session()
    changed.write_text(changed.read_text() + "\n")

    log = PublishLog()
    client.diagnostics = log
    await start(client, world)
    OpenFile(client, same)
    OpenFile(client, changed)
    await wait_until(lambda: codes(client, same) == codes(client, changed) == ["SM111", "SM132"])
    assert next(found for uri, found in log.sets if uri == same.as_uri()) == ["SM111"]
    assert next(found for uri, found in log.sets if uri == changed.as_uri()) == ["SM111", "SM132"]


def save(client: LanguageClient, path: Path) -> None:
    client.text_document_did_save(
        t.DidSaveTextDocumentParams(t.TextDocumentIdentifier(uri=path.as_uri()))
    )


def text_kept(world: World, text: str) -> bool:
    """Whether what the text rules found in ``text`` is kept in the cache."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    with sqlite3.connect(world.cache) as db:
        return any(digest in content for (content,) in
                   db.execute("SELECT content FROM text_verdicts"))


async def test_a_saved_text_first_shows_its_text_findings_when_opened_again(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    """What the text rules found is kept when a file is saved too: the text typed and saved in
    one run is, opened in the next, first shown with its SM111 alone."""
    path = deployment_file(world, "p", "deployed = []\n")
    saved = record("helper", "agent", "default", "agents/helper.md", "abc")
    first = await CONFIG.start()
    install_editor(first, Editor())
    try:
        await start(first, world)
        opened = OpenFile(first, path)
        await wait_until(lambda: path.as_uri() in first.diagnostics)
        opened.change(saved)
        await wait_until(lambda: codes(first, path) == ["SM111", "SM132"])
        path.write_text(saved)
        save(first, path)
        await wait_until(lambda: text_kept(world, saved))
    finally:
        await first.shutdown_session()

    log = PublishLog()
    client.diagnostics = log
    await start(client, world)
    OpenFile(client, path)
    await wait_until(lambda: codes(client, path) == ["SM111", "SM132"])
    assert next(found for uri, found in log.sets if uri == path.as_uri()) == ["SM111"]


async def test_a_text_saved_while_it_is_analysed_keeps_its_findings(
    client: LanguageClient, world: World
) -> None:
    """A save that arrives while the edit before it is still being analysed (a big file) is not
    lost: once that analysis is done, what the text rules found in the saved text is kept."""
    path = deployment_file(world, "p", "deployed = []\n")
    saved = "".join(
        record(f"agent-{n}", "agent", "default", f"agents/agent-{n}.md", "abc")
        for n in range(300)
    )
    await start(client, world)
    opened = OpenFile(client, path)
    await wait_until(lambda: path.as_uri() in client.diagnostics)
    path.write_text(saved)
    opened.change(saved)  # analysed for a while: the save arrives meanwhile
    save(client, path)
    await wait_until(lambda: "SM111" in codes(client, path), timeout=60)
    await wait_until(lambda: text_kept(world, saved), timeout=30)


async def test_the_next_start_forgets_the_cached_copies_of_a_project_deleted_since(
    client: LanguageClient, world: World
) -> None:
    """The hashes of a deleted project's copies leave the cache with it; a kept one's stay."""
    roots = {}
    for name in ("kept", "gone"):
        project = world.project(name)
        digest = world.deploy_copy(project, "default", "agents/helper.md")
        deployment_file(world, name, record("helper", "agent", "default", "agents/helper.md",
                                            digest))
        roots[name] = str((project / ".claude").resolve())

    def stored_roots() -> set[str]:
        try:
            with sqlite3.connect(f"file:{world.cache}?mode=ro", uri=True) as db:
                return {root for (root,) in db.execute("SELECT root FROM copy_hashes")}
        except sqlite3.OperationalError:  # not made yet
            return set()

    first = await CONFIG.start()
    try:
        await start(first, world)
        await wait_until(lambda: stored_roots() == set(roots.values()))
    finally:
        await first.shutdown_session()

    shutil.rmtree(world.workspace / "gone")
    await start(client, world)
    await wait_until(lambda: stored_roots() == {roots["kept"]})


# --- diagnostics appear on open and go when fixed by typing ---------------------------------------

H = fake_hash("x")

CASES = {
    "SM100": ("[[deployed]\n", "deployed = []\n"),
    "SM101": ("[deployment]\ncollection = 'default'\n", "deployed = []\n"),
    "SM102": (record("helper", "agent", "default", "agents/helper.md", H)
              + "[[artifacts]]\nname = 'x'\n", "deployed = []\n"),
    "SM103": ("schema = 2\ndeployed = []\n", "deployed = []\n"),
    "SM110": ("[[deployed]]\nartifact_name = 'helper'\n", "deployed = []\n"),
    "SM111": (record("helper", "agent", "default", "agents/helper.md", "abc"), "deployed = []\n"),
    "SM112": (record("helper", "agents", "default", "agents/helper.md", H), "deployed = []\n"),
    "SM113": (record("helper", "agent", "default", "skills/helper.md", H), "deployed = []\n"),
    "SM114": (record("helper", "agent", "default", "../../x.md", H), "deployed = []\n"),
    "SM120": (record("helper", "agent", "default", "agents/helper.md", H) * 2, "deployed = []\n"),
    "SM121": (record("review", "command", "default", "commands/review.md", H)
              + record("review", "skill", "default", "skills/review", H), "deployed = []\n"),
    "SM122": (record("a", "agent", "default", "agents/x.md", H)
              + record("b", "agent", "default", "agents/x.md", H), "deployed = []\n"),
    "SM130": (record("helper", "agent", "defualt", "agents/helper.md", H), "deployed = []\n"),
    "SM131": (record("planner", "agent", "default", "agents/planner.md", H), "deployed = []\n"),
    "SM132": (record("helper", "agent", "default", "agents/helper.md", H), "deployed = []\n"),
}


async def test_each_code_appears_on_open_and_goes_when_fixed(
    client: LanguageClient, world: World
) -> None:
    await start(client, world)
    files = {code: OpenFile(client, deployment_file(world, code.lower(), bad))
             for code, (bad, _) in CASES.items()}
    for code, opened in files.items():
        assert code in await diagnosed(client, opened.path, code), code
    for code, opened in files.items():
        opened.change(CASES[code][1])
    for code, opened in files.items():
        await wait_until(lambda opened=opened, code=code: code not in codes(client, opened.path))


async def test_drift_codes_follow_the_disk(client: LanguageClient, world: World) -> None:
    project = world.project("drift")
    digest = world.deploy_copy(project, "default", "agents/helper.md")
    path = deployment_file(world, "drift", record("helper", "agent", "default",
                                                  "agents/helper.md", digest))
    await start(client, world)
    opened = OpenFile(client, path)
    await wait_until(lambda: path.as_uri() in client.diagnostics)
    assert codes(client, path) == []
    (project / ".claude" / "agents" / "helper.md").write_text("# Helper, edited here\n")
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=(project / ".claude/agents/helper.md").as_uri(),
                    type=t.FileChangeType.Changed)]))
    assert "SM140" in await diagnosed(client, path, "SM140")
    collection_copy = world.home / "collections/default/agents/helper.md"
    collection_copy.write_text("# Helper v2\n")
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=collection_copy.as_uri(), type=t.FileChangeType.Changed)]))
    assert "SM142" in await diagnosed(client, path, "SM142")
    (project / ".claude" / "agents" / "helper.md").write_text("# Helper\n")
    # with no file event, typing sees the disk again once the freshness window has passed:
    # keep typing (each keystroke is an event the server answers) until it does
    def type_and_check() -> bool:
        opened.change(opened.text + "\n")
        return "SM141" in codes(client, path)

    await wait_until(type_and_check, timeout=DISK_FRESHNESS_S + 20)


# --- push or pull, never both ---------------------------------------------------------------------


async def test_pull_client_gets_reports_and_no_pushes(client: LanguageClient, world: World) -> None:
    path = deployment_file(world, "p", "[deployment]\ncollection = 'default'\n")
    await start(client, world, PULL_CLIENT)
    opened = OpenFile(client, path)
    report = await client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(opened.uri)))
    assert isinstance(report, t.RelatedFullDocumentDiagnosticReport)
    assert [d.code for d in report.items] == ["SM101"]
    again = await client.text_document_diagnostic_async(t.DocumentDiagnosticParams(
        text_document=t.TextDocumentIdentifier(opened.uri), previous_result_id=report.result_id))
    assert isinstance(again, t.RelatedUnchangedDocumentDiagnosticReport)
    workspace = await client.workspace_diagnostic_async(
        t.WorkspaceDiagnosticParams(previous_result_ids=[]))
    assert [item.uri for item in workspace.items] == [opened.uri]
    await execute(client, "skillmeat.refreshCache")  # answered once a full re-analysis is done
    assert client.diagnostics == {}  # nothing was pushed


async def test_a_result_id_is_never_reused_for_other_diagnostics(
    client: LanguageClient, world: World
) -> None:
    """A file outside the workspace is forgotten when it is closed; opened again with other
    content, its report is new, although the client still holds the first report's id (an
    "unchanged" would leave the old diagnostics in the editor)."""
    claude = world.root / "elsewhere" / ".claude"
    claude.mkdir(parents=True)
    path = claude / DEPLOYED
    path.write_text("[deployment]\ncollection = 'default'\n")
    await start(client, world, PULL_CLIENT)

    async def pull(previous: str | None = None) -> t.DocumentDiagnosticReport:
        return await client.text_document_diagnostic_async(t.DocumentDiagnosticParams(
            text_document=t.TextDocumentIdentifier(path.as_uri()), previous_result_id=previous))

    opened = OpenFile(client, path)
    first = await pull()
    assert isinstance(first, t.RelatedFullDocumentDiagnosticReport)
    assert [d.code for d in first.items] == ["SM101"]
    client.text_document_did_close(t.DidCloseTextDocumentParams(t.TextDocumentIdentifier(opened.uri)))
    path.write_text('schema = 1\ndeployed = []\n')
    OpenFile(client, path)
    again = await pull(first.result_id)
    assert isinstance(again, t.RelatedFullDocumentDiagnosticReport)
    assert [d.code for d in again.items] == ["SM103"]
    assert again.result_id != first.result_id


# --- code actions ---------------------------------------------------------------------------------


async def actions_for(client: LanguageClient, opened: OpenFile, code: str | None = None,
                      only: list[str] | None = None) -> list[t.CodeAction]:
    found = [d for d in client.diagnostics.get(opened.uri, []) if code is None or d.code == code]
    line_range = found[0].range if found else t.Range(t.Position(0, 0), t.Position(0, 0))
    result = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(opened.uri), range=line_range,
        context=t.CodeActionContext(diagnostics=found, only=only)))
    return [a for a in result or [] if isinstance(a, t.CodeAction)]


@pytest.mark.parametrize(
    ("code", "text", "title"),
    [
        ("SM101", CASES["SM101"][0], "Migrate to unified schema"),
        ("SM120", CASES["SM120"][0], "Remove duplicate record 'helper'"),
        ("SM113", CASES["SM113"][0], "Use conventional path 'agents/helper.md'"),
        ("SM112", CASES["SM112"][0], "Change type to 'agent'"),
        ("SM130", CASES["SM130"][0], "Change collection to 'default'"),
    ],
)
async def test_quick_fix_edits_apply_clean(
    client: LanguageClient, world: World, code: str, text: str, title: str
) -> None:
    await start(client, world)
    opened = OpenFile(client, deployment_file(world, "p", text))
    await diagnosed(client, opened.path, code)
    actions = await actions_for(client, opened, code, ["quickfix"])
    action = next(a for a in actions if a.title == title)
    assert action.edit is not None and action.command is None
    assert action.diagnostics and action.diagnostics[0].code == code
    opened.apply(action.edit)
    await wait_until(lambda: code not in codes(client, opened.path))
    assert "SM100" not in codes(client, opened.path)


async def test_source_actions_and_fix_all(client: LanguageClient, world: World) -> None:
    await start(client, world)
    text = CASES["SM120"][0] + record("x", "agents", "default", "agents/x.md", H)
    opened = OpenFile(client, deployment_file(world, "p", text))
    await diagnosed(client, opened.path, "SM112")
    (fix_all,) = await actions_for(client, opened, only=["source.fixAll"])
    assert fix_all.kind == "source.fixAll.skillmeat"
    opened.apply(fix_all.edit)  # type: ignore[arg-type]
    await wait_until(lambda: not {"SM112", "SM120"} & set(codes(client, opened.path)))
    (deploy,) = await actions_for(client, opened, only=["source.deploy.skillmeat"])
    assert deploy.command is not None and deploy.command.command == "skillmeat.deploy"
    assert list(deploy.command.arguments or []) == [{"project": str(opened.path.parent.parent)}]
    legacy = OpenFile(client, deployment_file(world, "legacy", CASES["SM101"][0]))
    await diagnosed(client, legacy.path, "SM101")
    (migrate,) = await actions_for(client, legacy, only=["source.migrateSchema.skillmeat"])
    assert migrate.edit is not None


async def test_rename_plan_file_uses_a_resource_operation(
    client: LanguageClient, world: World
) -> None:
    await start(client, world, "visual-studio-code")
    opened = OpenFile(client, deployment_file(world, "p", "deployed = []\n", "deployment.toml"))
    await diagnosed(client, opened.path, "SM104")
    action, ignore = await actions_for(client, opened, "SM104", ["quickfix"])
    assert action.title == "Rename to .skillmeat-deployed.toml"
    assert ignore.title == "Ignore SM104 in this project"  # offered for every code
    (rename,) = action.edit.document_changes  # type: ignore[union-attr]
    assert isinstance(rename, t.RenameFile)
    assert rename.new_uri == opened.path.with_name(DEPLOYED).as_uri()


# --- commands -------------------------------------------------------------------------------------


def planner_from_team(project: Path) -> dict[str, Any]:
    """The ``skillmeat.deploy`` argument that deploys agent ``planner`` from ``team``."""
    return {"project": str(project), "collection": "team",
            "artifacts": [{"name": "planner", "type": "agent"}]}


async def open_saved_deployment_file(
    client: LanguageClient, world: World, editor: Editor
) -> tuple[Path, Path, OpenFile]:
    """A started server and project ``p`` whose empty deployment file is open and saved."""
    project = world.project("p")
    path = deployment_file(world, "p", "deployed = []\n")
    await start(client, world)
    await wait_ready(editor)
    return project, path, OpenFile(client, path)


async def execute(client: LanguageClient, command: str, *arguments: object) -> Any:
    return plain(await client.workspace_execute_command_async(
        t.ExecuteCommandParams(command=command, arguments=list(arguments))))


async def test_deploy_asks_for_collection_then_artifact(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project = world.project("p")
    await start(client, world)
    await wait_ready(editor)
    editor.answers = ["team", "planner (agent)"]
    result = await execute(client, "skillmeat.deploy", {"project": project.as_uri()})
    assert [q.message for q in editor.asked] == [
        "Deploy into p from which collection?", "Deploy which artifact from team?"]
    assert [a.title for a in editor.asked[0].actions or []] == ["default", "team"]
    assert [a.title for a in editor.asked[1].actions or []][-1] == "All"
    assert [(d["name"], d["collection"]) for d in result["deployed"]] == [("planner", "team")]
    text = (project / ".claude" / DEPLOYED).read_text()
    assert 'from_collection = "team"' in text
    assert (project / ".claude/agents/planner.md").read_text() == "# Planner\n"


async def test_cancelled_prompt_changes_nothing(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project = world.project("p")
    await start(client, world)
    await wait_ready(editor)
    editor.answers = [None]
    result = await execute(client, "skillmeat.deploy", {"project": str(project)})
    assert result["cancelled"] is True
    assert list((project / ".claude").iterdir()) == []


async def test_migrate_command_uses_apply_edit_for_open_files(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    await start(client, world)
    path = deployment_file(world, "p", CASES["SM101"][0])
    opened = OpenFile(client, path)
    await diagnosed(client, path, "SM101")
    editor.apply_edits = False
    declined = await execute(client, "skillmeat.migrateSchema", opened.uri)
    assert declined["applied"] is False
    assert path.read_text() == CASES["SM101"][0]
    editor.apply_edits = True
    accepted = await execute(client, "skillmeat.migrateSchema", opened.uri)
    assert accepted["applied"] is True
    opened.apply(editor.edits[-1])
    assert "[[deployed]]" not in path.read_text()  # the buffer changed, not the file
    await wait_until(lambda: "SM101" not in codes(client, path))


async def test_migrate_command_writes_closed_files_atomically(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    await start(client, world)
    await wait_ready(editor)
    path = deployment_file(world, "p", CASES["SM101"][0])
    result = await execute(client, "skillmeat.migrateSchema", path.as_uri())
    assert result["applied"] is True
    assert "[deployment]" not in path.read_text()
    assert Path(result["backup"]).read_text() == CASES["SM101"][0]


async def test_migrate_command_refuses_a_file_that_is_no_deployment_file(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    await start(client, world)
    await wait_ready(editor)
    pyproject = world.project("p") / "pyproject.toml"
    text = "# the project's own\n[deployment]\ncollection = 'x'\n"
    pyproject.write_text(text)
    with pytest.raises(JsonRpcException, match="not a SkillMeat deployment file"):
        await execute(client, "skillmeat.migrateSchema", pyproject.as_uri())
    assert pyproject.read_text() == text


async def test_an_engine_error_reaches_the_user_as_a_message(
    client: LanguageClient, world: World
) -> None:
    """A ``DeployError`` from the engine is a ``RequestFailed`` answer and a message naming the
    place, never a JSON-RPC internal error."""
    await start(client, world)
    missing = world.workspace / "no-such-project"
    with pytest.raises(JsonRpcException, match="no such project directory") as raised:
        await execute(client, "skillmeat.deploy", {
            "project": missing.as_uri(), "collection": "default",
            "artifacts": [{"name": "helper", "type": "agent"}]})
    assert raised.value.code == -32803  # RequestFailed, not -32603 (internal error)
    await wait_until(lambda: any(str(missing) in m.message for m in client.messages))
    assert not missing.exists()


async def test_writing_commands_refuse_a_project_outside_the_workspace(
    client: LanguageClient, world: World
) -> None:
    await start(client, world)
    outside = world.root / "elsewhere"
    outside.mkdir()
    legacy = outside / ".claude" / DEPLOYED
    legacy.parent.mkdir()
    legacy.write_text(CASES["SM101"][0])
    requests = [
        ("skillmeat.deploy", {"project": str(outside), "collection": "default",
                              "artifacts": [{"name": "helper", "type": "agent"}]}),
        ("skillmeat.updateFromCollection",
         {"project": outside.as_uri(), "name": "helper", "type": "agent"}),
        ("skillmeat.migrateSchema", legacy.as_uri()),
    ]
    for command, argument in requests:
        with pytest.raises(JsonRpcException, match="not inside the workspace folders"):
            await execute(client, command, argument)
    assert sorted(p.name for p in outside.rglob("*")) == [".claude", DEPLOYED]
    assert legacy.read_text() == CASES["SM101"][0]


async def test_special_files_in_a_cloned_workspace_are_refused_with_a_diagnostic(
    client: LanguageClient, world: World
) -> None:
    """A FIFO, a link to /dev/zero and an over-large file named like deployment files (as a
    cloned repository may hold): the scan neither blocks nor reads them; each gets one SM100
    naming why, and the server keeps serving."""
    import os

    fifo = world.project("fifo") / ".claude" / DEPLOYED
    os.mkfifo(fifo)
    (world.project("zero") / ".claude" / DEPLOYED).symlink_to("/dev/zero")
    big = world.project("big") / ".claude" / DEPLOYED
    with big.open("wb") as handle:  # sparse: no disk space used
        handle.truncate(65 * 1024 * 1024)
    plain = deployment_file(world, "plain", "[deployment]\ncollection = 'default'\n")
    await start(client, world)
    for path in (fifo, world.project("zero") / ".claude" / DEPLOYED, big):
        assert await diagnosed(client, path) == ["SM100"], path
    messages = [client.diagnostics[p.as_uri()][0].message for p in (fifo, big)]
    assert "not read: not a regular file" in messages[0]
    assert "too large" in messages[1]
    assert await diagnosed(client, plain, "SM101") == ["SM101"]
    opened = OpenFile(client, plain)
    hover = await client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier(opened.uri), t.Position(1, 2)))
    assert hover is None or hover.contents is not None  # answered


async def modified_skill(client: LanguageClient, world: World) -> tuple[Path, Path, OpenFile]:
    """Project ``p`` with skill ``review`` from ``default``, edited here (SM140), its file open."""
    project = world.project("p")
    digest = world.deploy_copy(project, "default", "skills/review")
    path = deployment_file(world, "p", record("review", "skill", "default", "skills/review",
                                              digest))
    (project / ".claude/skills/review/SKILL.md").write_text("# Review skill, edited here\n")
    await start(client, world)
    opened = OpenFile(client, path)
    assert "SM140" in await diagnosed(client, path, "SM140")
    return project, path, opened


async def run_fix(client: LanguageClient, opened: OpenFile, code: str, title: str) -> Any:
    (action,) = [a for a in await actions_for(client, opened, code) if a.title == title]
    assert action.command is not None
    return await execute(client, action.command.command, *(action.command.arguments or []))


async def test_compare_gives_both_copies_and_is_offered_on_drift(
    client: LanguageClient, world: World
) -> None:
    project, _path, opened = await modified_skill(client, world)
    found = await run_fix(client, opened, "SM140", "Compare with collection")
    assert found == {"deployed": (project / ".claude/skills/review").as_uri(),
                     "collection": (world.home / "collections/default/skills/review").as_uri()}
    with pytest.raises(JsonRpcException, match="no agent 'nobody' is recorded"):
        await execute(client, "skillmeat.compare",
                      {"project": str(project), "name": "nobody", "type": "agent"})


async def test_keep_local_changes_clears_sm140(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project, path, opened = await modified_skill(client, world)
    result = await run_fix(client, opened, "SM140", "Keep local changes")
    assert [k["name"] for k in result["kept"]] == ["review"] and result["errors"] == []
    (edit,) = editor.edits  # the open file's record changed through the editor
    opened.apply(edit)
    kept = content_hash(project / ".claude/skills/review")
    await wait_until(lambda: "SM140" not in codes(client, path))
    assert f'content_hash = "{kept}"' in opened.text
    assert "SM141" in codes(client, path)  # the collection still holds its own version


async def test_keep_local_declined_by_the_editor_changes_nothing(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project, path, opened = await modified_skill(client, world)
    before = path.read_text()
    editor.apply_edits = False
    result = await run_fix(client, opened, "SM140", "Keep local changes")
    assert result["kept"] == [] and "declined" in result["errors"][0]["message"]
    assert path.read_text() == before and opened.text == before
    assert not (project / ".claude" / ".skillmeat-journal.json").exists()


async def test_pull_puts_the_local_copy_into_the_collection(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project, path, opened = await modified_skill(client, world)
    result = await run_fix(client, opened, "SM140", "Pull local changes into 'default'")
    assert [p["name"] for p in result["pulled"]] == ["review"] and result["errors"] == []
    (edit,) = editor.edits
    opened.apply(edit)
    source = world.home / "collections/default/skills/review"
    assert (source / "SKILL.md").read_text() == "# Review skill, edited here\n"
    assert content_hash(source) == content_hash(project / ".claude/skills/review")
    await wait_until(lambda: codes(client, path) == [])  # no drift left


async def test_pull_declined_by_the_editor_leaves_the_collection_as_it_was(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    _project, path, opened = await modified_skill(client, world)
    source = world.home / "collections/default/skills/review"
    before = content_hash(source), (world.home / "collections/default/collection.toml").read_text()
    editor.apply_edits = False
    result = await run_fix(client, opened, "SM140", "Pull local changes into 'default'")
    assert result["pulled"] == [] and "declined" in result["errors"][0]["message"]
    assert (content_hash(source), (world.home / "collections/default/collection.toml").read_text()) \
        == before
    assert "SM140" in codes(client, path)


async def test_undeploy_removes_the_copy_and_its_record(
    client: LanguageClient, world: World
) -> None:
    project = world.project("p")
    digest = world.deploy_copy(project, "default", "agents/helper.md")
    review = world.deploy_copy(project, "default", "commands/review.md")
    path = deployment_file(world, "p", record("helper", "agent", "default", "agents/helper.md",
                                              digest)
                           + record("review", "command", "default", "commands/review.md", review))
    await start(client, world)
    await diagnosed(client, path)
    result = await execute(client, "skillmeat.undeploy",
                           {"project": project.as_uri(), "name": "helper", "type": "agent"})
    assert [r["name"] for r in result["removed"]] == ["helper"] and result["errors"] == []
    assert not (project / ".claude/agents/helper.md").exists()
    assert "helper" not in path.read_text() and "review" in path.read_text()
    assert (project / ".claude/commands/review.md").exists()


async def test_list_collections_and_refresh(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project = world.project("p")
    digest = world.deploy_copy(project, "default", "agents/helper.md")
    deployment_file(world, "p", record("helper", "agent", "default", "agents/helper.md", digest))
    await start(client, world)
    await wait_ready(editor)
    listed = await execute(client, "skillmeat.listCollections", {"project": str(project)})
    by_name = {c["name"]: c for c in listed}
    assert set(by_name) == {"default", "team"}
    helper = next(a for a in by_name["default"]["artifacts"] if a["name"] == "helper")
    assert helper["deployed_from"] == "default"
    assert all("deployed_from" not in a for a in by_name["team"]["artifacts"])
    refreshed = await execute(client, "skillmeat.refreshCache")
    assert refreshed["collections"] == 2


async def test_list_deployments_gives_each_project_its_roots_and_states(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project = world.project("p")
    digest = world.deploy_copy(project, "default", "agents/helper.md")
    review = world.deploy_copy(project, "default", "commands/review.md")
    (project / ".claude/commands/review.md").write_text("# Review, edited here\n")
    deployment_file(world, "p", record("helper", "agent", "default", "agents/helper.md", digest)
                    + record("review", "command", "default", "commands/review.md", review))
    codex = project / ".agents"
    codex.mkdir()
    (codex / DEPLOYED).write_text("deployed = []\n")
    empty = world.project("empty")
    await start(client, world)
    await wait_ready(editor)
    await wait_until(lambda: (project / ".claude" / DEPLOYED).as_uri() in client.diagnostics)
    listed = await execute(client, "skillmeat.listDeployments")
    assert [entry["name"] for entry in listed] == ["p"]  # a project without a file is no entry
    (entry,) = listed
    assert [(r["root"], r["profile"]) for r in entry["roots"]] == [
        (".claude", "claude_code"), (".agents", "codex")]
    assert entry["roots"][1]["records"] == []
    records = {r["name"]: r for r in entry["roots"][0]["records"]}
    assert (records["helper"]["state"], records["review"]["state"]) == ("in-sync", "modified")
    assert records["helper"]["deployed"] == (project / ".claude/agents/helper.md").as_uri()
    assert entry["roots"][0]["file"] == (project / ".claude" / DEPLOYED).as_uri()
    one = await execute(client, "skillmeat.listDeployments", {"project": empty.as_uri()})
    assert one == [{"project": str(empty), "name": "empty", "roots": []}]


async def test_seed_multi_collection_scenario(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    """A and B both hold skill test-skill; A also holds command test-skill."""
    from lsp_support import collection

    collection(world.home, "a", {("test-skill", "skill"): "# A skill\n",
                                 ("test-skill", "command"): "# A command\n"})
    collection(world.home, "b", {("test-skill", "skill"): "# B skill\n"})
    project = world.project("seed")
    await start(client, world)
    await wait_ready(editor)
    skill = [{"name": "test-skill", "type": "skill"}]
    first = await execute(client, "skillmeat.deploy",
                          {"project": str(project), "collection": "a", "artifacts": skill})
    assert [d["collection"] for d in first["deployed"]] == ["a"]
    command = await execute(client, "skillmeat.deploy", {
        "project": str(project), "collection": "a",
        "artifacts": [{"name": "test-skill", "type": "command"}]})
    assert command["deployed"]
    path = project / ".claude" / DEPLOYED
    second = await execute(client, "skillmeat.deploy",
                           {"project": str(project), "collection": "b", "artifacts": skill})
    assert second["deployed"][0].get("replaced_from") == "a"
    text = path.read_text()
    assert text.count("[[deployed]]") == 2
    assert (project / ".claude/skills/test-skill/SKILL.md").read_text() == "# B skill\n"
    assert (project / ".claude/commands/test-skill.md").read_text() == "# A command\n"
    opened = OpenFile(client, path)
    await wait_until(lambda: opened.uri in client.diagnostics)
    assert codes(client, path) == ["SM121", "SM121"]  # information only: no wrong collision
    listed = await execute(client, "skillmeat.listCollections", {"project": str(project)})
    deployed = {(c["name"], a["name"], a["type"]): a.get("deployed_from")
                for c in listed for a in c["artifacts"]}
    assert deployed[("a", "test-skill", "command")] == "a"
    assert deployed[("a", "test-skill", "skill")] == "b"
    assert deployed[("b", "test-skill", "skill")] == "b"


async def test_update_from_collection_asks_before_overwriting(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project = world.project("p")
    digest = world.deploy_copy(project, "default", "agents/helper.md")
    deployment_file(world, "p", record("helper", "agent", "default", "agents/helper.md", digest))
    (world.home / "collections/default/agents/helper.md").write_text("# Helper v2\n")
    (project / ".claude/agents/helper.md").write_text("# mine\n")
    await start(client, world)
    await wait_ready(editor)
    editor.answers = ["Cancel"]
    request = {"project": str(project), "name": "helper", "type": "agent"}
    assert (await execute(client, "skillmeat.updateFromCollection", request))["cancelled"]
    assert (project / ".claude/agents/helper.md").read_text() == "# mine\n"
    editor.answers = ["Overwrite"]
    result = await execute(client, "skillmeat.updateFromCollection", request)
    assert result["deployed"]
    assert (project / ".claude/agents/helper.md").read_text() == "# Helper v2\n"


async def test_untrusted_workspace_refuses_writes(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project = world.project("p")
    await start(client, world, trusted=False)
    await wait_ready(editor)
    with pytest.raises(Exception, match="untrusted"):
        await execute(client, "skillmeat.deploy", planner_from_team(project))
    assert list((project / ".claude").iterdir()) == []


# --- navigation -----------------------------------------------------------------------------------

UNICODE = record("😀 émoji", "agent", "default", "agents/😀 émoji.md", H)


async def test_hover_symbols_definition_lens_completion(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project = world.project("p")
    digest = world.deploy_copy(project, "default", "agents/helper.md")
    text = UNICODE + record("helper", "agent", "default", "agents/helper.md", digest)
    opened = OpenFile(client, deployment_file(world, "p", text))
    await start(client, world)
    await wait_ready(editor)
    uri = t.TextDocumentIdentifier(opened.uri)
    symbols = await client.text_document_document_symbol_async(t.DocumentSymbolParams(uri))
    assert [s.name for s in symbols] == ["😀 émoji (agent)", "helper (agent)"]  # type: ignore[union-attr]
    first = symbols[0]  # type: ignore[index]
    # the name's value: `artifact_name = "` is 17 UTF-16 units; "😀 émoji" is 8 more
    assert first.selection_range.start == t.Position(1, 16)
    assert first.selection_range.end == t.Position(1, 16 + 1 + 8 + 1)
    helper_line = text.splitlines().index('artifact_name = "helper"')
    hover = await client.text_document_hover_async(t.HoverParams(uri, t.Position(helper_line, 3)))
    assert hover is not None and "**helper** (agent)" in hover.contents.value  # type: ignore[union-attr]
    assert "in sync" in hover.contents.value  # type: ignore[union-attr]
    targets = await client.text_document_definition_async(
        t.DefinitionParams(uri, t.Position(helper_line, 3)))
    assert {Path(loc.uri.removeprefix("file://")).name for loc in targets} == {"helper.md"}  # type: ignore[union-attr]
    assert len(targets) == 2  # type: ignore[arg-type]
    lenses = await client.text_document_code_lens_async(t.CodeLensParams(uri))
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert any(title.startswith("✓ in sync") for title in titles)
    # context sync is complete: nothing is marked Preview any more
    assert not any("Preview" in (lens.command.tooltip or "") for lens in lenses or [] if lens.command)
    type_line = text.splitlines().index('artifact_type = "agent"')
    completion = await client.text_document_completion_async(t.CompletionParams(
        uri, t.Position(type_line, len('artifact_type = "'))))
    labels = [item.label for item in completion.items]  # type: ignore[union-attr]
    assert labels[:5] == ["skill", "command", "agent", "hook", "mcp"]
    collection_line = text.splitlines().index('from_collection = "default"')
    completion = await client.text_document_completion_async(t.CompletionParams(
        uri, t.Position(collection_line, len('from_collection = "'))))
    assert [item.label for item in completion.items] == ["default", "team"]  # type: ignore[union-attr]


# --- hostile input --------------------------------------------------------------------------------


async def test_hostile_protocol_input(client: LanguageClient, world: World) -> None:
    await start(client, world)
    with pytest.raises(JsonRpcMethodNotFound):
        await raw_request(client, "skillmeat/unknownMethod", {})
    with pytest.raises(JsonRpcException):
        await raw_request(client, t.TEXT_DOCUMENT_HOVER, {"textDocument": {"uri": 5}, "position": "x"})
    with pytest.raises(JsonRpcException):
        await raw_request(client, t.WORKSPACE_EXECUTE_COMMAND,
                          {"command": "skillmeat.deploy", "arguments": ["not an object"]})
    for uri in ("untitled:Untitled-1", "file:///nonexistent/.claude/.skillmeat-deployed.toml"):
        hover = await client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(0, 0)))
        assert hover is None
    big = "".join(record(f"a{i}", "agent", "default", f"agents/a{i}.md", H) for i in range(2000))
    opened = OpenFile(client, deployment_file(world, "big", big))
    name_line = big.splitlines().index('artifact_name = "a1000"')
    for i in range(500):
        opened.replace_line(name_line, f'artifact_name = "a1000-{i}"')
    line = big.splitlines().index('artifact_name = "a0"')
    hover = await asyncio.wait_for(client.text_document_hover_async(
        t.HoverParams(t.TextDocumentIdentifier(opened.uri), t.Position(line, 2))), timeout=30)
    assert hover is not None
    await wait_until(lambda: opened.uri in client.diagnostics)


async def test_deploy_refuses_while_the_deployment_file_has_unsaved_changes(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project, path, opened = await open_saved_deployment_file(client, world, editor)
    opened.change("deployed = []\n# a note not saved yet\n")
    with pytest.raises(JsonRpcException, match="unsaved changes"):
        await execute(client, "skillmeat.deploy", planner_from_team(project))
    assert path.read_text() == "deployed = []\n"
    assert not (project / ".claude" / "agents").exists()


async def test_a_large_workspace_is_analysed_on_worker_processes(
    client: LanguageClient, world: World
) -> None:
    from skillmeat_ls.scan import MIN_FILES_FOR_WORKERS

    paths = [deployment_file(world, f"p{i:03d}", CASES["SM101"][0] if i % 2 else CASES["SM111"][0])
             for i in range(MIN_FILES_FOR_WORKERS + 2)]
    await start(client, world)
    await wait_until(lambda: all(p.as_uri() in client.diagnostics for p in paths), timeout=60)
    for i, path in enumerate(paths):
        assert ("SM101" if i % 2 else "SM111") in codes(client, path)
    legacy = client.diagnostics[paths[1].as_uri()]
    assert legacy[0].range.start == t.Position(0, 0)  # positions computed in the workers


async def test_deploy_into_an_open_file_goes_through_the_editor(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    project, path, opened = await open_saved_deployment_file(client, world, editor)
    request = planner_from_team(project)
    editor.apply_edits = False  # declined: the copies are rolled back, nothing changes on disk
    declined = await execute(client, "skillmeat.deploy", request)
    assert declined["errors"] and not declined["deployed"]
    assert not (project / ".claude" / "agents" / "planner.md").exists()
    assert path.read_text() == "deployed = []\n"
    editor.apply_edits = True
    accepted = await execute(client, "skillmeat.deploy", request)
    assert [d["name"] for d in accepted["deployed"]] == ["planner"]
    assert (project / ".claude" / "agents" / "planner.md").read_text() == "# Planner\n"
    assert path.read_text() == "deployed = []\n"  # the buffer holds the record until saved
    opened.apply(editor.edits[-1])
    assert 'from_collection = "team"' in opened.text
    await wait_until(lambda: codes(client, path) == [])


# --- profile roots other than .claude ---------------------------------------------------------


CODEX_KEYS = {
    "deployment_profile_id": '"codex"',
    "platform": '"codex"',
    "profile_root_dir": '".agents"',
}


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


# --- per-project rule config ----------------------------------------------------------------------


async def test_ignore_fix_writes_the_config_and_the_watcher_rereads_it(
    client: LanguageClient, world: World
) -> None:
    duplicate = record("helper", "agent", "default", "agents/helper.md", fake_hash("h"))
    path = deployment_file(world, "cfg", duplicate + duplicate)
    await start(client, world)
    await wait_until(lambda: "SM120" in codes(client, path))
    (diagnostic,) = [d for d in client.diagnostics[path.as_uri()] if d.code == "SM120"]
    actions = await client.text_document_code_action_async(t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri=path.as_uri()), range=diagnostic.range,
        context=t.CodeActionContext(diagnostics=[diagnostic])))
    (ignore,) = [a for a in actions or [] if isinstance(a, t.CodeAction)
                 and a.title == "Ignore SM120 for 'helper'"]
    assert ignore.edit is not None and ignore.edit.document_changes is not None
    create, insert = ignore.edit.document_changes
    assert isinstance(create, t.CreateFile) and isinstance(insert, t.TextDocumentEdit)
    config = path.parent.parent / "skillmeat-ls.toml"
    assert create.uri == config.as_uri()
    config.write_text(insert.edits[0].new_text)  # what the editor does with the edit
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=config.as_uri(), type=t.FileChangeType.Created)]))
    await wait_until(lambda: "SM120" not in codes(client, path))
    config.write_text(config.read_text() + "\n[rules]\nSM999 = false\n")
    client.workspace_did_change_watched_files(t.DidChangeWatchedFilesParams(changes=[
        t.FileEvent(uri=config.as_uri(), type=t.FileChangeType.Changed)]))
    await wait_until(lambda: codes(client, config) == ["SM111"])
    assert "SM120" not in codes(client, path)  # what can be read of the file still applies


# --- SkillMeat's own cache ------------------------------------------------------------------------


async def test_a_broken_skillmeat_cache_is_one_message_at_start_not_a_diagnostic(
    client: LanguageClient, world: World, editor: Editor
) -> None:
    """SkillMeat's ``cache.db`` as its cache fix leaves it (tables made without migrations, an
    empty ``alembic_version``): one showMessageRequest; "Run doctor" shows the report."""
    cache = world.home / "cache" / "cache.db"
    cache.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(cache)
    conn.executescript(
        "PRAGMA journal_mode=WAL;"
        "CREATE TABLE projects (id VARCHAR NOT NULL PRIMARY KEY, name VARCHAR NOT NULL,"
        " path VARCHAR NOT NULL);"
        "CREATE TABLE collections (id VARCHAR NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL);"
        "CREATE TABLE groups (id VARCHAR NOT NULL PRIMARY KEY, collection_id VARCHAR NOT NULL,"
        " name VARCHAR(255) NOT NULL);"
        "CREATE TABLE collection_artifacts (collection_id VARCHAR NOT NULL,"
        " artifact_id VARCHAR NOT NULL, added_at DATETIME NOT NULL,"
        " PRIMARY KEY (collection_id, artifact_id));"
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);"
        "INSERT INTO collections VALUES ('c1', 'default');"
        "INSERT INTO groups VALUES ('g1', 'c1', 'Reviewers');"
        "INSERT INTO collection_artifacts VALUES ('c1', 'skill:review', '2026-01-12 09:00:00');"
    )
    conn.close()
    before = {p.name: p.read_bytes() for p in cache.parent.iterdir()}
    editor.answers = ["Run doctor"]
    digest = fake_hash("x")
    files = [deployment_file(world, name, record("review", "skill", "default", "skills/review",
                                                 digest)) for name in ("a", "b")]  # fmt: skip
    await start(client, world)
    await wait_ready(editor)
    for path in files:
        await diagnosed(client, path)
    await wait_until(lambda: any(m.message.startswith("SkillMeat cache:") for m in client.messages))
    (asked,) = editor.asked
    assert "an empty alembic_version table" in asked.message and str(cache) in asked.message
    assert "collections 1; groups 1; memberships 1" in asked.message
    assert [a.title for a in asked.actions or []] == ["Run doctor"]
    (report,) = [m for m in client.messages if m.message.startswith("SkillMeat cache:")]
    assert "doctor --repair" in report.message and "verdict:    broken" in report.message
    for path in files:
        assert all("cache.db" not in d.message for d in client.diagnostics[path.as_uri()])
    await execute(client, "skillmeat.refreshCache")  # answered once a full re-analysis is done
    assert len(editor.asked) == 1
    assert {p.name: p.read_bytes() for p in cache.parent.iterdir()} == before  # no sidecar
    found = await execute(client, "skillmeat.doctor")
    assert (found["state"], found["exit_code"]) == ("empty-alembic-version", 1)
