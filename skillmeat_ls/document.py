"""The deployment-file document model: text in, records with exact source spans out.

Parsing never raises. :func:`parse_document` returns a :class:`Document` whose ``problems`` hold
TOML syntax errors at the parser's position; everything that did parse is still available.

Incremental by design. The text is split at top-level table headers (``[x]``, ``[[x]]``) into
:class:`Chunk` objects, each parsed on its own and cached by its text: after a one-line edit only
the edited chunk is parsed again, whatever the file's size. Chunks are parsed by a fast path that
reads the common shapes of deployment files (plain strings, booleans, integers, arrays of
strings) with a handful of regular expressions and records every key's and value's span; anything
else goes to ``tomllib``. Chunks are then checked against each other with TOML's table rules; any
doubt there is settled by parsing the whole file with ``tomllib``, so the syntax verdict is always
the whole-file verdict (a property test holds the two together).

Offsets are code-point offsets into the text. :meth:`Document.position` turns one into the
(line, column) an editor wants, the column in UTF-16 code units by default.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NamedTuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from skillmeat_ls.schema import (
    DEFAULT_COLLECTION,
    LEGACY_TO_UNIFIED,
    collection_from_path,
    conventional_path,
)

Span = tuple[int, int]
#: Position encodings, as LSP names them: what a column counts.
UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"

# --- lexical pieces shared by the splitter and the fast path --------------------------------------

_BARE_KEY = r"[A-Za-z0-9_-]+"
_PLAIN_BASIC = r'"[^"\\\x00-\x08\x0a-\x1f\x7f]*"'  # a basic string without escapes
_PLAIN_LITERAL = r"'[^'\x00-\x08\x0a-\x1f\x7f]*'"
_KEY = rf"(?:{_BARE_KEY}|{_PLAIN_BASIC}|{_PLAIN_LITERAL})"
_WS = r"[ \t]*"
_COMMENT = r"(?:#[^\x00-\x08\x0a-\x1f\x7f]*)?"
_EOL = r"(?:\r?\n|\Z)"

#: A line that may be a top-level table header (the splitter's candidates).
_HEADER_CANDIDATE = re.compile(r"^[ \t]*\[", re.MULTILINE)
#: A complete header line in the fast path's subset.
_HEADER_LINE = re.compile(
    rf"{_WS}(\[\[?){_WS}({_KEY}(?:{_WS}\.{_WS}{_KEY})*){_WS}(\]\]?){_WS}{_COMMENT}{_EOL}"
)
_KEY_PART = re.compile(rf"{_WS}({_KEY}){_WS}\.?")

_ARRAY_SPACE = r"(?:[ \t\n]|\r\n|#[^\x00-\x08\x0a-\x1f\x7f]*(?=\r?\n))*"
_STRING = rf"(?:{_PLAIN_BASIC}|{_PLAIN_LITERAL})"
_STRING_ARRAY = (
    rf"\[{_ARRAY_SPACE}(?:{_STRING}{_ARRAY_SPACE},{_ARRAY_SPACE})*(?:{_STRING}{_ARRAY_SPACE})?\]"
)
_INTEGER = r"[+-]?(?:0|[1-9](?:_?[0-9])*)"
#: ``key = value`` (or a blank / comment-only line) in the fast path's subset.
_ENTRY_LINE = re.compile(
    rf"{_WS}(?:(?P<key>{_KEY}){_WS}={_WS}"
    rf"(?:(?P<string>{_PLAIN_BASIC}|{_PLAIN_LITERAL})|(?P<bool>true|false)|(?P<int>{_INTEGER})"
    rf"|(?P<array>{_STRING_ARRAY})){_WS})?{_COMMENT}{_EOL}"
)
_STRING_GROUP, _BOOL_GROUP, _INT_GROUP = (_ENTRY_LINE.groupindex[n] for n in ("string", "bool", "int"))
_ARRAY_ITEM = re.compile(_STRING)
_ERROR_AT = re.compile(r"\(at line (\d+), column (\d+)\)$")
_ERROR_AT_END = "(at end of document)"


def _unquote_key(key: str) -> str:
    return key[1:-1] if key[:1] in "\"'" else key


def _header_path(text: str) -> tuple[str, ...]:
    return tuple(_unquote_key(m.group(1)) for m in _KEY_PART.finditer(text))


# --- chunks ---------------------------------------------------------------------------------------


class Entry(NamedTuple):
    """One ``key = value`` of a chunk, with offsets relative to the chunk's start.

    Plain ints rather than span tuples: a 10,000-record file holds 130,000 of these.
    """

    key: str
    value: Any
    key_start: int
    key_end: int
    value_start: int
    value_end: int

    @property
    def key_span(self) -> Span:
        return (self.key_start, self.key_end)

    @property
    def value_span(self) -> Span:
        return (self.value_start, self.value_end)

    def shifted(self, offset: int) -> Entry:
        return Entry(self.key, self.value, self.key_start + offset, self.key_end + offset,
                     self.value_start + offset, self.value_end + offset)


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    message: str
    offset: int  # relative to the chunk (or document, once placed)


@dataclass(eq=False, slots=True)
class Chunk:
    """A top-level header and the lines up to the next one, parsed on its own.

    ``kind`` is ``"root"`` (text before the first header), ``"table"`` or ``"array"``
    (an array-of-tables element). A chunk is immutable once parsed and shared between
    successive versions of a document, so everything in it is relative to its own start.
    """

    text: str
    kind: str
    path: tuple[str, ...]
    header_span: Span
    entries: dict[str, Entry]
    data: dict[str, Any] | None  # None when the chunk has a syntax error
    error: SyntaxProblem | None
    line_count: int
    _line_starts: list[int] | None = field(default=None, repr=False)
    #: Facts derived from this chunk alone, memoised by the rules (the chunk never changes).
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            starts.extend(m.end() for m in re.finditer("\n", self.text))
            self._line_starts = starts
        return self._line_starts


def _fast_entries(text: str, start: int) -> dict[str, Entry] | None:
    """Entries of ``text[start:]`` if every line is in the fast path's subset, else None.

    The hot loop of parsing: group numbers rather than names, one slice per value.
    """
    entries: dict[str, Entry] = {}
    seen: dict[str, str] = {}
    pos, end = start, len(text)
    match = _ENTRY_LINE.match
    intern = sys.intern
    while pos < end:
        m = match(text, pos)
        if m is None:
            return None
        line_end = m.end()
        if line_end == pos:
            return None
        pos = line_end
        kind = m.lastindex  # the value's group: the last one a line can close
        if kind is None:
            continue  # blank or comment-only
        key_start, key_end = m.span(1)
        key = intern(text[key_start + 1 : key_end - 1] if text[key_start] in "\"'"
                     else text[key_start:key_end])
        if key in entries:
            return None  # let tomllib word the error
        value_start, value_end = m.span(kind)
        if kind == _STRING_GROUP:
            raw = text[value_start + 1 : value_end - 1]
            value: Any = seen.setdefault(raw, raw)  # a record repeats its hash
        elif kind == _BOOL_GROUP:
            value = text[value_start] == "t"
        elif kind == _INT_GROUP:
            value = int(text[value_start:value_end].replace("_", ""))
        else:
            value = [item[1:-1] for item in _ARRAY_ITEM.findall(text, value_start, value_end)]
        entries[key] = Entry(key, value, key_start, key_end, value_start, value_end)
    return entries


def _slow_entries(text: str, data: dict[str, Any]) -> dict[str, Entry]:
    """Spans for the keys of a chunk ``tomllib`` parsed: each key's first ``key =`` line."""
    entries: dict[str, Entry] = {}
    for key, value in data.items():
        quoted = "|".join(re.escape(form) for form in (key, f'"{key}"', f"'{key}'"))
        m = re.search(rf"^[ \t]*({quoted})[ \t]*[=.]", text, re.MULTILINE)
        if m is None:
            continue
        value_start = m.end()
        line_end = text.find("\n", value_start)
        value_end = len(text) if line_end < 0 else line_end
        raw = text[value_start:value_end].strip()
        value_start = text.index(raw, value_start) if raw else value_start
        entries[key] = Entry(key, value, *m.span(1), value_start, value_start + len(raw))
    return entries


