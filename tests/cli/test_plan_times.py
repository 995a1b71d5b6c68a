"""Times in plans are UTC: a window opening in Europe/Berlin is shown (text, markdown, JSON and
rule messages) at its UTC instant, never as local wall-clock time with a ``Z``."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from reconciler.cli.views.plan_text import short_time
from reconciler.planning.plan import iso
from reconciler.planning.policies.base import fmt_time

BERLIN_NINE = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 08:00Z in winter


def test_local_times_are_converted_to_utc_everywhere():
    assert short_time(BERLIN_NINE) == "2026-11-23 08:00:00Z"
    assert iso(BERLIN_NINE) == "2026-11-23T08:00:00Z"
    assert fmt_time(BERLIN_NINE) == "2026-11-23 08:00Z"
    utc = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
    assert (short_time(utc), iso(utc), fmt_time(utc)) == ("2026-11-23 08:00:00Z", "2026-11-23T08:00:00Z",
                                                          "2026-11-23 08:00Z")


def test_a_berlin_window_forecast_in_the_plan_is_in_utc(cli, tmp_path):
    from tests.conftest import write_files

    write_files(tmp_path, {
        "reconciler.yaml": "workspace: times\n",
        "s.yaml": """
            type: System
            name: s
            ---
            type: Environment
            name: prod
            system: s
            resourceSelector: "true"
            ---
            type: Resource
            identifier: h1
            name: h1
            kind: Host
            version: v1
            ---
            type: JobAgent
            name: a
            config: {type: command, command: [/bin/true]}
            ---
            type: Deployment
            name: app
            system: s
            agent: {ref: a}
            ---
            type: Version
            deployment: app
            tag: v1
            createdAt: "2026-11-01T00:00:00Z"
            ---
            type: Policy
            name: office-hours
            rules:
              - deploymentWindow: {rrule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0", duration: 8h,
                                   timezone: Europe/Berlin}
        """,
    })
    assert cli("apply", "-C", tmp_path).code == 0  # the first deployment is exempt from the window
    with (tmp_path / "s.yaml").open("a") as f:
        f.write('---\ntype: Version\ndeployment: app\ntag: v2\ncreatedAt: "2026-11-02T00:00:00Z"\n')
    result = cli("plan", "-C", tmp_path, "--at", "2026-12-05T12:00:00Z")  # a Saturday
    assert result.code in (0, 2), result.err
    assert "next evaluation 2026-12-07 08:00:00Z" in result.out, result.out
    assert "09:00:00Z" not in result.out
