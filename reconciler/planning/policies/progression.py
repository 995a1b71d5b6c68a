"""environmentProgression: a version must succeed in upstream environments first.

Upstream environments are the other environments of the system matching
``dependsOnEnvironmentSelector``; any one satisfied upstream suffices (OR). For one upstream, over
the targets of the same deployment: the share of targets with a task of this version in
``successStatuses`` must reach ``minimumSuccessPercentage`` (0 means at least one), the most recent
success must be at least ``minimumSoakTimeMinutes`` old and at most ``maximumAgeHours`` old.
With ``requireVerificationPassed`` only tasks whose verification passed (``done``) count.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from reconciler.models.policy import EnvironmentProgression
from reconciler.planning import selectors
from reconciler.planning.policies.base import RuleContext, Verdict, allow, deny, fmt_time, pending

SCOPE = ("environment", "version")


def evaluate(rule: EnvironmentProgression, ctx: RuleContext) -> Verdict:
    program = selectors.compile_selector(rule.dependsOnEnvironmentSelector, "environment", ("environment",))
    upstream = [e for e in ctx.catalog.environments_of(ctx.deployment.system)
                if e.name != ctx.environment.name and program.matches({"environment": selectors.environment_view(e)})]
    if not upstream:
        return deny("no environment matches dependsOnEnvironmentSelector, so this can never progress")
    verdicts = [_memo_one(rule, ctx, env.name) for env in sorted(upstream, key=lambda e: e.name)]
    passed = [v for v in verdicts if v.allowed]
    if passed:
        return min(passed, key=lambda v: v.satisfied_at or ctx.now)
    timed = [v for v in verdicts if v.next_evaluation is not None]
    best = min(timed, key=lambda v: v.next_evaluation) if timed else verdicts[0]  # type: ignore[arg-type, return-value]
    return best


def _memo_one(rule: EnvironmentProgression, ctx: RuleContext, env: str) -> Verdict:
    """One upstream environment's verdict, the same for every downstream environment."""
    memo_key = ("progression-upstream", id(rule), ctx.key.deployment, env, ctx.version.tag)
    found = ctx.index.memo.get(memo_key)
    if found is None:
        found = ctx.index.memo[memo_key] = (_one(rule, ctx, env), rule)  # keeps the rule (and its id) alive
    return found[0]


def _counted(rule: EnvironmentProgression) -> list[str]:
    """The statuses that count as success. A task is ``done`` only once its verification passed (a
    failed verification fails it), so ``requireVerificationPassed`` keeps ``done`` alone: a task
    still ``verifying`` (or any other listed status) does not count."""
    if rule.requireVerificationPassed:
        return [s for s in rule.successStatuses if s == "done"]
    return list(rule.successStatuses)


def _one(rule: EnvironmentProgression, ctx: RuleContext, env: str) -> Verdict:
    targets = ctx.index.targets_in(ctx.key.deployment, env)
    if not targets:
        return allow(f"{env} has no targets for {ctx.key.deployment}")
    by_status = ctx.index.outcomes_for(ctx.key.deployment, env, ctx.version.tag)
    firsts: dict[str, datetime] = {}
    lasts: list[datetime] = []
    for status in _counted(rule):
        for res, (first, last) in by_status.get(status, {}).items():
            firsts[res] = min(first, firsts.get(res, first))
            lasts.append(last)
    total = len(targets)
    succeeded = len(firsts)
    needed = max(1, math.ceil(rule.minimumSuccessPercentage / 100 * total)) if rule.minimumSuccessPercentage else 1
    pct = 100 * succeeded / total
    if succeeded < needed:
        want = f"{rule.minimumSuccessPercentage:g}%" if rule.minimumSuccessPercentage else "one"
        return pending(f"{env} at {pct:.0f}% success of {ctx.version.tag}, requires {want} ({succeeded}/{total} targets)")
    reached = sorted(firsts.values())[needed - 1]
    latest = max(lasts)
    soak_end = latest + timedelta(minutes=rule.minimumSoakTimeMinutes)
    if ctx.now < soak_end:
        return pending(f"soak in {env} ends {fmt_time(soak_end)}", soak_end)
    if rule.maximumAgeHours is not None and ctx.now - latest > timedelta(hours=rule.maximumAgeHours):
        return pending(f"last success of {ctx.version.tag} in {env} ({fmt_time(latest)}) is older than "
                       f"{rule.maximumAgeHours:g}h; deploy it to {env} again")
    expires = latest + timedelta(hours=rule.maximumAgeHours) if rule.maximumAgeHours is not None else None
    return allow(f"{env} at {pct:.0f}% success, soaked", max(reached, soak_end), until=expires)
