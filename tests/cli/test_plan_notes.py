"""What a reviewer must see in every plan: a Freeze in force (even when nothing is blocked), the
version a freeze holds back, and a first deployment let through a closed deployment window."""

from __future__ import annotations

import json

from tests.engine.conftest import ws  # noqa: F401 - the fixture


def test_an_active_freeze_is_shown_in_every_plan_format(cli, quickstart):
    assert cli("apply", "-C", quickstart).code == 0
    assert cli("approve", "--deployment", "api", "--version", "v1.2.3", "--environment", "production", "-C", quickstart,
               "--actor", "alice").code == 0
    assert cli("apply", "-C", quickstart).code == 0  # everything deployed: nothing left to block
    assert cli("freeze", "holidays", "-C", quickstart, "--reason", "end of year", "--until",
               "2099-01-05T00:00:00Z").code == 0
    text = cli("plan", "-C", quickstart).out
    assert "Freeze holidays is in force until 2099-01-05 00:00Z: end of year" in text
    assert "No changes" in text
    plan = json.loads(cli("plan", "-C", quickstart, "--format", "json").out)
    assert plan["notes"] == ["Freeze holidays is in force until 2099-01-05 00:00Z: end of year"]
    assert "> **Freeze holidays is in force" in cli("plan", "-C", quickstart, "--format", "markdown").out


def test_a_frozen_change_names_the_version_it_holds_back(cli, quickstart):
    assert cli("freeze", "stop", "-C", quickstart, "--reason", "incident 42").code == 0
    plan = json.loads(cli("plan", "-C", quickstart, "--format", "json").out)
    frozen = [b for b in plan["blocked"] if b["rule"] == "freeze"]
    assert frozen and {b["version"] for b in frozen} == {"v1.2.3"}
    assert "blocked api v1.2.3 on" in cli("plan", "-C", quickstart).out


def test_a_first_deployment_through_a_closed_window_says_so(cli, quickstart):
    (quickstart / "window.yaml").write_text(
        "type: Policy\nname: mondays\nrules:\n  - deploymentWindow: {rrule: 'FREQ=WEEKLY;BYDAY=MO;BYHOUR=9', "
        "duration: 1h}\n")
    plan = json.loads(cli("plan", "-C", quickstart, "--format", "json", "--at", "2026-12-05T12:00:00Z").out)
    staging = [c for c in plan["changes"] if c["environment"] == "staging"]
    assert staging and "first deployment of this target is exempt from the deployment window" in staging[0]["reason"]


def test_a_pin_to_an_older_version_is_called_a_downgrade(cli, ws):
    root = ws(resources=1, versions="v1 v2")
    assert cli("apply", "-C", root).code == 0
    assert cli("pin", "hold-v1", "-C", root, "--deployment", "app", "--version", "v1", "--reason", "v2 leaks").code == 0
    (change,) = json.loads(cli("plan", "-C", root, "--format", "json").out)["changes"]
    assert (change["fromVersion"], change["toVersion"]) == ("v2", "v1")
    assert change["reason"] == "downgrade to v1 (pinned by hold-v1: v2 leaks)"


def test_a_blocked_entry_says_what_it_waits_for(cli, quickstart):
    assert "/anyApproval; waits for an approval]" in cli("plan", "-C", quickstart).out
    (quickstart / "promote.yaml").write_text(
        "type: Policy\nname: promote\nselectors: [{environments: environment.name == 'production'}]\nrules:\n"
        "  - environmentProgression: {dependsOnEnvironmentSelector: environment.name == 'staging'}\n")
    assert cli("approve", "--deployment", "api", "--version", "v1.2.3", "--environment", "production", "-C", quickstart,
               "--actor", "alice").code == 0
    text = cli("plan", "-C", quickstart).out
    assert "[promote/environmentProgression; waits for the environments it depends on]" in text
    assert "waits for a person" not in text
    assert cli("freeze", "stop", "-C", quickstart, "--reason", "incident 42").code == 0
    assert "/freeze; waits for the Freeze to be removed]" in cli("plan", "-C", quickstart).out
