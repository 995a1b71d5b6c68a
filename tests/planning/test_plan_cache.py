"""The plan cache never changes a plan: after random edits to a small generated fleet (new versions,
resource metadata, policies, GitOps decisions, approvals, holds, redeploys, applies that record
tasks, and the clock moving past windows, soaks and rollouts), the plan made with the cache equals
a full recompute with the cache turned off (``RECONCILER_PLAN_CACHE=0``), release by release."""

from __future__ import annotations

import json
import random
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
import sqlalchemy as sa

from reconciler.cli.views import jsonview
from reconciler.engine import plancache, planfile
from reconciler.engine.apply import Applier
from reconciler.engine.identity import Actor
from reconciler.engine.operations import redeploy
from reconciler.engine.planner import make_plan
from reconciler.engine.session import open_session
from reconciler.errors import ReconcilerError
from reconciler.jsontext import Rows
from reconciler.models.records import ApprovalRecord, HoldRecord
from reconciler.planning.plan import iso
from reconciler.planning.releases import Release
from tests.planning import plan_cache_fleet as fleet

START = datetime(2026, 11, 23, 7, 40, tzinfo=UTC)  # a Monday, before the deployment window opens
BOT = Actor("prop-bot", "bot")


def _plan(root: Path, now: datetime, cached: bool, monkeypatch):
    monkeypatch.setenv("RECONCILER_PLAN_CACHE", "1" if cached else "0")
    session = open_session(str(root), readonly=True)
    try:
        result = make_plan(session, now)
        releases = {str(c.key): _release_fields(c.release) for c in result.plan.changes if c.release is not None}
        # reused outcomes' stored rows are printed as they are: the same text as encoding every entry
        assert jsonview.dumps(result.plan.to_json(encoded=True)) == jsonview.dumps(result.plan.to_json())
        return result.plan.to_json(), releases, result.plan.unchanged, _text(result.plan)
    finally:
        session.close()


def _release_fields(release: Release) -> dict:
    return {f.name: getattr(release, f.name) for f in fields(Release)}


def _check(root: Path, now: datetime, monkeypatch) -> dict:
    cached = _plan(root, now, True, monkeypatch)
    full = _plan(root, now, False, monkeypatch)
    assert cached[0] == full[0]
    assert cached[1] == full[1]
    assert cached[2] == full[2]
    assert cached[3] == full[3]  # the text view, printed from stored groups
    return full[0]


class Fleet:
    def __init__(self, root: Path, rng: random.Random):
        self.root, self.rng, self.now = root, rng, START
        self.spec = fleet.Spec()
        self.spec.write(root)

    # -- edits of desired state ---------------------------------------------------------------
    def add_version(self) -> None:
        self.spec.add_version(self.rng, self.now)
        self.spec.write(self.root)

    def move_resource(self) -> None:
        self.spec.move_resource(self.rng)
        self.spec.write(self.root)

    def edit_policies(self) -> None:
        self.spec.edit_policies(self.rng)
        self.spec.write(self.root)

    def gitops(self) -> None:
        self.spec.gitops(self.rng, self.now)
        self.spec.write(self.root)

    # -- edits of recorded state ----------------------------------------------------------------
    def _write_session(self):
        return open_session(str(self.root))

    def approve(self) -> None:
        dep, tag = self.spec.random_version(self.rng)
        env = self.rng.choice(fleet.ENVIRONMENTS)
        status = "rejected" if self.rng.random() < 0.15 else "approved"
        session = self._write_session()
        try:
            session.store.record_approval(ApprovalRecord(dep, tag, env, self.rng.choice(["ann", "bob"]), status, "",
                                                         self.now))
        finally:
            session.close()

    def apply(self) -> None:
        session = self._write_session()
        try:
            Applier(session, BOT, lambda: self.now, max_parallel=4).run()
        except ReconcilerError:
            pass  # e.g. a template error in a generated version: nothing recorded
        finally:
            session.close()

    def hold_or_redeploy(self) -> None:
        session = self._write_session()
        try:
            states = session.store.target_states()
            if not states:
                return
            target = self.rng.choice(sorted(states))
            roll = self.rng.random()
            if roll < 0.4:
                _dep, tag = self.spec.random_version(self.rng, target.split("/")[0])
                session.store.add_hold(HoldRecord(target, tag, "test hold", "t0", self.now))
            elif roll < 0.6:
                session.store.remove_holds(target)
            else:
                try:
                    redeploy(session, target, BOT, self.now)
                except ReconcilerError:
                    pass
        finally:
            session.close()

    def tick(self) -> None:
        self.now += self.rng.choice([timedelta(minutes=7), timedelta(minutes=31), timedelta(hours=2),
                                     timedelta(hours=9), timedelta(days=1, hours=3)])


