"""SkillMeat's *own* cache (``<home>/cache/cache.db``): what state it is in, what SkillMeat will do
with it on its next start, and a rebuild that keeps the user's rows (SPEC §8 ``doctor``).

Two halves, in one file so that one path can be handed to another interpreter:

* Here, in skillmeat-ls: :func:`diagnose` reads the file strictly read-only (through
  :func:`skillmeat_ls.cache.probe.read_only`: no byte written, no ``-wal``/``-shm`` created),
  names its structural state, and counts the rows at stake. :func:`repair` keeps a byte copy,
  rebuilds the database beside it and swaps it in atomically.
* In the installed SkillMeat's interpreter (``python -I doctor.py --skillmeat-side COMMAND
  OUT``, standard library only at import time): the facts only SkillMeat knows (its Alembic
  heads and revisions, its models' tables and columns), a rehearsal of its own
  ``CacheManager.initialize_cache()`` on a private copy, and the rebuild through that same
  ``initialize_cache()`` on a fresh file.

No LSP types here: the server and the CLI both call :func:`diagnose` and :func:`repair`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_DIR = "cache"
CACHE_NAME = "cache.db"
ENV_SKILLMEAT = "SKILLMEAT_LS_SKILLMEAT"
SIDE_FLAG = "--skillmeat-side"
SIDE_TIMEOUT_S = 600.0

#: The user's rows: at SkillMeat's fix commit, groups and collection memberships lived only in
#: this database. The other tables are derived data SkillMeat rebuilds from disk and the network.
USER_TABLES = (
    "collections",
    "groups",
    "collection_artifacts",
    "group_artifacts",
    "tags",
    "artifact_tags",
    "user_ratings",
)
#: How the report groups them.
ROW_GROUPS = (
    ("collections", ("collections",)),
    ("groups", ("groups",)),
    ("memberships", ("collection_artifacts", "group_artifacts")),
    ("tags", ("tags", "artifact_tags")),
    ("ratings", ("user_ratings",)),
)

#: Facts of the newest SkillMeat release skillmeat-ls knows (0.74.0), used when no SkillMeat is
#: installed: its single Alembic head, and the day its history was squashed into
#: ``001_consolidated_schema`` (2026-03-09; every revision before it is unknown to it).
KNOWN_RELEASE = "0.74.0"
KNOWN_HEAD = "20260801_0001_rls_tenant_guc_repoint_compound"
SQUASHED_BEFORE = "20260309"
_DATED_REVISION = re.compile(r"^(\d{8})_")


class State(Enum):
    MISSING = "missing"
    EMPTY = "empty"
    HEALTHY = "healthy"
    UNVERSIONED = "unversioned"
    EMPTY_VERSION = "empty-alembic-version"
    UNKNOWN_REVISION = "unknown-revision"
    OLDER_REVISION = "older-revision"
    MISSING_COLUMNS = "missing-columns"
    STAMPED = "stamped"  # without SkillMeat: stamped, and whether SkillMeat knows it is open
    NOT_A_DATABASE = "not-a-database"
    UNREADABLE = "unreadable"


class Verdict(Enum):
    HEALTHY = "healthy"  # nothing to do
    HEALS = "heals-itself"  # SkillMeat's next start fixes it without losing rows
    BROKEN = "broken"  # SkillMeat fails on it, on every start
    UNKNOWN = "unknown"  # cannot tell (unreadable, or it needs SkillMeat installed)


EXIT_CODES = {Verdict.HEALTHY: 0, Verdict.HEALS: 0, Verdict.BROKEN: 1, Verdict.UNKNOWN: 2}

_STATE_TEXT = {
    State.MISSING: "no cache.db yet",
    State.EMPTY: "an empty database (no tables)",
    State.HEALTHY: "healthy: at the installed SkillMeat's head, with every table and column of "
    "its models",
    State.UNVERSIONED: "unversioned tables: made by create_all() without a revision stamp "
    "(no alembic_version table)",
    State.EMPTY_VERSION: "an empty alembic_version table: SkillMeat's tables were created "
    "without its migrations, then a migration failed (the state SkillMeat's cache fix of "
    "January 2026 leaves behind)",
    State.UNKNOWN_REVISION: "stamped with a revision the installed SkillMeat does not know",
    State.OLDER_REVISION: "stamped with an earlier revision of the installed SkillMeat",
    State.MISSING_COLUMNS: "stamped at the installed SkillMeat's head, but columns of its "
    "models are missing",
    State.STAMPED: "stamped with an Alembic revision",
    State.NOT_A_DATABASE: "not a database",
    State.UNREADABLE: "could not be read",
}


class DoctorError(Exception):
    """Doctor cannot do what was asked; the message says why (and that nothing was changed)."""


# --- finding the installed SkillMeat -------------------------------------------------------------


@dataclass(frozen=True)
class SkillMeatFacts:
    """What the installed SkillMeat says about itself (run in its own interpreter)."""

    python: str
    via: str
    version: str
    heads: list[str]
    revisions: frozenset[str]
    #: table -> columns of its ORM models (what ``create_tables()`` makes)
    models: dict[str, list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "via": self.via,
            "version": self.version,
            "heads": self.heads,
            "revisions": len(self.revisions),
            "model_tables": len(self.models),
        }


def skillmeat_interpreter(
    explicit: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None
) -> tuple[Path | None, str]:
    """The Python interpreter of the installed SkillMeat, and where it was found (or why not).

    ``explicit`` (``--skillmeat``), else ``$SKILLMEAT_LS_SKILLMEAT``, else ``skillmeat`` on
    ``PATH``; each may be the ``skillmeat`` executable (its interpreter comes from its shebang
    line, else the ``python`` beside it) or a Python interpreter.
    """
    env = os.environ if environ is None else environ
    if explicit:
        candidate, via = str(explicit), "--skillmeat"
    elif env.get(ENV_SKILLMEAT):
        candidate, via = env[ENV_SKILLMEAT], f"${ENV_SKILLMEAT}"
    else:
        found = shutil.which("skillmeat", path=env.get("PATH"))
        if found is None:
            return None, (
                "no SkillMeat found: no `skillmeat` on PATH (give --skillmeat PATH or set "
                f"${ENV_SKILLMEAT})"
            )
        candidate, via = found, "PATH"
    path = Path(candidate).expanduser()
    if not path.is_file():
        found = shutil.which(candidate, path=env.get("PATH"))
        if found is None:
            return None, f"{via}: {candidate} is not a file"
        path = Path(found)
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        return None, f"{via}: cannot read {path}: {exc.strerror or exc}"
    if not head.startswith(b"#!"):
        return path, via  # a binary: the interpreter itself
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    words = line.split()
    if words and Path(words[0]).name == "env" and len(words) > 1:
        interpreter = shutil.which(words[-1], path=env.get("PATH"))
    else:
        interpreter = words[0] if words else None
    if interpreter and "python" in Path(interpreter).name:
        return Path(interpreter), f"{via} ({path})"
    beside = path.resolve().parent / "python"
    if beside.is_file():
        return beside, f"{via} ({path})"
    return None, f"{via}: cannot tell the Python interpreter of {path} from {line!r}"


def _run_side(python: Path, command: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`_side_main` in SkillMeat's interpreter; its JSON answer."""
    with tempfile.TemporaryDirectory(prefix="skillmeat-ls-doctor-") as scratch:
        out = Path(scratch) / "answer.json"
        argv = [str(python), "-I", str(Path(__file__).resolve()), SIDE_FLAG, command, str(out)]
        try:
            result = subprocess.run(
                argv,
                input=json.dumps({**request, "scratch": scratch}),
                capture_output=True,
                text=True,
                cwd=scratch,
                timeout=SIDE_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DoctorError(f"could not run {python}: {exc}") from exc
        if not out.exists():
            lines = [x for x in (result.stderr + result.stdout).splitlines() if x.strip()]
            raise DoctorError(
                f"{python} could not run SkillMeat's code (exit {result.returncode}): "
                f"{lines[-1] if lines else 'no output'}"
            )
        answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if not answer.get("ok"):
        log.debug("SkillMeat side %s failed:\n%s", command, answer.get("traceback"))
        raise DoctorError(str(answer.get("error")))
    return answer


def skillmeat_facts(
    explicit: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
    rehearse: Path | None = None,
) -> tuple[SkillMeatFacts | None, dict[str, Any] | None, str | None]:
    """(facts, rehearsal on ``rehearse`` — a private copy —, why there are no facts)."""
    python, via = skillmeat_interpreter(explicit, environ)
    if python is None:
        return None, None, via
    try:
        answer = _run_side(python, "inspect", {"rehearse": str(rehearse) if rehearse else None})
    except DoctorError as exc:
        return None, None, f"{via}: {exc}"
    facts = SkillMeatFacts(
        python=str(python),
        via=via,
        version=answer["version"],
        heads=sorted(answer["heads"]),
        revisions=frozenset(answer["revisions"]),
        models={name: list(cols) for name, cols in answer["models"].items()},
    )
    return facts, answer.get("rehearsal"), None


# --- reading the file ----------------------------------------------------------------------------


@dataclass
class Structure:
    """What can be read from the file without SkillMeat."""

    kind: str  # missing | empty | database | not-a-database | unreadable
    detail: str = ""
    size: int = 0
    #: None: no alembic_version table; []: the table is empty
    revisions: list[str] | None = None
    tables: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    wal: bool = False


def read_structure(path: Path) -> Structure:
    """The file's structural facts, read without writing a byte to it or next to it."""
    from skillmeat_ls.cache.probe import Kind, probe, read_only

    found = probe(path)
    if found.kind is Kind.MISSING:
        return Structure("missing")
    if found.kind is Kind.CORRUPT:
        return Structure("not-a-database", found.detail, _size(path))
    if found.kind is Kind.UNREADABLE:
        return Structure("unreadable", found.detail, _size(path))
    wal = path.with_name(path.name + "-wal")
    structure = Structure("database", size=_size(path), wal=wal.exists() and _size(wal) > 0)
    if structure.size == 0:
        structure.kind = "empty"
        return structure
    try:
        with read_only(path) as conn:
            names = [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
                )
            ]
            for name in names:
                quoted = _quote(name)
                try:
                    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({quoted})")]
                except sqlite3.OperationalError:  # a virtual table whose module is missing
                    columns = []
                structure.tables[name] = columns
            if "alembic_version" in structure.tables:
                structure.revisions = sorted(
                    str(row[0]) for row in conn.execute("SELECT version_num FROM alembic_version")
                )
            for name in USER_TABLES:
                if name in structure.tables:
                    count = conn.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]
                    structure.rows[name] = int(count)
    except (sqlite3.Error, OSError) as exc:
        return Structure("unreadable", str(exc), structure.size)
    if not set(structure.tables) - {"alembic_version"}:
        structure.kind = "empty"
    return structure


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- the report ----------------------------------------------------------------------------------


