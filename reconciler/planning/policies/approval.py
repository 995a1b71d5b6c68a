"""anyApproval: N distinct approvers per version × environment; a rejection blocks.

Approvals come from ``reconciler approve`` (state) and ``type: Approval`` documents (Git). One vote
per actor; an actor's later vote replaces the earlier one. ``satisfied_at`` is the time of the
N-th approval, which starts a gradual rollout's clock.
"""

from __future__ import annotations

from reconciler.models.policy import AnyApproval
from reconciler.planning.policies.base import RuleContext, Verdict, allow, deny, pending

SCOPE = ("environment", "version")


def evaluate(rule: AnyApproval, ctx: RuleContext) -> Verdict:
    key = (ctx.key.deployment, ctx.version.tag, ctx.environment.name)
    votes = ctx.index.approvals.get(key, [])
    rejected = [v for v in votes if v.status == "rejected"]
    if rejected:
        who = ", ".join(sorted(v.actor for v in rejected))
        reason = next((v.reason for v in rejected if v.reason), "")
        return deny(f"rejected in {ctx.environment.name} by {who}" + (f": {reason}" if reason else ""))
    approved = sorted((v for v in votes if v.status == "approved"), key=lambda v: v.at)
    needed = rule.minApprovals
    if needed <= 0 or len(approved) >= needed:
        at = approved[needed - 1].at if needed > 0 else None
        names = ", ".join(v.actor for v in approved)
        return allow(f"approved in {ctx.environment.name} by {names}" if names else "no approval required", at)
    return pending(f"awaiting approval {len(approved)}/{needed} in {ctx.environment.name}", None, "approval")
