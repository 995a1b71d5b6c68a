"""A fake GitHub Actions API: workflow_dispatch creates a run named by its ``run-name`` (with the
``job_id`` input), listing honours ``event`` and ``created=>=``, and each GET of a run moves it
queued → in_progress → completed with the chosen conclusion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from tests.fakes.service import FakeService, Recorded

REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions"
SEED_INPUTS = ("job_id", "deployment_version", "environment", "resource_identifier")


class FakeGitHub(FakeService):
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", REPO + r"/workflows/(?P<workflow>[^/]+)/dispatches", "dispatch_workflow"),
        ("GET", REPO + r"/runs", "list_runs"),
        ("GET", REPO + r"/runs/(?P<run_id>\d+)", "get_run"),
        ("POST", REPO + r"/runs/(?P<run_id>\d+)/cancel", "cancel_run"),
    ]

    def __init__(self, token: str, repo: str = "acme/api", workflows: dict[str, tuple[str, ...]] | None = None):
        super().__init__(token)
        self.repo = repo
        self.workflows = workflows or {"deploy.yml": SEED_INPUTS, "teardown.yml": SEED_INPUTS}
        self.runs: dict[int, dict[str, Any]] = {}
        self.conclusion = "success"
        self.hidden_lists = 0  # list calls during which a new run is not visible yet (GitHub's lag)
        self.run_name = "Deploy {job_id}"

    def add_run(self, name: str, event: str = "workflow_dispatch", status: str = "completed",
                conclusion: str | None = "success") -> dict[str, Any]:
        run_id = 9000 + len(self.runs)
        run = {"id": run_id, "name": name, "display_title": name, "event": event, "status": status,
               "conclusion": conclusion, "created_at": _now(), "workflow": "",
               "html_url": f"https://github.example/{self.repo}/actions/runs/{run_id}",
               "_states": [status], "_hidden": 0}
        self.runs[run_id] = run
        return run

    def dispatch_workflow(self, request: Recorded, owner: str, repo: str, workflow: str):
        if f"{owner}/{repo}" != self.repo or workflow not in self.workflows:
            return 404, {"message": "Not Found"}
        body = request.json or {}
        if "ref" not in body:
            return 422, {"message": "Invalid request. \"ref\" wasn't supplied."}
        unexpected = sorted(set(body.get("inputs", {})) - set(self.workflows[workflow]))
        if unexpected:
            return 422, {"message": f"Unexpected inputs provided: {unexpected}"}
        run = self.add_run(self.run_name.format(**body.get("inputs", {})), status="queued", conclusion=None)
        run.update(workflow=workflow, _states=["queued", "in_progress", "completed"], _hidden=self.hidden_lists,
                   _inputs=body.get("inputs", {}), _ref=body["ref"])
        return 204, None

    def list_runs(self, request: Recorded, owner: str, repo: str):
        since = request.query.get("created", ">=1970-01-01T00:00:00Z").removeprefix(">=")
        found = []
        for run in sorted(self.runs.values(), key=lambda r: r["id"], reverse=True):
            if run["_hidden"] > 0:
                run["_hidden"] -= 1
                continue
            if request.query.get("event", run["event"]) == run["event"] and run["created_at"] >= since:
                found.append(_public(run))
        return 200, {"total_count": len(found), "workflow_runs": found}

    def get_run(self, request: Recorded, owner: str, repo: str, run_id: str):
        run = self.runs.get(int(run_id))
        if run is None:
            return 404, {"message": "Not Found"}
        states = run["_states"]
        if states.index(run["status"]) < len(states) - 1:
            run["status"] = states[states.index(run["status"]) + 1]
            if run["status"] == "completed":
                run["conclusion"] = self.conclusion
        return 200, _public(run)

    def cancel_run(self, request: Recorded, owner: str, repo: str, run_id: str):
        run = self.runs[int(run_id)]
        run.update(status="completed", conclusion="cancelled", _states=["completed"])
        return 202, {}


def _public(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if not k.startswith("_")}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
