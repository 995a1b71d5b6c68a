"""Run the version-selection rules for one (target, candidate version).

Rules of every enabled policy matching the target are ANDed, cheapest first, stopping at the
first rule that does not allow. A PolicySkip for the version (and optionally environment or
resource) turns one rule into "allowed", with its reason. Verdicts are memoized per rule scope.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.planning.policies import approval, cooldown, progression, rollout, selection, window
from reconciler.planning.policies.base import RuleContext, Verdict, allow

# kind -> (function, scope, complexity)
RULES: dict[str, tuple[Callable[[Any, RuleContext], Verdict], tuple[str, ...], int]] = {
    "anyApproval": (approval.evaluate, approval.SCOPE, 1),
    "versionSelector": (selection.version_selector, selection.selector_scope, 1),
    "deploymentWindow": (window.evaluate, window.SCOPE, 2),
    "versionCooldown": (cooldown.evaluate, cooldown.SCOPE, 2),
    "gradualRollout": (rollout.evaluate, rollout.SCOPE, 4),  # after the rules its start time depends on
    "environmentProgression": (progression.evaluate, progression.SCOPE, 3),
    "deploymentDependency": (selection.deployment_dependency, selection.DEPENDENCY_SCOPE, 3),
}


def applicable_rules(ctx: RuleContext) -> list[tuple[str, int, str, Any]]:
    """(policy, index, kind, rule) of every version-selection rule for this target, cheapest first."""
    memo_key = ("applicable", ctx.key)
    found = ctx.index.memo.get(memo_key)
    if found is None:
        found = []
        for compiled in ctx.index.applicable(ctx.views):
            for i, kind, rule in compiled.rules:
                if kind in RULES:
                    found.append((compiled.policy.name, i, kind, rule))
        found.sort(key=lambda item: RULES[item[2]][2])
        ctx.index.memo[memo_key] = found
    return found


def job_rules(ctx: RuleContext, kind: str) -> list[tuple[str, Any]]:
    """(policy, rule) of every rule of ``kind`` (retry, rollback, verification, ...) for this target."""
    out = []
    for compiled in ctx.index.applicable(ctx.views):
        out.extend((compiled.policy.name, rule) for _i, k, rule in compiled.rules if k == kind)
    return out


def run(ctx: RuleContext, policy: str, index: int, kind: str, rule: Any) -> Verdict:
    skip = _skip(ctx, policy, kind)
    if skip is not None:
        return skip.named(policy, kind)
    fn, scope, _ = RULES[kind]
    if callable(scope):
        scope = scope(rule)
    memo_key = (policy, index, kind, *(ctx.scope_value(s) for s in scope))
    verdict = ctx.index.memo.get(memo_key)
    if verdict is None:
        verdict = fn(rule, ctx)
        if not verdict.rule:  # a rule may pass on another rule's verdict (rollout waits for approval)
            verdict = verdict.named(policy, kind)
        ctx.index.memo[memo_key] = verdict
    return verdict


def evaluate(ctx: RuleContext, *, short_circuit: bool = True) -> list[Verdict]:
    """Verdicts for the candidate, in evaluation order; the last one is the first non-allow."""
    ctx.applicable = applicable_rules(ctx)
    if ctx.index.memo.get("resource-specific-policies") is None:
        ctx.index.memo["resource-specific-policies"] = any(not p.resource_free for p in ctx.index.policies) or any(
            s.resource is not None for s in ctx.catalog.skips)
    if ctx.index.memo["resource-specific-policies"]:
        ctx.target_specific = True  # which rules apply may differ from one target to the next
    out: list[Verdict] = []
    builtin = selection.version_dependencies(ctx).named("(version)", "dependencies")
    if ctx.version.dependencies:
        out.append(builtin)
        if not builtin.allowed and short_circuit:
            return out
    for policy, i, kind, rule in ctx.applicable:
        verdict = run(ctx, policy, i, kind, rule)
        out.append(verdict)
        if not verdict.allowed and short_circuit:
            break
    return out


def _skip(ctx: RuleContext, policy: str, kind: str) -> Verdict | None:
    for skip in ctx.catalog.skips:
        if skip.deployment != ctx.key.deployment or skip.version != ctx.version.tag:
            continue
        if skip.until is not None and skip.until <= ctx.now:
            continue
        if skip.environment is not None and skip.environment != ctx.environment.name:
            continue
        if skip.resource is not None and skip.resource != ctx.key.resource:
            continue
        rule_policy, _, rule_kind = skip.rule.rpartition("/")
        if rule_kind != kind or (rule_policy and rule_policy != policy):
            continue
        until = f" until {skip.until:%Y-%m-%d %H:%MZ}" if skip.until else ""
        who = f" by {skip.createdBy}" if skip.createdBy else ""
        return allow(f"skipped ({skip.name}{who}{until}): {skip.reason}", None, skip.until)
    return None
