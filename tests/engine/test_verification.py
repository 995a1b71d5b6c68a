"""Verification, automatic rollback, holds and rollout strategies, end to end through the CLI,
against a real HTTP health endpoint on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.engine.conftest import events

V2 = '---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: "2026-11-05T00:00:00Z"\n'


@pytest.fixture
def health(tmp_path):
    """An HTTP health endpoint that fails while the deployed version (file written by the agent) is bad."""
    state = {"bad": {"v2"}, "hits": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            state["hits"] += 1
            versions = {p.read_text() for p in tmp_path.glob("deployed-*")}
            code = 500 if versions & state["bad"] else 200
            body = json.dumps({"versions": sorted(versions)}).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/health"
    yield state
    server.shutdown()


def policy(url: str, count: int = 3, interval: str = "100ms", extra: str = "") -> str:
    return f"""type: Policy
name: verify-and-roll-back
rules:
  - verification:
      metrics:
        - name: health
          provider: {{type: http, url: "{url}"}}
          interval: {interval}
          count: {count}
          successCondition: result.statusCode == 200
  - rollback: {{onJobStatuses: [failed], onVerificationFailure: true}}
{extra}"""


def history(cli, root):
    return json.loads(cli("history", "-C", root, "--format", "json", "--per-page", "50").out)["tasks"]


def test_failed_verification_rolls_back_and_holds_the_version(cli, ws, health):
    root = ws(resources=1, policies=policy(health["url"]))
    assert cli("apply", "-C", root, "--actor", "ci").code == 0
    (install,) = history(cli, root)
    assert install["status"] == "done" and install["verification"]["status"] == "passed"
    assert len(install["verification"]["metrics"]["health"]["measurements"]) == 3

    (root / "versions.yaml").write_text((root / "versions.yaml").read_text() + V2)
    assert cli("apply", "-C", root, "--actor", "ci").code == 1
    rolled, upgrade, _ = history(cli, root)
    assert upgrade["operation"] == "upgrade" and upgrade["status"] == "failed"
    assert upgrade["message"].startswith("verification failed: health: 0 passed, 1 failed")
    assert f"rolled back by task {rolled['id']}" in upgrade["message"]
    assert rolled["operation"] == "rollback" and rolled["status"] == "done" and rolled["version"] == "v1"
    assert rolled["reason"] == "automatic rollback: v2 failed verification; restoring v1"
    assert rolled["actorKind"] == "bot" and (root / "deployed-r1").read_text() == "v1"

    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert plan["changes"] == [] and [(b["version"], b["rule"]) for b in plan["blocked"]] == [("v2", "hold")]
    assert "run 'reconciler release-hold app/prod/r1' to lift" in plan["blocked"][0]["message"]
    assert "v2 is held off this target after failed verification" in cli("plan", "-C", root).out
    status = json.loads(cli("status", "-C", root, "--format", "json").out)
    assert status[0]["currentVersion"] == "v1" and status[0]["held"] == "v2"
    assert cli("release-hold", "app/prod/r1", "-C", root).out.startswith("released 1 hold")
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert [(c["operation"], c["toVersion"]) for c in plan["changes"]] == [("upgrade", "v2")]


def test_failed_first_install_has_nothing_to_roll_back(cli, ws, health):
    health["bad"] = {"v1"}
    root = ws(resources=1, policies=policy(health["url"], count=1))
    assert cli("apply", "-C", root).code == 1
    (task,) = history(cli, root)
    assert task["status"] == "failed" and "no earlier successful release to roll back to" in task["message"]


def test_manual_rollback_to_the_previous_release(cli, ws, health):
    health["bad"] = set()
    root = ws(resources=1, policies=policy(health["url"], count=1))
    assert cli("apply", "-C", root).code == 0
    (root / "versions.yaml").write_text((root / "versions.yaml").read_text() + V2)
    assert cli("apply", "-C", root).code == 0
    out = cli("rollback", "app/prod/r1", "-C", root, "--actor", "alice")
    assert out.code == 0 and "v2 → v1" in out.out
    assert cli("apply", "-C", root).code == 0
    newest = history(cli, root)[0]
    assert newest["operation"] == "rollback" and newest["version"] == "v1" and newest["actor"] == "alice"
    assert (root / "deployed-r1").read_text() == "v1"
    assert cli("rollback", "app/prod/r1", "-C", root, "--to", "v9").code == 1


def test_killed_apply_resumes_verification(cli, ws, health):
    health["bad"] = set()
    root = ws(resources=1, policies=policy(health["url"], count=6, interval="400ms"))
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "apply", "-C", str(root)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        tasks = history(cli, root) if (root / ".reconciler" / "state.db").exists() else []
        measured = tasks and tasks[0]["verification"].get("metrics", {}).get("health", {}).get("measurements", [])
        if measured and len(measured) >= 2:
            break
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    task = history(cli, root)[0]
    assert task["status"] == "verifying"
    before = len(task["verification"]["metrics"]["health"]["measurements"])
    assert cli("apply", "-C", root).code == 0
    task = history(cli, root)[0]
    assert task["status"] == "done" and task["attempt"] == 1, "verification resumed; the job did not run again"
    assert len(task["verification"]["metrics"]["health"]["measurements"]) == 6 > before
    assert len([e for e in events(root) if e["event"] == "start"]) == 1


def test_rolling_strategy_stops_at_a_failed_batch_and_rolls_it_back(cli, ws):
    root = ws(resources=6, config="{failOn: r4}",
              policies="type: Policy\nname: rolling\nrules: [{strategy: {type: rolling, batchSize: 2}}]\n")
    (root / "app.yaml").write_text((root / "app.yaml").read_text().replace("{failOn: r4}", "{}"))
    assert cli("apply", "-C", root).code == 0  # v1 everywhere
    (root / "versions.yaml").write_text((root / "versions.yaml").read_text() + V2)
    (root / "app.yaml").write_text((root / "app.yaml").read_text().replace("config: {}", "config: {failOn: r4}"))
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert {c["resource"]: c["batch"] for c in plan["changes"]} == {"r1": 1, "r2": 1, "r3": 2, "r4": 2,
                                                                    "r5": 3, "r6": 3}
    text = cli("plan", "-C", root).out
    assert "upgrade app v1 → v2 on 2 targets (prod), batch 2 of 3" in text
    assert "| upgrade (batch 3 of 3) | v1 → v2 | 2 |" in cli("plan", "-C", root, "--format", "markdown").out
    assert cli("apply", "-C", root, "--max-parallel", "4").code == 1
    by_target: dict[str, list[dict]] = {}
    for task in reversed(history(cli, root)):
        by_target.setdefault(task["resource"], []).append(task)
    assert [t["status"] for t in by_target["r1"]] == ["done", "done"]
    assert [(t["operation"], t["status"]) for t in by_target["r4"]] == [  # the failed one is restored too
        ("install", "done"), ("upgrade", "failed"), ("rollback", "done")]
    assert [(t["operation"], t["status"]) for t in by_target["r3"]] == [
        ("install", "done"), ("upgrade", "done"), ("rollback", "done")]
    assert "batch rollback: batch 2 of 3 failed on r4" in by_target["r3"][-1]["reason"]
    assert [(t["status"], t["message"]) for t in by_target["r5"][1:]] == [
        ("canceled", "rollout stopped before batch 3: batch 2 of 3 failed on r4")]
    assert {r: (root / f"deployed-{r}").read_text() for r in ("r1", "r3", "r4", "r5")} == {
        "r1": "v2", "r3": "v1", "r4": "v1", "r5": "v1"}


def test_a_release_rolled_back_after_a_config_change_is_not_sent_again(cli, ws):
    root = ws(resources=1, policies="type: Policy\nname: undo\nrules: [{rollback: {onJobStatuses: [failed]}}]\n")
    assert cli("apply", "-C", root).code == 0
    (root / "app.yaml").write_text((root / "app.yaml").read_text().replace("config: {}", "config: {failOn: r1}"))
    assert cli("apply", "-C", root).code == 1
    rolled, failed, _ = history(cli, root)
    assert (failed["operation"], failed["status"], rolled["operation"], rolled["status"]) == (
        "upgrade", "failed", "rollback", "done")
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert plan["changes"] == [] and [b["rule"] for b in plan["blocked"]] == ["rollback"]
    assert f"rolled back by task {rolled['id']}" in plan["blocked"][0]["message"]
    assert cli("apply", "-C", root).code == 0 and len(history(cli, root)) == 3  # nothing dispatched again
    (root / "app.yaml").write_text((root / "app.yaml").read_text().replace("{failOn: r1}", "{say: fixed}"))
    assert [c["operation"] for c in json.loads(cli("plan", "-C", root, "--format", "json").out)["changes"]] == [
        "upgrade"]


def test_rollback_to_an_older_version_holds_every_version_that_ran_since(cli, ws):
    root = ws(resources=1)
    assert cli("apply", "-C", root).code == 0
    for tag, day in (("v2", 5), ("v3", 6)):
        with (root / "versions.yaml").open("a") as f:
            f.write(f'---\ntype: Version\ndeployment: app\ntag: {tag}\ncreatedAt: "2026-11-0{day}T00:00:00Z"\n')
        assert cli("apply", "-C", root).code == 0
    out = cli("rollback", "app/prod/r1", "-C", root, "--to", "v1", "--actor", "alice")
    assert out.code == 0 and "v3 → v1" in out.out and "v2, v3 are held off app/prod/r1" in out.out
    assert cli("apply", "-C", root).code == 0
    assert (root / "deployed-r1").read_text() == "v1"
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert plan["changes"] == [] and {b["version"] for b in plan["blocked"]} == {"v3"}  # the newest held one shown
