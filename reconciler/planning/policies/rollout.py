"""gradualRollout: targets of one deployment × environment get a version one after another.

Each target's position comes from a deterministic per-version order (FNV-1a 64 of target key +
version id, as Ctrlplane does). Target ``i`` deploys at ``start + i × interval`` (linear) or
``start + i / N × interval`` (linear-normalized). The start is the version's creation, or, when
approval or environment-progression rules apply to the target, the latest time they were
satisfied. A target that already runs the version is never held back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reconciler.models.policy import GradualRollout
from reconciler.planning.policies import window
from reconciler.planning.policies.base import RuleContext, Verdict, allow, fmt_time, pending

SCOPE = ("environment", "version", "target")
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def fnv1a_64(data: bytes, value: int = _FNV_OFFSET) -> int:
    """FNV-1a 64 of ``data``, continuing from ``value`` (the hash of a prefix) when given."""
    prime, mask = _FNV_PRIME, 0xFFFFFFFFFFFFFFFF
    for byte in data:
        value = ((value ^ byte) * prime) & mask
    return value


def position(ctx: RuleContext) -> tuple[int, int]:
    """(position, count) of the target in this version's rollout order; memoized per version."""
    memo_key = ("rollout-order", ctx.key.deployment, ctx.key.environment, ctx.version.tag)
    order = ctx.index.memo.get(memo_key)
    if order is None:
        targets = ctx.index.targets_in(ctx.key.deployment, ctx.key.environment)
        vid = f"{ctx.version.deployment}@{ctx.version.tag}"
        # Every key of the environment starts "deployment/environment/": hash that prefix once.
        prefix = fnv1a_64(f"{ctx.key.deployment}/{ctx.key.environment}/".encode())
        ranked = sorted(targets, key=lambda k: (fnv1a_64(f"{k.resource}{vid}".encode(), prefix), str(k)))
        order = {k: i for i, k in enumerate(ranked)}
        ctx.index.memo[memo_key] = order
    return order.get(ctx.key, 0), max(len(order), 1)


def start_time(ctx: RuleContext) -> datetime | Verdict:
    """When the rollout of this version starts for this target, or the verdict holding it back.
    The same for every target of the environment with the same rules and whether it runs something
    (unless rules or skips differ per resource), so it is computed once for them."""
    memo = ctx.index.memo
    if memo.get("resource-specific-policies"):
        return _start_time(ctx)
    memo_key = ("rollout-start", id(ctx.applicable), ctx.key.deployment, ctx.key.environment, ctx.version.tag,
                ctx.current_version is None)
    found = memo.get(memo_key)
    if found is None:
        found = memo[memo_key] = (_start_time(ctx), ctx.applicable)  # keeps the rule list (and its id) alive
    return found[0]


def _start_time(ctx: RuleContext) -> datetime | Verdict:
    from reconciler.planning.policies import evaluate  # the rule runner imports this module

    start = ctx.index.created_at(ctx.version.deployment, ctx.version.tag)
    for _policy, _i, kind, rule in ctx.applicable or []:
        if kind not in ("anyApproval", "environmentProgression"):
            continue
        verdict = evaluate.run(ctx, _policy, _i, kind, rule)
        if not verdict.allowed:
            return pending(f"the rollout starts once {kind} allows it ({verdict.message})", verdict.next_evaluation)
        if verdict.satisfied_at is not None:
            start = max(start, verdict.satisfied_at)
    if ctx.current_version is not None:
        for _policy, _i, kind, rule in ctx.applicable or []:
            if kind == "deploymentWindow":
                start = window.push_start(rule, start)  # type: ignore[arg-type]
    return start


def evaluate(rule: GradualRollout, ctx: RuleContext) -> Verdict:
    if ctx.current_version == ctx.version.tag:
        return allow("already running this version; a rollout never reverts")
    start = start_time(ctx)
    if isinstance(start, Verdict):
        return start
    pos, count = position(ctx)
    if rule.rolloutType == "linear":
        offset = pos * rule.timeScaleInterval
    else:
        offset = pos / count * rule.timeScaleInterval
    due = start + timedelta(seconds=offset)
    if ctx.now < due:
        return pending(f"rollout position {pos + 1}/{count} in {ctx.environment.name}: deploys at {fmt_time(due)}", due)
    return allow(f"rollout position {pos + 1}/{count} reached at {fmt_time(due)}", due)
