"""Entry point of the ``reconciler`` command.

Commands are imported lazily so ``reconciler --help`` and small commands start fast. Errors from
the exception tree become one clear line and an exit code: 2 for CLI mistakes, 1 for invalid
input or failures, 3 for a held lock. No traceback reaches a user unless RECONCILER_DEBUG=1.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
from typing import NoReturn

import click

from reconciler import __version__
from reconciler.errors import ConfigError, LockError, ReconcilerError, UsageError

COMMANDS = {
    "validate": ("reconciler.cli.commands.validate", "validate", "Check desired state; report every error."),
    "targets": ("reconciler.cli.commands.targets", "targets", "List every release target."),
    "schema": ("reconciler.cli.commands.schema", "schema", "Write JSON Schemas of the document types."),
    "plan": ("reconciler.cli.commands.plan", "plan", "Show what a reconcile would do, and why (dry run)."),
    "apply": ("reconciler.cli.commands.apply", "apply", "Plan, execute through job agents, record history."),
    "history": ("reconciler.cli.commands.history", "history", "Tasks newest first (read-only audit trail)."),
    "status": ("reconciler.cli.commands.status", "status", "What is deployed where."),
    "cancel": ("reconciler.cli.commands.tasks", "cancel", "Cancel a pending or running task."),
    "redeploy": ("reconciler.cli.commands.tasks", "redeploy", "Queue a new task for a target's current release."),
    "task": ("reconciler.cli.commands.tasks", "task", "Report status and traces of a task from outside."),
    "approve": ("reconciler.cli.commands.approvals", "approve", "Approve a version in an environment."),
    "reject": ("reconciler.cli.commands.approvals", "reject", "Reject a version in an environment."),
    "explain": ("reconciler.cli.commands.explain", "explain", "Every candidate version of a target, rule by rule."),
    "test": ("reconciler.cli.commands.policytest", "test", "Run policy test files."),
    "rollback": ("reconciler.cli.commands.rollback", "rollback", "Restore a target's last successful release."),
    "release-hold": ("reconciler.cli.commands.rollback", "release_hold", "Lift a rollback hold from a target."),
    "render": ("reconciler.cli.commands.render", "render", "Render artifacts (compose locks, manifests, ...)."),
    "verify-lock": ("reconciler.cli.commands.render", "verify_lock", "Check a compose lock's digest and pins."),
    "drift": ("reconciler.cli.commands.render", "drift", "Compare version stickers on hosts with state."),
    "version": ("reconciler.cli.commands.edit", "version", "Add Version documents (keeps comments)."),
    "pin": ("reconciler.cli.commands.edit", "pin", "Write a Pin document (hold or downgrade targets)."),
    "freeze": ("reconciler.cli.commands.edit", "freeze", "Write a Freeze document (emergency stop)."),
    "run": ("reconciler.cli.commands.loop", "run", "Reconcile in a loop (scheduled or continuous)."),
    "watch": ("reconciler.cli.commands.loop", "watch", "Re-validate and re-plan on every file change."),
    "serve": ("reconciler.cli.commands.serve", "serve", "Serve the HTTP API and the dashboard."),
    "api-key": ("reconciler.cli.commands.serve", "api_key", "Create, list and revoke API keys."),
    "agent": ("reconciler.cli.commands.serve", "agent", "Run a pull-based job agent against the API."),
    "report": ("reconciler.cli.commands.serve", "report", "Write the dashboard as a static HTML report."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, spec in COMMANDS.items() if _available(spec[0]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None or not _available(spec[0]):
            return None
        module = importlib.import_module(spec[0])
        return getattr(module, spec[1])

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Declarative GitOps deployment reconciler: plans from Git, policy-gated releases, audit history."""


def main(argv: list[str] | None = None) -> int:
    try:
        result = cli.main(args=argv, prog_name="reconciler", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("reconciler: aborted", err=True)
        return 130
    except click.ClickException as exc:
        return _usage(exc.format_message())
    except UsageError as exc:
        return _usage(str(exc))
    except ConfigError as exc:
        from reconciler.cli.views import diagnostics

        diagnostics.print_text(exc.diagnostics)
        return 1
    except LockError as exc:
        click.echo(f"reconciler: error: {exc}", err=True)
        return 3
    except ReconcilerError as exc:
        click.echo(f"reconciler: error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("reconciler: interrupted", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - the promise: never a traceback
        if os.environ.get("RECONCILER_DEBUG"):
            raise
        click.echo(f"reconciler: internal error: {type(exc).__name__}: {exc} (set RECONCILER_DEBUG=1 for a "
                   "traceback, and please report it)", err=True)
        return 1
    return int(result or 0)


def entry() -> NoReturn:
    """The ``reconciler`` command (and ``python -m reconciler``): ``main``, then ``leave``."""
    leave(main())


def leave(code: int) -> NoReturn:
    """End the process with ``code`` without tearing its heap down object by object: a plan of
    300,000 targets leaves several hundred MB that the interpreter would free one object at a time
    for nothing (about 0.1 s). What an ordinary exit does that matters still happens first: other
    threads are waited for (a plan-cache writer), exit handlers run (temporary directories,
    logging) and the standard streams are flushed. If a stream cannot be flushed (a closed pipe),
    the ordinary exit reports it as it always did. Under a profiler or a tracer (cProfile,
    coverage), which write their results after the program, the exit is the ordinary one."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        raise SystemExit(code)
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code)


def _usage(message: str) -> int:
    message = " ".join(message.split())
    click.echo(f"reconciler: error: {message} (see 'reconciler --help')", err=True)
    return 2


if __name__ == "__main__":  # pragma: no cover
    entry()
