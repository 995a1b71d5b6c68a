"""The JSON form of a cached deployment outcome (never pickle: plans read untrusted files).

Compact on purpose, since a large deployment has thousands of entries: every change, blocked
target, in-flight and orphaned entry is a row (a JSON array), and every repeated value (environment
names, versions, reasons, messages, diffs, policy settings) is stored once in a table and referred
to by position. Decoded rows share those values. A release is kept by its identity only (id,
version, config digest) and rebuilt on demand (``planning.outcome.DeferredRelease``).
``planfile`` lays these out in a stored outcome.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from reconciler.models.keys import TargetKey
from reconciler.planning.build import PlanError
from reconciler.planning.outcome import DeferredRelease, DeploymentOutcome, ReleaseSource
from reconciler.planning.plan import Blocked, Change, InFlight, Orphan


class _Table:
    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: dict[Any, int] = {}  # a string as itself, anything else as (JSON,)
        self._objects: dict[int, int] = {}  # id of a (shared) dict or list -> its position

    def ref(self, value: Any, temporary: bool = False) -> int:
        """The position of ``value``. Dicts, lists and tuples the outcome holds (shared settings,
        diffs) are recognised by identity; ``temporary`` ones, which may share an id with an earlier
        freed object, only by content."""
        kind = type(value)
        if kind is str or value is None:
            key: Any = value
        else:
            container = kind in (dict, list, tuple)
            if container and not temporary:
                found = self._objects.get(id(value))
                if found is not None:
                    return found
            key = (json.dumps(value, separators=(",", ":"), default=str),)
        found = self._index.get(key)
        if found is None:
            found = self._index[key] = len(self.values)
            self.values.append(list(value) if kind is tuple else value)
        if kind in (dict, list, tuple) and not temporary:
            self._objects[id(value)] = found  # the outcome keeps the object alive while this runs
        return found


def iso_time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def encode_entries(outcome: DeploymentOutcome) -> dict[str, Any]:
    """The outcome's changes and blocked entries as rows, with their table of shared values."""
    table = _Table()
    t = table.ref
    changes = []
    for c in outcome.changes:
        r = c.release
        changes.append([t(c.key.environment), c.key.resource, t(c.operation), t(c.from_version), t(c.to_version),
                        t(c.reason), t(c.diff), r.id if r else None, t(r.version) if r else None,
                        r.config_digest if r else None, c.retry_of, c.from_resource, t(c.cancels), c.batch,
                        t(c.after), t([list(x) for x in c.concurrency], True) if c.concurrency else t(()), t(c.policy),
                        c.queued, c.fingerprint])
    blocked = [[t(b.key.environment), b.key.resource, t(b.version), t(b.policy), t(b.rule), t(b.message),
                t(iso_time(b.next_evaluation)), t(b.current), t(b.status)] for b in outcome.blocked]
    return {"values": table.values, "changes": changes, "blocked": blocked}


def encode_rest(outcome: DeploymentOutcome) -> dict[str, Any]:
    """Everything else of the outcome (small: counts, times, in-flight, orphaned, errors)."""
    return {
        "deployment": outcome.deployment, "computedAt": iso_time(outcome.computed_at), "until": iso_time(outcome.until),
        "exact": outcome.exact, "unchanged": outcome.unchanged, "targets": outcome.targets,
        "inFlight": [_in_flight(f) for f in outcome.in_flight],
        "removedInFlight": [_in_flight(f) for f in outcome.removed_in_flight],
        "orphaned": [[o.target, o.version, o.reason] for o in outcome.orphaned],
        "errors": [[e.target, e.deployment, e.message, e.template, e.line, e.setting] for e in outcome.errors],
    }


def decode_rest(outcome: DeploymentOutcome, data: dict[str, Any]) -> None:
    """Fill ``outcome`` (its deployment already set) from ``encode_rest``'s form, releases to be
    rebuilt from a new ReleaseSource."""
    outcome.unchanged, outcome.targets = int(data["unchanged"]), int(data["targets"])
    outcome.computed_at, outcome.until = parse_time(data["computedAt"]), parse_time(data["until"])
    outcome.exact, outcome.releases = bool(data["exact"]), ReleaseSource()
    outcome.in_flight = [InFlight(*row) for row in data["inFlight"]]
    outcome.removed_in_flight = [InFlight(*row) for row in data["removedInFlight"]]
    outcome.orphaned = [Orphan(*row) for row in data["orphaned"]]
    outcome.errors = [PlanError(*row) for row in data["errors"]]


