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
        # Not a terminal (CI logs, pipes): task lines are plain text written directly, since rich's
        # rendering of two lines per task cost about a seventh of apply throughput.
        self._plain = not console.is_terminal and not console.is_jupyter

    def _task_line(self, markup: str, plain: str) -> None:
        with self._lock:
            if self._plain:
                self.console.file.write(plain + "\n")
                self.console.file.flush()
            else:
                self.console.print(markup)

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
        self._task_line(f"    [dim]started[/]  {escape(task.operation)} {escape(task.target)} "
                        f"{escape(task.version)}{extra} [dim]task {task.id}[/]",
                        f"    started  {task.operation} {task.target} {task.version}{extra} task {task.id}")

    def task_finished(self, task: TaskRecord, status: str, message: str) -> None:
        colour = COLOURS.get(status, "white")
        line = " ".join(message[:200].splitlines())
        self._task_line(f"    [{colour}]{status:8}[/] {escape(task.operation)} {escape(task.target)} "
                        f"{escape(task.version)} [dim]{escape(line)}[/]",
                        f"    {status:8} {task.operation} {task.target} {task.version} {line}")
