"""Strategies and agent settings checked before anything runs: a Version's ``jobAgentConfig`` is
validated merged over its deployment's and agent's config, and ``strategy: blue-green`` needs an
agent with a two-colour mode (validate for a deployment's own strategy; the task ends
``invalid_job_agent`` when a policy asks for it), which it then switches on."""

from __future__ import annotations

import json

from reconciler.engine.jobs import build_job
from reconciler.models.records import TaskRecord
from tests.engine.conftest import events

V2 = '---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: "2026-11-05T00:00:00Z"\njobAgentConfig:\n  timeout: soon\n'


def test_a_bad_version_job_agent_config_is_an_error_at_its_line(cli, ws):
    root = ws()
    (root / "versions.yaml").write_text((root / "versions.yaml").read_text() + V2)
    result = cli("validate", "-C", root)
    assert result.code == 1
    line = (root / "versions.yaml").read_text().splitlines().index("  timeout: soon") + 1
    assert f"versions.yaml:{line}:12: error" in result.err and "timeout" in result.err
    assert "Traceback" not in result.err
    assert cli("apply", "-C", root).code == 1 and events(root) == []


def test_blue_green_on_a_deployment_whose_agent_has_no_colours_fails_validation(cli, ws):
    root = ws()
    (root / "app.yaml").write_text((root / "app.yaml").read_text() + "strategy: {type: blue-green}\n")
    result = cli("validate", "-C", root)
    assert result.code == 1
    assert "app.yaml:5:" in result.err and "strategy blue-green needs an agent that runs two colours" in result.err
    assert "(compose, kubernetes)" in result.err


def test_blue_green_from_a_policy_ends_the_task_invalid_on_such_an_agent(cli, ws):
    root = ws(policies="type: Policy\nname: bg\nrules: [{strategy: {type: blue-green}}]\n")
    assert cli("apply", "-C", root).code == 1
    page = json.loads(cli("history", "-C", root, "--format", "json").out)
    assert {t["status"] for t in page["tasks"]} == {"invalid_job_agent"}
    assert "strategy blue-green needs an agent that runs two colours" in page["tasks"][0]["message"]
    assert events(root) == []  # nothing ran


def test_blue_green_switches_on_the_agents_two_colour_mode():
    task = TaskRecord(id="t1", target="web/prod/h1", deployment="web", environment="prod", resource="h1",
                      operation="install", status="pending", version="v1", from_version=None, release_id="r1",
                      actor="a", actor_kind="user", reason="", diff={}, revision="x", created_at=None, run_id="",
                      agent="compose", artifacts={}, verification={},
                      job={"config": {"type": "compose", "project": "web"}, "variables": {},
                           "strategy": {"type": "blue-green"}})
    job, _ = build_job(task)
    assert job.config["blueGreen"] is True
