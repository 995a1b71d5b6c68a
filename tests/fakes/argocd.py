"""A fake Argo CD API: applications are created, updated, synced and deleted; after a sync the
operation stays Running for ``sync_steps`` GETs, then ends in ``sync_phase`` with the sync status
Synced and the health ``health_after_sync``."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from tests.fakes.service import FakeService, Recorded

APP = r"/api/v1/applications/(?P<name>[^/]+)"


class FakeArgoCd(FakeService):
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("GET", APP, "get_app"),
        ("POST", r"/api/v1/applications", "create_app"),
        ("PUT", APP, "update_app"),
        ("POST", APP + r"/sync", "sync_app"),
        ("DELETE", APP, "delete_app"),
    ]

    def __init__(self, token: str):
        super().__init__(token)
        self.apps: dict[str, dict[str, Any]] = {}
        self.sync_steps = 1
        self.sync_phase = "Succeeded"
        self.health_after_sync = "Healthy"

    def get_app(self, request: Recorded, name: str):
        app = self.apps.get(name)
        if app is None:
            return 404, {"error": f'applications.argoproj.io "{name}" not found', "code": 5}
        operation = app["status"].get("operationState")
        if operation and operation["phase"] == "Running":
            app["_left"] -= 1
            if app["_left"] < 0:
                operation["phase"] = self.sync_phase
                operation["message"] = "successfully synced" if self.sync_phase == "Succeeded" else "one or more "\
                    "objects failed to apply"
                if self.sync_phase == "Succeeded":
                    app["status"]["sync"] = {"status": "Synced"}
                    app["status"]["health"] = {"status": self.health_after_sync}
        return 200, _public(app)

    def create_app(self, request: Recorded):
        body = request.json or {}
        name = (body.get("metadata") or {}).get("name")
        if not name or "spec" not in body:
            return 400, {"error": "application spec is invalid", "code": 3}
        if name in self.apps:
            return 400, {"error": "existing application spec is different; use upsert flag to force update"}
        self.apps[name] = {**copy.deepcopy(body), "status": {"sync": {"status": "OutOfSync"},
                                                             "health": {"status": "Missing"}}, "_left": 0}
        return 200, _public(self.apps[name])

    def update_app(self, request: Recorded, name: str):
        body = request.json or {}
        if name not in self.apps:
            return 404, {"error": f'applications.argoproj.io "{name}" not found', "code": 5}
        if (body.get("metadata") or {}).get("name") != name:
            return 400, {"error": "application name does not match the URL", "code": 3}
        self.apps[name].update(metadata=body["metadata"], spec=body["spec"])
        self.apps[name]["status"]["sync"] = {"status": "OutOfSync"}
        return 200, _public(self.apps[name])

    def sync_app(self, request: Recorded, name: str):
        app = self.apps.get(name)
        if app is None:
            return 404, {"error": f'applications.argoproj.io "{name}" not found', "code": 5}
        app["status"]["operationState"] = {"phase": "Running", "message": "syncing"}
        app["_left"] = self.sync_steps
        return 200, _public(app)

    def delete_app(self, request: Recorded, name: str):
        if self.apps.pop(name, None) is None:
            return 404, {"error": f'applications.argoproj.io "{name}" not found', "code": 5}
        return 200, {}


def _public(app: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in app.items() if not k.startswith("_")}
