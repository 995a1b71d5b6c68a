"""Engine glue: artifact summaries in plans, re-rendering with real secrets for execution, and the
job-spec round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.engine import artifacts
from reconciler.engine.planner import make_plan
from reconciler.engine.session import open_session
from reconciler.planning.releases import materialize
from reconciler.rendering import compose, sticker
from reconciler.rendering.sandbox import render_value
from tests.rendering import workspace

NOW = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def session(make_repo):
    root = make_repo(workspace.files())
    opened = open_session(str(root), None, None, readonly=True)
    yield opened
    opened.close()


def templates(session):
    return artifacts.load_templates(session.workspace.loaded.source, session.catalog.config.templatesDir)


def planned(session, previous=lambda target: None):
    result = make_plan(session, NOW)
    artifacts.plan_artifacts(session.catalog, result, templates(session), previous)
    return result.plan


def test_templates_load_from_the_templates_folder(session):
    assert list(templates(session)) == ["compose.yml.j2"]


def test_a_plan_lists_each_changes_artifacts_with_a_diff_against_nothing(session):
    plan = planned(session)
    assert [str(c.key) for c in plan.changes] == ["web/production/host-1", "web/production/host-2"]
    summary = plan.changes[0].artifacts
    assert list(summary) == [".env", "compose.lock.yml"]
    assert summary[".env"]["type"] == "env-file" and summary[".env"]["changed"] is True
    assert summary[".env"]["diff"].startswith("--- /dev/null\n+++ b/.env\n@@")
    assert plan.to_json()["changes"][0]["artifacts"]["compose.lock.yml"]["sha256"] == summary["compose.lock.yml"][
        "sha256"]


def test_unchanged_artifacts_have_no_diff_and_a_changed_one_has_a_unified_diff(session):
    current = {str(c.key): {p: a.content for p, a in
                            artifacts.render_release(session.catalog, c.release, templates(session)).items()}
               for c in make_plan(session, NOW).plan.changes}
    same = planned(session, current.get).changes[0].artifacts
    assert [s["changed"] for s in same.values()] == [False, False] and same[".env"]["diff"] is None
    current["web/production/host-1"][".env"] = "LOG_LEVEL=debug\n"
    current["web/production/host-1"]["old.conf"] = "gone\n"
    summary = planned(session, current.get).changes[0].artifacts
    assert "-LOG_LEVEL=debug\n+LOG_LEVEL=info\n" in summary[".env"]["diff"]
    assert summary["old.conf"] == {"sha256": None, "type": None, "changed": True,
                                   "diff": "--- a/old.conf\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n"}


def test_execution_re_renders_with_the_real_secret_and_the_same_lock(session, monkeypatch):
    change = make_plan(session, NOW).plan.changes[0]
    spec = change.release.job_spec()
    spec["artifacts"] = artifacts.artifact_job_spec(session.catalog, change.release, templates(session))
    monkeypatch.setenv("WEB_DB_PASSWORD", "s3cret value")
    variables, config = materialize(spec, render_value, lambda env: "s3cret value")
    files = artifacts.render_for_execution(spec, variables, config)
    assert "DB_PASSWORD='s3cret value'\n" in files[".env"]
    planned_lock = artifacts.render_release(session.catalog, change.release, templates(session))["compose.lock.yml"]
    assert files["compose.lock.yml"] == planned_lock.content
    assert spec["artifacts"]["lockDigest"] == compose.read_header(planned_lock.content)["digest"]
    assert spec["artifacts"]["files"][".env"]["type"] == "env-file"
    assert "s3cret" not in str(spec)  # the job spec, which is stored, holds no secret


def test_artifact_release_id_ignores_secret_values(session, monkeypatch):
    release = make_plan(session, NOW).plan.changes[0].release
    rid = artifacts.artifact_release_id(session.catalog, release)
    monkeypatch.setenv("WEB_DB_PASSWORD", "other")
    again = make_plan(session, NOW).plan.changes[0].release
    assert again.id != release.id and artifacts.artifact_release_id(session.catalog, again) == rid


def test_a_deployment_without_artifacts_needs_nothing(session):
    assert artifacts.render_for_execution({"context": {}}, {}, {}) == {}


def test_desired_releases_cover_unchanged_targets_too(session):
    releases, problems = artifacts.desired_releases(session, NOW)
    assert sorted(releases) == ["web/production/host-1", "web/production/host-2"] and not problems


def test_the_sticker_format():
    lock = compose.build_lock(f"services: {{web: {{image: web}}}}", {"web": workspace.WEB}, services={},
                              release_id="r1", revision="inputs-1", target="t", version="v1", name="lock")
    text = sticker.make_sticker(release_id="r1", target="web/production/host-1", version="v1", task_id="task1",
                                revision=None, artifacts={".env": "A=1\n", "compose.lock.yml": lock})
    digest = compose.read_header(lock)["digest"]
    assert text == ('{\n  "lockDigest": "%s",\n  "releaseId": "r1",\n  "revision": "inputs-1",\n'
                    '  "target": "web/production/host-1",\n  "taskId": "task1",\n  "version": "v1"\n}\n' % digest)
    assert sticker.parse_sticker(text)["lockDigest"] == digest
    with pytest.raises(ValueError, match="lacks releaseId"):
        sticker.parse_sticker('{"target": "t", "version": "v"}')


def test_an_uninstall_lists_the_files_it_removes(session):
    from reconciler.models.keys import TargetKey
    from reconciler.planning.build import PlanResult
    from reconciler.planning.plan import Change, Plan

    result = PlanResult(Plan("shop", "rev", NOW, [Change(TargetKey("web", "production", "old"), "uninstall", "v1",
                                                         None, "removed")]))
    artifacts.plan_artifacts(session.catalog, result, {}, {"web/production/old": {".env": "A=1\n"}}.get)
    assert result.plan.changes[0].artifacts == {".env": {"sha256": None, "type": None, "changed": True,
                                                         "diff": "--- a/.env\n+++ /dev/null\n@@ -1 +0,0 @@\n-A=1\n"}}
