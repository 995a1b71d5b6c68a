"""A session binds a loaded workspace to its state store: resolves the state URL, opens (and
migrates) the store, and gathers the Facts planning needs."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reconciler.engine.statefacts import LazyLatest, LazyReleases, StateDetails, StateSlices
from reconciler.engine.workspace import Workspace, open_workspace
from reconciler.executors import registry
from reconciler.models import statuses
from reconciler.models.catalog import Catalog
from reconciler.models.gitops import Approval
from reconciler.models.records import ApprovalRecord, TaskRecord
from reconciler.models.variables import secret_ref
from reconciler.planning.facts import Facts
from reconciler.state.store import open_store, resolve_url


@dataclass
class Session:
    workspace: Workspace
    store: object
    url: str
    root: Path = field(default_factory=Path)
    readonly: bool = False
    _templates: dict[str, str] | None = field(default=None, repr=False)

    @property
    def catalog(self) -> Catalog:
        return self.workspace.catalog

    def close(self) -> None:
        self.store.close()  # type: ignore[attr-defined]


def open_session(directory: str, ref: str | None = None, state_url: str | None = None, *,
                 readonly: bool = False) -> Session:
    """Load the workspace and open its store. ``readonly`` sessions (plans) never write."""
    ws = open_workspace(directory, ref)
    root = Path(directory).resolve()
    url = resolve_url(state_url, ws.catalog.config.state, root)
    store = open_store(url, ws.catalog.config.workspace, root, readonly=readonly)
    return Session(ws, store, url, root, readonly)


def gather_facts(session: Session, now: datetime, *, exclude_tasks: set[str] = frozenset()) -> Facts:
    """Everything planning reads from recorded state (and the secret digests), as plain values.
    Target states, failed tasks, full state records and releases are read lazily, per deployment,
    so a plan that reuses cached outcomes reads only what it plans."""
    store = session.store
    catalog = session.catalog
    active: dict[str, list[TaskRecord]] = {}
    for task in store.active_tasks():  # type: ignore[attr-defined]
        if task.id not in exclude_tasks:
            active.setdefault(task.target, []).append(task)
    lazy = hasattr(store, "state_deployments")
    states = StateSlices(store) if lazy else store.target_states(details=False)  # type: ignore[attr-defined]
    return Facts(
        now=now,
        states=states,
        latest=LazyLatest(store) if lazy else store.latest_unsuccessful(),  # type: ignore[attr-defined]
        active=active,
        approvals=[*store.approvals(), *git_approvals(catalog)],  # type: ignore[attr-defined]
        holds=store.holds(),  # type: ignore[attr-defined]
        first_seen=store.first_seen(),  # type: ignore[attr-defined]
        releases=LazyReleases(store, states),
        secret_digests=secret_digests(catalog, store.secret_key(create=not session.readonly)),  # type: ignore
        placement_fields=placement_fields(catalog),
        template_digests=template_digests(session),
        prune=catalog.config.prune,
        state_detail=StateDetails(store, states) if lazy else store.target_state,  # type: ignore[attr-defined]
        outcome_source=store.outcomes_for,  # type: ignore[attr-defined]
    )


def git_approvals(catalog: Catalog) -> list[ApprovalRecord]:
    out = []
    for doc in catalog.approvals:
        at = doc.at
        if at is None:
            version = catalog.version(doc.deployment, doc.version)
            at = version.createdAt if version and version.createdAt else datetime(1970, 1, 1).astimezone()
        out.append(ApprovalRecord(doc.deployment, doc.version, doc.environment, doc.approvedBy, doc.status,
                                  doc.reason, at, "git"))
    return out


def _secret_envs(catalog: Catalog) -> set[str]:
    names = set()
    values = [v for r in catalog.resources.values() for v in r.variables.values()]
    values += [v for s in catalog.variable_sets for v in s.variables.values()]
    for dep in catalog.deployments.values():
        for decl in dep.variables.values():
            values.append(decl.default)
            values.extend(rule.value for rule in decl.values)
    for value in values:
        ref = secret_ref(value) if isinstance(value, dict) else None
        if ref is not None:
            names.add(ref.env)
    return names


def secret_digests(catalog: Catalog, key: bytes) -> dict[str, str]:
    """HMAC digests of secret values (never the values), so a changed secret triggers a reinstall."""
    out = {}
    for name in sorted(_secret_envs(catalog)):
        value = os.environ.get(name)
        out[name] = "unset" if value is None else hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]
    return out


def placement_fields(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Config fields each deployment's agent type declares as placement (e.g. a namespace)."""
    out = {}
    agents = registry.registry()
    for name, dep in catalog.deployments.items():
        agent = catalog.agents.get(dep.agent.ref) if dep.agent else None
        cls = agents.get(agent.agent_type) if agent else None
        out[name] = tuple(getattr(cls, "placement_fields", ())) if cls else ()
    return out


def templates(session: Session) -> dict[str, str]:
    """Artifact templates of the workspace (``templatesDir``), read once per session."""
    if session._templates is None:
        from reconciler.engine.artifacts import load_templates

        session._templates = load_templates(session.workspace.loaded.source, session.catalog.config.templatesDir)
    return session._templates


def template_digests(session: Session) -> dict[str, str]:
    return {name: hashlib.sha256(text.encode()).hexdigest()[:16] for name, text in templates(session).items()}


def is_resumable(task: TaskRecord) -> bool:
    return task.status in (statuses.PENDING, statuses.STARTED)


__all__ = ["Approval", "Session", "gather_facts", "open_session"]
