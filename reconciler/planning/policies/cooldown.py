"""versionCooldown: batch frequent releases.

The reference is the version of the newest active task on the target, else the version it runs.
A different candidate may deploy only once ``interval`` has passed since the reference version
was created; until then older candidates are tried and the target stays where it is.
"""

from __future__ import annotations

from datetime import timedelta

from reconciler.models.policy import VersionCooldown
from reconciler.planning.policies.base import RuleContext, Verdict, allow, deny, fmt_time

SCOPE = ("version", "reference")


def evaluate(rule: VersionCooldown, ctx: RuleContext) -> Verdict:
    active = ctx.facts.active.get(str(ctx.key)) or []
    reference = active[-1].version if active else ctx.current_version
    if reference is None:
        return allow("nothing deployed yet; no cooldown")
    if reference == ctx.version.tag:
        return allow("same version as the one deployed")
    ends = ctx.index.created_at(ctx.key.deployment, reference) + timedelta(seconds=rule.interval)
    if ctx.now >= ends:
        return allow(f"cooldown after {reference} ended {fmt_time(ends)}")
    return deny(f"cooldown until {fmt_time(ends)} ({reference} was released less than the interval ago)", ends)
