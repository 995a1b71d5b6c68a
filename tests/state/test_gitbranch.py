"""The ``git+branch:`` state store beyond the shared conformance suite: branch layout, remotes,
read-only opens, the lease as a file, and replaying writes when another clone pushed first."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.errors import StateError, UsageError
from reconciler.models import statuses
from reconciler.models.records import LockInfo, ReleaseRecord
from reconciler.state.store import open_store
from tests.state.test_conformance import T0, state, task

URL = "git+branch:reconciler-state"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def git_state_url(root: Path) -> str:
    """Make ``root`` a Git repository whose ``origin`` is a fresh bare repository; the state URL.

    Used by the ``state_url`` fixture (tests/conftest.py) so the conformance suite runs against
    a real remote: every write is a push, every read a fetch.
    """
    bare = root.parent / f"{root.name}-origin.git"
    git(root.parent, "init", "-q", "--bare", str(bare))
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", str(bare))
    return "git+branch:reconciler-state"


@pytest.fixture
def origin(tmp_path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "master", str(bare))
    return bare


def clone(origin: Path, where: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(where))
    return where


def files_on(repo: Path, ref: str) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", ref).split()


def user_repo(origin: Path, where: Path) -> Path:
    """A clone with one commit on main and an uncommitted edit, as a developer's checkout."""
    repo = clone(origin, where)
    (repo / "app.yaml").write_text("type: System\nname: shop\n")
    git(repo, "add", "app.yaml")
    git(repo, "-c", "user.name=dev", "-c", "user.email=dev@example.com", "commit", "-qm", "desired state")
    (repo / "app.yaml").write_text("type: System\nname: shop  # edited\n")
    return repo


def test_writes_are_commits_on_the_branch_and_never_touch_the_work_tree(origin, tmp_path):
    repo = user_repo(origin, tmp_path / "dev")
    head, status = git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain")
    store = open_store(URL, "shop", repo)
    store.create_tasks([task("abcd1234", target="api/prod/eu-1")])
    store.finish_task("abcd1234", status=statuses.DONE, message="ok", at=T0,
                      new_state=state(target="api/prod/eu-1", task_id="abcd1234"))
    store.try_lock("apply", LockInfo("apply", "ci", "h", 1, T0, T0 + timedelta(seconds=30)), "tok", T0)
    store.close()
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == status
    assert git(repo, "branch", "--list").split() == ["*", "master"]
    assert files_on(origin, "reconciler-state") == [
        "README.md", "shop/locks/apply.json", "shop/seq.json", "shop/targets/api%2Fprod%2Feu-1.json",
        "shop/tasks/ab/abcd1234.json"]
    log = git(origin, "log", "--format=%an|%s", "reconciler-state").splitlines()
    assert log == ["reconciler|Lock apply for ci [shop]", "reconciler|Finish task abcd1234 (done) [shop]",
                   "reconciler|Create 1 task(s): abcd1234 [shop]"]
    record = json.loads(git(origin, "show", "reconciler-state:shop/targets/api%2Fprod%2Feu-1.json"))
    assert record["version"] == "v1" and record["updated_at"] == "2026-11-20T09:00:00+00:00"


def test_found_from_a_subdirectory_and_local_only_without_a_remote(tmp_path):
    repo = tmp_path / "repo"
    (repo / "deploy").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    store = open_store(URL, "ws", repo / "deploy")
    store.create_tasks([task("t1")])
    assert "local only" in store.describe() and store.get_task("t1").seq == 1
    store.close()
    assert "ws/tasks/t1/t1.json" in files_on(repo, "refs/heads/reconciler-state")


def test_url_errors_are_clear(tmp_path, origin):
    repo = clone(origin, tmp_path / "c")
    with pytest.raises(StateError, match="no such remote"):
        open_store("git+branch:state@upstream", "ws", repo)
    with pytest.raises(UsageError, match="names no branch"):
        open_store("git+branch:", "ws", repo)
    with pytest.raises(UsageError, match="not a valid Git branch name"):
        open_store("git+branch:bad..name", "ws", repo)
    (tmp_path / "plain").mkdir()
    with pytest.raises(StateError, match="needs a Git repository"):
        open_store(URL, "ws", tmp_path / "plain")


def test_explicit_remote_is_used(tmp_path, origin):
    repo = clone(origin, tmp_path / "c")
    git(repo, "remote", "rename", "origin", "upstream")
    store = open_store("git+branch:state@upstream", "ws", repo)
    store.set_meta_default("k", "v")
    store.close()
    assert "ws/meta/k.json" in files_on(origin, "state")