@dataclass
class Report:
    path: Path
    state: State
    verdict: Verdict
    structure: Structure
    next_start: str
    advice: str
    detail: str = ""
    facts: SkillMeatFacts | None = None
    skillmeat_problem: str | None = None
    needs_skillmeat: list[str] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    extra_columns: dict[str, list[str]] = field(default_factory=dict)
    rehearsal: dict[str, Any] | None = None
    repair: RepairResult | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def rows(self) -> dict[str, int]:
        return dict(self.structure.rows)

    @property
    def state_text(self) -> str:
        text = _STATE_TEXT[self.state]
        return f"{text} ({self.detail})" if self.detail else text

    def summary(self) -> str:
        """One paragraph: the state, what SkillMeat will do, the rows, what to do (for an
        editor's notification)."""
        rows = f" Rows at stake: {format_rows(self.structure.rows)}." if self.structure.rows else ""
        return (
            f"SkillMeat's own cache {self.path}: {self.state_text}. Next start: "
            f"{self.next_start}.{rows} {self.advice[:1].upper()}{self.advice[1:]}."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "state": self.state.value,
            "state_text": self.state_text,
            "verdict": self.verdict.value,
            "exit_code": self.exit_code,
            "revision": self.structure.revisions,
            "tables": len(self.structure.tables),
            "wal_pending": self.structure.wal,
            "rows": self.rows,
            "rows_at_stake": rows_at_stake(self.structure.rows),
            "missing_tables": self.missing_tables,
            "missing_columns": self.missing_columns,
            "extra_columns": self.extra_columns,
            "skillmeat": self.facts.as_dict() if self.facts else None,
            "skillmeat_problem": self.skillmeat_problem,
            "needs_skillmeat": self.needs_skillmeat,
            "next_start": self.next_start,
            "advice": self.advice,
            "rehearsal": self.rehearsal,
            "repair": self.repair.as_dict() if self.repair else None,
        }

    def render_text(self) -> str:
        lines = [f"SkillMeat cache: {self.path}", f"state:      {self.state_text}"]
        if self.structure.revisions is not None:
            stamp = ", ".join(self.structure.revisions) or "(no row)"
            lines.append(f"revision:   {stamp}")
        if self.structure.tables:
            lines.append(f"tables:     {len(self.structure.tables)}")
        if self.facts is not None:
            lines.append(
                f"SkillMeat:  {self.facts.version} ({self.facts.python}, via {self.facts.via}); "
                f"head {', '.join(self.facts.heads)}"
            )
        else:
            lines.append(f"SkillMeat:  not used ({self.skillmeat_problem})")
        if self.missing_columns:
            total = sum(len(c) for c in self.missing_columns.values())
            shown = "; ".join(
                f"{t} ({_few(c)})" for t, c in sorted(self.missing_columns.items())[:6]
            )
            more = ", …" if len(self.missing_columns) > 6 else ""
            lines.append(
                f"columns:    {len(self.missing_columns)} tables lack {total} columns of "
                f"SkillMeat's models: {shown}{more}"
            )
        if self.missing_tables:
            lines.append(
                f"absent:     {len(self.missing_tables)} tables of SkillMeat's models are "
                f"missing (create_tables() adds them): {_few(self.missing_tables)}"
            )
        lines.append(f"next start: {self.next_start}")
        if self.structure.rows:
            lines.append(f"rows:       {format_rows(self.structure.rows)}")
        for fact in self.needs_skillmeat:
            lines.append(f"unknown:    {fact} (needs SkillMeat installed)")
        lines.append(f"verdict:    {self.verdict.value}: {self.advice}")
        if self.repair is not None:
            lines.extend(self.repair.render_lines())
        return "\n".join(lines)


