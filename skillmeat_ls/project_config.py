"""Per-project rule configuration: ``skillmeat-ls.toml`` or ``.skillmeat-ls.toml``.

A project's config file is the nearest one in the project root or a folder above it, up to the
workspace root (in the editor) or the repository root (a folder holding ``.git``) or the current
directory (on the command line); in one folder ``skillmeat-ls.toml`` wins over the hidden name.
It holds ``[rules]`` (``SM121 = false``), ``[severity]`` (``SM140 = "hint"``) and ``[[ignore]]``
entries (``code``, optional ``artifact = "name:type"``, optional ``profile``, and a ``reason``).
Editor settings apply on top of it. Suppression lives here, not in comments of the deployment
file, because SkillMeat's writer drops every comment on its next write.

A bad config file is reported as diagnostics on the config file itself (SM100 for TOML syntax,
SM103 for unknown keys and tables, SM110 for a missing ``code`` or ``reason``, SM111 for a bad
value), never raised; what can be read of it still applies.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from skillmeat_ls.document import Document, Span, parse_document
from skillmeat_ls.rules import (
    ALL_CODES,
    SEVERITY_BY_NAME,
    Diagnostic,
    Ignore,
    RuleSettings,
    Severity,
    finding,
    rule_syntax,
)
from skillmeat_ls.schema import KNOWN_TYPES, Identity, identity
from skillmeat_ls.tomlread import loads
from skillmeat_ls.writer import toml_string

CONFIG_NAMES = ("skillmeat-ls.toml", ".skillmeat-ls.toml")
#: The name the "Ignore" quick fix creates when a project has no config file yet.
NEW_CONFIG_NAME = CONFIG_NAMES[0]
MAX_CONFIG_BYTES = 1 << 20
_IGNORE_KEYS = ("code", "artifact", "profile", "reason")


@dataclass(frozen=True)
class ProjectConfig:
    """One config file as read: the settings it gives and what is wrong with it."""

    path: Path
    settings: RuleSettings
    problems: tuple[Diagnostic, ...] = ()
    document: Document | None = None


def find_config(start: Path, stop: Path | None = None) -> Path | None:
    """The config file nearest to ``start`` (a project root), looking up to ``stop``, else to
    the repository root (a folder with ``.git``), else to the filesystem root."""
    folder = Path(os.path.abspath(start))
    while True:
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        if folder == stop or (stop is None and (folder / ".git").exists()):
            return None
        if folder.parent == folder:
            return None
        folder = folder.parent


def _problem(code: str, message: str, span: Span) -> Diagnostic:
    return finding(code, f"{CONFIG_NAMES[0]}: {message}", span)


def _span_of(document: Document, table: tuple[str, ...], key: str | None, index: int = 0) -> Span:
    """The smallest span naming ``key`` of ``table`` (the ``index``-th of an array of tables)."""
    seen = 0
    for placed in document.placed:
        if not table and key is not None and placed.chunk.path[:1] == (key,):
            return placed.header_span  # a top-level table, not a key
        if placed.chunk.path != table:
            continue
        if seen < index:
            seen += 1
            continue
        if key is not None:
            entry = placed.chunk.entries.get(key)
            if entry is not None:
                return (placed.offset + entry.key_span[0], placed.offset + entry.key_span[1])
        return placed.header_span
    return (0, 0)


def parse_config(path: Path, text: str) -> ProjectConfig:
    """The settings ``text`` (the content of ``path``) gives, and its problems."""
    document = parse_document(text)
    syntax = tuple(rule_syntax(document))
    if syntax:
        return ProjectConfig(path, RuleSettings(), syntax, document)
    data = loads(text)
    problems: list[Diagnostic] = []

    def bad(
        code: str, message: str, table: tuple[str, ...], key: str | None, index: int = 0
    ) -> None:
        problems.append(_problem(code, message, _span_of(document, table, key, index)))

    for key in data:
        if key not in ("rules", "severity", "ignore"):
            bad("SM103", f"unknown key or table '{key}' (known: rules, severity, ignore)", (), key)
    disabled: set[str] = set()
    severity: dict[str, Severity] = {}
    for table, values in (("rules", data.get("rules")), ("severity", data.get("severity"))):
        if values is None:
            continue
        if not isinstance(values, dict):
            bad("SM111", f"'{table}' must be a table", (), table)
            continue
        for code, value in values.items():
            if code not in ALL_CODES:
                bad("SM111", f"unknown code '{code}'", (table,), code)
            elif table == "rules" and isinstance(value, bool):
                if not value:
                    disabled.add(code)
            elif table == "severity" and isinstance(value, str) and value.lower() in SEVERITY_BY_NAME:
                severity[code] = SEVERITY_BY_NAME[value.lower()]
            else:
                wanted = "true or false" if table == "rules" else ", ".join(SEVERITY_BY_NAME)
                bad("SM111", f"{table}.{code} must be {wanted}", (table,), code)
    ignores: list[Ignore] = []
    entries = data.get("ignore", [])
    if not isinstance(entries, list):
        bad("SM111", "'ignore' must be an array of tables ([[ignore]])", (), "ignore")
        entries = []

    def bad_ignore(number: int, code: str, message: str, key: str | None) -> None:
        bad(code, message, ("ignore",), key, number)

    for number, entry in enumerate(entries):
        ignore = _ignore(entry, partial(bad_ignore, number))
        if ignore is not None:
            ignores.append(ignore)
    settings = RuleSettings(
        disabled=frozenset(disabled), severity=severity, ignores=tuple(ignores)
    )
    return ProjectConfig(path, settings, tuple(problems), document)


#: Reports a problem with an ``[[ignore]]`` entry: (code, message, the key it is about).
_Report = Callable[[str, str, str | None], None]


def _ignore(entry: object, bad: _Report) -> Ignore | None:
    if not isinstance(entry, dict):
        bad("SM111", "each [[ignore]] entry must be a table", None)
        return None
    for key in entry:
        if key not in _IGNORE_KEYS:
            bad("SM103", f"unknown key '{key}' in [[ignore]] (known: {', '.join(_IGNORE_KEYS)})",
                key)
    code, reason = entry.get("code"), entry.get("reason")
    if code is None or reason is None:
        missing = [k for k in ("code", "reason") if entry.get(k) is None]
        bad("SM110", f"[[ignore]] needs {' and '.join(missing)}", None)
        return None
    if code not in ALL_CODES:
        bad("SM111", f"unknown code {code!r}", "code")
        return None
    if not isinstance(reason, str) or not reason.strip():
        bad("SM111", "'reason' must say why (a non-empty string)", "reason")
        return None
    artifact = entry.get("artifact")
    pair: Identity | None = None
    if artifact is not None:
        name, sep, kind = artifact.rpartition(":") if isinstance(artifact, str) else ("", "", "")
        if not sep or not name or kind not in KNOWN_TYPES:
            bad("SM111", "'artifact' must be \"name:type\" with a known type", "artifact")
            return None
        pair = identity(name, kind)
    profile = entry.get("profile")
    if profile is not None and not (isinstance(profile, str) and profile):
        bad("SM111", "'profile' must be a profile id such as \"codex\"", "profile")
        return None
    return Ignore(code, pair, profile, reason)


def read_config(path: Path) -> ProjectConfig:
    """:func:`parse_config` of a file on disk; an unreadable file is one problem, not a crash."""
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ValueError(f"larger than {MAX_CONFIG_BYTES} bytes")
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, ValueError) as exc:
        message = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return ProjectConfig(
            path, RuleSettings(), (_problem("SM100", f"cannot read it: {message}", (0, 0)),)
        )
    return parse_config(path, text)


@dataclass
class ConfigCache:
    """Config files read once each, until :meth:`forget` (a file event) says otherwise."""

    #: Where the search for a config file ends: the workspace folders (in the editor) or the
    #: current directory (the command line), whichever holds the project.
    stops: tuple[Path, ...] = ()
    _configs: dict[Path, ProjectConfig] = field(default_factory=dict)
    _found: dict[Path, Path | None] = field(default_factory=dict)

    def for_file(self, deployment_file: Path) -> ProjectConfig | None:
        """The config of the project ``deployment_file`` belongs to (``<project>/<root>/file``)."""
        project = deployment_file.parent.parent
        if project not in self._found:
            self._found[project] = find_config(project, self._stop_for(project))
        path = self._found[project]
        if path is None:
            return None
        if path not in self._configs:
            self._configs[path] = read_config(path)
        return self._configs[path]

    def _stop_for(self, project: Path) -> Path | None:
        holding = [s for s in self.stops if s == project or s in project.parents]
        return max(holding, key=lambda s: len(s.parts)) if holding else None

    def configs(self) -> Iterable[ProjectConfig]:
        return self._configs.values()

    def forget(self) -> None:
        self._configs.clear()
        self._found.clear()


def ignore_entry(code: str, artifact: tuple[str, str] | None, profile: str | None) -> str:
    """The ``[[ignore]]`` text the "Ignore" quick fix appends."""
    lines = ["", "[[ignore]]", f"code = {toml_string(code)}"]
    if artifact is not None:
        lines.append(f"artifact = {toml_string(f'{artifact[0]}:{artifact[1]}')}")
    if profile is not None:
        lines.append(f"profile = {toml_string(profile)}")
    lines.append('reason = "accepted from the editor; say why here"')
    return "\n".join(lines) + "\n"
