"""The incremental TOML parser under :mod:`skillmeat_ls.document`: text in, chunks with spans out.

The text is split at top-level table headers (``[x]``, ``[[x]]``) into :class:`Chunk` objects,
each parsed on its own, so that a document can reuse every chunk an edit did not touch. Chunks
are parsed by a fast path that reads the common shapes of deployment files (plain strings,
booleans, integers, arrays of strings) with a handful of regular expressions and records every
key's and value's span; anything else goes to ``tomllib``, through
:func:`skillmeat_ls.tomlread.loads` (which refuses text nested too deeply for a verdict that does
not depend on the call stack). Chunks are then checked against each other with TOML's table rules
(:func:`tables_conflict`); the document settles any doubt there with the whole-file verdict.

Nothing here knows about records or positions in a whole document: every offset is relative to
its chunk's start, because a chunk is shared between successive versions of a document.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NamedTuple

from skillmeat_ls.tomlread import loads, tomllib

Span = tuple[int, int]
#: Top-level keys whose arrays of tables hold deployment records, and the schema of each.
RECORD_ARRAYS = {"deployed": "unified", "artifacts": "legacy"}

# --- lexical pieces shared by the splitter and the fast path --------------------------------------

_BARE_KEY = r"[A-Za-z0-9_-]+"
_PLAIN_BASIC = r'"[^"\\\x00-\x08\x0a-\x1f\x7f]*"'  # a basic string without escapes
_PLAIN_LITERAL = r"'[^'\x00-\x08\x0a-\x1f\x7f]*'"
_KEY = rf"(?:{_BARE_KEY}|{_PLAIN_BASIC}|{_PLAIN_LITERAL})"
_WS = r"[ \t]*"
_COMMENT = r"(?:#[^\x00-\x08\x0a-\x1f\x7f]*)?"
_EOL = r"(?:\r?\n|\Z)"

#: A line that may be a top-level table header (the splitter's candidates).
HEADER_CANDIDATE = re.compile(r"^[ \t]*\[", re.MULTILINE)
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


class InlineRecord(NamedTuple):
    """A record written inline in the root chunk (``deployed = [{ ... }]``)."""

    schema: str  # "unified" or "legacy"
    chunk: Chunk  # the ``{ ... }`` table, parsed as a chunk of its own
    offset: int  # where the table starts in the root chunk


@dataclass(eq=False, slots=True)
class Chunk:
    """A top-level header and the lines up to the next one, parsed on its own.

    ``kind`` is ``"root"`` (text before the first header), ``"table"`` or ``"array"``
    (an array-of-tables element). A chunk is immutable once parsed and shared between
    successive versions of a document, so everything in it is relative to its own start, and
    what is derived from it alone is computed once, on first use.
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
    _inline: list[InlineRecord] | None = field(default=None, repr=False)

    @property
    def unfinished(self) -> bool:
        """It ran into its end inside a construct (a multi-line string, say) that the text after
        it may close: ``tomllib`` reports that error at the very end."""
        return self.error is not None and self.error.offset == len(self.text)

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            starts.extend(m.end() for m in re.finditer("\n", self.text))
            self._line_starts = starts
        return self._line_starts

    def inline_records(self) -> list[InlineRecord]:
        """The records a root chunk writes inline, in order (none for other chunks)."""
        if self._inline is None:
            self._inline = _read_inline_records(self) if self.kind == "root" else []
        return self._inline


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


def syntax_problem(exc: tomllib.TOMLDecodeError, text: str) -> SyntaxProblem:
    """``tomllib``'s error for ``text`` as a message and an offset into ``text``."""
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
    kind = "root"
    path: tuple[str, ...] = ()
    header_span, body = (0, 0), 0
    fast = True  # whether the fast path may read the body
    if text.lstrip(" \t").startswith("["):
        header = _HEADER_LINE.match(text)
        if header is not None and len(header.group(1)) == len(header.group(3)):
            kind = "array" if header.group(1) == "[[" else "table"
            path = _header_path(header.group(2))
            header_span = (header.start(1), header.end(3))
            body = header.end()
        else:
            fast = False
    line_count = text.count("\n")
    if fast:
        entries = _fast_entries(text, body)
        if entries is not None:
            data = {key: entry.value for key, entry in entries.items()}
            return Chunk(text, kind, path, header_span, entries, data, None, line_count)
    try:
        parsed = loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Chunk(text, kind, path, header_span, {}, None, syntax_problem(exc, text), line_count)
    if not fast:
        # A header the fast path could not read (escapes, odd spacing): take tomllib's view.
        kind, path, data, header_span = _describe_header(text, parsed)
    else:
        data = _descend(parsed, path)
    return Chunk(text, kind, path, header_span, _slow_entries(text, data), data, None, line_count)


