"""Planning on two processes (a forked worker plans a share of the deployments, and another fills
the parse cache) makes exactly the plan one process makes, releases included. The thresholds that
keep small workspaces on one process are lowered so that the worker really runs here."""

from __future__ import annotations

import os
import random
import threading
from datetime import timedelta

import pytest

from reconciler.engine import parallel, plancache
from reconciler.loading import prefetch
from tests.planning.test_plan_cache import Fleet, _plan


@pytest.mark.parametrize("recorded", [True, False], ids=["state-file", "no-state-in-memory"])
def test_two_processes_plan_exactly_what_one_does(tmp_path, monkeypatch, recorded):
    state = Fleet(tmp_path / "fleet", random.Random(11))
    if recorded:
        state.apply()
    for _ in range(3):
        state.add_version()
    state.move_resource()
    state.now += timedelta(hours=3)
    forks = []
    real_fork = os.fork

    def counting_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(parallel, "MIN_TARGETS", 1)
    monkeypatch.setattr(prefetch, "MIN_BYTES", 1)
    monkeypatch.setattr(threading, "active_count", lambda: 1)  # the test runner's own threads never fork-share
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "fork", counting_fork)
    monkeypatch.setenv("RECONCILER_PLAN_WORKERS", "1")
    one = _plan(state.root, state.now, False, monkeypatch)
    monkeypatch.setenv("RECONCILER_PLAN_WORKERS", "2")
    (tmp_path / "fresh-cache").mkdir()
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "fresh-cache"))
    plancache._MEMORY.clear()
    two = _plan(state.root, state.now, True, monkeypatch)  # cold: shared planning, then cached
    assert len(forks) >= 2  # the parse worker and the planning worker both ran
    assert two == one
    plancache._MEMORY.clear()
    assert _plan(state.root, state.now, True, monkeypatch) == one  # what the worker stored is right
