"""The server class and its scheduling: which work runs when, on which thread, and what is sent.

All file I/O and SQLite work runs on one engine thread (:meth:`SkillMeatServer.work`), so the
event loop stays free to read the next message. Analyses of one document are coalesced: while one
runs, newer edits only mark the document dirty, and a result for an old version is never
published. Diagnostics go out by push (``publishDiagnostics``) to clients without pull support
and by pull (``textDocument/diagnostic``, ``workspace/diagnostic``) to clients that advertise it;
never both. Start-up (cache, index, progress), the workspace scan (in worker processes for many
files), file watchers and configuration live here too; the request handlers are in
:mod:`skillmeat_ls.lsp.handlers`.

Threads: the :class:`~skillmeat_ls.session.Session` is changed only on the engine thread; the
event loop owns this class's own bookkeeping (open-document versions, the workspace's file list,
what is running or dirty) and reads the session through its immutable ``snapshot``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from skillmeat_ls import __version__
from skillmeat_ls.document import UTF16
from skillmeat_ls.lsp.commands import Commands, OpenDocument
from skillmeat_ls.lsp.convert import (
    path_uri,
    placed_to_lsp,
    to_diagnostics,
    unplaced_diagnostic,
    uri_path,
)
from skillmeat_ls.project_config import CONFIG_NAMES, ProjectConfig
from skillmeat_ls.scan import MIN_FILES_FOR_WORKERS, analyze_batch, worker_pool
from skillmeat_ls.schema import CLAUDE_DIR, DEPLOYED_FILE_NAME, PLAN_FILE_NAME
from skillmeat_ls.session import Analysis, Session, SessionSnapshot, Settings
from skillmeat_ls.workspace import is_deployment_file, project_files

log = logging.getLogger(__name__)
T = TypeVar("T")

STATUS_NOTIFICATION = "skillmeat/status"
#: How long a document opened before the client's settings arrived waits for them.
CONFIGURATION_WAIT_S = 2.0
REFRESH_DELAY_S = 0.2
BURST_YIELDS = 3  # event-loop turns to let queued edits arrive before publishing
WORKER_TASKS = 16  # tasks the workspace scan is cut into when it uses worker processes
ANALYSIS_BATCH = 64  # closed files analysed per trip to the worker thread
WATCHER_ID = "skillmeat-watchers"


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


@dataclass
class _Coalescing:
    """Which open documents are being analysed, which got a newer version meanwhile, and which
    were saved meanwhile (what the text rules find is kept once the analysis is done)."""

    running: set[str]
    dirty: set[str]
    kept: set[str]


def settle_heap() -> None:
    """Exempt what is alive now (modules, the index, an opened document's parse) from the
    cyclic collector's scans: they live as long as the server or the document, and scanning them
    again and again made the slowest keystrokes several times slower than the median. Objects
    still die by reference counting as usual."""
    gc.freeze()


class SkillMeatServer(LanguageServer):
    """pygls server plus the scheduling the handlers share."""

    def __init__(self) -> None:
        super().__init__(
            "skillmeat-ls",
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=SkillMeatProtocol,
        )
        self.engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix="skillmeat-engine")
        self.session = Session(Settings.from_options(None))
        self.commands = Commands(self)
        self.ready = asyncio.Event()
        #: Set once the client's settings are read (``initialized``): analyses wait for it, a
        #: little, so the first diagnostics follow the client's rule settings and cache.
        self.configured = asyncio.Event()
        self.pull = False  # the client pulls diagnostics
        self._coalescing = _Coalescing(set(), set(), set())
        self._refresh: asyncio.TimerHandle | None = None
        self.workspace_files: set[Path] = set()
        self._config_files: set[Path] = set()  # config files with published problems
        self.options: dict[str, Any] = {}  # the settings as the client last gave them
        self.startup: asyncio.Future[None] | None = None
        self._pool: ProcessPoolExecutor | None = None  # started early for the first scan

    async def work(self, fn: Callable[..., T], *args: Any) -> T:
        """Run engine code on the engine thread."""
        return await asyncio.get_running_loop().run_in_executor(self.engine, fn, *args)

    @property
    def snapshot(self) -> SessionSnapshot:
        return self.session.snapshot

    async def wait_ready(self) -> None:
        await self.ready.wait()

    # --- the editor's side: documents, messages, edits -----------------------------------------

    @property
    def encoding(self) -> str:
        return str(getattr(self.workspace, "position_encoding", None) or UTF16)

    def open_document(self, path: Path) -> OpenDocument | None:
        document = self.workspace.text_documents.get(path_uri(path))
        if document is None:
            return None
        return OpenDocument(document.source, document.version, len(document.lines))

    def deployment_files(self) -> set[Path]:
        """The workspace's deployment files and the open ones."""
        return self.workspace_files | set(self.open_texts())

    def open_texts(self) -> dict[Path, tuple[str, int | None]]:
        texts = {}
        for uri, document in self.workspace.text_documents.items():
            path = uri_path(uri)
            if path is not None and is_deployment_file(path):
                texts[path] = (document.source, document.version)
        return texts

    async def apply_edit(self, edit: lsp.WorkspaceEdit, label: str) -> bool:
        result = await self.workspace_apply_edit_async(
            lsp.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
        return bool(result and result.applied)

    async def ask(
        self, message: str, titles: Sequence[str], level: lsp.MessageType = lsp.MessageType.Info
    ) -> str | None:
        """The title the user picked, or None (dismissed, or a client that cannot ask)."""
        params = lsp.ShowMessageRequestParams(
            type=level, message=message, actions=[lsp.MessageActionItem(title=t) for t in titles]
        )
        try:
            answer = await self.window_show_message_request_async(params)
        except Exception as exc:  # a client that cannot ask counts as a cancel
            log.info("showMessageRequest failed: %s", exc)
            return None
        return answer.title if answer is not None else None

    def show_message(self, level: lsp.MessageType, message: str) -> None:
        self.window_show_message(lsp.ShowMessageParams(level, message))

    def log_message(self, level: lsp.MessageType, message: str) -> None:
        self.window_log_message(lsp.LogMessageParams(level, message))

    # --- analysing and publishing -----------------------------------------------------------

    def to_diagnostics(self, analysis: Analysis) -> list[lsp.Diagnostic]:
        return to_diagnostics(analysis.document, analysis.path, analysis.diagnostics,
                              self.encoding)

    async def analyze_open(
        self, uri: str, *, opened: bool = False, keep: bool = False
    ) -> Analysis | None:
        """Analyse the open document at ``uri`` (coalescing bursts of edits) and publish it.
        Just ``opened``: first publish what the text-only rules found in this very text before
        (:meth:`~skillmeat_ls.session.Session.first_look`), if anything was kept; ``keep``
        (opened or saved: the text is the file's) keeps what they find now for the next time."""
        path = uri_path(uri)
        if path is None or not is_deployment_file(path):
            return None
        coalescing = self._coalescing
        if uri in coalescing.running:
            coalescing.dirty.add(uri)
            if keep:
                coalescing.kept.add(uri)
            return None
        coalescing.running.add(uri)
        try:
            if not self.configured.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.configured.wait(), CONFIGURATION_WAIT_S)
            if opened and not self.pull:
                await self.publish_first_look(uri, path)
            while True:
                coalescing.dirty.discard(uri)
                document = self.workspace.text_documents.get(uri)
                if document is None:
                    return None
                text, version = document.source, document.version
                analysis = await self.work(self.session.analyze, path, text, version)
                # Let the edits already received be read before publishing: in a burst of
                # keystrokes only the last version's diagnostics are worth sending.
                for _ in range(BURST_YIELDS):
                    await asyncio.sleep(0)
                if uri in coalescing.dirty:
                    continue  # a newer version arrived meanwhile: analyse that instead
                current = self.workspace.text_documents.get(uri)
                if current is not None and current.version == version:
                    self.publish(analysis)
                break
        finally:
            coalescing.running.discard(uri)
            if uri in coalescing.kept:  # saved while analysed: that text's findings are kept too
                coalescing.kept.discard(uri)
                keep = True
        # After publishing, and outside the coalescing: an edit meanwhile is analysed at once.
        if keep:
            await self.work(self.session.keep_text_findings, path, self.encoding)
        await self.work(self.session.save_learned)
        return analysis

    async def publish_first_look(self, uri: str, path: Path) -> None:
        document = self.workspace.text_documents.get(uri)
        if document is None:
            return
        version = document.version
        found = await self.work(self.session.first_look, path, document.source, self.encoding)
        current = self.workspace.text_documents.get(uri)
        if found is not None and current is not None and current.version == version:
            self.send_diagnostics(path, placed_to_lsp(path, found), version)

    async def analysis_for(self, uri: str) -> Analysis | None:
        """The current analysis of ``uri``: the open buffer's, else the file on disk's."""
        path = uri_path(uri)
        if path is None or not is_deployment_file(path):
            return None
        document = self.workspace.text_documents.get(uri)
        if document is not None:
            latest = await self.work(self.session.latest, path)
            if latest is not None and latest.version == document.version:
                return latest
            return await self.work(self.session.analyze, path, document.source, document.version)
        return await self.work(self.session.analyze_on_disk, path)

    def publish(self, analysis: Analysis) -> None:
        if not self.pull:
            self.send_diagnostics(analysis.path, self.to_diagnostics(analysis), analysis.version)

    def send_diagnostics(
        self, path: Path, diagnostics: list[lsp.Diagnostic], version: int | None = None
    ) -> None:
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=path_uri(path), diagnostics=diagnostics,
                                         version=version)
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
        folders = self.workspace_folders()
        if files is None:
            files = await self.work(self.session.scan, folders)
        self.workspace_files = set(files)
        open_texts = self.open_texts()
        await self.work(self.session.forget_except, self.workspace_files | set(open_texts))
        await self.work(self.session.forget_configs, folders)
        for path in open_texts:
            await self.analyze_open(path_uri(path))
        if not self.pull:
            await self.analyze_closed([path for path in files if path not in open_texts])
        # the projects' config files (already read for open files), for their own diagnostics
        configs = await self.work(self.session.read_configs_of, files)
        self.publish_config_problems(configs)
        await self.work(self.session.forget_gone, folders, files)
        await self.work(self.session.save_learned)
        self.request_refresh()

    def publish_config_problems(self, configs: dict[Path, ProjectConfig]) -> None:
        """A project config file's problems, pushed to every client (it is no deployment file,
        so no client pulls it); a config that was fixed gets its diagnostics cleared."""
        for path, config in configs.items():
            found = (
                to_diagnostics(config.document, path, config.problems, self.encoding)
                if config.document is not None
                else [unplaced_diagnostic(p.code, p.message) for p in config.problems]
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
                    self.session.analyze_files, paths[start : start + ANALYSIS_BATCH]
                ):
                    self.publish(analysis)
            return
        loop = asyncio.get_running_loop()
        snapshot = self.snapshot
        pool, self._pool = self._pool, None
        if pool is None:
            pool = worker_pool(snapshot.settings.rules, self.encoding)
        try:
            stops = tuple(self.workspace_folders())
            size = max(1, -(-len(paths) // WORKER_TASKS))
            futures = []
            for i in range(0, len(paths), size):
                batch = paths[i : i + size]
                copies = await self.work(self.session.copies_of, {p.parent for p in batch})
                verdicts = await self.work(self.session.verdicts_of, batch)
                futures.append(
                    asyncio.wrap_future(
                        pool.submit(
                            analyze_batch,
                            snapshot.index,
                            batch,
                            stops,
                            dict(snapshot.interrupted),
                            copies,
                            verdicts,
                        ),
                        loop=loop,
                    )
                )
            for done in asyncio.as_completed(futures):
                batch_result = await done
                for result in batch_result.files:
                    self.send_diagnostics(
                        result.path, placed_to_lsp(result.path, result.diagnostics)
                    )
                # kept in memory now (so a shutdown right after the last batch stores it too),
                # written once every file's diagnostics are out
                await self.work(
                    self.session.learn_from_scan, batch_result.learned, batch_result.verdicts
                )
            await self.work(self.session.save_learned)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    async def analyze_project(self, project: Path) -> None:
        """Analyse again the deployment files of one project, every profile root (after its
        files changed)."""
        await self.work(self.session.forget_disk, project)
        open_texts = self.open_texts()
        known = [p for p in (*self.workspace_files, *open_texts) if p.parent.parent == project]
        paths = sorted({*await self.work(project_files, project), *known})
        await self.recover({path.parent for path in paths})
        for path in paths:
            if path in open_texts:
                await self.analyze_open(path_uri(path))
            elif path in self.workspace_files or path.exists():
                analysis = await self.work(self.session.analyze_on_disk, path)
                if analysis is not None:
                    self.workspace_files.add(path)
                    self.publish(analysis)
                elif path in self.workspace_files:
                    self.workspace_files.discard(path)
                    if not self.pull:
                        self.send_diagnostics(path, [])
        await self.work(self.session.save_learned)
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
        self.protocol.notify(STATUS_NOTIFICATION, self.snapshot.status.notification())

    # --- start-up ----------------------------------------------------------------------------

    async def start_engine(self) -> None:
        """Migrate the cache and index the collections, reporting progress; then analyse."""
        self.notify_status()
        files = await self.work(self.session.scan, self.workspace_folders())
        if not self.pull and self._pool is None and len(files) >= MIN_FILES_FOR_WORKERS:
            # a push client gets every workspace file's diagnostics: start the workers now
            self._pool = worker_pool(self.snapshot.settings.rules, self.encoding)
        token = await self._progress_begin("SkillMeat: opening the cache")
        loop = asyncio.get_running_loop()

        def report(message: str, percent: int) -> None:
            if token is not None:
                self.work_done_progress.report(
                    token, lsp.WorkDoneProgressReport(message=message, percentage=percent)
                )

        def thread_report(message: str, percent: int) -> None:
            loop.call_soon_threadsafe(report, message, percent)

        try:
            await self.work(self.session.start, thread_report)
        finally:
            if token is not None:
                self.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message="ready"))
        self.ready.set()
        self.notify_status()
        self.commands.check_skillmeat_cache()  # SkillMeat's own cache.db: one message if broken
        await self.recover({path.parent for path in files})
        await self.analyze_everything(files)
        settle_heap()

    async def recover(self, roots: set[Path]) -> None:
        """Settle what interrupted deploys left in these profile roots before anything reads
        them (SPEC §6); say what was done, and warn about what could not be."""
        if not roots:
            return
        before = self.snapshot.interrupted
        for message in await self.work(self.session.recover, roots):
            log.info("%s", message)
            self.log_message(lsp.MessageType.Info, f"SkillMeat: {message}")
        for root, why in self.snapshot.interrupted.items():
            if before.get(root) != why:
                self.show_message(lsp.MessageType.Warning, f"SkillMeat: {why}")

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
        home = str(self.snapshot.settings.home / "collections")
        watchers = [
            # every profile root's file, and anything inside a dot-directory (deployed copies
            # of any profile); events outside a profile root are dropped on arrival
            lsp.FileSystemWatcher(glob_pattern=f"**/.*/{DEPLOYED_FILE_NAME}"),
            lsp.FileSystemWatcher(glob_pattern=f"**/{CLAUDE_DIR}/{PLAN_FILE_NAME}"),
            lsp.FileSystemWatcher(glob_pattern="**/.*/**"),
            *(lsp.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES),
        ]
        if watched.relative_pattern_support:
            watchers.append(
                lsp.FileSystemWatcher(
                    glob_pattern=lsp.RelativePattern(base_uri=path_uri(Path(home)),
                                                     pattern="**/*")
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
        await self.work(self.session.trust_file_events)

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
        restart = await self.work(self.session.configure, Settings.from_options(merged))
        if restart and self.ready.is_set():
            await self.start_engine()
        elif self.ready.is_set():
            await self.analyze_everything()
