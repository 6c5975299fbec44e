"""What the language server knows, without the protocol: settings, the cache, the collections
index, and the latest analysis of every deployment file (open in the editor or only on disk).

One owner: :class:`Session` is changed only on the server's engine thread (the protocol layer,
:mod:`skillmeat_ls.lsp`, calls its methods through ``work``), so nothing here needs locks and
nothing here blocks the event loop. Handlers on the event loop read :attr:`Session.snapshot`, an
immutable :class:`SessionSnapshot` that every change replaces as a whole (one reference
assignment, atomic in Python): they never see a half-applied change.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from skillmeat_ls.analysis import (
    Findings,
    analyze_path,
    analyze_text,
    context_for,
    interrupted,
    refused,
)
from skillmeat_ls.cache.revisions import HEAD
from skillmeat_ls.document import Document
from skillmeat_ls.locations import resolve_cache_path, resolve_home
from skillmeat_ls.project_config import ConfigCache, ProjectConfig
from skillmeat_ls.rules import (
    ALL_CODES,
    SEVERITY_BY_NAME,
    Analyzer,
    Context,
    Diagnostic,
    RuleSettings,
)
from skillmeat_ls.scan import PlacedDiagnostic, place
from skillmeat_ls.verdicts import Verdict, text_digest, text_inputs_digest
from skillmeat_ls.workspace import (
    CopyHasher,
    DiskProbe,
    KnownCopy,
    RefusedFile,
    confined_hash,
    find_deployment_files,
    is_deployment_file,
)

# SQLAlchemy is imported when the cache opens, after `initialize` has been answered.
if TYPE_CHECKING:
    from skillmeat_ls.cache import Cache, CacheStatus
    from skillmeat_ls.index import CollectionIndex

log = logging.getLogger(__name__)

#: How long what the server learned about deployed files stays trusted while the user types.
#: File-change events from the editor end it at once; clients that send none see changes after it.
DISK_FRESHNESS_S = 2.0



@dataclass(frozen=True)
class Settings:
    """The server's settings: ``initializationOptions`` or the ``skillmeat`` configuration section.

    ``{"home": str, "cachePath": str, "rules": {"SM121": false}, "severity": {"SM140": "hint"},
    "trusted": bool}``; every key is optional. Unknown codes and values are ignored (and logged).
    """

    home: Path
    cache_path: Path
    rules: RuleSettings = field(default_factory=RuleSettings)
    trusted: bool = True

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> Settings:
        options = options if isinstance(options, Mapping) else {}
        home_value = options.get("home") if isinstance(options.get("home"), str) else None
        cache_value = options.get("cachePath")
        home = resolve_home(home_value or None)
        cache_path = resolve_cache_path(
            cache=cache_value if isinstance(cache_value, str) and cache_value else None,
            home=home_value or None,
        )
        return cls(home, cache_path, _rule_settings(options), options.get("trusted") is not False)


def _rule_settings(options: Mapping[str, Any]) -> RuleSettings:
    switches = options.get("rules")
    disabled = frozenset(
        code
        for code, on in (switches.items() if isinstance(switches, Mapping) else ())
        if code in ALL_CODES and on is False
    )
    overrides = options.get("severity")
    severity = {
        code: SEVERITY_BY_NAME[name.lower()]
        for code, name in (overrides.items() if isinstance(overrides, Mapping) else ())
        if code in ALL_CODES and isinstance(name, str) and name.lower() in SEVERITY_BY_NAME
    }
    return RuleSettings(disabled=disabled, severity=severity)


@dataclass(frozen=True)
class Analysis:
    """The diagnostics of one version of one file."""

    path: Path
    version: int | None
    document: Document
    diagnostics: list[Diagnostic]
    result_id: str
    #: What the rules reading only the text found (None: the file was not analysed).
    text_findings: list[Diagnostic] | None = None


@dataclass
class _FileAnalyses:
    """One file's analyzer (its per-chunk memo) and its latest parse and analysis."""

    analyzer: Analyzer
    document: Document | None = None
    analysis: Analysis | None = None


