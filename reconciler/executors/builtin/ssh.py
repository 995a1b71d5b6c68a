"""The ``ssh`` agent: uploads the job's artifacts to a remote directory over SFTP and runs a command
there through the remote login shell.

The job document is uploaded as ``<workdir>/.reconciler-job.json`` (mode 0600: it holds the
job's variables) and the ``RECONCILER_*`` variables are exported (``RECONCILER_WORKDIR`` is the
remote directory) through stdin, so their values never appear in the remote process list. Exit code 0 means done;
anything else fails the task with the tail of stderr. Host keys are checked against a
known_hosts file by default. Synchronous: it finishes inside ``dispatch``.

:class:`SshAccess` (login settings) and :func:`remote_workdir` are shared with the compose agent.
"""

from __future__ import annotations

import json
import os
import posixpath
import shlex
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from reconciler.executors import remote
from reconciler.executors.base import Agent, AgentConfig, AgentResult, ExecContext, Job
from reconciler.executors.builtin.command import job_environment
from reconciler.executors.httpclient import env_secret
from reconciler.models.common import Duration
from reconciler.rendering import sticker

JOB_FILE = ".reconciler-job.json"


class SshAccess(AgentConfig):
    """How to log in to a remote host: one private key (file or env var) and host-key checking."""

    keyFile: str | None = Field(None, description="Private key file; ~ and paths relative to the desired-state "
                                                   "directory are resolved. Exclusive with keyEnv.")
    keyEnv: str | None = Field(None, description="Name of an environment variable holding the private key text. "
                                                  "Exclusive with keyFile.")
    knownHostsFile: str = Field("~/.ssh/known_hosts", description="known_hosts file the host key must be in.")
    hostKeyChecking: bool = Field(True, description="Reject unknown or changed host keys (turn off only for "
                                                    "throwaway hosts).")
    connectTimeout: Duration = Field(15.0, description="Seconds to wait for the connection and login.")

    def _check_key_source(self) -> None:
        if bool(self.keyFile) == bool(self.keyEnv):
            raise ValueError("set exactly one of keyFile (a private key file) or keyEnv (an environment variable "
                             "holding the key)")

    def ssh_target(self, host: str, port: int, user: str, workdir: Path) -> remote.SshTarget:
        """The login target; reads keyEnv now, so a missing variable is a TerminalError here."""
        key_text = env_secret(self.keyEnv, "ssh private key") if self.keyEnv else None
        return remote.SshTarget(host, port, user, _local_path(self.keyFile, workdir) if self.keyFile else None,
                                key_text, _local_path(self.knownHostsFile, workdir), self.hostKeyChecking,
                                self.connectTimeout)


class SshConfig(SshAccess):
    type: str = "ssh"
    host: str = Field(min_length=1, description="Host name or address to connect to.")
    port: int = Field(22, ge=1, le=65535, description="SSH port.")
    user: str = Field(min_length=1, description="Login user.")
    workdir: str | None = Field(None, description="Remote directory for artifacts and the command; relative to the "
                                                  "login directory. Default: .reconciler/<deployment>-<environment>.")
    command: list[str] | str = Field(description="argv (quoted for the remote shell) or a shell command line.")
    uninstallCommand: list[str] | str | None = Field(None, description="Run instead of command for uninstall.")
    uploadArtifacts: bool = Field(True, description="Upload the job's artifacts and job JSON before running.")
    timeout: Duration | None = Field(None, description="Command timeout; default: the task timeout.")

    @field_validator("command")
    @classmethod
    def _not_empty(cls, value: list[str] | str) -> list[str] | str:
        if not value or (isinstance(value, str) and not value.strip()):
            raise ValueError("command must not be empty")
        return value

    @model_validator(mode="after")
    def _one_key(self) -> SshConfig:
        self._check_key_source()
        return self


class SshAgent(Agent):
    type = "ssh"
    Config = SshConfig
    placement_fields: ClassVar[tuple[str, ...]] = ("host", "port")

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        cfg: SshConfig = self.config  # type: ignore[assignment]
        command = cfg.uninstallCommand if job.operation == "uninstall" and cfg.uninstallCommand else cfg.command
        workdir = cfg.workdir or default_workdir(job)
        target = cfg.ssh_target(cfg.host, cfg.port, cfg.user, ctx.workdir)
        with remote.RemoteSession(target) as session:
            if _canceled(ctx):
                return AgentResult("canceled", "canceled before uploading; nothing was changed")
            workdir = remote_workdir(workdir)
            if cfg.uploadArtifacts:
                session.write_files(workdir, job.artifacts)
                session.write_files(workdir, {JOB_FILE: json.dumps(job.payload(), indent=2)}, mode=0o600)
            else:
                session.makedirs(workdir)
            if _canceled(ctx):
                return AgentResult("canceled", "canceled after uploading; the command did not run")
            env = {**job_environment(job, ctx), "RECONCILER_WORKDIR": workdir, "RECONCILER_ARTIFACTS": workdir}
            text = command if isinstance(command, str) else shlex.join(command)
            result = session.run(text, env=env, cwd=workdir, timeout=cfg.timeout or ctx.timeout, ctx=ctx)
            if result.outcome == "exited" and result.returncode == 0:
                session.write_files(workdir, {sticker.FILE_NAME: sticker.for_job(job)})
        return outcome(result, target.label)

    writes_sticker = True

    def read_sticker(self, job: Job, ctx: ExecContext) -> str | None:
        """The sticker the last successful run left in the remote working directory."""
        cfg: SshConfig = self.config  # type: ignore[assignment]
        workdir = remote_workdir(cfg.workdir or default_workdir(job))
        with remote.RemoteSession(cfg.ssh_target(cfg.host, cfg.port, cfg.user, ctx.workdir)) as session:
            text = session.read_text(posixpath.join(workdir, sticker.FILE_NAME))
        return text or None


def outcome(result: remote.RemoteResult, where: str) -> AgentResult:
    """The agent result for a finished remote command."""
    sep = "\n" if result.out and result.err and not result.out.endswith("\n") else ""
    log = result.out + sep + result.err
    if result.outcome == "timeout":
        return AgentResult("failed", f"the command on {where} timed out", log)
    if result.outcome == "canceled":
        return AgentResult("canceled", f"canceled while the command ran on {where}; the channel was closed", log)
    if result.returncode == 0:
        lines = result.out.strip().splitlines()
        return AgentResult("done", lines[-1][:200] if lines else f"command succeeded on {where}", log)
    tail = " | ".join((result.err or result.out).strip().splitlines()[-5:])[-500:]
    return AgentResult("failed", f"exit code {result.returncode} on {where}" + (f": {tail}" if tail else ""), log)


def default_workdir(job: Job) -> str:
    return f".reconciler/{job.deployment}-{job.environment}"


def remote_workdir(path: str) -> str:
    """SFTP does not expand ``~``: ``~/x`` becomes ``x`` (relative to the login directory)."""
    if path == "~":
        return "."
    return path.removeprefix("~/")


def _local_path(path: str, workdir: Path) -> Path:
    expanded = Path(os.path.expanduser(path))
    return expanded if expanded.is_absolute() else workdir / expanded


def _canceled(ctx: ExecContext) -> bool:
    return bool(ctx.cancel_requested is not None and ctx.cancel_requested())
