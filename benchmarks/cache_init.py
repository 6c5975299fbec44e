"""Cache initialisation cost by starting state, in-process, median of repeated runs.

    python benchmarks/cache_init.py [--runs N]

Rows: a fresh cache (full upgrade), an earlier revision (upgrade from 0001), and a cache already
at head (the fast path, which must cost a small fraction of the full upgrade).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from skillmeat_ls.cache import initialize_cache
from skillmeat_ls.cache.engine import make_engine
from skillmeat_ls.cache.store import _alembic_config


def _time(prepare: Callable[[Path], None], runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        directory = Path(tempfile.mkdtemp())
        path = directory / "cache.db"
        prepare(path)
        start = time.perf_counter()
        initialize_cache(path).close()
        timings.append(time.perf_counter() - start)
        shutil.rmtree(directory)
    return timings


def _nothing(_path: Path) -> None:
    pass


def _at_head(path: Path) -> None:
    initialize_cache(path).close()


def _at_first_revision(path: Path) -> None:
    from alembic import command

    engine = make_engine(path)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001_base_tables")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    _time(_nothing, 2)  # warm imports (Alembic, the migration scripts)
    rows = [
        ("fresh (full upgrade)", _time(_nothing, args.runs)),
        ("earlier revision (0001 -> head)", _time(_at_first_revision, args.runs)),
        ("at head (fast path)", _time(_at_head, args.runs)),
    ]
    full = statistics.median(rows[0][1])
    print(f"{'starting state':<34} {'median ms':>10} {'p90 ms':>8} {'vs fresh':>9}")
    for label, timings in rows:
        median = statistics.median(timings)
        p90 = sorted(timings)[int(0.9 * (len(timings) - 1))]
        print(f"{label:<34} {median * 1000:>10.2f} {p90 * 1000:>8.2f} {median / full:>8.1%}")


if __name__ == "__main__":
    main()
