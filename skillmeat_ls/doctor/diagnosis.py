"""What state SkillMeat's ``cache.db`` is in and what SkillMeat will do with it on its next
start: :func:`diagnose` and the rules of :func:`judge`.

The verdict rests on the file's structure (:mod:`skillmeat_ls.doctor.structure`) and, when the
installed SkillMeat is found, on its facts and on a rehearsal of its own ``initialize_cache()``
on a private copy (:mod:`skillmeat_ls.doctor.interpreter`); without it, on the facts of the
newest SkillMeat release known here (:data:`KNOWN_RELEASE`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from skillmeat_ls.cache.probe import copy_database
from skillmeat_ls.doctor.interpreter import SkillMeatFacts, skillmeat_facts
from skillmeat_ls.doctor.report import Report, State, Verdict
from skillmeat_ls.doctor.structure import Structure, read_structure

CACHE_DIR = "cache"
CACHE_NAME = "cache.db"

#: Facts of the newest SkillMeat release skillmeat-ls knows (0.74.0), used when no SkillMeat is
#: installed: its single Alembic head, and the day its history was squashed into
#: ``001_consolidated_schema`` (2026-03-09; every revision before it is unknown to it).
KNOWN_RELEASE = "0.74.0"
KNOWN_HEAD = "20260801_0001_rls_tenant_guc_repoint_compound"
SQUASHED_BEFORE = "20260309"
_DATED_REVISION = re.compile(r"^(\d{8})_")


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
    try:
        return copy_database(path, directory, CACHE_NAME)
    except OSError:
        return None


def _pre_squash(revision: str) -> bool:
    if revision == "001_initial_schema":
        return True
    match = _DATED_REVISION.match(revision)
    return match is not None and match.group(1) < SQUASHED_BEFORE


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
            'already exists ("table ... already exists"): initialize_cache() returns False, '
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
            report.next_start = _columns_fail(
                report, restamp=report.state is State.UNKNOWN_REVISION
            )
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
        report.advice = (
            "nothing to do (SkillMeat fixes this itself on its next start, keeping the rows)"
        )
    elif report.verdict is Verdict.HEALTHY:
        report.advice = "nothing to do"
    else:
        report.advice = "install SkillMeat (or give --skillmeat PATH) and run doctor again"


def _columns_fail(report: Report, *, restamp: bool) -> str:
    first = ", ".join(f"{t}.{c[0]}" for t, c in sorted(report.missing_columns.items())[:3])
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
        said = (
            f"SkillMeat's initialize_cache() fails: {_clip(first.get('error') or 'returns False')}"
        )
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
        report.advice = (
            "nothing to do (SkillMeat fixes this itself on its next start, keeping the rows)"
        )
