"""Input fingerprints: one digest over everything a target's release is computed from.

Equal fingerprints mean equal releases, so a target whose recorded fingerprint matches and whose
desired version is the one it runs needs no release built at all: that is what keeps a plan of a
large, mostly unchanged fleet fast. Entity digests are computed once per plan and shared.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler import __version__
from reconciler.models.entities import Version
from reconciler.models.keys import TargetKey
from reconciler.planning.memo import model_digest
from reconciler.planning.policies.index import PlanIndex

_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def _digest(data: Any) -> str:
    return hashlib.blake2b(_ENCODER.encode(data).encode(), digest_size=12).hexdigest()


def _entity(index: PlanIndex, kind: str, ident: Any, model: Any) -> str:
    key = ("fp", kind, ident)
    found = index.memo.get(key)
    if found is None:
        found = index.memo[key] = _digest(None) if model is None else model_digest(
            model, "fingerprint", lambda m: _digest(m.model_dump(mode="json")))
    return found


def _global(index: PlanIndex) -> str:
    key = ("fp", "global")
    found = index.memo.get(key)
    if found is None:
        facts, catalog = index.facts, index.catalog
        found = index.memo[key] = _digest({
            "reconciler": __version__,
            "variableSets": [s.model_dump(mode="json") for s in catalog.variable_sets],
            "secrets": dict(facts.secret_digests),
            "templates": dict(facts.template_digests),
            "placement": {k: list(v) for k, v in facts.placement_fields.items()},
            "templatesDir": catalog.config.templatesDir,
        })
    return found


def fingerprint(index: PlanIndex, key: TargetKey, version: Version) -> str:
    memo_key = ("fp-prefix", key.deployment, key.environment, version.tag)
    prefix = index.memo.get(memo_key)
    if prefix is None:
        prefix = index.memo[memo_key] = _prefix(index, key, version)
    resource = _entity(index, "resource", key.resource, index.catalog.resources[key.resource])
    text = f"{prefix}|{resource}|{_global(index)}"
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _prefix(index: PlanIndex, key: TargetKey, version: Version) -> str:
    """The digests of everything but the resource, joined (shared by a deployment × environment)."""
    catalog = index.catalog
    dep = catalog.deployments[key.deployment]
    agent = catalog.agents.get(dep.agent.ref) if dep.agent else None
    created = index.created_at(version.deployment, version.tag).isoformat()
    return "|".join((
        _entity(index, "deployment", dep.name, dep),
        _entity(index, "agent", agent.name if agent else None, agent),
        _entity(index, "version", (version.deployment, version.tag), version) + created,
        _entity(index, "environment", (dep.system, key.environment),
                catalog.environments[(dep.system, key.environment)]),
    ))
