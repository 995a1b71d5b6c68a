"""Dashboard routes. ``/`` is a page without data that asks for an API key (kept in the tab's
sessionStorage) and fetches the server-rendered fragments under ``/ui/`` with it, like any other
API call; ``/static/`` serves the page's own CSS and JS (nothing from a CDN)."""

from __future__ import annotations

from fastapi import FastAPI, Path, Query
from fastapi.responses import HTMLResponse, Response

from reconciler.server import auth
from reconciler.server.context import ServerContext
from reconciler.server.dashboard import model, render
from reconciler.state.sqlapi import ApiKey

_TYPES = {"dashboard.css": "text/css; charset=utf-8", "dashboard.js": "text/javascript; charset=utf-8"}


def mount(app: FastAPI) -> None:
    app.add_api_route("/", page, methods=["GET"], response_class=HTMLResponse, include_in_schema=False)
    app.add_api_route("/static/{name}", asset, methods=["GET"], include_in_schema=False)
    app.add_api_route("/ui/overview", overview, methods=["GET"], response_class=HTMLResponse, include_in_schema=False)
    app.add_api_route("/ui/deployments/{name}", deployment, methods=["GET"], response_class=HTMLResponse,
                      include_in_schema=False)


def page() -> HTMLResponse:
    return HTMLResponse(render.shell(), headers={"Cache-Control": "no-store"})


def asset(name: str) -> Response:
    if name not in _TYPES:
        return Response(status_code=404)
    return Response(render.static_text(name), media_type=_TYPES[name])


def overview(key: ApiKey = auth.Read, ctx: ServerContext = auth.Ctx) -> HTMLResponse:
    return HTMLResponse(render.overview(ctx), headers={"X-Key-Scope": key.scope, "X-Key-Name": key.name})


def deployment(name: str = Path(min_length=1, max_length=128), tab: str = Query("history"),
               page: int = Query(1, ge=1, le=100000), key: ApiKey = auth.Read,
               ctx: ServerContext = auth.Ctx) -> HTMLResponse:
    tab = tab if tab in model.TABS else "history"
    return HTMLResponse(render.deployment(ctx, name, tab, page), headers={"X-Key-Scope": key.scope,
                                                                          "X-Key-Name": key.name})
