"""Task statuses, and the mapping from Ctrlplane's job statuses onto ours.

Lifecycle: ``pending → started → done | failed | canceled``. Agents may report finer statuses:
``triggered`` and ``in_progress`` (still running, asynchronous), ``verifying`` (the agent finished,
verification runs), ``skipped`` and ``invalid_job_agent`` (terminal).
"""

from __future__ import annotations

PENDING = "pending"
STARTED = "started"
TRIGGERED = "triggered"
IN_PROGRESS = "in_progress"
VERIFYING = "verifying"
DONE = "done"
FAILED = "failed"
CANCELED = "canceled"
SKIPPED = "skipped"
INVALID_JOB_AGENT = "invalid_job_agent"

ALL = (PENDING, STARTED, TRIGGERED, IN_PROGRESS, VERIFYING, DONE, FAILED, CANCELED, SKIPPED, INVALID_JOB_AGENT)
ACTIVE = frozenset({PENDING, STARTED, TRIGGERED, IN_PROGRESS, VERIFYING})
RUNNING = frozenset({STARTED, TRIGGERED, IN_PROGRESS, VERIFYING})
TERMINAL = frozenset({DONE, FAILED, CANCELED, SKIPPED, INVALID_JOB_AGENT})
FAILURES = frozenset({FAILED, INVALID_JOB_AGENT})

_ALIASES = {
    "successful": DONE,
    "success": DONE,
    "completed": DONE,
    "succeeded": DONE,
    "done": DONE,
    "failure": FAILED,
    "failed": FAILED,
    "cancelled": CANCELED,
    "canceled": CANCELED,
    "inprogress": IN_PROGRESS,
    "in_progress": IN_PROGRESS,
    "running": IN_PROGRESS,
    "actionrequired": IN_PROGRESS,
    "action_required": IN_PROGRESS,
    "queued": PENDING,
    "pending": PENDING,
    "started": STARTED,
    "triggered": TRIGGERED,
    "verifying": VERIFYING,
    "skipped": SKIPPED,
    "invalidjobagent": INVALID_JOB_AGENT,
    "invalid_job_agent": INVALID_JOB_AGENT,
    "invalidintegration": INVALID_JOB_AGENT,
    "invalid_integration": INVALID_JOB_AGENT,
    "externalrunnotfound": FAILED,
    "external_run_not_found": FAILED,
}


def normalize_status(value: str) -> str:
    """Our status name for ``value`` (ours or Ctrlplane's); ValueError names the accepted ones."""
    key = str(value).strip().replace("-", "_").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key.replace("_", "") in _ALIASES:
        return _ALIASES[key.replace("_", "")]
    raise ValueError(f"unknown status {value!r}; use one of: {', '.join(ALL)}")
