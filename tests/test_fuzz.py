"""Hostile input through parse, rules and migration: the real samples, mutated, held to tomllib.

The texts are the deployment files, manifests and configs of ``tests/data`` and ``examples``,
mutated by Hypothesis: brackets, quotes, headers and comment signs inserted, spans deleted or
copied elsewhere, records without a name added, and arrays or inline tables nested around and
far beyond :data:`~skillmeat_ls.tomlread.MAX_NESTING`. The properties:

(a) the syntax verdict and the first SM100's position are ``tomllib``'s (run in a fresh thread)
    for texts within the nesting limit, an SM100 no later than the first too-deep bracket beyond
    it, and everything (problems, diagnostics, migration) is the same whatever the caller's
    stack: called directly, from a recursion some hundreds of frames deep, or in a fresh thread;
(b) parsing and analysing edit after edit with the previous document and one reused
    :class:`~skillmeat_ls.rules.Analyzer` gives what a fresh parse and analysis give;
(c) ``migrate_text`` returns text that ``tomllib`` reads and that migrates to itself, or raises
    ``MigrationError``; nothing else;
(d) bytes with invalid UTF-8 anywhere, read as a deployment file is read, give exactly one
    diagnostic, an SM100 at the first bad byte; migration refuses them naming the place, and
    every report format prints them as UTF-8.

``SKILLMEAT_LS_EXAMPLES`` scales the number of examples (CI keeps the default).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from skillmeat_ls.chunks import syntax_problem
from skillmeat_ls.document import UTF8, UTF16, UTF32, Document, parse_document
from skillmeat_ls.lint import FileReport, LintResult
from skillmeat_ls.migration import MigrationError, migrate_text
from skillmeat_ls.report import RENDERERS
from skillmeat_ls.rules import Analyzer, Diagnostic, analyze
from skillmeat_ls.tomlread import MAX_NESTING, tomllib, too_deep
from skillmeat_ls.workspace import read_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted(
    {
        path.read_text(encoding="utf-8")
        for folder in (ROOT / "tests" / "data", ROOT / "examples")
        for path in folder.rglob("*.toml")
        if path.stat().st_size < 20_000
    }
)
#: Examples per property (half as many edit sequences for (b)): some 15 s on two cores.
EXAMPLES = int(os.environ.get("SKILLMEAT_LS_EXAMPLES", "1000"))
#: How deep the callers of property (a) already are, in frames.
DEEP_CALLER = 300

T = TypeVar("T")

# --- strategies -----------------------------------------------------------------------------------

PIECES = [
    "[", "]", "{", "}", '"', "'", '"""', "'''", "#", "\n", "\r\n", "=", ",", " ", "\\", "x", "1",
    "a.b", "[a]\n", "[[deployed]]\n", "[deployment]\n", "[[artifacts]]\n", "[deployed]\n",
    "deployed = []\n",
]
NAMELESS = "[[deployed]]\nartifact_type = 'skill'\nartifact_path = 'skills/x'\n\n"
DEPTHS = [1, 2, 50, MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1, MAX_NESTING + 2, 150, 480, 1000]


def nested(shape: str, depth: int) -> str:
    """A value nested ``depth`` levels: arrays, inline tables, or both in turn."""
    if shape == "arrays":
        return "[" * depth + "]" * depth
    if shape == "tables":
        return "{a = " * depth + "1" + "}" * depth
    return "[{a = " * (depth // 2) + "1" + "}]" * (depth // 2)


@st.composite
def mutation(draw: st.DrawFn, text: str) -> str:
    """``text`` with one change somewhere (at a line start for whole lines)."""
    at = draw(st.integers(0, len(text)))
    line_start = text.rfind("\n", 0, at) + 1
    kind = draw(st.sampled_from(["insert", "insert", "delete", "copy", "nest", "nameless"]))
    if kind == "insert":
        return text[:at] + draw(st.sampled_from(PIECES)) + text[at:]
    if kind == "delete":
        return text[:at] + text[at + draw(st.integers(1, 24)) :]
    if kind == "copy":
        start = draw(st.integers(0, len(text)))
        return text[:at] + text[start : start + draw(st.integers(1, 60))] + text[at:]
    if kind == "nameless":
        return text[:line_start] + NAMELESS + text[line_start:]
    value = nested(draw(st.sampled_from(["arrays", "tables", "mixed"])), draw(st.sampled_from(DEPTHS)))
    if draw(st.booleans()):
        return text[:line_start] + f"deep = {value}\n" + text[line_start:]
    return text[:at] + value + text[at:]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(mutation(text))
    return text


#: Byte sequences that are not UTF-8: stray continuation bytes, bytes never used, truncated
#: sequences, overlong forms, an encoded surrogate, a code point past U+10FFFF.
BAD_BYTES = [b"\x80", b"\xbf", b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98",
             b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=200))
    data = draw(st.sampled_from(SAMPLES)).encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data  # a BOM, which reading drops
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(BAD_BYTES)) + data[at:]
    return data


# --- helpers --------------------------------------------------------------------------------------


def in_thread(fn: Callable[[], T]) -> T:
    """``fn()`` on a fresh thread, so on a stack of its own."""
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join()
    assert result, "the thread failed"
    return result[0]


def from_deep_stack(fn: Callable[[], T], frames: int = DEEP_CALLER) -> T:
    """``fn()`` called from inside a recursion ``frames`` deep."""
    return fn() if frames == 0 else from_deep_stack(fn, frames - 1)