def test_reads_fetch_what_another_clone_pushed(origin, tmp_path):
    a = open_store(URL, "ws", clone(origin, tmp_path / "a"))
    b = open_store(URL, "ws", clone(origin, tmp_path / "b"))
    a.create_tasks([task("t1")])
    assert b.get_task("t1").id == "t1"
    a.finish_task("t1", status=statuses.DONE, message="", at=T0, new_state=state())
    assert b.get_task("t1").status == statuses.DONE and set(b.target_states()) == {"api/prod/c1"}
    a.close()
    b.close()


def test_a_stale_writer_replays_on_the_new_tip(origin, tmp_path):
    a = open_store(URL, "ws", clone(origin, tmp_path / "a"))
    b = open_store(URL, "ws", clone(origin, tmp_path / "b"))
    b.create_tasks([task("first")])  # b's tip is now behind once a writes
    a.create_tasks([task("second", target="api/prod/c2")])
    b.create_tasks([task("third", target="api/prod/c3")])  # push rejected, fetched, replayed
    seqs = {t.id: t.seq for t in a.list_tasks(per_page=10)[0]}
    assert seqs == {"first": 1, "second": 2, "third": 3}
    assert git(origin, "rev-list", "--count", "reconciler-state").strip() == "3"
    a.close()
    b.close()


def test_readonly_never_writes(origin, tmp_path):
    writer = open_store(URL, "ws", clone(origin, tmp_path / "w"))
    writer.create_tasks([task("t1")])
    reader_repo = clone(origin, tmp_path / "r")
    reader = open_store(URL, "ws", reader_repo, readonly=True)
    assert reader.get_task("t1").id == "t1" and len(reader.secret_key(create=False)) == 32
    before = git(origin, "rev-parse", "reconciler-state")
    for write in (lambda: reader.create_tasks([task("t2")]), lambda: reader.set_meta_default("k", "v"),
                  lambda: reader.try_lock("apply", LockInfo("apply", "x", "h", 1, T0, T0), "tok", T0)):
        with pytest.raises(StateError, match="read-only"):
            write()
    assert git(origin, "rev-parse", "reconciler-state") == before
    assert git(reader_repo, "for-each-ref", "--format=%(refname)", "refs/heads").split() == []
    writer.close()
    reader.close()


def test_writes_that_change_nothing_make_no_commit(origin, tmp_path):
    store = open_store(URL, "ws", clone(origin, tmp_path / "c"))
    assert not store.renew_lock("apply", "tok", T0)
    store.release_lock("apply", "tok")
    store.update_task("missing", status="done")
    assert git(origin, "for-each-ref").strip() == ""  # the branch does not even exist yet
    store.put_release(ReleaseRecord("r1", "api/prod/c1", "v1", {}, {}, "d", T0))
    store.put_release(ReleaseRecord("r1", "api/prod/c1", "v1", {}, {}, "d", T0))
    store.record_seen([("api", "v1")], T0)
    store.record_seen([("api", "v1")], T0 + timedelta(hours=1))
    assert git(origin, "rev-list", "--count", "reconciler-state").strip() == "2"
    store.close()


def test_readonly_on_an_empty_repository_reads_nothing(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    store = open_store(URL, "ws", tmp_path, readonly=True)
    assert store.target_states() == {} and store.list_tasks() == ([], 0)
    assert store.lock_holder("apply") is None
    store.close()
    assert git(tmp_path, "for-each-ref").strip() == ""


def test_apply_in_one_checkout_is_seen_by_a_plan_in_another(quickstart, tmp_path, cli):
    """The CI story: a scheduled apply records state on the branch; a PR job's fresh clone plans with it."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(quickstart), str(origin))
    git(quickstart, "remote", "add", "origin", str(origin))
    head = git(quickstart, "rev-parse", "HEAD")
    result = cli("apply", "-C", quickstart, "--state", URL)
    assert result.code == 0, result.err
    assert git(quickstart, "rev-parse", "HEAD") == head
    assert git(quickstart, "status", "--porcelain", "--", ":!.reconciler") == ""
    other = clone(origin, tmp_path / "pr-job")
    plan = json.loads(cli("plan", "-C", other, "--state", URL, "--format", "json").out)
    assert plan["summary"]["install"] == 0 and plan["summary"]["unchanged"] == 1
    history = cli("history", "-C", other, "--state", URL)
    assert "api/staging/staging-cluster" in history.out and "done" in history.out
    assert git(other, "for-each-ref", "--format=%(refname)", "refs/heads").split() == ["refs/heads/main"]
