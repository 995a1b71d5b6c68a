"""Make a plan for a session at a given time: gather facts, reuse the cached outcome of every
deployment whose inputs did not change (``plancache``), run the pure planner for the rest, store
what it computed, and turn template errors into diagnostics that point at the deployment's file."""

from __future__ import annotations

import difflib
import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from reconciler.diagnostics import Diagnostic
from reconciler.engine import parallel, plancache
from reconciler.engine.plancache import PlanCache
from reconciler.engine.session import Session, gather_facts, templates
from reconciler.errors import ConfigError, UsageError
from reconciler.planning.build import PlanResult, build_plan, plan_order
from reconciler.planning.targets import TargetSource
from reconciler.rendering.sandbox import render_value


def make_plan(session: Session, now: datetime, *, only: Iterable[str] | None = None,
              exclude_tasks: set[str] = frozenset(), prune: bool | None = None) -> PlanResult:
    """Plan without side effects on state (the plan cache outside the repository may be written).
    Raises ConfigError when a template cannot render."""
    facts = gather_facts(session, now, exclude_tasks=exclude_tasks)
    if prune is not None:
        facts.prune = prune or facts.prune
    cache = _cache(session, facts, only, exclude_tasks)
    targets = TargetSource(session.catalog, cache)
    if only:
        check_targets(session, targets, only)
    with _quiet_gc():
        reuse = cache.reusable() if cache else {}
        todo = [] if only else [n for n in plan_order(session.catalog, facts) if n not in reuse]
        prior = cache.prior if cache else None
        shared = parallel.plan_shared(session, facts, render_value, todo, targets, cache, prior) or {}
        result = build_plan(session.catalog, facts, render_value, only=only, targets=targets,
                            reuse={**reuse, **shared}, prior=prior)
    if cache is not None:  # what a planning worker shared is stored already
        cache.store(result.outcomes, background=True)
        cache.store_targets({name: targets.of(name) for name in targets.computed if name not in shared})
    if result.errors:
        raise ConfigError(template_diagnostics(session.workspace, result.errors))
    if any(d.artifacts for d in session.catalog.deployments.values()):
        from reconciler.engine.artifacts import plan_artifacts, previous_from_state

        plan_artifacts(session.catalog, result, templates(session), previous_from_state(session.store),
                       positions=session.workspace.loaded.positions)
    return result


def check_targets(session: Session, targets: TargetSource, only: Iterable[str]) -> None:
    """Every ``--target`` must be a release target (or a recorded one, which may be orphaned).
    Recorded state is read only for names that are not release targets (``apply`` checks before
    it locks, and its plan checks again)."""
    known_of: dict[str, set[str]] = {}
    missing = []
    for name in only:
        dep = name.split("/", 1)[0]
        if dep not in known_of:
            known_of[dep] = {str(k) for k in targets.of(dep)} if dep in session.catalog.deployments else set()
        if name not in known_of[dep]:
            missing.append((name, known_of[dep]))
    if not missing:
        return
    recorded = session.store.target_states(details=False)
    unknown = [(name, known or set(recorded)) for name, known in missing if name not in recorded]
    if unknown:
        name, pool = unknown[0]
        close = difflib.get_close_matches(name, sorted(pool), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"{', '.join(repr(n) for n, _ in unknown)} {'is not a release target' if len(unknown) == 1 else 'are not release targets'}"
                         f"{hint} (targets are deployment/environment/resource; 'reconciler targets' lists them)")


def _cache(session: Session, facts, only, exclude_tasks) -> PlanCache | None:
    if only or not plancache.enabled() or not hasattr(session.store, "plan_epochs"):
        return None
    return PlanCache(session, facts, exclude_tasks)


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Planning allocates millions of small objects and no reference cycles; the cyclic collector
    would walk the whole heap over and over for nothing (a third of a large plan's time). It pauses
    while planning, and what exists afterwards (the plan, which callers keep) is frozen out of its
    scans; the next plan unfreezes it, so a long-lived process never accumulates it."""
    was = gc.isenabled()
    gc.unfreeze()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def template_diagnostics(workspace, errors) -> list[Diagnostic]:
    """One diagnostic per distinct template error of a deployment, at the failing setting."""
    loaded, catalog = workspace.loaded, workspace.catalog
    out, seen = [], set()
    for err in errors:
        origin = catalog.origins.get(("Deployment", err.deployment))
        dep = catalog.deployments.get(err.deployment)
        where = (err.setting,) if dep is not None and dep.agent and err.setting in dep.agent.config else ()
        pos = loaded.positions.locate(origin[0], origin[1], ("agent", "config", *where)) if origin else None
        detail = f"{err.message} (rendering the job config for {err.target}). Fix the template or define the value."
        if (err.deployment, err.message) in seen:
            continue
        seen.add((err.deployment, err.message))
        out.append(Diagnostic("Template error", detail, pos) if pos else Diagnostic("Template error", detail))
    return out
