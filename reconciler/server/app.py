"""Assemble the FastAPI application: the API under ``/api/v1``, ``/healthz``, the dashboard at ``/``,
JSON errors, the request-body cap, and a background sweeper that returns jobs of silent pull
agents to the queue. ``openapi_document`` is what ``schemas/openapi.json`` publishes."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from reconciler import __version__
from reconciler.server import claims, errors, models, routes_jobs, routes_releases, webhooks
from reconciler.server.context import ServerContext
from reconciler.server.dashboard import routes as dashboard

API_PREFIX = "/api/v1"
DESCRIPTION = """\
The seed's API for job agents and people (Ctrlplane's releases and jobs), on reconciler's state.

Authenticate with `Authorization: Bearer <key>` (`reconciler api-key create --name N --scope S`).
Scopes: `read` sees everything; `agent` also claims and reports jobs; `approve` also approves
releases; `admin` may do everything. Only `/healthz` needs no key; the GitHub webhook is
authenticated by its `X-Hub-Signature-256` instead. Errors are `{"error": {"code", "message"}}`.
"""


def create_app(ctx: ServerContext | None, *, body_limit: int | None = None) -> FastAPI:
    """The application for ``ctx`` (None builds it only to describe itself, for the OpenAPI document)."""
    # The document is published as schemas/openapi.json; nothing but /healthz is served without a key
    # (and no docs page, which would load its scripts from a CDN).
    app = FastAPI(title="reconciler", version=__version__, description=DESCRIPTION, lifespan=_lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    errors.install(app)
    limit = body_limit or (ctx.settings.body_limit if ctx else 1 << 20)
    app.add_middleware(errors.BodyLimit, limit=limit)
    app.include_router(routes_releases.router, prefix=API_PREFIX)
    app.include_router(routes_jobs.router, prefix=API_PREFIX)
    app.include_router(webhooks.router, prefix=API_PREFIX)
    app.add_api_route("/healthz", healthz, methods=["GET"], response_model=models.Health, tags=["health"],
                      summary="Liveness (no key needed)")
    dashboard.mount(app)
    return app


def healthz() -> dict[str, str]:
    return {"status": "ok"}


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: ServerContext | None = app.state.ctx
    stop = threading.Event()
    sweeper = None
    if ctx is not None:
        sweeper = threading.Thread(target=_sweep_forever, args=(ctx, stop), name="lease-sweeper", daemon=True)
        sweeper.start()
    try:
        yield
    finally:
        stop.set()
        if sweeper is not None:
            sweeper.join(timeout=5)


def _sweep_forever(ctx: ServerContext, stop: threading.Event) -> None:
    interval = min(max(ctx.settings.lease / 4, 0.2), 15.0)
    while not stop.wait(interval):
        try:
            claims.sweep(ctx, ctx.now())
        except Exception:  # noqa: BLE001 - a database hiccup must not stop the sweeper; next round retries
            continue


def openapi_document() -> dict[str, Any]:
    return create_app(None).openapi()


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
