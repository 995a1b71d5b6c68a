"""``validate``'s template pass: render the job config of every target's newest version,
ignoring policies and recorded state, so a template that would fail in a plan fails validation.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from reconciler.errors import TemplateError
from reconciler.models.catalog import Catalog
from reconciler.planning import decide
from reconciler.planning.build import PlanError, release_for
from reconciler.planning.facts import Facts
from reconciler.planning.policies.index import PlanIndex
from reconciler.planning.releases import Render
from reconciler.planning.targets import TargetSource


def check_templates(catalog: Catalog, now, render: Render) -> list[PlanError]:
    """Render the job config of every target's newest version, ignoring policies and recorded
    state (``validate``'s template pass): the errors a plan would hit, without any state."""
    index = PlanIndex.build(catalog, Facts(now=now), TargetSource(catalog))
    errors: list[PlanError] = []
    for key in index.source.all():
        versions = decide.ordered_versions(index, key.deployment)
        if not versions:
            continue
        try:
            release_for(index, key, versions[0], render)
        except TemplateError as exc:
            for err in getattr(exc, "errors", [exc]):
                errors.append(PlanError(str(key), key.deployment, str(err), err.template, err.line,
                                        getattr(err, "setting", "")))
    return errors
