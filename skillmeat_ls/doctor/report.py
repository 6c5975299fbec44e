"""What doctor tells: the states, the verdicts, the report and the repair's result, in text, as
JSON and as one paragraph for an editor's notification; and :class:`DoctorError`.

Nothing here reads the file or runs SkillMeat: :mod:`skillmeat_ls.doctor.diagnosis` fills a
:class:`Report` in, :mod:`skillmeat_ls.doctor.rebuild` adds its :class:`RepairResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillmeat_ls.doctor.structure import USER_TABLES, Structure
from skillmeat_ls.errors import UserFacingError

if TYPE_CHECKING:
    from skillmeat_ls.doctor.interpreter import SkillMeatFacts

#: How the report groups the user's rows (:data:`~skillmeat_ls.doctor.structure.USER_TABLES`).
ROW_GROUPS = (
    ("collections", ("collections",)),
    ("groups", ("groups",)),
    ("memberships", ("collection_artifacts", "group_artifacts")),
    ("tags", ("tags", "artifact_tags")),
    ("ratings", ("user_ratings",)),
)


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


class DoctorError(UserFacingError):
    """Doctor cannot do what was asked; the message says why (and that nothing was changed)."""


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