def _few(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def rows_at_stake(rows: dict[str, int]) -> dict[str, int]:
    """The user's rows by kind: collections, groups, memberships, tags, ratings."""
    return {
        kind: sum(rows[t] for t in tables if t in rows)
        for kind, tables in ROW_GROUPS
        if any(t in rows for t in tables)
    }


def format_rows(rows: dict[str, int]) -> str:
    parts = []
    for kind, tables in ROW_GROUPS:
        present = [t for t in tables if t in rows]
        if not present:
            continue
        total = sum(rows[t] for t in present)
        if len(present) > 1 or present[0] != kind:
            inner = ", ".join(f"{t} {rows[t]}" for t in present)
            parts.append(f"{kind} {total} ({inner})")
        else:
            parts.append(f"{kind} {total}")
    return "; ".join(parts)


def skillmeat_cache_path(home: Path) -> Path:
    return home / CACHE_DIR / CACHE_NAME


def diagnose(
    home: Path | None = None,
    *,
    path: Path | None = None,
    use_skillmeat: bool = True,
    skillmeat: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
) -> Report:
    """Inspect SkillMeat's ``cache.db`` (of ``home``, or at ``path``) without changing it.

    With ``use_skillmeat`` the installed SkillMeat is asked for its facts and its
    ``initialize_cache()`` is rehearsed on a private copy of the file; otherwise (and when no
    SkillMeat is found) the verdict rests on the file's structure and on SkillMeat 0.74.0's facts.
    """
    if path is None:
        if home is None:
            raise ValueError("give the SkillMeat home or the path of its cache.db")
        path = skillmeat_cache_path(home)
    structure = read_structure(path)
    facts = rehearsal = None
    problem = "not asked for" if not use_skillmeat else None
    if use_skillmeat and structure.kind != "unreadable":
        with tempfile.TemporaryDirectory(prefix="skillmeat-ls-doctor-") as scratch:
            copy = _private_copy(path, Path(scratch)) if structure.kind != "missing" else None
            facts, rehearsal, problem = skillmeat_facts(skillmeat, environ, rehearse=copy)
        if rehearsal is not None and copy is not None:  # name the user's file, not the copy
            rehearsal = json.loads(json.dumps(rehearsal).replace(str(copy), str(path)))
    return judge(path, structure, facts, rehearsal, problem)


def _private_copy(path: Path, directory: Path) -> Path | None:
    from skillmeat_ls.cache.probe import copy_database

    try:
        return copy_database(path, directory, CACHE_NAME)
    except OSError:
        return None


def _pre_squash(revision: str) -> bool:
    if revision == "001_initial_schema":
        return True
    match = _DATED_REVISION.match(revision)
    return bool(match) and match.group(1) < SQUASHED_BEFORE


def _old_schema(structure: Structure) -> bool:
    """Collection memberships keyed by ``"type:name"`` (SkillMeat before February 2026); every
    release since keys them by artifact uuid, and fails on this schema."""
    columns = structure.tables.get("collection_artifacts")
    return columns is not None and "artifact_uuid" not in columns


def judge(
    path: Path,
    structure: Structure,
    facts: SkillMeatFacts | None,
    rehearsal: dict[str, Any] | None,
    problem: str | None,
) -> Report:
    """The report for ``structure``, with SkillMeat's facts and rehearsal when there are any."""
    rows = structure.rows
    keep = (
        "`skillmeat-ls doctor --repair` rebuilds it through SkillMeat's own migrations and keeps "
        "these rows"
        if any(rows.values())
        else "`skillmeat-ls doctor --repair` rebuilds it through SkillMeat's own migrations"
    )
    lost = (
        "; deleting cache.db (SkillMeat's own advice for its derived cache) would lose them"
        if any(rows.values())
        else ""
    )
    report = Report(path, State.MISSING, Verdict.UNKNOWN, structure, "", "", facts=facts)
    report.skillmeat_problem = problem
    ours = "" if facts else f" (as SkillMeat {KNOWN_RELEASE} does)"
    kind = structure.kind
    if kind == "missing":
        report.state, report.verdict = State.MISSING, Verdict.HEALTHY
        report.next_start = "SkillMeat creates it, builds its schema and stamps it at its head"
        report.advice = "nothing to do"
    elif kind == "unreadable":
        report.state, report.verdict = State.UNREADABLE, Verdict.UNKNOWN
        report.detail = structure.detail
        report.next_start = "unknown"
        report.advice = "check the file's permissions, then run doctor again"
    elif kind == "not-a-database":
        report.state, report.verdict = State.NOT_A_DATABASE, Verdict.BROKEN
        report.detail = structure.detail
        report.next_start = "SkillMeat cannot open it: initialize_cache() fails on every start"
        report.advice = (
            "nothing in it can be read; `skillmeat-ls doctor --repair` keeps it as a backup "
            "and builds a fresh cache through SkillMeat's own code"
        )
    elif kind == "empty":
        report.state, report.verdict = State.EMPTY, Verdict.HEALS
        report.next_start = f"SkillMeat builds its schema in it{ours}"
        report.advice = "nothing to do (it holds no rows, so deleting it is safe too)"
    else:
        _judge_database(report, structure, facts, ours, keep, lost)
    if facts is None and kind == "database":
        report.needs_skillmeat = _open_questions(report)
    if rehearsal is not None:
        _apply_rehearsal(report, rehearsal, keep, lost)
    return report


def _judge_database(
    report: Report,
    structure: Structure,
    facts: SkillMeatFacts | None,
    ours: str,
    keep: str,
    lost: str,
) -> None:
    revisions = structure.revisions
    if facts is not None:
        present = {t: set(c) for t, c in structure.tables.items()}
        for table, columns in sorted(facts.models.items()):
            if table not in present:
                report.missing_tables.append(table)
                continue
            if missing := [c for c in columns if c not in present[table]]:
                report.missing_columns[table] = missing
            if extra := sorted(present[table] - set(columns)):
                report.extra_columns[table] = extra
    old = _old_schema(structure)
    if revisions is None:
        report.state = State.UNVERSIONED
        if facts is not None:
            drift = bool(report.missing_columns or report.extra_columns)
            report.verdict = Verdict.BROKEN if drift else Verdict.HEALS
        else:
            report.verdict = Verdict.BROKEN if old else Verdict.UNKNOWN
        if report.verdict is Verdict.BROKEN:
            report.next_start = (
                "SkillMeat compares its columns with its models, finds drift and refuses to "
                f"stamp it (SchemaDriftError): initialize_cache() fails on every start{ours}"
            )
        else:
            report.next_start = (
                "SkillMeat stamps it at its head if its columns match its models, and refuses "
                f"(SchemaDriftError) on every start if they do not{ours}"
            )
    elif not revisions:
        report.state, report.verdict = State.EMPTY_VERSION, Verdict.BROKEN
        report.next_start = (
            "SkillMeat replays its migrations from the first one and fails on a table that "
            "already exists (\"table ... already exists\"): initialize_cache() returns False, "
            "on every start"
        )
    elif facts is not None:
        unknown = [r for r in revisions if r not in facts.revisions]
        if unknown:
            report.state = State.UNKNOWN_REVISION
            report.detail = ", ".join(unknown)
        elif sorted(revisions) == facts.heads:
            report.state = State.MISSING_COLUMNS if report.missing_columns else State.HEALTHY
        else:
            report.state = State.OLDER_REVISION
            report.detail = ", ".join(revisions)
        if report.state is State.HEALTHY:
            report.verdict = Verdict.HEALTHY
            report.next_start = "SkillMeat opens it as it is"
            if report.missing_tables:
                report.next_start += " (create_tables() adds the missing tables)"
        elif report.missing_columns:
            report.verdict = Verdict.BROKEN
            report.next_start = _columns_fail(report, restamp=report.state is State.UNKNOWN_REVISION)
        elif report.state is State.UNKNOWN_REVISION:
            report.verdict = Verdict.HEALS
            report.next_start = (
                "SkillMeat cannot locate the revision, re-stamps the database at its head and "
                "carries on (its tables and columns are complete)"
            )
        else:
            report.verdict = Verdict.HEALS
            report.next_start = "SkillMeat upgrades it through its migrations"
    else:
        stamp = ", ".join(revisions)
        if all(_pre_squash(r) for r in revisions):
            report.state = State.UNKNOWN_REVISION
            report.detail = (
                f"{stamp}: from SkillMeat's history before its March 2026 squash, which no "
                "release since knows"
            )
            report.verdict = Verdict.BROKEN if old else Verdict.HEALS
            report.next_start = (
                "SkillMeat cannot locate the revision, re-stamps the database at its head and "
                + (
                    "carries on, but its tables lack the columns of the newer models: the "
                    "first query of them fails"
                    if old
                    else "carries on"
                )
                + ours
            )
        elif revisions == [KNOWN_HEAD] and not old:
            report.state = State.STAMPED
            report.detail = f"{stamp}: SkillMeat {KNOWN_RELEASE}'s head"
            report.verdict = Verdict.HEALTHY
            report.next_start = f"SkillMeat {KNOWN_RELEASE} opens it as it is"
        else:
            report.state, report.verdict = State.STAMPED, Verdict.UNKNOWN
            report.detail = stamp
            report.next_start = "depends on whether the installed SkillMeat knows this revision"
    if report.verdict is Verdict.BROKEN:
        report.advice = keep + lost
    elif report.verdict is Verdict.HEALS:
        report.advice = "nothing to do (SkillMeat fixes this itself on its next start, keeping the rows)"
    elif report.verdict is Verdict.HEALTHY:
        report.advice = "nothing to do"
    else:
        report.advice = "install SkillMeat (or give --skillmeat PATH) and run doctor again"


def _columns_fail(report: Report, *, restamp: bool) -> str:
    first = ", ".join(
        f"{t}.{c[0]}" for t, c in sorted(report.missing_columns.items())[:3]
    )
    start = (
        "SkillMeat cannot locate the revision and re-stamps the database at its head; "
        if restamp
        else ""
    )
    return (
        f"{start}initialize_cache() adds missing tables but no columns, so the first query of "
        f"{len(report.missing_columns)} tables fails (no such column: {first}, …)"
    )


def _open_questions(report: Report) -> list[str]:
    questions = []
    if report.state in (State.STAMPED, State.UNKNOWN_REVISION):
        questions.append("whether the installed SkillMeat knows this revision")
    questions.append("which tables and columns the installed SkillMeat's models need")
    questions.append("what the installed SkillMeat's initialize_cache() does with it")
    return questions


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _apply_rehearsal(report: Report, rehearsal: dict[str, Any], keep: str, lost: str) -> None:
    """SkillMeat's own ``initialize_cache()``, run twice on a private copy, decides."""
    report.rehearsal = rehearsal
    runs = rehearsal.get("runs") or []
    failing: dict[str, str] = rehearsal.get("failing") or {}
    if not runs:
        return
    first, last = runs[0], runs[-1]
    if not first["ok"]:
        again = "the same on every start" if not last["ok"] else "then succeeds on the next"
        said = f"SkillMeat's initialize_cache() fails: {_clip(first.get('error') or 'returns False')}"
        report.next_start = f"{said} ({again})"
        broken = not last["ok"] or bool(failing)
    elif failing:
        names = sorted(failing)
        said = "SkillMeat's initialize_cache() succeeds"
        if rehearsal.get("restamped"):
            said += " (it re-stamps the database at its head)"
        report.next_start = (
            f"{said}, but the first query of {len(names)} tables fails: "
            f"{names[0]} ({_clip(failing[names[0]])})" + (", …" if len(names) > 1 else "")
        )
        broken = True
    else:
        if report.verdict is Verdict.HEALTHY:
            report.next_start = "SkillMeat's initialize_cache() opens it; every table reads"
        else:
            report.next_start = (
                "SkillMeat's initialize_cache() fixes it itself "
                f"({rehearsal.get('after') or 'stamped at its head'}); every table reads"
            )
        broken = False
    if broken:
        if report.verdict is not Verdict.BROKEN:
            report.verdict = Verdict.BROKEN
            report.advice = keep + lost
    elif report.verdict is Verdict.BROKEN or report.verdict is Verdict.UNKNOWN:
        report.verdict = Verdict.HEALS
        report.advice = "nothing to do (SkillMeat fixes this itself on its next start, keeping the rows)"


# --- repair --------------------------------------------------------------------------------------


@dataclass
class RepairResult:
    was: str = ""
    backup: list[str] = field(default_factory=list)
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    identity_rows: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    not_carried: dict[str, int] = field(default_factory=dict)
    filled: dict[str, list[str]] = field(default_factory=dict)
    verified: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "was": self.was,
            "backup": self.backup,
            "before": self.before,
            "after": self.after,
            "identity_rows": self.identity_rows,
            "skipped": self.skipped,
            "not_carried": self.not_carried,
            "filled": self.filled,
            "verified": self.verified,
            "seconds": round(self.seconds, 2),
        }

    def render_lines(self) -> list[str]:
        lines = [
            f"repaired:   it was {self.was}; rebuilt in {self.seconds:.1f} s",
            f"backup:     {', '.join(self.backup)}",
        ]
        lines.append("rows:       table                 before  after")
        for table in USER_TABLES:
            if table in self.before or table in self.after:
                lines.append(
                    f"            {table:<21} {self.before.get(table, 0):>6} "
                    f"{self.after.get(table, 0):>6}"
                )
        if self.identity_rows:
            lines.append(
                f"identity:   {self.identity_rows} artifacts rows added for memberships of "
                "artifacts the old cache did not hold (as SkillMeat's import adds them)"
            )
        if self.skipped:
            lines.append(
                "skipped:    derived rows the new schema refuses: "
                + ", ".join(f"{t} {n}" for t, n in sorted(self.skipped.items()))
            )
        if self.not_carried:
            lines.append(
                "dropped:    tables SkillMeat's models no longer have: "
                + ", ".join(f"{t} ({n} rows)" for t, n in sorted(self.not_carried.items()))
            )
        return lines


