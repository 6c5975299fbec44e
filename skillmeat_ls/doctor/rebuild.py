"""The repair: :func:`repair` rebuilds SkillMeat's ``cache.db`` through SkillMeat's own code,
keeps the user's rows, and swaps the result in atomically, leaving a byte copy of the old file.

The rebuild and its check run in SkillMeat's interpreter
(:func:`skillmeat_ls.doctor.interpreter.run_side`); the backup, the checks that nobody wrote to
the file meanwhile, and the swap happen here.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from skillmeat_ls.cache.probe import copy_database
from skillmeat_ls.cache.siblings import timestamped_sibling
from skillmeat_ls.doctor.diagnosis import judge
from skillmeat_ls.doctor.interpreter import run_side
from skillmeat_ls.doctor.report import DoctorError, RepairResult, Report, State
from skillmeat_ls.doctor.structure import USER_TABLES, read_structure


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
    return filecmp.cmp(a, b, shallow=False)


def _unlink_all(*paths: Path) -> None:
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def repair(report: Report) -> Report:
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
    backup = timestamped_sibling(path, "bak")
    # hidden, beside cache.db (so that the swap is a rename), and this process's own
    fresh = path.with_name(f".{backup.name}.doctor-{os.getpid()}.new")
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
                raise DoctorError(
                    f"{path} changed while it was being copied: is SkillMeat running?"
                )
        result.backup = [str(p) for p in reversed(made)]
        with tempfile.TemporaryDirectory(prefix="skillmeat-ls-doctor-") as scratch:
            source = Path(scratch) / "source.db"
            if report.state is not State.NOT_A_DATABASE:
                source = _folded_copy(backup, Path(scratch))
            # 3. the rebuild, in SkillMeat's interpreter
            built = run_side(
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
        verified = run_side(python, "verify", {"path": str(fresh)})
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
