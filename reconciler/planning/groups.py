"""Identical plan entries collapsed into groups, as the text view prints them: changes by
deployment, operation, versions, reason and batch; blocked targets by deployment, version, rule,
message and next evaluation. A group keeps what the view shows of its entries (how many, in which
environments, the one target when there is one, the rollout's batch count, changed artifacts).

Groups never span deployments and a plan lists deployments one after another, so a plan's groups
are its deployments' groups in order: a stored outcome keeps its own, and a plan printed from
stored outcomes never decodes their entries.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple


class Group(NamedTuple):
    key: tuple  # changes: (deployment, operation, from, to, reason, batch); blocked: (deployment,
    # version, policy, rule, message, next evaluation)
    count: int
    environments: tuple[str, ...]  # sorted
    single: tuple[str, str] | None  # (resource, environment) of a group of one
    batches: int = 0  # changes of a rollout: how many batches the first one's environment has
    files: tuple[str, ...] = ()  # changes: artifact files the group changes


def change_key(change: Any) -> tuple:
    return (change.key.deployment, change.operation, change.from_version, change.to_version, change.reason,
            change.batch)


def blocked_key(item: Any) -> tuple:
    return (item.key.deployment, item.version, item.policy, item.rule, item.message, item.next_evaluation)


def group(kind: str, entries: Iterable[Any]) -> list[Group]:
    """The groups of ``changes`` or ``blocked`` entries, in order of first appearance."""
    key_of = change_key if kind == "changes" else blocked_key
    members: dict[tuple, list[Any]] = {}
    batches: dict[tuple[str, str], int] = {}
    for entry in entries:
        members.setdefault(key_of(entry), []).append(entry)
        batch = getattr(entry, "batch", None)
        if batch is not None:
            where = (entry.key.deployment, entry.key.environment)
            batches[where] = max(batches.get(where, 0), batch)
    out = []
    for key, items in members.items():
        first = items[0].key
        files = sorted({p for c in items for p, a in getattr(c, "artifacts", {}).items() if a.get("changed")})
        out.append(Group(key, len(items), tuple(sorted({i.key.environment for i in items})),
                         (first.resource, first.environment) if len(items) == 1 else None,
                         batches.get((first.deployment, first.environment), 0), tuple(files)))
    return out


def encode(kind: str, groups: list[Group]) -> list[list[Any]]:
    """JSON rows of ``groups`` (a next evaluation as ISO text)."""
    rows = []
    for g in groups:
        key = list(g.key)
        if kind == "blocked" and key[5] is not None:
            key[5] = key[5].isoformat()
        rows.append([key, g.count, list(g.environments), list(g.single) if g.single else None, g.batches,
                     list(g.files)])
    return rows


def decode(kind: str, rows: list[list[Any]]) -> list[Group]:
    """``encode``'s rows back; raises ValueError/TypeError/IndexError on damaged ones."""
    out = []
    for key, count, environments, single, batches, files in rows:
        if len(key) != 6:
            raise ValueError("damaged group key")
        if kind == "blocked" and key[5] is not None:
            key[5] = datetime.fromisoformat(key[5])
        out.append(Group(tuple(key), int(count), tuple(environments), tuple(single) if single else None,
                         int(batches), tuple(files)))
    return out
