"""The LSP feature handlers: each translates one request or notification into calls on the
engine (on the engine thread, through :meth:`SkillMeatServer.work`) and its answer back into
lsprotocol types. No rule logic lives here; scheduling lives in :mod:`skillmeat_ls.lsp.server`.

:func:`create_server` builds a server with every handler registered; nothing is created at import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from skillmeat_ls import command_ids
from skillmeat_ls.actions import KINDS, Action, ActionContext, code_actions
from skillmeat_ls.document import Document
from skillmeat_ls.errors import UserFacingError
from skillmeat_ls.lsp.convert import (
    SOURCE,
    append_edit,
    path_uri,
    to_diagnostics,
    to_offset,
    to_range,
    uri_path,
    zero_range,
)
from skillmeat_ls.lsp.documents import index_changes
from skillmeat_ls.lsp.server import SkillMeatServer, settle_heap
from skillmeat_ls.navigation import code_lenses, completions, definitions, hover, symbols
from skillmeat_ls.project_config import CONFIG_NAMES
from skillmeat_ls.rules import Context
from skillmeat_ls.schema import DEPLOYMENT_FILE_NAMES
from skillmeat_ls.session import Analysis, Settings
from skillmeat_ls.workspace import is_deployment_file, is_profile_root_name, read_text

log = logging.getLogger(__name__)
T = TypeVar("T")

REQUEST_FAILED = -32803  # LSP's RequestFailed error code

_SYMBOL_KINDS = {
    "package": lsp.SymbolKind.Package,
    "function": lsp.SymbolKind.Function,
    "class": lsp.SymbolKind.Class,
    "event": lsp.SymbolKind.Event,
    "interface": lsp.SymbolKind.Interface,
    "object": lsp.SymbolKind.Object,
}


def create_server() -> SkillMeatServer:
    """A server with every feature and command registered, ready to ``start_io``."""
    server = SkillMeatServer()
    _lifecycle(server)
    _synchronisation(server)
    _diagnostics(server)
    _code_actions(server)
    _commands(server)
    _navigation(server)
    return server


async def _on_engine_with_context(
    ls: SkillMeatServer, analysis: Analysis, fn: Callable[[Context], T]
) -> T:
    """``fn(context)`` on the engine thread, with the rules' context of ``analysis``'s file
    (building it reads the project's config file: engine work, not the event loop's)."""
    return await ls.work(lambda: fn(ls.session.context(analysis.path)))


def _lifecycle(server: SkillMeatServer) -> None:
    @server.feature(lsp.INITIALIZE)
    def initialize(ls: SkillMeatServer, params: lsp.InitializeParams) -> None:
        options = (
            params.initialization_options
            if isinstance(params.initialization_options, dict)
            else {}
        )
        ls.options = dict(options)
        index_changes(ls.workspace)  # keystrokes in big files: see lsp/documents.py
        # The engine is idle before `initialize` is answered: wait for it, so the session is
        # still changed on its thread only.
        ls.engine.submit(ls.session.configure, Settings.from_options(options)).result()
        text_document = params.capabilities.text_document
        ls.pull = bool(text_document and text_document.diagnostic)

    @server.feature(lsp.INITIALIZED)
    async def initialized(ls: SkillMeatServer, _params: lsp.InitializedParams) -> None:
        await ls.pull_configuration()
        # the settings are known: a cache at head opens now, for the first analysis to use
        await ls.work(ls.session.open_cache_if_current)
        ls.configured.set()
        await ls.register_watchers()
        ls.startup = asyncio.ensure_future(ls.start_engine())

    @server.feature(lsp.SHUTDOWN)
    async def shutdown(ls: SkillMeatServer, _params: None) -> None:
        await ls.work(ls.session.close)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: SkillMeatServer, params: lsp.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("skillmeat"), dict):
            await ls.apply_settings(settings["skillmeat"])
        else:
            await ls.pull_configuration()

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(
        ls: SkillMeatServer, params: lsp.DidChangeWatchedFilesParams
    ) -> None:
        """A collection changed: re-index and re-analyse everything. A project's file changed
        (its deployment file, or a deployed copy): re-analyse that project's deployment files."""
        paths = [p for p in (uri_path(change.uri) for change in params.changes) if p is not None]
        collections = ls.snapshot.settings.home / "collections"
        if any(p.name in CONFIG_NAMES for p in paths):  # a project's rule config changed
            await ls.analyze_everything()
            return
        if any(collections in p.parents for p in paths):
            await ls.work(ls.session.reload_collections)
            await ls.analyze_everything()
            return
        known_roots = {p.parent for p in (*ls.workspace_files, *ls.open_texts())}
        roots = await ls.work(
            lambda: {r for r in (_profile_root_of(p, known_roots) for p in paths) if r}
        )
        for project in sorted({root.parent for root in roots}):
            await ls.analyze_project(project)


