"""Verification decisions: the status of one measurement and the phase of a metric.

Measurement: when ``failureCondition`` is set and true → failed; else when ``successCondition``
is true → passed; else inconclusive if a failure condition exists, otherwise failed. An error
evaluating a condition counts as false.

Metric phase (``failureThreshold`` counts TOTAL failures, as Ctrlplane's code and Argo Rollouts'
failureLimit do; Ctrlplane's schema text says "consecutive" and we chose the code's meaning):
failed when failures exceed the threshold (any failure when it is 0); passed early when
``successThreshold`` consecutive passes trail the list; after ``count`` measurements, passed if
failures stay within the threshold; otherwise running, next measurement ``interval`` after the last.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reconciler.planning import cel

PASSED, FAILED, INCONCLUSIVE, RUNNING = "passed", "failed", "inconclusive", "running"


def _holds(expression: str, result: dict[str, Any]) -> bool:
    return cel.compile(expression, allowed=("result",)).matches({"result": result})


def measurement_status(metric: dict[str, Any], result: dict[str, Any]) -> str:
    failure = metric.get("failureCondition")
    if failure and _holds(failure, result):
        return FAILED
    if _holds(metric["successCondition"], result):
        return PASSED
    return INCONCLUSIVE if failure else FAILED


def phase(metric: dict[str, Any], statuses: list[str]) -> str:
    failures = statuses.count(FAILED)
    limit = int(metric.get("failureThreshold") or 0)
    if (limit == 0 and failures) or (limit > 0 and failures > limit):
        return FAILED
    need = metric.get("successThreshold")
    if need:
        streak = 0
        for status in reversed(statuses):
            if status != PASSED:
                break
            streak += 1
        if streak >= int(need):
            return PASSED
    if len(statuses) >= int(metric.get("count") or 1):
        return PASSED if failures <= limit else FAILED
    return RUNNING


def next_due(metric: dict[str, Any], measured_at: list[datetime], started: datetime) -> datetime:
    if not measured_at:
        return started
    return measured_at[-1] + timedelta(seconds=float(metric.get("interval") or 0))


def overall(phases: dict[str, str]) -> str:
    if any(p == FAILED for p in phases.values()):
        return FAILED
    if phases and all(p == PASSED for p in phases.values()):
        return PASSED
    return RUNNING


def summary(metric: dict[str, Any], statuses: list[str]) -> str:
    return (f"{metric['name']}: {statuses.count(PASSED)} passed, {statuses.count(FAILED)} failed, "
            f"{statuses.count(INCONCLUSIVE)} inconclusive of {metric.get('count', 1)}")
