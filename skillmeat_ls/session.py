"""What the language server knows, without the protocol: settings, the cache, the collections
index, and the latest analysis of every deployment file (open in the editor or only on disk).

The protocol layer (:mod:`skillmeat_ls.server`) calls these methods from one worker thread, so
nothing here needs locks, and nothing here blocks the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat_ls.cache.revisions import HEAD
from skillmeat_ls.document import Document, parse_document
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
from skillmeat_ls.workspace import DiskProbe, find_deployment_files, is_deployment_file, read_text

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


@dataclass
class _FileState:
    analyzer: Analyzer
    document: Document | None = None
    analysis: Analysis | None = None
    serial: int = 0


@dataclass(frozen=True)
class ServerStatus:
    """What ``skillmeat/status`` and ``skillmeat.cacheStatus`` report."""

    state: str  # initializing | ready | degraded | error
    message: str
    revision: str | None
    cache: CacheStatus | None = None

    def notification(self) -> dict[str, Any]:
        return {"state": self.state, "message": self.message, "revision": self.revision}


class Session:
    """Settings, cache, collections and analyses. Call from one thread at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.disk = DiskProbe(freshness=DISK_FRESHNESS_S)
        self.cache: Cache | None = None
        self.index: CollectionIndex | None = None
        self.status = ServerStatus("initializing", "opening the cache", None)
        self._files: dict[Path, _FileState] = {}
        self.configs = ConfigCache()

    # --- start-up and settings ---------------------------------------------------------------

    def start(self, report: Callable[[str, int], None] = lambda _m, _p: None) -> ServerStatus:
        """Open the cache (migrating it to head) and index the collections."""
        from skillmeat_ls.cache import CacheState, initialize_cache

        report(f"migrating the cache {self.settings.cache_path}", 10)
        self.cache = initialize_cache(self.settings.cache_path)
        cache_status = self.cache.status
        report(f"indexing collections in {self.settings.home}", 50)
        self.reload_collections()
        state = {CacheState.READY: "ready", CacheState.DEGRADED: "degraded"}.get(
            cache_status.state, "error"
        )
        message = cache_status.message
        if self.index is not None and self.index.problems:
            message += f"; {len(self.index.problems)} problem(s) in the collections"
        self.status = ServerStatus(state, message, cache_status.revision or HEAD, cache_status)
        report("done", 100)
        return self.status

    def reload_collections(self) -> CollectionIndex:
        from skillmeat_ls.index import load_collections

        engine = self.cache.engine if self.cache is not None else None
        self.index = load_collections(self.settings.home, engine)
        for problem in self.index.problems:
            log.warning("collections: %s", problem)
        self.disk.forget()
        return self.index

    def configure(self, settings: Settings) -> bool:
        """Apply new settings; True when the cache or home changed (call :meth:`start` again)."""
        restart = (settings.home, settings.cache_path) != (
            self.settings.home,
            self.settings.cache_path,
        )
        self.settings = settings
        for state in self._files.values():
            state.analyzer.settings = settings.rules
        if restart:
            self.close()
        return restart

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    # --- analysis ----------------------------------------------------------------------------

    def context(self, path: Path) -> Context:
        config = self.configs.for_file(path)
        return Context(
            file_path=path,
            collections=self.index,
            disk=self.disk,
            project=config.settings if config is not None else None,
        )

    def read_configs(self) -> dict[Path, ProjectConfig]:
        """The config files read so far, by path (those with problems get diagnostics)."""
        return {config.path: config for config in self.configs.configs()}

    def forget_configs(self, folders: Iterable[Path] | None = None) -> None:
        """Read the projects' config files again (one changed); ``folders``: the workspace's."""
        if folders is not None:
            self.configs.stops = tuple(Path(f) for f in folders)
        self.configs.forget()

    def analyze(self, path: Path, text: str, version: int | None) -> Analysis:
        """Analyse ``text`` as the content of ``path``, reusing the previous version's work."""
        state = self._files.get(path)
        if state is None:
            state = self._files[path] = _FileState(Analyzer(self.settings.rules))
        document = parse_document(text, previous=state.document)
        diagnostics = state.analyzer.analyze(document, self.context(path))
        previous = state.analysis
        if previous is None or previous.diagnostics != diagnostics:
            state.serial += 1
        analysis = Analysis(path, version, document, diagnostics, f"{path.name}:{state.serial}")
        state.document, state.analysis = document, analysis
        return analysis

    def analyze_on_disk(self, path: Path) -> Analysis | None:
        """Analyse a file as it is on disk; None when it is gone or unreadable."""
        try:
            text = read_text(path)
        except (OSError, ValueError) as exc:
            log.info("not analysing %s: %s", path, exc)
            self.forget(path)
            return None
        return self.analyze(path, text, None)

    def latest(self, path: Path) -> Analysis | None:
        state = self._files.get(path)
        return state.analysis if state is not None else None

    def forget(self, path: Path) -> None:
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
        for path in [p for p in self._files if p not in keep]:
            del self._files[path]
