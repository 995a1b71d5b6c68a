"""The plan for terminals: one line per change, identical changes collapsed, blocked targets with
their rule and when they move, then a summary. Colour only when writing to a TTY."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from rich.console import Console
from rich.markup import escape

from reconciler.planning.plan import Blocked, Change, Plan, utc

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
    if change.operation == "uninstall":
        return change.from_version or ""
    if change.from_version and change.from_version != change.to_version:
        return f"{change.from_version} → {change.to_version}"
    return change.to_version or ""


def group_changes(changes: list[Change]) -> "OrderedDict[tuple, list[Change]]":
    groups: OrderedDict[tuple, list[Change]] = OrderedDict()
    for change in changes:
        key = (change.key.deployment, change.operation, change.from_version, change.to_version, change.reason,
               change.batch)
        groups.setdefault(key, []).append(change)
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
        key = (item.key.deployment, item.version, item.policy, item.rule, item.message, item.next_evaluation)
        groups.setdefault(key, []).append(item)
    return groups


def _where(keys: list) -> str:
    if len(keys) == 1:
        return f"{keys[0].resource} ({keys[0].environment})"
    envs = sorted({k.environment for k in keys})
    return f"{len(keys)} targets ({', '.join(envs)})"


def render(plan: Plan, console: Console) -> None:
    rev = short_revision(plan.revision)
    console.print(f"Plan for [bold]{escape(plan.workspace)}[/] at {short_time(plan.at)} (revision {escape(rev)})")
    console.print()
    for note in plan.notes:
        console.print(f"  [bold yellow]‼ {escape(note)}[/]")
    totals = batch_totals(plan.changes)
    for (dep, op, _f, _t, reason, _b), items in group_changes(plan.changes).items():
        symbol, colour = SYMBOLS.get(op, ("*", "white"))
        what = f"{op} {dep} {_versions(items[0])} on {_where([c.key for c in items])}"
        batch = batch_label(items[0], totals)
        what += f", {batch}" if batch else ""
        console.print(f"  [{colour}]{symbol} {escape(what)}[/]  [dim]{escape(reason)}[/]")
        files = sorted({p for c in items for p, a in c.artifacts.items() if a.get("changed")})
        if files:
            console.print(f"      [dim]artifacts: {escape(', '.join(files))}[/]")
    for (dep, version, policy, rule, message, nxt), items in group_blocked(plan.blocked).items():
        when = f"; next evaluation {short_time(nxt)}" if nxt else "; waits for a person"
        head = f"blocked {dep} {version} on {_where([b.key for b in items])}".replace("  ", " ")
        console.print(f"  [bold red]! {escape(head)}[/]  {escape(message)} [dim]\\[{escape(policy)}/{escape(rule)}"
                      f"{escape(when)}][/]")
    for item in plan.in_flight:
        console.print(f"  [blue]… in progress[/] {escape(item.target)} {escape(item.operation)} {escape(item.version)}"
                      f" [dim](task {item.task_id}, {item.status})[/]")
    for orphan in plan.orphaned:
        console.print(f"  [yellow]? orphaned[/] {escape(orphan.target)} {escape(orphan.version)} "
                      f"[dim]{escape(orphan.reason)}[/]")
    if not (plan.changes or plan.blocked or plan.in_flight or plan.orphaned):
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
