"""One reconcile pass: hold the workspace lease, pick up work a dead run left behind, plan, record
the planned tasks, execute them (one at a time per target, in parallel across targets) and
record every outcome.

Crash safety: tasks are recorded as pending before anything runs. A task left ``started`` by a
run that died is not a failure: if its release is still the desired one it runs again (same task
id, next attempt, the interrupted attempt closed and not counted as a retry); if the desired state
moved on, it is closed as superseded and the new plan takes over. Nothing is recorded twice.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.engine import leases
from reconciler.engine.execute import Runner
from reconciler.engine.hooks import Hooks
from reconciler.engine.identity import Actor
from reconciler.engine.lease import Lease
from reconciler.engine.planner import make_plan
from reconciler.engine.rollout import WorkItem, hold_rollouts, new_task_id, run_work
from reconciler.engine.session import Session, templates
from reconciler.models import statuses
from reconciler.models.records import ReleaseRecord, TaskRecord
from reconciler.planning.build import PlanResult
from reconciler.planning.plan import Change, Plan


@dataclass
class ApplyResult:
    plan: Plan
    tasks: dict[str, str] = field(default_factory=dict)  # task id -> final status

    @property
    def failed(self) -> list[str]:
        return [t for t, s in self.tasks.items() if s not in (statuses.DONE, statuses.TRIGGERED,
                                                               statuses.IN_PROGRESS, statuses.VERIFYING,
                                                               statuses.PENDING)]


def ignore_scratch(root) -> None:
    """Agents write scratch files under ``.reconciler/``; keep that folder out of Git on every backend."""
    folder = root / ".reconciler"
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# reconciler's recorded state and scratch files; never commit them\n*\n")


@dataclass
class Applier:
    session: Session
    actor: Actor
    clock: Callable[[], datetime]
    hooks: Hooks = field(default_factory=Hooks)
    max_parallel: int | None = None
    lock_timeout: float | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, *, only: Iterable[str] | None = None, prune: bool | None = None) -> ApplyResult:
        store = self.session.store
        config = self.session.catalog.config
        owner = f"{self.actor.name}@{socket.gethostname()} pid {os.getpid()} run {self.run_id}"
        timeout = config.lockTimeout if self.lock_timeout is None else self.lock_timeout
        if leases.per_deployment(store):
            from reconciler.engine.sharded import run_sharded

            return run_sharded(self, owner, only, prune, timeout)
        self.hooks.stage(f"Locking workspace {config.workspace}")
        with Lease(store, "apply", owner, timeout=timeout):
            return self._locked(only, prune)

    def _locked(self, only, prune, scope: set[str] | None = None) -> ApplyResult:
        """Settle, plan, record and execute, under a lease on the whole workspace or, with ``scope``,
        on those deployments only (then nothing outside them is touched)."""
        store, catalog = self.session.store, self.session.catalog
        mine = (lambda dep: True) if scope is None else scope.__contains__
        ignore_scratch(self.session.root)
        now = self.clock()
        store.record_seen([(v.deployment, v.tag) for d, vs in catalog.versions.items() if mine(d) for v in vs], now)
        runner = Runner(store, self.session.root, self.run_id, self.clock, self.hooks, catalog.config.taskTimeout,
                        catalog.config.logLimit, stop=self.stop)
        settled = self._settle_in_flight(runner, mine)
        active = [t for t in store.active_tasks() if mine(t.deployment)]
        leftovers = {t.id: t for t in active if t.run_id and t.status in (statuses.PENDING, statuses.STARTED)}
        requested = [t for t in active if not t.run_id and t.status == statuses.PENDING]
        self.hooks.stage(f"Planning {catalog.revision[:12]}")
        result = make_plan(self.session, now, only=only, exclude_tasks=set(leftovers), prune=prune)
        if scope is not None:
            result.plan = restrict(result, scope)
        self.hooks.planned(result.plan)
        work = self._reconcile_leftovers(result, leftovers, now)
        work += self._requested(result, requested, now)
        work += self._record(result, now)
        work = hold_rollouts(store, work, settled, now)
        applied = ApplyResult(result.plan, dict(settled))
        if not work:
            self.hooks.stage("Nothing to execute")
            return applied
        self.hooks.stage(f"Executing {len(work)} task{'s' if len(work) != 1 else ''}")
        applied.tasks.update(run_work(runner, work, self.max_parallel or self.session.catalog.config.maxParallel))
        return applied

    def _settle_in_flight(self, runner: Runner, mine=lambda dep: True) -> dict[str, str]:
        """Poll asynchronous tasks and resume interrupted verifications before planning."""
        in_flight = [t for t in self.session.store.active_tasks() if mine(t.deployment)
                     and t.status in (statuses.TRIGGERED, statuses.IN_PROGRESS, statuses.VERIFYING)]
        if not in_flight:
            return {}
        self.hooks.stage(f"Checking {len(in_flight)} task{'s' if len(in_flight) != 1 else ''} in flight")
        work = [WorkItem(t, None, mode="verify" if t.status == statuses.VERIFYING else "poll") for t in in_flight]
        return run_work(runner, work, self.max_parallel or self.session.catalog.config.maxParallel)

    def _reconcile_leftovers(self, result: PlanResult, leftovers: dict[str, TaskRecord], now: datetime):
        """Resume tasks a dead run left whose release is still desired; close the rest as superseded."""
        work = []
        for task in leftovers.values():
            change = next((c for c in result.plan.changes if str(c.key) == task.target), None)
            if change is not None and change.release is not None and change.release.id == task.release_id:
                work.append(WorkItem(task, change, resume=True))
                result.plan.changes = [c for c in result.plan.changes if c is not change]
            else:
                self.session.store.finish_task(task.id, status=statuses.CANCELED, at=now,
                                               message="superseded: the desired state changed before it could finish")
        return work

    def _requested(self, result: PlanResult, requested: list[TaskRecord], now: datetime):
        """Queued tasks (redeploy, rollback, API): run them first, unless a newer release cancels them."""
        cancels = {tid: c for c in result.plan.changes for tid in c.cancels}
        work = []
        for task in requested:
            if task.id in cancels:
                self.session.store.finish_task(task.id, status=statuses.CANCELED, at=now, message=(
                    f"canceled before it started: {cancels[task.id].to_version} became desired (releaseSequencing)"))
            else:
                work.append(WorkItem(task, None))
        return work

    def _record(self, result: PlanResult, now: datetime) -> list[WorkItem]:
        store = self.session.store
        work, new, records = [], [], []
        for change in result.plan.changes:
            if change.queued:
                continue  # already recorded; _requested runs it
            if change.retry_of:
                work.append(WorkItem(store.get_task(change.retry_of), change, retry=True))
                continue
            task = self._task_for(change, now)
            if change.release is not None:
                r = change.release
                records.append(ReleaseRecord(r.id, str(r.target), r.version, r.variables, r.config,
                                             r.config_digest, now))
            new.append(task)
            work.append(WorkItem(task, change))
        store.put_releases(records)
        store.create_tasks(new)
        return work

    def _task_for(self, change: Change, now: datetime) -> TaskRecord:
        previous = None
        if change.operation == "uninstall":
            state = self.session.store.target_states().get(str(change.key))
            previous = self.session.store.get_task(state.last_task_id).job if state else None
        task = make_task(change, self.actor, self.session.catalog.revision, now, self.run_id,
                         self.session.catalog, new_task_id(), previous)
        if change.release is not None and self.session.catalog.deployments[change.key.deployment].artifacts:
            from reconciler.engine.artifacts import artifact_job_spec

            spec = artifact_job_spec(self.session.catalog, change.release, templates(self.session))
            task = dataclasses.replace(task, job={**task.job, "artifacts": spec},
                                       artifacts={p: f["sha256"] for p, f in spec["files"].items()})
        return task


def restrict(result: PlanResult, scope: set[str]) -> Plan:
    """The plan of ``result`` for the deployments in ``scope`` only."""
    plan = result.plan
    dep = lambda target: target.split("/", 1)[0]
    counts = [result.counts.get(name, (0, 0)) for name in scope]
    return Plan(plan.workspace, plan.revision, plan.at,
                changes=[c for c in plan.changes if c.key.deployment in scope],
                blocked=[b for b in plan.blocked if b.key.deployment in scope],
                orphaned=[o for o in plan.orphaned if dep(o.target) in scope],
                in_flight=[f for f in plan.in_flight if dep(f.target) in scope],
                unchanged=sum(c[0] for c in counts), targets=sum(c[1] for c in counts), notes=list(plan.notes))


def make_task(change: Change, actor: Actor, revision: str, now: datetime, run_id: str, catalog,
              task_id: str, previous_job: dict | None = None) -> TaskRecord:
    """The pending task record for a planned change (an uninstall reuses the last job it ran)."""
    release = change.release
    spec = release.job_spec() if release else dict(previous_job or {})
    if release is not None:
        spec.update(config_digest=release.config_digest, inputs=release.inputs, placement=release.placement)
    spec.update(change.policy)
    if change.fingerprint:
        spec["fingerprint"] = change.fingerprint
    if change.batch is not None:
        spec["batch"] = change.batch
    if change.from_resource:
        spec["from_resource"] = change.from_resource
    dep = catalog.deployments.get(change.key.deployment)
    agent = dep.agent.ref if dep is not None and dep.agent else ""
    return TaskRecord(
        id=task_id, target=str(change.key), deployment=change.key.deployment, environment=change.key.environment,
        resource=change.key.resource, operation=change.operation, status=statuses.PENDING,
        version=change.to_version or change.from_version or "", from_version=change.from_version,
        release_id=release.id if release else "", actor=actor.name, actor_kind=actor.kind, reason=change.reason,
        diff=change.diff, revision=revision, created_at=now, run_id=run_id, agent=agent, job=spec,
        artifacts={}, verification={},
    )