def tomllib_offset(text: str) -> int | None:
    """Where ``tomllib`` (on a fresh thread) puts the text's first error, or None if it reads it."""

    def verdict() -> int | None:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return syntax_problem(exc, text).offset
        return None

    return in_thread(verdict)


Outcome = tuple[list[tuple[str, int]], list[Diagnostic], str]


def outcome(text: str) -> Outcome:
    """Everything the engine says about ``text``: problems, diagnostics, migration."""
    doc = parse_document(text)
    try:
        migrated = migrate_text(text)
    except MigrationError as exc:
        migrated = f"MigrationError: {exc}"
    return [(p.message, p.offset) for p in doc.problems], analyze(doc), migrated


def chunk_texts(doc: Document) -> list[str]:
    return [p.chunk.text for p in doc.placed]


# --- (a) the verdict: tomllib's, whatever the stack ---------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
@example("deployed = []\n[[deployed]]\n []\n")  # a table conflict before a broken line
@example("[deployed]\nx = 1\n[deployed]]\n")  # ... and a conflict in a broken header
@example("a = " + nested("arrays", 480) + "\n")  # tomllib reads it from a shallow stack only
@example("a = " + nested("tables", MAX_NESTING) + "\n")
def test_verdict_is_tomllibs_whatever_the_stack(text: str) -> None:
    doc = parse_document(text)
    deep = too_deep(text)
    if deep is None:
        expected = tomllib_offset(text)
        event("within the limit: " + ("valid" if expected is None else "a syntax error"))
        found = doc.problems[0].offset if doc.problems else None
        assert found == expected, (doc.problems, expected)
    else:
        event("nested too deep")
        assert doc.problems and doc.problems[0].offset <= deep.pos
    direct = outcome(text)
    assert from_deep_stack(lambda: outcome(text)) == direct
    assert in_thread(lambda: outcome(text)) == direct


# --- (b) incremental equals fresh ---------------------------------------------------------------


@st.composite
def edit_sequences(draw: st.DrawFn) -> list[str]:
    versions = [draw(st.sampled_from(SAMPLES))]
    for _ in range(draw(st.integers(1, 6))):
        versions.append(draw(mutation(versions[-1])))
    return versions


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edit_sequences())
@example([NAMELESS, "[[deployed]]\nartifact_name = 'a'\n\n" + NAMELESS])  # SM110's "record 1"
def test_incremental_parse_and_analysis_equal_fresh(versions: list[str]) -> None:
    analyzer = Analyzer()
    doc: Document | None = None
    for text in versions:
        doc = parse_document(text, previous=doc)
        fresh = parse_document(text)
        assert chunk_texts(doc) == chunk_texts(fresh)
        assert [(p.message, p.offset) for p in doc.problems] == [
            (p.message, p.offset) for p in fresh.problems
        ]
        assert analyzer.analyze(doc) == analyze(fresh), text


# --- (c) migration: stable TOML, or a MigrationError ------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_migration_gives_stable_toml_or_refuses(text: str) -> None:
    try:
        migrated = migrate_text(text)
    except MigrationError as exc:
        event("refused")
        assert str(exc)
        return
    event("migrated")
    assert isinstance(tomllib.loads(migrated), dict)
    assert migrate_text(migrated) == migrated


# --- (d) bytes that are not UTF-8 ---------------------------------------------------------------


def first_bad_byte(data: bytes) -> tuple[int, int, int, int] | None:
    """(offset in the read text, the byte, 1-based line, 1-based column) of the first byte that
    is not UTF-8, worked out from the bytes; None for UTF-8."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = body[: exc.start].decode("utf-8")
        line_start = before.rfind("\n") + 1
        return len(before), body[exc.start], before.count("\n") + 1, len(before) - line_start + 1
    return None


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "p" / ".claude" / ".skillmeat-deployed.toml"
    path.parent.mkdir(parents=True)
    return path


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_bytes())
@example(b'[[deployed]]\nartifact_name = "caf\xe9"\n')  # Latin-1, the usual culprit
@example(b"\xff\xfe[[deployed]]\x00\n")
def test_bytes_that_are_not_utf8_are_one_sm100_at_the_first(folder: Path, data: bytes) -> None:
    folder.write_bytes(data)
    text = read_text(folder)
    doc = parse_document(text)
    found = analyze(doc)
    bad = first_bad_byte(data)
    event("UTF-8" if bad is None else "not UTF-8")
    if bad is None:
        assert doc.readable
        return
    offset, byte, line, column = bad
    assert not doc.readable
    [diagnostic] = found
    assert (diagnostic.code, diagnostic.span[0]) == ("SM100", offset)
    assert f"(0x{byte:02x}) at line {line}, column {column}:" in diagnostic.message
    assert doc.position(offset, UTF32) == (line - 1, column - 1)
    for encoding in (UTF8, UTF16):  # the bad byte itself is one code point, in any encoding
        assert doc.offset_at(*doc.position(offset + 1, encoding), encoding) == offset + 1
    with pytest.raises(MigrationError, match=rf"not UTF-8 \(0x{byte:02x}\) at line {line}, column "
                       rf"{column}; nothing written"):
        migrate_text(text)
    result = LintResult([FileReport(folder, doc, found)], [])
    for render in RENDERERS.values():
        printed = render(result)
        printed.encode("utf-8")  # no lone surrogate reaches the output
        assert f"0x{byte:02x}" in printed
    assert json.loads(RENDERERS["json"](result))["files"][0]["diagnostics"][0]["line"] == line
