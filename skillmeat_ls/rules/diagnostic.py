"""What a rule reports: :class:`Diagnostic`, its :class:`Severity`, and every code's defaults.

The codes are SPEC §4's; :data:`SEVERITY` holds each one's default severity and :data:`SUMMARIES`
its one-line description. Spans are code-point offsets into the document's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

from skillmeat_ls.document import Span


class Severity(IntEnum):
    """LSP's severities, by number."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4


@dataclass(frozen=True)
class Related:
    """Another place that explains a diagnostic: a span in the same document, or a file."""

    message: str
    span: Span | None = None
    path: Path | None = None


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    related: tuple[Related, ...] = ()
    data: dict[str, Any] | None = None

    def shifted(self, offset: int) -> Diagnostic:
        """The same finding ``offset`` characters further on (built directly: this runs for
        every memoised finding on every keystroke, and ``dataclasses.replace`` is slow)."""
        if not offset:
            return self
        start, end = self.span
        related = self.related
        if related:
            related = tuple(
                Related(r.message, (r.span[0] + offset, r.span[1] + offset), None)
                if r.span and not r.path else r
                for r in related
            )
        return Diagnostic(self.code, self.severity, self.message, (start + offset, end + offset),
                          related, self.data)


SEVERITY = {
    "SM100": Severity.ERROR,
    "SM101": Severity.WARNING,
    "SM102": Severity.ERROR,
    "SM103": Severity.WARNING,
    "SM104": Severity.INFORMATION,
    "SM105": Severity.WARNING,
    "SM110": Severity.ERROR,
    "SM111": Severity.ERROR,
    "SM112": Severity.WARNING,
    "SM113": Severity.WARNING,
    "SM114": Severity.ERROR,
    "SM120": Severity.ERROR,
    "SM121": Severity.INFORMATION,
    "SM122": Severity.ERROR,
    "SM130": Severity.WARNING,
    "SM131": Severity.WARNING,
    "SM132": Severity.WARNING,
    "SM133": Severity.WARNING,
    "SM140": Severity.INFORMATION,
    "SM141": Severity.INFORMATION,
    "SM142": Severity.WARNING,
}
ALL_CODES = tuple(SEVERITY)
#: One line per code, as SPEC §4 words it (SARIF's ``shortDescription``, the CLI's help).
SUMMARIES = {
    "SM100": "TOML syntax error",
    "SM101": "legacy deployment schema ([deployment] / [[artifacts]])",
    "SM102": "legacy and unified records mixed in one file",
    "SM103": "unknown top-level key or table",
    "SM104": "a deployment.toml, which SkillMeat never reads",
    "SM105": "profile_root_dir names another profile root than the file's",
    "SM110": "a required field is missing from a record",
    "SM111": "a field has the wrong type or format",
    "SM112": "unknown artifact type",
    "SM113": "artifact_path lies under another type's folder",
    "SM114": "artifact_path is absolute or leaves its profile root",
    "SM120": "one (name, type) recorded twice",
    "SM121": "one name used by records of different types",
    "SM122": "two records resolve to the same artifact_path",
    "SM130": "from_collection names no known collection",
    "SM131": "the collection holds no artifact of that (name, type)",
    "SM132": "the deployed artifact is missing on disk",
    "SM133": "the deployed copy holds a symlink or special file leading outside its profile root",
    "SM140": "modified locally since it was deployed",
    "SM141": "update available in the collection",
    "SM142": "conflict: changed both locally and in the collection",
}


def finding(
    code: str,
    message: str,
    span: Span,
    *,
    severity: Severity | None = None,
    related: tuple[Related, ...] = (),
    data: dict[str, Any] | None = None,
) -> Diagnostic:
    """A diagnostic of ``code`` at its default severity unless the rule says otherwise."""
    return Diagnostic(code, severity or SEVERITY[code], message, span, related, data)
