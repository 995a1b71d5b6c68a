"""The ``kubernetes`` agent: applies the job's manifest artifacts with kubectl and waits for the
rollouts to finish.

Install/update: the ``*.yaml``/``*.yml``/``*.json`` artifacts are written to a scratch directory,
then ``kubectl apply -R -f <dir>``, then ``kubectl rollout status <kind>/<name> --timeout=<s>s``
for each ``waitFor`` entry (default: every Deployment, StatefulSet and DaemonSet in the
manifests). Uninstall: ``kubectl delete -R -f <dir> --ignore-not-found``. ``kubeconfig``,
``context`` and ``namespace`` go on every command. Synchronous.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.errors import TerminalError
from reconciler.executors import artifacts
from reconciler.executors.base import Agent, AgentConfig, AgentResult, ExecContext, Job
from reconciler.executors.builtin.command import job_environment, run_argv
from reconciler.models.common import Duration

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
APPLY_DIR = ".kubectl-apply"  # in the task scratch dir, apart from the engine's copies of the artifacts


class KubernetesConfig(AgentConfig):
    type: str = "kubernetes"
    kubectl: str = Field("kubectl", description="The kubectl binary.")
    context: str | None = Field(None, description="kubeconfig context (--context).")
    namespace: str | None = Field(None, description="Namespace for resources that do not set one (-n).")
    kubeconfig: str | None = Field(None, description="kubeconfig file; relative to the desired-state directory.")
    rolloutTimeout: Duration = Field(300.0, description="How long each rollout may take (kubectl rollout status "
                                                        "--timeout).")
    waitFor: list[str] | None = Field(None, description="kind/name resources to wait for, e.g. deployment/api. "
                                                        "Default: every Deployment, StatefulSet and DaemonSet "
                                                        "in the manifests.")
    timeout: Duration | None = Field(None, description="Timeout of kubectl apply/delete; default: the task timeout.")
    blueGreen: bool = Field(False, description="Run the new release beside the live one under the other colour "
                                               "and switch the Services only after verification passes.")

    @field_validator("waitFor")
    @classmethod
    def _kind_name(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            if not re.fullmatch(r"[A-Za-z.]+/[a-z0-9][a-z0-9.-]*", item):
                raise ValueError(f"waitFor entry {item!r} must look like kind/name, e.g. deployment/api")
        return value


def k8s_name(text: str, limit: int = 63) -> str:
    """``text`` as a Kubernetes name: lowercase alphanumerics and '-', at most ``limit`` characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:limit].strip("-")
    if not name:
        raise TerminalError(f"cannot derive a Kubernetes name from {text!r}")
    return name


class KubernetesAgent(Agent):
    type = "kubernetes"
    Config = KubernetesConfig
    placement_fields: ClassVar[tuple[str, ...]] = ("context", "namespace")

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        cfg: KubernetesConfig = self.config  # type: ignore[assignment]
        manifests = {k: v for k, v in job.artifacts.items() if k.lower().endswith(MANIFEST_SUFFIXES)}
        if not manifests:
            raise TerminalError(f"no manifest artifacts (*.yaml, *.yml, *.json) to {job.operation}; "
                                f"artifacts: {', '.join(sorted(job.artifacts)) or 'none'}")
        directory = ctx.scratch / APPLY_DIR
        shutil.rmtree(directory, ignore_errors=True)  # a previous attempt's files must not be applied
        artifacts.write_local(directory, manifests)
        run = _Kubectl(cfg, job, ctx)
        if job.operation == "uninstall":
            return run.step(["delete", "-R", "-f", str(directory), "--ignore-not-found"], "kubectl delete")
        if cfg.blueGreen:
            from reconciler.executors.builtin import kubernetes_bluegreen

            shutil.rmtree(directory, ignore_errors=True)
            return kubernetes_bluegreen.dispatch(run, cfg, job, ctx, manifests, directory)
        discovered = rollouts(manifests)  # parsed first: invalid YAML stops before anything is applied
        waits = [(item, cfg.namespace) for item in cfg.waitFor] if cfg.waitFor is not None else discovered
        applied = run.step(["apply", "-R", "-f", str(directory)], "kubectl apply")
        if applied.status != "done":
            return applied
        for resource, namespace in waits:
            if ctx.cancel_requested is not None and ctx.cancel_requested():
                return AgentResult("canceled", f"canceled while waiting for {resource}; applied changes stay",
                                   run.log)
            result = run.step(["rollout", "status", resource, f"--timeout={cfg.rolloutTimeout:g}s"],
                              f"rollout of {resource}", namespace, cfg.rolloutTimeout + 30)
            if result.status != "done":
                return result
        names = ", ".join(r for r, _ in waits) or "no rollouts to wait for"
        return AgentResult("done", f"applied {len(manifests)} manifest file(s); ready: {names}", run.log)


    def finalize(self, job: Job, ctx: ExecContext, outputs: dict, succeeded: bool) -> AgentResult | None:
        """Blue-green: switch the Services to the new colour, or abandon it (see kubernetes_bluegreen)."""
        cfg: KubernetesConfig = self.config  # type: ignore[assignment]
        if not cfg.blueGreen or not outputs.get("colour"):
            return None
        from reconciler.executors.builtin import kubernetes_bluegreen

        return kubernetes_bluegreen.finalize(_Kubectl(cfg, job, ctx), outputs, succeeded)