def _fingerprint(path: Path) -> list[tuple[str, int, int]]:
    """(name, size, mtime) of the main file and its -wal: a writer at work changes them."""
    out = []
    for candidate in (path, path.with_name(path.name + "-wal")):
        try:
            stat = candidate.stat()
        except FileNotFoundError:
            continue
        out.append((candidate.name, stat.st_size, stat.st_mtime_ns))
    return out


def _same_bytes(a: Path, b: Path) -> bool:
    import filecmp

    return filecmp.cmp(a, b, shallow=False)


def _unlink_all(*paths: Path) -> None:
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def repair(
    report: Report,
    *,
    skillmeat: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
) -> Report:
    """Rebuild SkillMeat's cache through SkillMeat's own code, keeping the user's rows.

    1. byte copies of ``cache.db`` (and its ``-wal``/``-shm``) as ``cache.db.bak-<time>``;
    2. a private copy of that backup, its pending WAL folded in (checkpointed), as the source;
    3. in SkillMeat's interpreter: ``CacheManager(new).initialize_cache()`` on a fresh file
       beside ``cache.db``, then every row copied across, columns mapped by name, required
       columns filled by SkillMeat's model defaults, ``artifact_id`` memberships resolved to
       ``artifact_uuid`` as SkillMeat's own migrations resolve them;
    4. in a new SkillMeat process: ``initialize_cache()`` on the new file and a query of every
       model table; every user row must be there;
    5. the new file renamed over ``cache.db`` (the old ``-wal``/``-shm`` moved away first).

    Any failure before step 5 removes what was made and leaves ``cache.db`` exactly as it was.
    Returns the report of the rebuilt file.
    """
    path = report.path
    if report.facts is None:
        raise DoctorError(
            f"--repair needs the real SkillMeat: {report.skillmeat_problem or 'not found'}"
        )
    if report.state in (State.MISSING, State.UNREADABLE):
        raise DoctorError(f"{path}: {report.state_text}; there is nothing to rebuild")
    facts = report.facts
    python = Path(facts.python)
    started = time.monotonic()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    serial = 1
    while backup.exists():
        serial += 1
        backup = path.with_name(f"{path.name}.bak-{stamp}-{serial}")
    fresh = path.with_name(f".{path.name}.doctor-{os.getpid()}-{stamp}.new")
    result = RepairResult(was=report.state_text, before=dict(report.structure.rows))
    before = _fingerprint(path)
    made: list[Path] = []
    swapped = False
    try:
        # 1. the backup: the -wal before the main file, as a reader sees the pair
        for suffix in ("-wal", "-shm", ""):
            source = path.with_name(path.name + suffix)
            if source.exists():
                target = backup.with_name(backup.name + suffix)
                shutil.copyfile(source, target)
                made.append(target)
        for target in made:
            suffix = target.name[len(backup.name) :]
            if suffix != "-shm" and not _same_bytes(path.with_name(path.name + suffix), target):
                raise DoctorError(f"{path} changed while it was being copied: is SkillMeat running?")
        result.backup = [str(p) for p in reversed(made)]
        with tempfile.TemporaryDirectory(prefix="skillmeat-ls-doctor-") as scratch:
            source = Path(scratch) / "source.db"
            if report.state is not State.NOT_A_DATABASE:
                source = _folded_copy(backup, Path(scratch))
            # 3. the rebuild, in SkillMeat's interpreter
            built = _run_side(
                python,
                "rebuild",
                {
                    "source": str(source) if report.state is not State.NOT_A_DATABASE else None,
                    "target": str(fresh),
                    "user_tables": list(USER_TABLES),
                },
            )
        result.identity_rows = int(built.get("identity_rows", 0))
        result.skipped = {k: int(v) for k, v in built.get("skipped", {}).items() if v}
        result.not_carried = {k: int(v) for k, v in built.get("not_carried", {}).items()}
        result.filled = built.get("filled", {})
        # 4. SkillMeat opens the result, in a process of its own
        verified = _run_side(python, "verify", {"path": str(fresh)})
        _fold_in_place(fresh)
        result.verified = {
            "initialized": verified["runs"][0]["ok"],
            "alembic_version": verified["alembic_version"],
            "tables": len(verified["counts"]),
            "failing": verified["failing"],
        }
        if not verified["runs"][0]["ok"]:
            raise DoctorError(
                "SkillMeat's initialize_cache() fails on the rebuilt file: "
                f"{verified['runs'][0].get('error')}"
            )
        if verified["failing"]:
            name = sorted(verified["failing"])[0]
            raise DoctorError(
                f"the rebuilt file's table {name} does not read: {verified['failing'][name]}"
            )
        counts = verified["counts"]
        result.after = {t: int(counts[t]) for t in USER_TABLES if t in counts}
        lost = {
            t: (n, result.after.get(t, 0))
            for t, n in result.before.items()
            if result.after.get(t, 0) < n
        }
        if lost:
            raise DoctorError(
                "rows would be lost: "
                + ", ".join(f"{t} {n} -> {m}" for t, (n, m) in sorted(lost.items()))
            )
        # 5. the swap, unless someone wrote to the original meanwhile
        if _fingerprint(path) != before:
            raise DoctorError(f"{path} changed during the repair: is SkillMeat running?")
        _swap(path, fresh)
        swapped = True
    except BaseException:
        _unlink_all(fresh)
        if not swapped:
            for target in made:
                target.unlink(missing_ok=True)
        raise
    result.seconds = time.monotonic() - started
    after = judge(
        path,
        read_structure(path),
        facts,
        {"runs": verified["runs"], "failing": verified["failing"], "after": "rebuilt"},
        None,
    )
    after.repair = result
    return after


