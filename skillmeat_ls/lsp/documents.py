"""The open documents' text: pygls's ``TextDocument``, with an incremental change applied by offset.

pygls applies an incremental change by splitting the whole text into lines and writing every line
out again, in Python: tens of milliseconds a keystroke in a 10,000-record (100,000-line)
deployment file. :class:`IndexedTextDocument` finds where each line starts once per version of
the text (``str.splitlines``, as pygls splits, and a running sum: both in C), builds the new text
from one slice on each side of the change, and, when the change stays within a line (a
keystroke), moves the starts of the lines after it instead of finding them again. The positions
mean what they mean to pygls: they are converted from the client's units by its own position
codec, on the very lines it would look at, and the edge cases (a range past the end, a reversed
range) come out as pygls makes them (``tests/test_documents.py`` checks the texts against pygls
on random series of edits).

pygls builds the workspace in its own ``initialize``, before ours runs, and names the class of
its documents in ``Workspace._create_text_document``; :func:`index_changes` gives it
:class:`IndexedWorkspace`'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import accumulate
from typing import overload

from lsprotocol import types as lsp
from pygls.workspace import TextDocument, Workspace

#: What ``str.splitlines`` splits at.
_LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


class _Lines(Sequence[str]):
    """The lines of ``source`` (as ``splitlines(keepends=True)`` gives them), sliced on demand."""

    def __init__(self, source: str, starts: list[int]) -> None:
        self._source = source
        self._starts = starts  # each line's start, then len(source)

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._source[self._starts[index] : self._starts[index + 1]]


class IndexedTextDocument(TextDocument):
    """A ``TextDocument`` whose incremental changes cost one pass of C code over the text."""

    _indexed: tuple[str, list[int]] | None = None  # a text and where its lines start

    def _line_starts(self, source: str) -> list[int]:
        if self._indexed is None or self._indexed[0] is not source:
            lengths = map(len, source.splitlines(keepends=True))
            self._indexed = (source, list(accumulate(lengths, initial=0)))
        return self._indexed[1]

    def _apply_incremental_change(self, change: lsp.TextDocumentContentChangePartial) -> None:
        source = self.source
        starts = self._line_starts(source)
        lines = _Lines(source, starts)
        span = self._position_codec.range_from_client_units(lines, change.range)
        first, last = span.start.line, span.end.line
        if first == len(lines):  # an empty document
            self._source = source + change.text
            return
        if last < first:  # pygls writes the lines as they were, without the new text
            return

        # The codec keeps a column within its line, but for a position past the last line,
        # which it puts past the end of the text: slicing there means the end, as for pygls.
        start = starts[first] + span.start.character
        end = starts[last] + span.end.character
        text = change.text
        self._source = new = source[:start] + text + source[end:]
        if (
            first == last
            and start <= end < starts[first + 1]  # inside the line, before the next
            and not _LINE_BREAKS.search(text)
            and not _LINE_BREAKS.search(source, start, end)
            and source[start - 1 : start] != "\r"  # not between the two halves of a CRLF
        ):  # a keystroke within a line: the lines after it only move
            delta = len(new) - len(source)
            after = first + 1
            self._indexed = (new, starts[:after] + [at + delta for at in starts[after:]])


class IndexedWorkspace(Workspace):
    """pygls's ``Workspace``, holding :class:`IndexedTextDocument`\\ s."""

    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return IndexedTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self.position_codec,
        )


def index_changes(workspace: Workspace) -> None:
    """Make the workspace pygls built open its documents as :class:`IndexedTextDocument`\\ s."""
    workspace.__class__ = IndexedWorkspace
