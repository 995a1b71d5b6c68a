"""Plan many deployments on two cores: a forked worker plans a share of the deployments while this
process plans the rest, and sends its outcomes back in the plan cache's stored form (never pickle).

Planning is pure and deployments are independent (``planning.outcome``), so the merged plan is
the one a single process would make; the worker's releases come back by identity and rebuild on
first use, as cached ones do. Forking is used only where it is safe and pays: a single-threaded
process (no lease heartbeat or server threads whose locks a child could inherit), a SQL store
(the child opens its own connections to a file or server; an in-memory database is its own copy),
more than one core, and enough targets.
If the worker fails for any reason, this process plans its share too. ``RECONCILER_PLAN_WORKERS=1``
turns it off.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable

from reconciler.engine import plancache, plancodec, planfile
from reconciler.engine.plancache import PlanCache
from reconciler.engine.session import Session
from reconciler.models.keys import TargetKey
from reconciler.planning.build import Prior, plan_deployments
from reconciler.planning.facts import Facts
from reconciler.planning.outcome import DeploymentOutcome
from reconciler.planning.releases import Render
from reconciler.planning.targets import TargetSource

MIN_TARGETS = 20_000  # below this, a fork and the transfer cost more than they save


def _workers() -> int:
    try:
        wanted = int(os.environ.get("RECONCILER_PLAN_WORKERS", "2"))
    except ValueError:
        wanted = 2
    return max(1, min(wanted, os.cpu_count() or 1, 2))


def usable(session: Session) -> bool:
    plancache.flush()  # a finished plan's cache writer thread must not count (nor be forked mid-write)
    store = session.store
    return (_workers() > 1 and hasattr(os, "fork") and threading.active_count() == 1
            and getattr(store, "engine", None) is not None)


def _in_memory(session: Session) -> bool:
    return ":memory:" in str(getattr(session.store, "url", ""))


def split(names: Iterable[str], targets: TargetSource) -> tuple[list[str], list[str]] | None:
    """Two shares of about equal size, or None when the work is too small. A deployment's size is
    its cached target count, else the number of resources (targets are computed by each share)."""
    catalog = targets.catalog
    sized = []
    for name in names:
        known = targets.known(name) if name in catalog.deployments else []
        sized.append((len(known) if known is not None else len(catalog.resources), name))
    sized.sort(reverse=True)
    if len(sized) < 2 or sum(size for size, _ in sized) < MIN_TARGETS:
        return None
    shares: tuple[list[str], list[str]] = ([], [])
    load = [0, 0]
    for size, name in sized:
        side = 0 if load[0] <= load[1] else 1
        shares[side].append(name)
        load[side] += size
    return shares


def plan_shared(session: Session, facts: Facts, render: Render, names: list[str], targets: TargetSource,
                cache: PlanCache | None, prior: Prior | None = None) -> dict[str, DeploymentOutcome] | None:
    """Outcomes of ``names`` planned on two processes, or None when that would not pay. Both
    processes store their share in the plan cache (so ``make_plan`` stores none of these)."""
    shares = split(names, targets) if usable(session) else None
    if shares is None:
        return None
    mine, theirs = shares
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns
        _worker(session, facts, render, theirs, targets, cache, prior, read, write)
    os.close(write)
    try:
        # Releases are kept by identity only, as the worker's come back: a plan this large holds
        # hundreds of thousands of them, and they rebuild on first use.
        outcomes = {name: plancodec.detach_fresh(outcome) for name, outcome in
                    plan_deployments(session.catalog, facts, render, mine, targets, prior).items()}
        if cache is not None:  # while the worker still encodes its share
            cache.store(outcomes)
            cache.store_targets({n: targets.of(n) for n in mine if n in targets.computed})
    finally:  # never leave the worker behind, whatever happened here
        with os.fdopen(read, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
    received = _receive(payload, targets) if status == 0 else None
    if received is None:  # the worker failed: plan its share here
        received = plan_deployments(session.catalog, facts, render, theirs, targets, prior)
    elif cache is not None:
        cache.remember(received)
    outcomes.update(received)
    return outcomes


def _worker(session: Session, facts: Facts, render: Render, names: list[str], targets: TargetSource,
            cache: PlanCache | None, prior: Prior | None, read: int, write: int) -> None:
    code = 1
    try:
        os.close(read)
        if not _in_memory(session):  # a database file or server: the parent's connections stay its own
            session.store.engine.dispose(close=False)  # type: ignore[attr-defined]
        # (an in-memory database, a plan without recorded state, is the worker's own copy after the fork)
        outcomes = plan_deployments(session.catalog, facts, render, names, targets, prior)
        blobs = {n: cache.stored_form(n, o) if cache is not None else planfile.dumps(o)
                 for n, o in outcomes.items()}
        computed = {n: targets.of(n) for n in targets.computed}
        if cache is not None:
            cache.store(outcomes, blobs)
            cache.store_targets(computed)
        head = json.dumps({"outcomes": [[n, len(b)] for n, b in blobs.items()],
                           "targets": {n: _keys(k) for n, k in computed.items()}}, separators=(",", ":"))
        with os.fdopen(write, "wb") as pipe:
            pipe.write(b"".join([head.encode(), b"\n", *blobs.values()]))
        code = 0
    finally:
        os._exit(code)


def _keys(keys: list[TargetKey]) -> list[list[str]]:
    return [[k.environment, k.resource] for k in keys]


def _receive(payload: bytes, targets: TargetSource) -> dict[str, DeploymentOutcome] | None:
    """The worker's payload: a JSON line (outcome names and sizes, target keys), then the outcomes."""
    try:
        end = payload.index(b"\n")
        data = json.loads(payload[:end])
        outcomes, start = {}, end + 1
        for name, size in data["outcomes"]:
            outcomes[name] = planfile.loads(payload[start:start + size])[1]
            start += size
        for name, pairs in data["targets"].items():
            targets.adopt(name, [TargetKey(name, env, res) for env, res in pairs], stored=True)
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return outcomes