def _folded_copy(backup: Path, directory: Path) -> Path:
    """A private copy of ``backup`` with its pending WAL checkpointed into the main file."""
    from skillmeat_ls.cache.probe import copy_database

    copy = copy_database(backup, directory, "source.db")
    conn = sqlite3.connect(copy)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    return copy


def _fold_in_place(path: Path) -> None:
    """Checkpoint ``path``'s own -wal (the new file, ours until the swap) and close it, which
    removes its -wal and -shm: the main file is then the whole database."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists() and side.stat().st_size == 0:
            side.unlink()
    if path.with_name(path.name + "-wal").exists():
        raise DoctorError(f"the rebuilt file {path} still has a -wal: is something holding it?")


def _swap(path: Path, fresh: Path) -> None:
    """Rename ``fresh`` over ``path``; the old ``-wal``/``-shm`` (kept in the backup) are moved
    away first, so that SQLite never applies the old log to the new file."""
    moved: list[tuple[Path, Path]] = []
    try:
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                aside = fresh.with_name(fresh.name + suffix + ".old")
                os.replace(side, aside)
                moved.append((aside, side))
        os.replace(fresh, path)
    except BaseException:
        for aside, side in moved:
            os.replace(aside, side)
        raise
    for aside, _side in moved:
        aside.unlink(missing_ok=True)


# --- inside SkillMeat's interpreter ---------------------------------------------------------------
#
# Everything below runs under ``python -I doctor.py --skillmeat-side COMMAND OUT``: the installed
# SkillMeat's interpreter, with only the standard library imported above. It imports SkillMeat
# (``skillmeat.core`` first, as SkillMeat's CLI does: ``skillmeat.storage`` imports it back).


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _side_models() -> Any:
    import skillmeat.core  # noqa: F401
    from skillmeat.cache import models

    return models


def _side_dispose(manager: Any) -> None:
    import gc

    for holder in (manager, getattr(manager, "repository", None)):
        engine = getattr(holder, "engine", None)
        if engine is not None:
            engine.dispose()
    gc.collect()


def _side_versions(path: str) -> list[str] | None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone():
            return None
        return sorted(str(r[0]) for r in conn.execute("SELECT version_num FROM alembic_version"))
    finally:
        conn.close()


def _side_initialize(path: str, captured: _Captured) -> dict[str, Any]:
    """SkillMeat's ``CacheManager(path).initialize_cache()``, as SkillMeat starts."""
    from skillmeat.cache.manager import CacheManager

    captured.messages.clear()
    try:
        manager = CacheManager(path)
    except Exception as exc:  # its repository could not even create its tables
        return {"ok": False, "error": _first_line(f"CacheManager() raised {type(exc).__name__}: {exc}")}
    try:
        ok = bool(manager.initialize_cache())
    finally:
        _side_dispose(manager)
    error = next((m for m in captured.messages if "initialize" in m), None)
    if error is None and captured.messages:
        error = captured.messages[0]
    if ok or not error:
        return {"ok": ok, "error": None}
    return {"ok": ok, "error": _first_line(error.replace("Failed to initialize cache: ", ""))}


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _side_query_all(path: str) -> dict[str, str]:
    """Every model table queried as SkillMeat's ORM queries it (every column): the failures."""
    import warnings

    from sqlalchemy import create_engine, select

    models = _side_models()
    engine = create_engine(f"sqlite:///{path}")
    failing = {}
    try:
        with warnings.catch_warnings(), engine.connect() as conn:
            warnings.simplefilter("ignore")
            for table in models.Base.metadata.sorted_tables:
                try:
                    conn.execute(select(table).limit(1)).fetchall()
                except Exception as exc:
                    orig = getattr(exc, "orig", exc)
                    failing[table.name] = _first_line(str(orig))
    finally:
        engine.dispose()
    return failing


