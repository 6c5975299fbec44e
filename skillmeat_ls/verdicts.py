"""Remembered analyses of deployment files on disk, for warm workspace scans.

A :class:`Verdict` is one file's placed diagnostics kept with everything they were computed from:

* the digest of the file's text;
* the digest of the other inputs (:func:`inputs_digest`): this version of the rules, the editor's
  and the project's rule settings, the position encoding, the profile overrides SkillMeat reads
  from the environment, and the collections index;
* every question the rules asked the :class:`~skillmeat_ls.workspace.DiskProbe` (does this exist,
  what is its hash, does it lead outside the root) with its answer.

It stands (:meth:`Verdict.holds`) only while all of it is the same again: the text is read and
digested, the inputs compared, and each question asked again — which the probe answers from the
copies' stat fingerprints and the stored hashes, so a warm scan reads and stats but neither
parses nor hashes. A verdict is JSON, stored in the cache (``file_verdicts``) by the server and
handed to the scan's workers with their files; anything unreadable in it is no verdict.

A *text verdict* is a verdict that asked the disk nothing: what the rules that read only the text
found in the text a file was last opened or saved with (``text_verdicts``), with the digests of
that text and of the rule settings (:func:`text_inputs_digest`). Those findings depend on nothing
else, so when the same text is opened again with the same settings they are its diagnostics for
certain, and the server shows them at once, before it has parsed the text; the complete
diagnostics follow.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat_ls import code_digest
from skillmeat_ls.profiles import ENV_OVERRIDES
from skillmeat_ls.rules import Diagnostic, Related, RuleSettings, Severity

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionIndex
    from skillmeat_ls.scan import PlacedDiagnostic
    from skillmeat_ls.workspace import DiskProbe


def verdict_format() -> str:
    """The shape of a verdict and the code that made it (:func:`~skillmeat_ls.code_digest`): a
    verdict made by other code is not reused."""
    return f"1/{code_digest()}"


#: One question to the disk probe: (method, profile root, relative path) and its answer.
Question = tuple[str, str, str]


def text_digest(text: str) -> str:
    """The sha256 of ``text``. The last text's is kept: the same text is digested to check a
    verdict and again to make one (an opened file, a file the scan analyses)."""
    global _last_digest
    last = _last_digest  # read once: another thread may replace it meanwhile
    if last is None or last[0] is not text:
        digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
        last = _last_digest = (text, digest)
    return last[1]


_last_digest: tuple[str, str] | None = None


def _settings_form(settings: RuleSettings | None) -> Any:
    if settings is None:
        return None
    return [
        sorted(settings.disabled),
        sorted((code, int(level)) for code, level in settings.severity.items()),
        [repr(ignore) for ignore in settings.ignores],
    ]


_INDEX_DIGESTS: dict[int, tuple[CollectionIndex, str]] = {}


def _index_digest(index: CollectionIndex | None) -> str:
    """A digest of everything in ``index`` (computed once per index object)."""
    if index is None:
        return "-"
    known = _INDEX_DIGESTS.get(id(index))
    if known is not None and known[0] is index:
        return known[1]
    digest = hashlib.sha256(repr(index).encode("utf-8", "surrogateescape")).hexdigest()
    _INDEX_DIGESTS.clear()  # one index at a time is analysed with
    _INDEX_DIGESTS[id(index)] = (index, digest)
    return digest


def text_inputs_digest(rules: RuleSettings, project: RuleSettings | None, encoding: str) -> str:
    """The digest of what a file's text findings depend on besides its text (the profile
    overrides too: an ``[[ignore]]`` names a profile, which a root's name may stand for)."""
    return _digest(_settings_inputs(rules, project, encoding))


def inputs_digest(
    rules: RuleSettings,
    project: RuleSettings | None,
    encoding: str,
    index: CollectionIndex | None,
) -> str:
    """The digest of what a file's diagnostics depend on besides its text and the disk."""
    return _digest([*_settings_inputs(rules, project, encoding), _index_digest(index)])


