"""Linting deployment files on disk: the ``check`` job, shared by the CLI and the demo.

Finds the deployment files under the given paths, loads the SkillMeat home's collections once
(through the cache when it can be opened), and analyses every file with all the rules.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.analysis import analyze_path, context_for
from skillmeat_ls.document import Document
from skillmeat_ls.index import CollectionIndex, open_index
from skillmeat_ls.project_config import ConfigCache
from skillmeat_ls.rules import Analyzer, Diagnostic, RuleSettings, Severity
from skillmeat_ls.workspace import (
    CopyHasher,
    CopyHashes,
    DiskProbe,
    RefusedFile,
    confined_hash,
    find_deployment_files,
)

if TYPE_CHECKING:
    from skillmeat_ls.cache import Cache

log = logging.getLogger(__name__)

@dataclass
class FileReport:
    path: Path
    document: Document | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None  # the file could not be read at all

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity == severity)


@dataclass
class LintResult:
    reports: list[FileReport]
    notes: list[str]

    def count(self, severity: Severity) -> int:
        return sum(r.count(severity) for r in self.reports)

    @property
    def failed(self) -> bool:
        return any(r.error for r in self.reports) or self.count(Severity.ERROR) > 0


def load_index(home: Path, cache_path: Path | None, notes: list[str]) -> CollectionIndex | None:
    """The collections of ``home``, through the cache when possible; None without a home."""
    cache, index = _open(home, cache_path, notes)
    if cache is not None:
        cache.close()
    return index


def _open(
    home: Path, cache_path: Path | None, notes: list[str]
) -> tuple[Cache | None, CollectionIndex | None]:
    """The cache (left open for the caller; None without a path or without a home, which is
    then not created) and the collections of ``home`` read through it (None without a home);
    what is wrong with either goes to ``notes``."""
    from skillmeat_ls.cache import CacheState

    if not (home / "collections").is_dir():
        notes.append(f"no SkillMeat collections under {home}: collection checks skipped")
        return None, None
    cache, index = open_index(home, cache_path)
    notes.extend(f"{p.path}: {p.message}" for p in index.problems)
    if cache is not None and cache.status.state is not CacheState.READY:
        notes.append(f"cache: {cache.status.message}")
    return cache, index


def shown_path(path: Path) -> str:
    """``path`` relative to the current directory when it lies under it, else as given: how
    reports name a file, and what a shard is computed from (the same on every machine)."""
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def in_shard(path: Path, shard: tuple[int, int]) -> bool:
    """Whether ``path`` belongs to shard K of N (1-based), by a hash of :func:`shown_path`."""
    k, n = shard
    digest = hashlib.sha256(shown_path(path).encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def lint_paths(
    paths: Sequence[Path],
    home: Path,
    cache_path: Path | None,
    settings: RuleSettings | None = None,
    *,
    shard: tuple[int, int] | None = None,
    copy_hasher: CopyHasher = confined_hash,
) -> LintResult:
    """Analyse every deployment file under ``paths`` (in shard K of N only, with ``shard``);
    ``copy_hasher`` hashes the deployed copies whose hash the cache does not hold."""
    notes: list[str] = []
    files = list(dict.fromkeys(find_deployment_files(paths)))
    if shard is not None:
        files = [f for f in files if in_shard(f, shard)]
    from skillmeat_ls.deploy.settling import settle

    settled = settle({path.parent for path in files})
    notes.extend(settled.done)
    unsettled = settled.unsettled
    cache, index = _open(home, cache_path, notes) if files else (None, None)
    try:
        disk = DiskProbe(one_shot=True, store=_stored_copies(cache), hasher=copy_hasher)
        disk.preload(path.parent for path in files)
        configs = ConfigCache(stops=(Path.cwd(),))
        reports = [
            FileReport(path, None, error=f"not analysed: {unsettled[path.parent]}")
            if path.parent in unsettled
            else lint_file(path, index, disk, settings, configs)
            for path in files
        ]
        disk.save()
    finally:
        if cache is not None:
            cache.close()
    for config in configs.configs():  # a bad config file is a finding of its own
        if config.problems:
            reports.append(
                FileReport(
                    Path(shown_path(config.path)),
                    config.document,
                    list(config.problems),
                    None if config.document else config.problems[0].message,
                )
            )
    return LintResult(reports, notes)


def _stored_copies(cache: Cache | None) -> CopyHashes | None:
    """The cache's copy hashes: a warm ``check`` re-hashes only the copies that changed."""
    if cache is None:
        return None
    from skillmeat_ls.cache.copies import StoredCopies

    return StoredCopies(cache)


def lint_file(
    path: Path,
    index: CollectionIndex | None,
    disk: DiskProbe,
    settings: RuleSettings | None = None,
    configs: ConfigCache | None = None,
) -> FileReport:
    context = context_for(path.absolute(), index, disk, configs)
    try:
        found = analyze_path(path, Analyzer(settings), context)
    except (OSError, ValueError) as exc:
        # the report names the file itself: give only why
        if isinstance(exc, RefusedFile):
            why = exc.reason
        else:
            why = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
        return FileReport(path, None, error=f"cannot read: {why}")
    return FileReport(path, found.document, found.diagnostics)


def missing_paths(paths: Iterable[Path]) -> list[Path]:
    return [p for p in paths if not p.exists()]