def _side_inspect(request: dict[str, Any], captured: _Captured) -> dict[str, Any]:
    import importlib.metadata

    from alembic.script import ScriptDirectory

    models = _side_models()
    from skillmeat.cache.migrations import get_alembic_config

    scratch = Path(request["scratch"])
    script = ScriptDirectory.from_config(get_alembic_config(str(scratch / "facts.db")))
    answer: dict[str, Any] = {
        "version": importlib.metadata.version("skillmeat"),
        "heads": list(script.get_heads()),
        "revisions": sorted(r.revision for r in script.walk_revisions()),
        "models": {
            name: [c.name for c in table.columns]
            for name, table in models.Base.metadata.tables.items()
        },
    }
    copy = request.get("rehearse")
    if copy:
        before = _side_versions_safe(copy)
        runs = [_side_initialize(copy, captured) for _ in range(2)]
        after = _side_versions_safe(copy)
        answer["rehearsal"] = {
            "runs": runs,
            "failing": _side_query_all(copy) if runs[-1]["ok"] else {},
            "before": before,
            "after": f"stamped {', '.join(after)}" if after else None,
            "restamped": bool(before) and after != before,
        }
    return answer


def _side_versions_safe(path: str) -> list[str] | None:
    try:
        return _side_versions(path)
    except sqlite3.Error:
        return None


