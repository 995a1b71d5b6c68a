"""Running recorded work: one task at a time per target, targets in parallel, concurrency slots,
and rolling or canary batches one after another (waiting for asynchronous agents), stopping and
rolling back at a failed batch."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from reconciler.engine import rollback
from reconciler.engine.execute import ASYNC_STATUSES, Runner
from reconciler.engine.workers import AdaptivePool
from reconciler.models import statuses
from reconciler.models.records import TaskRecord
from reconciler.planning.plan import Change


def new_task_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class WorkItem:
    task: TaskRecord
    change: Change | None
    resume: bool = False
    retry: bool = False
    mode: str = "dispatch"


def run_work(runner: Runner, work: list[WorkItem], parallel: int) -> dict[str, str]:
    """Run ``work``: strictly one task at a time per target, targets in parallel up to ``parallel``
    (on fewer threads while tasks are quick: ``engine.workers``),
    never more at once in a concurrency rule's scope than its free slots, and rolling or canary
    batches of a deployment × environment one after another, stopping at a failed batch."""
    limits: dict[str, threading.BoundedSemaphore] = {}
    for item in work:
        for policy, free in (item.change.concurrency if item.change else ()):
            limits.setdefault(policy, threading.BoundedSemaphore(max(free, 1)))
    results: dict[str, str] = {}

    def run_group(items: list[WorkItem]) -> None:
        for item in items:
            held = sorted(p for p, _ in (item.change.concurrency if item.change else ()))
            for policy in held:
                limits[policy].acquire()
            try:
                results[item.task.id] = runner.run(item.task, resume=item.resume, retry=item.retry, mode=item.mode)
            finally:
                for policy in reversed(held):
                    limits[policy].release()

    plain, batched = _split(work)
    with AdaptivePool(parallel) as pool:  # fewer threads while tasks are quick (engine.workers)
        futures = [pool.submit(run_group, items) for items in plain.values()]
        coordinators = [threading.Thread(target=_run_batches, args=(runner, pool, run_group, batches, results))
                        for batches in batched.values()]
        for thread in coordinators:
            thread.start()
        for thread in coordinators:
            thread.join()
        for future in futures:
            future.result()
    return results


def _split(work: list[WorkItem]):
    """Per-target groups of unbatched work, and per deployment × environment batches of the rest."""
    plain: dict[str, list[WorkItem]] = {}
    batched: dict[tuple[str, str], dict[int, dict[str, list[WorkItem]]]] = {}
    for item in work:
        batch = item.change.batch if item.change else None
        if batch is None:
            plain.setdefault(item.task.target, []).append(item)
        else:
            group = batched.setdefault((item.task.deployment, item.task.environment), {})
            group.setdefault(batch, {}).setdefault(item.task.target, []).append(item)
    return plain, batched


def _run_batches(runner: Runner, pool, run_group, batches: dict[int, dict[str, list[WorkItem]]],
                 results: dict[str, str]) -> None:
    """One batch after another; a batch counts once its asynchronous tasks have finished too."""
    order = sorted(batches)
    for position, batch in enumerate(order):
        for future in [pool.submit(run_group, items) for items in batches[batch].values()]:
            future.result()
        items = [i for group in batches[batch].values() for i in group]
        waiting = _await_async(runner, [i.task.id for i in items], results)
        failed = [i for i in items if results.get(i.task.id) in statuses.FAILURES]
        if not failed and not waiting:
            continue
        if not failed:  # the next apply polls the batch and then goes on with the rest
            names = ", ".join(sorted(task.resource for task in waiting))
            _pause_rollout(runner, batches, order[position + 1:], f"batch {batch} of {len(order)} is still "
                           f"in flight on {names} after {runner.timeout:g}s", results)
            return
        why = f"batch {batch} of {len(order)} failed on {', '.join(sorted(i.task.resource for i in failed))}"
        _stop_rollout(runner, batches, order[position + 1:], why, results)
        _undo(runner, items, why, results)
        return


def _await_async(runner: Runner, task_ids: list[str], results: dict[str, str]) -> list[TaskRecord]:
    """Poll asynchronous tasks (triggered, in progress) until they finish, at their agents' poll
    intervals, for at most the task timeout. Returns the ones still in flight."""
    deadline = time.monotonic() + runner.timeout
    while True:
        waiting = [runner.store.get_task(t) for t in task_ids if results.get(t) in ASYNC_STATUSES]  # type: ignore
        if not waiting or runner.stop.is_set() or time.monotonic() >= deadline:
            return waiting
        runner.sleep(min(runner.poll_interval(task) for task in waiting))
        for task in waiting:
            results[task.id] = runner.run(task, mode="poll")


def _later_items(batches, later_batches: list[int]):
    """(batch number, work item) of every item in ``later_batches``."""
    for later in later_batches:
        for group in batches[later].values():
            for item in group:
                yield later, item


def _stop_rollout(runner: Runner, batches, later_batches: list[int], why: str, results: dict[str, str]) -> None:
    now = runner.clock()
    for later, item in _later_items(batches, later_batches):
        runner.store.finish_task(item.task.id, status=statuses.CANCELED, at=now,  # type: ignore
                                 message=f"rollout stopped before batch {later}: {why}")
        results[item.task.id] = statuses.CANCELED


def _pause_rollout(runner: Runner, batches, later_batches: list[int], why: str, results: dict[str, str]) -> None:
    for later, item in _later_items(batches, later_batches):
        runner.store.update_task(item.task.id, message=f"waiting before batch {later}: {why}")  # type: ignore
        results[item.task.id] = statuses.PENDING


def hold_rollouts(store, work: list[WorkItem], settled: dict[str, str], now) -> list[WorkItem]:
    """Keep batched work of a deployment × environment back while an earlier batch of its rollout is
    still in flight (left pending: the next apply resumes it), and cancel it when an earlier batch
    ended failed while this run polled it."""
    if not any(item.change is not None and item.change.batch is not None for item in work):
        return work  # no rollout in this run: nothing to hold back (and no query)
    paused = {(t.deployment, t.environment) for t in store.active_tasks()
              if t.status in (*ASYNC_STATUSES, statuses.VERIFYING) and t.job.get("batch") is not None}
    failed: dict[tuple[str, str], str] = {}
    for task_id, status in settled.items():
        task = store.get_task(task_id)
        if status in statuses.FAILURES and task.job.get("batch") is not None:
            failed[(task.deployment, task.environment)] = f"batch {task.job['batch']} failed on {task.resource}"
    keep = []
    for item in work:
        key, batch = (item.task.deployment, item.task.environment), item.change.batch if item.change else None
        if batch is None or (key not in paused and key not in failed):
            keep.append(item)
        elif key in failed:
            store.finish_task(item.task.id, status=statuses.CANCELED, at=now,
                              message=f"rollout stopped before batch {batch}: {failed[key]}")
        else:
            store.update_task(item.task.id, message="waiting: an earlier batch of this rollout is still in flight")
    return keep


def _undo(runner: Runner, items: list[WorkItem], why: str, results: dict[str, str]) -> None:
    """Roll every target of a failed batch back to the release it ran before, the failed ones too
    (their agent may have changed them half-way), unless the rollback rule already did."""
    now, undone = runner.clock(), []
    for item in items:
        status = results.get(item.task.id)
        if status != statuses.DONE and (status not in statuses.FAILURES or item.task.id in runner.rolled_back):
            continue
        undo = rollback.undo_batch(runner.store, runner.store.get_task(item.task.id), why, now,  # type: ignore
                                   runner.run_id, new_task_id())
        if undo is not None:
            results[undo.id] = runner.run(undo)
            undone.append(undo.id)
    _await_async(runner, undone, results)
