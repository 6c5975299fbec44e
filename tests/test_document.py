"""The document model: spans, positions, both schemas, and the chunked parse held to tomllib."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import tomllib
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skillmeat_ls.chunks import syntax_problem
from skillmeat_ls.document import UTF8, UTF32, Document, parse_document, split_chunks
from skillmeat_ls.tomlread import MAX_NESTING, too_deep

T = TypeVar("T")

UNIFIED = """\
[[deployed]]
artifact_name = "Design Principles"
artifact_type = "skill"
from_collection = "default"
deployed_at = "2026-01-09T14:03:41.312919"
artifact_path = "skills/Design Principles"
content_hash = "b399371c92d510b4f1dc7c59489ae4ff44db3bbeff6150d1b3b59baf9698bc06"
local_modifications = false
version_lineage = [
    "b399371c92d510b4f1dc7c59489ae4ff44db3bbeff6150d1b3b59baf9698bc06",
]
collection_sha = "b399371c92d510b4f1dc7c59489ae4ff44db3bbeff6150d1b3b59baf9698bc06"

[[deployed]]
artifact_name = "prd-writer"
artifact_type = "agent"
from_collection = "default"
deployed_at = "2026-01-09T14:32:10.550083"
artifact_path = "agents/pm/prd-writer.md"
content_hash = "4c1dd9d428073f665d9b198c506da53b6337ca7676d80684b7126fae77bf5ff2"
local_modifications = false
"""

LEGACY = """\
[deployment]
collection = "default"
deployed-at = "2025-11-15T10:30:00Z"
skillmeat-version = "0.2.0-alpha"

