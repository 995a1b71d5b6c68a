"""deploymentWindow: allow windows (deploy only inside) and deny windows (never inside).

Occurrences come from an RFC 5545 RRULE in an IANA timezone (DST-aware: local wall-clock times).
A target's first deployment is exempt. Without DTSTART, occurrences are anchored at local midnight
seven days before the evaluation time (plus the duration), so BYHOUR/BYDAY rules are exact.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule

from reconciler.models.policy import DeploymentWindow
from reconciler.planning.policies.base import RuleContext, Verdict, allow, pending

SCOPE = ("current",)  # the verdict depends on whether the target runs something, and the clock


def _rule(spec: DeploymentWindow, around: datetime):
    tz = ZoneInfo(spec.timezone)
    text = spec.rrule.strip()
    if "DTSTART" in text.upper():
        return dateutil_rrule.rrulestr(text, ignoretz=True), tz
    local = around.astimezone(tz) - timedelta(days=7, seconds=spec.duration)
    anchor = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    return dateutil_rrule.rrulestr(text.removeprefix("RRULE:"), dtstart=anchor, ignoretz=True), tz


def current_window(spec: DeploymentWindow, now: datetime) -> tuple[datetime, datetime] | None:
    """(start, end) of the window occurrence containing ``now``, in UTC-aware times, or None."""
    rule, tz = _rule(spec, now)
    local_now = now.astimezone(tz).replace(tzinfo=None)
    last = rule.before(local_now, inc=True)
    if last is None:
        return None
    start = last.replace(tzinfo=tz)
    end = start + timedelta(seconds=spec.duration)
    return (start, end) if start <= now < end else None


def next_opening(spec: DeploymentWindow, now: datetime) -> datetime | None:
    rule, tz = _rule(spec, now)
    nxt = rule.after(now.astimezone(tz).replace(tzinfo=None), inc=False)
    return nxt.replace(tzinfo=tz) if nxt else None


def describe(at: datetime, tz: str) -> str:
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a %Y-%m-%d %H:%M} {tz}"


def anchor_shift(spec: DeploymentWindow, now: datetime) -> datetime | None:
    """When occurrences computed at ``now`` may next differ because the implicit anchor (local
    midnight seven days back) moves; None with an explicit DTSTART. An hour early, for DST."""
    if "DTSTART" in spec.rrule.upper():
        return None
    local = now.astimezone(ZoneInfo(spec.timezone)).replace(tzinfo=None) - timedelta(days=7, seconds=spec.duration)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    wall = midnight + timedelta(days=7, seconds=spec.duration) - timedelta(hours=1)
    return max(wall.replace(tzinfo=ZoneInfo(spec.timezone)), now)


def evaluate(spec: DeploymentWindow, ctx: RuleContext) -> Verdict:
    if ctx.current_version is None:
        return allow("first deployment of this target is exempt from the deployment window")
    verdict = _evaluate(spec, ctx.now)
    shift = anchor_shift(spec, ctx.now)
    return verdict if shift is None else replace(verdict, until=shift)


def _evaluate(spec: DeploymentWindow, now: datetime) -> Verdict:
    inside = current_window(spec, now)
    if spec.allow:
        if inside:
            return allow(f"inside deployment window until {describe(inside[1], spec.timezone)}", None, inside[1])
        opening = next_opening(spec, now)
        when = f"deployment window opens {describe(opening, spec.timezone)}" if opening else "no future deployment window"
        return pending(when, opening)
    if inside:
        return pending(f"deny window until {describe(inside[1], spec.timezone)}", inside[1])
    return allow("outside deny windows", None, next_opening(spec, now))


def push_start(spec: DeploymentWindow, start: datetime) -> datetime:
    """A rollout's start moved by a window: to the next allow opening, or past a deny window."""
    inside = current_window(spec, start)
    if spec.allow:
        if inside:
            return start
        opening = next_opening(spec, start)
        return opening or start
    return inside[1] if inside else start
