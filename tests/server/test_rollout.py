"""Done-when of the API issue: an agent on a "firewalled" host (a separate process with its own
working directory, given only the API's URL and a key) completes the whole quickstart rollout
through queue/next and PATCH /jobs, with production approved through the API in between."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.server.conftest import all_keys


def agent_once(url: str, key: str, host: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    env["AGENT_KEY"] = key
    return subprocess.run([sys.executable, "-m", "reconciler", "agent", "run", "--url", url, "--agent", "local",
                           "--key-env", "AGENT_KEY", "--once", "--workdir", str(host)],
                          cwd=host, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_pull_agent_completes_the_quickstart_rollout(pull_quickstart, serve_process, cli, tmp_path):
    import httpx

    host = tmp_path / "firewalled-host"  # the agent's machine: the deploy script, no state, no Git checkout
    host.mkdir()
    shutil.copy(pull_quickstart / "deploy.sh", host / "deploy.sh")
    keys = all_keys(pull_quickstart, None)
    url = serve_process(pull_quickstart)

    assert cli("apply", "-C", pull_quickstart).code == 0  # staging queued, production awaits approval
    first = agent_once(url, keys["agent"], host)
    assert first.returncode == 0, first.stderr
    assert "claimed job" in first.stderr and "done" in first.stderr
    assert (host / ".reconciler/deployed/api/staging/staging-cluster/VERSION").read_text() == "v1.2.3\n"

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['approve']}"}) as http:
        pending = [r for r in http.get("/api/v1/deployments/api/releases").json()["releases"]
                   if r["status"] == "pending"]
        assert {r["environmentId"] for r in pending} == {"production"}
        assert http.post(f"/api/v1/releases/{pending[0]['id']}/approve").status_code == 200

    assert cli("apply", "-C", pull_quickstart).code == 0  # both production clusters queued
    second = agent_once(url, keys["agent"], host)
    assert second.returncode == 0, second.stderr
    assert second.stderr.count("claimed job") == 2
    for cluster in ("cluster-1", "cluster-2"):
        job = json.loads((host / f".reconciler/deployed/api/production/{cluster}/job.json").read_text())
        assert job["version"] == "v1.2.3" and job["environment"] == "production"

    final = cli("apply", "-C", pull_quickstart)
    assert final.code == 0 and "Nothing to execute" in final.out
    rows = json.loads(cli("status", "-C", pull_quickstart, "--format", "json").out)
    assert {r["target"]: (r["currentVersion"], r["state"]) for r in rows} == {
        "api/production/cluster-1": ("v1.2.3", "in sync"), "api/production/cluster-2": ("v1.2.3", "in sync"),
        "api/staging/staging-cluster": ("v1.2.3", "in sync")}
    history = json.loads(cli("history", "-C", pull_quickstart, "--format", "json").out)
    entries = history["tasks"] if isinstance(history, dict) else history
    assert {t["status"] for t in entries} == {"done"} and len(entries) == 3
    assert all(t["externalId"].startswith("local@") for t in entries)
    assert not (pull_quickstart / ".reconciler/deployed").exists()  # nothing ran on the server's side
