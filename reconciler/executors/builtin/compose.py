"""The ``compose`` agent: writes the job's artifacts (the rendered compose lock, env files) into a
directory and runs ``docker compose`` there, locally or on a remote host over SSH.

Install/update: ``docker compose -p <project> -f <lockFile> pull`` (when ``pull``) then
``... up -d --remove-orphans``. Uninstall: ``... down`` (without ``-f`` when the lock file is
gone). With ``host: user@host[:port]`` the files go over SFTP and the commands run remotely
(see the ssh agent for the login settings). With ``blueGreen`` the stack alternates between the
projects ``<project>-blue`` and ``<project>-green``; the colour is reported in ``outputs`` and the
live colour is remembered in ``<directory>/.reconciler-colour`` (switching traffic and removing
the old colour are the rollout strategy's business). Synchronous.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator

from reconciler.errors import TerminalError
from reconciler.executors import places, remote
from reconciler.executors.base import Agent, AgentResult, ExecContext, Job
from reconciler.executors.builtin import ssh
from reconciler.executors.builtin.command import job_environment
from reconciler.models.common import Duration
from reconciler.rendering import sticker

COLOUR_FILE = ".reconciler-colour"
COLOURS = ("blue", "green")


class ComposeConfig(ssh.SshAccess):
    type: str = "compose"
    docker: str = Field("docker", description="The docker binary (on the remote host when host is set).")
    dockerHost: str | None = Field(None, description="DOCKER_HOST for the docker commands.")
    host: str | None = Field(None, description="Run on this host over SSH: user@host[:port]. Default: locally.")
    project: str | None = Field(None, description="Compose project name. Default: <deployment>-<environment>.")
    directory: str | None = Field(None, description="Where the files are written (relative to the desired-state "
                                                    "directory, or the remote login directory). "
                                                    "Default: .reconciler/compose/<project>.")
    lockFile: str = Field("compose.lock.yml", description="The compose file among the artifacts.")
    pull: bool = Field(True, description="Pull images before starting the stack.")
    blueGreen: bool = Field(False, description="Alternate the stack between <project>-blue and <project>-green.")
    timeout: Duration | None = Field(None, description="Timeout of each docker command; default: the task timeout.")

    @model_validator(mode="after")
    def _remote_settings(self) -> ComposeConfig:
        if self.host is not None:
            user, _, _ = remote.parse_destination(self.host)
            if user is None:
                raise ValueError("host must name the login user: user@host or user@host:2222")
            self._check_key_source()
        return self

    def ssh_destination(self, workdir: Path) -> remote.SshTarget | None:
        """The SSH login when ``host`` is set, else None (run locally)."""
        if self.host is None:
            return None
        user, host, port = remote.parse_destination(self.host)
        return self.ssh_target(host, port, user or "", workdir)


class ComposeAgent(Agent):
    type = "compose"
    Config = ComposeConfig
    placement_fields: ClassVar[tuple[str, ...]] = ("host", "dockerHost", "project")

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        cfg: ComposeConfig = self.config  # type: ignore[assignment]
        project = cfg.project or project_name(f"{job.deployment}-{job.environment}")
        directory = _directory(cfg, job)
        with places.open_place(cfg.ssh_destination(ctx.workdir), directory, ctx.workdir) as place:
            if job.operation == "uninstall":
                result = _uninstall(cfg, job, ctx, place, project)
            elif not cfg.blueGreen:
                result = _install(cfg, job, ctx, place, project)
                result.outputs = {"project": project, "directory": directory}
            else:
                result = _install_colour(cfg, job, ctx, place, project, directory)
            if result.status == "done":
                place.write({sticker.FILE_NAME: sticker.for_job(job)})
            return result


    writes_sticker = True

    def read_sticker(self, job: Job, ctx: ExecContext) -> str | None:
        """The sticker the last successful run left beside the stack's files."""
        cfg: ComposeConfig = self.config  # type: ignore[assignment]
        with places.open_place(cfg.ssh_destination(ctx.workdir), _directory(cfg, job), ctx.workdir) as place:
            return place.read(sticker.FILE_NAME) or None

    def finalize(self, job: Job, ctx: ExecContext, outputs: dict, succeeded: bool) -> AgentResult | None:
        """Blue-green: after verification, stop the old colour (switch) or the new one (abandon)."""
        cfg: ComposeConfig = self.config  # type: ignore[assignment]
        if not cfg.blueGreen or not outputs.get("colour"):
            return None
        directory = cfg.directory or f".reconciler/compose/{outputs['project'].rsplit('-', 1)[0]}"
        if cfg.host is not None:
            directory = ssh.remote_workdir(directory)
        base = outputs["project"].rsplit("-", 1)[0]
        with places.open_place(cfg.ssh_destination(ctx.workdir), directory, ctx.workdir) as place:
            if succeeded:
                old = outputs.get("previousColour")
                if not old:
                    return AgentResult("done", f"{outputs['project']} is live")
                home = place.child(old)
                steps = [(home, [cfg.docker, "compose", "-p", f"{base}-{old}", "-f", cfg.lockFile, "down"])]
                return _run_steps(cfg, job, ctx, steps, f"switched to {outputs['project']}; {base}-{old} is down")
            place.write({COLOUR_FILE: (outputs.get("previousColour") or "") + "\n"})
            home = place.child(outputs["colour"])
            steps = [(home, [cfg.docker, "compose", "-p", outputs["project"], "-f", cfg.lockFile, "down"])]
            return _run_steps(cfg, job, ctx, steps, f"abandoned {outputs['project']}; the old colour stays live")


