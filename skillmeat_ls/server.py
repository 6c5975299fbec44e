"""The language server: LSP requests in, calls on the engine out. No rule logic lives here.

Handlers translate between lsprotocol types and the engine's plain data (:mod:`state`,
:mod:`actions`, :mod:`navigation`, :mod:`deploy`). All file I/O and SQLite work runs on one
worker thread (``_work``), so the event loop stays free to read the next message, and analyses
of one document are coalesced: while one runs, newer edits only mark the document dirty, and a
result for an old version is never published.

Diagnostics go out by push (``publishDiagnostics``) to clients without pull support and by pull
(``textDocument/diagnostic``, ``workspace/diagnostic``) to clients that advertise it; never both.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path

from skillmeat_ls import __version__
from skillmeat_ls.actions import KINDS, Action, ActionContext, code_actions
from skillmeat_ls.commands import CommandError, Commands
from skillmeat_ls.document import UTF16, Document
from skillmeat_ls.navigation import code_lenses, completions, definitions, hover, symbols
from skillmeat_ls.project_config import CONFIG_NAMES
from skillmeat_ls.rules import Diagnostic
from skillmeat_ls.scan import (
    MIN_FILES_FOR_WORKERS,
    PlacedDiagnostic,
    analyze_batch,
    place,
    worker_pool,
)
from skillmeat_ls.schema import (
    CLAUDE_DIR,
    DEPLOYED_FILE_NAME,
    DEPLOYMENT_FILE_NAMES,
    PLAN_FILE_NAME,
)
from skillmeat_ls.session import Analysis, ServerStatus, Session, Settings
from skillmeat_ls.workspace import (
    is_deployment_file,
    is_profile_root_name,
    project_files,
    read_text,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

SOURCE = "skillmeat"
STATUS_NOTIFICATION = "skillmeat/status"
REFRESH_DELAY_S = 0.2
BURST_YIELDS = 3  # event-loop turns to let queued edits arrive before publishing
WORKER_TASKS = 16  # tasks the workspace scan is cut into when it uses worker processes
ANALYSIS_BATCH = 64  # closed files analysed per trip to the worker thread
WATCHER_ID = "skillmeat-watchers"
REQUEST_FAILED = -32803  # LSP's RequestFailed error code


class SkillMeatProtocol(LanguageServerProtocol):
    """pygls's protocol, but a request whose params do not fit its type gets an error response
    (pygls would log it and leave the client waiting forever)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException:
            if "id" in data and "method" in data:
                error = lsp.ResponseError(
                    JsonRpcInvalidParams.CODE, f"invalid params for {data['method']}"
                )
                self._send_response(data["id"], error=error)
            raise


