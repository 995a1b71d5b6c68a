"""Recorded-state records: what the state store returns and what planning reads as facts.

Plain frozen dataclasses (not pydantic) because there can be hundreds of thousands of them.
Returned records are copies; mutating one never changes the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TargetState:
    """What runs on a release target: the last successful release (Platz's revision pointer)."""

    target: str
    version: str
    release_id: str
    config_digest: str
    inputs: dict[str, Any]
    placement: dict[str, Any]
    last_task_id: str
    updated_at: datetime
    deployed_at: datetime | None = None
    fingerprint: str = ""  # digest of every input of the release; equal means nothing to re-plan
    drift: str = ""  # what ``reconciler drift`` found wrong on the host; non-empty means re-apply


@dataclass(frozen=True, slots=True)
class Attempt:
    task_id: str
    attempt: int
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    message: str = ""
    interrupted: bool = False
    run_id: str = ""


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task: an operation on one release target, with its audit fields."""

    id: str
    target: str
    deployment: str
    environment: str
    resource: str
    operation: str
    status: str
    version: str
    from_version: str | None
    release_id: str
    actor: str
    actor_kind: str
    reason: str
    diff: dict[str, Any]
    revision: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    external_id: str | None = None
    message: str = ""
    log: str = ""
    log_truncated: int = 0
    attempt: int = 0
    retries: int = 0
    cancel_requested: bool = False
    run_id: str = ""
    agent: str = ""
    job: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    verification: dict[str, Any] = field(default_factory=dict)
    rollback_of: str | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    """A content-addressed release: a version with resolved variables and config for one target."""

    id: str
    target: str
    version: str
    variables: dict[str, Any]
    config: dict[str, Any]
    config_digest: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    deployment: str
    version: str
    environment: str
    actor: str
    status: str  # approved | rejected
    reason: str
    at: datetime
    source: str = "state"  # state | git


@dataclass(frozen=True, slots=True)
class HoldRecord:
    """A version kept off a target after a failed deployment rolled back."""

    target: str
    version: str
    reason: str
    task_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """Aggregated task outcomes of one (target, version, status): counts and time range."""

    target: str
    version: str
    status: str
    count: int
    first_at: datetime
    last_at: datetime
    verified: bool = True


@dataclass(frozen=True, slots=True)
class LockInfo:
    name: str
    owner: str
    host: str
    pid: int
    acquired_at: datetime
    expires_at: datetime

    def describe(self) -> str:
        return f"{self.owner} (pid {self.pid} on {self.host}, lease until {self.expires_at:%Y-%m-%dT%H:%M:%SZ})"


@dataclass(frozen=True, slots=True)
class Trace:
    task_id: str
    seq: int
    step: str
    status: str
    message: str
    at: datetime
