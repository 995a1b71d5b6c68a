"""The ``http`` agent: sends the job document to a webhook and reads the outcome from the answer.

``POST url`` (or ``method``) with ``job.payload()`` as JSON, the ``X-Reconciler-Task`` header
and, when ``secretEnv`` is set, ``X-Reconciler-Signature: sha256=<hex HMAC-SHA256 of the body>``.
A 2xx answer ``{"status": "done" | "failed" | ..., "message": ...}`` finishes the task at once;
``{"status": "in_progress", "statusUrl": ...}`` or a configured ``statusUrl`` makes it
asynchronous and ``poll`` GETs that URL (signed over the task id) until a terminal status. With
``callback: true`` the task stays in progress until someone reports the outcome with
``reconciler task update``. A 2xx without a status means done unless there is a status URL.
Asynchronous (it may finish in ``dispatch``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, ClassVar

import httpx
from pydantic import Field, field_validator

from reconciler.executors import httpclient
from reconciler.executors.base import Agent, AgentConfig, AgentResult, ExecContext, Job
from reconciler.models import statuses
from reconciler.models.common import Duration

SIGNATURE_HEADER = "X-Reconciler-Signature"
TASK_HEADER = "X-Reconciler-Task"
METHODS = ("POST", "PUT", "PATCH")


class HttpConfig(AgentConfig):
    type: str = "http"
    url: str = Field(min_length=1, description="Where the job document is sent.")
    method: str = Field("POST", description="POST, PUT or PATCH.")
    secretEnv: str | None = Field(None, description="Environment variable holding the HMAC key that signs "
                                                    "requests (X-Reconciler-Signature).")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra request headers.")
    statusUrl: str | None = Field(None, description="URL polled for the outcome (GET, JSON {status, message}).")
    callback: bool = Field(False, description="Wait for `reconciler task update` instead of polling.")
    pollInterval: Duration = Field(10.0, description="Seconds between two status checks (Agent.poll_interval).")
    timeout: Duration = Field(30.0, description="Timeout of each request.")

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value.upper() not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        return value.upper()


def sign(key: str, data: bytes) -> str:
    """The signature header value receivers check: ``sha256=<hex HMAC-SHA256 of data>``."""
    return "sha256=" + hmac.new(key.encode(), data, hashlib.sha256).hexdigest()


class HttpAgent(Agent):
    type = "http"
    Config = HttpConfig
    asynchronous = True
    placement_fields: ClassVar[tuple[str, ...]] = ()

    def dispatch(self, job: Job, ctx: ExecContext) -> AgentResult:
        cfg: HttpConfig = self.config  # type: ignore[assignment]
        body = json.dumps(job.payload(), sort_keys=True).encode()
        with self._client() as client:
            response = client.request(cfg.method, cfg.url, content=body, what="webhook",
                                      headers=self._headers(job, body, {"Content-Type": "application/json"}))
        answer = _answer(response)
        if cfg.callback:
            return AgentResult("in_progress", "sent; waiting for `reconciler task update` with the outcome")
        status_url = answer.get("statusUrl") or cfg.statusUrl
        word = answer.get("status")
        status = _status(word) if word else ("in_progress" if status_url else "done")
        if status is None:
            return AgentResult("failed", f"the webhook answered an unknown status {str(word)[:40]!r}")
        if status in statuses.TERMINAL:
            return AgentResult(status, str(answer.get("message") or f"webhook answered {status}"))
        if not status_url:
            return AgentResult("failed", f"the webhook answered {status} but gave no statusUrl and no statusUrl "
                                         "is configured")
        return AgentResult(status, str(answer.get("message") or "accepted; polling the status URL"),
                           external_id=status_url)

    def poll(self, job: Job, ctx: ExecContext) -> AgentResult:
        cfg: HttpConfig = self.config  # type: ignore[assignment]
        if cfg.callback:
            return AgentResult("in_progress", "waiting for `reconciler task update` with the outcome")
        url = cfg.statusUrl or job.external_id
        if not url:
            return AgentResult("failed", "no status URL to poll")
        with self._client() as client:
            answer = _answer(client.request("GET", url, what="status URL",
                                            headers=self._headers(job, job.task_id.encode())))
        word = answer.get("status")
        status = _status(word)
        if status is None:
            return AgentResult("failed", f"the status URL answered an unknown status {str(word)[:40]!r}",
                               external_id=job.external_id)
        return AgentResult(status, str(answer.get("message") or f"status URL says {status}"),
                           external_id=job.external_id)

    def _headers(self, job: Job, signed: bytes, extra: dict[str, str] | None = None) -> dict[str, str]:
        cfg: HttpConfig = self.config  # type: ignore[assignment]
        headers = {**cfg.headers, **(extra or {}), TASK_HEADER: job.task_id}
        if cfg.secretEnv:
            headers[SIGNATURE_HEADER] = sign(httpclient.env_secret(cfg.secretEnv, "webhook signing key"), signed)
        return headers

    def _client(self) -> httpclient.HttpClient:
        cfg: HttpConfig = self.config  # type: ignore[assignment]
        return httpclient.HttpClient("", timeout=cfg.timeout, token_env=cfg.secretEnv or "")


def _answer(response: httpx.Response | None) -> dict[str, Any]:
    """The JSON object in a response, or {} (an empty or non-JSON 2xx body carries no status)."""
    if response is None or not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _status(value: Any) -> str | None:
    """Our status for the receiver's word (queued/pending count as in progress); None when unknown."""
    try:
        status = statuses.normalize_status(str(value))
    except ValueError:
        return None
    return status if status in statuses.TERMINAL or status == statuses.TRIGGERED else statuses.IN_PROGRESS