def _profile_root_of(path: Path, known: set[Path]) -> Path | None:
    """The profile root ``path`` lies in: the nearest dot-directory above it that holds a
    deployment file (or held one the server knows); None for ``.git``, ``.venv`` and the like."""
    if is_deployment_file(path):
        return path.parent
    for parent in path.parents:
        if is_profile_root_name(parent.name) and (
            parent in known or any((parent / name).exists() for name in DEPLOYMENT_FILE_NAMES)
        ):
            return parent
    return None


def _synchronisation(server: SkillMeatServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: SkillMeatServer, params: lsp.DidOpenTextDocumentParams) -> None:
        await ls.analyze_open(params.text_document.uri, opened=True, keep=True)
        settle_heap()

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: SkillMeatServer, params: lsp.DidChangeTextDocumentParams) -> None:
        await ls.analyze_open(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: SkillMeatServer, params: lsp.DidSaveTextDocumentParams) -> None:
        await ls.analyze_open(params.text_document.uri, keep=True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls: SkillMeatServer, params: lsp.DidCloseTextDocumentParams) -> None:
        path = uri_path(params.text_document.uri)
        if path is None or not is_deployment_file(path):
            return
        # a file of the workspace keeps its diagnostics (now from disk); any other is forgotten
        analysis = await ls.work(ls.session.analyze_on_disk, path)
        if analysis is not None and path in ls.workspace_files:
            ls.publish(analysis)
        else:
            await ls.work(ls.session.forget, path)
            if not ls.pull:
                ls.send_diagnostics(path, [])


def _diagnostics(server: SkillMeatServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(
            identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )
    async def document_diagnostic(
        ls: SkillMeatServer, params: lsp.DocumentDiagnosticParams
    ) -> lsp.DocumentDiagnosticReport:
        analysis = await ls.analysis_for(params.text_document.uri)
        if analysis is None:
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id == analysis.result_id:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=analysis.result_id)
        report = lsp.RelatedFullDocumentDiagnosticReport(
            items=ls.to_diagnostics(analysis), result_id=analysis.result_id
        )
        await ls.work(ls.session.save_learned)
        return report

    @server.feature(lsp.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(
        ls: SkillMeatServer, params: lsp.WorkspaceDiagnosticParams
    ) -> lsp.WorkspaceDiagnosticReport:
        await ls.ready.wait()
        previous = {item.uri: item.value for item in params.previous_result_ids}
        reports: list[lsp.WorkspaceDocumentDiagnosticReport] = []
        for path in sorted(ls.workspace_files | set(ls.open_texts())):
            uri = path_uri(path)
            analysis = await ls.analysis_for(uri)
            if analysis is None:
                continue
            if previous.get(uri) == analysis.result_id:
                reports.append(
                    lsp.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=uri, version=analysis.version, result_id=analysis.result_id
                    )
                )
                continue
            reports.append(
                lsp.WorkspaceFullDocumentDiagnosticReport(
                    uri=uri,
                    version=analysis.version,
                    items=ls.to_diagnostics(analysis),
                    result_id=analysis.result_id,
                )
            )
        await ls.work(ls.session.save_learned)
        return lsp.WorkspaceDiagnosticReport(items=reports)


def _code_action(
    ls: SkillMeatServer,
    analysis: Analysis,
    uri: str,
    action: Action,
    texts: Mapping[Path, str],
) -> lsp.CodeAction:
    doc = analysis.document
    encoding = ls.encoding
    diagnostics = to_diagnostics(doc, analysis.path, action.diagnostics, encoding) or None
    edit = None
    if action.append_to is not None:
        opened = ls.open_document(action.append_to)
        current = opened.source if opened is not None else texts.get(action.append_to, "")
        edit = append_edit(action.append_to, action.append_text, current,
                           opened.version if opened is not None else None,
                           create=action.create_file)
    elif action.rename_to is not None:
        edit = lsp.WorkspaceEdit(
            document_changes=[
                lsp.RenameFile(kind="rename", old_uri=uri, new_uri=path_uri(action.rename_to))
            ]
        )
    elif action.edits:
        opened = ls.open_document(analysis.path)
        edits = [lsp.TextEdit(to_range(doc, e.span, encoding), e.new_text) for e in action.edits]
        edit = lsp.WorkspaceEdit(
            document_changes=[
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=opened.version if opened is not None else None
                    ),
                    edits=edits,
                )
            ]
        )
    command = (
        lsp.Command(title=action.title, command=action.command, arguments=action.arguments)
        if action.command
        else None
    )
    return lsp.CodeAction(
        title=action.title,
        kind=action.kind,
        diagnostics=diagnostics,
        edit=edit,
        command=command,
        is_preferred=action.preferred or None,
    )


def _text_or_empty(path: Path) -> str:
    try:
        return read_text(path)
    except (OSError, ValueError):
        return ""


