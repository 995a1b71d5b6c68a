"""The terraform-cloud agent against a fake Terraform Cloud API on 127.0.0.1 (tests/fakes/tfe.py)."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import ValidationError

from reconciler.errors import TerminalError, TransientError
from reconciler.executors import registry
from tests.executors.conftest import make_agent, make_job

VARIABLES = {"image_tag": "v1.2.3", "replicas": 3,
             "db_password": {"value": "hunter2-secret", "sensitive": True},
             "TF_LOG": {"value": "info", "category": "env"}}


def tfc(tfe, ctx, operation="install", **extra):
    config = {"type": "terraform-cloud", "address": tfe.url, "organization": "acme", "workspace": "api-prod",
              "variables": VARIABLES, **extra}
    agent = make_agent(config)
    job = make_job(config, operation=operation)
    return agent, job, agent.dispatch(job, ctx)


def settle(agent, job, ctx, first, limit=10):
    results = [first]
    job = dataclasses.replace(job, external_id=first.external_id)
    while results[-1].status == "in_progress" and len(results) < limit:
        results.append(agent.poll(job, ctx))
    return results


def test_creates_the_workspace_sets_variables_and_runs_to_applied(tfe, ctx):
    agent, job, result = tfc(tfe, ctx, workingDirectory="infra/api")
    assert (result.status, result.external_id) == ("in_progress", "run-1")
    assert tfe.workspaces["api-prod"]["attributes"]["auto-apply"] is True
    assert tfe.workspaces["api-prod"]["attributes"]["working-directory"] == "infra/api"
    stored = {v["attributes"]["key"]: v["attributes"] for v in tfe.vars.values()}
    assert stored["replicas"]["value"] == "3" and stored["TF_LOG"]["category"] == "env"
    assert stored["db_password"]["sensitive"] is True
    run = tfe.calls("POST", "/api/v2/runs")[0].json["data"]
    assert run["relationships"]["workspace"]["data"] == {"type": "workspaces", "id": "ws-1"}
    assert run["attributes"]["is-destroy"] is False and "t0123456789abcdef" in run["attributes"]["message"]
    statuses = [r.message.rsplit(" ", 1)[-1] for r in settle(agent, job, ctx, result)[1:]]
    assert statuses == ["planning", "planned", "applying", "applied"]
    assert result.outputs["html_url"].endswith("/app/acme/workspaces/api-prod/runs/run-1")


def test_every_write_uses_the_json_api_media_type(tfe, ctx):
    tfc(tfe, ctx)
    assert {r.headers["content-type"] for r in tfe.requests if r.method in ("POST", "PATCH")} == \
        {"application/vnd.api+json"}


def test_a_second_run_updates_only_what_changed(tfe, ctx):
    tfc(tfe, ctx)
    tfe.requests.clear()
    tfc(tfe, ctx, autoApply=False, variables={**VARIABLES, "image_tag": "v1.3.0"})
    patched = sorted(r.json["data"]["attributes"].get("key", "workspace") for r in tfe.calls("PATCH"))
    assert patched == ["db_password", "image_tag", "workspace"]  # sensitive values are always re-sent
    assert tfe.calls("POST", "/vars") == [] and len(tfe.vars) == 4
    assert tfe.workspaces["api-prod"]["attributes"]["auto-apply"] is False


def test_without_auto_apply_the_run_waits_for_confirmation(tfe, ctx):
    agent, job, result = tfc(tfe, ctx, autoApply=False)
    final = settle(agent, job, ctx, result, limit=6)[-1]
    assert (final.status, final.message) == ("in_progress", "run run-1 is planned")


@pytest.mark.parametrize("final, status", [("errored", "failed"), ("discarded", "failed"),
                                           ("canceled", "canceled"), ("force_canceled", "canceled"),
                                           ("planned_and_finished", "done")])
def test_final_run_statuses(tfe, ctx, final, status):
    tfe.final = final
    agent, job, result = tfc(tfe, ctx)
    assert settle(agent, job, ctx, result)[-1].status == status


def test_uninstall_queues_a_destroy_run(tfe, ctx):
    result = tfc(tfe, ctx, operation="uninstall")[2]
    assert tfe.calls("POST", "/api/v2/runs")[0].json["data"]["attributes"]["is-destroy"] is True
    assert "destroy run" in result.message


def test_sensitive_values_never_appear_in_results_or_errors(tfe, ctx):
    agent, job, result = tfc(tfe, ctx)
    results = settle(agent, job, ctx, result)
    assert "hunter2-secret" not in repr(results)
    tfe.fail(422, path="/vars")
    with pytest.raises(TerminalError) as info:
        tfc(tfe, ctx, workspace="other")
    assert "hunter2-secret" not in str(info.value) and "variable" in str(info.value)


def test_unknown_organization_and_bad_token(tfe, ctx, monkeypatch):
    with pytest.raises(TerminalError, match="workspace api-prod in organization nobody not found"):
        tfc(tfe, ctx, organization="nobody")
    monkeypatch.setenv("TFE_TOKEN", "nope")
    with pytest.raises(TerminalError, match="authentication failed: check TFE_TOKEN"):
        tfc(tfe, ctx)


def test_5xx_is_retried_then_transient(tfe, ctx):
    tfe.fail(500, times=2, path="/api/v2/runs")
    assert tfc(tfe, ctx)[2].status == "in_progress"
    tfe.fail(503, times=100)
    with pytest.raises(TransientError, match="after 3 tries"):
        tfc(tfe, ctx)


def test_a_slow_api_times_out(tfe, ctx):
    tfe.stall(1.5, times=3)
    with pytest.raises(TransientError, match="no response"):
        tfc(tfe, ctx, timeout="300ms")


def test_variables_are_validated():
    with pytest.raises(ValidationError, match="Input should be 'terraform' or 'env'"):
        registry.validate_config({"type": "terraform-cloud", "organization": "o", "workspace": "w",
                                  "variables": {"x": {"value": "1", "category": "shell"}}})
