"""The deployment-file document model: text in, records with exact source spans out.

Parsing never raises. :func:`parse_document` returns a :class:`Document` whose ``problems`` hold
TOML syntax errors at the parser's position; everything that did parse is still available. Text
that is not UTF-8 (a lone surrogate: :func:`skillmeat_ls.workspace.read_text` turns each bad byte
into one) is not TOML: its document is not parsed at all (``readable`` is false) and holds one
problem, at the first bad byte, and nothing from the text, so no lone surrogate can travel on
into a message, a hover or a JSON-RPC payload.

Incremental by design. The text is split into chunks at top-level table headers and each chunk is
parsed on its own (:mod:`skillmeat_ls.chunks`); after a one-line edit only the edited chunk is
parsed again, whatever the file's size, and the chunks before and after it are reused as they
are. Chunks that might break TOML's table rules together are settled by parsing the whole file
with ``tomllib``, so the syntax verdict is always the whole-file verdict (property tests hold
the two together, and the incremental parse to a fresh one). Both read through
:func:`skillmeat_ls.tomlread.loads`, so the verdict does not depend on the call stack either.
This module places the chunks in the text and reads records out of them.

Offsets are code-point offsets into the text. :meth:`Document.position` turns one into the
(line, column) an editor wants, the column in UTF-16 code units by default.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from skillmeat_ls.chunks import (
    HEADER_CANDIDATE,
    RECORD_ARRAYS,
    Chunk,
    Entry,
    Span,
    SyntaxProblem,
    broken_header,
    parse_chunk,
    parse_chunks,
    split_chunks,
    syntax_problem,
    tables_conflict,
)
from skillmeat_ls.schema import (
    DEFAULT_COLLECTION,
    LEGACY_TO_UNIFIED,
    collection_from_path,
    conventional_path,
)
from skillmeat_ls.tomlread import RefusedText, loads, not_utf8, tomllib

#: Position encodings, as LSP names them: what a column counts.
UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


# --- records --------------------------------------------------------------------------------------


#: A record's field as the rules see it: an :class:`Entry` with spans placed in the document.
Field = Entry


class PlacedChunk:
    """A chunk at its place in one version of the document."""

    __slots__ = ("chunk", "line", "offset")

    def __init__(self, chunk: Chunk, offset: int, line: int) -> None:
        self.chunk = chunk
        self.offset = offset
        self.line = line  # line of the chunk's first character

    def field(self, key: str) -> Field | None:
        entry = self.chunk.entries.get(key)
        if entry is None or not self.offset:
            return entry
        return entry.shifted(self.offset)

    @property
    def header_span(self) -> Span:
        start, end = self.chunk.header_span
        return (self.offset + start, self.offset + end)


class Record(PlacedChunk):
    """One deployment record: a ``[[deployed]]`` (unified) or ``[[artifacts]]`` (legacy) table.

    Fields are read by their unified meaning (``artifact_name`` is ``name`` in a legacy record).
    """

    __slots__ = ("index", "schema")

    def __init__(self, schema: str, chunk: Chunk, offset: int, line: int, index: int) -> None:
        super().__init__(chunk, offset, line)
        self.schema = schema  # "unified" or "legacy"
        self.index = index  # position among the document's records

    def meaning(self, unified_key: str) -> str:
        """The key that holds ``unified_key``'s meaning in this record's schema."""
        if self.schema == "unified":
            return unified_key
        return _UNIFIED_TO_LEGACY.get(unified_key, unified_key)

    def raw(self, key: str) -> Any:
        data = self.chunk.data
        return data.get(key) if data is not None else None

    def text(self, unified_key: str) -> str | None:
        """A string field by its unified meaning; None when absent or not a string.

        The rules' most frequent call, so :meth:`meaning` and :meth:`raw` are inlined here."""
        data = self.chunk.data
        if data is None:
            return None
        key = unified_key
        if self.schema != "unified":
            key = _UNIFIED_TO_LEGACY.get(unified_key, unified_key)
        value = data.get(key)
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        return self.text("artifact_name")

    @property
    def type(self) -> str | None:
        return self.text("artifact_type")

    @property
    def content_hash(self) -> str | None:
        value = self.text("content_hash")
        if self.schema == "unified" and not value:
            value = self.text("collection_sha")  # SkillMeat's read fallback
        return value

    def anchor(self, unified_key: str) -> Span:
        """The span to report a problem with ``unified_key`` on: its value, else the header."""
        found = self.field(self.meaning(unified_key))
        return found.value_span if found is not None else self.header_span