class SkillMeatServer(LanguageServer):
    """pygls server plus the state the handlers share."""

    def __init__(self) -> None:
        super().__init__(
            "skillmeat-ls",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=SkillMeatProtocol,
        )
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="skillmeat-engine")
        self.state = Session(Settings.from_options(None))
        self.commands = Commands(self)
        self.ready = asyncio.Event()
        self.pull = False  # the client pulls diagnostics
        self._running: set[str] = set()
        self._dirty: set[str] = set()
        self._refresh: asyncio.TimerHandle | None = None
        self._workspace_files: set[Path] = set()
        self._config_files: set[Path] = set()  # config files with published problems
        self.options: dict[str, Any] = {}  # the settings as the client last gave them
        self.startup: asyncio.Future[None] | None = None
        self._pool: ProcessPoolExecutor | None = None  # started early for the first scan

    async def work(self, fn: Callable[..., T], *args: Any) -> T:
        """Run engine code on the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    # --- conversions -------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        return str(getattr(self.workspace, "position_encoding", None) or UTF16)

    def to_range(self, doc: Document, span: tuple[int, int]) -> lsp.Range:
        (sl, sc), (el, ec) = (
            doc.position(span[0], self.encoding),
            doc.position(span[1], self.encoding),
        )
        return lsp.Range(lsp.Position(sl, sc), lsp.Position(el, ec))

    def to_offset(self, doc: Document, position: lsp.Position) -> int:
        return doc.offset_at(position.line, position.character, self.encoding)

    def to_diagnostics(
        self, doc: Document, path: Path, diagnostics: Sequence[Diagnostic]
    ) -> list[lsp.Diagnostic]:
        return self.placed_to_lsp(path, place(doc, diagnostics, self.encoding))

    def placed_to_lsp(self, path: Path, placed: Iterable[PlacedDiagnostic]) -> list[lsp.Diagnostic]:
        uri = from_fs_path(str(path)) or ""
        return [self._lsp_diagnostic(uri, item) for item in placed]

    def _lsp_diagnostic(self, uri: str, item: PlacedDiagnostic) -> lsp.Diagnostic:
        diagnostic = item.diagnostic
        related = []
        for info, span in zip(diagnostic.related, item.related, strict=True):
            if info.path is not None or span is None:
                target = lsp.Location(from_fs_path(str(info.path)) or "", _zero_range())
            else:
                target = lsp.Location(uri, _range(*span))
            related.append(lsp.DiagnosticRelatedInformation(target, info.message))
        return lsp.Diagnostic(
            range=_range(item.start, item.end),
            message=diagnostic.message,
            severity=lsp.DiagnosticSeverity(int(diagnostic.severity)),
            code=diagnostic.code,
            source=SOURCE,
            related_information=related or None,
            data=diagnostic.data,
        )

    # --- documents ---------------------------------------------------------------------------

    def open_texts(self) -> dict[Path, tuple[str, int | None]]:
        texts = {}
        for uri, document in self.workspace.text_documents.items():
            path = uri_path(uri)
            if path is not None and is_deployment_file(path):
                texts[path] = (document.source, document.version)
        return texts

    async def analyze_open(self, uri: str) -> Analysis | None:
        """Analyse the open document at ``uri`` (coalescing bursts of edits) and publish it."""
        path = uri_path(uri)
        if path is None or not is_deployment_file(path):
            return None
        if uri in self._running:
            self._dirty.add(uri)
            return None
        self._running.add(uri)
        try:
            while True:
                self._dirty.discard(uri)
                document = self.workspace.text_documents.get(uri)
                if document is None:
                    return None
                text, version = document.source, document.version
                analysis = await self.work(self.state.analyze, path, text, version)
                # Let the edits already received be read before publishing: in a burst of
                # keystrokes only the last version's diagnostics are worth sending.
                for _ in range(BURST_YIELDS):
                    await asyncio.sleep(0)
                if uri in self._dirty:
                    continue  # a newer version arrived meanwhile: analyse that instead
                current = self.workspace.text_documents.get(uri)
                if current is not None and current.version == version:
                    self.publish(analysis)
                return analysis
        finally:
            self._running.discard(uri)

    def publish(self, analysis: Analysis) -> None:
        if not self.pull:
            diagnostics = self.to_diagnostics(
                analysis.document, analysis.path, analysis.diagnostics
            )
            self.send_diagnostics(analysis.path, diagnostics, analysis.version)

    def send_diagnostics(
        self, path: Path, diagnostics: list[lsp.Diagnostic], version: int | None = None
    ) -> None:
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(
                uri=from_fs_path(str(path)) or "", diagnostics=diagnostics, version=version
            )
        )

    def workspace_folders(self) -> list[Path]:
        folders = [p for p in (uri_path(f.uri) for f in self.workspace.folders.values()) if p]
        if not folders and self.workspace.root_path:
            folders = [Path(self.workspace.root_path)]
        return folders

    async def analyze_everything(self, files: list[Path] | None = None) -> None:
        """Analyse every deployment file of the workspace (``files``, if just scanned), open or
        not; publish (push clients) or ask the client to pull again (pull clients pull what they
        want to show)."""
        if files is None:
            files = await self.work(self.state.scan, self.workspace_folders())
        self._workspace_files = set(files)
        open_texts = self.open_texts()
        await self.work(self.state.forget_except, self._workspace_files | set(open_texts))
        await self.work(self.state.forget_configs, self.workspace_folders())
        for path in open_texts:
            await self.analyze_open(from_fs_path(str(path)) or "")
        if not self.pull:
            await self.analyze_closed([path for path in files if path not in open_texts])
        # the projects' config files (already read for open files), for their own diagnostics
        await self.work(lambda: [self.state.configs.for_file(p) for p in files])
        self.publish_config_problems()
        self.request_refresh()

    def publish_config_problems(self) -> None:
        """A project config file's problems, pushed to every client (it is no deployment file,
        so no client pulls it); a config that was fixed gets its diagnostics cleared."""
        configs = self.state.read_configs()
        for path, config in configs.items():
            found = (
                self.to_diagnostics(config.document, path, config.problems)
                if config.document is not None
                else [lsp.Diagnostic(_zero_range(), p.message, lsp.DiagnosticSeverity.Error,
                                     code=p.code, source=SOURCE) for p in config.problems]
            )
            if found or path in self._config_files:
                self.send_diagnostics(path, found)
        self._config_files = {path for path, config in configs.items() if config.problems}

    async def analyze_closed(self, paths: list[Path]) -> None:
        """Analyse files that are not open and publish their diagnostics; many files are
        spread over worker processes (see :mod:`skillmeat_ls.scan`)."""
        if len(paths) < MIN_FILES_FOR_WORKERS:
            for start in range(0, len(paths), ANALYSIS_BATCH):
                for analysis in await self.work(
                    self.state.analyze_files, paths[start : start + ANALYSIS_BATCH]
                ):
                    self.publish(analysis)
            return
        loop = asyncio.get_running_loop()
        pool, self._pool = self._pool, None
        if pool is None:
            pool = worker_pool(self.state.settings.rules, self.encoding)
        try:
            index = self.state.index
            stops = tuple(self.workspace_folders())
            size = max(1, -(-len(paths) // WORKER_TASKS))
            futures = [
                asyncio.wrap_future(
                    pool.submit(analyze_batch, index, paths[i : i + size], stops), loop=loop
                )
                for i in range(0, len(paths), size)
            ]
            for done in asyncio.as_completed(futures):
                for result in await done:
                    self.send_diagnostics(
                        result.path, self.placed_to_lsp(result.path, result.diagnostics)
                    )
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    async def analyze_project(self, project: Path) -> None:
        """Analyse again the deployment files of one project, every profile root (after its
        files changed)."""
        await self.work(self.state.disk.forget, project)
        open_texts = self.open_texts()
        known = [p for p in (*self._workspace_files, *open_texts) if p.parent.parent == project]
        for path in sorted({*await self.work(project_files, project), *known}):
            if path in open_texts:
                await self.analyze_open(from_fs_path(str(path)) or "")
            elif path in self._workspace_files or path.exists():
                analysis = await self.work(self.state.analyze_on_disk, path)
                if analysis is not None:
                    self._workspace_files.add(path)
                    self.publish(analysis)
                elif path in self._workspace_files:
                    self._workspace_files.discard(path)
                    if not self.pull:
                        self.send_diagnostics(path, [])
        self.request_refresh()

    def request_refresh(self) -> None:
        """Ask a pull client to pull again, once per burst of changes."""
        if not self.pull or not self._supports_refresh():
            return
        loop = asyncio.get_running_loop()
        if self._refresh is not None:
            self._refresh.cancel()
        self._refresh = loop.call_later(REFRESH_DELAY_S, self._send_refresh)

    def _send_refresh(self) -> None:
        self._refresh = None
        self.workspace_diagnostic_refresh(None)

    def _supports_refresh(self) -> bool:
        workspace = self.client_capabilities.workspace
        diagnostics = workspace.diagnostics if workspace else None
        return bool(diagnostics and diagnostics.refresh_support)

    def notify_status(self) -> None:
        self.protocol.notify(STATUS_NOTIFICATION, self.state.status.notification())

    # --- start-up ----------------------------------------------------------------------------

    async def start_engine(self) -> None:
        """Migrate the cache and index the collections, reporting progress; then analyse."""
        self.notify_status()
        files = await self.work(self.state.scan, self.workspace_folders())
        if not self.pull and self._pool is None and len(files) >= MIN_FILES_FOR_WORKERS:
            # a push client gets every workspace file's diagnostics: start the workers now
            self._pool = worker_pool(self.state.settings.rules, self.encoding)
        token = await self._progress_begin("SkillMeat: opening the cache")

        def report(message: str, percent: int) -> None:
            if token is not None:
                self.work_done_progress.report(
                    token, lsp.WorkDoneProgressReport(message=message, percentage=percent)
                )

        def thread_report(message: str, percent: int) -> None:
            loop.call_soon_threadsafe(report, message, percent)

        loop = asyncio.get_running_loop()
        try:
            await self.work(self.state.start, thread_report)
        except Exception as exc:  # the server keeps serving what needs no cache
            log.exception("start-up failed")
            self.state.status = ServerStatus("error", f"start-up failed: {exc}", None)
        finally:
            if token is not None:
                self.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message="ready"))
        self.ready.set()
        self.notify_status()
        self.commands.check_skillmeat_cache()  # SkillMeat's own cache.db: one message if broken
        await self.analyze_everything(files)

    async def _progress_begin(self, title: str) -> str | None:
        window = self.client_capabilities.window
        if not (window and window.work_done_progress):
            return None
        token = str(uuid.uuid4())
        try:
            await self.work_done_progress.create_async(token)
        except Exception as exc:  # a client may refuse; progress is optional
            log.info("client refused a progress token: %s", exc)
            return None
        self.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title=title, percentage=0))
        return token

    async def register_watchers(self) -> None:
        workspace = self.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace else None
        if not (watched and watched.dynamic_registration):
            return
        home = str(self.state.settings.home / "collections")
        watchers = [
            # every profile root's file, and anything inside a dot-directory (deployed copies
            # of any profile); events outside a profile root are dropped on arrival
            lsp.FileSystemWatcher(glob_pattern=f"**/.*/{DEPLOYED_FILE_NAME}"),
            lsp.FileSystemWatcher(glob_pattern=f"**/{CLAUDE_DIR}/{PLAN_FILE_NAME}"),
            lsp.FileSystemWatcher(glob_pattern="**/.*/**"),
            *(lsp.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES),
        ]
        if watched.relative_pattern_support:
            base = from_fs_path(home) or ""
            watchers.append(
                lsp.FileSystemWatcher(
                    glob_pattern=lsp.RelativePattern(base_uri=base, pattern="**/*")
                )
            )
        else:
            watchers.append(lsp.FileSystemWatcher(glob_pattern=f"{home}/**/*"))
        options = lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)
        try:
            await self.client_register_capability_async(
                lsp.RegistrationParams(
                    registrations=[
                        lsp.Registration(
                            id=WATCHER_ID,
                            method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=options,
                        )
                    ]
                )
            )
        except Exception as exc:
            log.info("client refused file watchers: %s", exc)
            return
        # the editor now reports changes on disk: what the server knows stays valid until then
        self.state.disk.freshness = None

    async def pull_configuration(self) -> None:
        workspace = self.client_capabilities.workspace
        if not (workspace and workspace.configuration):
            return
        try:
            results = await self.workspace_configuration_async(
                lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section="skillmeat")])
            )
        except Exception as exc:
            log.info("no configuration from the client: %s", exc)
            return
        if results and isinstance(results[0], dict):
            await self.apply_settings(results[0])

    async def apply_settings(self, options: dict[str, Any]) -> None:
        merged = {**self.options, **options}
        self.options = merged
        restart = await self.work(self.state.configure, Settings.from_options(merged))
        if restart and self.ready.is_set():
            await self.start_engine()
        elif self.ready.is_set():
            await self.analyze_everything()


def _zero_range() -> lsp.Range:
    return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))


def _range(start: tuple[int, int], end: tuple[int, int]) -> lsp.Range:
    return lsp.Range(lsp.Position(*start), lsp.Position(*end))


def uri_path(uri: str) -> Path | None:
    """The file-system path of a ``file:`` URI; None for any other scheme."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


