"""Routes for job agents: read a job, report on it (PATCH), heartbeat, and claim the next jobs of a
pull agent's queue. The claim and lease rules live in ``claims``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Header, Path, Query

from reconciler.server import auth, claims, models, shapes
from reconciler.server.context import ServerContext
from reconciler.server.errors import ApiError, responses
from reconciler.state.sqlapi import ApiKey

router = APIRouter(tags=["jobs"])
ID = Path(min_length=1, max_length=32, description="Job (task) id.")
INSTANCE = Header(None, alias="X-Agent-Instance", max_length=128,
                  description="Which process of the agent this is (e.g. host:pid); part of the claimant's name.")
WRITE_ERRORS = responses(400, 401, 403, 404, 409, 413, 422)


@router.get("/jobs/{job_id}", response_model=models.Job, responses=responses(401, 403, 404, 422), summary="One job")
def get_job(job_id: str = ID, key: ApiKey = auth.Read, ctx: ServerContext = auth.Ctx) -> Any:
    task = ctx.store.get_task(job_id)
    if task.id != job_id:
        raise ApiError(404, f"no job with id {job_id!r}")
    return shapes.job_json(task, ctx.store.claim(task.id))


@router.patch("/jobs/{job_id}", response_model=models.Job, responses=WRITE_ERRORS,
              summary="Report a job's status, message or external id (renews the claimant's lease)")
def patch_job(job_id: str = ID, body: models.JobPatch = Body(...), instance: str | None = INSTANCE,
              key: ApiKey = auth.AgentKey, ctx: ServerContext = auth.Ctx) -> Any:
    if body.status is None and body.message is None and body.externalId is None and body.log is None:
        raise ApiError(422, "send at least one of status, message, externalId, log")
    task = claims.patch(ctx, job_id, auth.claimant(key, instance), key.scope == "admin", body.status, body.message,
                        body.externalId, body.log)
    return shapes.job_json(task, ctx.store.claim(task.id))


@router.post("/jobs/{job_id}/heartbeat", response_model=models.Heartbeat, responses=WRITE_ERRORS,
             summary="Renew the claimant's lease on a running job; says whether a cancel was requested")
def heartbeat(job_id: str = ID, instance: str | None = INSTANCE, key: ApiKey = auth.AgentKey,
              ctx: ServerContext = auth.Ctx) -> Any:
    return claims.heartbeat(ctx, job_id, auth.claimant(key, instance))


@router.get("/job-agents/{name}/queue/next", response_model=models.Queue, responses=WRITE_ERRORS,
            summary="Claim the next queued jobs of a pull agent (atomic; a claim is a lease)")
def queue_next(name: str = Path(min_length=1, max_length=128, description="The JobAgent's name."),
               limit: int = Query(1, ge=1, le=50, description="How many jobs to claim at most."),
               instance: str | None = INSTANCE, key: ApiKey = auth.AgentKey, ctx: ServerContext = auth.Ctx) -> Any:
    return {"jobs": claims.next_jobs(ctx, name, auth.claimant(key, instance), limit)}