_UNIFIED_TO_LEGACY = {unified: legacy for legacy, unified in LEGACY_TO_UNIFIED.items()}
#: A table header's path -> the schema of the records it holds (``[[deployed]]``: unified).
_RECORD_SCHEMA: dict[tuple[str, ...], str] = {
    (key,): schema for key, schema in RECORD_ARRAYS.items()
}


@dataclass(eq=False)
class Document:
    """A parsed deployment file: its chunks placed in the text, its records, its syntax problems.

    ``readable`` is false for text that is not UTF-8: then nothing was parsed, ``placed`` holds
    one empty root chunk over the whole text (for positions) and ``problems`` the one problem."""

    text: str
    placed: list[PlacedChunk]
    records: list[Record]
    problems: list[SyntaxProblem]
    legacy_header: PlacedChunk | None
    readable: bool = True
    _offsets: list[int] | None = field(default=None, repr=False)  # for position look-ups
    _lines: list[int] | None = field(default=None, repr=False)

    @property
    def root(self) -> PlacedChunk | None:
        first = self.placed[0] if self.placed else None
        return first if first is not None and first.chunk.kind == "root" else None

    def tables(self) -> Iterator[PlacedChunk]:
        return (p for p in self.placed if p.chunk.kind != "root")

    def unified_records(self) -> list[Record]:
        return [r for r in self.records if r.schema == "unified"]

    def legacy_records(self) -> list[Record]:
        return [r for r in self.records if r.schema == "legacy"]

    def legacy_collection(self) -> Field | None:
        """``[deployment].collection``: the collection of every legacy record."""
        return self.legacy_header.field("collection") if self.legacy_header else None

    def collection_of(self, record: Record) -> tuple[str, Span]:
        """The collection ``record`` was deployed from, and the span that says so.

        Unified: ``from_collection``. Legacy: the record's own ``deployed-from``
        (``.../collections/NAME``) when it names one, else ``[deployment].collection``, else
        ``default``, as the legacy reader assumed. Migration keeps the same answer."""
        if record.schema == "unified":
            return (record.text("from_collection") or "", record.anchor("from_collection"))
        own = collection_from_path(record.raw("deployed-from"))
        if own is not None:
            return (own, record.anchor("deployed-from"))
        header = self.legacy_collection()
        if header is not None and isinstance(header.value, str):
            return (header.value, header.value_span)
        return (DEFAULT_COLLECTION, record.header_span)

    def record_at(self, offset: int) -> Record | None:
        placed = self._locate(offset)
        return placed if isinstance(placed, Record) else None

    # Positions --------------------------------------------------------------------------------

    def _locate(self, offset: int) -> PlacedChunk:
        if self._offsets is None:
            self._offsets = [p.offset for p in self.placed]
        return self.placed[max(bisect_right(self._offsets, offset) - 1, 0)]

    def _locate_line(self, line: int) -> PlacedChunk:
        if self._lines is None:
            self._lines = [p.line for p in self.placed]
        return self.placed[max(bisect_right(self._lines, line) - 1, 0)]

    def position(self, offset: int, encoding: str = UTF16) -> tuple[int, int]:
        """Zero-based (line, column) of ``offset``, the column counted in ``encoding``'s units
        (``utf-16``, the LSP default; ``utf-32`` = code points, for terminals; ``utf-8``)."""
        if not self.placed:
            return (0, 0)
        placed = self._locate(offset)
        relative = min(max(offset - placed.offset, 0), len(placed.chunk.text))
        starts = placed.chunk.line_starts()
        index = bisect_right(starts, relative) - 1
        column = relative - starts[index]
        if column and encoding != UTF32:
            segment = placed.chunk.text[starts[index] : relative]
            if not segment.isascii():
                column = _units(segment, encoding)
        return (placed.line + index, column)

    def offset_at(self, line: int, character: int, encoding: str = UTF16) -> int:
        """The offset of a zero-based (line, column) position, clamped to the text."""
        if not self.placed:
            return 0
        placed = self._locate_line(line)
        starts = placed.chunk.line_starts()
        relative_line = line - placed.line
        if relative_line >= len(starts) or relative_line < 0:
            return placed.offset + len(placed.chunk.text)
        line_start = starts[relative_line]
        line_end = (
            starts[relative_line + 1] - 1
            if relative_line + 1 < len(starts)
            else len(placed.chunk.text)
        )
        segment = placed.chunk.text[line_start:line_end]
        column = character if encoding == UTF32 else _index_of_units(segment, character, encoding)
        return placed.offset + line_start + min(column, len(segment))


