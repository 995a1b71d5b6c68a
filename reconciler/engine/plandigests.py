"""What a deployment's planned outcome depends on, as digests (``plancache`` keys its entries by
them): the Git blobs of the files holding its own documents (Deployment, Versions, Approvals,
Pins, PolicySkips naming it), of its agent's and its system's environments' files, of every file
holding anything shared (Resources, Policies, VariableSets, Freezes…); the workspace config,
secret and template digests, its agents' placement fields, the code; and its recorded state's
epoch. Rules that read other deployments widen that to every file and every epoch. Target keys
have a narrower digest: the deployment's selector, its environments and the resource files.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import reconciler
from reconciler.engine import planfile
from reconciler.engine.session import Session
from reconciler.planning.facts import Facts

_OWN_KINDS = ("Deployment", "Version", "Approval", "Pin", "PolicySkip")
_CROSS_RULES = ("deploymentDependency", "concurrency")
_CODE: str | None = None


def digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def code_version() -> str:
    """reconciler's version and a stamp of its source files (sizes and modification times), so an
    edited or reinstalled checkout never reuses plans an older build computed."""
    global _CODE
    if _CODE is None:
        root = Path(reconciler.__file__).parent
        stamp = sorted((str(p.relative_to(root)), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*.py"))
        _CODE = digest(reconciler.__version__, stamp)
    return _CODE


def input_digests(session: Session, facts: Facts, epochs: dict[str, str],
                  excluded: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(deployment -> outcome digest, deployment -> target-keys digest)."""
    loaded = session.workspace.loaded
    catalog = session.catalog
    blobs = {path: item.blob for path, item in loaded.source.files.items()}
    own: dict[str, set[str]] = {}
    agents: dict[str, set[str]] = {}
    envs: dict[str, set[str]] = {}
    shared: set[str] = set()
    resources: set[str] = set()
    for item in loaded.documents:
        model, path = item.model, item.path
        kind = model.type  # type: ignore[attr-defined]
        if kind in _OWN_KINDS:
            own.setdefault(model.deployment if kind != "Deployment" else model.name, set()).add(path)  # type: ignore
        elif kind == "JobAgent":
            agents.setdefault(model.name, set()).add(path)  # type: ignore[attr-defined]
        elif kind == "Environment":
            envs.setdefault(model.system, set()).add(path)  # type: ignore[attr-defined]
        else:
            shared.add(path)
            if kind == "Resource":
                resources.add(path)
    files = lambda paths: sorted((p, blobs.get(p)) for p in paths)
    everything = digest(files(blobs))
    all_epochs = digest(sorted(epochs.items()))
    cross_rules = any(kind in _CROSS_RULES for p in catalog.policies for kind, _ in p.parsed_rules())
    common = digest(planfile.FORMAT, code_version(), catalog.config.model_dump(mode="json"), files(shared),
                    dict(facts.secret_digests), dict(facts.template_digests), facts.prune, sorted(excluded))
    resource_files = digest(files(resources))
    digests, target_digests = {}, {}
    for name in set(catalog.deployments) | set(epochs) - {"*"}:
        dep = catalog.deployments.get(name)
        versions = catalog.versions.get(name, [])
        cross = cross_rules or any(v.dependencies for v in versions)
        mine = set(own.get(name, ()))
        if dep is not None:
            mine |= agents.get(dep.agent.ref, set()) if dep.agent else set()
            mine |= envs.get(dep.system, set())
        digests[name] = digest(common, files(mine), list(facts.placement_fields.get(name, ())),
                               epochs.get(name, epochs.get("*", "")), [everything, all_epochs] if cross else None)
        if dep is not None:
            target_digests[name] = digest(code_version(), dep.resourceSelector, dep.system,
                                          [(e.name, e.resourceSelector) for e in catalog.environments_of(dep.system)],
                                          resource_files)
    return digests, target_digests
