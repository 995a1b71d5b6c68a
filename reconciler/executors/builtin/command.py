"""The ``command`` agent: runs a local argv (never through a shell), in its own process group that
never outlives the task (``executors.processes``).

The job goes to stdin as JSON; the main fields are also set as ``RECONCILER_*`` environment
variables. Exit code 0 means done; anything else fails the task with the tail of stderr as the
reason. The task id is stable across retries, so scripts can be idempotent.

With ``stickerPath`` (relative to the working directory; templated like any config value) the agent
writes the version sticker there after a successful run, removes it after a successful uninstall,
and ``read_sticker`` reads it back for ``reconciler drift``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from reconciler.errors import TerminalError
from reconciler.executors import processes
from reconciler.executors.base import Agent, AgentConfig, AgentResult, ExecContext, Job
from reconciler.models.common import Duration
from reconciler.rendering import sticker

POLL_SECONDS = 0.2


class CommandConfig(AgentConfig):
    type: str = "command"
    command: list[str] = Field(min_length=1, description="argv; relative paths resolve against the desired-state dir")
    timeout: Duration | None = None
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    uninstallCommand: list[str] | None = None
    stickerPath: str | None = Field(default=None, description="Where to write the version sticker (relative).")

    @field_validator("stickerPath")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or ".." in value.split("/") or not value.strip()):
            raise ValueError("stickerPath must be a relative path inside the working directory, without '..'")
        return value

    @field_validator("command", mode="before")
    @classmethod
    def _argv(cls, value):
        if isinstance(value, str):
            raise ValueError("command must be a list of arguments such as [./deploy.sh, --fast]; it never runs in a shell")
        return value


def job_environment(job: Job, ctx: ExecContext) -> dict[str, str]:
    """The ``RECONCILER_*`` variables every local or remote command gets."""
    env = {
        "RECONCILER_TASK_ID": job.task_id,
        "RECONCILER_ATTEMPT": str(job.attempt),
        "RECONCILER_OPERATION": job.operation,
        "RECONCILER_TARGET": job.target,
        "RECONCILER_DEPLOYMENT": job.deployment,
        "RECONCILER_ENVIRONMENT": job.environment,
        "RECONCILER_RESOURCE": job.resource,
        "RECONCILER_VERSION": job.version,
        "RECONCILER_PREVIOUS_VERSION": job.previous_version or "",
        "RECONCILER_RELEASE_ID": job.release_id,
        "RECONCILER_WORKDIR": str(ctx.workdir),
        "RECONCILER_ARTIFACTS": str(ctx.scratch),
    }
    for key, value in job.variables.items():
        if isinstance(key, str) and key.replace("_", "").isalnum():
            env[f"RECONCILER_VAR_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


class CommandAgent(Agent):
    type = "command"
    Config = CommandConfig

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        cfg: CommandConfig = self.config  # type: ignore[assignment]
        argv = cfg.uninstallCommand if (job.operation == "uninstall" and cfg.uninstallCommand) else cfg.command
        env = {**os.environ, **job_environment(job, ctx), **cfg.env}
        cwd = (ctx.workdir / cfg.cwd) if cfg.cwd else ctx.workdir
        timeout = cfg.timeout or ctx.timeout
        done = run_argv(list(argv), cwd=cwd, env=env, timeout=timeout, ctx=ctx, stdin=json.dumps(job.payload()).encode())
        if done.outcome == "timeout":
            return AgentResult("failed", f"timed out after {timeout:g}s", done.log)
        if done.outcome == "canceled":
            return AgentResult("canceled", "canceled while running; the process was stopped", done.log)
        if done.returncode == 0:
            self._sticker(job, ctx)
            return AgentResult("done", _last_line(done.out) or "command succeeded", done.log)
        code = done.returncode
        return AgentResult("failed", f"exit code {code}: {done.tail}" if done.tail else f"exit code {code}", done.log)

    @property
    def writes_sticker(self) -> bool:
        return bool(self.config.stickerPath)  # type: ignore[attr-defined]

    def read_sticker(self, job: Job, ctx: ExecContext) -> str | None:
        """The sticker's text, or None when there is none (or no ``stickerPath``)."""
        cfg: CommandConfig = self.config  # type: ignore[assignment]
        if not cfg.stickerPath:
            return None
        path = ctx.workdir / cfg.stickerPath
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def _sticker(self, job: Job, ctx: ExecContext) -> None:
        cfg: CommandConfig = self.config  # type: ignore[assignment]
        if not cfg.stickerPath:
            return
        path = ctx.workdir / cfg.stickerPath
        if job.operation == "uninstall":
            path.unlink(missing_ok=True)
            return
        text = sticker.make_sticker(release_id=job.release_id, target=job.target, version=job.version,
                                    task_id=job.task_id, revision=job.release.get("revision"),
                                    artifacts=job.artifacts)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)


@dataclass
class Completed:
    """How a program run by :func:`run_argv` ended: ``outcome`` is exited, timeout or canceled."""

    returncode: int | None
    out: bytes
    err: bytes
    outcome: str

    @property
    def log(self) -> str:
        return _join(self.out, self.err)

    @property
    def tail(self) -> str:
        return _tail(self.err or self.out)


def run_argv(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float, ctx: ExecContext,
             stdin: bytes = b"") -> Completed:
    """Run ``argv`` as the command agent does: own process group, stopped on timeout or cancel.

    For other agents that drive a local binary (docker, kubectl); a relative program path resolves
    against the desired-state directory, as the command agent's does. ``OSError`` → TerminalError.
    """
    argv = [_resolve(argv[0], ctx.workdir), *argv[1:]]
    try:
        proc = processes.spawn(argv, cwd=cwd, env=env, scratch=ctx.scratch)
    except OSError as exc:
        raise TerminalError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from exc
    out, err, outcome = _wait(proc, stdin, timeout, ctx)
    processes.finished(ctx.scratch)
    return Completed(proc.returncode, out, err, outcome)


def _resolve(program: str, workdir: Path) -> str:
    if "/" in program and not os.path.isabs(program):
        return str((workdir / program).resolve())
    return program


def _wait(proc: subprocess.Popen, payload: bytes, timeout: float, ctx: ExecContext) -> tuple[bytes, bytes, str]:
    deadline = time.monotonic() + timeout
    data: bytes | None = payload
    while True:
        try:
            out, err = proc.communicate(input=data, timeout=POLL_SECONDS)
            return out or b"", err or b"", "exited"
        except subprocess.TimeoutExpired:
            data = None
        except BrokenPipeError:
            data = None  # the program did not read stdin; that is its right
            continue
        stop = "timeout" if time.monotonic() > deadline else None
        if stop is None and ctx.cancel_requested is not None and ctx.cancel_requested():
            stop = "canceled"
        if stop:
            _kill(proc)
            out, err = proc.communicate()
            return out or b"", err or b"", stop


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _join(out: bytes, err: bytes) -> str:
    text = out.decode("utf-8", "replace")
    if err:
        text += ("\n" if text and not text.endswith("\n") else "") + err.decode("utf-8", "replace")
    return text


def _tail(data: bytes, lines: int = 5) -> str:
    text = data.decode("utf-8", "replace").strip()
    return " | ".join(text.splitlines()[-lines:])[-500:]


def _last_line(data: bytes) -> str:
    lines = data.decode("utf-8", "replace").strip().splitlines()
    return lines[-1][:200] if lines else ""