def detach_fresh(outcome: DeploymentOutcome) -> DeploymentOutcome:
    """``detached`` for an outcome nothing else holds yet (just planned here): its changes are
    given identity-only releases in place instead of being copied."""
    if outcome.releases is not None:
        return outcome
    source = outcome.releases = ReleaseSource()
    for change in outcome.changes:
        r = change.release
        if r is not None:
            change.__dict__["release"] = DeferredRelease(r.id, r.target, r.version, r.config_digest, source)
    return outcome


def detached(outcome: DeploymentOutcome) -> DeploymentOutcome:
    """A freshly planned outcome in the form a decoded one has (releases kept by identity, rebuilt
    on demand), so that keeping it for later plans does not keep every release and its inputs."""
    if outcome.releases is not None:
        return outcome
    source = ReleaseSource()
    out = DeploymentOutcome(outcome.deployment, blocked=outcome.blocked, in_flight=outcome.in_flight,
                            removed_in_flight=outcome.removed_in_flight, orphaned=outcome.orphaned,
                            unchanged=outcome.unchanged, targets=outcome.targets, computed_at=outcome.computed_at,
                            until=outcome.until, exact=outcome.exact, releases=source,
                            encoded=dict(outcome.encoded))
    new = object.__new__
    for change in outcome.changes:
        r = change.release
        copy = new(Change)
        copy.__dict__.update(change.__dict__)
        if r is not None:
            copy.__dict__["release"] = DeferredRelease(r.id, r.target, r.version, r.config_digest, source)
        out.changes.append(copy)
    return out


def _in_flight(item: InFlight) -> list[Any]:
    return [item.target, item.task_id, item.operation, item.status, item.version]


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _tuple(values: list[Any], ref: int) -> tuple:
    found = values[ref]
    return () if not found else tuple(found)


def _pairs(values: list[Any], ref: int) -> tuple:
    found = values[ref]
    return () if not found else tuple(tuple(x) for x in found)


def decode_entries(dep: str, source: ReleaseSource, data: dict[str, Any]) -> tuple[list[Change], list[Blocked]]:
    """The changes and blocked entries ``encode_entries`` encoded, releases deferred to ``source``;
    raises ValueError/KeyError/TypeError/IndexError on a damaged entry. Frozen Change and Blocked
    values are restored through their ``__dict__`` (no per-field ``__setattr__``): there are
    hundreds of thousands of them in a large plan."""
    values = data["values"]
    times: dict[int, datetime | None] = {}
    new, change_cls, blocked_cls = object.__new__, Change, Blocked
    changes: list[Change] = []
    blocked: list[Blocked] = []
    for (env, res, op, frm, to, reason, diff, rid, rver, cdig, retry_of, from_res, cancels, batch, after, conc,
         policy, queued, fp) in data["changes"]:
        key = TargetKey(dep, values[env], res)
        release = None if rid is None else DeferredRelease(rid, key, values[rver], cdig, source)
        change = new(change_cls)
        change.__dict__.update(
            key=key, operation=values[op], from_version=values[frm], to_version=values[to], reason=values[reason],
            diff=values[diff], release=release, retry_of=retry_of, from_resource=from_res,
            cancels=_tuple(values, cancels), batch=batch, artifacts={}, after=_tuple(values, after),
            concurrency=_pairs(values, conc), policy=values[policy], queued=queued, fingerprint=fp)
        changes.append(change)
    for env, res, version, policy, rule, message, nxt, current, status in data["blocked"]:
        if nxt not in times:
            times[nxt] = parse_time(values[nxt])
        item = new(blocked_cls)
        item.__dict__.update(key=TargetKey(dep, values[env], res), version=values[version], policy=values[policy],
                             rule=values[rule], message=values[message], next_evaluation=times[nxt],
                             current=values[current], status=values[status])
        blocked.append(item)
    return changes, blocked