class _Kubectl:
    """Runs kubectl with the target's connection flags and keeps one log for the task."""

    def __init__(self, cfg: KubernetesConfig, job: Job, ctx: ExecContext):
        self.cfg, self.ctx = cfg, ctx
        self.env = {**os.environ, **job_environment(job, ctx)}
        self.log = ""

    def step(self, args: list[str], what: str, namespace: str | None = None,
             timeout: float | None = None) -> AgentResult:
        done = run_argv(self._argv(args, namespace or self.cfg.namespace), cwd=self.ctx.workdir, env=self.env,
                        timeout=timeout or self.cfg.timeout or self.ctx.timeout, ctx=self.ctx)
        self.log += done.log
        if done.outcome != "exited":
            return AgentResult("canceled" if done.outcome == "canceled" else "failed",
                               f"{what} {'was canceled' if done.outcome == 'canceled' else 'timed out'}", self.log)
        if done.returncode != 0:
            tail = done.tail
            return AgentResult("failed", f"{what} failed (exit code {done.returncode})" + (f": {tail}" if tail else ""),
                               self.log)
        return AgentResult("done", f"{what} succeeded", self.log)

    def capture(self, args: list[str]) -> str:
        """stdout of a read-only kubectl command ('' when it fails)."""
        done = run_argv(self._argv(args, self.cfg.namespace), cwd=self.ctx.workdir, env=self.env,
                        timeout=self.cfg.timeout or self.ctx.timeout, ctx=self.ctx)
        return done.out.decode("utf-8", "replace") if done.outcome == "exited" and done.returncode == 0 else ""

    def _argv(self, args: list[str], namespace: str | None) -> list[str]:
        argv = [self.cfg.kubectl]
        if self.cfg.kubeconfig:
            path = Path(os.path.expanduser(self.cfg.kubeconfig))
            argv += ["--kubeconfig", str(path if path.is_absolute() else self.ctx.workdir / path)]
        if self.cfg.context:
            argv += ["--context", self.cfg.context]
        if namespace:
            argv += ["-n", namespace]
        return argv + args


def rollouts(manifests: dict[str, str]) -> list[tuple[str, str | None]]:
    """``(kind/name, namespace or None)`` for every Deployment, StatefulSet and DaemonSet, in file order."""
    found = []
    for path, text in sorted(manifests.items()):
        for doc in _documents(path, text):
            if isinstance(doc, dict) and doc.get("kind") in ROLLOUT_KINDS:
                meta = doc.get("metadata") or {}
                if meta.get("name"):
                    found.append((f"{doc['kind'].lower()}/{meta['name']}", meta.get("namespace")))
    return found


def _documents(path: str, text: str) -> list[Any]:
    docs: list[Any] = []
    try:
        for doc in YAML(typ="safe").load_all(text):
            if isinstance(doc, dict) and doc.get("kind") == "List":
                docs.extend(doc.get("items") or [])
            else:
                docs.append(doc)
    except YAMLError as exc:
        raise TerminalError(f"manifest {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    return docs