def _directory(cfg: ComposeConfig, job: Job) -> str:
    project = cfg.project or project_name(f"{job.deployment}-{job.environment}")
    directory = cfg.directory or f".reconciler/compose/{project}"
    return ssh.remote_workdir(directory) if cfg.host is not None else directory


def project_name(text: str) -> str:
    """A valid compose project name: lowercase letters, digits, '-' and '_', starting with a letter or digit."""
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    if not name:
        raise TerminalError(f"cannot derive a compose project name from {text!r}; set project")
    return name


def _install_colour(cfg: ComposeConfig, job: Job, ctx: ExecContext, place: places.Place, project: str,
                    directory: str) -> AgentResult:
    """Blue-green: start the stack under the colour that is not live, and remember it when up."""
    previous = (place.read(COLOUR_FILE) or "").strip()
    colour = "green" if previous == "blue" else "blue"
    result = _install(cfg, job, ctx, place.child(colour), f"{project}-{colour}")
    if result.status == "done":
        place.write({COLOUR_FILE: colour + "\n"})
    result.outputs = {"project": f"{project}-{colour}", "colour": colour, "previousColour": previous or None,
                      "previousProject": f"{project}-{previous}" if previous else None,
                      "directory": f"{directory}/{colour}"}
    return result


def _install(cfg: ComposeConfig, job: Job, ctx: ExecContext, place: places.Place, project: str) -> AgentResult:
    if cfg.lockFile not in job.artifacts:
        raise TerminalError(f"the compose lock file {cfg.lockFile!r} is not among the job's artifacts "
                            f"({', '.join(sorted(job.artifacts)) or 'none'})")
    place.write(job.artifacts)
    base = [cfg.docker, "compose", "-p", project, "-f", cfg.lockFile]
    steps = ([[*base, "pull"]] if cfg.pull else []) + [[*base, "up", "-d", "--remove-orphans"]]
    return _run_steps(cfg, job, ctx, [(place, argv) for argv in steps], f"stack {project} is up")


def _uninstall(cfg: ComposeConfig, job: Job, ctx: ExecContext, place: places.Place, project: str) -> AgentResult:
    """``down`` for the project (both colours with blueGreen); ``-f`` only while the lock file is there."""
    homes = [(place.child(c), f"{project}-{c}") for c in COLOURS] if cfg.blueGreen else [(place, project)]
    steps = []
    for home, name in homes:
        lock = ["-f", cfg.lockFile] if home.read(cfg.lockFile) is not None else []
        steps.append((home, [cfg.docker, "compose", "-p", name, *lock, "down"]))
    result = _run_steps(cfg, job, ctx, steps, f"stack {' and '.join(name for _, name in homes)} is down")
    if result.status == "done" and cfg.blueGreen:
        place.write({COLOUR_FILE: ""})
    return result


def _run_steps(cfg: ComposeConfig, job: Job, ctx: ExecContext, steps: list[tuple[places.Place, list[str]]],
               success: str) -> AgentResult:
    env = job_environment(job, ctx)
    if cfg.dockerHost:
        env["DOCKER_HOST"] = cfg.dockerHost
    logs: list[str] = []
    for place, argv in steps:
        what = f"docker compose {next(a for a in argv if a in ('pull', 'up', 'down'))} (project {argv[3]})"
        if ctx.cancel_requested is not None and ctx.cancel_requested():
            return AgentResult("canceled", f"canceled before {what}", "\n".join(logs))
        done = place.run(argv, env, cfg.timeout or ctx.timeout, ctx)
        logs.append(done.out + done.err)
        if done.outcome != "exited":
            status = "canceled" if done.outcome == "canceled" else "failed"
            return AgentResult(status, f"{what} {'was canceled' if status == 'canceled' else 'timed out'}",
                               "\n".join(logs))
        if done.returncode != 0:
            tail = " | ".join((done.err or done.out).strip().splitlines()[-5:])[-500:]
            return AgentResult("failed", f"{what} exited with {done.returncode}" + (f": {tail}" if tail else ""),
                               "\n".join(logs))
    return AgentResult("done", success, "\n".join(logs))