def _units(segment: str, encoding: str) -> int:
    if encoding == UTF8:
        return len(segment.encode("utf-8", errors="surrogatepass"))
    return len(segment.encode("utf-16-le", errors="surrogatepass")) // 2


def _index_of_units(segment: str, units: int, encoding: str) -> int:
    if segment.isascii():
        return units
    count = 0
    for index, char in enumerate(segment):
        if count >= units:
            return index
        code = ord(char)
        if encoding == UTF8:
            count += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        else:
            count += 2 if code > 0xFFFF else 1
    return len(segment)


def _reusable_edges(previous: Document, text: str) -> tuple[int, int]:
    """How many leading and trailing chunks of ``previous`` stand unchanged in ``text``.

    Kept chunks must stay chunks of a full parse: the changed middle must begin with a header
    line (else its first lines belong to the last leading chunk), a trailing chunk must begin
    with a header line at the start of a line, and a leading chunk that ran into the end of the
    old text unfinished may now continue, so it is parsed again.
    """
    placed = previous.placed
    count, delta = len(placed), len(text) - len(previous.text)
    head = 0
    while head < count and text.startswith(placed[head].chunk.text, placed[head].offset):
        head += 1
    if head == count and delta == 0:
        return head, 0
    tail = 0
    while tail < count - head:
        p = placed[count - 1 - tail]
        start = p.offset + delta
        floor = placed[head].offset if head < count else len(previous.text)
        if start < floor or not text.startswith(p.chunk.text, start):
            break
        if not HEADER_CANDIDATE.match(p.chunk.text) or (start and text[start - 1] != "\n"):
            break
        tail += 1
    middle_end = len(text) - _tail_length(placed, tail)
    while head:
        if placed[head - 1].chunk.unfinished:
            head -= 1
            continue
        boundary = placed[head - 1].offset + len(placed[head - 1].chunk.text)
        if boundary == middle_end or HEADER_CANDIDATE.match(text, boundary):
            break
        head -= 1
    return head, tail


def _tail_length(placed: list[PlacedChunk], tail: int) -> int:
    return sum(len(p.chunk.text) for p in placed[len(placed) - tail :]) if tail else 0


