"""The ``argocd`` agent: upserts an Argo CD Application through the Argo CD API, syncs it and
follows it until it is Synced and Healthy.

``template`` is the Application (YAML/JSON text or a mapping) already rendered by the engine; it
is data here. Its name is sanitised to a Kubernetes name. Dispatch: ``GET`` the application,
then ``POST /api/v1/applications`` (new) or ``PUT /api/v1/applications/{name}`` (existing), then
``POST .../{name}/sync``; the external id is the application name. ``poll``: a running sync
operation is ``in_progress``; a failed one is ``failed``; then Synced + Healthy is ``done`` and
Degraded or Missing is ``failed``. Uninstall deletes the application with ``cascade=true``
(synchronously). Asynchronous.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pydantic import Field, field_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.errors import TerminalError
from reconciler.executors import httpclient
from reconciler.executors.base import Agent, AgentConfig, AgentResult, ExecContext, Job
from reconciler.executors.builtin.kubernetes import k8s_name
from reconciler.models.common import Duration

FAILED_HEALTH = ("Degraded", "Missing")
FAILED_PHASES = ("Failed", "Error")


class ArgoCdConfig(AgentConfig):
    type: str = "argocd"
    serverUrl: str = Field(min_length=1, description="Argo CD server URL, e.g. https://argocd.example.com.")
    tokenEnv: str = Field("ARGOCD_TOKEN", description="Environment variable holding an Argo CD API token.")
    template: str | dict[str, Any] = Field(description="The Application (YAML/JSON text or a mapping) with "
                                                       "metadata.name and spec.")
    insecure: bool = Field(False, description="Skip TLS certificate verification (self-signed servers).")
    prune: bool = Field(False, description="Prune resources no longer in the source when syncing.")
    pollInterval: Duration = Field(10.0, description="Seconds between two status checks (Agent.poll_interval).")
    timeout: Duration = Field(30.0, description="Timeout of each API request.")

    @field_validator("template")
    @classmethod
    def _application(cls, value: str | dict[str, Any]) -> str | dict[str, Any]:
        parse_application(value)
        return value


def parse_application(template: str | dict[str, Any]) -> dict[str, Any]:
    """The Application mapping from ``template``; ValueError says what is missing."""
    app = template
    if isinstance(template, str):
        try:
            app = YAML(typ="safe").load(template)
        except YAMLError as exc:
            raise ValueError(f"template is not valid YAML or JSON: {str(exc).splitlines()[0]}") from exc
    if not isinstance(app, dict) or not isinstance(app.get("metadata"), dict) or not app["metadata"].get("name"):
        raise ValueError("template must be an Application with metadata.name")
    if not isinstance(app.get("spec"), dict):
        raise ValueError("template must be an Application with a spec")  # noqa: TRY004 - pydantic wants ValueError
    plain: dict[str, Any] = json.loads(json.dumps(app))  # plain dicts, ready to send
    return plain


class ArgoCdAgent(Agent):
    type = "argocd"
    Config = ArgoCdConfig
    asynchronous = True
    placement_fields: ClassVar[tuple[str, ...]] = ("serverUrl",)

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        app = self._application()
        name = app["metadata"]["name"]
        with self._client() as client:
            if job.operation == "uninstall":
                client.request("DELETE", f"/api/v1/applications/{name}", params={"cascade": "true"},
                               what=f"application {name}", missing_ok=True)
                return AgentResult("done", f"application {name} deleted", outputs={"application": name})
            existing = client.json("GET", f"/api/v1/applications/{name}", what=f"application {name}",
                                   missing_ok=True)
            if existing is None:
                client.request("POST", "/api/v1/applications", json=app, what=f"application {name}")
            else:
                client.request("PUT", f"/api/v1/applications/{name}", json=app, what=f"application {name}")
            if ctx.cancel_requested is not None and ctx.cancel_requested():
                return AgentResult("canceled", f"canceled after updating application {name}; no sync was started")
            client.request("POST", f"/api/v1/applications/{name}/sync", what=f"application {name}",
                           json={"prune": self.config.prune})  # type: ignore[attr-defined]
        verb = "created" if existing is None else "updated"
        return AgentResult("in_progress", f"application {name} {verb}; sync started", external_id=name,
                           outputs={"application": name, "url": self._app_url(name)})

    def poll(self, job: Job, ctx: ExecContext) -> AgentResult:
        name = job.external_id or self._application()["metadata"]["name"]
        with self._client() as client:
            app = client.json("GET", f"/api/v1/applications/{name}", what=f"application {name}") or {}
        result = application_result(name, app.get("status") or {})
        result.external_id, result.outputs = name, {"application": name, "url": self._app_url(name)}
        return result

    def _application(self) -> dict[str, Any]:
        try:
            app = parse_application(self.config.template)  # type: ignore[attr-defined]
        except ValueError as exc:
            raise TerminalError(f"invalid argocd template: {exc}") from exc
        app["metadata"]["name"] = k8s_name(str(app["metadata"]["name"]), limit=253)
        return app

    def _client(self) -> httpclient.HttpClient:
        cfg: ArgoCdConfig = self.config  # type: ignore[assignment]
        token = httpclient.env_secret(cfg.tokenEnv, "Argo CD API token")
        return httpclient.HttpClient(cfg.serverUrl, token=token, token_env=cfg.tokenEnv, timeout=cfg.timeout,
                                     verify=not cfg.insecure)

    def _app_url(self, name: str) -> str:
        return f"{self.config.serverUrl.rstrip('/')}/applications/{name}"  # type: ignore[attr-defined]


def application_result(name: str, status: dict[str, Any]) -> AgentResult:
    """Our status for an Application's ``status``: the sync operation first, then sync + health."""
    operation = status.get("operationState") or {}
    phase = operation.get("phase")
    sync = (status.get("sync") or {}).get("status", "Unknown")
    health = (status.get("health") or {}).get("status", "Unknown")
    if phase in ("Running", "Terminating"):
        return AgentResult("in_progress", f"application {name}: sync {phase.lower()}")
    if phase in FAILED_PHASES:
        detail = operation.get("message", "")
        return AgentResult("failed", f"application {name}: sync {phase.lower()}" + (f": {detail}" if detail else ""))
    if sync == "Synced" and health == "Healthy":
        return AgentResult("done", f"application {name} is Synced and Healthy")
    if health in FAILED_HEALTH:
        return AgentResult("failed", f"application {name} is {health} ({sync})")
    return AgentResult("in_progress", f"application {name} is {sync} and {health}")
