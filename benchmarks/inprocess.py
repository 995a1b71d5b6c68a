"""In-process plan figures: a long-lived planner (``run``, ``watch``, ``serve``) in a process of
its own, so that what the benchmark runner did before (seeding a fleet, other figures) does not
weigh on its heap. Prints ``<warm seconds> <after-one-version seconds>``: each the median of three
rounds of opening the workspace and planning it, after one plan from the (warm) caches.

A round of the second figure adds one Version document no plan or cache has seen yet to
``deployments/svc-07.yaml`` (a new one each round, the file otherwise as it was), as Ctrlplane's
"a new version was created" scenario; the file is restored at the end.

    python benchmarks/inprocess.py FLEET_ROOT CACHE_DIR
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

WHEN = datetime(2026, 11, 22, 10, tzinfo=UTC)
VERSION = '---\ntype: Version\ndeployment: svc-07\ntag: v1.9.{n}\ncreatedAt: "2026-11-22T09:{minute:02d}:00Z"\n'


def plan_once(root: Path) -> float:
    from reconciler.engine.planner import make_plan
    from reconciler.engine.session import open_session

    start = time.perf_counter()
    session = open_session(str(root), readonly=True)
    try:
        make_plan(session, WHEN)
    finally:
        session.close()
    return time.perf_counter() - start


def main() -> None:
    root, cache = Path(sys.argv[1]), sys.argv[2]
    os.environ["RECONCILER_CACHE_DIR"] = cache
    plan_once(root)  # the process's first plan: from the caches on disk
    warm = statistics.median(plan_once(root) for _ in range(3))
    path = root / "deployments" / "svc-07.yaml"
    base = path.read_text()
    rounds = []
    try:
        for n in range(3):
            path.write_text(base + VERSION.format(n=n, minute=30 + n))
            rounds.append(plan_once(root))
    finally:
        path.write_text(base)
    print(f"{warm:.3f} {statistics.median(rounds):.3f}")


if __name__ == "__main__":
    main()