def _parse_error(exc: tomllib.TOMLDecodeError, text: str) -> SyntaxProblem:
    message = str(exc)
    m = _ERROR_AT.search(message)
    if m:
        line, column = int(m.group(1)), int(m.group(2))
        starts = [0, *(mm.end() for mm in re.finditer("\n", text))]
        offset = min(starts[min(line, len(starts)) - 1] + column - 1, len(text))
        message = message[: m.start()].rstrip()
    else:
        offset = len(text)
        message = message.replace(_ERROR_AT_END, "").rstrip() + " (at end of file)"
    return SyntaxProblem(message, offset)


def parse_chunk(text: str) -> Chunk:
    """Parse one chunk: a header line (or none, for the root) and its key/value lines."""
    kind, path, header_span, body = "root", (), (0, 0), 0
    if text.lstrip(" \t").startswith("["):
        header = _HEADER_LINE.match(text)
        if header is not None and len(header.group(1)) == len(header.group(3)):
            kind = "array" if header.group(1) == "[[" else "table"
            path = _header_path(header.group(2))
            header_span = (header.start(1), header.end(3))
            body = header.end()
        else:
            header = None
    else:
        header = text  # no header to read
    line_count = text.count("\n")
    if header is not None:
        entries = _fast_entries(text, body)
        if entries is not None:
            data = {key: entry.value for key, entry in entries.items()}
            return Chunk(text, kind, path, header_span, entries, data, None, line_count)
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Chunk(text, kind, path, header_span, {}, None, _parse_error(exc, text), line_count)
    except RecursionError:
        problem = SyntaxProblem("Nested too deeply to read", 0)
        return Chunk(text, kind, path, header_span, {}, None, problem, line_count)
    if kind == "root" and text.lstrip(" \t").startswith("["):
        # A header the fast path could not read (escapes, odd spacing): take tomllib's view.
        kind, path, data, header_span = _describe_header(text, parsed)
    else:
        data = _descend(parsed, path, kind)
    return Chunk(text, kind, path, header_span, _slow_entries(text, data), data, None, line_count)


