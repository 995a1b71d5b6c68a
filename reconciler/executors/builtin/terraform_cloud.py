"""The ``terraform-cloud`` agent: prepares a Terraform Cloud / Enterprise workspace, queues a run
and follows it to the end.

Dispatch: create or update the workspace (``auto-apply``, ``working-directory``), upsert the
variables (sensitive ones are write-only on the server, so they are always re-sent), then
``POST /api/v2/runs``; uninstall queues a destroy run. The external id is the run id. ``poll``
maps the run status: applied/planned_and_finished → done, errored/discarded → failed,
canceled/force_canceled → canceled, anything else → in_progress. JSON:API bodies with
``application/vnd.api+json``. Sensitive values never appear in messages. Asynchronous.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reconciler.executors import httpclient
from reconciler.executors.base import Agent, AgentConfig, AgentResult, ExecContext, Job
from reconciler.models.common import Duration

MEDIA_TYPE = "application/vnd.api+json"
RUN_STATUS = {"applied": "done", "planned_and_finished": "done", "errored": "failed", "discarded": "failed",
              "canceled": "canceled", "force_canceled": "canceled"}


class TfeVariable(BaseModel):
    """A workspace variable; a plain value is shorthand for ``{value: ...}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str = Field(description="The value; non-string values are sent as JSON (use hcl for HCL).")
    sensitive: bool = Field(False, description="Write-only on the server; never shown or logged.")
    category: Literal["terraform", "env"] = Field("terraform", description="Terraform variable or environment "
                                                                           "variable of the run.")
    hcl: bool = Field(False, description="Parse the value as HCL.")
    description: str = Field("", description="Shown in the Terraform Cloud UI.")

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)


class TerraformCloudConfig(AgentConfig):
    type: str = "terraform-cloud"
    address: str = Field("https://app.terraform.io", description="Terraform Cloud or Enterprise address.")
    organization: str = Field(min_length=1, description="Organization name.")
    workspace: str = Field(min_length=1, description="Workspace name; created when missing.")
    tokenEnv: str = Field("TFE_TOKEN", description="Environment variable holding an API token.")
    variables: dict[str, TfeVariable] = Field(default_factory=dict, description="Workspace variables to set; "
                                                                                "a value or {value, sensitive, "
                                                                                "category, hcl}.")
    autoApply: bool = Field(True, description="Apply automatically after a successful plan.")
    workingDirectory: str | None = Field(None, description="Directory of the configuration inside the repository.")
    pollInterval: Duration = Field(10.0, description="Seconds between two status checks (Agent.poll_interval).")
    timeout: Duration = Field(30.0, description="Timeout of each API request.")

    @field_validator("variables", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v if isinstance(v, dict) else {"value": v} for k, v in value.items()}
        return value


