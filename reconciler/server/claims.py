"""The pull-agent queue: claim jobs, renew leases, take reports, and recover from dead agents.

A claim is a lease: ``queue/next`` gives the claimant the job until now + ``lease``; every PATCH and
heartbeat from the claimant renews it. A lease that runs out without a heartbeat puts the job back
in the queue (``triggered``, message naming the silent agent) for another agent, and after
``max_expiries`` such expiries the job fails with that reason instead. Expired leases are swept on
every claim and by the server's background sweeper.

Reports go through ``engine.operations.report``, which finishes the task and records the target's
new state in one transaction, exactly as a local agent's outcome would be recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reconciler.engine import jobs, operations
from reconciler.engine.execute import finish
from reconciler.errors import ReconcilerError
from reconciler.models import statuses
from reconciler.models.records import TaskRecord
from reconciler.planning.plan import iso
from reconciler.server import shapes
from reconciler.server.context import ServerContext
from reconciler.server.errors import ApiError


def next_jobs(ctx: ServerContext, agent: str, claimant: str, limit: int) -> list[dict[str, Any]]:
    """Claim up to ``limit`` queued jobs of pull agent ``agent`` for ``claimant``."""
    check_pull_agent(ctx, agent)
    now = ctx.now()
    sweep(ctx, now)
    until = now + timedelta(seconds=ctx.settings.lease)
    out = []
    for task_id in ctx.store.claim_tasks(agent, claimant, now, until, limit):
        task = ctx.store.get_task(task_id)
        try:
            out.append(shapes.queued_job(task, ctx.store.claim(task_id)))
        except ReconcilerError as exc:  # e.g. a secret the server's environment lacks: fail, do not retry
            _report(ctx, task, statuses.FAILED, f"the server could not build the job: {exc}", None)
            ctx.store.release_claim(task_id)
    if out:
        ctx.invalidate()
    return out


def check_pull_agent(ctx: ServerContext, agent: str) -> None:
    found = ctx.session().catalog.agents.get(agent)
    if found is None:
        raise ApiError(404, f"no JobAgent named {agent!r} in the desired state")
    if found.agent_type != "pull":
        raise ApiError(409, f"JobAgent {agent!r} is of type {found.agent_type!r}; only type 'pull' has a queue")


def sweep(ctx: ServerContext, now: datetime) -> int:
    """Requeue (or, after too many expiries, fail) jobs whose lease ran out; returns how many."""
    store, limit = ctx.store, ctx.settings.max_expiries
    handled = 0
    for claim in store.expired_claims(now):
        count = claim.expiries + 1
        silent = f"pull agent {claim.claimed_by} stopped heartbeating; its lease expired at {iso(claim.claimed_until)}"
        if count >= limit:
            if store.drop_expired_claim(claim, requeue_message=None):
                task = store.get_task(claim.task_id)
                finish(store, task, statuses.FAILED, f"{silent} ({count} of {limit} leases expired; giving up)", now)
                handled += 1
        elif store.drop_expired_claim(claim, requeue_message=
                                      f"{silent}; back in the queue (lease expiry {count} of {limit})"):
            handled += 1
    if handled:
        ctx.invalidate()
    return handled


def heartbeat(ctx: ServerContext, task_id: str, claimant: str) -> dict[str, Any]:
    task = _active(ctx, task_id)
    until = ctx.now() + timedelta(seconds=ctx.settings.lease)
    if not ctx.store.renew_claim(task.id, claimant, until):
        raise ApiError(409, _held_by(ctx, task.id))
    claim = ctx.store.claim(task.id)
    return {"id": task.id, "status": shapes.JOB_STATUS[task.status], "claimedBy": claim.claimed_by,
            "claimedUntil": iso(claim.claimed_until), "cancelRequested": task.cancel_requested}


def patch(ctx: ServerContext, task_id: str, claimant: str, admin: bool, status: str | None, message: str | None,
          external_id: str | None, log: str | None = None) -> TaskRecord:
    """An agent's report (the seed's PATCH /jobs/{id}); renews the claimant's lease while it runs.
    Secret values are scrubbed from the message and log before anything is recorded."""
    task = _active(ctx, task_id)
    if task.status == statuses.PENDING:
        raise ApiError(409, f"job {task.id} has not been dispatched yet (pending); the next apply dispatches it")
    claim = ctx.store.claim(task.id)
    held = claim.claimed_by is not None and claim.claimed_until is not None and claim.claimed_until > ctx.now()
    if held and claim.claimed_by != claimant and not admin:
        raise ApiError(409, _held_by(ctx, task.id))
    secrets = _secrets(task)
    if log is not None:
        text, cut = jobs.bound_log(jobs.scrub(log, secrets), ctx.session().catalog.config.logLimit)
        ctx.store.update_task(task.id, log=text, log_truncated=cut)
    task = _report(ctx, task, status, jobs.scrub(message, secrets) if message else message, external_id)
    if task.status in statuses.TERMINAL:
        ctx.store.release_claim(task.id)
    elif not admin and (claim.claimed_by == claimant or (claim.claimed_by is None and _is_pull(ctx, task))):
        ctx.store.renew_claim(task.id, claimant,
                              ctx.now() + timedelta(seconds=ctx.settings.lease))
    return task


def _report(ctx: ServerContext, task: TaskRecord, status: str | None, message: str | None,
            external_id: str | None) -> TaskRecord:
    result = operations.report(ctx.session(), task.id, status, message, external_id, ctx.now())
    ctx.invalidate()
    return result


def _secrets(task: TaskRecord) -> list[str]:
    try:
        return jobs.build_job(task)[1]
    except ReconcilerError:
        return []


def _active(ctx: ServerContext, task_id: str) -> TaskRecord:
    task = ctx.store.get_task(task_id)
    if task.id != task_id:
        raise ApiError(404, f"no job with id {task_id!r}")
    if task.status in statuses.TERMINAL:
        raise ApiError(409, f"job {task.id} already finished ({shapes.JOB_STATUS[task.status]}); "
                            "a finished job cannot change", "job_finished")
    return task


def _held_by(ctx: ServerContext, task_id: str) -> str:
    claim = ctx.store.claim(task_id)
    return (f"job {task_id} is claimed by {claim.claimed_by} until {iso(claim.claimed_until)}; "
            "only the claimant (or an admin key) may report on it")


def _is_pull(ctx: ServerContext, task: TaskRecord) -> bool:
    agent = ctx.session().catalog.agents.get(task.agent)
    return agent is not None and agent.agent_type == "pull"
