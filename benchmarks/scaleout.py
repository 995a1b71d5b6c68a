"""Scale-out figure: the same reconcile on one PostgreSQL state by 1 and by 3 concurrent
``reconciler apply`` processes, which lease deployments from each other. The agent sleeps 0.2 s,
so agents, not CPU, bound the run; each process runs ``--max-parallel`` tasks at a time.

    python benchmarks/scaleout.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Each measurement gets a fresh database (created and dropped through the server's ``postgres``
database), so runs never see each other's state.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import fleet  # noqa: E402


def _admin(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def _database(url: str, name: str, create: bool) -> None:
    import psycopg

    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' if create else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_processes(root: Path, url: str, processes: int, parallel: int) -> float:
    """Wall time until ``processes`` concurrent applies have all finished."""
    cmd = [sys.executable, "-m", "reconciler", "apply", "-C", str(root), "--state", url, "--max-parallel",
           str(parallel), "--actor", "bench"]
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode not in (0,):
            raise SystemExit(f"apply failed ({proc.returncode}): {err[-2000:]}")
    return time.perf_counter() - start


def done_targets(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM target_state WHERE version = 'v1'").fetchone()[0]


def measure(url: str, processes: int, deployments: int, resources: int, parallel: int, work: Path) -> float:
    name = f"reconciler_bench_{uuid.uuid4().hex[:10]}"
    _database(url, name, create=True)
    db = url.rsplit("/", 1)[0] + "/" + name
    try:
        root = fleet.scale_out_workspace(work / f"scale-out-{processes}", deployments, resources)
        seconds = run_processes(root, db, processes, parallel)
        if done_targets(db) != deployments * resources:
            raise SystemExit(f"scale-out run with {processes} processes left targets undeployed")
        return seconds
    finally:
        _database(url, name, create=False)


def speedup(url: str, work: Path, deployments: int = 12, resources: int = 8, parallel: int = 4) -> dict[str, float]:
    one = measure(url, 1, deployments, resources, parallel, work)
    three = measure(url, 3, deployments, resources, parallel, work)
    tasks = deployments * resources
    return {"one": one, "three": three, "speedup": one / three, "tasks": tasks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("RECONCILER_BENCH_PG",
                                                        "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--deployments", type=int, default=12)
    parser.add_argument("--resources", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reconciler-scaleout-") as tmp:
        out = speedup(args.pg, Path(tmp), args.deployments, args.resources)
    for key, value in out.items():
        print(f"scale_out_{key} {value:.3f}")


if __name__ == "__main__":
    main()
