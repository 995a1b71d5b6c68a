"""A fake Terraform Cloud API (JSON:API): workspaces by organization and name, workspace
variables (sensitive values are write-only), and runs that move one status per GET through
pending → planning → planned → applying → applied (or stop at ``planned`` without auto-apply,
or end in ``final``)."""

from __future__ import annotations

from typing import Any, ClassVar

from tests.fakes.service import FakeService, Recorded

MEDIA_TYPE = "application/vnd.api+json"
ORG = r"/api/v2/organizations/(?P<org>[^/]+)/workspaces"
VARS = r"/api/v2/workspaces/(?P<ws_id>[^/]+)/vars"


class FakeTerraformCloud(FakeService):
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("GET", ORG + r"/(?P<name>[^/]+)", "get_workspace"),
        ("POST", ORG, "create_workspace"),
        ("PATCH", ORG + r"/(?P<name>[^/]+)", "update_workspace"),
        ("GET", VARS, "list_vars"),
        ("POST", VARS, "create_var"),
        ("PATCH", VARS + r"/(?P<var_id>[^/]+)", "update_var"),
        ("POST", r"/api/v2/runs", "create_run"),
        ("GET", r"/api/v2/runs/(?P<run_id>[^/]+)", "get_run"),
    ]

    def __init__(self, token: str, organization: str = "acme"):
        super().__init__(token)
        self.organization = organization
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.vars: dict[str, dict[str, Any]] = {}  # var id -> {workspace, attributes}
        self.runs: dict[str, dict[str, Any]] = {}
        self.final: str | None = None  # e.g. "errored": the run ends there after planning

    def dispatch(self, request: Recorded):
        if request.method in ("POST", "PATCH") and request.headers.get("content-type") != MEDIA_TYPE:
            self.requests.append(request)
            return 415, {"errors": [{"status": "415", "title": "invalid content type"}]}
        return super().dispatch(request)

    def get_workspace(self, request: Recorded, org: str, name: str):
        if org != self.organization or name not in self.workspaces:
            return 404, {"errors": [{"status": "404", "title": "not found"}]}
        return 200, {"data": self.workspaces[name]}

    def create_workspace(self, request: Recorded, org: str):
        if org != self.organization:
            return 404, {"errors": [{"status": "404", "title": "not found"}]}
        attributes = request.json["data"]["attributes"]
        name = attributes["name"]
        self.workspaces[name] = {"id": f"ws-{len(self.workspaces) + 1}", "type": "workspaces",
                                 "attributes": {"auto-apply": False, "working-directory": "", **attributes}}
        return 201, {"data": self.workspaces[name]}

    def update_workspace(self, request: Recorded, org: str, name: str):
        if org != self.organization or name not in self.workspaces:
            return 404, {"errors": [{"status": "404", "title": "not found"}]}
        self.workspaces[name]["attributes"].update(request.json["data"]["attributes"])
        return 200, {"data": self.workspaces[name]}

    def list_vars(self, request: Recorded, ws_id: str):
        found = [self._var(var_id) for var_id, v in self.vars.items() if v["workspace"] == ws_id]
        return 200, {"data": found}

    def create_var(self, request: Recorded, ws_id: str):
        attributes = request.json["data"]["attributes"]
        if any(v["workspace"] == ws_id and v["attributes"]["key"] == attributes["key"]
               and v["attributes"]["category"] == attributes["category"] for v in self.vars.values()):
            return 422, {"errors": [{"status": "422", "detail": "Key has already been taken"}]}
        var_id = f"var-{len(self.vars) + 1}"
        self.vars[var_id] = {"workspace": ws_id, "attributes": dict(attributes)}
        return 201, {"data": self._var(var_id)}

    def update_var(self, request: Recorded, ws_id: str, var_id: str):
        if var_id not in self.vars:
            return 404, {"errors": [{"status": "404", "title": "not found"}]}
        self.vars[var_id]["attributes"].update(request.json["data"]["attributes"])
        return 200, {"data": self._var(var_id)}

    def create_run(self, request: Recorded):
        data = request.json["data"]
        ws_id = data["relationships"]["workspace"]["data"]["id"]
        attributes = data.get("attributes", {})
        states = ["pending", "planning", "planned"]
        states += [self.final] if self.final else (["applying", "applied"] if attributes.get("auto-apply") else [])
        run_id = f"run-{len(self.runs) + 1}"
        self.runs[run_id] = {"workspace": ws_id, "attributes": {**attributes, "status": "pending"}, "states": states}
        return 201, {"data": {"id": run_id, "type": "runs", "attributes": self.runs[run_id]["attributes"]}}

    def get_run(self, request: Recorded, run_id: str):
        run = self.runs.get(run_id)
        if run is None:
            return 404, {"errors": [{"status": "404", "title": "not found"}]}
        states, status = run["states"], run["attributes"]["status"]
        if states.index(status) < len(states) - 1:
            run["attributes"]["status"] = states[states.index(status) + 1]
        return 200, {"data": {"id": run_id, "type": "runs", "attributes": run["attributes"]}}

    def _var(self, var_id: str) -> dict[str, Any]:
        attributes = dict(self.vars[var_id]["attributes"])
        if attributes.get("sensitive"):
            attributes["value"] = None
        return {"id": var_id, "type": "vars", "attributes": attributes}
