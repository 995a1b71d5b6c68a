"""Request and response models of the API: what ``schemas/openapi.json`` documents.

Requests forbid unknown fields, so a misspelt field is a 422 rather than silently ignored.
Responses are the seed's shapes (see ``shapes``); free-form maps (config, variables) stay objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["pending", "triggered", "in_progress", "completed", "failed", "cancelled", "skipped",
                    "invalid_job_agent"]
ReleaseStatus = Literal["pending", "approved", "active", "completed", "failed", "cancelled", "skipped",
                        "superseded"]
# What an agent may report: the seed's words and ours (completed = done, cancelled = canceled).
ReportedStatus = Literal["triggered", "in_progress", "completed", "successful", "done", "failed", "cancelled",
                         "canceled", "skipped", "invalid_job_agent"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable error code, e.g. forbidden, not_found, invalid_request.")
    message: str
    details: list[Any] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Job(BaseModel):
    id: str
    releaseId: str
    jobAgentId: str
    status: JobStatus
    externalId: str | None
    message: str
    createdAt: datetime
    startedAt: datetime | None
    completedAt: datetime | None
    reconcilerStatus: str = Field(description="The task status in reconciler's own words (done, canceled, ...).")
    operation: str
    target: str
    deployment: str
    environment: str
    resource: str
    version: str
    fromVersion: str | None
    actor: str
    reason: str
    attempt: int
    cancelRequested: bool
    claimedBy: str | None = Field(description="The pull agent holding the job's lease, if any.")
    claimedUntil: datetime | None


class BlockedBy(BaseModel):
    policy: str
    rule: str
    message: str
    nextEvaluation: datetime | None


class Release(BaseModel):
    id: str
    deploymentId: str
    environmentId: str
    resourceId: str
    versionId: str
    jobId: str | None
    status: ReleaseStatus
    createdAt: datetime
    updatedAt: datetime
    target: str
    version: str
    variables: dict[str, Any]
    config: dict[str, Any]
    blockedBy: BlockedBy | None = Field(description="Why a pending release waits (the policy rule holding it).")


class Page(BaseModel):
    page: int
    perPage: int
    total: int


class JobList(Page):
    jobs: list[Job]


class ReleaseList(Page):
    releases: list[Release]


class ReleasePatch(Request):
    status: Literal["cancelled", "canceled"] = Field(description="Cancel the release's pending and active jobs.")


class ApproveBody(Request):
    reason: str = Field("", max_length=2000)


class Approval(BaseModel):
    deployment: str
    version: str
    environment: str
    actor: str
    status: str
    reason: str
    at: datetime


class Approved(BaseModel):
    release: Release
    approval: Approval


class Cancelled(BaseModel):
    release: Release
    jobs: list[Job]


class Redeployed(BaseModel):
    job: Job


class JobPatch(Request):
    """At least one field; a field that is sent must not be null (leave it out instead)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    # Defaults of None are never validated, so an omitted field is None while a sent null is refused.
    status: ReportedStatus = None  # type: ignore[assignment]
    message: str = Field(None, max_length=20000)  # type: ignore[assignment]
    externalId: str = Field(None, max_length=512)  # type: ignore[assignment]
    log: str = Field(None, description="The job's output (reconciler's addition to the seed's fields); "  # type: ignore
                                       "secrets are scrubbed and the tail kept, as for local agents.")


class Heartbeat(BaseModel):
    id: str
    status: JobStatus
    claimedBy: str | None
    claimedUntil: datetime | None
    cancelRequested: bool


class QueuedRelease(BaseModel):
    id: str
    version: dict[str, Any]
    environment: dict[str, Any]
    resource: dict[str, Any]
    deployment: dict[str, Any]
    variables: dict[str, Any]


class QueuedJob(BaseModel):
    id: str
    release: QueuedRelease
    jobAgentConfig: dict[str, Any]
    operation: str
    target: str
    attempt: int
    previousVersion: str | None
    artifacts: dict[str, str] = Field(description="Generated files (path -> content) the job ships.")
    claimedBy: str
    claimedUntil: datetime


class Queue(BaseModel):
    jobs: list[QueuedJob]


class StatusRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    target: str
    deployment: str
    environment: str
    resource: str
    currentVersion: str | None
    desiredVersion: str | None
    state: str
    message: str


class Status(BaseModel):
    revision: str
    at: datetime
    rows: list[StatusRow]
    error: str | None = Field(description="Why the desired state or plan could not be evaluated, if so.")


class WebhookResult(BaseModel):
    result: Literal["reported", "ignored"]
    detail: str
    jobId: str | None = None


class Health(BaseModel):
    status: Literal["ok"]
