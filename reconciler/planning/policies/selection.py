"""versionSelector, deploymentDependency, and the built-in version dependencies.

- versionSelector: CEL over version, environment, resource and deployment must be true.
- deploymentDependency: some other deployment's current version on the same resource must match
  ``dependsOn`` (CEL over ``deployment`` and ``version``).
- Version ``dependencies``: {upstream deployment: CEL over its current ``version``} on the same
  resource (Ctrlplane's version dependencies).
"""

from __future__ import annotations

from reconciler.models.policy import DeploymentDependency, VersionSelector
from reconciler.planning import selectors
from reconciler.planning.policies.base import RuleContext, Verdict, allow, deny, pending


def selector_scope(rule: VersionSelector) -> tuple[str, ...]:
    """A selector that never reads ``resource`` has one verdict per environment × version."""
    program = selectors.compile_selector(rule.selector, "version", selectors.VERSION_SCOPE)
    return ("version", "target") if "resource" in program.variables else ("version", "environment", "deployment")
DEPENDENCY_SCOPE = ("target",)


def version_selector(rule: VersionSelector, ctx: RuleContext) -> Verdict:
    program = selectors.compile_selector(rule.selector, "version", selectors.VERSION_SCOPE)
    if program.matches(ctx.views):
        return allow(rule.description or "version matches the selector")
    what = rule.description or f"the selector {rule.selector}"
    return deny(f"{ctx.version.tag} is not allowed by {what}")


def _upstream_views(ctx: RuleContext):
    """(deployment view, current version view) of other deployments on the same resource."""
    for key in ctx.index.targets_on(ctx.key.resource):
        if key.deployment == ctx.key.deployment:
            continue
        state = ctx.facts.states.get(str(key))
        if state is None:
            continue
        dep = ctx.catalog.deployments[key.deployment]
        version = ctx.catalog.version(key.deployment, state.version)
        vview = (selectors.version_view(version) if version is not None
                 else {"tag": state.version, "name": state.version, "deployment": key.deployment, "metadata": {}})
        yield key, selectors.deployment_view(dep), vview


def deployment_dependency(rule: DeploymentDependency, ctx: RuleContext) -> Verdict:
    program = selectors.compile_selector(rule.dependsOn, "deployment", ("deployment", "version"))
    for key, dview, vview in _upstream_views(ctx):
        if program.matches({"deployment": dview, "version": vview}):
            return allow(f"{key.deployment} {vview['tag']} on {ctx.key.resource} satisfies the dependency")
    return pending(f"waiting for a deployment on {ctx.key.resource} matching {rule.dependsOn}")


def version_dependencies(ctx: RuleContext) -> Verdict:
    if not ctx.version.dependencies:
        return allow()
    ctx.target_specific = True  # depends on what runs on this very resource
    current = {key.deployment: vview for key, _d, vview in _upstream_views(ctx)}
    for upstream, expr in sorted(ctx.version.dependencies.items()):
        vview = current.get(upstream)
        program = selectors.compile_selector(expr, "version", ("version", "deployment"))
        if vview is None:
            return pending(f"{ctx.version.tag} needs {upstream} on {ctx.key.resource}, which runs nothing yet")
        if not program.matches({"version": vview, "deployment": {"name": upstream}}):
            return pending(f"{ctx.version.tag} needs {upstream} matching {expr} on {ctx.key.resource} "
                           f"(it runs {vview['tag']})")
    return allow("version dependencies satisfied")
