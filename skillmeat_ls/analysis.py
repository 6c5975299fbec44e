"""Analysing one deployment file: the one way from a path (or a text) to its diagnostics.

The language server (:mod:`skillmeat_ls.session`, which keeps the previous parse of an open file
for the next keystroke), the workspace scan's worker processes (:mod:`skillmeat_ls.scan`) and the
``check`` job (:mod:`skillmeat_ls.lint`) all analyse through here, so they cannot disagree on how a
file is read, which project config applies, or which context the rules see.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.document import Document, parse_document
from skillmeat_ls.project_config import ConfigCache
from skillmeat_ls.rules import Analyzer, Context, Diagnostic, finding
from skillmeat_ls.workspace import DiskProbe, RefusedFile, read_text

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionIndex


@dataclass(frozen=True)
class Findings:
    """One version of one file, parsed, and what the rules found in it: all of it, and what
    the rules reading only the text found (None when the file was not analysed)."""

    document: Document
    diagnostics: list[Diagnostic]
    text_findings: list[Diagnostic] | None = None


def context_for(
    path: Path, index: CollectionIndex | None, disk: DiskProbe, configs: ConfigCache | None
) -> Context:
    """What the rules see for the deployment file at ``path``: the collections, the disk, and the
    rule settings of its project's config file (if it has one; none looked for without
    ``configs``)."""
    config = configs.for_file(path) if configs is not None else None
    return Context(
        file_path=path,
        collections=index,
        disk=disk,
        project=config.settings if config is not None else None,
    )


def analyze_text(
    path: Path,
    text: str,
    analyzer: Analyzer,
    context: Context,
    previous: Document | None = None,
) -> Findings:
    """Analyse ``text`` as the content of ``path`` (re-using ``previous``'s unchanged parts)."""
    document = parse_document(text, previous=previous)
    return Findings(document, analyzer.analyze(document, context), analyzer.text_findings)


def analyze_path(path: Path, analyzer: Analyzer, context: Context) -> Findings:
    """Analyse the file at ``path`` as it is on disk. Raises ``OSError``/``ValueError`` (naming
    the file) when it cannot be read as a deployment file: gone, not a regular file, too big."""
    return analyze_text(path, read_text(path), analyzer, context)


def unanalysed(why: str) -> Findings:
    """What the editor shows for a deployment file that is not analysed: one SM100 at its start
    saying why, so that the reason is seen, not silent."""
    return Findings(parse_document(""), [finding("SM100", why, (0, 0))])


def refused(exc: RefusedFile) -> Findings:
    """A file :func:`~skillmeat_ls.workspace.read_text` refused (a FIFO, a device, an
    over-large file named like a deployment file, say in a cloned repository)."""
    return unanalysed(f"not read: {exc.reason}")


def interrupted(why: str) -> Findings:
    """A file in a profile root where an interrupted deploy could not be completed or undone
    (a read-only checkout, say): its records are a half state, not worth judging."""
    return unanalysed(f"not analysed: {why}")
