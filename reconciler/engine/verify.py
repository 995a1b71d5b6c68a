"""Run a task's verification: take each metric's measurements when due, persist every measurement
to the task (so a killed apply resumes where it stopped), and return passed or failed.

The state lives in the task's ``verification`` field::

    {"status": "running|passed|failed", "startedAt": ISO,
     "metrics": {NAME: {"phase": ..., "measurements": [{"at": ISO, "status": ..., "result": {...}}]}}}
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from reconciler.executors.verification import measure
from reconciler.models.common import parse_time
from reconciler.models.records import TaskRecord
from reconciler.planning import verification as decide
from reconciler.planning.plan import iso

_RESULT_KEEP = ("ok", "statusCode", "value", "exitCode", "error", "duration")


def _slim(result: dict[str, Any]) -> dict[str, Any]:
    """What is recorded of a measurement (bodies and headers are not kept in history)."""
    return {k: result[k] for k in _RESULT_KEEP if k in result}


class Verifier:
    def __init__(self, store, workdir: str, clock: Callable[[], datetime], cancelled: Callable[[], bool],
                 sleep: Callable[[float], None] = time.sleep):
        self.store, self.workdir, self.clock = store, workdir, clock
        self.cancelled, self.sleep = cancelled, sleep

    def run(self, task: TaskRecord, spec: dict[str, Any]) -> tuple[str, str]:
        """(passed|failed|canceled, message) after measuring every metric of ``spec``."""
        state = dict(task.verification or {})
        state.setdefault("status", decide.RUNNING)
        state.setdefault("startedAt", iso(self.clock()))
        state.setdefault("metrics", {})
        metrics = {m["name"]: m for m in spec["metrics"]}
        for name in metrics:
            state["metrics"].setdefault(name, {"phase": decide.RUNNING, "measurements": []})
        self._save(task.id, state)
        while True:
            phases = {n: state["metrics"][n]["phase"] for n in metrics}
            verdict = decide.overall(phases)
            if verdict != decide.RUNNING:
                state["status"] = verdict
                self._save(task.id, state)
                return verdict, self._message(metrics, state, verdict)
            if self.cancelled():
                return "canceled", "canceled during verification"
            name, due = self._next(metrics, state)
            wait = (due - self.clock()).total_seconds()
            if wait > 0:
                self.sleep(min(wait, 1.0))
                continue
            self._measure(metrics[name], state["metrics"][name])
            self._save(task.id, state)

    def _next(self, metrics, state) -> tuple[str, datetime]:
        started = parse_time(state["startedAt"])
        pending = []
        for name, metric in metrics.items():
            entry = state["metrics"][name]
            if entry["phase"] != decide.RUNNING:
                continue
            times = [parse_time(m["at"]) for m in entry["measurements"]]
            pending.append((decide.next_due(metric, times, started), name))
        due, name = min(pending)
        return name, due

    def _measure(self, metric: dict[str, Any], entry: dict[str, Any]) -> None:
        result = measure(metric["provider"], self.workdir)
        status = decide.measurement_status(metric, result)
        entry["measurements"].append({"at": iso(self.clock()), "status": status, "result": _slim(result)})
        entry["phase"] = decide.phase(metric, [m["status"] for m in entry["measurements"]])

    def _save(self, task_id: str, state: dict[str, Any]) -> None:
        self.store.update_task(task_id, verification=state)

    @staticmethod
    def _message(metrics, state, verdict: str) -> str:
        parts = [decide.summary(metrics[n], [m["status"] for m in state["metrics"][n]["measurements"]])
                 for n in metrics]
        return f"verification {verdict}: " + "; ".join(parts)