def _describe_header(text: str, parsed: dict[str, Any]) -> tuple[str, tuple[str, ...], dict, Span]:
    line_end = text.find("\n")
    header_text = text[: line_end if line_end >= 0 else len(text)].rstrip()
    kind = "array" if header_text.lstrip().startswith("[[") else "table"
    path: list[str] = []
    node: Any = parsed
    while isinstance(node, dict) and len(node) == 1:
        key, node = next(iter(node.items()))
        path.append(key)
        if isinstance(node, list) and node and isinstance(node[-1], dict):
            node = node[-1]
            break
    data = node if isinstance(node, dict) else {}
    start = len(header_text) - len(header_text.lstrip())
    return kind, tuple(path), data, (start, len(header_text))


def _descend(parsed: dict[str, Any], path: tuple[str, ...], kind: str) -> dict[str, Any]:
    node: Any = parsed
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, list):
            node = node[-1] if node else None
    return node if isinstance(node, dict) else {}


# --- inline records: ``deployed = [{ ... }, ...]`` -------------------------------------------------
# tomli_w writes an array of tables inline when it fits on one line, and so does SkillMeat.

_STRING_START = re.compile(r"\"\"\"|'''|\"|'")


def _skip_string(text: str, pos: int) -> int:
    """The index just past the string literal starting at ``pos``."""
    quote = _STRING_START.match(text, pos).group()  # type: ignore[union-attr]
    i = pos + len(quote)
    while i < len(text):
        if quote[0] == '"' and text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        i += 1
    return len(text)


