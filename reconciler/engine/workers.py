"""The threads an apply runs tasks on: as many as keep the cores busy with quick tasks, more while
tasks wait on their agents, never more than ``maxParallel``.

A task of a local agent that returns at once (``true``, a quick script) is mostly CPU work of this
process, the database and the spawn, so on a small machine every thread beyond a few only adds
GIL hand-offs, database backends and context switches: 1,000 ``true`` tasks ran about a third
faster on 8 threads than on 16 on two cores. Tasks that wait (a deploy script, a sleep, an HTTP
agent) need a thread each to overlap. So ``AdaptivePool`` keeps ``fast`` threads for the queue
beside every call that has been running longer than ``slow`` seconds (0.1 s: twenty times a quick
task, so a machine busy with other work rarely makes quick tasks look like waiting ones); threads
beyond that leave once they are not needed. It never runs more than ``limit`` calls at once, and
calls start in submission order, as with ``ThreadPoolExecutor``.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

SLOW = 0.1  # seconds: a call running longer is taken to wait on something other than this process
TICK = 0.02


def fast_threads() -> int:
    """Threads for quick tasks: four per core (two cores: 8)."""
    return 4 * (os.cpu_count() or 1)


class AdaptivePool:
    def __init__(self, limit: int, *, fast: int | None = None, slow: float = SLOW, tick: float = TICK,
                 name: str = "target"):
        self.limit, self.slow, self.tick, self.name = limit, slow, tick, name
        self.fast = max(1, min(limit, fast or fast_threads()))
        self._queue: collections.deque[tuple[Future, Callable[..., Any], tuple]] = collections.deque()
        self._cond = threading.Condition()
        self._running: dict[int, float] = {}  # worker number -> when its current call started
        self._threads: list[threading.Thread] = []
        self._alive = 0
        self.peak = 0  # most threads alive at once
        self._closed = False
        self._watcher = threading.Thread(target=self._watch, name=f"{name}-pool", daemon=True)
        self._watcher.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("cannot submit to a closed pool")
            self._queue.append((future, fn, args))
            if self._alive < self.fast:
                self._spawn()
            self._cond.notify()
        return future

    def _wanted(self) -> int:
        """Threads wanted now: ``fast`` beside the calls running long (the condition is held)."""
        now = time.monotonic()
        waiting = sum(1 for started in self._running.values() if now - started >= self.slow)
        return min(self.limit, waiting + self.fast)

    def _spawn(self) -> None:
        """Start a worker (the condition is held)."""
        thread = threading.Thread(target=self._work, args=(len(self._threads),),
                                  name=f"{self.name}_{len(self._threads)}", daemon=True)
        self._threads.append(thread)
        self._alive += 1
        self.peak = max(self.peak, self._alive)
        thread.start()

    def _next(self, number: int) -> tuple[Future, Callable[..., Any], tuple] | None:
        """The next call for worker ``number``, or None when it should stop."""
        with self._cond:
            while not self._queue and not self._closed:
                if self._alive > self._wanted():
                    break  # more threads than calls that need one
                self._cond.wait()
            if not self._queue or self._alive > self._wanted():
                self._alive -= 1
                self._cond.notify()  # a wake-up meant for a worker goes on to one that stays
                return None
            item = self._queue.popleft()
            self._running[number] = time.monotonic()
            return item

    def _work(self, number: int) -> None:
        while (item := self._next(number)) is not None:
            future, fn, args = item
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn(*args))
                    except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
                        future.set_exception(exc)
            finally:
                with self._cond:
                    del self._running[number]

    def _watch(self) -> None:
        """Every tick: enough threads beside the calls running long, up to the limit."""
        with self._cond:
            while not self._closed:
                self._cond.wait(self.tick)
                if self._closed:
                    return
                busy = len(self._running)
                want = min(self._wanted(), busy + len(self._queue))
                while self._alive < want:
                    self._spawn()

    def shutdown(self) -> None:
        """Run what was submitted, then stop every thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._watcher.join()
        for thread in list(self._threads):
            thread.join()

    def __enter__(self) -> AdaptivePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
