"""The plan as GitHub-flavoured markdown for PR comments: a summary table, then a ``<details>``
section per deployment with its changes and blocked targets."""

from __future__ import annotations

from collections import defaultdict

from reconciler.cli.views.plan_text import (
    _versions,
    batch_label,
    batch_totals,
    group_blocked,
    group_changes,
    short_revision,
    short_time,
)
from reconciler.planning.plan import Plan

ORDER = ("install", "upgrade", "reinstall", "recreate", "uninstall", "rollback", "blocked", "unchanged",
         "orphaned", "inProgress")


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


ARTIFACT_TARGETS = 5


def artifact_sections(changes) -> list[str]:
    """Unified diffs of the artifacts each change would ship (a few targets per deployment)."""
    with_diffs = [c for c in changes if any(a.get("changed") and a.get("diff") for a in c.artifacts.values())]
    out: list[str] = []
    for change in with_diffs[:ARTIFACT_TARGETS]:
        changed = {p: a for p, a in change.artifacts.items() if a.get("changed") and a.get("diff")}
        out += [f"<details><summary>artifacts of <code>{change.key}</code>: {', '.join(sorted(changed))}</summary>",
                "", "```diff", *[a["diff"].rstrip("\n") for _, a in sorted(changed.items())], "```", "",
                "</details>", ""]
    if len(with_diffs) > ARTIFACT_TARGETS:
        out += [f"_Artifact diffs of {len(with_diffs) - ARTIFACT_TARGETS} more targets are in the plan JSON._", ""]
    return out


def render(plan: Plan) -> str:
    rev = short_revision(plan.revision)
    lines = [f"### reconciler plan for `{plan.workspace}` at `{rev}`", ""]
    summary = plan.summary()
    lines += ["| " + " | ".join(ORDER) + " |", "|" + "---|" * len(ORDER),
              "| " + " | ".join(str(summary[k]) for k in ORDER) + " |", ""]
    if plan.next_evaluation:
        lines += [f"Next evaluation: **{short_time(plan.next_evaluation)}**", ""]
    lines += [f"> **{cell(note)}**" for note in plan.notes] + ([""] if plan.notes else [])
    by_dep: dict[str, list[str]] = defaultdict(list)
    totals = batch_totals(plan.changes)
    for (dep, op, _f, _t, reason, _b), items in group_changes(plan.changes).items():
        where = ", ".join(f"`{c.key.resource}` ({c.key.environment})" for c in items[:20])
        if len(items) > 20:
            where += f" and {len(items) - 20} more"
        diff = "; ".join(f"`{k}`: {v[0]!r} → {v[1]!r}" for k, v in list(items[0].diff.items())[:8])
        batch = batch_label(items[0], totals)
        op_cell = f"{op} ({batch})" if batch else op
        by_dep[dep].append(f"| {op_cell} | {cell(_versions(items[0]))} | {len(items)} | {cell(where)} | "
                           f"{cell(reason)}{' — ' + cell(diff) if diff else ''} |")
    blocked: dict[str, list[str]] = defaultdict(list)
    for (dep, version, policy, rule, message, nxt), items in group_blocked(plan.blocked).items():
        where = ", ".join(f"`{b.key.resource}` ({b.key.environment})" for b in items[:20])
        blocked[dep].append(f"| {cell(version)} | {len(items)} | {cell(where)} | `{cell(policy)}/{cell(rule)}` | "
                            f"{cell(message)} | {short_time(nxt) if nxt else 'a person'} |")
    for dep in sorted(set(by_dep) | set(blocked)):
        n = len(by_dep.get(dep, [])) + len(blocked.get(dep, []))
        lines += [f"<details><summary><b>{dep}</b> ({n} line{'s' if n != 1 else ''})</summary>", ""]
        if dep in by_dep:
            lines += ["| operation | version | targets | where | reason |", "|---|---|---|---|---|", *by_dep[dep], ""]
            lines += artifact_sections([c for c in plan.changes if c.key.deployment == dep])
        if dep in blocked:
            lines += ["| blocked version | targets | where | rule | why | moves |", "|---|---|---|---|---|---|",
                      *blocked[dep], ""]
        lines += ["</details>", ""]
    if plan.orphaned:
        lines += ["**Orphaned targets** (uninstall with `--prune`):", ""]
        lines += [f"- `{o.target}` {o.version}: {o.reason}" for o in plan.orphaned] + [""]
    if not (plan.changes or plan.blocked or plan.orphaned or plan.in_flight):
        lines += ["No changes. Every release target runs its desired release.", ""]
    return "\n".join(lines)
