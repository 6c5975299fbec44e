"""What ``check`` prints, in each of its formats, and whether the run fails.

Plain functions from a :class:`~skillmeat_ls.lint.LintResult` to text: ``text`` for people
(``path:line:col: severity CODE message``, like a compiler), ``json``, ``sarif`` (one SARIF 2.1.0
log for code scanning: rules, results with 1-based regions in code points, and fingerprints built
from the artifact a finding is about, so an alert survives records moving in the file) and
``github`` (workflow commands that become annotations). Paths are shown relative to the current
directory where they lie under it. Nothing here reads files or knows the protocol.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from skillmeat_ls import __version__
from skillmeat_ls.document import UTF32, Document
from skillmeat_ls.lint import FileReport, LintResult, shown_path
from skillmeat_ls.rules import SEVERITY, SUMMARIES, Diagnostic, Severity, subject_of
from skillmeat_ls.workspace import is_deployment_file

FORMATS = ("text", "json", "sarif", "github")
SEVERITY_NAMES = {1: "error", 2: "warning", 3: "information", 4: "hint"}
#: ``--fail-level``: a finding at this severity or above fails the run.
FAIL_LEVELS = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "information": Severity.INFORMATION,
}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HELP_URI = "https://pypi.org/project/skillmeat-ls/"
_SARIF_LEVELS = {1: "error", 2: "warning", 3: "note", 4: "note"}
_GITHUB_COMMANDS = {1: "error", 2: "warning", 3: "notice", 4: "notice"}


def fails(result: LintResult, level: str) -> bool:
    """True when some finding is at ``level`` or above (hints never fail a run)."""
    threshold = FAIL_LEVELS[level]
    return any(d.severity <= threshold for r in result.reports for d in r.diagnostics)


def _place(document: Document, diagnostic: Diagnostic) -> tuple[int, int, int, int]:
    """1-based (line, column, end line, end column), columns in code points."""
    line, column = document.position(diagnostic.span[0], encoding=UTF32)
    end_line, end_column = document.position(diagnostic.span[1], encoding=UTF32)
    return line + 1, column + 1, end_line + 1, end_column + 1


def _findings(report: FileReport) -> Iterator[tuple[Diagnostic, tuple[int, int, int, int]]]:
    if report.document is not None:
        for diagnostic in report.diagnostics:
            yield diagnostic, _place(report.document, diagnostic)


def _counts(result: LintResult) -> tuple[int, int, int]:
    return (
        result.count(Severity.ERROR),
        result.count(Severity.WARNING),
        result.count(Severity.INFORMATION) + result.count(Severity.HINT),
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# --- text and JSON --------------------------------------------------------------------------------


def render_text(result: LintResult) -> str:
    lines = []
    for report in result.reports:
        if report.error is not None:
            lines.append(f"{report.path}: error {report.error}")
            continue
        for diagnostic, (line, column, _, _) in _findings(report):
            severity = SEVERITY_NAMES[diagnostic.severity]
            lines.append(f"{report.path}:{line}:{column}: {severity} {diagnostic.code} "
                         f"{diagnostic.message}")
    errors, warnings, infos = _counts(result)
    noun = "file" if len(result.reports) == 1 else "files"
    lines.append(
        f"{len(result.reports)} deployment {noun} checked: {_plural(errors, 'error')}, "
        f"{_plural(warnings, 'warning')}, {infos} information"
    )
    return "\n".join(lines)


def _diagnostic_json(document: Document, diagnostic: Diagnostic) -> dict[str, object]:
    start = document.position(diagnostic.span[0])
    end = document.position(diagnostic.span[1])
    line, column = document.position(diagnostic.span[0], encoding=UTF32)
    related = []
    for item in diagnostic.related:
        entry: dict[str, object] = {"message": item.message}
        if item.path is not None:
            entry["path"] = str(item.path)
        if item.span is not None:
            entry["line"] = document.position(item.span[0])[0] + 1
        related.append(entry)
    return {
        "code": diagnostic.code,
        "severity": SEVERITY_NAMES[diagnostic.severity],
        "message": diagnostic.message,
        "line": line + 1,
        "column": column + 1,
        "range": {
            "start": {"line": start[0], "character": start[1]},
            "end": {"line": end[0], "character": end[1]},
        },
        "related": related,
        "data": diagnostic.data,
    }


def render_json(result: LintResult) -> str:
    files = [
        {
            "path": str(report.path),
            "error": report.error,
            "diagnostics": [_diagnostic_json(report.document, d) for d in report.diagnostics]
            if report.document is not None
            else [],
        }
        for report in result.reports
    ]
    errors, warnings, infos = _counts(result)
    summary = {"files": len(result.reports), "errors": errors, "warnings": warnings,
               "information": infos}
    return json.dumps({"files": files, "notes": result.notes, "summary": summary}, indent=2)


# --- SARIF ----------------------------------------------------------------------------------------


def _subject(report: FileReport, diagnostic: Diagnostic) -> str:
    """What a finding is about, independent of where it sits: the record's artifact, or the
    file itself."""
    assert report.document is not None
    root = report.path.parent.name if is_deployment_file(report.path) else None
    subject = subject_of(report.document, diagnostic, root)
    return "file" if subject is None else ":".join((subject[2], subject[1], subject[0]))


def _fingerprints(path: str, report: FileReport) -> list[str]:
    """One stable fingerprint per finding: file, code, subject (and an ordinal among equals)."""
    assert report.document is not None
    seen: Counter[str] = Counter()
    prints = []
    for diagnostic in report.diagnostics:
        key = f"{path}\0{diagnostic.code}\0{_subject(report, diagnostic)}"
        seen[key] += 1
        prints.append(hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest())
    return prints


def _sarif_rules() -> list[dict[str, Any]]:
    return [
        {
            "id": code,
            "name": code,
            "shortDescription": {"text": SUMMARIES[code]},
            "helpUri": f"{HELP_URI}#diagnostics",
            "defaultConfiguration": {"level": _SARIF_LEVELS[severity]},
        }
        for code, severity in SEVERITY.items()
    ]


def render_sarif(result: LintResult) -> str:
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for report in result.reports:
        path = shown_path(report.path)
        location = {"uri": quote(path), "uriBaseId": "%SRCROOT%"}
        if report.error is not None:
            notifications.append({
                "level": "error",
                "message": {"text": f"{path}: {report.error}"},
                "locations": [{"physicalLocation": {"artifactLocation": location}}],
            })
            continue
        prints = _fingerprints(path, report)
        for (diagnostic, (line, column, end_line, end_column)), fingerprint in zip(
            _findings(report), prints, strict=True
        ):
            results.append({
                "ruleId": diagnostic.code,
                "level": _SARIF_LEVELS[diagnostic.severity],
                "message": {"text": diagnostic.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": location,
                        "region": {
                            "startLine": line,
                            "startColumn": column,
                            "endLine": end_line,
                            "endColumn": max(end_column, column) if end_line == line
                            else end_column,
                        },
                    }
                }],
                "partialFingerprints": {"skillmeatFinding/v1": fingerprint},
            })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "skillmeat-ls",
                "version": __version__,
                "informationUri": HELP_URI,
                "rules": _sarif_rules(),
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": not notifications,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    }
    return json.dumps(log, indent=2)


# --- GitHub workflow commands ---------------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``file=``, ``title=``), escaped as GitHub's toolkit
    does: as data, and ``:`` and ``,`` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: LintResult) -> str:
    lines = []
    for report in result.reports:
        path = escape_property(shown_path(report.path))
        if report.error is not None:
            lines.append(f"::error file={path},title=skillmeat-ls::{escape_data(report.error)}")
            continue
        for diagnostic, (line, column, end_line, end_column) in _findings(report):
            command = _GITHUB_COMMANDS[diagnostic.severity]
            lines.append(
                f"::{command} file={path},line={line},col={column},endLine={end_line},"
                f"endColumn={end_column},title={escape_property(diagnostic.code)}::"
                f"{escape_data(diagnostic.message)}"
            )
    errors, warnings, infos = _counts(result)
    lines.append(
        f"skillmeat-ls: {len(result.reports)} deployment files checked: "
        f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}, {infos} information"
    )
    return "\n".join(lines)


RENDERERS = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}
