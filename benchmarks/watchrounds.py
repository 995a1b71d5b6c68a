"""The plan after one new version as ``reconciler watch`` shows it: a real ``watch`` process
(real watchfiles) on the fleet; each round appends a Version document no plan has seen to
``deployments/svc-07.yaml`` and times from the write to the printed plan line. Prints the median
of three rounds in seconds; the file is restored at the end. (watchfiles yields a change once
nothing more changed for 50 ms; ``--debounce`` only bounds how long it may group changes.)

    python benchmarks/watchrounds.py FLEET_ROOT CACHE_DIR
"""

from __future__ import annotations

import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

VERSION = '---\ntype: Version\ndeployment: svc-07\ntag: v1.8.{n}\ncreatedAt: "2026-11-22T09:{minute:02d}:00Z"\n'


def main() -> None:
    root, cache = Path(sys.argv[1]), sys.argv[2]
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "watch", "-C", str(root)],  # default debounce
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "RECONCILER_CACHE_DIR": cache})
    lines: queue.Queue[tuple[float, str]] = queue.Queue()
    threading.Thread(target=lambda: [lines.put((time.perf_counter(), line)) for line in proc.stdout],
                     daemon=True).start()
    path = root / "deployments" / "svc-07.yaml"
    base = path.read_text()
    rounds = []
    try:
        _plan_line(lines, time.perf_counter())  # the first plan (at the real clock: planned anew)
        for n in range(3):
            time.sleep(1.0)  # let the watcher settle; drop what the last plan listed
            while not lines.empty():
                lines.get()
            start = time.perf_counter()
            path.write_text(base + VERSION.format(n=n, minute=40 + n))
            rounds.append(_plan_line(lines, start))
    finally:
        path.write_text(base)
        proc.kill()
        proc.wait()
    print(f"{statistics.median(rounds):.3f}")


def _plan_line(lines: queue.Queue, start: float) -> float:
    while True:
        at, line = lines.get(timeout=600)
        if line.startswith("plan:"):
            return at - start
        if line.startswith(("invalid", "error")):
            raise SystemExit(f"watch failed: {line}")


if __name__ == "__main__":
    main()