def parse_document(text: str, previous: Document | None = None) -> Document:
    """Parse ``text``, reusing what ``previous`` (an earlier version of it) already parsed."""
    refused = not_utf8(text)
    if refused is not None:
        return _unreadable(text, refused)
    chunks: list[Chunk] | None = None
    if previous is not None and previous.text and text:
        chunks = _reparse(previous, text)
    if chunks is None:
        chunks = parse_chunks(split_chunks(text), {})
    placed: list[PlacedChunk] = []
    records: list[Record] = []
    problems: list[SyntaxProblem] = []
    legacy_header = None
    offset = line = 0
    clean = len(chunks)  # how many chunks come before the first with a syntax error
    for chunk in chunks:
        schema = _RECORD_SCHEMA.get(chunk.path) if chunk.kind == "array" else None
        if chunk.kind == "root":
            for inline in chunk.inline_records():
                inline_line = line + bisect_right(chunk.line_starts(), inline.offset) - 1
                records.append(
                    Record(inline.schema, inline.chunk, offset + inline.offset, inline_line,
                           len(records))
                )
        if schema is not None:
            record = Record(schema, chunk, offset, line, len(records))
            records.append(record)
            placed.append(record)
        else:
            placed_chunk = PlacedChunk(chunk, offset, line)
            placed.append(placed_chunk)
            if legacy_header is None and chunk.kind == "table" and chunk.path == ("deployment",):
                legacy_header = placed_chunk
        if chunk.error is not None:
            if not problems:
                clean = len(placed) - 1
            problems.append(SyntaxProblem(chunk.error.message, offset + chunk.error.offset))
        offset += len(chunk.text)
        line += chunk.line_count
    # The chunks before the first error, and its header, may break TOML's table rules together,
    # and tomllib, reading from the top, would say so first: then that is the first problem.
    broken = broken_header(chunks[clean]) if clean < len(chunks) else None
    if tables_conflict(chunks[:clean], broken):
        head = text
        if clean < len(chunks):
            head = text[: placed[clean].offset + (broken.end if broken is not None else 0)]
        try:
            loads(head)
        except tomllib.TOMLDecodeError as exc:
            found = syntax_problem(exc, head)
            if not problems or found.offset < problems[0].offset:
                problems.insert(0, found)
    return Document(text, placed, records, problems, legacy_header)


def _unreadable(text: str, refused: RefusedText) -> Document:
    """The document of text that is not UTF-8: its one problem, and nothing read from it.

    (Nothing of it is reused by the next version either: every chunk of a later text that is
    UTF-8 differs from this one's.)"""
    problem = SyntaxProblem(
        f"{refused.reason}: a TOML file must be UTF-8 (SkillMeat cannot read this one either)",
        refused.pos,
    )
    chunk = Chunk(text, "root", (), (0, 0), {}, None, problem, text.count("\n"))
    return Document(text, [PlacedChunk(chunk, 0, 0)], [], [problem], None, readable=False)


def _reparse(previous: Document, text: str) -> list[Chunk] | None:
    """Chunks of ``text``, parsing only the region that differs from ``previous``.

    None when the edit reaches into an unfinished construct that may swallow the chunks after
    it (an opened multi-line string, say): then the caller parses everything.
    """
    head, tail = _reusable_edges(previous, text)
    placed = previous.placed
    start = placed[head].offset if head < len(placed) else len(previous.text)
    end = len(text) - _tail_length(placed, tail)
    middle = text[start:end]
    cache = {p.chunk.text: p.chunk for p in placed[head : len(placed) - tail]}
    fresh = parse_chunks(split_chunks(middle), cache) if middle else []
    if tail and fresh and fresh[-1].unfinished:
        return None
    kept_tail = [p.chunk for p in placed[len(placed) - tail :]] if tail else []
    return [p.chunk for p in placed[:head]] + fresh + kept_tail


def derived_path(record: Record) -> str | None:
    """``artifact_path`` of a record: recorded (unified) or derived from type and name (legacy)."""
    if record.schema == "unified":
        return record.text("artifact_path")
    if record.name is None or record.type is None:
        return None
    return conventional_path(record.name, record.type)


__all__ = [
    "UTF8",
    "UTF16",
    "UTF32",
    "Chunk",
    "Document",
    "Entry",
    "Field",
    "PlacedChunk",
    "Record",
    "Span",
    "SyntaxProblem",
    "derived_path",
    "parse_chunk",
    "parse_document",
    "split_chunks",
]
