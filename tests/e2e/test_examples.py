"""Every example: validate, list targets, plan in every format, run its policy tests, check that
committed rendered files are current, and apply it for real (in a private copy)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import EXAMPLES, git

EXAMPLE_DIRS = sorted(p.parent for p in EXAMPLES.glob("*/reconciler.yaml"))
AT = "2026-11-22T10:00:00Z"


@pytest.fixture(params=EXAMPLE_DIRS, ids=lambda p: p.name)
def example(request, tmp_path, monkeypatch):
    monkeypatch.setenv("STOREFRONT_SESSION_KEY", "example-session-key")
    monkeypatch.setenv("PAYMENTS_DATABASE_URL", "postgresql://payments@db/ledger")
    root = tmp_path / request.param.name
    shutil.copytree(request.param, root, ignore=shutil.ignore_patterns(".reconciler"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "example")
    return root


def test_example_end_to_end(cli, example):
    assert cli("validate", "-C", example).code == 0
    targets = json.loads(cli("targets", "-C", example, "--format", "json").out)
    assert targets and all(t["key"] == f"{t['deployment']}/{t['environment']}/{t['resource']}" for t in targets)
    for fmt in ("text", "markdown", "json"):
        assert cli("plan", "-C", example, "--at", AT, "--format", fmt).code == 0
    if (example / "policy-tests").is_dir():
        result = cli("test", "-C", example)
        assert result.code == 0, result.out
    if (example / "rendered").is_dir():
        result = cli("render", "-C", example, "--check", "--newest")  # a function of Git alone
        assert result.code == 0, result.out + result.err
    plan = json.loads(cli("plan", "-C", example, "--at", AT, "--format", "json").out)
    applied = cli("apply", "-C", example, "--at", AT, "--actor", "ci-bot")
    assert applied.code == 0, applied.out + applied.err
    history = json.loads(cli("history", "-C", example, "--format", "json", "--per-page", "200").out)
    assert len(history["tasks"]) == len(plan["changes"]) and all(t["status"] == "done" for t in history["tasks"])
    after = json.loads(cli("plan", "-C", example, "--at", AT, "--format", "json").out)
    done = {c["target"] for c in plan["changes"]}
    assert not done & {c["target"] for c in after["changes"]}, "applied targets must be in sync"


def test_quickstart_readme_flow_runs_as_documented(cli, tmp_path):
    root = tmp_path / "qs"
    shutil.copytree(EXAMPLES / "quickstart", root, ignore=shutil.ignore_patterns(".reconciler"))
    assert cli("targets", "-C", root).out.count("\n") == 3
    assert cli("apply", "-C", root).code == 0
    assert cli("approve", "-C", root, "--deployment", "api", "--version", "v1.2.3", "--environment", "production",
               "--actor", "alice").code == 0
    assert cli("apply", "-C", root).code == 0
    status = json.loads(cli("status", "-C", root, "--format", "json").out)
    assert {s["state"] for s in status} == {"in sync"} and len(status) == 3
