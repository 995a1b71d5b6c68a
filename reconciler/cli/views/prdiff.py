"""The PR plan (``plan --base``) as markdown for a PR comment, or text.

GitHub rejects comments over 65,536 characters, so the markdown is built whole tables at a time:
when it grows too long, rows are dropped per table (with a note saying how many and where the full
JSON is) rather than cutting a table in half.
"""

from __future__ import annotations

from collections import defaultdict

from reconciler.cli.views.plan_markdown import cell
from reconciler.cli.views.plan_text import short_revision, short_time

LIMIT = 60000  # leave room under GitHub's 65,536 for the marker and a footer
MARKER = "<!-- reconciler-plan -->"


def _rows(diff) -> dict[str, list[tuple[str, str, str, str]]]:
    by_dep: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for target, base, head in diff.entries:
        dep, env, res = target.split("/", 2)
        if head.kind == "absent":
            why = "no longer a release target with this PR (its deployment, environment or resource is gone)"
        elif head.kind == "unchanged" and base.kind != "unchanged":
            why = "nothing to do with this PR"
        else:
            why = head.detail if head.kind in ("change", "blocked", "orphaned") else base.detail
        if head.next_evaluation:
            why += f" (next evaluation {short_time(head.next_evaluation)})"
        by_dep[dep].append((f"`{res}` ({env})", base.label(), head.label(), why))
    return by_dep


def _table(dep: str, rows, limit: int | None) -> list[str]:
    shown = rows if limit is None else rows[:limit]
    lines = [f"<details><summary><b>{dep}</b>: {len(rows)} target{'s' if len(rows) != 1 else ''} change</summary>",
             "", "| target | before this PR | with this PR | why |", "|---|---|---|---|"]
    lines += [f"| {cell(t)} | {cell(b)} | **{cell(h)}** | {cell(w)} |" for t, b, h, w in shown]
    if len(shown) < len(rows):
        lines += ["", f"_{len(rows) - len(shown)} more rows not shown to stay under GitHub's comment limit; "
                      "see the plan JSON artifact._"]
    return [*lines, "", "</details>", ""]


def markdown(diff, limit: int = LIMIT) -> str:
    head, base = short_revision(diff.head), short_revision(diff.base)
    header = [MARKER, f"### reconciler plan: `{base}` → `{head}`", "",
              f"**{len(diff.entries)}** release target{'s' if len(diff.entries) != 1 else ''} change with this PR; "
              f"{diff.unaffected} unaffected (not listed). Evaluated at {short_time(diff.at)}.", ""]
    by_dep = _rows(diff)
    if not by_dep:
        return "\n".join([*header, "This PR does not change what any release target will run.", ""])
    per_table: int | None = None
    while True:
        body: list[str] = []
        for dep in sorted(by_dep):
            body += _table(dep, by_dep[dep], per_table)
        text = "\n".join([*header, *body])
        if len(text) <= limit:
            return text
        if per_table == 1:
            return _drop_sections(header, by_dep, limit)
        biggest = max(len(rows) for rows in by_dep.values())
        per_table = max(1, (per_table or biggest) // 2)


def _drop_sections(header: list[str], by_dep, limit: int) -> str:
    """Last resort: whole deployment sections are left out (never half a table), with a note."""
    note_room = 200
    size = len("\n".join(header))
    body: list[str] = []
    dropped = 0
    for dep in sorted(by_dep):
        lines = _table(dep, by_dep[dep], 1)
        extra = len("\n".join(lines)) + 1
        if size + extra + note_room > limit:
            dropped += 1
            continue
        body += lines
        size += extra
    note = [f"_{dropped} deployments not shown to stay under GitHub's comment limit; see the plan JSON artifact._"]
    return "\n".join([*header, *body, *note])


def text(diff) -> str:
    lines = [f"PR plan {short_revision(diff.base)} → {short_revision(diff.head)}: {len(diff.entries)} target{'s' if len(diff.entries) != 1 else ''} change{'' if len(diff.entries) != 1 else 's'}, "
             f"{diff.unaffected} unaffected"]
    for target, base, head in diff.entries:
        lines.append(f"  {target}: {base.label()} → {head.label()}")
    return "\n".join(lines)
