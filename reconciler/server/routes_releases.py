"""Routes for people: deployments' releases and jobs, one release, and what people do to releases
(cancel, approve, redeploy), plus the status matrix as JSON.

Each write calls the engine's operation (``record_vote``, ``cancel``, ``redeploy``) with the API
key's owner as the actor, then forgets the cached snapshot so the next read shows the effect.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Path, Query

from reconciler.engine import operations
from reconciler.engine.identity import Actor
from reconciler.models import statuses
from reconciler.models.records import ReleaseRecord, TaskRecord
from reconciler.planning.plan import iso
from reconciler.server import auth, keys, models, shapes
from reconciler.server.context import ServerContext
from reconciler.server.errors import ApiError, responses
from reconciler.state.sqlapi import ApiKey

router = APIRouter(tags=["releases"])
NAME = Path(min_length=1, max_length=128, description="Deployment name.")
ID = Path(min_length=1, max_length=64, description="Release id (content hash).")
PAGE = Query(1, ge=1, le=100000)
PER_PAGE = Query(20, ge=1, le=100, alias="perPage")
READ_ERRORS = responses(401, 403, 404, 422)
WRITE_ERRORS = responses(400, 401, 403, 404, 409, 413, 422)


@router.get("/deployments/{name}/releases", response_model=models.ReleaseList, responses=READ_ERRORS,
            summary="Releases of a deployment, newest first, each with its newest job")
def deployment_releases(name: str = NAME, page: int = PAGE, per_page: int = PER_PAGE,
                        key: ApiKey = auth.Read, ctx: ServerContext = auth.Ctx) -> Any:
    snap = ctx.snapshot()
    found, total = ctx.store.list_releases(name, page, per_page)
    _known_deployment(ctx, name, total)
    return {"releases": [shapes.release_json(r, t, snap) for r, t in found], "page": page, "perPage": per_page,
            "total": total}


@router.get("/deployments/{name}/jobs", response_model=models.JobList, responses=READ_ERRORS,
            summary="Jobs (tasks) of a deployment, newest first")
def deployment_jobs(name: str = NAME, page: int = PAGE, per_page: int = PER_PAGE, key: ApiKey = auth.Read,
                    ctx: ServerContext = auth.Ctx) -> Any:
    found, total = ctx.store.list_tasks(deployment=name, page=page, per_page=per_page)
    _known_deployment(ctx, name, total)
    return {"jobs": [shapes.job_json(t, ctx.store.claim(t.id)) for t in found],
            "page": page, "perPage": per_page, "total": total}


@router.get("/releases/{release_id}", response_model=models.Release, responses=READ_ERRORS, summary="One release")
def get_release(release_id: str = ID, key: ApiKey = auth.Read, ctx: ServerContext = auth.Ctx) -> Any:
    snap = ctx.snapshot()
    record = _release(ctx, release_id)
    return shapes.release_json(record, _newest(ctx, release_id), snap)


@router.patch("/releases/{release_id}", response_model=models.Cancelled, responses=WRITE_ERRORS,
              summary="Cancel a release: its pending jobs at once, active ones between phases")
def patch_release(release_id: str = ID, body: models.ReleasePatch = Body(...), key: ApiKey = auth.Admin,
                  ctx: ServerContext = auth.Ctx) -> Any:
    record = _release(ctx, release_id)
    active = [t for t in ctx.store.release_tasks(release_id) if t.status in statuses.ACTIVE]
    if not active:
        raise ApiError(409, f"release {release_id} has no pending or active job to cancel")
    session = ctx.session()
    done = [operations.cancel(session, t.id, _actor(key), ctx.now())[0] for t in active]
    ctx.invalidate()
    return {"release": shapes.release_json(record, _newest(ctx, release_id), ctx.snapshot()),
            "jobs": [shapes.job_json(t) for t in done]}


@router.post("/releases/{release_id}/approve", response_model=models.Approved, responses=WRITE_ERRORS,
             summary="Approve the release's version in its environment, as the API key's owner")
def approve(release_id: str = ID, body: models.ApproveBody | None = Body(None), key: ApiKey = auth.Approver,
            ctx: ServerContext = auth.Ctx) -> Any:
    record = _release(ctx, release_id)
    dep, env, _ = record.target.split("/", 2)
    vote = operations.record_vote(ctx.session(), dep, record.version, env, _actor(key), "approved",
                                  body.reason if body else "", ctx.now())
    ctx.invalidate()
    approval = {"deployment": vote.deployment, "version": vote.version, "environment": vote.environment,
                "actor": vote.actor, "status": vote.status, "reason": vote.reason, "at": iso(vote.at)}
    return {"release": shapes.release_json(record, _newest(ctx, release_id), ctx.snapshot()), "approval": approval}


@router.post("/releases/{release_id}/redeploy", response_model=models.Redeployed, responses=WRITE_ERRORS,
             summary="Queue a new job for the release (it must be what its target runs)")
def redeploy(release_id: str = ID, key: ApiKey = auth.Admin, ctx: ServerContext = auth.Ctx) -> Any:
    record = _release(ctx, release_id)
    state = ctx.store.target_states().get(record.target)
    if state is None or state.release_id != release_id:
        runs = f"it runs release {state.release_id}" if state else "nothing is deployed there"
        raise ApiError(409, f"release {release_id} is not what {record.target} runs ({runs}); redeploy re-runs "
                            "a target's current release")
    task = operations.redeploy(ctx.session(), record.target, _actor(key), ctx.now())
    ctx.invalidate()
    return {"job": shapes.job_json(task)}


@router.get("/status", response_model=models.Status, responses=responses(401, 403), tags=["status"],
            summary="Every release target: current and desired version, state and why")
def status(key: ApiKey = auth.Read, ctx: ServerContext = auth.Ctx) -> Any:
    snap = ctx.snapshot()
    return {"revision": snap.revision, "at": iso(snap.at), "rows": snap.rows, "error": snap.error or ctx.load_error}


def _release(ctx: ServerContext, release_id: str) -> ReleaseRecord:
    ctx.snapshot()  # records pending releases first
    record = ctx.store.get_release(release_id)
    if record is None:
        raise ApiError(404, f"no release with id {release_id!r}")
    return record


def _newest(ctx: ServerContext, release_id: str) -> TaskRecord | None:
    found = ctx.store.release_tasks(release_id)
    return found[-1] if found else None


def _known_deployment(ctx: ServerContext, name: str, total: int) -> None:
    if total == 0 and name not in ctx.session().catalog.deployments:
        raise ApiError(404, f"no deployment named {name!r}")


def _actor(key: ApiKey) -> Actor:
    return Actor(key.name, keys.actor_kind(key.name))