EDITS = ["add_version", "move_resource", "edit_policies", "gitops", "approve", "apply", "apply", "hold_or_redeploy",
         "tick", "tick"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_cached_plans_equal_full_recomputes_under_random_edits(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    state = Fleet(tmp_path / "fleet", rng)
    _check(state.root, state.now, monkeypatch)
    for step in range(26):
        edit = rng.choice(EDITS)
        getattr(state, edit)()
        if rng.random() < 0.3:
            plancache._MEMORY.clear()  # exercise the on-disk entries too
            plancache._MEMORY_TARGETS.clear()
        _check(state.root, state.now, monkeypatch)
        later = state.now + timedelta(minutes=rng.choice([1, 20, 45, 240]))
        _check(state.root, later, monkeypatch)  # the same cache entries, later: only while they are valid


def test_an_unchanged_fleet_is_planned_from_the_cache(tmp_path, monkeypatch):
    state = Fleet(tmp_path / "fleet", random.Random(5))
    state.apply()
    first = _check(state.root, state.now, monkeypatch)
    monkeypatch.setenv("RECONCILER_PLAN_CACHE", "1")
    session = open_session(str(state.root), readonly=True)
    try:
        cache = plancache.PlanCache(session, __import__("reconciler.engine.session", fromlist=["x"]).gather_facts(
            session, state.now))
        assert set(cache.reusable()) == set(session.catalog.deployments)
        assert make_plan(session, state.now).plan.to_json() == first
    finally:
        session.close()


def test_recorded_state_changes_invalidate_cached_outcomes_on_every_backend(tmp_path, monkeypatch, state_url):
    """Each backend reports a changed epoch after a write, so a cached outcome is never reused stale."""
    from reconciler.state.store import open_store

    state = Fleet(tmp_path / "fleet", random.Random(9))
    state.spec.policy["approvals"] = 1
    state.spec.write(state.root)
    monkeypatch.setenv("RECONCILER_STATE", state_url)
    store = open_store(state_url, "cache-prop", state.root)
    try:
        before = store.plan_epochs()
        first = _check(state.root, state.now, monkeypatch)["blocked"]
        store.record_approval(ApprovalRecord("api", "v1.0.0", "prod-a", "ann", "approved", "", state.now))
        assert store.plan_epochs() != before
        engine = getattr(store, "engine", None)
        if engine is not None:  # PostgreSQL bumps epochs at commit and leaves no notes behind
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM plan_epoch_pending")).scalar() == 0
    finally:
        store.close()
    rules = {b["rule"] for b in _check(state.root, state.now, monkeypatch)["blocked"] if b["target"] == "api/prod-a/r4"}
    assert {b["rule"] for b in first if b["target"] == "api/prod-a/r4"} == {"anyApproval"}
    assert rules == {"environmentProgression"}  # approved now: the next rule holds it


@pytest.mark.parametrize("damage", ["truncate", "grow", "garbage", "head", "rows"])
def test_a_damaged_cache_file_is_recomputed_not_trusted(tmp_path, monkeypatch, damage):
    """An entry cut short, grown, overwritten, with a broken head line or rows of another size is
    ignored: the plan is recomputed and equals a full recompute."""
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    state = Fleet(tmp_path / "fleet", random.Random(3))
    state.apply()
    first = _check(state.root, state.now, monkeypatch)
    plancache.flush()
    entries = sorted((tmp_path / "cache").rglob("*.plan"))
    assert entries
    original = {entry: entry.read_bytes() for entry in entries}
    for entry in entries:
        blob = original[entry]
        end = blob.index(b"\n")
        entry.write_bytes({"truncate": blob[:-7], "grow": blob + b"{}", "garbage": b"\x00\xff" * 40,
                           "head": b"[1]" + blob[end:],
                           "rows": blob[:end].replace(b'"sizes":[', b'"sizes":[1') + blob[end:]}[damage])
    plancache._MEMORY.clear()
    assert _check(state.root, state.now, monkeypatch) == first
    plancache.flush()
    for entry in entries:  # recomputed and stored again, whole
        assert entry.read_bytes() == original[entry]
        assert planfile.loads(original[entry])[1].deployment == unquote(entry.stem)


def test_a_plan_printed_from_stored_outcomes_never_decodes_their_entries(tmp_path, monkeypatch):
    """Summary, exit code, next evaluation and JSON rows of a plan made of cached outcomes come from
    the stored counts and rows; the entries are decoded only when read, and then equal them."""
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    state = Fleet(tmp_path / "fleet", random.Random(2))
    for _ in range(3):  # staging installed; prod waiting on its soak and window, some of it open now
        state.apply()
        state.now += timedelta(minutes=10)
    full = _check(state.root, state.now, monkeypatch)
    assert full["changes"] and full["blocked"] and full["nextEvaluation"]
    plancache.flush()
    plancache._MEMORY.clear()
    monkeypatch.setenv("RECONCILER_PLAN_CACHE", "1")
    session = open_session(str(state.root), readonly=True)
    try:
        plan = make_plan(session, state.now).plan
    finally:
        session.close()
    stored = plan.__dict__["_pending"]["changes"]
    assert stored and all(isinstance(o, planfile.StoredOutcome) for o in stored)
    printed = _text(plan)
    assert not any("_changes" in o.__dict__ or "_blocked" in o.__dict__ for o in stored)
    text = jsonview.dumps(plan.to_json(encoded=True))
    assert plan.exit_code() == 2 and iso(plan.next_evaluation) == full["nextEvaluation"]
    assert not any("_changes" in o.__dict__ or "_blocked" in o.__dict__ for o in stored)
    assert json.loads(text) == full
    assert [c.to_json() for c in plan.changes] == full["changes"]  # decoded now
    assert all("_changes" in o.__dict__ for o in stored)
    assert text == jsonview.dumps(plan.to_json())
    assert printed == _text(plan) == _text(_full_plan(state.root, state.now, monkeypatch))
    assert "batch" in printed or "next evaluation" in printed


def _text(plan) -> str:
    from reconciler.cli.commands.plan import _plain

    return _plain(plan)


def _full_plan(root: Path, now: datetime, monkeypatch):
    monkeypatch.setenv("RECONCILER_PLAN_CACHE", "0")
    session = open_session(str(root), readonly=True)
    try:
        return make_plan(session, now).plan
    finally:
        session.close()


def test_a_stored_outcome_with_assigned_entries_prints_those(tmp_path, monkeypatch):
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    state = Fleet(tmp_path / "fleet", random.Random(2))
    _check(state.root, state.now, monkeypatch)
    plancache.flush()
    blobs = [p.read_bytes() for p in sorted((tmp_path / "cache").rglob("*.plan"))]
    outcome = next(o for o in (planfile.loads(b)[1] for b in blobs) if o.size("changes") > 1)
    first = outcome.changes[0]
    outcome.changes = [first]
    assert outcome.size("changes") == 1 and outcome.operations() == {first.operation: 1}
    assert outcome.rows("changes") == Rows.of([first.to_json()])
    assert outcome.rows("blocked") == Rows.of(b.to_json() for b in outcome.blocked)


@pytest.mark.parametrize("where", ["memory", "disk"])
def test_a_replanned_deployment_gets_back_the_releases_whose_inputs_did_not_change(tmp_path, monkeypatch, where):
    """A policy edit re-plans every deployment, but changes no release: each change gets its
    release back from the previous outcome by identity (nothing is built), and the releases it
    rebuilds when read equal a full recompute's."""
    from reconciler.planning import build
    from reconciler.planning.outcome import DeferredRelease

    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    state = Fleet(tmp_path / "fleet", random.Random(4))
    first = _check(state.root, state.now, monkeypatch)
    assert first["changes"]
    plancache.flush()
    if where == "disk":
        plancache._MEMORY.clear()
    state.spec.policy["retry"] = 2 if state.spec.policy["retry"] != 2 else 1
    state.spec.write(state.root)
    built = []
    monkeypatch.setattr(build, "release_for", lambda *args: built.append(args) or _release_for(*args))
    monkeypatch.setenv("RECONCILER_PLAN_CACHE", "1")
    session = open_session(str(state.root), readonly=True)
    try:
        result = make_plan(session, state.now)
        assert result.outcomes, "the policy edit re-plans deployments"
        assert not built, [(str(a[1]), a[2].tag) for a in built]
        changes = [c for c in result.plan.changes if c.release is not None]
        assert len(changes) == len(first["changes"])
        assert all(type(c.release) is DeferredRelease and "config" not in c.release.__dict__ for c in changes)
    finally:
        session.close()
    monkeypatch.undo()
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "cache"))
    assert _check(state.root, state.now, monkeypatch)["changes"] == first["changes"]


_release_for = __import__("reconciler.planning.build", fromlist=["release_for"]).release_for
