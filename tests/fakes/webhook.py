"""A fake webhook receiver for the http agent: it checks the HMAC signature, records the job,
and answers according to ``mode`` — ``done``, ``failed``, ``async`` (202 with a statusUrl that
reports in_progress then done, or what ``script`` lists for the job's resource), ``empty`` (204) or ``weird`` (an unknown status word)."""

from __future__ import annotations

import hashlib
import hmac
from typing import ClassVar

from tests.fakes.service import FakeService, Recorded


class FakeWebhook(FakeService):
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("POST", r"/deploy", "receive"),
        ("GET", r"/status/(?P<task>[^/]+)", "status"),
    ]

    def __init__(self, secret: str | None):
        super().__init__(None)
        self.secret = secret
        self.mode = "done"
        self.progress: dict[str, list[str]] = {}
        self.script: dict[str, list[str]] = {}  # resource or resource@version -> its status URL's answers

    def _signed(self, request: Recorded, data: bytes) -> bool:
        if self.secret is None:
            return True
        expected = "sha256=" + hmac.new(self.secret.encode(), data, hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.headers.get("x-reconciler-signature", ""), expected)

    def receive(self, request: Recorded):
        if not self._signed(request, request.raw):
            return 401, {"message": "bad signature"}
        task = request.headers["x-reconciler-task"]
        if self.mode == "async":
            job = request.json or {}
            steps = self.script.get(f"{job.get('resource')}@{job.get('version')}") or self.script.get(job.get("resource"))
            self.progress[task] = list(steps or ["in_progress", "done"])
            return 202, {"status": "in_progress", "statusUrl": f"{self.url}/status/{task}"}
        if self.mode == "empty":
            return 204, None
        if self.mode == "weird":
            return 200, {"status": "exploded"}
        return 200, {"status": self.mode, "message": f"receiver says {self.mode}"}

    def status(self, request: Recorded, task: str):
        if not self._signed(request, request.headers.get("x-reconciler-task", "").encode()):
            return 401, {"message": "bad signature"}
        steps = self.progress.setdefault(task, ["in_progress", "done"])
        state = steps.pop(0) if len(steps) > 1 else steps[0]
        return 200, {"status": state, "message": f"deploy {state}"}