[[artifacts]]
name = "test-skill"
type = "skill"
source = "github:user/repo/test-skill"
version = "1.0.0"
sha = "abc123def456"
deployed-at = "2025-11-15T10:30:00Z"
deployed-from = "/path/to/collection"
"""


def span_text(doc: Document, span: tuple[int, int]) -> str:
    return doc.text[span[0] : span[1]]


def test_unified_records_and_spans() -> None:
    doc = parse_document(UNIFIED)
    assert doc.problems == []
    assert [r.schema for r in doc.records] == ["unified", "unified"]
    first, second = doc.records
    assert first.name == "Design Principles"
    assert second.text("artifact_path") == "agents/pm/prd-writer.md"
    name = first.field("artifact_name")
    assert name is not None
    assert span_text(doc, name.key_span) == "artifact_name"
    assert span_text(doc, name.value_span) == '"Design Principles"'
    lineage = first.field("version_lineage")
    assert lineage is not None and lineage.value == [first.content_hash]
    assert span_text(doc, lineage.value_span).startswith("[\n") and span_text(
        doc, lineage.value_span
    ).endswith("]")
    assert span_text(doc, second.header_span) == "[[deployed]]"
    assert doc.position(second.header_span[0]) == (13, 0)


def test_legacy_records_read_by_unified_meaning() -> None:
    doc = parse_document(LEGACY)
    assert doc.legacy_header is not None
    (record,) = doc.records
    assert record.schema == "legacy"
    assert (record.name, record.type, record.content_hash) == ("test-skill", "skill", "abc123def456")
    collection = doc.legacy_collection()
    assert collection is not None and collection.value == "default"
    assert span_text(doc, record.anchor("content_hash")) == '"abc123def456"'


def test_collection_of_a_record_in_each_schema() -> None:
    unified = parse_document('[[deployed]]\nartifact_name = "a"\nfrom_collection = "team"\n')
    (record,) = unified.records
    name, span = unified.collection_of(record)
    assert (name, span_text(unified, span)) == ("team", '"team"')
    legacy = parse_document(
        '[deployment]\ncollection = "head"\n\n[[artifacts]]\nname = "a"\n\n'
        '[[artifacts]]\nname = "b"\ndeployed-from = "/h/.skillmeat/collections/own"\n'
    )
    first, second = legacy.records
    name, span = legacy.collection_of(first)
    assert (name, span_text(legacy, span)) == ("head", '"head"')
    name, span = legacy.collection_of(second)  # the record's own deployed-from wins
    assert (name, span_text(legacy, span)) == ("own", '"/h/.skillmeat/collections/own"')
    bare = parse_document('[[artifacts]]\nname = "a"\n')
    assert bare.collection_of(bare.records[0]) == ("default", bare.records[0].header_span)


def test_mixed_file_keeps_both_schemas() -> None:
    doc = parse_document(LEGACY + "\n" + UNIFIED)
    assert [r.schema for r in doc.records] == ["legacy", "unified", "unified"]


def test_inline_records_as_tomli_w_writes_short_ones() -> None:
    text = (
        'deployed = [ { artifact_name = "x", artifact_type = "skill", content_hash = "h" }, '
        '{ artifact_name = "y, z", artifact_type = "command" }, ]\n'
    )
    doc = parse_document(text)
    assert [(r.name, r.type) for r in doc.records] == [("x", "skill"), ("y, z", "command")]
    second = doc.records[1]
    name = second.field("artifact_name")
    assert name is not None and span_text(doc, name.value_span) == '"y, z"'
    assert span_text(doc, second.header_span) == "{"


def test_utf16_columns_and_offsets_round_trip() -> None:
    text = '[[deployed]]\nartifact_name = "😀 émoji"\nartifact_type = "skill"\n'
    doc = parse_document(text)
    value = doc.records[0].field("artifact_type")
    assert value is not None
    line, column = doc.position(value.value_span[0])
    assert (line, column) == (2, 16)
    end = doc.records[0].field("artifact_name")
    assert end is not None
    # the closing quote: code point 17 + 7 = 24, but "😀" is two UTF-16 units, so column 25
    assert doc.position(end.value_span[1] - 1) == (1, 25)
    assert doc.position(end.value_span[1] - 1, UTF32) == (1, 24)
    assert doc.position(end.value_span[1] - 1, UTF8) == (1, 17 + 4 + 1 + 2 + 4)
    assert doc.offset_at(1, 28, UTF8) == end.value_span[1] - 1
    assert doc.offset_at(1, 25) == end.value_span[1] - 1
    assert doc.offset_at(2, 16) == value.value_span[0]


def test_syntax_error_carries_parser_position() -> None:
    text = UNIFIED.replace('artifact_type = "agent"', 'artifact_type = "agent" oops')
    doc = parse_document(text)
    assert len(doc.problems) == 1
    line, column = doc.position(doc.problems[0].offset)
    assert line == 15
    assert column == len('artifact_type = "agent" ')
    # the other record still parsed
    assert doc.records[0].name == "Design Principles"


def test_header_inside_multiline_string_is_not_a_split() -> None:
    text = 'note = """\n[[deployed]]\nnot = "a record"\n"""\n\n[[deployed]]\nartifact_name = "x"\n'
    doc = parse_document(text)
    assert doc.problems == []
    assert len(doc.records) == 1
    assert doc.root is not None and "note" in doc.root.chunk.entries


def test_cross_chunk_conflicts_match_tomllib() -> None:
    for text in (
        "[deployment]\na = 1\n[deployment]\nb = 2\n",
        "deployed = []\n[[deployed]]\nartifact_name = 'x'\n",
        "[[artifacts]]\nname = 'x'\n[artifacts]\n",
    ):
        assert parse_document(text).problems, text


def test_parsing_never_raises_on_hostile_input() -> None:
    for text in (
        "\x00\x01\x02",
        "[" * 5000,
        "a = " + "{b = " * 2000 + "1" + "}" * 2000,
        "\ufeff[[deployed]]\r\nartifact_name = 'x'\r\n",
        "a = '\ud800'",
        "[[deployed]]\nartifact_name = \"x\"\r",
    ):
        parse_document(text)


# --- nesting: refused past a fixed depth, whatever the stack -------------------------------------


def from_deep_stack(fn: Callable[[], T], frames: int = 400) -> T:
    return fn() if frames == 0 else from_deep_stack(fn, frames - 1)


def test_nesting_scanner_counts_only_brackets_that_nest() -> None:
    limit = MAX_NESTING
    assert too_deep("a = " + "[" * limit + "]" * limit) is None
    refused = too_deep("x = 1\na = " + "[" * (limit + 1) + "]" * (limit + 1))
    assert refused is not None
    assert (refused.pos, refused.lineno, refused.colno) == (10 + limit, 2, 5 + limit)
    assert str(refused) == f"Nested more than {limit} levels deep (at line 2, column {5 + limit})"
    assert isinstance(refused, tomllib.TOMLDecodeError)
    assert too_deep("a = [" + "{b = " * limit + "1" + "}" * limit + "]") is not None
    many = "".join(f"a{i} = [[1], {{b = 2}}]\n" for i in range(200))  # many brackets, none deep
    assert too_deep(many) is None
    deep = "[" * 200
    for quiet in (
        f'"{deep}"',  # a basic string
        f'"esc \\" {deep}"',  # ... with an escaped quote
        f'"\\\\" # {deep}',  # a comment after a string ending in a backslash
        f"'{deep}'",
        f'"""\n{deep}\n"""',
        f"'''{deep}''''",  # a multi-line literal ending in a quote of its own
        f'"""a"""" # {deep}',
    ):
        assert too_deep(f"a = {quiet}\n") is None, quiet
    assert too_deep('a = """x"""""\nb = ' + "[" * (limit + 1)) is not None


def test_too_deep_is_one_sm100_at_its_place_fresh_incremental_and_deep_in_a_stack() -> None:
    """Valid TOML nested 480 deep: tomllib reads it from a shallow stack and not from a deep one;
    the document refuses it at its first bracket past the limit, whoever asks and from where."""
    text = f'[[deployed]]\nartifact_name = "x"\ndeep = {"[" * 480 + "]" * 480}\n'
    at = text.index("[", text.index("deep")) + MAX_NESTING
    fresh = parse_document(text)
    assert [(p.offset, p.message) for p in fresh.problems] == [
        (at, f"Nested more than {MAX_NESTING} levels deep")
    ]
    before = parse_document('[[deployed]]\nartifact_name = "y"\n\n' + text)
    edited = parse_document(text, previous=before)  # the deep chunk is kept from before
    assert edited.problems == fresh.problems
    assert from_deep_stack(lambda: parse_document(text).problems) == fresh.problems
    within = f"deep = {'{a = ' * MAX_NESTING}1{'}' * MAX_NESTING}\n"
    assert from_deep_stack(lambda: parse_document(within).problems) == []


# --- text that is not UTF-8 -----------------------------------------------------------------------


def test_text_with_undecodable_bytes_is_one_problem_and_nothing_else() -> None:
    raw = b'[[deployed]]\nartifact_name = "caf\xe9"\nartifact_type = "\xff"\n'
    text = raw.decode("utf-8", errors="surrogateescape")
    doc = parse_document(text)
    assert not doc.readable
    assert doc.records == [] and doc.root is not None and doc.root.chunk.entries == {}
    [problem] = doc.problems
    assert problem.offset == text.index("\udce9")
    assert problem.message.startswith("bytes that are not UTF-8 (0xe9) at line 2, column 21:")
    assert doc.position(problem.offset) == doc.position(problem.offset, UTF32) == (1, 20)
    assert doc.position(problem.offset + 1) == (1, 21)
    assert doc.offset_at(1, 21) == problem.offset + 1
    # the next version, decodable again, is parsed afresh
    fixed = parse_document(text.replace("\udce9", "é").replace("\udcff", "skill"), previous=doc)
    assert fixed.readable and fixed.problems == [] and fixed.records[0].name == "café"


def test_a_lone_surrogate_from_an_editor_is_not_utf8_either() -> None:
    doc = parse_document("a = '\ud800'\n")
    assert [(p.offset, p.message.split(":")[0]) for p in doc.problems] == [
        (5, "a lone surrogate (U+D800), which is not UTF-8 at line 1, column 6")
    ]


# --- properties: the chunked parse agrees with tomllib, and incremental agrees with fresh --------

HEADERS = [
    "[[deployed]]", "[deployment]", "[[artifacts]]", "[extra]", "[ deployed ]", '["q"]',
    "[a.b]", "[[deployed.sub]]", "[[ deployed ]]  # c", "[x", "[[y]", "[]",
]
VALUES = [
    '"plain"', "'literal'", '"esc\\"aped\\n"', "true", "false", "42", "-0", "1_000", "3.5",
    "1979-05-27T07:32:00Z", '[\n  "a",\n  "b",\n]', "[]", "[1, [2, 3]]", "{ x = 1 }",
    '"""\nmulti\n[[deployed]]\nline"""', "'''\n[x]\n'''", '"unterminated', "[\n[1],\n]", "01",
    '"tab\there"', "'a' 'b'",
]
#: More examples with SKILLMEAT_LS_EXAMPLES=5000 (CI keeps the default).
EXAMPLES = int(os.environ.get("SKILLMEAT_LS_EXAMPLES", "300"))
KEYS = ["artifact_name", "name", '"quoted key"', "a.b", "dup", "x-y", "'lit'", "bad key"]


@st.composite
def toml_texts(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            lines.append(draw(st.sampled_from(HEADERS)))
        elif kind == 1:
            lines.append("")
        elif kind == 2:
            lines.append("# comment [[deployed]]")
        else:
            lines.append(f"{draw(st.sampled_from(KEYS))} = {draw(st.sampled_from(VALUES))}")
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=4)) + text[at:]
    return text


def merged_data(doc: Document) -> dict[str, Any] | None:
    """The document's data merged from its chunks, for files with single-level headers only."""
    data: dict[str, Any] = {}
    for placed in doc.placed:
        chunk = placed.chunk
        assert chunk.data is not None
        if chunk.kind == "root":
            data.update(chunk.data)
        elif len(chunk.path) != 1:
            return None
        elif chunk.kind == "table":
            data[chunk.path[0]] = dict(chunk.data)
        else:
            data.setdefault(chunk.path[0], []).append(dict(chunk.data))
    return data