@dataclass(frozen=True)
class ServerStatus:
    """What ``skillmeat/status`` and ``skillmeat.cacheStatus`` report."""

    state: str  # initializing | ready | degraded | error
    message: str
    revision: str | None
    cache: CacheStatus | None = None

    def notification(self) -> dict[str, Any]:
        return {"state": self.state, "message": self.message, "revision": self.revision}


@dataclass(frozen=True)
class SessionSnapshot:
    """What handlers on the event loop may read, as of the last change on the engine thread."""

    settings: Settings
    status: ServerStatus
    index: CollectionIndex | None
    #: Bumped by every re-index of the collections.
    index_generation: int
    #: Bumped whenever what the session learned about deployed copies was dropped.
    disk_generation: int
    #: Profile roots whose interrupted request could not be settled, and why (see
    #: :meth:`Session.recover`).
    interrupted: Mapping[Path, str] = field(default_factory=dict)


class Session:
    """Settings, cache, collections and analyses. Changed on the engine thread only."""

    def __init__(self, settings: Settings, *, copy_hasher: CopyHasher = confined_hash) -> None:
        """``copy_hasher`` hashes the deployed copies the session cannot reuse a hash for."""
        self._settings = settings
        self._status = ServerStatus("initializing", "opening the cache", None)
        self._index: CollectionIndex | None = None
        self._index_generation = 0
        self.disk = DiskProbe(freshness=DISK_FRESHNESS_S, hasher=copy_hasher)
        self.cache: Cache | None = None
        self._files: dict[Path, _FileAnalyses] = {}
        # Result ids (of pulled diagnostics) are never reused, whichever the file, however often
        # it is forgotten: a client holding an old one is never told "unchanged" by mistake. The
        # prefix tells this process's from a previous server's.
        self._result_ids = map(f"{os.urandom(4).hex()}.{{}}".format, itertools.count(1))
        #: Profile roots whose interrupted request could not be settled, and why.
        self.interrupted: dict[Path, str] = {}
        self.configs = ConfigCache()
        self._verdicts: dict[str, str] = {}  # made by the scan's workers, not stored yet
        #: Each file's stored text verdict, as (text digest, inputs digest), once read or written.
        self._text_verdicts: dict[Path, tuple[str, str]] = {}
        self._unsaved_text_verdicts: dict[str, str] = {}  # path -> JSON, until a cache is open
        self._owner: int | None = None  # the thread that changes the session (see _claim)
        self.snapshot = self._snapshot()

    def _claim(self) -> None:
        """Keep the one-owner rule: the first thread to change the session (the server's engine
        thread) is the only one that may; a change from any other is a bug, raised at once."""
        current = threading.get_ident()
        if self._owner is None:
            self._owner = current
        elif self._owner != current:
            raise RuntimeError("the session is changed on the engine thread only")

    def _snapshot(self) -> SessionSnapshot:
        return SessionSnapshot(
            self._settings,
            self._status,
            self._index,
            self._index_generation,
            self.disk.generation,
            MappingProxyType(dict(self.interrupted)),
        )

    def _publish(self) -> None:
        self._claim()
        self.snapshot = self._snapshot()

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def index(self) -> CollectionIndex | None:
        return self._index

    # --- start-up and settings ---------------------------------------------------------------

    def start(self, report: Callable[[str, int], None] = lambda _m, _p: None) -> ServerStatus:
        """Open the cache (migrating it to head) and index the collections. Never raises: a
        failure becomes the ``error`` status, and the server keeps serving what needs no cache."""
        from skillmeat_ls.cache import CacheState
        from skillmeat_ls.index import load_collections

        report(f"migrating the cache {self._settings.cache_path}", 10)
        try:
            cache = self._open_cache()
            report(f"indexing collections in {self._settings.home}", 50)
            index = load_collections(self._settings.home, cache)
        except Exception as exc:
            log.exception("start-up failed")
            self._status = ServerStatus("error", f"start-up failed: {exc}", None)
            self._publish()
            return self._status
        self._set_index(index)
        cache_status = cache.status
        state = {CacheState.READY: "ready", CacheState.DEGRADED: "degraded"}.get(
            cache_status.state, "error"
        )
        message = cache_status.message
        if index.problems:
            message += f"; {len(index.problems)} problem(s) in the collections"
        self._status = ServerStatus(state, message, cache_status.revision or HEAD, cache_status)
        self._publish()
        report("done", 100)
        return self._status

    def _open_cache(self) -> Cache:
        """The cache, opened (and migrated to head) on first use; the disk probe keeps the copy
        hashes in it from then on."""
        if self.cache is None:
            from skillmeat_ls.cache import initialize_cache
            from skillmeat_ls.cache.copies import StoredCopies

            self.cache = initialize_cache(self._settings.cache_path)
            self.disk.use_store(StoredCopies(self.cache))
        return self.cache

    def open_cache_if_current(self) -> None:
        """Open the cache now if that is quick (it is at head: one read-only query), so the copy
        hashes a previous run stored serve the very first analysis; one that must be created or
        migrated first is left to :meth:`start`, not to delay the first diagnostics."""
        from skillmeat_ls.cache.probe import Kind, probe

        self._claim()
        if self.cache is None and probe(self._settings.cache_path).kind is Kind.AT_HEAD:
            self._open_cache()

    def reload_collections(self) -> CollectionIndex:
        from skillmeat_ls.index import load_collections

        index = load_collections(self._settings.home, self.cache)
        self._set_index(index)
        self._publish()
        return index

    def _set_index(self, index: CollectionIndex) -> None:
        for problem in index.problems:
            log.warning("collections: %s", problem)
        self._index = index
        self._index_generation += 1
        self.disk.forget()

    def configure(self, settings: Settings) -> bool:
        """Apply new settings; True when the cache or home changed (call :meth:`start` again)."""
        restart = (settings.home, settings.cache_path) != (
            self._settings.home,
            self._settings.cache_path,
        )
        self._settings = settings
        for analyses in self._files.values():
            analyses.analyzer.settings = settings.rules
        if restart:
            self.close()
        self._publish()
        return restart

    def trust_file_events(self) -> None:
        """The editor reports changes on disk: what was learned stays valid until it does."""
        self._claim()
        self.disk.freshness = None

    def forget_disk(self, project: Path | None = None) -> None:
        """Drop what was learned about deployed copies (of ``project``, or everywhere)."""
        self.disk.forget(project)
        self._publish()

    def save_learned(self) -> None:
        """Store what was learned since the last save: the copy hashes computed (and drop those
        invalidated), the verdicts the scan's workers made, the text verdicts kept."""
        self._claim()
        self.disk.save()
        if self.cache is None:
            return
        from skillmeat_ls.cache.verdicts import store_text_verdicts, store_verdicts

        if self._verdicts:
            store_verdicts(self.cache, self._verdicts)
            self._verdicts = {}
        if self._unsaved_text_verdicts:
            store_text_verdicts(self.cache, self._unsaved_text_verdicts)
            self._unsaved_text_verdicts = {}

    def forget_gone(self, folders: Iterable[Path], files: Iterable[Path]) -> None:
        """Forget what the cache keeps of the deployment files below ``folders`` that a scan of
        them did not find (``files`` is what it found), and of the copies in their profile
        roots: a project deleted, moved or renamed leaves no rows behind. Only reads when
        nothing is gone."""
        self._claim()
        if self.cache is None:
            return
        from skillmeat_ls.cache.copies import StoredCopies
        from skillmeat_ls.cache.verdicts import forget_verdicts, verdict_paths_under

        found = {str(path) for path in files}
        roots = {os.path.realpath(path.parent) for path in files}
        stored = StoredCopies(self.cache)
        gone_files: set[str] = set()
        for folder in folders:
            gone_files |= verdict_paths_under(self.cache, str(folder)) - found
            self.disk.drop(stored.roots_under(os.path.realpath(folder)) - roots)
        for path in gone_files:
            self._text_verdicts.pop(Path(path), None)
        forget_verdicts(self.cache, gone_files)

    def copies_of(self, roots: Iterable[Path]) -> dict[str, KnownCopy]:
        """What is known about the copies in these profile roots (for a scan worker)."""
        self._claim()
        return self.disk.copies_of(roots)

    def verdicts_of(self, paths: Iterable[Path]) -> dict[str, str]:
        """The stored verdicts (JSON) of these files, for a scan worker."""
        self._claim()
        if self.cache is None:
            return {}
        from skillmeat_ls.cache.verdicts import stored_verdicts

        return stored_verdicts(self.cache, (str(path) for path in paths))

    def learn_from_scan(
        self, learned: Mapping[str, KnownCopy], verdicts: Mapping[str, str]
    ) -> None:
        """Take the copy hashes and the verdicts a scan worker made (stored at the next
        :meth:`save_learned`, or at :meth:`close`)."""
        self._claim()
        self.disk.learn(learned)
        self._verdicts.update(verdicts)

    def close(self) -> None:
        self._claim()
        if self.cache is not None:
            self.save_learned()
            self.disk.use_store(None)
            self.cache.close()
            self.cache = None

    # --- analysis ----------------------------------------------------------------------------

    def context(self, path: Path) -> Context:
        return context_for(path, self._index, self.disk, self.configs)

    def read_configs(self) -> dict[Path, ProjectConfig]:
        """The config files read so far, by path (those with problems get diagnostics)."""
        return {config.path: config for config in self.configs.configs()}

    def read_configs_of(self, files: Iterable[Path]) -> dict[Path, ProjectConfig]:
        """Read the config file of each deployment file's project; all config files read so far."""
        self._claim()
        for path in files:
            self.configs.for_file(path)
        return self.read_configs()

    def forget_configs(self, folders: Iterable[Path] | None = None) -> None:
        """Read the projects' config files again (one changed); ``folders``: the workspace's."""
        self._claim()
        if folders is not None:
            self.configs.stops = tuple(Path(f) for f in folders)
        self.configs.forget()

    def _analyses(self, path: Path) -> _FileAnalyses:
        self._claim()
        analyses = self._files.get(path)
        if analyses is None:
            analyses = self._files[path] = _FileAnalyses(Analyzer(self._settings.rules))
        return analyses

    def _record(
        self, path: Path, version: int | None, analyses: _FileAnalyses, found: Findings
    ) -> Analysis:
        previous = analyses.analysis
        if previous is None or previous.diagnostics != found.diagnostics:
            result_id = next(self._result_ids)
        else:
            result_id = previous.result_id
        analysis = Analysis(
            path, version, found.document, found.diagnostics, result_id, found.text_findings
        )
        analyses.document, analyses.analysis = found.document, analysis
        return analysis

    def first_look(
        self, path: Path, text: str, encoding: str
    ) -> tuple[PlacedDiagnostic, ...] | None:
        """What the text-only rules found when ``text`` was last kept for ``path``
        (:meth:`keep_text_findings`) with today's rule settings: certainly part of its
        diagnostics, shown when a file is opened, before it is parsed. None when there is no
        such verdict (another text, other settings, nothing stored, no cache)."""
        self._claim()
        if self.cache is None:
            return None
        from skillmeat_ls.cache.verdicts import stored_text_verdict

        content = stored_text_verdict(self.cache, str(path))
        verdict = Verdict.from_json(content) if content is not None else None
        if verdict is None:
            return None
        self._text_verdicts[path] = (verdict.text, verdict.inputs)
        if not verdict.holds(text, self._text_inputs(path, encoding), self.disk):
            return None
        return verdict.diagnostics

    def keep_text_findings(self, path: Path, encoding: str) -> None:
        """Store what the text-only rules found in ``path``'s latest analysis (the text it was
        opened or saved with), for :meth:`first_look` to show when that text is opened again;
        written at the next :meth:`save_learned` (once a cache is open), and only when it is
        not what is stored already."""
        self._claim()
        analyses = self._files.get(path)
        analysis = analyses.analysis if analyses is not None else None
        if analysis is None or analysis.text_findings is None:
            return
        key = (text_digest(analysis.document.text), self._text_inputs(path, encoding))
        if self._text_verdicts.get(path) == key:
            return
        placed = place(analysis.document, analysis.text_findings, encoding)
        content = Verdict(*key, (), placed).to_json()  # the text rules ask the disk nothing
        if content is not None:
            self._text_verdicts[path] = key
            self._unsaved_text_verdicts[str(path)] = content

    def _text_inputs(self, path: Path, encoding: str) -> str:
        return text_inputs_digest(self._settings.rules, self.context(path).project, encoding)

    def recover(self, roots: Iterable[Path]) -> list[str]:
        """Settle what interrupted requests left in these profile roots (the recovery rule of
        :mod:`skillmeat_ls.deploy.recovery`); a message for each that was done or that failed.
        A root whose interrupted request cannot be settled (a read-only checkout) is remembered:
        its files are not analysed, one SM100 says why, until a later call settles it."""
        from skillmeat_ls.deploy.settling import settle

        self._claim()
        wanted = set(roots)
        settled = settle(wanted)
        for root in wanted:
            self.interrupted.pop(root, None)
        self.interrupted.update(settled.unsettled)
        self._publish()
        return [*settled.done, *settled.unsettled.values()]

    def analyze(self, path: Path, text: str, version: int | None) -> Analysis:
        """Analyse ``text`` as the content of ``path``, reusing the previous version's work."""
        analyses = self._analyses(path)
        found = self._unsettled(path) or analyze_text(
            path, text, analyses.analyzer, self.context(path), analyses.document
        )
        return self._record(path, version, analyses, found)

    def _unsettled(self, path: Path) -> Findings | None:
        why = self.interrupted.get(path.parent)
        return interrupted(why) if why is not None else None

    def analyze_on_disk(self, path: Path) -> Analysis | None:
        """Analyse a file as it is on disk (one that is refused gets an SM100 saying why); None
        when it is gone or unreadable."""
        analyses = self._analyses(path)
        try:
            found = self._unsettled(path) or analyze_path(
                path, analyses.analyzer, self.context(path)
            )
        except RefusedFile as exc:
            found = refused(exc)
        except (OSError, ValueError) as exc:
            log.info("not analysing %s: %s", path, exc)
            self.forget(path)
            return None
        return self._record(path, None, analyses, found)

    def latest(self, path: Path) -> Analysis | None:
        analyses = self._files.get(path)
        return analyses.analysis if analyses is not None else None

    def forget(self, path: Path) -> None:
        self._claim()
        self._files.pop(path, None)

    def scan(self, folders: Iterable[Path]) -> list[Path]:
        """Every deployment file under the workspace folders."""
        return [
            p
            for p in find_deployment_files(f for f in folders if f.is_dir())
            if is_deployment_file(p)
        ]

    def analyze_files(self, paths: Iterable[Path]) -> list[Analysis]:
        """Analyse files as they are on disk (those that can be read)."""
        return [a for a in (self.analyze_on_disk(path) for path in paths) if a is not None]

    def forget_except(self, keep: set[Path]) -> None:
        """Drop the analyses of files that are neither in the workspace nor open."""
        self._claim()
        for path in [p for p in self._files if p not in keep]:
            del self._files[path]
