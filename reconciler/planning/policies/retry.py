"""retry: whether a release whose task failed may be dispatched again, and when.

Without a retry rule each release is dispatched once: a failed task stays failed until the desired
release changes or someone runs ``reconciler redeploy``. With ``retry {maxRetries}`` a failed task
is re-run (same task id, next attempt) up to ``maxRetries`` times after the backoff. Interrupted
attempts (the reconciler itself died) never count. Cancelled and skipped tasks are never retried.
"""

from __future__ import annotations

from datetime import timedelta

from reconciler.models import statuses
from reconciler.models.policy import Retry
from reconciler.models.records import TaskRecord
from reconciler.planning.policies.base import Verdict, allow, deny, fmt_time, pending

DEFAULT_STATUSES = (statuses.FAILED, statuses.INVALID_JOB_AGENT)


def backoff_seconds(rule: Retry, retries_done: int) -> float:
    if rule.backoffStrategy == "exponential":
        value = rule.backoff * (2 ** retries_done)
    else:
        value = rule.backoff
    return min(value, rule.maxBackoff) if rule.maxBackoff is not None else value


def eligible(rule: Retry | None, task: TaskRecord, now) -> Verdict:
    """Verdict on re-dispatching the failed ``task``'s release."""
    if rule is None:
        return deny(f"{task.version} failed ({_short(task.message)}); without a retry rule a release is "
                    f"dispatched once: fix it, or run 'reconciler redeploy {task.target}'")
    retry_on = rule.retryOnStatuses or list(DEFAULT_STATUSES)
    if task.status not in retry_on:
        return deny(f"{task.version} ended {task.status}, which the retry rule does not retry")
    if task.retries >= rule.maxRetries:
        return deny(f"{task.version} failed; retries exhausted ({task.retries}/{rule.maxRetries})")
    due = (task.finished_at or now) + timedelta(seconds=backoff_seconds(rule, task.retries))
    if now < due:
        return pending(f"retry {task.retries + 1}/{rule.maxRetries} after backoff at {fmt_time(due)}", due)
    return allow(f"retry {task.retries + 1}/{rule.maxRetries} of failed task {task.id}")


def _short(message: str) -> str:
    text = " ".join(message.split())
    return text if len(text) <= 120 else text[:117] + "..."
