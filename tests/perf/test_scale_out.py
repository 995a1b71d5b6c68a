"""Scale-out on PostgreSQL: several ``reconciler run`` processes share one workspace by leasing
deployments. Three processes, one killed with SIGKILL in the middle of its work: every target still
reaches its desired version exactly once, with one task per target (the dead run's tasks are
resumed by another process after its lease expires, never duplicated). Also the lease contract
itself, on every backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from reconciler.models.records import LockInfo
from reconciler.state.store import open_store
from tests.conftest import write_files

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEPLOYMENTS = 6
RESOURCES = 4


def scale_out_files(deployments: int = DEPLOYMENTS, resources: int = RESOURCES, sleep: str = "0.2") -> dict[str, str]:
    docs = ["type: System\nname: s\n", "type: Environment\nname: prod\nsystem: s\nresourceSelector: \"true\"\n",
            f"type: JobAgent\nname: slow\nconfig: {{type: command, command: [sleep, \"{sleep}\"]}}\n"]
    docs += [f"type: Resource\nidentifier: h{i}\nname: h{i}\nkind: Host\nversion: v1\n" for i in range(resources)]
    for d in range(deployments):
        docs.append(f"type: Deployment\nname: app{d}\nsystem: s\nagent: {{ref: slow}}\n")
        docs.append(f"type: Version\ndeployment: app{d}\ntag: v1\ncreatedAt: \"2026-11-01T00:00:00Z\"\n")
    return {"reconciler.yaml": "workspace: scale-out\nmaxParallel: 2\n", "docs.yaml": "---\n".join(docs)}


def _start(root: Path, url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "RECONCILER_LEASE_TTL": "3", "RECONCILER_ACTOR": "runner"}
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "reconciler", "run", "-C", str(root), "--state", url,
                                 "--interval", "1s", "--max-parallel", "2"], stdout=out, stderr=subprocess.STDOUT,
                                env=env)


def _rows(url: str, query: str) -> list:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(query)).all()
    finally:
        engine.dispose()


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except sa.exc.ProgrammingError:
            pass  # the processes have not created the schema yet
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_runs_share_a_workspace_and_survive_one_killed_mid_apply(tmp_path, pg_db):
    root = tmp_path / "ws"
    write_files(root, scale_out_files())
    procs = [_start(root, pg_db, tmp_path / f"run{i}.log") for i in range(3)]
    try:
        victim = procs[1]

        def tasks_the_victim_runs() -> int:
            return _rows(pg_db, f"SELECT count(*) FROM task_attempts a JOIN locks l ON l.pid = {victim.pid} "
                                f"WHERE a.status = 'started' AND a.task_id IN ("
                                f"SELECT id FROM tasks WHERE deployment = substr(l.name, 12))")[0][0]

        _wait(tasks_the_victim_runs, 60, "the second process to run a task")
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        # What the kill cut off, read while its leases still hold (nobody may take them over yet): a
        # task can end between the check above and the kill, on a loaded machine more often.
        cut_off = tasks_the_victim_runs()
        total = DEPLOYMENTS * RESOURCES
        _wait(lambda: _rows(pg_db, "SELECT count(*) FROM target_state WHERE version = 'v1'")[0][0] == total
              and not _rows(pg_db, "SELECT 1 FROM tasks WHERE status NOT IN ('done')"), 90,
              "every target to reach v1")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    per_target = _rows(pg_db, "SELECT target, count(*), min(status), max(attempt) FROM tasks GROUP BY target")
    assert len(per_target) == DEPLOYMENTS * RESOURCES
    assert all(count == 1 and status == "done" for _t, count, status, _a in per_target), per_target
    interrupted = _rows(pg_db, "SELECT count(*) FROM task_attempts WHERE interrupted")[0][0]
    assert interrupted >= cut_off  # each task the kill cut off was resumed as a new attempt of the same task
    runners = _rows(pg_db, "SELECT count(DISTINCT run_id) FROM task_attempts")[0][0]
    assert runners >= 3  # the work really was shared


@pytest.fixture
def lease_store(state_url, tmp_path):
    store = open_store(state_url, f"ws-{uuid.uuid4().hex[:8]}", tmp_path)
    yield store
    store.close()


def _info(owner: str, expires: datetime) -> LockInfo:
    return LockInfo("", owner, "host", 1, T0, expires)


def test_leases_are_claimed_once_renewed_released_and_taken_over_after_expiry(lease_store):
    store, names = lease_store, ["deployment:a", "deployment:b", "deployment:c"]
    first = store.claim_leases(names, _info("one", T0 + timedelta(seconds=30)), "tok1", T0, limit=2)
    assert first == ["deployment:a", "deployment:b"]
    assert store.claim_leases(names, _info("two", T0 + timedelta(seconds=30)), "tok2", T0, limit=5) == \
        ["deployment:c"]
    assert store.claim_leases(names, _info("two", T0 + timedelta(seconds=30)), "tok2", T0, limit=5) == \
        ["deployment:c"]  # its own lease again
    assert store.renew_leases(first, "tok1", T0 + timedelta(seconds=60)) == set(first)
    assert store.renew_leases(first, "tok2", T0 + timedelta(seconds=60)) == set()
    later = T0 + timedelta(seconds=90)  # every lease expired: a survivor takes them over
    assert store.claim_leases(names, _info("two", later + timedelta(seconds=30)), "tok2", later, limit=5) == names
    store.release_leases(["deployment:a"], "tok1")  # a stale token releases nothing
    assert store.claim_leases(["deployment:a"], _info("one", later), "tok1", later) == []
    store.release_leases(["deployment:a"], "tok2")
    assert store.claim_leases(["deployment:a"], _info("one", later + timedelta(seconds=9)), "tok1", later) == \
        ["deployment:a"]
