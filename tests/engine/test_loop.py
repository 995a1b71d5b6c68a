"""``reconciler run`` survives SIGTERM mid-task with no lost or duplicated record; ``watch`` re-plans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT
from tests.engine.conftest import events


def test_sigterm_hands_the_running_task_back(cli, ws):
    root = ws(resources=2, config="{sleep: 20}")
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "run", "-C", str(root), "--interval", "1h",
                             "--max-parallel", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.monotonic() + 30
    while not events(root):
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "Received SIGTERM" in output
    tasks = json.loads(cli("history", "-C", root, "--format", "json").out)["tasks"]
    assert sorted(t["status"] for t in tasks) == ["pending", "pending"], "nothing may be lost"
    started = next(t for t in tasks if t["attempt"] == 1)
    assert started["attempts"][0]["status"] == "interrupted"
    (root / "app.yaml").write_text((root / "app.yaml").read_text().replace("sleep: 20", "sleep: 0"))
    # The desired config changed, so the handed-back tasks are superseded, and new ones run.
    assert cli("run", "-C", root, "--once").code == 0
    tasks = json.loads(cli("history", "-C", root, "--format", "json").out)["tasks"]
    assert sorted(t["status"] for t in tasks) == ["canceled", "canceled", "done", "done"]


def test_sigterm_then_resume_with_the_same_task(cli, ws):
    root = ws(resources=1, config="{sleep: 3}")
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "run", "-C", str(root), "--interval", "1h"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not events(root):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    (task,) = json.loads(cli("history", "-C", root, "--format", "json").out)["tasks"]
    assert task["status"] == "pending"
    assert cli("run", "-C", root, "--once").code == 0
    (again,) = json.loads(cli("history", "-C", root, "--format", "json").out)["tasks"]
    assert again["id"] == task["id"] and again["status"] == "done" and again["attempt"] == 2
    assert again["retries"] == 0


def test_watch_replans_on_changes(ws):
    from reconciler.engine.watch import watch_loop

    root = ws(resources=1)
    lines: list[str] = []

    def edits():
        (root / "versions.yaml").write_text((root / "versions.yaml").read_text()
                                            + '---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: "2026-11-05T00:00:00Z"\n')
        yield {("modified", str(root / "versions.yaml"))}
        (root / "app.yaml").write_text("type: Deploymnt\n")
        yield {("modified", str(root / "app.yaml"))}

    assert watch_loop(str(root), None, False, 10, lines.append, changes=edits()) == 0
    assert "plan: 1 targets with work; 1 changed since the last plan" in lines
    assert "  app/prod/r1: install v1 → install v2" in lines
    assert any("Unknown document type" in line for line in lines)
    assert not (root / ".reconciler" / "state.db").exists(), "watch without --apply never writes state"


def test_watch_apply_says_what_it_applied(ws):
    from reconciler.engine.watch import watch_loop

    root = ws(resources=2)
    lines: list[str] = []
    assert watch_loop(str(root), None, True, 10, lines.append, changes=iter(())) == 0
    assert "applied: 2 tasks (2 done)" in lines
    assert (root / "deployed-r1").read_text() == "v1"


def test_watch_reads_again_only_what_was_planned_again(ws):
    from reconciler.engine.prdiff import outcomes
    from reconciler.engine.watch import describe_changes, plan_once, snapshot_changes

    root = ws(resources=2)
    (root / "other.yaml").write_text("type: Deployment\nname: other\nsystem: s\nagent: {ref: py}\n---\n"
                                     "type: Version\ndeployment: other\ntag: o1\ncreatedAt: \"2026-11-01T00:00:00Z\"\n")
    first = plan_once(str(root), None)
    second = plan_once(str(root), None, first)  # (a fresh outcome comes back once as its cached copy)
    third = plan_once(str(root), None, second)
    assert all(third[name] is second[name] for name in ("app", "other")), "unchanged: nothing read again"
    with open(root / "versions.yaml", "a") as handle:
        handle.write('---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: "2026-11-05T00:00:00Z"\n')
    fourth = plan_once(str(root), None, third)
    assert fourth["other"] is third["other"] and fourth["app"] is not third["app"]
    flat = [{t: o for _dep, (_outcome, targets) in snap.items() for t, o in targets.items()} for snap in (third, fourth)]
    lines = snapshot_changes(third, fourth)
    assert lines == describe_changes(*flat) == ["  app/prod/r1: install v1 → install v2",
                                                "  app/prod/r2: install v1 → install v2"]
    assert flat[1] == outcomes(_full_plan(root))  # what a plan from scratch says


def _full_plan(root):
    from datetime import UTC, datetime

    from reconciler.engine.planner import make_plan
    from reconciler.engine.session import open_session

    session = open_session(str(root), readonly=True)
    try:
        return make_plan(session, datetime.now(UTC)).plan
    finally:
        session.close()


def test_watch_follows_real_file_changes(ws):
    """The real watcher (watchfiles), not an injected stream of changes."""
    import queue
    import threading

    root = ws(resources=1)
    proc = subprocess.Popen([sys.executable, "-m", "reconciler", "watch", "-C", str(root), "--debounce", "50"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line.strip()) for line in proc.stdout], daemon=True).start()
    try:
        assert lines.get(timeout=30) == "plan: 1 targets with work; 1 changed since the last plan"
        assert lines.get(timeout=5) == "app/prod/r1: unchanged → install v1"
        time.sleep(0.5)  # (the watcher starts right after the first plan is printed)
        with open(root / "versions.yaml", "a") as handle:
            handle.write('---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: "2026-11-05T00:00:00Z"\n')
        assert lines.get(timeout=30) == "plan: 1 targets with work; 1 changed since the last plan"
        assert lines.get(timeout=5) == "app/prod/r1: install v1 → install v2"
    finally:
        proc.kill()
        proc.wait()


def test_run_pull_reconciles_what_was_pushed(cli, make_repo, tmp_path):
    from tests.conftest import git
    from tests.engine.conftest import AGENT, workspace_files

    origin = make_repo({**workspace_files(resources=1), "agent.py": AGENT, ".gitignore": "deployed-*\nevents.log\n"},
                       name="origin")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    assert cli("run", "-C", clone, "--once", "--pull").code == 0
    assert (clone / "deployed-r1").read_text() == "v1"
    with open(origin / "versions.yaml", "a") as handle:
        handle.write('---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: "2026-11-05T00:00:00Z"\n')
    git(origin, "commit", "-qam", "v2")
    result = cli("run", "-C", clone, "--once", "--pull")
    assert result.code == 0 and f"Pulled {git(origin, 'rev-parse', 'HEAD')[:12]}" in result.out
    assert (clone / "deployed-r1").read_text() == "v2"
    git(clone, "commit", "-q", "--allow-empty", "-m", "local")  # diverged: no fast-forward
    git(origin, "commit", "-q", "--allow-empty", "-m", "upstream")
    result = cli("run", "-C", clone, "--once", "--pull")
    assert result.code == 0 and "git pull failed, reconciling what is checked out" in result.out


def test_watch_prints_before_the_plan_cache_is_written(ws):
    from reconciler.engine import plancache
    from reconciler.engine.watch import plan_once

    root = ws(resources=2)
    folder = plancache.plan_cache_dir()
    with plancache.writes_held():
        first = plan_once(str(root), None)
        assert not list(folder.rglob("*.plan")) and not plancache._WRITERS  # held: nothing started
    assert plancache._WRITERS  # started when the block ended
    plancache.flush()
    assert [p.name for p in folder.rglob("*.plan")] == ["app.plan"]
    assert plan_once(str(root), None, first)["app"][1] == first["app"][1]
