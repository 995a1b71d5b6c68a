"""The exception tree of reconciler.

Every error the product raises on purpose derives from :class:`ReconcilerError`::

    ReconcilerError
    ├── UsageError            a mistake on the command line (exit code 2)
    ├── ConfigError           desired state is invalid; carries diagnostics (exit code 1)
    ├── SourceError           the Git repository or directory cannot be read
    ├── StateError            the recorded-state backend failed
    │   ├── LockError         the workspace lock is held by someone else (exit code 3)
    │   └── MigrationError    the state schema cannot be migrated
    ├── TemplateError         a template failed to render (undefined name, sandbox escape)
    └── ExecutionError        a job agent failed
        ├── TerminalError     recorded and never retried
        │   └── InvalidAgentError  unknown agent type or invalid agent config
        └── TransientError    retried later (``retry_after`` seconds)

The CLI maps the tree to exit codes and a one-line message; no traceback reaches a user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.diagnostics import Diagnostic


class ReconcilerError(Exception):
    """Base class for every error reconciler raises on purpose."""


class UsageError(ReconcilerError, ValueError):
    """The command line is wrong: unknown flag, missing directory, bad argument."""


class ConfigError(ReconcilerError):
    """The desired state is invalid; ``diagnostics`` lists every problem found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        first = diagnostics[0].format() if diagnostics else "invalid configuration"
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(first + more)


class SourceError(ReconcilerError):
    """The desired-state source (directory or Git revision) cannot be read."""


class StateError(ReconcilerError):
    """The recorded-state backend failed or holds something unexpected."""


class LockError(StateError):
    """The workspace lease is held by another live run."""

    def __init__(self, message: str, holder: str = ""):
        super().__init__(message)
        self.holder = holder


class MigrationError(StateError):
    """The state schema could not be brought to the version this release needs."""


class NotFoundError(StateError, LookupError):
    """A task, release or target named by the user does not exist."""


class TemplateError(ReconcilerError):
    """A jinja template failed: undefined variable, syntax error or sandbox violation."""

    def __init__(self, message: str, template: str = "", line: int | None = None, keys: tuple = ()):
        super().__init__(message)
        self.template = template
        self.line = line
        self.keys = keys  # where in the deployment's document the fix belongs, e.g. ("artifacts", 0)


class TemplateErrors(TemplateError):
    """Several templates of one tree failed (all are reported, not only the first)."""

    def __init__(self, errors: list[TemplateError]):
        super().__init__(str(errors[0]), errors[0].template, errors[0].line)
        self.errors = errors


class ExecutionError(ReconcilerError):
    """A job agent could not carry out a task."""


class TerminalError(ExecutionError):
    """An agent failure that retrying cannot fix (bad config, 4xx); recorded, never retried."""


class InvalidAgentError(TerminalError):
    """The job agent named by a task does not exist or its config is invalid."""


class TransientError(ExecutionError):
    """An agent failure that may pass (timeout, 5xx); retried after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after
