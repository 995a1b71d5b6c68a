"""The http agent against a fake webhook receiver on 127.0.0.1 that checks the HMAC signature."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json

import pytest
from pydantic import ValidationError

from reconciler.errors import TerminalError, TransientError
from reconciler.executors import registry
from reconciler.executors.builtin.http import sign
from tests.executors.conftest import make_agent, make_job


def send(webhook, ctx, **extra):
    config = {"type": "http", "url": f"{webhook.url}/deploy", "secretEnv": "HOOK_SECRET", **extra}
    agent = make_agent(config)
    job = make_job(config)
    return agent, job, agent.dispatch(job, ctx)


def test_posts_the_signed_job_and_finishes_synchronously(webhook, ctx):
    _, job, result = send(webhook, ctx, headers={"X-Team": "payments"})
    request = webhook.requests[0]
    expected = "sha256=" + hmac.new(b"hmac-key-123", request.raw, hashlib.sha256).hexdigest()
    assert (result.status, result.message) == ("done", "receiver says done")
    assert request.headers["x-reconciler-signature"] == expected
    assert request.headers["x-reconciler-task"] == "t0123456789abcdef"
    assert request.headers["x-team"] == "payments" and request.headers["content-type"] == "application/json"
    assert json.loads(request.raw) == json.loads(json.dumps(job.payload()))


def test_a_failed_answer_fails_the_task(webhook, ctx):
    webhook.mode = "failed"
    assert send(webhook, ctx)[2].status == "failed"


def test_an_empty_2xx_is_done(webhook, ctx):
    webhook.mode = "empty"
    assert send(webhook, ctx)[2].status == "done"


def test_an_unknown_status_word_fails(webhook, ctx):
    webhook.mode = "weird"
    result = send(webhook, ctx)[2]
    assert result.status == "failed" and "'exploded'" in result.message


def test_in_progress_answer_is_polled_at_its_status_url(webhook, ctx):
    webhook.mode = "async"
    agent, job, result = send(webhook, ctx)
    assert (result.status, result.external_id) == ("in_progress", f"{webhook.url}/status/t0123456789abcdef")
    job = dataclasses.replace(job, external_id=result.external_id)
    assert [agent.poll(job, ctx).status for _ in range(2)] == ["in_progress", "done"]
    poll = webhook.calls("GET")[0]
    assert poll.headers["x-reconciler-signature"] == sign("hmac-key-123", b"t0123456789abcdef")


def test_a_configured_status_url_makes_it_asynchronous(webhook, ctx):
    webhook.mode = "empty"
    agent, job, result = send(webhook, ctx, statusUrl=f"{webhook.url}/status/abc")
    assert result.status == "in_progress"
    assert agent.poll(job, ctx).status == "in_progress"
    assert agent.poll(job, ctx).status == "done"
    assert [r.path for r in webhook.calls("GET")] == ["/status/abc", "/status/abc"]


def test_callback_mode_waits_for_task_update(webhook, ctx):
    agent, job, result = send(webhook, ctx, callback=True)
    assert result.status == "in_progress" and "reconciler task update" in result.message
    assert agent.poll(job, ctx).status == "in_progress"
    assert webhook.calls("GET") == []


def test_a_wrong_or_missing_key(webhook, ctx, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", "guessed")
    with pytest.raises(TerminalError, match="authentication failed: check HOOK_SECRET") as info:
        send(webhook, ctx)
    assert "guessed" not in str(info.value)
    monkeypatch.delenv("HOOK_SECRET")
    with pytest.raises(TerminalError, match="HOOK_SECRET is not set"):
        send(webhook, ctx)
    assert len(webhook.requests) == 1


def test_unknown_url_5xx_and_timeouts(webhook, ctx):
    with pytest.raises(TerminalError, match="webhook not found"):
        send(webhook, ctx, url=f"{webhook.url}/nowhere")
    webhook.fail(500, times=2)
    assert send(webhook, ctx)[2].status == "done"
    webhook.fail(500, times=100)
    with pytest.raises(TransientError, match="POST webhook: HTTP 500 after 3 tries"):
        send(webhook, ctx)
    webhook.faults.clear()
    webhook.stall(1.5, times=3)
    with pytest.raises(TransientError, match="no response within 0.3s"):
        send(webhook, ctx, timeout=0.3)


def test_method_is_validated():
    with pytest.raises(ValidationError, match="method must be one of"):
        registry.validate_config({"type": "http", "url": "https://x", "method": "GET"})
    assert registry.validate_config({"type": "http", "url": "https://x", "method": "put"}).method == "PUT"
