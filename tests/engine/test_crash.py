"""A killed apply loses nothing: the next apply resumes the interrupted task (same id, next
attempt) at once, because a dead holder of the lock on this host is detected immediately, on
SQLite (workspace lock) and PostgreSQL (deployment leases). A killed reconciler's agent does not
go on beside the next attempt: it gets SIGTERM, and whatever it left running in its process
group is stopped before the task is resumed."""

from __future__ import annotations

import json
import os
import pytest
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, write_files

SLOW = """#!/bin/sh
# First run: announce, then hang until killed. Later runs: finish at once.
marker="$RECONCILER_WORKDIR/started-$RECONCILER_RESOURCE"
if [ ! -f "$marker" ]; then
  echo "$RECONCILER_TASK_ID $RECONCILER_ATTEMPT" > "$marker"
  sleep 60
fi
echo "$RECONCILER_TASK_ID $RECONCILER_ATTEMPT" >> "$RECONCILER_WORKDIR/finished-$RECONCILER_RESOURCE"
"""

WORKSPACE = {
    "reconciler.yaml": "workspace: crash\nlockTimeout: 20\n",
    "docs.yaml": """
        type: System
        name: s
        ---
        type: Environment
        name: prod
        system: s
        resourceSelector: "true"
        ---
        type: Resource
        identifier: host-1
        name: host-1
        kind: Host
        version: v1
        ---
        type: JobAgent
        name: slow
        config: {type: command, command: [./slow.sh]}
        ---
        type: Deployment
        name: app
        system: s
        agent: {ref: slow}
        ---
        type: Version
        deployment: app
        tag: v1
        createdAt: 2026-11-20T09:00:00Z
        """,
}


@pytest.fixture(params=["sqlite", "postgres"])
def state(request, tmp_path, monkeypatch):
    """Runs use RECONCILER_STATE: the default SQLite file, or a fresh PostgreSQL database."""
    url = f"sqlite:///{tmp_path / 'state.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_db")
    monkeypatch.setenv("RECONCILER_STATE", url)
    return url


def start_apply(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reconciler", "apply", "-C", str(root), "--actor", "ci"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            start_new_session=True)


def apply_until_the_agent_runs(root: Path, script: str, files: dict | None = None) -> tuple[subprocess.Popen, Path]:
    """Write the workspace with ``script`` as its agent, start an apply, and return once the agent
    has written its marker (the apply and the marker file)."""
    write_files(root, files or WORKSPACE)
    (root / "slow.sh").write_text(script)
    (root / "slow.sh").chmod(0o755)
    proc = start_apply(root)
    marker = root / "started-host-1"
    deadline = time.monotonic() + 30
    while not (marker.exists() and marker.read_text().strip()):
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "the agent never started"
        time.sleep(0.05)
    return proc, marker


def history(cli, root: Path) -> list[dict]:
    return json.loads(cli("history", "-C", root, "--format", "json").out)["tasks"]


def test_sigkill_mid_task_then_resume(cli, tmp_path, state):
    proc, marker = apply_until_the_agent_runs(tmp_path, SLOW)
    os.killpg(proc.pid, signal.SIGKILL)  # the reconciler and its agent die together
    proc.wait()

    tasks = history(cli, tmp_path)
    assert [(t["status"], t["attempt"]) for t in tasks] == [("started", 1)]
    task_id = tasks[0]["id"]
    assert marker.read_text().split() == [task_id, "1"]

    started = time.monotonic()
    result = cli("apply", "-C", tmp_path, "--actor", "ci")
    assert result.code == 0, result.out + result.err
    assert time.monotonic() - started < 15, "a dead holder's lock must not make the next run wait"
    tasks = history(cli, tmp_path)
    assert len(tasks) == 1, "nothing may be recorded twice"
    task = tasks[0]
    assert task["id"] == task_id and task["status"] == "done" and task["attempt"] == 2 and task["retries"] == 0
    assert [(a["attempt"], a["status"], a["interrupted"]) for a in task["attempts"]] == [
        (1, "interrupted", True), (2, "done", False)]
    assert (tmp_path / "finished-host-1").read_text().split() == [task_id, "2"]
    assert cli("plan", "-C", tmp_path, "--detailed-exitcode").code == 0


def test_second_apply_waits_then_names_the_holder(cli, tmp_path, state):
    proc, _ = apply_until_the_agent_runs(tmp_path, SLOW, {**WORKSPACE, "reconciler.yaml": "workspace: crash\n"})
    try:
        result = cli("apply", "-C", tmp_path, "--actor", "other", "--lock-timeout", "1")
        assert result.code == 3
        assert ("locked by ci@" in result.err or "leased by ci@" in result.err) and f"pid {proc.pid}" in result.err
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


LINGERING = """#!/bin/sh
# First run: record the process group, leave a child behind, and hang. Later runs: finish at once.
marker="$RECONCILER_WORKDIR/started-$RECONCILER_RESOURCE"
if [ ! -f "$marker" ]; then
  echo "$$" > "$marker"
  sleep 120 &
  sleep 120
fi
echo "$RECONCILER_ATTEMPT" >> "$RECONCILER_WORKDIR/finished-$RECONCILER_RESOURCE"
"""


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return any(Path(p).read_text().rsplit(")", 1)[1].split()[2] == str(pgid) and
               Path(p).read_text().rsplit(")", 1)[1].split()[0] != "Z" for p in map(str, Path("/proc").glob("[0-9]*/stat"))
               if Path(p).exists())


def _pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_reconcilers_agent_does_not_run_beside_the_resumed_attempt(cli, tmp_path, state):
    proc, marker = apply_until_the_agent_runs(tmp_path, LINGERING)
    agent_group = int(marker.read_text())
    proc.send_signal(signal.SIGKILL)  # the reconciler alone: its agent is not in its process group
    proc.wait()
    deadline = time.monotonic() + 5
    while _pid_alive(agent_group) and time.monotonic() < deadline:  # the agent itself got SIGTERM...
        time.sleep(0.05)
    assert not _pid_alive(agent_group)
    assert _alive(agent_group)  # ...but the child it backgrounded lives on...
    result = cli("apply", "-C", tmp_path, "--actor", "ci")
    assert result.code == 0, result.out + result.err
    assert not _alive(agent_group)  # ...until the resumed task stops it before its next attempt
    assert (tmp_path / "finished-host-1").read_text().split() == ["2"]
