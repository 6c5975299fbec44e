"""The runner: which rules run, in which order, and what is reused between versions of a file.

:class:`Analyzer` keeps, for each record's chunk, what the rules concluded from that chunk alone
(:class:`ChunkFacts`). The parser shares unchanged chunks between successive versions of a
document, so a keystroke re-derives the facts of the edited record only; the rules that read
the whole record list then run over facts already at hand. Facts that name a record by its number
(:func:`~skillmeat_ls.rules.records.numbered`) are reused only while the record keeps its number.

A document that is not UTF-8 (``readable`` false) gets its one SM100 and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from skillmeat_ls.chunks import Chunk
from skillmeat_ls.document import Document, Record
from skillmeat_ls.rules.collisions import (
    RecordKeys,
    keys_of,
    rule_duplicate_records,
    rule_shared_names,
    rule_shared_paths,
)
from skillmeat_ls.rules.context import Context
from skillmeat_ls.rules.diagnostic import Diagnostic
from skillmeat_ls.rules.environment import (
    rule_collection_reference,
    rule_copy_leaves_root,
    rule_drift,
    rule_missing_on_disk,
    rule_plan_file_name,
    rule_profile_root,
)
from skillmeat_ls.rules.records import (
    numbered,
    rule_artifact_type,
    rule_field_formats,
    rule_path_containment,
    rule_path_folder,
    rule_required_fields,
)
from skillmeat_ls.rules.settings import RuleSettings
from skillmeat_ls.rules.structure import (
    rule_legacy_schema,
    rule_mixed_schema,
    rule_syntax,
    rule_unknown_top_level,
)

#: Rules that read the document's structure.
DOCUMENT_RULES: tuple[Callable[[Document], Iterable[Diagnostic]], ...] = (
    rule_syntax,
    rule_legacy_schema,
    rule_mixed_schema,
    rule_unknown_top_level,
)
#: Rules that compare the records with each other.
COLLISION_RULES: tuple[
    Callable[[Sequence[Record], Sequence[RecordKeys]], Iterable[Diagnostic]], ...
] = (
    rule_duplicate_records,
    rule_shared_names,
    rule_shared_paths,
)
#: Rules that read one record only: run once per chunk.
RECORD_RULES: tuple[Callable[[Record], Iterable[Diagnostic]], ...] = (
    rule_required_fields,
    rule_field_formats,
    rule_artifact_type,
    rule_path_containment,
    rule_path_folder,
)
#: Rules that read the document and the environment.
ENVIRONMENT_RULES: tuple[Callable[[Document, Context], Iterable[Diagnostic]], ...] = (
    rule_plan_file_name,
)
#: Rules that read one record and the environment (collections, disk).
RECORD_ENVIRONMENT_RULES: tuple[
    Callable[[Document, Record, Context], Iterable[Diagnostic]], ...
] = (
    rule_profile_root,
    rule_collection_reference,
    rule_missing_on_disk,
    rule_copy_leaves_root,
    rule_drift,
)

#: What the environment rules' results for a record depend on besides the record: the
#: collections index (by identity), the disk probe's window and the file's place.
EnvironmentKey = tuple[int, int | None, Path | None]


@dataclass(slots=True)
class ChunkFacts:
    """What the rules concluded from one record's chunk alone, spans relative to the chunk."""

    #: Held so that the chunk outlives this entry: its ``id()``, the entry's key, stays its own.
    chunk: Chunk
    keys: RecordKeys
    #: The record rules' findings.
    findings: list[Diagnostic]
    #: The record's number among the document's records, when the findings mention it; else None.
    number: int | None
    #: The record environment rules' findings, and the environment they were computed in.
    environment: tuple[EnvironmentKey, list[Diagnostic]] | None = None


def _facts(record: Record) -> ChunkFacts:
    chunk = record.chunk
    findings: list[Diagnostic] = []
    if chunk.data is not None:  # else its syntax error (SM100) says it all
        local = _at_chunk_start(record)
        findings = [d for rule in RECORD_RULES for d in rule(local)]
    return ChunkFacts(chunk, keys_of(record), findings, record.index if numbered(record) else None)


def _place(diagnostic: Diagnostic) -> tuple[tuple[int, int], str]:
    """The order diagnostics are reported in."""
    return diagnostic.span, diagnostic.code