class TerraformCloudAgent(Agent):
    type = "terraform-cloud"
    Config = TerraformCloudConfig
    asynchronous = True
    placement_fields: ClassVar[tuple[str, ...]] = ("address", "organization", "workspace")

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        cfg: TerraformCloudConfig = self.config  # type: ignore[assignment]
        with self._client() as client:
            workspace_id = self._upsert_workspace(client)
            self._upsert_variables(client, workspace_id)
            if ctx.cancel_requested is not None and ctx.cancel_requested():
                return AgentResult("canceled", f"canceled after preparing workspace {cfg.workspace}; no run queued")
            destroy = job.operation == "uninstall"
            run = client.json("POST", "/api/v2/runs", what=f"run in workspace {cfg.workspace}", json={"data": {
                "type": "runs",
                "attributes": {"message": f"reconciler task {job.task_id} ({job.operation} {job.version})",
                               "is-destroy": destroy, "auto-apply": cfg.autoApply},
                "relationships": {"workspace": {"data": {"type": "workspaces", "id": workspace_id}}}}})
        run_id = run["data"]["id"]
        kind = "destroy run" if destroy else "run"
        return AgentResult("in_progress", f"queued {kind} {run_id} in workspace {cfg.workspace}", external_id=run_id,
                           outputs=self._outputs(run_id, workspace_id))

    def poll(self, job: Job, ctx: ExecContext) -> AgentResult:
        run_id = job.external_id or ""
        with self._client() as client:
            run = client.json("GET", f"/api/v2/runs/{run_id}", what=f"run {run_id}")
        status = run["data"]["attributes"]["status"]
        return AgentResult(RUN_STATUS.get(status, "in_progress"), f"run {run_id} is {status}", external_id=run_id,
                           outputs=self._outputs(run_id))

    def cancel(self, job: Job, ctx: ExecContext) -> None:
        if job.external_id:
            with self._client() as client:
                client.request("POST", f"/api/v2/runs/{job.external_id}/actions/cancel", what=f"run {job.external_id}")

    def _upsert_workspace(self, client: httpclient.HttpClient) -> str:
        cfg: TerraformCloudConfig = self.config  # type: ignore[assignment]
        base = f"/api/v2/organizations/{cfg.organization}/workspaces"
        what = f"workspace {cfg.workspace} in organization {cfg.organization}"
        wanted: dict[str, Any] = {"auto-apply": cfg.autoApply}
        if cfg.workingDirectory is not None:
            wanted["working-directory"] = cfg.workingDirectory
        found = client.json("GET", f"{base}/{cfg.workspace}", what=what, missing_ok=True)
        if found is None:
            body = {"data": {"type": "workspaces", "attributes": {"name": cfg.workspace, **wanted}}}
            return str(client.json("POST", base, json=body, what=what)["data"]["id"])
        attributes = found["data"].get("attributes") or {}
        if any(attributes.get(k) != v for k, v in wanted.items()):
            client.request("PATCH", f"{base}/{cfg.workspace}", json={"data": {"type": "workspaces",
                                                                              "attributes": wanted}}, what=what)
        return str(found["data"]["id"])

    def _upsert_variables(self, client: httpclient.HttpClient, workspace_id: str) -> None:
        cfg: TerraformCloudConfig = self.config  # type: ignore[assignment]
        path = f"/api/v2/workspaces/{workspace_id}/vars"
        listed = client.json("GET", path, what=f"variables of workspace {cfg.workspace}") or {}
        existing = {(v["attributes"]["key"], v["attributes"]["category"]): v for v in listed.get("data") or []}
        for key, var in sorted(cfg.variables.items()):
            attributes = {"key": key, "value": var.value, "category": var.category, "hcl": var.hcl,
                          "sensitive": var.sensitive, "description": var.description}
            what = f"variable {key} of workspace {cfg.workspace}"
            current = existing.get((key, var.category))
            if current is None:
                client.request("POST", path, json={"data": {"type": "vars", "attributes": attributes}}, what=what)
            elif var.sensitive or _differs(current["attributes"], attributes):
                client.request("PATCH", f"{path}/{current['id']}", what=what, json={
                    "data": {"type": "vars", "id": current["id"], "attributes": attributes}})

    def _client(self) -> httpclient.HttpClient:
        cfg: TerraformCloudConfig = self.config  # type: ignore[assignment]
        token = httpclient.env_secret(cfg.tokenEnv, "Terraform Cloud API token")
        return httpclient.HttpClient(cfg.address, token=token, token_env=cfg.tokenEnv, timeout=cfg.timeout,
                                     headers={"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE})

    def _outputs(self, run_id: str, workspace_id: str | None = None) -> dict[str, Any]:
        cfg: TerraformCloudConfig = self.config  # type: ignore[assignment]
        url = f"{cfg.address.rstrip('/')}/app/{cfg.organization}/workspaces/{cfg.workspace}/runs/{run_id}"
        return {"run_id": run_id, "html_url": url, **({"workspace_id": workspace_id} if workspace_id else {})}


def _differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return any(current.get(k) != v for k, v in wanted.items())