server = SkillMeatServer()


# --- lifecycle ------------------------------------------------------------------------------------


@server.feature(lsp.INITIALIZE)
def initialize(ls: SkillMeatServer, params: lsp.InitializeParams) -> None:
    options = (
        params.initialization_options if isinstance(params.initialization_options, dict) else {}
    )
    ls.options = dict(options)
    ls.state.settings = Settings.from_options(options)
    text_document = params.capabilities.text_document
    ls.pull = bool(text_document and text_document.diagnostic)


@server.feature(lsp.INITIALIZED)
async def initialized(ls: SkillMeatServer, _params: lsp.InitializedParams) -> None:
    await ls.pull_configuration()
    await ls.register_watchers()
    ls.startup = asyncio.ensure_future(ls.start_engine())


@server.feature(lsp.SHUTDOWN)
async def shutdown(ls: SkillMeatServer, _params: None) -> None:
    await ls.work(ls.state.close)


@server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: SkillMeatServer, params: lsp.DidChangeConfigurationParams
) -> None:
    settings = params.settings
    if isinstance(settings, dict) and isinstance(settings.get("skillmeat"), dict):
        await ls.apply_settings(settings["skillmeat"])
    else:
        await ls.pull_configuration()


# --- text synchronisation and diagnostics ---------------------------------------------------------


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: SkillMeatServer, params: lsp.DidOpenTextDocumentParams) -> None:
    await ls.analyze_open(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: SkillMeatServer, params: lsp.DidChangeTextDocumentParams) -> None:
    await ls.analyze_open(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: SkillMeatServer, params: lsp.DidSaveTextDocumentParams) -> None:
    await ls.analyze_open(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: SkillMeatServer, params: lsp.DidCloseTextDocumentParams) -> None:
    path = uri_path(params.text_document.uri)
    if path is None or not is_deployment_file(path):
        return
    # a file of the workspace keeps its diagnostics (now from disk); any other is forgotten
    analysis = await ls.work(ls.state.analyze_on_disk, path)
    if analysis is not None and path in ls._workspace_files:
        ls.publish(analysis)
    else:
        await ls.work(ls.state.forget, path)
        if not ls.pull:
            ls.text_document_publish_diagnostics(
                lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
            )


