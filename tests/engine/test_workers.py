"""The adaptive pool tasks run on: a few threads while calls return at once, one per waiting call
beyond that up to the limit, results and errors through futures, submission order kept."""

from __future__ import annotations

import threading
import time

import pytest

from reconciler.engine.workers import AdaptivePool


def _wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_quick_calls_stay_on_the_fast_threads():
    seen: set[str] = set()
    with AdaptivePool(16, fast=3, slow=60.0) as pool:
        futures = [pool.submit(lambda i: (seen.add(threading.current_thread().name), i * 2)[1], i) for i in range(200)]
        assert [f.result() for f in futures] == [i * 2 for i in range(200)]
        assert pool.peak == 3
    assert len(seen) <= 3


def test_waiting_calls_get_threads_of_their_own_up_to_the_limit():
    release = threading.Event()
    running = []
    lock = threading.Lock()

    def call(i):
        with lock:
            running.append(i)
        release.wait(30)
        return i

    with AdaptivePool(6, fast=2, slow=0.05, tick=0.01) as pool:
        futures = [pool.submit(call, i) for i in range(10)]
        try:
            assert _wait_until(lambda: len(running) == 6), running  # 2 fast threads grew to the limit
            time.sleep(0.2)
            assert len(running) == 6 and pool.peak == 6  # never beyond it
            assert running == list(range(6))  # in submission order
        finally:
            release.set()
        assert [f.result() for f in futures] == list(range(10))


def test_threads_beyond_the_fast_ones_leave_once_the_long_calls_ended():
    release = threading.Event()
    with AdaptivePool(6, fast=2, slow=0.05, tick=0.01) as pool:
        waiting = [pool.submit(release.wait, 30) for _ in range(6)]
        assert _wait_until(lambda: pool.peak == 6)
        release.set()
        assert all(f.result() for f in waiting)
        quick = [pool.submit(lambda i: i, i) for i in range(500)]
        assert [f.result() for f in quick] == list(range(500))
        assert _wait_until(lambda: pool._alive <= 2)


def test_errors_reach_the_future_and_later_submissions_still_run():
    with AdaptivePool(4, fast=2) as pool:
        def boom():
            raise ValueError("agent bug")
        failed = pool.submit(boom)
        with pytest.raises(ValueError, match="agent bug"):
            failed.result()
        assert pool.submit(lambda: "after").result() == "after"
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)


def test_shutdown_runs_everything_submitted():
    done = []
    pool = AdaptivePool(2, fast=1)
    for i in range(20):
        pool.submit(lambda i=i: (time.sleep(0.001), done.append(i)))
    pool.shutdown()
    assert sorted(done) == list(range(20))
