"""The Plan: what a reconcile would do to every release target, and why.

Frozen value types modelled on OpenTofu's plans: a Change per target that needs a task, a Blocked
entry per target held back by a rule (with the rule, a message and when it can move by itself),
orphaned targets, and targets with work already in flight. ``reason`` is for people only; the
engine never branches on it.
"""

from __future__ import annotations

import operator
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from reconciler.jsontext import RowsChain, encode_row
from reconciler.planning import groups as grouping
from reconciler.models.keys import TargetKey

if TYPE_CHECKING:  # only annotations: keeps plan (and the history view) light to import
    from reconciler.planning.releases import Release

OPERATIONS = ("install", "upgrade", "reinstall", "recreate", "uninstall", "rollback")


def utc(value: datetime) -> datetime:
    """``value`` in UTC: a window's local opening time (Europe/Berlin…) is converted; naive and UTC
    times are returned as they are."""
    return value.astimezone(timezone.utc) if value.tzinfo is not None and value.utcoffset() else value


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z``."""
    return None if value is None else utc(value).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Change:
    key: TargetKey
    operation: str
    from_version: str | None
    to_version: str | None
    reason: str
    diff: dict[str, Any] = field(default_factory=dict)
    release: Release | None = None
    retry_of: str | None = None
    from_resource: str | None = None
    cancels: tuple[str, ...] = ()
    batch: int | None = None
    artifacts: dict[str, Any] = field(default_factory=dict)
    after: tuple[str, ...] = ()  # pending tasks that run first (releaseSequencing: wait)
    concurrency: tuple[tuple[str, int], ...] = ()  # (policy, free slots) limits on running at once
    policy: dict[str, Any] = field(default_factory=dict)  # verification / rollback / strategy settings
    queued: str | None = None  # an already recorded task (redeploy, rollback) that the next apply runs
    fingerprint: str = ""  # digest of the release's inputs, recorded with the target's state

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": str(self.key), "deployment": self.key.deployment, "environment": self.key.environment,
            "resource": self.key.resource, "operation": self.operation, "fromVersion": self.from_version,
            "toVersion": self.to_version, "reason": self.reason, "diff": self.diff,
            "releaseId": self.release.id if self.release else None,
        }
        if self.retry_of:
            out["retryOf"] = self.retry_of
        if self.queued:
            out["queuedTask"] = self.queued
        if self.from_resource:
            out["fromResource"] = self.from_resource
        if self.cancels:
            out["cancels"] = list(self.cancels)
        if self.after:
            out["after"] = list(self.after)
        if self.batch is not None:
            out["batch"] = self.batch
        if self.policy.get("strategy"):
            out["strategy"] = self.policy["strategy"]["type"]
        if self.policy.get("verification"):
            out["verification"] = [m["name"] for m in self.policy["verification"]["metrics"]]
        if self.artifacts:
            out["artifacts"] = self.artifacts
        return out


def new_change(key: TargetKey, operation: str, from_version: str | None, to_version: str | None, reason: str,
               diff: dict[str, Any], release: Release | None, **extra: Any) -> Change:
    """``Change(...)`` without its per-field frozen ``__setattr__`` calls: a large plan makes
    hundreds of thousands. Same values, same defaults."""
    change = object.__new__(Change)
    values = {name: factory() for name, factory in _CHANGE_FACTORIES}
    values.update(_CHANGE_DEFAULTS)
    values.update(key=key, operation=operation, from_version=from_version, to_version=to_version, reason=reason,
                  diff=diff, release=release, **extra)
    if len(values) != _CHANGE_FIELDS:
        raise TypeError(f"unknown Change fields: {sorted(set(values) - {f.name for f in fields(Change)})}")
    change.__dict__.update(values)
    return change


_CHANGE_DEFAULTS = {f.name: f.default for f in fields(Change) if f.default is not MISSING}
_CHANGE_FACTORIES = [(f.name, f.default_factory) for f in fields(Change) if f.default_factory is not MISSING]
_CHANGE_FIELDS = len(fields(Change))


@dataclass(frozen=True)
class Blocked:
    key: TargetKey
    version: str
    policy: str
    rule: str
    message: str
    next_evaluation: datetime | None
    current: str | None = None
    status: str = "pending"  # pending | deny

    def to_json(self) -> dict[str, Any]:
        return {"target": str(self.key), "deployment": self.key.deployment, "environment": self.key.environment,
                "resource": self.key.resource, "version": self.version, "currentVersion": self.current,
                "policy": self.policy, "rule": self.rule, "message": self.message,
                "nextEvaluation": iso(self.next_evaluation)}


@dataclass(frozen=True)
class Orphan:
    target: str
    version: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "version": self.version, "reason": self.reason}


@dataclass(frozen=True)
class InFlight:
    target: str
    task_id: str
    operation: str
    status: str
    version: str

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "taskId": self.task_id, "operation": self.operation, "status": self.status,
                "version": self.version}


def count_operations(changes: Any, into: dict[str, int] | None = None) -> dict[str, int]:
    """How many of ``changes`` have each operation (added to ``into``)."""
    out: dict[str, int] = {} if into is None else into
    for change in changes:
        out[change.operation] = out.get(change.operation, 0) + 1
    return out


def soonest(blocked: Any) -> datetime | None:
    """The earliest next evaluation of ``blocked`` entries."""
    times = [b.next_evaluation for b in blocked if b.next_evaluation is not None]
    return min(times) if times else None


@dataclass
class Plan:
    """A plan: entries of every deployment, each list sorted by target key.

    ``changes`` and ``blocked`` are merged from the deployments' outcomes (``add``) when first
    read, so that a plan printed as JSON from cached outcomes never decodes their entries: its
    summary, exit code and next evaluation come from the outcomes' counts, and its rows from the
    outcomes' stored rows (``to_json(encoded=True)``)."""

    workspace: str
    revision: str
    at: datetime
    changes: list[Change] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    orphaned: list[Orphan] = field(default_factory=list)
    in_flight: list[InFlight] = field(default_factory=list)
    unchanged: int = 0
    targets: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, outcome: Any) -> None:
        """Append one deployment's outcome (``planning.outcome.DeploymentOutcome``)."""
        for kind in _LAZY:
            self.__dict__["_pending"][kind].append(outcome)
        self.in_flight.extend(outcome.in_flight)
        self.orphaned.extend(outcome.orphaned)
        self.unchanged += outcome.unchanged
        self.targets += outcome.targets

    def _entries(self, kind: str) -> list[Any]:
        """``changes`` or ``blocked``, after merging the outcomes added since they were last read;
        where each outcome's entries start is kept for ``_rows``."""
        state = self.__dict__
        items, pending = state["_" + kind], state["_pending"][kind]
        if pending:
            starts = state["_starts"][kind]
            for outcome in pending:
                starts.append((outcome, len(items)))
                items.extend(getattr(outcome, kind))
            pending.clear()
        return items

    def _set(self, kind: str, items: list[Any]) -> None:
        state = self.__dict__
        state.setdefault("_pending", {k: [] for k in _LAZY})[kind] = []
        state.setdefault("_starts", {k: [] for k in _LAZY})[kind] = []
        state["_" + kind] = items

    def _size(self, kind: str) -> int:
        state = self.__dict__
        return len(state["_" + kind]) + sum(o.size(kind) for o in state["_pending"][kind])

    def summary(self) -> dict[str, int]:
        out = count_operations(self.__dict__["_changes"], {op: 0 for op in OPERATIONS})
        for outcome in self.__dict__["_pending"]["changes"]:
            for op, count in outcome.operations().items():
                out[op] = out.get(op, 0) + count
        out.update(blocked=self._size("blocked"), unchanged=self.unchanged, orphaned=len(self.orphaned),
                   inProgress=len(self.in_flight))
        return out

    @property
    def next_evaluation(self) -> datetime | None:
        times = [soonest(self.__dict__["_blocked"]), *(o.soonest() for o in self.__dict__["_pending"]["blocked"])]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def exit_code(self) -> int:
        """0 nothing to do, 2 changes to apply, 3 only policy-blocked work outstanding."""
        if self._size("changes"):
            return 2
        if self._size("blocked"):
            return 3
        return 0

    def groups(self, kind: str) -> list[Any]:
        """``changes`` or ``blocked`` collapsed into ``planning.groups.Group``s, in order: each
        outcome's own while the plan's entries are exactly its outcomes' (no entry assigned since),
        so that a plan of stored outcomes is printed without decoding them."""
        state = self.__dict__
        items, merged = state["_" + kind], [outcome for outcome, _ in state["_starts"][kind]]
        done = 0
        for outcome, first in state["_starts"][kind]:
            mine = getattr(outcome, kind)
            if first != done or not all(map(operator.is_, items[first:first + len(mine)], mine)):
                return grouping.group(kind, self._entries(kind))
            done += len(mine)
        if done != len(items):
            return grouping.group(kind, self._entries(kind))
        return [g for outcome in merged + state["_pending"][kind] for g in outcome.groups(kind)]

    def empty(self) -> bool:
        """Nothing to change, block, finish or clean up (without reading the outcomes' entries)."""
        return not (self._size("changes") or self._size("blocked") or self.in_flight or self.orphaned)

    def to_json(self, encoded: bool = False) -> dict[str, Any]:
        """The plan as JSON values; with ``encoded``, changes and blocked entries as ``RowsChain``."""
        return {
            "workspace": self.workspace,
            "revision": self.revision,
            "at": iso(self.at),
            "summary": self.summary(),
            "changes": self._rows("changes") if encoded else [c.to_json() for c in self.changes],
            "blocked": self._rows("blocked") if encoded else [b.to_json() for b in self.blocked],
            "orphaned": [o.to_json() for o in self.orphaned],
            "inProgress": [f.to_json() for f in self.in_flight],
            "nextEvaluation": iso(self.next_evaluation),
            "notes": list(self.notes),
        }

    def _rows(self, kind: str) -> RowsChain:
        """Every entry's row, in parts. An outcome's block still holding exactly its entries (by
        identity: apply and artifacts replace entries) is taken from its stored rows, as are
        outcomes whose entries were never read."""
        state = self.__dict__
        items: list[Any] = state["_" + kind]
        parts: list[str] = []
        done = 0
        for outcome, first in state["_starts"][kind]:
            mine = getattr(outcome, kind)
            if not mine or first < done:
                continue
            block = items[first:first + len(mine)]
            if len(block) == len(mine) and all(map(operator.is_, block, mine)):
                parts.extend(encode_row(x.to_json()) for x in items[done:first])
                parts.append(outcome.rows(kind))
                done = first + len(mine)
        parts.extend(encode_row(x.to_json()) for x in items[done:])
        parts.extend(outcome.rows(kind) for outcome in state["_pending"][kind])
        return RowsChain(part for part in parts if part)


_LAZY = ("changes", "blocked")


def _lazy(kind: str) -> property:
    return property(lambda plan: plan._entries(kind), lambda plan, items: plan._set(kind, items),
                    doc=f"The plan's {kind}, merged from its outcomes when first read.")


Plan.changes = _lazy("changes")  # type: ignore[assignment]  (after @dataclass: its __init__ assigns them)
Plan.blocked = _lazy("blocked")  # type: ignore[assignment]