async def _analysis_for(ls: SkillMeatServer, uri: str) -> Analysis | None:
    """The current analysis of ``uri``: the open buffer's, else the file on disk's."""
    path = uri_path(uri)
    if path is None or not is_deployment_file(path):
        return None
    document = ls.workspace.text_documents.get(uri)
    if document is not None:
        latest = await ls.work(ls.state.latest, path)
        if latest is not None and latest.version == document.version:
            return latest
        return await ls.work(ls.state.analyze, path, document.source, document.version)
    return await ls.work(ls.state.analyze_on_disk, path)


@server.feature(
    lsp.TEXT_DOCUMENT_DIAGNOSTIC,
    lsp.DiagnosticOptions(
        identifier=SOURCE, inter_file_dependencies=True, workspace_diagnostics=True
    ),
)
async def document_diagnostic(
    ls: SkillMeatServer, params: lsp.DocumentDiagnosticParams
) -> lsp.DocumentDiagnosticReport:
    analysis = await _analysis_for(ls, params.text_document.uri)
    if analysis is None:
        return lsp.RelatedFullDocumentDiagnosticReport(items=[])
    if params.previous_result_id == analysis.result_id:
        return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=analysis.result_id)
    items = ls.to_diagnostics(analysis.document, analysis.path, analysis.diagnostics)
    return lsp.RelatedFullDocumentDiagnosticReport(items=items, result_id=analysis.result_id)


