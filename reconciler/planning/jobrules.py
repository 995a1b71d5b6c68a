"""Rules that act after dispatch, resolved per planned change: verification (metrics rendered
against the release), automatic rollback, and the rollout strategy (Stella's all-at-once, rolling,
canary, blue-green) with the batch each target is in.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from reconciler.models.policy import Strategy
from reconciler.planning.plan import Change
from reconciler.planning.policies import evaluate
from reconciler.planning.policies.base import RuleContext
from reconciler.planning.releases import Render, render_tree


def after_dispatch(ctx: RuleContext, render: Render, context: Callable[[], dict[str, Any]],
                   rules: Callable[[str], list[tuple[str, Any]]] | None = None) -> dict[str, Any]:
    """The verification, rollback and strategy settings for this target, JSON-ready. ``context``
    gives the release's template context (asked only when verification metrics render); ``rules``
    looks up (policy, rule) pairs by kind, if the caller has a faster (memoized) lookup."""
    lookup = rules or (lambda kind: evaluate.job_rules(ctx, kind))
    out: dict[str, Any] = {}
    verifications = lookup("verification")
    if verifications:
        values = context()
        metrics: dict[str, dict[str, Any]] = {}
        trigger = verifications[0][1].triggerOn
        for policy, rule in verifications:
            for metric in rule.metrics:
                spec = metric.model_dump(mode="json")
                spec["provider"] = render_tree(spec["provider"], render, values)
                spec["policy"] = policy
                metrics.setdefault(metric.name, spec)  # the highest-priority policy wins a name
        out["verification"] = {"triggerOn": trigger, "metrics": list(metrics.values())}
    rollbacks = lookup("rollback")
    if rollbacks:
        policy, rule = rollbacks[0]
        out["rollback"] = {"policy": policy, **rule.model_dump(mode="json")}
    strategy = _strategy(ctx.deployment, lookup)
    if strategy is not None:
        out["strategy"] = strategy
    return out


def _strategy(deployment, lookup) -> dict[str, Any] | None:
    rules = lookup("strategy")
    if rules:
        return rules[0][1].model_dump(mode="json")
    if deployment.strategy:
        return Strategy.model_validate(deployment.strategy).model_dump(mode="json")
    return None


def batch_sizes(strategy: dict[str, Any], count: int) -> list[int]:
    """How many targets each batch holds, in order, for ``count`` targets."""
    kind = strategy.get("type", "all-at-once")
    if count == 0:
        return []
    if kind == "rolling":
        if strategy.get("batchSize"):
            size = int(strategy["batchSize"])
        else:
            size = max(1, math.ceil(count * float(strategy.get("percent") or 100) / 100))
        return [min(size, count - start) for start in range(0, count, size)]
    if kind == "canary":
        steps = strategy.get("steps") or [1]
        as_percent = float(steps[-1]) == 100.0  # [5, 25, 100] are percentages, [1, 3] are counts
        marks = [min(max(math.ceil(count * step / 100) if as_percent else int(step), 1), count) for step in steps]
        sizes, previous = [], 0
        for mark in [*marks, count]:
            if mark > previous:
                sizes.append(mark - previous)
                previous = mark
        return sizes
    return [count]


def assign_batches(changes: list[Change]) -> list[Change]:
    """Number the batches of each deployment × environment that has a rolling or canary strategy."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, change in enumerate(changes):
        strategy = change.policy.get("strategy") if change.policy else None
        if strategy and strategy.get("type") in ("rolling", "canary") and change.operation != "uninstall":
            groups[(change.key.deployment, change.key.environment)].append(i)
    out = list(changes)
    for indexes in groups.values():
        strategy = out[indexes[0]].policy["strategy"]
        ordered = sorted(indexes, key=lambda i: str(out[i].key))
        position = 0
        for batch, size in enumerate(batch_sizes(strategy, len(ordered)), start=1):
            for i in ordered[position:position + size]:
                out[i] = replace(out[i], batch=batch)
            position += size
    return out
