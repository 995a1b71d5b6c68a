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
    """(policy, index, kind, rule) of every version-selection rule for this target, cheapest first
    (shared per environment × deployment when no policy selector reads the resource)."""
    memo = ctx.index.memo
    free = memo.get("policies-resource-free")
    if free is None:
        free = memo["policies-resource-free"] = all(p.resource_free for p in ctx.index.policies)
    memo_key = ("applicable", ctx.key.deployment, ctx.key.environment) if free else ("applicable", ctx.key)
    found = memo.get(memo_key)
    if found is None:
        found = []
        for compiled in ctx.index.applicable(ctx.views):
            for i, kind, rule in compiled.rules:
                if kind in RULES:
                    found.append((compiled.policy.name, i, kind, rule))
        found.sort(key=lambda item: RULES[item[2]][2])
        memo[memo_key] = found
    return found


def job_rules(ctx: RuleContext, kind: str) -> list[tuple[str, Any]]:
    """(policy, rule) of every rule of ``kind`` (retry, rollback, verification, ...) for this target."""
    out = []
    for compiled in ctx.index.applicable(ctx.views):
        out.extend((compiled.policy.name, rule) for _i, k, rule in compiled.rules if k == kind)
    return out


def _scope(kind: str, rule: Any, memo: dict) -> tuple[str, ...]:
    scope = RULES[kind][1]
    if callable(scope):
        found = memo.get(("rule-scope", id(rule)))
        if found is None:
            found = memo[("rule-scope", id(rule))] = (scope(rule), rule)  # keep the rule alive with its id
        return found[0]
    return scope


def run(ctx: RuleContext, policy: str, index: int, kind: str, rule: Any) -> Verdict:
    memo = ctx.index.memo
    if ctx.catalog.skips:
        skip = _skip(ctx, policy, kind)
        if skip is not None:
            return skip.named(policy, kind)
    scope = _scope(kind, rule, memo)
    if "target" in scope:  # one verdict per target: nothing to share, so nothing to remember
        ctx.target_specific = True
        verdict = RULES[kind][0](rule, ctx)
        return verdict if verdict.rule else verdict.named(policy, kind)
    memo_key = (policy, index, kind, *[ctx.scope_value(s) for s in scope])
    verdict = memo.get(memo_key)
    if verdict is None:
        verdict = RULES[kind][0](rule, ctx)
        if not verdict.rule:  # a rule may pass on another rule's verdict (rollout waits for approval)
            verdict = verdict.named(policy, kind)
        memo[memo_key] = verdict
    return verdict


def evaluate(ctx: RuleContext, *, short_circuit: bool = True) -> list[Verdict]:
    """Verdicts for the candidate, in evaluation order; the last one is the first non-allow."""
    ctx.applicable = applicable_rules(ctx)
    memo = ctx.index.memo
    specific = memo.get("resource-specific-policies")
    if specific is None:
        specific = memo["resource-specific-policies"] = any(not p.resource_free for p in ctx.index.policies) or any(
            s.resource is not None for s in ctx.catalog.skips)
    if specific:
        ctx.target_specific = True  # which rules apply may differ from one target to the next
    out: list[Verdict] = []
    start = 0
    if ctx.version.dependencies:
        builtin = selection.version_dependencies(ctx).named("(version)", "dependencies")
        out.append(builtin)
        if not builtin.allowed and short_circuit:
            return out
    elif short_circuit and not specific:
        prefix, start, stopped = _shared_prefix(ctx)
        out.extend(prefix)
        if stopped:
            return out
    for policy, i, kind, rule in ctx.applicable[start:]:
        verdict = run(ctx, policy, i, kind, rule)
        out.append(verdict)
        if not verdict.allowed and short_circuit:
            break
    return out


_SHARED_SCOPES = frozenset({"environment", "version", "deployment", "current"})


def _shared_prefix(ctx: RuleContext) -> tuple[list[Verdict], int, bool]:
    """The verdicts of the leading rules whose scope is shared by every target of the deployment ×
    environment with the same current version (all but target-specific ones such as a rollout
    position): (verdicts, rules covered, whether one of them did not allow). Computed once."""
    memo_key = ("rule-prefix", id(ctx.applicable), ctx.key.deployment, ctx.key.environment, ctx.version.tag,
                ctx.current_version)
    found = ctx.index.memo.get(memo_key)
    if found is None:
        verdicts: list[Verdict] = []
        stopped = False
        for policy, i, kind, rule in ctx.applicable or []:
            if not _SHARED_SCOPES.issuperset(_scope(kind, rule, ctx.index.memo)):
                break
            verdict = run(ctx, policy, i, kind, rule)
            verdicts.append(verdict)
            if not verdict.allowed:
                stopped = True
                break
        found = ctx.index.memo[memo_key] = ((verdicts, len(verdicts), stopped), ctx.applicable)
    return found[0]


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