def _at_chunk_start(record: Record) -> Record:
    """``record`` placed at offset 0, so that what rules find is relative to its chunk."""
    return Record(record.schema, record.chunk, 0, 0, record.index)


class Analyzer:
    """Runs every rule over successive versions of one document, reusing per-record results.

    Record rules and record keys are computed once per chunk. Environment rules per record are
    reused too, for as long as the environment is the same: the same collections index and the
    same window of the disk probe (see :class:`~skillmeat_ls.workspace.DiskProbe`). A keystroke
    therefore re-checks the edited record only.
    """

    def __init__(self, settings: RuleSettings | None = None) -> None:
        self.settings = settings or RuleSettings()
        #: ``id(chunk)`` -> its facts, for the chunks of the last document analysed.
        self._facts: dict[int, ChunkFacts] = {}
        self._env_index: object = None  # keeps the index alive while its id() is a key
        #: What the rules that read only the text found in the last document analysed (with
        #: the rule settings applied): a function of the text and the settings alone.
        self.text_findings: list[Diagnostic] = []

    def analyze(self, doc: Document, context: Context | None = None) -> list[Diagnostic]:
        """Every diagnostic of ``doc``. What the rules reading the text alone found (no disk, no
        collections) is kept as :attr:`text_findings`."""
        context = context or Context()
        if doc.readable:
            text_found, facts_list = self._run(doc)
            found = text_found + self._environment(doc, context, facts_list)
        else:
            text_found = found = list(rule_syntax(doc))
        settings = self.settings.over(context.project) if context.project else self.settings
        self.text_findings = settings.apply(sorted(text_found, key=_place), doc, context.root_name)
        found.sort(key=_place)
        return settings.apply(found, doc, context.root_name)

    def _run(self, doc: Document) -> tuple[list[Diagnostic], list[ChunkFacts]]:
        """What the rules reading the text find, and each record's facts."""
        records, known = doc.records, self._facts
        live: dict[int, ChunkFacts] = {}
        # One list per pass, in record order (no per-record pairs: see the collision rules).
        facts_list: list[ChunkFacts] = []
        for record in records:
            facts = known.get(id(record.chunk))
            if facts is None or (facts.number is not None and facts.number != record.index):
                facts = _facts(record)
            live[id(record.chunk)] = facts
            facts_list.append(facts)
        self._facts = live  # forget chunks the document no longer has

        found: list[Diagnostic] = []
        for rule in DOCUMENT_RULES:
            found.extend(rule(doc))
        keys = [facts.keys for facts in facts_list]
        for collision_rule in COLLISION_RULES:
            found.extend(collision_rule(records, keys))
        for record, facts in zip(records, facts_list, strict=True):
            if facts.findings:
                found.extend(d.shifted(record.offset) for d in facts.findings)
        return found, facts_list

    def _environment(
        self, doc: Document, context: Context, facts_list: list[ChunkFacts]
    ) -> list[Diagnostic]:
        """What the rules looking at the disk and the collections find."""
        self._env_index = context.collections
        key: EnvironmentKey = (
            id(context.collections),
            context.disk.generation if context.disk is not None else None,
            context.file_path,
        )
        found: list[Diagnostic] = []
        for env_rule in ENVIRONMENT_RULES:
            found.extend(env_rule(doc, context))
        for record, facts in zip(doc.records, facts_list, strict=True):
            if record.schema == "legacy" or record.chunk.data is None:
                # a legacy record's collection lives in [deployment]: not reused per chunk
                for rule in RECORD_ENVIRONMENT_RULES:
                    found.extend(rule(doc, record, context))
                continue
            cached = facts.environment
            if cached is None or cached[0] != key:
                local = _at_chunk_start(record)
                here = [d for rule in RECORD_ENVIRONMENT_RULES for d in rule(doc, local, context)]
                cached = facts.environment = (key, here)
            if cached[1]:
                found.extend(d.shifted(record.offset) for d in cached[1])
        return found


def analyze(
    doc: Document, context: Context | None = None, settings: RuleSettings | None = None
) -> list[Diagnostic]:
    """Every diagnostic of ``doc`` (a one-off; editors keep an :class:`Analyzer` per document)."""
    return Analyzer(settings).analyze(doc, context)
