"""The state store conformance suite: every backend (SQLite, PostgreSQL) must pass all of it."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.errors import NotFoundError
from reconciler.models import statuses
from reconciler.models.records import ApprovalRecord, HoldRecord, LockInfo, ReleaseRecord, TargetState, TaskRecord
from reconciler.state.store import open_store

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(state_url, tmp_path):
    s = open_store(state_url, f"ws-{uuid.uuid4().hex[:8]}", tmp_path)
    yield s
    s.close()


def task(tid: str, target: str = "api/prod/c1", status: str = statuses.PENDING, version: str = "v1",
         created: datetime = T0, **extra) -> TaskRecord:
    dep, env, res = target.split("/", 2)
    return TaskRecord(id=tid, target=target, deployment=dep, environment=env, resource=res, operation="install",
                      status=status, version=version, from_version=None, release_id=f"rel-{version}", actor="alice",
                      actor_kind="user", reason="test", diff={"config.a": [1, 2]}, revision="abc", created_at=created,
                      job={"config": {"x": 1}}, artifacts={}, verification={}, **extra)


def state(target: str = "api/prod/c1", version: str = "v1", task_id: str = "t1") -> TargetState:
    return TargetState(target, version, f"rel-{version}", "digest", {"variables": {}}, {"resource": "c1"}, task_id,
                       T0, T0)


def test_migrations_are_idempotent_and_reopen(state_url, tmp_path):
    first = open_store(state_url, "ws", tmp_path)
    first.close()
    second = open_store(state_url, "ws", tmp_path)
    assert second.target_states() == {}
    second.close()


def test_tasks_round_trip_as_copies(store):
    store.create_tasks([task("t1")])
    got = store.get_task("t1")
    assert got.diff == {"config.a": [1, 2]} and got.created_at == T0 and got.status == statuses.PENDING
    got.diff["config.a"].append(99)
    assert store.get_task("t1").diff == {"config.a": [1, 2]}


def test_get_task_by_unique_prefix(store):
    store.create_tasks([task("abcd1111"), task("abcd2222", target="api/prod/c2"), task("ffff0000", target="api/x/y")])
    assert store.get_task("ffff").id == "ffff0000"
    with pytest.raises(NotFoundError, match="ambiguous"):
        store.get_task("abcd")
    with pytest.raises(NotFoundError):
        store.get_task("0000")


def test_history_is_newest_first_filtered_and_paged(store):
    store.create_tasks([task(f"t{i:02d}", target=f"api/{'prod' if i % 2 else 'stg'}/c{i}",
                             created=T0 + timedelta(minutes=i)) for i in range(25)])
    page, total = store.list_tasks(page=1, per_page=10)
    assert total == 25 and [t.id for t in page][:3] == ["t24", "t23", "t22"]
    page3, _ = store.list_tasks(page=3, per_page=10)
    assert [t.id for t in page3] == [f"t{i:02d}" for i in range(4, -1, -1)]
    prod, total = store.list_tasks(environment="prod", per_page=100)
    assert total == 12 and all(t.environment == "prod" for t in prod)


def test_attempts_and_interruptions_do_not_count_as_retries(store):
    store.create_tasks([task("t1")])
    assert store.start_attempt("t1", "run-a", T0) == 1
    assert store.get_task("t1").status == statuses.STARTED
    assert store.start_attempt("t1", "run-b", T0 + timedelta(minutes=1), interrupted_previous=True) == 2
    store.finish_task("t1", status=statuses.DONE, message="ok", at=T0 + timedelta(minutes=2), new_state=state())
    attempts = store.attempts("t1")
    assert [(a.attempt, a.status, a.interrupted) for a in attempts] == [(1, "interrupted", True), (2, "done", False)]
    done = store.get_task("t1")
    assert done.retries == 0 and done.attempt == 2 and done.started_at == T0


def test_finish_records_task_and_target_state_together(store):
    store.create_tasks([task("t1")])
    store.start_attempt("t1", "r", T0)
    store.finish_task("t1", status=statuses.DONE, message="ok", at=T0, log="tail", log_truncated=5, new_state=state())
    assert store.target_states()["api/prod/c1"].version == "v1"
    assert store.get_task("t1").log == "tail" and store.get_task("t1").log_truncated == 5
    store.create_tasks([task("t2", version="v2")])
    store.finish_task("t2", status=statuses.DONE, message="ok", at=T0, new_state=state(version="v2", task_id="t2"))
    assert store.target_states()["api/prod/c1"].last_task_id == "t2"
    store.create_tasks([task("t3")])
    store.finish_task("t3", status=statuses.DONE, message="gone", at=T0, clear_state="api/prod/c1")
    assert store.target_states() == {}


def test_active_latest_and_outcomes(store):
    store.create_tasks([task("a", status=statuses.DONE), task("b", target="api/prod/c2", status=statuses.PENDING)])
    store.finish_task("a", status=statuses.DONE, message="", at=T0)
    store.create_tasks([task("c", created=T0 + timedelta(seconds=1))])
    assert {t.id for t in store.active_tasks()} == {"b", "c"}
    assert store.latest_tasks()["api/prod/c1"].id == "c"
    outcomes = store.outcomes()
    assert [(o.target, o.version, o.status, o.count) for o in outcomes] == [("api/prod/c1", "v1", "done", 1)]
    assert outcomes[0].last_at == T0


def test_releases_are_content_addressed_and_idempotent(store):
    rel = ReleaseRecord("r1", "api/prod/c1", "v1", {"A": 1}, {"x": 1}, "d", T0)
    store.put_release(rel)
    store.put_release(rel)
    assert store.get_release("r1") == rel
    assert store.get_release("nope") is None
    other = ReleaseRecord("r2", "api/prod/c2", "v1", {}, {"x": 2}, "e", T0)
    store.put_releases([ReleaseRecord("r1", "api/prod/c1", "v9", {}, {}, "changed", T0), other, other])
    assert store.get_release("r1") == rel and store.get_release("r2") == other  # r1 kept as first stored
    store.put_releases([])


def test_one_vote_per_actor(store):
    store.record_approval(ApprovalRecord("api", "v1", "prod", "alice", "approved", "", T0))
    store.record_approval(ApprovalRecord("api", "v1", "prod", "alice", "rejected", "bad", T0 + timedelta(1)))
    store.record_approval(ApprovalRecord("api", "v1", "prod", "bob", "approved", "", T0))
    votes = {(a.actor, a.status) for a in store.approvals()}
    assert votes == {("alice", "rejected"), ("bob", "approved")}


def test_versions_first_seen_keeps_the_first(store):
    store.record_seen([("api", "v1")], T0)
    store.record_seen([("api", "v1"), ("api", "v2")], T0 + timedelta(hours=1))
    assert store.first_seen() == {("api", "v1"): T0, ("api", "v2"): T0 + timedelta(hours=1)}


def test_holds_and_traces(store):
    store.add_hold(HoldRecord("api/prod/c1", "v2", "verification failed", "t1", T0))
    assert [h.version for h in store.holds()] == ["v2"]
    assert store.remove_holds("api/prod/c1") == 1 and store.holds() == []
    store.add_hold(HoldRecord("api/prod/c1", "v2", "failed", "t1", T0))  # one statement, two rows, one
    store.add_hold(HoldRecord("api/prod/c1", "v3", "failed", "t1", T0))  # deployment (the epoch triggers)
    assert store.remove_holds("api/prod/c1") == 2 and store.holds() == []
    store.create_tasks([task("t1")])
    store.add_trace("t1", "pull image", "completed", "", T0)
    store.add_trace("t1", "apply", "failed", "boom", T0)
    assert [(t.seq, t.step, t.status) for t in store.traces("t1")] == [(1, "pull image", "completed"),
                                                                        (2, "apply", "failed")]


def _info(owner: str, expires: datetime, pid: int = 1) -> LockInfo:
    return LockInfo("apply", owner, "host-a", pid, T0, expires)


def test_lease_lock_excludes_renews_and_expires(store):
    assert store.try_lock("apply", _info("one", T0 + timedelta(seconds=30)), "tok1", T0) is None
    holder = store.try_lock("apply", _info("two", T0 + timedelta(seconds=30)), "tok2", T0 + timedelta(seconds=5))
    assert holder is not None and holder.owner == "one"
    assert store.renew_lock("apply", "tok1", T0 + timedelta(seconds=60))
    assert not store.renew_lock("apply", "tok2", T0 + timedelta(seconds=60))
    later = T0 + timedelta(seconds=61)
    assert store.try_lock("apply", _info("two", later + timedelta(seconds=30)), "tok2", later) is None
    assert store.lock_holder("apply").owner == "two"
    store.release_lock("apply", "tok1")  # a stale token releases nothing
    assert store.lock_holder("apply").owner == "two"
    store.release_lock("apply", "tok2")
    assert store.lock_holder("apply") is None


def test_dead_holder_can_be_stolen(store):
    store.try_lock("apply", _info("dead", T0 + timedelta(hours=1)), "tok1", T0)
    assert store.try_lock("apply", _info("me", T0 + timedelta(hours=1)), "tok2", T0, steal=lambda h: True) is None
    assert store.lock_holder("apply").owner == "me"


def test_concurrent_writers_lose_nothing(state_url, tmp_path):
    name = f"ws-{uuid.uuid4().hex[:8]}"
    stores = [open_store(state_url, name, tmp_path) for _ in range(4)]
    errors = []

    def write(n: int) -> None:
        try:
            for i in range(25):
                tid = f"w{n}-{i}"
                stores[n].create_tasks([task(tid, target=f"api/prod/c{n}-{i}")])
                stores[n].start_attempt(tid, f"run{n}", T0)
                stores[n].finish_task(tid, status=statuses.DONE, message="", at=T0,
                                      new_state=state(target=f"api/prod/c{n}-{i}", task_id=tid))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _, total = stores[0].list_tasks(per_page=1)
    assert total == 100 and len(stores[0].target_states()) == 100
    for s in stores:
        s.close()


def test_workspaces_are_isolated(state_url, tmp_path):
    a = open_store(state_url, "alpha", tmp_path)
    b = open_store(state_url, "beta", tmp_path)
    a.create_tasks([task("t1")])
    assert b.list_tasks()[1] == 0 and a.list_tasks()[1] == 1
    a.close()
    b.close()


def test_sqlite_readonly_open_creates_nothing(tmp_path: Path):
    store = open_store("sqlite:///.reconciler/state.db", "ws", tmp_path, readonly=True)
    assert store.target_states() == {}
    store.close()
    assert not (tmp_path / ".reconciler").exists()


def test_a_configured_secret_digest_key_wins_and_is_never_stored(store, monkeypatch):
    recorded = store.secret_key()
    monkeypatch.setenv("RECONCILER_SECRET_DIGEST_KEY", "a ci secret")
    configured = store.secret_key()
    assert configured != recorded and configured == store.secret_key(create=False)
    monkeypatch.delenv("RECONCILER_SECRET_DIGEST_KEY")
    assert store.secret_key() == recorded  # the recorded one was neither replaced nor revealed