def _scan_value(text: str, pos: int, stops: str) -> int:
    """The end of the TOML value at ``pos``: where a ``stops`` character appears at depth 0."""
    depth, i = 0, pos
    while i < len(text):
        char = text[i]
        if char in "\"'":
            i = _skip_string(text, i)
            continue
        if char == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and char in stops:
            return i
        i += 1
    return i


def _inline_table_spans(text: str, pos: int) -> list[Span]:
    """Spans of the ``{...}`` items of the array value that starts at or after ``pos``."""
    start = text.find("[", pos)
    spans: list[Span] = []
    i = start + 1
    while 0 < i < len(text):
        char = text[i]
        if char == "{":
            end = _scan_value(text, i + 1, "") + 1
            spans.append((i, end))
            i = end
        elif char == "]":
            break
        elif char in "\"'":
            i = _skip_string(text, i)
        elif char == "#":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
        else:
            i += 1
    return spans


def _inline_entries(text: str, table: dict[str, Any]) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for key, value in table.items():
        forms = "|".join(re.escape(form) for form in (key, f'"{key}"', f"'{key}'"))
        m = re.search(rf"(?:^|[{{,\s])({forms})[ \t]*=[ \t]*", text)
        if m is None:
            continue
        end = _scan_value(text, m.end(), ",")
        raw_end = len(text[m.end() : end].rstrip()) + m.end()
        entries[key] = Entry(key, value, *m.span(1), m.end(), raw_end)
    return entries


def _inline_records(root: Chunk) -> list[tuple[str, Chunk, int]]:
    """Records written inline in the root chunk, as (schema, chunk, offset in root). Memoised."""
    if "inline" in root.memo:
        return root.memo["inline"]
    found: list[tuple[str, Chunk, int]] = []
    for key, schema in (("deployed", "unified"), ("artifacts", "legacy")):
        value, entry = (root.data or {}).get(key), root.entries.get(key)
        if not value or entry is None or not isinstance(value, list):
            continue
        if not all(isinstance(item, dict) for item in value):
            continue
        spans = _inline_table_spans(root.text, entry.key_span[1])
        if len(spans) != len(value):
            spans = [entry.value_span] * len(value)
        for (start, end), table in zip(spans, value, strict=True):
            text = root.text[start:end]
            sub = Chunk(
                text,
                "array",
                (key,),
                (0, 1),
                _inline_entries(text, table),
                table,
                None,
                text.count("\n"),
            )
            found.append((schema, sub, start))
    root.memo["inline"] = found
    return found


# --- splitting and cross-chunk checks -------------------------------------------------------------


def split_chunks(text: str) -> list[str]:
    """Split at lines that look like top-level headers (possibly wrongly; see ``_parse_chunks``)."""
    cuts = [m.start() for m in _HEADER_CANDIDATE.finditer(text)]
    if not cuts or cuts[0] != 0:
        cuts.insert(0, 0)
    cuts.append(len(text))
    return [text[a:b] for a, b in pairwise(cuts) if b > a] or [""]


MAX_JOINS = 64


def _parse_chunks(pieces: list[str], cache: dict[str, Chunk]) -> list[Chunk]:
    """Parse pieces, joining a piece with the next when it ends inside an unfinished construct.

    A split inside a multi-line string or array leaves the piece before it unterminated, which
    ``tomllib`` reports at the end of the document: exactly the case to join. After
    ``MAX_JOINS`` joins in a row the rest is parsed as one chunk, which bounds the cost.
    """
    chunks: list[Chunk] = []
    i, n = 0, len(pieces)
    while i < n:
        text = pieces[i]
        chunk = cache.get(text) or parse_chunk(text)
        joins = 0
        while chunk.error is not None and chunk.error.offset == len(chunk.text) and i + 1 < n:
            i += 1
            joins += 1
            text = text + ("".join(pieces[i:]) if joins >= MAX_JOINS else pieces[i])
            if joins >= MAX_JOINS:
                i = n - 1
            chunk = cache.get(text) or parse_chunk(text)
        chunks.append(chunk)
        i += 1
    return chunks


