"""The quickstart end to end through the CLI: plan, apply for real, approve, upgrade, reinstall,
prune, history. The command agent runs examples/quickstart/deploy.sh as a real subprocess."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.conftest import git

PROD = ["--deployment", "api", "--version", "v1.2.3", "--environment", "production"]


def plan_json(cli, root: Path, *extra: str) -> dict:
    result = cli("plan", "-C", root, "--format", "json", *extra)
    assert result.code == 0, result.err
    return json.loads(result.out)


def deployed(root: Path) -> dict[str, str]:
    base = root / ".reconciler" / "deployed" / "api"
    return {f"{p.parent.parent.name}/{p.parent.name}": p.read_text().strip() for p in base.glob("*/*/VERSION")}


def test_quickstart_flow(cli, quickstart):
    first = plan_json(cli, quickstart)
    assert first["summary"]["install"] == 1 and first["summary"]["blocked"] == 2
    assert [c["target"] for c in first["changes"]] == ["api/staging/staging-cluster"]
    assert {b["message"] for b in first["blocked"]} == {"awaiting approval 0/1 in production"}
    assert all(b["nextEvaluation"] is None for b in first["blocked"])

    applied = cli("apply", "-C", quickstart, "--actor", "ci-bot")
    assert applied.code == 0, applied.out + applied.err
    assert deployed(quickstart) == {"staging/staging-cluster": "v1.2.3"}
    assert cli("plan", "-C", quickstart, "--detailed-exitcode").code == 3  # only blocked work left

    assert cli("approve", "-C", quickstart, *PROD, "--actor", "alice").code == 0
    assert cli("apply", "-C", quickstart, "--actor", "ci-bot").code == 0
    assert deployed(quickstart) == {"staging/staging-cluster": "v1.2.3", "production/cluster-1": "v1.2.3",
                                    "production/cluster-2": "v1.2.3"}
    assert cli("plan", "-C", quickstart, "--detailed-exitcode").code == 0

    history = json.loads(cli("history", "-C", quickstart, "--format", "json").out)
    assert [t["status"] for t in history["tasks"]] == ["done"] * 3
    prod = [t for t in history["tasks"] if t["environment"] == "production"]
    assert all("approved in production by alice" in t["reason"] for t in prod)
    assert {t["actor"] for t in history["tasks"]} == {"ci-bot"} and history["tasks"][0]["actorKind"] == "bot"


def _installed(cli, quickstart):
    assert cli("approve", "-C", quickstart, *PROD, "--actor", "alice").code == 0
    assert cli("apply", "-C", quickstart, "--actor", "bob").code == 0


def test_config_edit_plans_an_upgrade_with_a_dotted_diff(cli, quickstart):
    _installed(cli, quickstart)
    api = quickstart / "api.yaml"
    api.write_text(api.read_text().replace("LOG_LEVEL: info", "LOG_LEVEL: debug"))
    plan = plan_json(cli, quickstart)
    assert plan["summary"]["upgrade"] == 3
    change = next(c for c in plan["changes"] if c["target"] == "api/staging/staging-cluster")
    assert change["operation"] == "upgrade"
    assert change["diff"] == {"config.logLevel": ["info", "debug"], "variables.LOG_LEVEL": ["info", "debug"]}
    assert change["reason"] == "variable LOG_LEVEL changed in the deployment"


def test_resource_variable_change_plans_a_reinstall_with_its_reason(cli, quickstart):
    _installed(cli, quickstart)
    res = quickstart / "resources.yaml"
    res.write_text(res.read_text().replace("REPLICA_COUNT: 5", "REPLICA_COUNT: 7"))
    plan = plan_json(cli, quickstart)
    assert [(c["target"], c["operation"], c["reason"]) for c in plan["changes"]] == [
        ("api/production/cluster-1", "reinstall", "variable REPLICA_COUNT changed on resource cluster-1")]
    assert plan["changes"][0]["diff"] == {"config.replicas": [5, 7], "variables.REPLICA_COUNT": [5, 7]}
    assert cli("apply", "-C", quickstart, "--actor", "bob").code == 0
    job = json.loads((quickstart / ".reconciler/deployed/api/production/cluster-1/job.json").read_text())
    assert job["config"]["replicas"] == 7 and job["operation"] == "reinstall"


def test_removed_deployment_is_orphaned_then_uninstalled_with_prune(cli, quickstart):
    _installed(cli, quickstart)
    for name in ("api.yaml", "versions.yaml", "policies.yaml"):
        (quickstart / name).unlink()
    plan = plan_json(cli, quickstart)
    assert plan["summary"]["orphaned"] == 3 and plan["changes"] == []
    assert "deployment api was removed" in plan["orphaned"][0]["reason"]
    pruned = plan_json(cli, quickstart, "--prune")
    assert [c["operation"] for c in pruned["changes"]] == ["uninstall"] * 3
    assert cli("apply", "-C", quickstart, "--prune", "--actor", "bob").code == 0
    assert deployed(quickstart) == {}
    history = json.loads(cli("history", "-C", quickstart, "--format", "json", "--per-page", "3").out)
    assert [t["operation"] for t in history["tasks"]] == ["uninstall"] * 3 and history["pages"] == 2
    assert cli("plan", "-C", quickstart, "--detailed-exitcode").code == 0


def _fingerprint(root: Path) -> dict[str, str]:
    state = root / ".reconciler"
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(state.rglob("*")) if p.is_file()}


def test_plan_never_runs_an_agent_nor_writes_state(cli, quickstart):
    assert cli("plan", "-C", quickstart).code == 0
    assert not (quickstart / ".reconciler").exists()  # not even an empty database
    _installed(cli, quickstart)
    (quickstart / "versions.yaml").write_text((quickstart / "versions.yaml").read_text().replace("v1.2.3", "v1.2.4"))
    before = _fingerprint(quickstart)
    for fmt in ("text", "json", "markdown"):
        assert cli("plan", "-C", quickstart, "--format", fmt).code == 0
    assert cli("status", "-C", quickstart).code == 0
    assert cli("history", "-C", quickstart).code == 0
    assert _fingerprint(quickstart) == before
    assert deployed(quickstart)["staging/staging-cluster"] == "v1.2.3"


def test_plan_from_a_git_revision(cli, quickstart):
    versions = quickstart / "versions.yaml"
    versions.write_text(versions.read_text().replace("v1.2.3", "v1.3.0"))
    head = plan_json(cli, quickstart)
    committed = plan_json(cli, quickstart, "--ref", "HEAD")
    assert head["changes"][0]["toVersion"] == "v1.3.0" and head["revision"].endswith("+dirty")
    assert committed["changes"][0]["toVersion"] == "v1.2.3"
    assert committed["revision"] == git(quickstart, "rev-parse", "HEAD").strip()


def test_plan_json_matches_the_published_schema(cli, quickstart):
    from jsonschema import Draft202012Validator

    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json").read_text())
    validator = Draft202012Validator(schema)
    _installed(cli, quickstart)
    res = quickstart / "resources.yaml"
    res.write_text(res.read_text().replace("REPLICA_COUNT: 5", "REPLICA_COUNT: 7"))
    for doc in (plan_json(cli, quickstart), plan_json(cli, quickstart, "--prune")):
        errors = sorted(validator.iter_errors(doc), key=str)
        assert errors == []


def test_approve_in_git_writes_a_reviewed_approval_document(cli, quickstart):
    result = cli("approve", "-C", quickstart, *PROD, "--actor", "alice", "--reason", "release review", "--git",
                 "--commit", "-m", "Approve api v1.2.3 for production")
    assert result.code == 0, result.err
    assert "approvals.yaml" in result.out
    text = (quickstart / "approvals.yaml").read_text()
    assert "type: Approval" in text and "approvedBy: alice" in text
    assert git(quickstart, "log", "-1", "--format=%an %s").strip() == "alice Approve api v1.2.3 for production"
    plan = plan_json(cli, quickstart)
    assert plan["summary"]["install"] == 3 and plan["blocked"] == []
    prod = [c for c in plan["changes"] if c["environment"] == "production"]
    assert all("approved in production by alice" in c["reason"] for c in prod)
    bad = cli("approve", "-C", quickstart, *PROD, "--commit")
    assert bad.code == 2 and "need --git" in bad.err


def test_platform_plan_shows_artifact_diffs(cli, tmp_path, monkeypatch):
    import shutil

    from tests.conftest import EXAMPLES

    monkeypatch.setenv("STOREFRONT_SESSION_KEY", "example-session-key")
    root = tmp_path / "platform"
    shutil.copytree(EXAMPLES / "platform", root, ignore=shutil.ignore_patterns(".reconciler"))
    markdown = cli("plan", "-C", root, "--at", "2026-11-22T10:00:00Z", "--format", "markdown")
    assert markdown.code == 0, markdown.err
    assert "artifacts of <code>web/dev/dev-1</code>: compose.lock.yml, nginx.conf, web.env" in markdown.out
    assert "+    image: registry.example.com/shop/web@sha256:3333" in markdown.out
    assert "SESSION_KEY='<redacted>'" in markdown.out and "example-session-key" not in markdown.out
    text = cli("plan", "-C", root, "--at", "2026-11-22T10:00:00Z")
    assert "artifacts: compose.lock.yml, nginx.conf, web.env" in text.out
    doc = plan_json(cli, root, "--at", "2026-11-22T10:00:00Z")
    web = next(c for c in doc["changes"] if c["target"] == "web/dev/dev-1")
    assert web["artifacts"]["compose.lock.yml"]["sha256"] and web["artifacts"]["compose.lock.yml"]["changed"]