@server.feature(lsp.WORKSPACE_DIAGNOSTIC)
async def workspace_diagnostic(
    ls: SkillMeatServer, params: lsp.WorkspaceDiagnosticParams
) -> lsp.WorkspaceDiagnosticReport:
    await ls.ready.wait()
    previous = {item.uri: item.value for item in params.previous_result_ids}
    reports: list[lsp.WorkspaceDocumentDiagnosticReport] = []
    for path in sorted(ls._workspace_files | set(ls.open_texts())):
        uri = from_fs_path(str(path)) or ""
        analysis = await _analysis_for(ls, uri)
        if analysis is None:
            continue
        if previous.get(uri) == analysis.result_id:
            reports.append(
                lsp.WorkspaceUnchangedDocumentDiagnosticReport(
                    uri=uri, version=analysis.version, result_id=analysis.result_id
                )
            )
            continue
        items = ls.to_diagnostics(analysis.document, path, analysis.diagnostics)
        reports.append(
            lsp.WorkspaceFullDocumentDiagnosticReport(
                uri=uri, version=analysis.version, items=items, result_id=analysis.result_id
            )
        )
    return lsp.WorkspaceDiagnosticReport(items=reports)


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(
    ls: SkillMeatServer, params: lsp.DidChangeWatchedFilesParams
) -> None:
    """A collection changed: re-index and re-analyse everything. A project's file changed
    (its deployment file, or a deployed copy): re-analyse that project's deployment files."""
    paths = [p for p in (uri_path(change.uri) for change in params.changes) if p is not None]
    collections = ls.state.settings.home / "collections"
    if any(p.name in CONFIG_NAMES for p in paths):  # a project's rule config changed
        await ls.analyze_everything()
        return
    if any(collections in p.parents for p in paths):
        await ls.work(ls.state.reload_collections)
        await ls.analyze_everything()
        return
    known_roots = {p.parent for p in (*ls._workspace_files, *ls.open_texts())}
    roots = await ls.work(lambda: {r for r in (_profile_root_of(p, known_roots) for p in paths) if r})
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


