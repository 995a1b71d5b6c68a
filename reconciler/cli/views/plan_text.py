"""The plan for terminals: one line per change, identical changes collapsed, blocked targets with
their rule and when they move, then a summary. Colour only when writing to a TTY."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from rich.console import Console
from rich.markup import escape

from reconciler.planning.groups import Group, blocked_key, change_key
from reconciler.planning.plan import Blocked, Change, Plan, utc

# What a blocked entry with no next evaluation time waits for, by the rule that blocks it.
WAITS = {
    "anyApproval": "waits for an approval",
    "environmentProgression": "waits for the environments it depends on",
    "deploymentDependency": "waits for the deployment it depends on",
    "versionSelector": "not allowed by the selector; waits for a policy change",
    "concurrency": "waits for a running task to finish",
    "hold": "waits for the hold to be lifted",
    "freeze": "waits for the Freeze to be removed",
    "": "waits for a change of desired or recorded state",
}
SYMBOLS = {"install": ("+", "green"), "upgrade": ("~", "yellow"), "reinstall": ("↻", "cyan"),
           "recreate": ("±", "magenta"), "uninstall": ("-", "red"), "rollback": ("↶", "red")}


def short_revision(revision: str) -> str:
    """A commit shortened to 12 characters, keeping ``+dirty`` (uncommitted edits) visible."""
    if revision == "worktree":
        return revision
    return revision[:12] + ("+dirty" if revision.endswith("+dirty") else "")


def short_time(value: datetime | None) -> str:
    return "-" if value is None else utc(value).strftime("%Y-%m-%d %H:%M:%SZ")


def _versions(change: Change) -> str:
    return _shown_versions(change.operation, change.from_version, change.to_version)


def _shown_versions(operation: str, from_version: str | None, to_version: str | None) -> str:
    if operation == "uninstall":
        return from_version or ""
    if from_version and from_version != to_version:
        return f"{from_version} → {to_version}"
    return to_version or ""


def group_changes(changes: list[Change]) -> "OrderedDict[tuple, list[Change]]":
    groups: OrderedDict[tuple, list[Change]] = OrderedDict()
    for change in changes:
        groups.setdefault(change_key(change), []).append(change)
    return groups


def batch_totals(changes: list[Change]) -> dict[tuple[str, str], int]:
    """How many batches each deployment × environment's rollout has."""
    totals: dict[tuple[str, str], int] = {}
    for c in changes:
        if c.batch is not None:
            key = (c.key.deployment, c.key.environment)
            totals[key] = max(totals.get(key, 0), c.batch)
    return totals


def batch_label(change: Change, totals: dict[tuple[str, str], int]) -> str:
    """``batch 2 of 3`` for a change of a rolling or canary rollout, else empty."""
    if change.batch is None:
        return ""
    return f"batch {change.batch} of {totals[(change.key.deployment, change.key.environment)]}"


def group_blocked(blocked: list[Blocked]) -> "OrderedDict[tuple, list[Blocked]]":
    groups: OrderedDict[tuple, list[Blocked]] = OrderedDict()
    for item in blocked:
        groups.setdefault(blocked_key(item), []).append(item)
    return groups


def _where_group(group: Group) -> str:
    if group.single is not None:
        return f"{group.single[0]} ({group.single[1]})"
    return f"{group.count} targets ({', '.join(group.environments)})"


def render(plan: Plan, console: Console) -> None:
    rev = short_revision(plan.revision)
    console.print(f"Plan for [bold]{escape(plan.workspace)}[/] at {short_time(plan.at)} (revision {escape(rev)})")
    console.print()
    for note in plan.notes:
        console.print(f"  [bold yellow]‼ {escape(note)}[/]")
    for group in plan.groups("changes"):
        dep, op, from_version, to_version, reason, batch = group.key
        symbol, colour = SYMBOLS.get(op, ("*", "white"))
        what = f"{op} {dep} {_shown_versions(op, from_version, to_version)} on {_where_group(group)}"
        what += f", batch {batch} of {group.batches}" if batch is not None else ""
        console.print(f"  [{colour}]{symbol} {escape(what)}[/]  [dim]{escape(reason)}[/]")
        if group.files:
            console.print(f"      [dim]artifacts: {escape(', '.join(group.files))}[/]")
    for group in plan.groups("blocked"):
        dep, version, policy, rule, message, nxt = group.key
        when = f"; next evaluation {short_time(nxt)}" if nxt else f"; {WAITS.get(rule, WAITS[''])}"
        head = f"blocked {dep} {version} on {_where_group(group)}".replace("  ", " ")
        console.print(f"  [bold red]! {escape(head)}[/]  {escape(message)} [dim]\\[{escape(policy)}/{escape(rule)}"
                      f"{escape(when)}][/]")
    for item in plan.in_flight:
        console.print(f"  [blue]… in progress[/] {escape(item.target)} {escape(item.operation)} {escape(item.version)}"
                      f" [dim](task {item.task_id}, {item.status})[/]")
    for orphan in plan.orphaned:
        console.print(f"  [yellow]? orphaned[/] {escape(orphan.target)} {escape(orphan.version)} "
                      f"[dim]{escape(orphan.reason)}[/]")
    if plan.empty():
        console.print("  No changes. Every release target runs its desired release.")
    console.print()
    console.print(summary_line(plan))


def summary_line(plan: Plan) -> str:
    s = plan.summary()
    parts = [f"{s[op]} {op}" for op in ("install", "upgrade", "reinstall", "recreate", "uninstall", "rollback") if s[op]]
    parts += [f"{s['blocked']} blocked", f"{s['unchanged']} unchanged"]
    if s["orphaned"]:
        parts.append(f"{s['orphaned']} orphaned")
    if s["inProgress"]:
        parts.append(f"{s['inProgress']} in progress")
    line = f"Plan: {', '.join(parts)} ({plan.targets} release targets)."
    if plan.next_evaluation:
        line += f" Next evaluation: {short_time(plan.next_evaluation)}."
    return line
