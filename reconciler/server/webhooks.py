"""``POST /api/v1/webhooks/github``: GitHub ``workflow_run`` events report github-actions jobs back
without polling.

GitHub cannot send a bearer key, so the request is authenticated by its ``X-Hub-Signature-256``
(HMAC-SHA256 of the raw body with the secret in ``$RECONCILER_GITHUB_WEBHOOK_SECRET``, compared in
constant time); without that variable the endpoint is disabled (404). The run is matched to a task
the way the github-actions agent matches it (the task id in the run's name or display title) and
mapped with the agent's own ``run_result`` (success→done, cancelled→canceled, skipped/neutral→
skipped, action_required→in_progress, anything else failed), then reported through the engine.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool

from reconciler.engine import operations
from reconciler.errors import NotFoundError
from reconciler.executors.builtin.github_actions import run_result
from reconciler.models import statuses
from reconciler.models.records import TaskRecord
from reconciler.server import models
from reconciler.server.context import ServerContext
from reconciler.server.errors import ApiError, responses

router = APIRouter(tags=["webhooks"])
_TASK_ID = re.compile(r"\b[0-9a-f]{16}\b")


@router.post("/webhooks/github", response_model=models.WebhookResult, responses=responses(400, 401, 404, 413, 422),
             summary="GitHub workflow_run events (authenticated by X-Hub-Signature-256, not a bearer key)")
async def github(request: Request, event: str | None = Header(None, alias="X-GitHub-Event"),
                 signature: str | None = Header(None, alias="X-Hub-Signature-256")) -> Any:
    ctx: ServerContext = request.app.state.ctx
    secret = ctx.webhook_secret()
    if secret is None:
        raise ApiError(404, f"the GitHub webhook is disabled: set ${ctx.settings.webhook_secret_env} on the server")
    raw = await request.body()
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not signature or not hmac.compare_digest(signature, expected):
        raise ApiError(401, "the X-Hub-Signature-256 header is missing or does not match the body", "bad_signature")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "the request body is not valid JSON", "malformed_json") from exc
    if event != "workflow_run" or not isinstance(payload, dict) or not isinstance(payload.get("workflow_run"), dict):
        return {"result": "ignored", "detail": f"event {event or '(none)'} is not a workflow_run"}
    return await run_in_threadpool(report_run, ctx, payload["workflow_run"])


def report_run(ctx: ServerContext, run: dict[str, Any]) -> dict[str, Any]:
    task = _task_of(ctx, run)
    if task is None:
        return {"result": "ignored", "detail": "no unfinished job's id is in the run's name or display title"}
    if "id" not in run:
        raise ApiError(400, "the workflow_run has no id")
    result = run_result(run)
    status = result.status if result.status in statuses.TERMINAL else statuses.IN_PROGRESS
    operations.report(ctx.session(), task.id, status, result.message, result.external_id, ctx.now())
    ctx.invalidate()
    return {"result": "reported", "detail": f"job {task.id} is {status}", "jobId": task.id}


def _task_of(ctx: ServerContext, run: dict[str, Any]) -> TaskRecord | None:
    text = f"{run.get('name') or ''} {run.get('display_title') or ''}"
    for task_id in _TASK_ID.findall(text):
        try:
            task = ctx.store.get_task(task_id)
        except NotFoundError:
            continue
        if task.id == task_id and task.status in statuses.RUNNING:
            return task
    return None