def _settings_inputs(rules: RuleSettings, project: RuleSettings | None, encoding: str) -> list[Any]:
    return [
        verdict_format(),
        _settings_form(rules),
        _settings_form(project),
        encoding,
        os.environ.get(ENV_OVERRIDES),
    ]


def _digest(form: list[Any]) -> str:
    return hashlib.sha256(json.dumps(form).encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    text: str
    inputs: str
    asked: tuple[tuple[Question, Any], ...]
    diagnostics: tuple[PlacedDiagnostic, ...]

    def holds(self, text: str, inputs: str, disk: DiskProbe) -> bool:
        """Whether this verdict is what analysing ``text`` with ``inputs`` would give now."""
        if (self.text, self.inputs) != (text_digest(text), inputs):
            return False
        return all(disk.answer(question) == answer for question, answer in self.asked)

    def to_json(self) -> str | None:
        """The verdict as JSON; None if a diagnostic carries data JSON cannot hold."""
        try:
            return json.dumps(
                {
                    "format": verdict_format(),
                    "text": self.text,
                    "inputs": self.inputs,
                    "asked": _asked_form(self.asked),
                    "diagnostics": [_placed_form(placed) for placed in self.diagnostics],
                },
                separators=(",", ":"),
            )
        except (TypeError, ValueError):
            return None

    @classmethod
    def from_json(cls, content: str) -> Verdict | None:
        """The verdict ``content`` holds; None for anything else (another format, damage)."""
        try:
            data = json.loads(content)
            if not isinstance(data, dict) or data.get("format") != verdict_format():
                return None  # made by other code, or not a verdict at all
            return cls(
                str(data["text"]),
                str(data["inputs"]),
                tuple(
                    ((str(method), str(root), str(relative)), answer)
                    for root, questions in data["asked"]
                    for method, relative, answer in questions
                ),
                tuple(_placed(item) for item in data["diagnostics"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _asked_form(asked: Iterable[tuple[Question, Any]]) -> list[Any]:
    """The questions grouped by profile root (a file's are all about its own): each root once."""
    by_root: dict[str, list[Any]] = {}
    for (method, root, relative), answer in asked:
        by_root.setdefault(root, []).append([method, relative, answer])
    return [[root, questions] for root, questions in by_root.items()]


def _placed_form(placed: PlacedDiagnostic) -> list[Any]:
    d = placed.diagnostic
    return [
        d.code,
        int(d.severity),
        d.message,
        list(d.span),
        [
            [r.message, list(r.span) if r.span else None, str(r.path) if r.path else None]
            for r in d.related
        ],
        d.data,
        list(placed.start),
        list(placed.end),
        [[list(pair[0]), list(pair[1])] if pair else None for pair in placed.related],
    ]


def _placed(item: Sequence[Any]) -> PlacedDiagnostic:
    from skillmeat_ls.scan import PlacedDiagnostic

    code, severity, message, span, related, data, start, end, placed_related = item
    diagnostic = Diagnostic(
        str(code),
        Severity(severity),
        str(message),
        (int(span[0]), int(span[1])),
        tuple(
            Related(
                str(text),
                (int(where[0]), int(where[1])) if where else None,
                Path(path) if path else None,
            )
            for text, where, path in related
        ),
        dict(data) if data is not None else None,
    )
    return PlacedDiagnostic(
        diagnostic,
        (int(start[0]), int(start[1])),
        (int(end[0]), int(end[1])),
        tuple(
            ((int(p[0][0]), int(p[0][1])), (int(p[1][0]), int(p[1][1]))) if p else None
            for p in placed_related
        ),
    )


def read_verdicts(rows: Mapping[str, str], paths: Iterable[Path]) -> dict[Path, Verdict]:
    """The verdicts of ``paths`` among stored ``rows`` (path -> JSON) that can be read."""
    found: dict[Path, Verdict] = {}
    for path in paths:
        content = rows.get(str(path))
        verdict = Verdict.from_json(content) if content is not None else None
        if verdict is not None:
            found[path] = verdict
    return found