def _code_actions(server: SkillMeatServer) -> None:
    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=list(KINDS), resolve_provider=False),
    )
    async def code_action(
        ls: SkillMeatServer, params: lsp.CodeActionParams
    ) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        analysis = await ls.analysis_for(uri)
        if analysis is None:
            return []
        doc = analysis.document
        span = (to_offset(doc, params.range.start, ls.encoding),
                to_offset(doc, params.range.end, ls.encoding))
        capabilities = ls.client_capabilities.workspace
        workspace_edit = capabilities.workspace_edit if capabilities else None
        operations = (workspace_edit.resource_operations or []) if workspace_edit else []
        snapshot = ls.snapshot
        config = await ls.work(ls.session.configs.for_file, analysis.path)
        context = ActionContext(
            analysis.path,
            snapshot.index,
            can_rename=lsp.ResourceOperationKind.Rename in operations,
            can_write=snapshot.settings.trusted,
            can_create=lsp.ResourceOperationKind.Create in operations,
            config_path=config.path if config is not None else None,
        )
        found = await ls.work(
            code_actions, doc, analysis.diagnostics, span, context, params.context.only
        )
        appended = {a.append_to for a in found if a.append_to is not None and not a.create_file}
        texts = {path: await ls.work(_text_or_empty, path) for path in appended}
        return [_code_action(ls, analysis, uri, action, texts) for action in found]


def _command(
    name: str,
) -> Callable[..., Coroutine[Any, Any, Any]]:
    async def run(ls: SkillMeatServer, *args: Any) -> Any:
        try:
            return await ls.commands.handlers[name](*args)
        except UserFacingError as exc:  # the one place a command's error becomes a message
            ls.show_message(lsp.MessageType.Error, str(exc))
            raise JsonRpcException(str(exc), code=REQUEST_FAILED) from exc

    return run


def _commands(server: SkillMeatServer) -> None:
    for name in command_ids.ALL:
        server.command(name)(_command(name))


def _navigation(server: SkillMeatServer) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: SkillMeatServer, params: lsp.HoverParams) -> lsp.Hover | None:
        analysis = await ls.analysis_for(params.text_document.uri)
        if analysis is None:
            return None
        doc = analysis.document
        offset = to_offset(doc, params.position, ls.encoding)
        found = await _on_engine_with_context(ls, analysis, lambda c: hover(doc, offset, c))
        if found is None:
            return None
        markdown, span = found
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, markdown),
                         to_range(doc, span, ls.encoding))

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=['"', "="])
    )
    async def on_completion(
        ls: SkillMeatServer, params: lsp.CompletionParams
    ) -> lsp.CompletionList:
        analysis = await ls.analysis_for(params.text_document.uri)
        if analysis is None:
            return lsp.CompletionList(is_incomplete=False, items=[])
        doc = analysis.document
        offset = to_offset(doc, params.position, ls.encoding)
        found = await _on_engine_with_context(ls, analysis, lambda c: completions(doc, offset, c))
        kinds = {"value": lsp.CompletionItemKind.Value, "field": lsp.CompletionItemKind.Field}
        items = [
            lsp.CompletionItem(
                label=c.label, detail=c.detail or None, insert_text=c.insert_text,
                kind=kinds[c.kind],
            )
            for c in found
        ]
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def on_symbols(
        ls: SkillMeatServer, params: lsp.DocumentSymbolParams
    ) -> list[lsp.DocumentSymbol]:
        analysis = await ls.analysis_for(params.text_document.uri)
        if analysis is None:
            return []
        doc = analysis.document
        return [
            lsp.DocumentSymbol(
                name=s.name,
                detail=s.detail,
                kind=_SYMBOL_KINDS[s.kind],
                range=to_range(doc, s.span, ls.encoding),
                selection_range=to_range(doc, s.selection, ls.encoding),
            )
            for s in symbols(doc)
        ]

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    async def on_definition(
        ls: SkillMeatServer, params: lsp.DefinitionParams
    ) -> list[lsp.Location]:
        analysis = await ls.analysis_for(params.text_document.uri)
        if analysis is None:
            return []
        doc: Document = analysis.document
        offset = to_offset(doc, params.position, ls.encoding)
        targets = await _on_engine_with_context(ls, analysis, lambda c: definitions(doc, offset, c))
        return [lsp.Location(path_uri(t), zero_range()) for t in targets]

    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
    async def on_code_lens(ls: SkillMeatServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        analysis = await ls.analysis_for(params.text_document.uri)
        if analysis is None:
            return []
        doc = analysis.document
        lenses = await _on_engine_with_context(ls, analysis, lambda c: code_lenses(doc, c))
        return [
            lsp.CodeLens(
                range=to_range(doc, lens.span, ls.encoding),
                command=lsp.Command(
                    title=lens.title,
                    command=lens.command,
                    arguments=lens.arguments or None,
                    tooltip=lens.tooltip,
                ),
            )
            for lens in lenses
        ]
