"""Conversions between the engine's plain data and lsprotocol types: URIs, positions and ranges
(in the negotiated position encoding), diagnostics, and workspace edits.

Nothing here has state: every function takes what it converts and the encoding it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.uris import from_fs_path, to_fs_path

from skillmeat_ls.document import Document
from skillmeat_ls.rules import Diagnostic
from skillmeat_ls.scan import PlacedDiagnostic, place

#: The ``source`` of every diagnostic the server publishes.
SOURCE = "skillmeat"


def uri_path(uri: str) -> Path | None:
    """The file-system path of a ``file:`` URI; None for any other scheme."""
    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Path(path) if path else None


def path_uri(path: Path) -> str:
    return from_fs_path(str(path)) or ""


def zero_range() -> lsp.Range:
    return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))


def to_range(doc: Document, span: tuple[int, int], encoding: str) -> lsp.Range:
    (sl, sc), (el, ec) = doc.position(span[0], encoding), doc.position(span[1], encoding)
    return lsp.Range(lsp.Position(sl, sc), lsp.Position(el, ec))


def to_offset(doc: Document, position: lsp.Position, encoding: str) -> int:
    return doc.offset_at(position.line, position.character, encoding)


def _range(start: tuple[int, int], end: tuple[int, int]) -> lsp.Range:
    return lsp.Range(lsp.Position(*start), lsp.Position(*end))


def to_diagnostics(
    doc: Document, path: Path, diagnostics: Sequence[Diagnostic], encoding: str
) -> list[lsp.Diagnostic]:
    return placed_to_lsp(path, place(doc, diagnostics, encoding))


def placed_to_lsp(path: Path, placed: Iterable[PlacedDiagnostic]) -> list[lsp.Diagnostic]:
    """Diagnostics whose positions are already computed (by a worker process, or here)."""
    uri = path_uri(path)
    return [_lsp_diagnostic(uri, item) for item in placed]


def _lsp_diagnostic(uri: str, item: PlacedDiagnostic) -> lsp.Diagnostic:
    diagnostic = item.diagnostic
    related = []
    for info, span in zip(diagnostic.related, item.related, strict=True):
        if info.path is not None or span is None:
            target = lsp.Location(path_uri(info.path) if info.path else uri, zero_range())
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


def unplaced_diagnostic(code: str, message: str) -> lsp.Diagnostic:
    """An error about a whole file that could not be parsed into a document (at 0:0)."""
    return lsp.Diagnostic(zero_range(), message, lsp.DiagnosticSeverity.Error, code=code,
                          source=SOURCE)


def replace_all_edit(uri: str, version: int | None, line_count: int, new_text: str) -> lsp.WorkspaceEdit:
    """An edit replacing a whole open document's text (its buffer and undo stay the editor's)."""
    end = lsp.Position(line_count, 0)
    return lsp.WorkspaceEdit(
        document_changes=[
            lsp.TextDocumentEdit(
                text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=[lsp.TextEdit(lsp.Range(lsp.Position(0, 0), end), new_text)],
            )
        ]
    )


def append_edit(
    path: Path, text: str, current: str, version: int | None, *, create: bool
) -> lsp.WorkspaceEdit:
    """An edit appending ``text`` to ``path`` (created first when ``create``; ``current`` its
    text now, from the open buffer or the disk), through the editor so its buffer and undo stay
    right."""
    uri = path_uri(path)
    if create:
        end = lsp.Position(0, 0)
    else:
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
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=[lsp.TextEdit(lsp.Range(end, end), text)],
        )
    )
    return lsp.WorkspaceEdit(document_changes=changes)
