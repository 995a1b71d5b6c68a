"""The ``github-actions`` agent: triggers a ``workflow_dispatch`` run and follows it to the end.

Dispatch posts the inputs ``job_id`` (the task id), ``deployment_version``, ``environment`` and
``resource_identifier`` plus the configured ``inputs``. GitHub answers 204 without a run id, so
the run is found by listing recent ``workflow_dispatch`` runs and picking the one whose ``name``
or ``display_title`` contains the task id; the workflow must set
``run-name: ... ${{ inputs.job_id }}``. Until it shows up the task is ``triggered``; then it is
``in_progress`` with the run id as external id. ``poll`` maps a completed run's conclusion the
way Ctrlplane does. Asynchronous.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from reconciler.executors import httpclient
from reconciler.executors.base import Agent, AgentConfig, AgentResult, ExecContext, Job
from reconciler.models.common import Duration

API_VERSION = "2022-11-28"
DISPATCH_SLACK = timedelta(minutes=2)  # clock skew between us and GitHub
POLL_LOOKBACK = timedelta(days=1)  # how far back poll looks for a run not yet found
CONCLUSIONS = {"success": "done", "cancelled": "canceled", "skipped": "skipped", "neutral": "skipped",
               "action_required": "in_progress"}


class GitHubActionsConfig(AgentConfig):
    type: str = "github-actions"
    owner: str = Field(min_length=1, description="Repository owner (user or organisation).")
    repo: str = Field(min_length=1, description="Repository name.")
    workflow: str | int = Field(description="Workflow file name (deploy.yml) or numeric id.")
    ref: str = Field("main", description="Branch or tag the workflow runs on.")
    tokenEnv: str = Field("GITHUB_TOKEN", description="Environment variable holding a token with actions:write.")
    apiUrl: str = Field("https://api.github.com", description="API base URL (GitHub Enterprise: "
                                                              "https://HOST/api/v3).")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Extra workflow inputs.")
    uninstallWorkflow: str | int | None = Field(None, description="Workflow dispatched for uninstall; without it "
                                                                  "uninstall does nothing on GitHub.")
    pollInterval: Duration = Field(10.0, description="Seconds between two status checks (Agent.poll_interval).")
    timeout: Duration = Field(30.0, description="Timeout of each API request.")


class GitHubActionsAgent(Agent):
    type = "github-actions"
    Config = GitHubActionsConfig
    asynchronous = True
    placement_fields: ClassVar[tuple[str, ...]] = ()

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        cfg: GitHubActionsConfig = self.config  # type: ignore[assignment]
        workflow = cfg.workflow
        if job.operation == "uninstall":
            if cfg.uninstallWorkflow is None:
                return AgentResult("done", "no uninstallWorkflow is configured; nothing to run on GitHub")
            workflow = cfg.uninstallWorkflow
        since = datetime.now(UTC) - DISPATCH_SLACK
        body = {"ref": cfg.ref, "inputs": workflow_inputs(job, cfg.inputs)}
        with self._client() as client:
            client.request("POST", f"{self._repo()}/actions/workflows/{workflow}/dispatches", json=body,
                           what=f"workflow {workflow} in {cfg.owner}/{cfg.repo}")
            return self._find_run(client, job, since, f"dispatched workflow {workflow} on {cfg.ref}")

    def poll(self, job: Job, ctx: ExecContext) -> AgentResult:
        with self._client() as client:
            if not job.external_id:
                return self._find_run(client, job, datetime.now(UTC) - POLL_LOOKBACK, "workflow dispatched")
            run = client.json("GET", f"{self._repo()}/actions/runs/{job.external_id}",
                              what=f"workflow run {job.external_id}")
        return run_result(run)

    def cancel(self, job: Job, ctx: ExecContext) -> None:
        if job.external_id:
            with self._client() as client:
                client.request("POST", f"{self._repo()}/actions/runs/{job.external_id}/cancel",
                               what=f"workflow run {job.external_id}")

    def _find_run(self, client: httpclient.HttpClient, job: Job, since: datetime, message: str) -> AgentResult:
        params = {"event": "workflow_dispatch", "created": f">={since.strftime('%Y-%m-%dT%H:%M:%SZ')}",
                  "per_page": 100}
        page = client.json("GET", f"{self._repo()}/actions/runs", params=params, what="workflow runs") or {}
        for run in page.get("workflow_runs") or []:
            if job.task_id in f"{run.get('name') or ''} {run.get('display_title') or ''}":
                return run_result(run)
        return AgentResult("triggered", f"{message}; waiting for the run named after task {job.task_id} "
                                        "(the workflow needs run-name: ... ${{ inputs.job_id }})")

    def _client(self) -> httpclient.HttpClient:
        cfg: GitHubActionsConfig = self.config  # type: ignore[assignment]
        token = httpclient.env_secret(cfg.tokenEnv, "GitHub token")
        return httpclient.HttpClient(cfg.apiUrl, token=token, token_env=cfg.tokenEnv, timeout=cfg.timeout,
                                     headers={"Accept": "application/vnd.github+json",
                                              "X-GitHub-Api-Version": API_VERSION})

    def _repo(self) -> str:
        cfg: GitHubActionsConfig = self.config  # type: ignore[assignment]
        return f"/repos/{cfg.owner}/{cfg.repo}"


def workflow_inputs(job: Job, extra: dict[str, Any]) -> dict[str, str]:
    """The seed inputs plus ``extra``; workflow inputs are strings, so other values go as JSON."""
    inputs: dict[str, Any] = {"job_id": job.task_id, "deployment_version": job.version,
                              "environment": job.environment, "resource_identifier": job.resource, **extra}
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in inputs.items()}


def run_result(run: dict[str, Any]) -> AgentResult:
    """Our status for a workflow run (Ctrlplane's mapping of ``conclusion``)."""
    run_id, url = str(run["id"]), run.get("html_url", "")
    outputs = {"html_url": url, "run_id": run_id}
    if run.get("status") != "completed":
        return AgentResult("in_progress", f"workflow run {run_id} is {run.get('status', 'queued')}",
                           external_id=run_id, outputs=outputs)
    conclusion = run.get("conclusion") or ""
    status = CONCLUSIONS.get(conclusion, "failed")
    return AgentResult(status, f"workflow run {run_id} concluded {conclusion or 'without a conclusion'}: {url}",
                       external_id=run_id, outputs=outputs)
