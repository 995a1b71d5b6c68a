"""The argocd agent against a fake Argo CD API on 127.0.0.1 (tests/fakes/argocd.py)."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from reconciler.errors import TerminalError, TransientError
from reconciler.executors import registry
from tests.executors.conftest import TOKEN, make_agent, make_job

TEMPLATE = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: API_prod/eu-1
  namespace: argocd
spec:
  project: default
  source: {repoURL: 'https://git.example/deploy.git', path: api, targetRevision: v1.2.3}
  destination: {server: 'https://kubernetes.default.svc', namespace: api}
"""


def argo(argocd, ctx, operation="install", **extra):
    config = {"type": "argocd", "serverUrl": argocd.url, "template": TEMPLATE, **extra}
    agent = make_agent(config)
    job = make_job(config, operation=operation)
    return agent, job, agent.dispatch(job, ctx)


def poll_until_settled(agent, job, ctx, first, limit=10):
    statuses = [first.status]
    job = dataclasses.replace(job, external_id=first.external_id)
    while statuses[-1] == "in_progress" and len(statuses) < limit:
        statuses.append(agent.poll(job, ctx).status)
    return statuses


def test_creates_syncs_and_waits_for_synced_and_healthy(argocd, ctx):
    agent, job, result = argo(argocd, ctx)
    assert (result.status, result.external_id) == ("in_progress", "api-prod-eu-1")
    assert result.outputs["url"] == f"{argocd.url}/applications/api-prod-eu-1"
    created = argocd.calls("POST", "/api/v1/applications")[0].json
    assert created["metadata"]["name"] == "api-prod-eu-1"
    assert created["spec"]["source"]["targetRevision"] == "v1.2.3"
    assert argocd.calls("POST", "/sync")[0].json == {"prune": False}
    assert poll_until_settled(agent, job, ctx, result) == ["in_progress", "in_progress", "done"]


def test_an_existing_application_is_updated_with_put(argocd, ctx):
    argo(argocd, ctx)
    result = argo(argocd, ctx, template=TEMPLATE.replace("v1.2.3", "v1.3.0"), prune=True)[2]
    assert [r.method for r in argocd.requests[-3:]] == ["GET", "PUT", "POST"]
    assert argocd.apps["api-prod-eu-1"]["spec"]["source"]["targetRevision"] == "v1.3.0"
    assert argocd.calls("POST", "/sync")[-1].json == {"prune": True}
    assert "updated" in result.message


def test_template_as_a_mapping(argocd, ctx):
    template = {"metadata": {"name": "web"}, "spec": {"project": "default"}}
    assert argo(argocd, ctx, template=template)[2].external_id == "web"


@pytest.mark.parametrize("health", ["Degraded", "Missing"])
def test_degraded_or_missing_after_sync_fails(argocd, ctx, health):
    argocd.health_after_sync = health
    agent, job, result = argo(argocd, ctx)
    assert poll_until_settled(agent, job, ctx, result)[-1] == "failed"


def test_a_failed_sync_operation_fails(argocd, ctx):
    argocd.sync_phase = "Failed"
    agent, job, _ = argo(argocd, ctx)
    final = agent.poll(dataclasses.replace(job, external_id="api-prod-eu-1"), ctx)
    final = agent.poll(dataclasses.replace(job, external_id="api-prod-eu-1"), ctx)
    assert final.status == "failed" and "objects failed to apply" in final.message


def test_uninstall_deletes_with_cascade_and_tolerates_absence(argocd, ctx):
    argo(argocd, ctx)
    result = argo(argocd, ctx, operation="uninstall")[2]
    assert result.status == "done" and "api-prod-eu-1" not in argocd.apps
    assert argocd.calls("DELETE")[0].query == {"cascade": "true"}
    assert argo(argocd, ctx, operation="uninstall")[2].status == "done"


def test_errors(argocd, ctx, monkeypatch):
    argocd.fail(503, times=1, path="/sync")
    assert argo(argocd, ctx)[2].status == "in_progress"  # retried
    argocd.fail(503, times=100)
    with pytest.raises(TransientError):
        argo(argocd, ctx)
    argocd.faults.clear()
    argocd.stall(1.5, times=3)
    with pytest.raises(TransientError, match="no response within 0.3s"):
        argo(argocd, ctx, timeout=0.3)
    monkeypatch.setenv("ARGOCD_TOKEN", "expired")
    with pytest.raises(TerminalError, match="authentication failed: check ARGOCD_TOKEN") as info:
        argo(argocd, ctx)
    assert "expired" not in str(info.value)


def test_poll_of_a_deleted_application_is_terminal(argocd, ctx):
    agent, job, _ = argo(argocd, ctx)
    argocd.apps.clear()
    with pytest.raises(TerminalError, match="application api-prod-eu-1 not found"):
        agent.poll(dataclasses.replace(job, external_id="api-prod-eu-1"), ctx)


@pytest.mark.parametrize("template, error", [
    ("kind: [", "not valid YAML"),
    ("metadata: {}\nspec: {}", "metadata.name"),
    ({"metadata": {"name": "x"}}, "with a spec"),
])
def test_template_is_validated(template, error):
    with pytest.raises(ValidationError, match=error):
        registry.validate_config({"type": "argocd", "serverUrl": "https://argo", "template": template})


def test_token_stays_out_of_results(argocd, ctx):
    result = argo(argocd, ctx)[2]
    assert TOKEN not in repr(result) and argocd.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
