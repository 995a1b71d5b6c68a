"""The github-actions agent against a fake GitHub API on 127.0.0.1 (tests/fakes/github.py)."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import TerminalError, TransientError
from reconciler.executors.base import AgentResult
from tests.executors.conftest import TOKEN, make_agent, make_job


def gh_config(github, **extra) -> dict:
    return {"type": "github-actions", "owner": "acme", "repo": "api", "workflow": "deploy.yml",
            "apiUrl": github.url, **extra}


def start(github, ctx, operation="install", **extra):
    config = gh_config(github, **extra)
    agent = make_agent(config)
    job = make_job(config, operation=operation)
    return agent, job, agent.dispatch(job, ctx)


def follow(agent, job, ctx, first: AgentResult, limit: int = 10) -> list[AgentResult]:
    """Poll like the engine does (with the recorded external id) until a terminal status."""
    results = [first]
    while results[-1].status in ("triggered", "in_progress") and len(results) < limit:
        job = job.__class__(**{**job.__dict__, "external_id": results[-1].external_id or job.external_id})
        results.append(agent.poll(job, ctx))
    return results


def test_dispatches_then_follows_the_run_to_done(github, ctx):
    agent, job, result = start(github, ctx, ref="release")
    assert github.calls("POST", "/dispatches")[0].json["ref"] == "release"
    assert result.status == "in_progress" and result.external_id == "9000"
    assert result.outputs["html_url"] == "https://github.example/acme/api/actions/runs/9000"
    assert [r.status for r in follow(agent, job, ctx, result)] == ["in_progress", "in_progress", "done"]
    listing = github.calls("GET", "/actions/runs")[0]
    assert listing.query["event"] == "workflow_dispatch" and listing.query["created"].startswith(">=")


def test_sends_exactly_the_seed_inputs(github, ctx):
    start(github, ctx)
    assert github.calls("POST", "/dispatches")[0].json == {"ref": "main", "inputs": {
        "job_id": "t0123456789abcdef", "deployment_version": "v1.2.3", "environment": "prod",
        "resource_identifier": "eu-1"}}
    assert github.requests[0].headers["x-github-api-version"] == "2022-11-28"


def test_extra_inputs_go_as_strings(github, ctx):
    github.workflows["deploy.yml"] += ("dry_run", "replicas")
    start(github, ctx, inputs={"dry_run": False, "replicas": 3})
    inputs = github.calls("POST", "/dispatches")[0].json["inputs"]
    assert (inputs["dry_run"], inputs["replicas"]) == ("false", "3")


def test_triggered_until_the_run_shows_up(github, ctx):
    github.hidden_lists = 1
    agent, job, result = start(github, ctx)
    assert (result.status, result.external_id) == ("triggered", None)
    assert "run-name" in result.message
    found = agent.poll(job, ctx)
    assert (found.status, found.external_id) == ("in_progress", "9000")


def test_picks_the_run_named_after_the_task(github, ctx):
    github.add_run("Deploy someone-else")
    github.add_run("Deploy t0123456789abcdef", event="push")
    result = start(github, ctx)[2]
    assert result.external_id == "9002"
    assert github.runs[9002]["_inputs"]["job_id"] == "t0123456789abcdef"


@pytest.mark.parametrize("conclusion, status", [
    ("success", "done"), ("cancelled", "canceled"), ("skipped", "skipped"), ("neutral", "skipped"),
    ("failure", "failed"), ("timed_out", "failed"), ("startup_failure", "failed"),
])
def test_conclusions_map_like_ctrlplane(github, ctx, conclusion, status):
    github.conclusion = conclusion
    agent, job, result = start(github, ctx)
    final = follow(agent, job, ctx, result)[-1]
    assert final.status == status and conclusion in final.message


def test_action_required_stays_in_progress(github, ctx):
    github.conclusion = "action_required"
    agent, job, result = start(github, ctx)
    assert follow(agent, job, ctx, result, limit=5)[-1].status == "in_progress"


def test_uninstall_dispatches_the_uninstall_workflow_or_nothing(github, ctx):
    _, _, result = start(github, ctx, operation="uninstall")
    assert result.status == "done" and github.requests == []
    _, _, result = start(github, ctx, operation="uninstall", uninstallWorkflow="teardown.yml")
    assert result.status == "in_progress"
    assert github.calls("POST")[0].path.endswith("/workflows/teardown.yml/dispatches")


def test_cancel_cancels_the_run(github, ctx):
    agent, job, result = start(github, ctx)
    agent.cancel(job.__class__(**{**job.__dict__, "external_id": result.external_id}), ctx)
    assert github.runs[9000]["conclusion"] == "cancelled"


def test_unknown_workflow_is_terminal(github, ctx):
    with pytest.raises(TerminalError, match="workflow nope.yml in acme/api not found"):
        start(github, ctx, workflow="nope.yml")


def test_undeclared_inputs_show_githubs_message(github, ctx):
    with pytest.raises(TerminalError, match=r"HTTP 422: Unexpected inputs provided: \['colour'\]"):
        start(github, ctx, inputs={"colour": "blue"})


def test_bad_or_missing_token(github, ctx, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "wrong-token")
    with pytest.raises(TerminalError, match="authentication failed: check GITHUB_TOKEN"):
        start(github, ctx)
    monkeypatch.delenv("GITHUB_TOKEN")
    with pytest.raises(TerminalError, match="GITHUB_TOKEN is not set"):
        start(github, ctx)
    monkeypatch.setenv("GH_DEPLOY", TOKEN)
    assert start(github, ctx, tokenEnv="GH_DEPLOY")[2].status == "in_progress"


def test_5xx_on_dispatch_is_retried(github, ctx):
    github.fail(502, times=2, path="/dispatches")
    assert start(github, ctx)[2].status == "in_progress"
    assert len(github.calls("POST", "/dispatches")) == 3


def test_5xx_forever_while_polling_is_transient(github, ctx):
    agent, job, result = start(github, ctx)
    github.fail(500, times=100)
    with pytest.raises(TransientError, match="HTTP 500 after 3 tries"):
        follow(agent, job, ctx, result)


def test_a_slow_api_times_out(github, ctx):
    github.stall(1.5, times=3)
    with pytest.raises(TransientError, match="no response within 0.3s"):
        start(github, ctx, timeout="0.3s")


def test_the_token_never_leaks(github, ctx):
    agent, job, result = start(github, ctx)
    results = follow(agent, job, ctx, result)
    assert TOKEN not in json.dumps([r.__dict__ for r in results])


def test_history_links_to_the_workflow_run(github, cli, tmp_path):
    from tests.conftest import write_files

    write_files(tmp_path, {
        "reconciler.yaml": "workspace: gh\n",
        "system.yaml": "type: System\nname: s\n---\ntype: Environment\nname: prod\nsystem: s\nresourceSelector: 'true'\n",
        "resources.yaml": "type: Resource\nidentifier: eu-1\nname: eu-1\nkind: Host\nversion: v1\n",
        "app.yaml": f"""
            type: JobAgent
            name: gha
            config: {{type: github-actions, owner: acme, repo: api, workflow: deploy.yml, apiUrl: '{github.url}',
                      pollInterval: 0.05}}
            ---
            type: Deployment
            name: api
            system: s
            agent: {{ref: gha}}
            ---
            type: Version
            deployment: api
            tag: v1.2.3
            createdAt: "2026-11-01T00:00:00Z"
            """,
    })
    run = {"html": "https://github.example/acme/api/actions/runs/9000"}
    for _ in range(5):  # an asynchronous agent: each apply follows the run one step
        assert cli("apply", "-C", tmp_path).code == 0
        (task,) = json.loads(cli("history", "-C", tmp_path, "--format", "json").out)["tasks"]
        assert task["links"] == run  # from the dispatch on, while it runs and after
        if task["status"] == "done":
            break
    assert task["status"] == "done"


def test_the_poll_interval_needs_no_secret_and_no_job(monkeypatch, tmp_path):
    from datetime import UTC, datetime

    from reconciler.engine import jobs
    from reconciler.engine.execute import Runner
    from reconciler.engine.hooks import Hooks
    from reconciler.models.records import TaskRecord

    def no_job(task, artifacts=None):
        raise AssertionError("the poll interval built the whole job")

    monkeypatch.setattr(jobs, "build_job", no_job)
    config = {"type": "github-actions", "owner": "o", "repo": "r", "workflow": "d.yml", "pollInterval": "2m"}
    task = TaskRecord("t1", "api/prod/eu-1", "api", "prod", "eu-1", "install", "in_progress", "v1", None, "rel1",
                      "ci", "bot", "", {}, "rev", datetime.now(UTC), job={"config": config, "secrets": {"K": "GONE"}})
    runner = Runner(None, tmp_path, "run1", lambda: datetime.now(UTC), Hooks(), 30.0, 1000)
    assert runner.poll_interval(task) == 120.0
