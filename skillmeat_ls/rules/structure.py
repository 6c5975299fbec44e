"""File rules (SM100–SM103): the file's syntax and the shape of its top level.

Each reads the parsed document only: its syntax problems, its tables and its root keys.
"""

from __future__ import annotations

from collections.abc import Iterator

from skillmeat_ls.document import Document, PlacedChunk, Span
from skillmeat_ls.rules.diagnostic import Diagnostic, finding
from skillmeat_ls.schema import LEGACY_HEADER_KEYS, LEGACY_KEPT_TABLE


def rule_syntax(doc: Document) -> Iterator[Diagnostic]:
    """SM100: TOML syntax errors, at the parser's position; text that is not UTF-8, at the first
    bad byte (its problem says so itself)."""
    prefix = "TOML syntax error: " if doc.readable else ""
    for problem in doc.problems:
        end = min(problem.offset + 1, len(doc.text))
        if end <= problem.offset or doc.text[problem.offset : end] == "\n":
            end = problem.offset
        yield finding("SM100", prefix + problem.message, (problem.offset, end))


_LEGACY_TOP = frozenset({"deployment", "artifacts"})


def _legacy_tables(doc: Document) -> list[PlacedChunk]:
    return [p for p in doc.tables() if p.chunk.path and p.chunk.path[0] in _LEGACY_TOP]


def _unified_places(doc: Document) -> list[Span]:
    spans = [r.header_span for r in doc.unified_records()]
    root = doc.root
    if root is not None and "deployed" in root.chunk.entries:
        entry = root.chunk.entries["deployed"]
        spans.append((root.offset + entry.key_span[0], root.offset + entry.key_span[1]))
    return sorted(spans)


def rule_legacy_schema(doc: Document) -> Iterator[Diagnostic]:
    """SM101: the legacy schema; on the first legacy header."""
    legacy = _legacy_tables(doc)
    if legacy:
        yield finding(
            "SM101",
            "legacy deployment schema ([deployment]/[[artifacts]]): SkillMeat "
            "reads this file as empty and overwrites it on its next deploy; migrate it "
            "to [[deployed]] records",
            legacy[0].header_span,
        )


def rule_mixed_schema(doc: Document) -> Iterator[Diagnostic]:
    """SM102: legacy and unified records in one file; on the first header of the later schema."""
    legacy = [p.header_span for p in _legacy_tables(doc)]
    if not legacy:
        return  # (a keystroke in a unified file then costs no pass over its records here)
    unified = _unified_places(doc)
    if unified:
        span = max(legacy[0], unified[0])
        yield finding(
            "SM102",
            "legacy and unified records are mixed in one file: each SkillMeat "
            "reader sees only its half, and the next write loses the other",
            span,
        )


#: ``legacy-deployment`` holds a header-only legacy file's values after migration (kept, lossless).
_KNOWN_TOP = frozenset({"deployed", "deployment", "artifacts", LEGACY_KEPT_TABLE})


def rule_unknown_top_level(doc: Document) -> Iterator[Diagnostic]:
    """SM103: unknown top-level keys and tables."""
    root = doc.root
    if root is not None:
        for key, entry in root.chunk.entries.items():
            if key != "deployed":
                span = (root.offset + entry.key_span[0], root.offset + entry.key_span[1])
                yield finding(
                    "SM103",
                    f"unknown top-level key '{key}' (SkillMeat ignores it and "
                    "drops it on its next write)",
                    span,
                )
    for placed in doc.tables():
        if not placed.chunk.path or placed.chunk.path[0] not in _KNOWN_TOP:
            name = ".".join(placed.chunk.path)
            yield finding(
                "SM103",
                f"unknown table [{name}] (SkillMeat ignores it and drops it on its next write)",
                placed.header_span,
            )
    if doc.legacy_header is not None:
        for key, entry in doc.legacy_header.chunk.entries.items():
            if key not in LEGACY_HEADER_KEYS:
                offset = doc.legacy_header.offset
                yield finding(
                    "SM103",
                    f"unknown key '{key}' in [deployment]",
                    (offset + entry.key_span[0], offset + entry.key_span[1]),
                )