def _tables_conflict(chunks: list[Chunk]) -> bool:
    """True when the chunks might break TOML's table rules together (then ask tomllib)."""
    root_keys: set[str] = set()
    tables: set[tuple[str, ...]] = set()
    arrays: set[tuple[str, ...]] = set()
    for chunk in chunks:
        if chunk.data is None:
            continue
        if chunk.kind == "root":
            root_keys.update(chunk.data)
            continue
        if len(chunk.path) != 1:
            return True  # dotted headers: leave the subtle cases to tomllib
        if chunk.kind == "table":
            if chunk.path in tables or chunk.path in arrays:
                return True
            tables.add(chunk.path)
        else:
            if chunk.path in tables:
                return True
            arrays.add(chunk.path)
    return any((key,) in tables or (key,) in arrays for key in root_keys)


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

        Memoised on the chunk: the rules ask for the same few fields many times."""
        memo = self.chunk.memo
        key = (self.schema, unified_key)
        try:
            return memo[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self.raw(self.meaning(unified_key))
            found = memo[key] = value if isinstance(value, str) else None
            return found

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
_RECORD_SCHEMA = {("deployed",): "unified", ("artifacts",): "legacy"}


@dataclass(eq=False)
class Document:
    """A parsed deployment file: its chunks placed in the text, its records, its syntax problems."""

    text: str
    placed: list[PlacedChunk]
    records: list[Record]
    problems: list[SyntaxProblem]
    legacy_header: PlacedChunk | None
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


def _ends_unfinished(chunk: Chunk) -> bool:
    return chunk.error is not None and chunk.error.offset == len(chunk.text)


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
        if not _HEADER_CANDIDATE.match(p.chunk.text) or (start and text[start - 1] != "\n"):
            break
        tail += 1
    middle_end = len(text) - _tail_length(placed, tail)
    while head:
        if _ends_unfinished(placed[head - 1].chunk):
            head -= 1
            continue
        boundary = placed[head - 1].offset + len(placed[head - 1].chunk.text)
        if boundary == middle_end or _HEADER_CANDIDATE.match(text, boundary):
            break
        head -= 1
    return head, tail


def _tail_length(placed: list[PlacedChunk], tail: int) -> int:
    return sum(len(p.chunk.text) for p in placed[len(placed) - tail :]) if tail else 0


def parse_document(text: str, previous: Document | None = None) -> Document:
    """Parse ``text``, reusing what ``previous`` (an earlier version of it) already parsed."""
    chunks: list[Chunk] | None = None
    if previous is not None and previous.text and text:
        chunks = _reparse(previous, text)
    if chunks is None:
        chunks = _parse_chunks(split_chunks(text), {})
    placed: list[PlacedChunk] = []
    records: list[Record] = []
    problems: list[SyntaxProblem] = []
    legacy_header = None
    offset = line = 0
    for chunk in chunks:
        schema = _RECORD_SCHEMA.get(chunk.path) if chunk.kind == "array" else None
        if (
            chunk.kind == "root"
            and chunk.data
            and ("deployed" in chunk.data or "artifacts" in chunk.data)
        ):
            starts = chunk.line_starts()
            for inline_schema, sub, start in _inline_records(chunk):
                inline_line = line + bisect_right(starts, start) - 1
                records.append(
                    Record(inline_schema, sub, offset + start, inline_line, len(records))
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
            problems.append(SyntaxProblem(chunk.error.message, offset + chunk.error.offset))
        offset += len(chunk.text)
        line += chunk.line_count
    if not problems and _tables_conflict(chunks):
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            problems.append(_parse_error(exc, text))
    return Document(text, placed, records, problems, legacy_header)


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
    fresh = _parse_chunks(split_chunks(middle), cache) if middle else []
    if (
        tail
        and fresh
        and fresh[-1].error is not None
        and fresh[-1].error.offset == len(fresh[-1].text)
    ):
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
    "SyntaxProblem",
    "derived_path",
    "parse_chunk",
    "parse_document",
    "split_chunks",
]
