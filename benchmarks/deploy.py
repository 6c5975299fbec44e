"""Deploying 200 artifacts from one collection, against a plain ``shutil.copytree`` of the files.

    python benchmarks/deploy.py [--runs N] [--artifacts N]

The collection is generated in a temporary folder: mixed types (skills and MCP servers as
folders of several files, commands, agents and hooks as single files), a few MB in all. Each run
deploys everything into a new project (where each type's folder goes in whole, with one rename),
and into a project whose type folders are there, empty (one rename per artifact); "redeploy"
deploys it all again over an up-to-date project (every existing copy is hashed to check for local
changes, the file is updated in place). The floor is ``shutil.copytree`` of the same collection
folder into a new folder (no hashing, no staging, no record). Each deploy is measured as it runs
(with its journal, written and synced before the first swap) and, for comparison only, without
it (:attr:`FileOps.journalled` off, a benchmark seam: such a request is not recovered after a
crash), and copying one artifact at a time (:attr:`FileOps.copy_workers` 1; a deploy copies
on one thread per core). The ratio is the median of each run's own ratio to the floor measured
in the same run; "fastest" compares each operation's fastest run with the floor's fastest, the
runs least slowed by other programs (as ``timeit`` advises). Target: deploy within 1.2x the
floor.

What a run writes is kept until every run is over, and the redeploys are measured after the
operations into new projects: on a file system that avoids reusing the inodes freed in the last
minutes (ext4 without a journal does, skipping each of them whenever it creates a file), deleting
the previous run's thousand files, or a redeploy's replaced copies, would make every later file
creation slower, and the rows that create more files (a deploy also creates SkillMeat's lock
file beside each copy) slower still. Deletions by other programs shortly before a run do the
same: compare runs made on a quiet file system.
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillmeat_ls.deploy import FileOps, deploy
from skillmeat_ls.index import load_collections

TYPES = ("skill", "command", "agent", "hook", "mcp")
FOLDERS = {
    "skill": "skills",
    "command": "commands",
    "agent": "agents",
    "hook": "hooks",
    "mcp": "mcp",
}


class Unjournalled(FileOps):
    """Requests without their journal: what the journal costs, measured."""

    journalled = False


class OneCopyThread(FileOps):
    """Requests copying one artifact at a time: what copying side by side gains, measured."""

    copy_workers = 1


def text(rng: random.Random, size: int) -> bytes:
    words = [b"skill", b"review", b"agent", b"deploy", b"hook", b"collection", b"claude", b"\n"]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def generate(home: Path, count: int) -> tuple[list[tuple[str, str]], int]:
    """A collection ``bench`` of ``count`` artifacts; returns the pairs and the total bytes."""
    rng = random.Random(7)
    root = home / "collections" / "bench"
    entries = []
    pairs = []
    total = 0
    for number in range(count):
        kind = TYPES[number % len(TYPES)]
        name = f"{kind}-{number:03}"
        folder = FOLDERS[kind]
        if kind in ("skill", "mcp"):
            rel = f"{folder}/{name}"
            files = {"SKILL.md" if kind == "skill" else ".mcp.json": 4_000}
            for extra in range(rng.randint(2, 6)):
                files[f"scripts/part{extra}.py"] = rng.randint(2_000, 20_000)
            files["docs/README.md"] = 3_000
            for inner, size in files.items():
                path = root / rel / inner
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(text(rng, size))
                total += size
        else:
            rel = f"{folder}/{name}.md"
            size = rng.randint(1_000, 12_000)
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text(rng, size))
            total += size
        pairs.append((name, kind))
        entries.append(
            f'[[artifacts]]\nname = "{name}"\ntype = "{kind}"\npath = "{rel}"\n'
            'origin = "local"\nadded = "2026-01-01T00:00:00"\n'
        )
    (root / "collection.toml").write_text(
        '[collection]\nname = "bench"\nversion = "1.0.0"\ncreated = "2026-01-01T00:00:00"\n'
        'updated = "2026-01-01T00:00:00"\n\n' + "\n".join(entries)
    )
    return pairs, total


def interleaved(
    operations: dict[str, Callable[[Path], object]], fresh: Callable[[str, int], Path], runs: int
) -> dict[str, tuple[float, float, float, float]]:
    """Each operation's median ms, its median ratio to the first operation (the floor) of the
    same run, its fastest ms and that to the floor's fastest: one run of each in turn, so they
    share the machine's state, and each run's ratio compares operations that ran seconds apart
    (on a shared machine the file system's speed changes several fold from one minute to the
    next). What the runs wrote is left in place (see the module doc)."""
    timings: dict[str, list[float]] = {label: [] for label in operations}
    for run in range(runs):
        for label, operation in operations.items():
            target = fresh(label, run)
            start = time.perf_counter()
            operation(target)
            timings[label].append(time.perf_counter() - start)
    floor = next(iter(timings.values()))
    return {
        label: (
            statistics.median(values) * 1000,
            statistics.median(value / base for value, base in zip(values, floor, strict=True)),
            min(values) * 1000,
            min(values) / min(floor),
        )
        for label, values in timings.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--artifacts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        pairs, total = generate(base / "home", args.artifacts)
        collection = load_collections(base / "home").get("bench")
        assert collection is not None and len(collection.artifacts) == args.artifacts
        source = collection.path

        made = itertools.count()

        def fresh(label: str, run: int) -> Path:
            project = base / f"{label.replace(' ', '-')}-{run}-{next(made)}"
            project.mkdir()
            if label.startswith("redeploy"):
                deploy(project, collection, pairs)
            if label == into_folders:
                for folder in FOLDERS.values():
                    (project / ".claude" / folder).mkdir(parents=True)
            return project

        def copytree(project: Path) -> None:
            shutil.copytree(source, project / ".claude")

        def deploying(file_ops: FileOps) -> Callable[[Path], None]:
            def deploy_all(project: Path) -> None:
                result = deploy(project, collection, pairs, file_ops=file_ops)
                assert len(result.deployed) == len(pairs), result.errors

            return deploy_all

        def dry_run(project: Path) -> None:
            deploy(project, collection, pairs, dry_run=True)

        copytree_row = "shutil.copytree (floor)"
        into_folders = "deploy, type folders there"
        redeploy = f"redeploy over {len(pairs)} records"
        rows = interleaved(
            {
                copytree_row: copytree,
                "deploy": deploying(FileOps()),
                "deploy, no journal": deploying(Unjournalled()),
                "deploy, one copy thread": deploying(OneCopyThread()),
                into_folders: deploying(FileOps()),
                "deploy --dry-run": dry_run,
            },
            fresh,
            args.runs,
        )
        rows |= {
            label: row
            for label, row in interleaved(
                {
                    copytree_row: copytree,
                    redeploy: deploying(FileOps()),
                    f"{redeploy}, no journal": deploying(Unjournalled()),
                },
                fresh,
                args.runs,
            ).items()
            if label != copytree_row
        }
        files = sum(1 for p in source.rglob("*") if p.is_file())
        print(
            f"{len(pairs)} artifacts, {files} files, {total / 1e6:.1f} MB; median of {args.runs} "
            f"runs; {FileOps.copy_workers} copy threads"
        )
        width = max(len(label) for label in rows)
        print(
            f"{'operation':<{width}} {'median ms':>10} {'vs copytree':>12} "
            f"{'fastest ms':>11} {'vs fastest':>11}"
        )
        for label, (value, ratio, fastest, fastest_ratio) in rows.items():
            print(
                f"{label:<{width}} {value:>10.1f} {ratio:>11.2f}x {fastest:>11.1f} "
                f"{fastest_ratio:>10.2f}x"
            )


if __name__ == "__main__":
    main()
