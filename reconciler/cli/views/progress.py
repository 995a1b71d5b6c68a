"""Progress of an apply: one line per stage and per task start and finish."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.markup import escape

from reconciler.engine.hooks import Hooks
from reconciler.models import statuses
from reconciler.models.records import TaskRecord

COLOURS = {statuses.DONE: "green", statuses.FAILED: "red", statuses.CANCELED: "yellow",
           statuses.INVALID_JOB_AGENT: "red", statuses.TRIGGERED: "blue", statuses.IN_PROGRESS: "blue",
           statuses.VERIFYING: "blue"}


class ProgressView(Hooks):
    def __init__(self, console: Console):
        self.console = console
        self._lock = threading.Lock()

    def stage(self, message: str) -> None:
        with self._lock:
            self.console.print(f"[bold]-->[/] {escape(message)}")

    def planned(self, plan) -> None:
        from reconciler.cli.views import plan_text

        with self._lock:
            self.console.print()
            plan_text.render(plan, self.console)
            self.console.print()

    def note(self, message: str) -> None:
        with self._lock:
            self.console.print(f"    {escape(message)}")

    def task_started(self, task: TaskRecord, attempt: int) -> None:
        extra = f" (attempt {attempt})" if attempt > 1 else ""
        with self._lock:
            self.console.print(f"    [dim]started[/]  {escape(task.operation)} {escape(task.target)} "
                               f"{escape(task.version)}{extra} [dim]task {task.id}[/]")

    def task_finished(self, task: TaskRecord, status: str, message: str) -> None:
        colour = COLOURS.get(status, "white")
        with self._lock:
            self.console.print(f"    [{colour}]{status:8}[/] {escape(task.operation)} {escape(task.target)} "
                               f"{escape(task.version)} [dim]{escape(message[:200])}[/]")
