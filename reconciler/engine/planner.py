"""Make a plan for a session at a given time: gather facts, run the pure planner, and turn template
errors into diagnostics that point at the deployment's file."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from reconciler.diagnostics import Diagnostic
from reconciler.engine.session import Session, gather_facts, templates
from reconciler.errors import ConfigError
from reconciler.planning.build import PlanResult, build_plan
from reconciler.rendering.sandbox import render_value


def make_plan(session: Session, now: datetime, *, only: Iterable[str] | None = None,
              exclude_tasks: set[str] = frozenset(), prune: bool | None = None) -> PlanResult:
    """Plan without side effects. Raises ConfigError when a template cannot render."""
    facts = gather_facts(session, now, exclude_tasks=exclude_tasks)
    if prune is not None:
        facts.prune = prune or facts.prune
    result = build_plan(session.catalog, facts, render_value, only=only)
    if result.errors:
        raise ConfigError(template_diagnostics(session, result))
    if any(d.artifacts for d in session.catalog.deployments.values()):
        from reconciler.engine.artifacts import plan_artifacts, previous_from_state

        plan_artifacts(session.catalog, result, templates(session), previous_from_state(session.store))
    return result


def template_diagnostics(session: Session, result: PlanResult) -> list[Diagnostic]:
    loaded = session.workspace.loaded
    out, seen = [], set()
    for err in result.errors:
        origin = session.catalog.origins.get(("Deployment", err.deployment))
        pos = loaded.positions.locate(origin[0], origin[1], ("agent", "config")) if origin else None
        detail = f"{err.message} (rendering the job config for {err.target}). Fix the template or define the value."
        if (err.deployment, err.message) in seen:
            continue
        seen.add((err.deployment, err.message))
        out.append(Diagnostic("Template error", detail, pos) if pos else Diagnostic("Template error", detail))
    return out
