"""``run``: reconcile in a loop. Each pass optionally pulls the Git repository, reloads desired
state, runs one apply, then sleeps until the earliest ``nextEvaluation`` of a blocked target or the
interval, whichever is sooner. SIGTERM stops it cleanly: no new task starts, a running task is
handed back (pending, its attempt closed as interrupted) for the next run, and the lease is
released. Nothing is lost or recorded twice.

``watch``: on every change to the desired-state directory (debounced by watchfiles), re-validate
and re-plan, and report how the plan changed; it applies only when asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.engine.apply import Applier, ApplyResult
from reconciler.engine.hooks import Hooks
from reconciler.engine.identity import Actor
from reconciler.engine.session import open_session
from reconciler.errors import ReconcilerError


@dataclass
class Loop:
    directory: str
    state_url: str | None
    actor: Actor
    clock: Callable[[], datetime]
    hooks: Hooks = field(default_factory=Hooks)
    interval: float = 300.0
    pull: bool = False
    max_parallel: int | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    lock_timeout: float | None = None

    def run(self, once: bool = False) -> int:
        failures = 0
        while not self.stop.is_set():
            result = self.pass_once()
            failures = 0 if result is not None and not result.failed else failures + 1
            if once or self.stop.is_set():
                break
            wait = self._wait_for(result)
            self.hooks.stage(f"Next pass in {wait:.0f}s")
            self.stop.wait(wait)
        return 1 if failures and once else 0

    def pass_once(self) -> ApplyResult | None:
        if self.pull:
            self._pull()
        try:
            session = open_session(self.directory, None, self.state_url)
        except ReconcilerError as exc:
            self.hooks.note(f"desired state is not usable, skipping this pass: {exc}")
            return None
        try:
            applier = Applier(session, self.actor, self.clock, self.hooks, self.max_parallel, self.lock_timeout,
                              stop=self.stop)
            return applier.run()
        except ReconcilerError as exc:
            self.hooks.note(f"pass failed: {exc}")
            return None
        finally:
            session.close()

    def _wait_for(self, result: ApplyResult | None) -> float:
        wait = self.interval
        if result is not None and result.plan.next_evaluation is not None:
            until = (result.plan.next_evaluation - self.clock()).total_seconds()
            wait = min(wait, max(1.0, until))
        return wait

    def _pull(self) -> None:
        import git

        try:
            repo = git.Repo(self.directory, search_parent_directories=True)
            if repo.remotes:
                repo.git.pull("--ff-only", "--quiet")
                self.hooks.stage(f"Pulled {repo.head.commit.hexsha[:12]}")
        except git.GitCommandError as exc:
            self.hooks.note(f"git pull failed, reconciling what is checked out: {exc.stderr.strip()[:200]}")
