"""Rollout timelines: for each recent version of a deployment, one SVG picture with a lane per
target grouped by environment (in promotion order), a bar per task from start to finish coloured
by outcome, a diamond per approval, and an outlined box for targets still waiting (the reason in
its tooltip) or that the next apply deploys. This module computes the geometry; ``templates/_timeline.html`` draws it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from reconciler.models.records import ApprovalRecord, TaskRecord

WIDTH, LABEL, LANE, GAP, TOP, BOTTOM, RIGHT = 760, 190, 20, 10, 30, 26, 96


@dataclass
class Picture:
    title: str
    width: int
    height: int
    groups: list[dict[str, Any]] = field(default_factory=list)  # environment bands
    lanes: list[dict[str, Any]] = field(default_factory=list)
    bars: list[dict[str, Any]] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)  # approvals
    waiting: list[dict[str, Any]] = field(default_factory=list)
    ticks: list[dict[str, Any]] = field(default_factory=list)
    plot: tuple[int, int] = (LABEL, WIDTH - RIGHT)


def pictures(deployment: str, versions: list[str], targets: dict[str, list[str]], tasks: list[TaskRecord],
             votes: list[ApprovalRecord], waiting: dict[str, dict[str, tuple[str, str]]], now: datetime
             ) -> list[Picture]:
    """One picture per version (newest first). ``targets``: environment -> target keys (ordered);
    ``waiting``: version -> target -> (label, why) for targets not there yet (waiting, next apply)."""
    out = []
    for version in versions:
        mine = [t for t in tasks if t.version == version]
        approvals = [v for v in votes if v.version == version and v.status == "approved"]
        held = waiting.get(version, {})
        if mine or approvals or held:
            out.append(picture(f"{deployment} {version}", targets, mine, approvals, held, now))
    return out


def picture(title: str, targets: dict[str, list[str]], tasks: list[TaskRecord], votes: list[ApprovalRecord],
            waiting: dict[str, tuple[str, str]], now: datetime) -> Picture:
    lanes, groups, y = {}, [], TOP
    for env, keys in targets.items():
        groups.append({"label": env, "y": y - 2, "height": len(keys) * LANE + 4})
        for key in keys:
            lanes[key] = y
            y += LANE
        y += GAP
    pic = Picture(title, WIDTH, y + BOTTOM - GAP, groups)
    pic.lanes = [{"label": key.split("/", 2)[2], "y": lane, "target": key} for key, lane in lanes.items()]
    start, end = _span(tasks, votes, waiting, now)
    scale = _scale(start, end)
    for task in tasks:
        if task.target in lanes:
            pic.bars.append(_bar(task, lanes[task.target], scale, now))
    for vote in votes:
        env_lanes = [lanes[k] for k in targets.get(vote.environment, []) if k in lanes]
        if env_lanes:
            pic.marks.append({"x": scale(vote.at), "y": env_lanes[0] + LANE / 2,
                              "title": f"approved by {vote.actor} at {_clock(vote.at)}"})
    for key, (label, why) in waiting.items():
        if key in lanes:
            pic.waiting.append({"x": WIDTH - RIGHT + 6, "y": lanes[key] + 3, "width": RIGHT - 12,
                                "height": LANE - 6, "title": why, "label": label,
                                "kind": label.replace(" ", "-")})
    pic.ticks = [{"x": scale(start + (end - start) * i / 4), "label": _clock(start + (end - start) * i / 4)}
                 for i in range(5)]
    return pic


def _span(tasks: list[TaskRecord], votes: list[ApprovalRecord], waiting: dict[str, tuple[str, str]],
          now: datetime) -> tuple[datetime, datetime]:
    times = [t.started_at or t.created_at for t in tasks] + [v.at for v in votes]
    ends = [t.finished_at or now for t in tasks] + [v.at for v in votes]
    if waiting or any(t.finished_at is None for t in tasks):
        ends.append(now)
    start = min(times) if times else now - timedelta(minutes=5)
    end = max(ends) if ends else now
    if end - start < timedelta(seconds=60):
        end = start + timedelta(seconds=60)
    return start, end


def _scale(start: datetime, end: datetime) -> Callable[[datetime], float]:
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return round(LABEL + (WIDTH - RIGHT - LABEL) * (at - start).total_seconds() / span, 1)

    return x


def _bar(task: TaskRecord, lane: int, scale: Callable[[datetime], float], now: datetime) -> dict[str, Any]:
    begin = task.started_at or task.created_at
    x0, x1 = scale(begin), scale(task.finished_at or now)
    tip = (f"{task.operation} {task.target} {task.version}: {task.status} "
           f"({_clock(begin)} – {_clock(task.finished_at) if task.finished_at else 'now'}) task {task.id}")
    return {"x": x0, "y": lane + 3, "width": max(x1 - x0, 4), "height": LANE - 6, "status": task.status.replace("_", "-"),
            "title": tip}


def _clock(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%m-%d %H:%M:%S")