def _side_default(column: Any, dialect: Any) -> Any:
    """The value SkillMeat's model gives ``column`` when an insert leaves it out."""
    default = column.default
    if default.is_scalar:
        value = default.arg
    elif default.is_callable:
        value = default.arg(None)
    else:
        raise ValueError(f"{column.table.name}.{column.name}: a default SQL expression")
    process = column.type.bind_processor(dialect)
    return process(value) if process else value


def _side_identity_rows(engine: Any, models: Any, ids: set[str]) -> tuple[dict[str, str], int]:
    """``artifacts`` uuids for ``"type:name"`` ids, adding a row for each id the old cache had
    no artifact for, the way SkillMeat's import does (``_ensure_artifact_row``: an ``artifacts``
    row of the sentinel project ``collection_artifacts_global``)."""
    from sqlalchemy.orm import Session

    try:
        from skillmeat.api.services.artifact_cache_service import _ensure_artifact_row
    except Exception:  # the API's dependencies are missing: the same steps, spelt out
        _ensure_artifact_row = None
    artifact = models.Artifact
    created = 0
    out: dict[str, str] = {}
    with Session(engine) as session:
        for artifact_id in sorted(ids):
            kind, sep, name = artifact_id.partition(":")
            if not sep or not kind or not name:
                raise ValueError(f"artifact id {artifact_id!r} is not 'type:name'")
            found = session.query(artifact.uuid).filter(artifact.id == artifact_id).first()
            if found is not None:
                out[artifact_id] = found[0]
                continue
            if _ensure_artifact_row is not None:
                out[artifact_id] = _ensure_artifact_row(session, artifact_id, kind, name)
            else:
                out[artifact_id] = _side_identity_row(session, models, artifact_id, kind, name)
            created += 1
        session.commit()
    return out, created


