"""Apply throughput only (``run.apply_throughput`` on SQLite and PostgreSQL), repeated: prints each
run, then best and median per backend, each next to a calibration figure taken just before.

    python benchmarks/apply_only.py [--runs 5] [--targets 1000] [--pg URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402 - after the path insert


def calibration() -> float:
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        sum(range(10_000_000))
        best = min(best, time.perf_counter() - start)
    return best


def once(work: Path, url: str | None, label: str, targets: int) -> float:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run.apply_throughput(work, url, label, targets)
    for line in out.getvalue().splitlines():
        if line.startswith("apply_throughput_"):
            return float(line.split()[1])
    raise SystemExit(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--pg", default=os.environ.get("RECONCILER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None)
    args = parser.parse_args()
    backends = [("sqlite", None), ("postgresql", args.pg)]
    figures: dict[str, list[tuple[float, float]]] = {}
    for n in range(args.runs):
        for label, url in backends:
            if args.only and label != args.only:
                continue
            cal = calibration()
            with tempfile.TemporaryDirectory(prefix="reconciler-apply-") as tmp:
                value = once(Path(tmp), url, f"{label}{n}", args.targets)
            figures.setdefault(label, []).append((value, cal))
            print(f"run {n} {label} {value:.1f} tasks/s (calibration {cal:.3f} s)", flush=True)
    for label, values in figures.items():
        rates = [v for v, _ in values]
        cals = [c for _, c in values]
        print(f"{label}: best {max(rates):.1f} median {statistics.median(rates):.1f} tasks/s over {len(rates)} runs; "
              f"calibration best {min(cals):.3f} median {statistics.median(cals):.3f} s")


if __name__ == "__main__":
    main()
