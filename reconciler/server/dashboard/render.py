"""Render the dashboard with jinja2 (autoescaped HTML; not the job-config sandbox).

The same templates serve two uses: fragments the served page fetches with the reader's key
(``overview``, ``deployment``), and ``report``, one self-contained file (CSS and JS inlined, no
network) that ``reconciler report --html`` writes for CI to publish.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reconciler.server.context import ServerContext
from reconciler.server.dashboard import model, timeline

_ENV = Environment(loader=PackageLoader("reconciler.server.dashboard", "templates"),
                   autoescape=select_autoescape(default=True, default_for_string=True),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
VERSIONS_SHOWN = 3


def _stamp(value: str | None) -> str:
    """ISO 8601 as shown to people: 2026-11-20 09:00:00Z (no microseconds)."""
    if not value:
        return ""
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%SZ")


_ENV.filters["when"] = _stamp


def static_text(name: str) -> str:
    return resources.files("reconciler.server.dashboard").joinpath("static", name).read_text()


def shell() -> str:
    return _ENV.get_template("shell.html").render()


def overview(ctx: ServerContext) -> str:
    return _ENV.get_template("overview.html").render(**overview_model(ctx), static=False)


def deployment(ctx: ServerContext, name: str, tab: str, page: int) -> str:
    return _ENV.get_template("deployment.html").render(**deployment_model(ctx, name, tab, page), static=False)


def report(ctx: ServerContext) -> str:
    """The whole dashboard as one static page: overview, then every deployment's first pages."""
    data = overview_model(ctx)
    sections = [deployment_model(ctx, d["name"], tab, 1) for d in data["matrix"]["deployments"] for tab in model.TABS]
    return _ENV.get_template("report.html").render(**data, sections=sections, static=True,
                                                   css=static_text("dashboard.css"))


def overview_model(ctx: ServerContext) -> dict[str, Any]:
    snap = ctx.snapshot()
    catalog = ctx.session().catalog
    matrix = model.matrix(snap, catalog)
    pictures = {d["name"]: _timelines(ctx, d["name"], matrix["environments"]) for d in matrix["deployments"]}
    return {"workspace": catalog.config.workspace, "revision": snap.revision, "at": _when(snap.at),
            "error": snap.error or ctx.load_error, "matrix": matrix, "approvals": model.approvals(snap),
            "timelines": pictures}


def deployment_model(ctx: ServerContext, name: str, tab: str, page: int) -> dict[str, Any]:
    snap = ctx.snapshot()
    if tab == "releases":
        content = model.releases_tab(ctx.store, snap, name, page)
    elif tab == "jobs":
        content = model.jobs_tab(ctx.store, name, page)
    else:
        tab, content = "history", model.history_tab(ctx.store, name, page)
    return {"name": name, "tab": tab, "tabs": model.TABS, "content": content}


def _timelines(ctx: ServerContext, deployment: str, envs: list[str]) -> list[timeline.Picture]:
    snap, store = ctx.snapshot(), ctx.store
    rows = [r for r in snap.rows if r["deployment"] == deployment]
    targets = {env: [r["target"] for r in rows if r["environment"] == env] for env in envs}
    targets = {env: keys for env, keys in targets.items() if keys}
    versions = _recent_versions(ctx, deployment)
    if not versions:
        return []
    waiting: dict[str, dict[str, tuple[str, str]]] = {}  # version -> target -> (label, why)
    for r in rows:
        if r["desiredVersion"] and r["state"] == "blocked":
            waiting.setdefault(r["desiredVersion"], {})[r["target"]] = ("waiting", r["message"])
        elif r["desiredVersion"] and r["state"].startswith("pending"):
            waiting.setdefault(r["desiredVersion"], {})[r["target"]] = ("next apply", f"{r['state']}: {r['message']}")
    tasks = store.version_tasks(deployment, versions)
    votes = [a for a in store.approvals() if a.deployment == deployment]
    return timeline.pictures(deployment, versions, targets, tasks, votes, waiting, snap.at)


def _recent_versions(ctx: ServerContext, deployment: str) -> list[str]:
    catalog = ctx.session().catalog
    seen = ctx.store.first_seen()
    order = catalog.version_order
    now = ctx.now()

    def created(v: Any) -> tuple[datetime, int]:
        return (v.createdAt or seen.get((deployment, v.tag)) or now, order.get((deployment, v.tag), 0))

    versions = sorted(catalog.versions.get(deployment, []), key=created, reverse=True)
    return [v.tag for v in versions[:VERSIONS_SHOWN]]


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ")