def _describe_header(
    text: str, parsed: dict[str, Any]
) -> tuple[str, tuple[str, ...], dict[str, Any], Span]:
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


def _descend(parsed: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
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


def _read_inline_records(root: Chunk) -> list[InlineRecord]:
    found: list[InlineRecord] = []
    for key, schema in RECORD_ARRAYS.items():
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
            found.append(InlineRecord(schema, sub, start))
    return found


# --- splitting and cross-chunk checks -------------------------------------------------------------


def split_chunks(text: str) -> list[str]:
    """Split at lines that look like top-level headers (possibly wrongly; see ``parse_chunks``)."""
    cuts = [m.start() for m in HEADER_CANDIDATE.finditer(text)]
    if not cuts or cuts[0] != 0:
        cuts.insert(0, 0)
    cuts.append(len(text))
    return [text[a:b] for a, b in pairwise(cuts) if b > a] or [""]


MAX_JOINS = 64


def parse_chunks(pieces: list[str], cache: dict[str, Chunk]) -> list[Chunk]:
    """Parse pieces, joining a piece with the next when it ends inside an unfinished construct.

    A split inside a multi-line string or array leaves the piece before it unterminated, which
    ``tomllib`` reports at the end of the document: exactly the case to join. After
    ``MAX_JOINS`` joins in a row the rest is parsed as one chunk, which bounds the cost.
    ``cache`` holds chunks already parsed, by their text.
    """
    chunks: list[Chunk] = []
    i, n = 0, len(pieces)
    while i < n:
        text = pieces[i]
        chunk = cache.get(text) or parse_chunk(text)
        joins = 0
        while chunk.unfinished and i + 1 < n:
            i += 1
            joins += 1
            text = text + ("".join(pieces[i:]) if joins >= MAX_JOINS else pieces[i])
            if joins >= MAX_JOINS:
                i = n - 1
            chunk = cache.get(text) or parse_chunk(text)
        chunks.append(chunk)
        i += 1
    return chunks


class Header(NamedTuple):
    """A table header as ``tomllib`` reads it: ``end`` is just past its closing bracket."""

    kind: str  # "table" or "array"
    path: tuple[str, ...]
    end: int


#: A header line's beginning, up to the first closing bracket: where ``tomllib`` checks TOML's
#: table rules, before anything wrong after it on the line.
_HEADER_START = re.compile(rf"{_WS}(\[\[?){_WS}({_KEY}(?:{_WS}\.{_WS}{_KEY})*){_WS}\]")


def broken_header(chunk: Chunk) -> Header | None:
    """The header a chunk with a syntax error declares before the error, or None (the root, or
    a header broken before its first closing bracket)."""
    if chunk.kind != "root":
        return Header(chunk.kind, chunk.path, chunk.header_span[1])
    m = _HEADER_START.match(chunk.text)
    if m is None:
        return None
    kind, end = ("table", m.end()) if m.group(1) == "[" else ("array", m.end() + 1)
    if kind == "array" and not chunk.text.startswith("]", m.end()):
        return None  # "[[x]": tomllib stops at the missing bracket
    return Header(kind, _header_path(m.group(2)), end)


def tables_conflict(chunks: list[Chunk], broken: Header | None = None) -> bool:
    """True when the chunks (with no syntax error), and the header of the one after them that
    has one, might break TOML's table rules together (then ask tomllib)."""
    root_keys: set[str] = set()
    tables: set[tuple[str, ...]] = set()
    arrays: set[tuple[str, ...]] = set()
    for chunk in chunks:
        if chunk.kind == "root":
            root_keys.update(chunk.data or ())
        elif _redeclares(chunk.kind, chunk.path, tables, arrays):
            return True
    if broken is not None and _redeclares(broken.kind, broken.path, tables, arrays):
        return True
    return any((key,) in tables or (key,) in arrays for key in root_keys)


def _redeclares(
    kind: str, path: tuple[str, ...], tables: set[tuple[str, ...]], arrays: set[tuple[str, ...]]
) -> bool:
    """Whether a header may break the table rules after ``tables`` and ``arrays`` (then added)."""
    if len(path) != 1:
        return True  # dotted headers: leave the subtle cases to tomllib
    if kind == "table":
        if path in tables or path in arrays:
            return True
        tables.add(path)
    else:
        if path in tables:
            return True
        arrays.add(path)
    return False