@settings(max_examples=EXAMPLES * 4 // 3, suppress_health_check=[HealthCheck.too_slow])
@given(toml_texts())
@example('a = """\n[x]\n"""\n[[deployed]]\nname = "x"\n')
@example("dup = 1\ndup = 2\n")
def test_chunked_parse_agrees_with_tomllib(text: str) -> None:
    doc = parse_document(text)
    try:
        whole = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        assert doc.problems, "tomllib rejects this text but the chunked parse accepted it"
        assert doc.problems[0].offset == syntax_problem(exc, text).offset, "not tomllib's place"
        return
    assert doc.problems == [], f"tomllib accepts this text: {doc.problems}"
    assert "".join(p.chunk.text for p in doc.placed) == text
    merged = merged_data(doc)
    if merged is not None:
        assert merged == whole


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(toml_texts(), st.data())
def test_incremental_parse_equals_fresh_parse(text: str, data: st.DataObject) -> None:
    previous = parse_document(text)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 12)))
    insert = data.draw(st.sampled_from(["", "x", "\n", "[[deployed]]\n", '"""', "= 1\n", "[a]"]))
    edited = text[:start] + insert + text[end:]
    incremental = parse_document(edited, previous=previous)
    fresh = parse_document(edited)
    assert [p.chunk.text for p in incremental.placed] == [p.chunk.text for p in fresh.placed]
    assert [(p.offset, p.line) for p in incremental.placed] == [
        (p.offset, p.line) for p in fresh.placed
    ]
    assert bool(incremental.problems) == bool(fresh.problems)
    assert [(r.schema, r.chunk.data) for r in incremental.records] == [
        (r.schema, r.chunk.data) for r in fresh.records
    ]


def test_split_is_lossless() -> None:
    text = LEGACY + "\n" + UNIFIED
    assert "".join(split_chunks(text)) == text