# --- code actions and commands --------------------------------------------------------------------


def _action(
    ls: SkillMeatServer,
    analysis: Analysis,
    uri: str,
    action: Action,
    texts: Mapping[Path, str] | None = None,
) -> lsp.CodeAction:
    doc = analysis.document
    diagnostics = ls.to_diagnostics(doc, analysis.path, action.diagnostics) or None
    edit = None
    if action.append_to is not None:
        current = (texts or {}).get(action.append_to, "")
        edit = _append_edit(ls, action.append_to, action.append_text, current,
                            create=action.create_file)
    elif action.rename_to is not None:
        edit = lsp.WorkspaceEdit(
            document_changes=[
                lsp.RenameFile(
                    kind="rename", old_uri=uri, new_uri=from_fs_path(str(action.rename_to)) or ""
                )
            ]
        )
    elif action.edits:
        version = (
            ls.workspace.text_documents[uri].version if uri in ls.workspace.text_documents else None
        )
        edits = [lsp.TextEdit(ls.to_range(doc, e.span), e.new_text) for e in action.edits]
        edit = lsp.WorkspaceEdit(
            document_changes=[
                lsp.TextDocumentEdit(
                    text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=version
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


def _append_edit(
    ls: SkillMeatServer, path: Path, text: str, on_disk: str, *, create: bool
) -> lsp.WorkspaceEdit:
    """An edit appending ``text`` to ``path`` (created first when ``create``; ``on_disk`` its
    current text), through the editor so that its buffer and undo stay right."""
    uri = from_fs_path(str(path)) or ""
    open_document = ls.workspace.text_documents.get(uri)
    if create:
        end = lsp.Position(0, 0)
    else:
        current = open_document.source if open_document is not None else on_disk
        lines = current.split("\n")
        end = lsp.Position(len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2)
        if current and not current.endswith("\n"):
            text = "\n" + text
    changes: list[Any] = []
    if create:
        changes.append(lsp.CreateFile(kind="create", uri=uri,
                                      options=lsp.CreateFileOptions(ignore_if_exists=True)))
    changes.append(
        lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(
                uri=uri, version=open_document.version if open_document is not None else None
            ),
            edits=[lsp.TextEdit(lsp.Range(end, end), text)],
        )
    )
    return lsp.WorkspaceEdit(document_changes=changes)


def _text_or_empty(path: Path) -> str:
    try:
        return read_text(path)
    except (OSError, ValueError):
        return ""


@server.feature(
    lsp.TEXT_DOCUMENT_CODE_ACTION,
    lsp.CodeActionOptions(code_action_kinds=list(KINDS), resolve_provider=False),
)
async def code_action(ls: SkillMeatServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    analysis = await _analysis_for(ls, uri)
    if analysis is None:
        return []
    doc = analysis.document
    span = (ls.to_offset(doc, params.range.start), ls.to_offset(doc, params.range.end))
    workspace_edit = (
        ls.client_capabilities.workspace.workspace_edit
        if ls.client_capabilities.workspace
        else None
    )
    operations = (workspace_edit.resource_operations or []) if workspace_edit else []
    config = await ls.work(ls.state.configs.for_file, analysis.path)
    context = ActionContext(
        analysis.path,
        ls.state.index,
        can_rename=lsp.ResourceOperationKind.Rename in operations,
        can_write=ls.state.settings.trusted,
        can_create=lsp.ResourceOperationKind.Create in operations,
        config_path=config.path if config is not None else None,
    )
    found = await ls.work(
        code_actions, doc, analysis.diagnostics, span, context, params.context.only
    )
    appended = {a.append_to for a in found if a.append_to is not None and not a.create_file}
    texts = {path: await ls.work(_text_or_empty, path) for path in appended}
    return [_action(ls, analysis, uri, action, texts) for action in found]


def _command(name: str) -> Callable[..., Any]:
    async def run(ls: SkillMeatServer, *args: Any) -> Any:
        try:
            return await ls.commands.handlers[name](*args)
        except CommandError as exc:
            ls.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Error, str(exc)))
            raise JsonRpcException(str(exc), code=REQUEST_FAILED) from exc

    return run


for _name in server.commands.handlers:
    server.command(_name)(_command(_name))


# --- navigation -----------------------------------------------------------------------------------


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
async def on_hover(ls: SkillMeatServer, params: lsp.HoverParams) -> lsp.Hover | None:
    analysis = await _analysis_for(ls, params.text_document.uri)
    if analysis is None:
        return None
    doc = analysis.document
    found = await ls.work(
        hover, doc, ls.to_offset(doc, params.position), ls.state.context(analysis.path)
    )
    if found is None:
        return None
    markdown, span = found
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, markdown), ls.to_range(doc, span))


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=['"', "="]))
async def on_completion(ls: SkillMeatServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    analysis = await _analysis_for(ls, params.text_document.uri)
    if analysis is None:
        return lsp.CompletionList(is_incomplete=False, items=[])
    doc = analysis.document
    found = await ls.work(
        completions, doc, ls.to_offset(doc, params.position), ls.state.context(analysis.path)
    )
    kinds = {"value": lsp.CompletionItemKind.Value, "field": lsp.CompletionItemKind.Field}
    items = [
        lsp.CompletionItem(
            label=c.label, detail=c.detail or None, insert_text=c.insert_text, kind=kinds[c.kind]
        )
        for c in found
    ]
    return lsp.CompletionList(is_incomplete=False, items=items)


_SYMBOL_KINDS = {
    "package": lsp.SymbolKind.Package,
    "function": lsp.SymbolKind.Function,
    "class": lsp.SymbolKind.Class,
    "event": lsp.SymbolKind.Event,
    "interface": lsp.SymbolKind.Interface,
    "object": lsp.SymbolKind.Object,
}


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
async def on_symbols(
    ls: SkillMeatServer, params: lsp.DocumentSymbolParams
) -> list[lsp.DocumentSymbol]:
    analysis = await _analysis_for(ls, params.text_document.uri)
    if analysis is None:
        return []
    doc = analysis.document
    return [
        lsp.DocumentSymbol(
            name=s.name,
            detail=s.detail,
            kind=_SYMBOL_KINDS[s.kind],
            range=ls.to_range(doc, s.span),
            selection_range=ls.to_range(doc, s.selection),
        )
        for s in symbols(doc)
    ]


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
async def on_definition(ls: SkillMeatServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    analysis = await _analysis_for(ls, params.text_document.uri)
    if analysis is None:
        return []
    doc = analysis.document
    targets = await ls.work(
        definitions, doc, ls.to_offset(doc, params.position), ls.state.context(analysis.path)
    )
    return [lsp.Location(from_fs_path(str(t)) or "", _zero_range()) for t in targets]


@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=False))
async def on_code_lens(ls: SkillMeatServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    analysis = await _analysis_for(ls, params.text_document.uri)
    if analysis is None:
        return []
    doc = analysis.document
    lenses = await ls.work(code_lenses, doc, ls.state.context(analysis.path))
    return [
        lsp.CodeLens(
            range=ls.to_range(doc, lens.span),
            command=lsp.Command(
                title=lens.title,
                command=lens.command,
                arguments=lens.arguments or None,
                tooltip=lens.tooltip,
            ),
        )
        for lens in lenses
    ]


def run(transport: str = "stdio", host: str = "127.0.0.1", port: int = 2087) -> None:
    """Serve until the client exits or closes the connection."""
    # The engine thread is CPU-bound while it analyses; hand the GIL back to the event loop
    # more often than the default 5 ms, so reading the next message never waits long.
    sys.setswitchinterval(0.001)
    try:
        if transport == "tcp":
            server.start_tcp(host, port)
        else:
            server.start_io()
    finally:
        server.worker.shutdown(wait=False, cancel_futures=True)


__all__ = ["SkillMeatServer", "run", "server", "uri_path"]