def _side_identity_row(session: Any, models: Any, artifact_id: str, kind: str, name: str) -> str:
    import uuid

    sentinel = "collection_artifacts_global"
    if session.get(models.Project, sentinel) is None:
        session.add(
            models.Project(
                id=sentinel,
                name="Collection Artifacts",
                path="~/.skillmeat/collections",
                description="Sentinel project for collection artifacts",
                status="active",
            )
        )
        session.flush()
    value = uuid.uuid4().hex
    session.add(
        models.Artifact(id=artifact_id, uuid=value, project_id=sentinel, name=name, type=kind)
    )
    session.flush()
    return value


def _side_rebuild(request: dict[str, Any], captured: _Captured) -> dict[str, Any]:
    import warnings

    from sqlalchemy import create_engine

    models = _side_models()
    target = request["target"]
    made = _side_initialize(target, captured)
    if not made["ok"]:
        raise RuntimeError(
            f"SkillMeat's initialize_cache() failed on a fresh file: {made.get('error')}"
        )
    answer: dict[str, Any] = {
        "copied": {},
        "skipped": {},
        "filled": {},
        "identity_rows": 0,
        "not_carried": {},
    }
    if not request.get("source"):
        return answer
    user = set(request["user_tables"])
    source = sqlite3.connect(f"file:{request['source']}?mode=ro", uri=True)
    source.row_factory = sqlite3.Row
    old = {
        name: [row[1] for row in source.execute(f"PRAGMA table_info({_quote(name)})")]
        for (name,) in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name != 'alembic_version'"
        ).fetchall()
    }
    metadata = models.Base.metadata
    engine = create_engine(f"sqlite:///{target}")
    dialect = engine.dialect
    # SkillMeat's engine turns foreign keys on; so does this copy (rows go in parents first).
    dest = sqlite3.connect(target, isolation_level=None)
    dest.execute("PRAGMA foreign_keys=ON")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's note on a cycle of two new tables
            ordered = list(metadata.sorted_tables)
        for table in ordered:
            if table.name not in old:
                continue
            have = set(old[table.name])
            copied, filled, mapped = [], [], None
            for column in table.columns:
                if column.name in have:
                    copied.append(column.name)
                elif column.name == "artifact_uuid" and "artifact_id" in have:
                    mapped = column.name
                elif column.default is not None and not column.default.is_sequence:
                    filled.append(column)
                elif not (
                    column.server_default is not None
                    or column.nullable
                    or (column.primary_key and column.type.python_type is int)
                ):
                    raise RuntimeError(
                        f"{table.name}.{column.name} is required by SkillMeat's models, has no "
                        "default, and the old cache has no such column"
                    )
            rows = source.execute(f"SELECT * FROM {_quote(table.name)}").fetchall()
            uuids: dict[str, str] = {}
            if mapped and rows:
                # as SkillMeat's migrations of Feb. 2026 did: artifact_id -> artifacts.uuid
                uuids, created = _side_identity_rows(
                    engine, models, {str(r["artifact_id"]) for r in rows}
                )
                answer["identity_rows"] += created
            columns = copied + ([mapped] if mapped else []) + [c.name for c in filled]
            if filled and rows:
                answer["filled"][table.name] = [c.name for c in filled]
            sql = (
                f"INSERT INTO {_quote(table.name)} ({', '.join(_quote(c) for c in columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            values = [
                tuple(row[c] for c in copied)
                + ((uuids[str(row["artifact_id"])],) if mapped else ())
                + tuple(_side_default(c, dialect) for c in filled)
                for row in rows
            ]
            skipped = 0
            dest.execute("BEGIN")
            try:
                dest.executemany(sql, values)
                dest.execute("COMMIT")
            except sqlite3.Error as exc:
                dest.execute("ROLLBACK")
                if table.name in user:
                    raise RuntimeError(
                        f"the rows of {table.name} do not fit SkillMeat's schema: {exc}"
                    ) from exc
                dest.execute("BEGIN")
                for value in values:  # derived data: keep what fits
                    dest.execute("SAVEPOINT one")
                    try:
                        dest.execute(sql, value)
                        dest.execute("RELEASE one")
                    except sqlite3.Error:
                        dest.execute("ROLLBACK TO one")
                        dest.execute("RELEASE one")
                        skipped += 1
                dest.execute("COMMIT")
            answer["copied"][table.name] = len(values) - skipped
            answer["skipped"][table.name] = skipped
        problems = dest.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign keys broken after the copy: {problems[:3]}")
        answer["not_carried"] = {
            name: source.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]
            for name in sorted(set(old) - set(metadata.tables))
        }
    finally:
        dest.close()
        source.close()
        engine.dispose()
    return answer


def _side_verify(request: dict[str, Any], captured: _Captured) -> dict[str, Any]:
    path = request["path"]
    runs = [_side_initialize(path, captured)]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            )
        ]
        counts = {n: conn.execute(f"SELECT count(*) FROM {_quote(n)}").fetchone()[0] for n in names}
    finally:
        conn.close()
    return {
        "runs": runs,
        "failing": _side_query_all(path) if runs[0]["ok"] else {},
        "counts": counts,
        "alembic_version": _side_versions(path),
    }


_SIDE_COMMANDS = {"inspect": _side_inspect, "rebuild": _side_rebuild, "verify": _side_verify}


def _side_main(argv: list[str]) -> int:
    command, out = argv[0], argv[1]
    request = json.loads(sys.stdin.read() or "{}")
    captured = _Captured()
    logging.getLogger().addHandler(captured)
    logging.getLogger().setLevel(logging.ERROR)
    try:
        answer = {"ok": True, **_SIDE_COMMANDS[command](request, captured)}
    except Exception as exc:
        answer = {
            "ok": False,
            "error": _first_line(f"{type(exc).__name__}: {exc}"),
            "traceback": traceback.format_exc(),
        }
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(answer, handle, default=str)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__" and len(sys.argv) > 3 and sys.argv[1] == SIDE_FLAG:
    sys.exit(_side_main(sys.argv[2:]))
