"""The seed's JSON shapes for jobs and releases, built from our records.

A job is one of our tasks; a release is a row of the ``releases`` table with its newest task. The
seed's fields come first (``id``, ``releaseId``, ``jobAgentId``, ``status``, ``externalId``, ...) in
the seed's status words (``completed``, ``cancelled``); ours follow (``reconcilerStatus``,
``target``, ``operation``, ...). ``queued_job`` is what ``queue/next`` hands a pull agent: the job
built as for a local agent, secrets revealed from the server's environment (the agent needs them).
"""

from __future__ import annotations

from typing import Any

from reconciler.engine import jobs
from reconciler.models import statuses
from reconciler.models.records import ReleaseRecord, TaskRecord
from reconciler.planning.plan import iso
from reconciler.server.snapshot import Snapshot
from reconciler.state.sqlapi import Claim

JOB_STATUS = {
    statuses.PENDING: "pending",
    statuses.STARTED: "in_progress",
    statuses.TRIGGERED: "triggered",
    statuses.IN_PROGRESS: "in_progress",
    statuses.VERIFYING: "in_progress",
    statuses.DONE: "completed",
    statuses.FAILED: "failed",
    statuses.CANCELED: "cancelled",
    statuses.SKIPPED: "skipped",
    statuses.INVALID_JOB_AGENT: "invalid_job_agent",
}
RELEASE_STATUS = {
    statuses.PENDING: "approved",
    statuses.STARTED: "active",
    statuses.TRIGGERED: "active",
    statuses.IN_PROGRESS: "active",
    statuses.VERIFYING: "active",
    statuses.DONE: "completed",
    statuses.FAILED: "failed",
    statuses.INVALID_JOB_AGENT: "failed",
    statuses.CANCELED: "cancelled",
    statuses.SKIPPED: "skipped",
}


def job_json(task: TaskRecord, claim: Claim | None = None) -> dict[str, Any]:
    return {
        "id": task.id, "releaseId": task.release_id, "jobAgentId": task.agent, "status": JOB_STATUS[task.status],
        "externalId": task.external_id, "message": task.message, "createdAt": iso(task.created_at),
        "startedAt": iso(task.started_at), "completedAt": iso(task.finished_at),
        "reconcilerStatus": task.status, "operation": task.operation, "target": task.target,
        "deployment": task.deployment, "environment": task.environment, "resource": task.resource,
        "version": task.version, "fromVersion": task.from_version, "actor": task.actor, "reason": task.reason,
        "attempt": task.attempt, "cancelRequested": task.cancel_requested,
        "claimedBy": claim.claimed_by if claim else None,
        "claimedUntil": iso(claim.claimed_until) if claim else None,
    }


def release_status(release_id: str, task: TaskRecord | None, snap: Snapshot | None) -> str:
    if task is not None:
        return RELEASE_STATUS[task.status]
    if snap is not None and release_id in snap.pending:
        return "pending"
    if snap is not None and release_id in snap.approved:
        return "approved"
    return "superseded"


def release_json(record: ReleaseRecord, task: TaskRecord | None, snap: Snapshot | None) -> dict[str, Any]:
    dep, env, res = record.target.split("/", 2)
    updated = (task.finished_at or task.started_at or task.created_at) if task else record.created_at
    blocked = snap.pending.get(record.id) if snap is not None and task is None else None
    return {
        "id": record.id, "deploymentId": dep, "environmentId": env, "resourceId": res, "versionId": record.version,
        "jobId": task.id if task else None, "status": release_status(record.id, task, snap),
        "createdAt": iso(record.created_at), "updatedAt": iso(updated),
        "target": record.target, "version": record.version, "variables": record.variables,
        "config": record.config,
        "blockedBy": None if blocked is None else {
            "policy": blocked.policy, "rule": blocked.rule, "message": blocked.message,
            "nextEvaluation": iso(blocked.next_evaluation)},
    }


def queued_job(task: TaskRecord, claim: Claim) -> dict[str, Any]:
    """The seed's ``queue/next`` job: release, version, environment, resource, variables and the
    merged job config. Raises what ``build_job`` raises (a missing secret is a TerminalError)."""
    job, _ = jobs.build_job(task)
    release = job.release
    return {
        "id": task.id,
        "release": {"id": job.release_id, "version": release["version"], "environment": release["environment"],
                    "resource": release["resource"], "deployment": release["deployment"],
                    "variables": job.variables},
        "jobAgentConfig": job.config,
        "operation": job.operation, "target": job.target, "attempt": job.attempt,
        "previousVersion": job.previous_version, "artifacts": job.artifacts,
        "claimedBy": claim.claimed_by, "claimedUntil": iso(claim.claimed_until),
    }
