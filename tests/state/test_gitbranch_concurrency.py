"""Concurrency of the ``git+branch:`` store with real processes and separate clones of one bare
repository: no lost or duplicated record, exactly one lock holder, and a dead job's lock expires."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.models import statuses
from reconciler.models.records import LockInfo
from reconciler.state.store import open_store
from tests.state.test_conformance import T0
from tests.state.test_gitbranch import URL, clone, git

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[4])
    from reconciler.models import statuses
    from reconciler.state.store import open_store
    from tests.state.test_conformance import T0, state, task

    repo, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = open_store("git+branch:reconciler-state", "ws", repo)
    while not (repo.parent / "go").exists():
        time.sleep(0.005)
    for i in range(count):
        tid, target = f"{name}-{i:03d}", f"api/prod/{name}-{i}"
        store.create_tasks([task(tid, target=target)])
        store.start_attempt(tid, name, T0)
        store.finish_task(tid, status=statuses.DONE, message=name, at=T0,
                          new_state=state(target=target, task_id=tid))
    store.close()
""")


@pytest.fixture
def origin(tmp_path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    return bare


@pytest.mark.slow
def test_concurrent_processes_on_separate_clones_lose_no_task(origin, tmp_path):
    writers, count = ["p0", "p1", "p2"], 10
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(clone(origin, tmp_path / name)), name,
                               str(count), str(ROOT)], stderr=subprocess.PIPE, text=True) for name in writers]
    (tmp_path / "go").touch()
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    store = open_store(URL, "ws", clone(origin, tmp_path / "check"), readonly=True)
    tasks, total = store.list_tasks(per_page=1000)
    expected = {f"{w}-{i:03d}" for w in writers for i in range(count)}
    assert total == len(expected) and sorted(t.id for t in tasks) == sorted(expected)
    assert sorted(t.seq for t in tasks) == list(range(1, total + 1))
    assert all(t.status == statuses.DONE and t.attempt == 1 for t in tasks)
    assert all(len(store.attempts(t.id)) == 1 for t in tasks)
    states = store.target_states()
    assert {s.last_task_id for s in states.values()} == expected
    # every write is exactly one commit: none lost, none applied twice
    assert int(git(origin, "rev-list", "--count", "reconciler-state")) == 3 * total
    store.close()


def _info(owner: str, expires: datetime) -> LockInfo:
    return LockInfo("apply", owner, "ci-runner", 4242, T0, expires)


def test_exactly_one_clone_wins_the_lock(origin, tmp_path):
    stores = [open_store(URL, "ws", clone(origin, tmp_path / f"c{n}")) for n in range(4)]
    stores[0].set_meta_default("created", "yes")  # make the branch exist, so all race on one tip
    results: dict[int, LockInfo | None] = {}
    start = threading.Barrier(len(stores))

    def take(n: int) -> None:
        start.wait()
        results[n] = stores[n].try_lock("apply", _info(f"job{n}", T0 + timedelta(minutes=5)), f"tok{n}", T0)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, holder in results.items() if holder is None]
    assert len(winners) == 1
    assert {h.owner for h in results.values() if h is not None} == {f"job{winners[0]}"}
    assert stores[3].lock_holder("apply").owner == f"job{winners[0]}"
    for s in stores:
        s.close()


def test_a_stale_clone_sees_a_released_lock(origin, tmp_path):
    a = open_store(URL, "ws", clone(origin, tmp_path / "a"))
    b = open_store(URL, "ws", clone(origin, tmp_path / "b"))
    assert a.try_lock("apply", _info("a", T0 + timedelta(minutes=5)), "ta", T0) is None
    assert b.try_lock("apply", _info("b", T0 + timedelta(minutes=5)), "tb", T0).owner == "a"
    a.release_lock("apply", "ta")  # b's clone still shows a as the holder
    assert b.try_lock("apply", _info("b", T0 + timedelta(minutes=5)), "tb", T0) is None
    assert not a.renew_lock("apply", "ta", T0 + timedelta(minutes=9))
    a.close()
    b.close()


DEAD_JOB = textwrap.dedent("""
    import os, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from reconciler.models.records import LockInfo
    from reconciler.state.store import open_store

    store = open_store("git+branch:reconciler-state", "ws", Path(sys.argv[1]))
    now = datetime.now(UTC)
    info = LockInfo("apply", "ci job 17", "runner-9", os.getpid(), now, now + timedelta(seconds=30))
    assert store.try_lock("apply", info, "dead-token", now) is None
    os._exit(0)  # the job dies: no release, no cleanup
""")


def test_a_dead_jobs_lock_expires_instead_of_sticking(origin, tmp_path):
    """Terraform #28710: a CI job that died must not leave a lock someone has to delete by hand."""
    job = subprocess.run([sys.executable, "-c", DEAD_JOB, str(clone(origin, tmp_path / "job")), str(ROOT)],
                         capture_output=True, text=True, timeout=60)
    assert job.returncode == 0, job.stderr
    store = open_store(URL, "ws", clone(origin, tmp_path / "next"))
    now = datetime.now(UTC)
    holder = store.try_lock("apply", _info("next", now + timedelta(seconds=30)), "tok", now)
    assert holder is not None and holder.owner == "ci job 17" and holder.host == "runner-9"
    later = now + timedelta(seconds=31)
    assert store.try_lock("apply", _info("next", later + timedelta(seconds=30)), "tok", later) is None
    assert store.lock_holder("apply").owner == "next"
    store.close()


def test_write_latency_is_reported(origin, tmp_path):
    store = open_store(URL, "ws", clone(origin, tmp_path / "c"))
    started = time.perf_counter()
    for i in range(10):
        store.set_meta_default(f"k{i}", "v")
    per_write = (time.perf_counter() - started) / 10
    assert per_write < 2.0, f"a state write took {per_write:.3f}s"
    assert 0 < store.branch.last_write_seconds < 2.0
    store.close()
