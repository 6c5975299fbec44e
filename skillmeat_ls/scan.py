"""Analysing many closed files at once, on every core: the workspace scan after start-up.

The server analyses open documents itself (it keeps their parse for the next keystroke); the
hundreds of deployment files a workspace may hold on disk are analysed here, in worker
processes that each get the collections index once and return diagnostics with their positions
already computed, so the server only has to send them. A worker also gets the copy hashes the
server knows for its files' profile roots and each file's last verdict
(:mod:`skillmeat_ls.verdicts`): a file whose verdict still holds is not parsed again. It returns
the hashes it had to compute and the new verdicts, for the server to store: workers never open
the cache.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.analysis import Findings, analyze_text, context_for, interrupted, refused
from skillmeat_ls.document import Document
from skillmeat_ls.project_config import ConfigCache
from skillmeat_ls.rules import Analyzer, Diagnostic, RuleSettings
from skillmeat_ls.verdicts import Verdict, inputs_digest, read_verdicts, text_digest
from skillmeat_ls.workspace import DiskProbe, HandedCopies, KnownCopy, RefusedFile, read_text

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionIndex

Position = tuple[int, int]

#: Below this many files, starting worker processes costs more than it saves.
MIN_FILES_FOR_WORKERS = 48


@dataclass(frozen=True)
class PlacedDiagnostic:
    diagnostic: Diagnostic
    start: Position
    end: Position
    related: tuple[tuple[Position, Position] | None, ...]


@dataclass(frozen=True)
class FileDiagnostics:
    path: Path
    diagnostics: tuple[PlacedDiagnostic, ...]


@dataclass(frozen=True)
class BatchResult:
    """A worker's answer: each file's diagnostics, the copy hashes it computed, and the new
    verdicts (path -> JSON) of the files it analysed."""

    files: list[FileDiagnostics]
    learned: dict[str, KnownCopy]
    verdicts: dict[str, str]


def place(
    document: Document, diagnostics: Sequence[Diagnostic], encoding: str
) -> tuple[PlacedDiagnostic, ...]:
    """Diagnostics with their spans turned into (line, column) in ``encoding``."""

    def span(value: tuple[int, int]) -> tuple[Position, Position]:
        return (document.position(value[0], encoding), document.position(value[1], encoding))

    return tuple(
        PlacedDiagnostic(
            d,
            *span(d.span),
            tuple(span(r.span) if r.span and not r.path else None for r in d.related),
        )
        for d in diagnostics
    )


_settings: tuple[RuleSettings, str] | None = None

#: How often a worker checks that the server that started it is still alive.
PARENT_POLL_S = 0.5


def _start_worker(rules: RuleSettings, encoding: str, server: int) -> None:
    global _settings
    _settings = (rules, encoding)
    _exit_with_parent(server)


def _exit_with_parent(parent: int) -> None:
    """End this worker as soon as the server ``parent`` that started it is gone, however it died:
    a ``kill -9`` of the server runs none of its clean-up, and an orphaned worker (and the resource
    tracker that waits for it) would live forever. When the parent dies the worker is re-parented,
    so its parent id changes. ``parent`` comes from the server itself: a worker that starts after
    the server died already has another parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, name="skillmeat-parent-watch", daemon=True).start()


def warm_up() -> None:
    """A task that does nothing: submitting it makes the pool start a worker (and import)."""


def analyze_batch(
    index: CollectionIndex | None,
    paths: Sequence[Path],
    stops: tuple[Path, ...] = (),
    unsettled: Mapping[Path, str] | None = None,
    copies: Mapping[str, KnownCopy] | None = None,
    verdicts: Mapping[str, str] | None = None,
) -> BatchResult:
    """In a worker: analyse each file as it is on disk (unreadable files are left out), with
    its project's config file (searched up to the workspace folders ``stops``); a file in a root
    of ``unsettled`` (an interrupted request that could not be settled) is not analysed. The
    copy hashes of ``copies`` are reused while their fingerprints hold (without it, none are
    fingerprinted nor returned), and so are the ``verdicts`` (path -> JSON) that still hold
    (without it, none are made either)."""
    assert _settings is not None
    rules, encoding = _settings
    handed = HandedCopies(copies) if copies is not None else None
    disk = DiskProbe(one_shot=True, store=handed)
    disk.preload(path.parent for path in paths)
    configs = ConfigCache(stops=stops)
    previous = read_verdicts(verdicts or {}, paths)
    results, new_verdicts = [], {}
    for path in paths:
        why = (unsettled or {}).get(path.parent)
        if why is not None:
            results.append(_placed(path, interrupted(why), encoding))
            continue
        try:
            text = read_text(path)
        except RefusedFile as exc:
            results.append(_placed(path, refused(exc), encoding))
            continue
        except (OSError, ValueError):
            continue
        context = context_for(path, index, disk, configs)
        inputs = inputs_digest(rules, context.project, encoding, index)
        verdict = previous.get(path)
        if verdict is not None and verdict.holds(text, inputs, disk):
            results.append(FileDiagnostics(path, verdict.diagnostics))
            continue
        if verdicts is None:
            results.append(_placed(path, analyze_text(path, text, Analyzer(rules), context), encoding))
            continue
        disk.start_asking()
        try:
            found = analyze_text(path, text, Analyzer(rules), context)
        finally:
            asked = disk.stop_asking()
        placed = _placed(path, found, encoding)
        results.append(placed)
        content = Verdict(text_digest(text), inputs, asked, placed.diagnostics).to_json()
        if content is not None:
            new_verdicts[str(path)] = content
    disk.save()
    return BatchResult(results, handed.learned if handed is not None else {}, new_verdicts)


def _placed(path: Path, found: Findings, encoding: str) -> FileDiagnostics:
    return FileDiagnostics(path, place(found.document, found.diagnostics, encoding))


def worker_pool(rules: RuleSettings, encoding: str) -> ProcessPoolExecutor:
    """Worker processes (one per core) with the rule settings; started at once, so that their
    start-up overlaps the server's own (opening the cache, indexing the collections)."""
    workers = max(1, min(os.cpu_count() or 1, 8))
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),  # the server has threads: never fork it
        initializer=_start_worker,
        initargs=(rules, encoding, os.getpid()),
    )
    for _ in range(workers):
        pool.submit(warm_up)
    return pool
