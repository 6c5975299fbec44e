"""Engine speed on generated files: full analysis, re-analysis after a one-line edit, tomllib.

    python benchmarks/engine.py [--runs N]

Targets: a one-line-edit re-analysis of the 10,000-record file under 15% of ``tomllib.loads`` of
that file; a full analysis within 1.5x of it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import one_line_edit, unified_text

from skillmeat_ls.document import parse_document, tomllib
from skillmeat_ls.rules import Analyzer


def median_ms(fn: Callable[[], object], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


class Editor:
    """An open document that alternates between two versions, one keystroke apart."""

    def __init__(self, text: str, edited: str) -> None:
        self.versions = (text, edited)
        self.analyzer = Analyzer()
        self.document = parse_document(text)
        self.analyzer.analyze(self.document)
        self.turn = 0

    def toggle(self) -> None:
        self.turn += 1
        self.document = parse_document(self.versions[self.turn % 2], previous=self.document)
        self.analyzer.analyze(self.document)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"{'records':>8} {'tomllib ms':>11} {'full ms':>9} {'full/toml':>10} "
          f"{'edit ms':>9} {'edit/toml':>10}")
    for size in (100, 1_000, 10_000):
        text = unified_text(size)
        toml_ms = median_ms(lambda text=text: tomllib.loads(text), args.runs)

        def full(text: str = text) -> None:
            Analyzer().analyze(parse_document(text))

        full_ms = median_ms(full, args.runs)
        edit_ms = median_ms(Editor(text, one_line_edit(text)).toggle, args.runs)
        print(f"{size:>8} {toml_ms:>11.1f} {full_ms:>9.1f} {full_ms / toml_ms:>10.2f} "
              f"{edit_ms:>9.1f} {edit_ms / toml_ms:>10.1%}")


if __name__ == "__main__":
    main()
