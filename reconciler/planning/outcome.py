"""The planned outcome of one deployment, the unit a plan cache stores and reuses.

A plan is the concatenation of its deployments' outcomes: every list of the Plan is sorted by
target key, and the keys of one deployment (``dep/...``) form one contiguous block in that order,
so outcomes computed separately merge into exactly the plan a single pass would have made.

An outcome is valid for evaluation times in ``[computed_at, until)`` (only at ``computed_at``
itself when ``exact``: it read the clock's value, e.g. a version nobody has seen yet).

A reused outcome's releases are ``DeferredRelease``s: they carry the identity the plan prints
(id, version, config digest) and rebuild everything else from the current inputs on first use;
equal input digests guarantee an equal release, which is checked.

A deployment planned again (some input changed) gets back, by identity, every release its previous
outcome planned for a target whose input fingerprint and version are unchanged
(``PriorReleases``): adding a Version re-decides every target, but rebuilds no release that
did not change.

An outcome also keeps its changes' and blocked entries' JSON rows once encoded (``rows``), so that
a plan cache can store them and a reused deployment is printed without encoding it again.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime

from reconciler.jsontext import Rows
from reconciler.models.keys import TargetKey
from reconciler.planning import groups
from reconciler.planning.groups import Group
from reconciler.planning.plan import Blocked, Change, InFlight, Orphan, count_operations, soonest
from reconciler.planning.releases import Release

_HEAVY = tuple(f.name for f in fields(Release) if f.name not in ("id", "target", "version", "config_digest"))


@dataclass
class DeploymentOutcome:
    deployment: str
    changes: list[Change] = field(default_factory=list)  # sorted by key, batches assigned
    blocked: list[Blocked] = field(default_factory=list)  # sorted by key
    in_flight: list[InFlight] = field(default_factory=list)  # targets with work in flight, in key order
    removed_in_flight: list[InFlight] = field(default_factory=list)  # removed targets with work in flight
    orphaned: list[Orphan] = field(default_factory=list)
    unchanged: int = 0
    targets: int = 0
    errors: list = field(default_factory=list)  # PlanError: outcomes with errors are never cached
    computed_at: datetime | None = None
    until: datetime | None = None
    exact: bool = False
    releases: ReleaseSource | None = None  # rebuilds the deferred releases of a reused outcome
    encoded: dict[str, Rows] = field(default_factory=dict, repr=False, compare=False)  # "changes"/"blocked"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def rows(self, kind: str) -> Rows:
        """The JSON rows of ``changes`` or ``blocked``, encoded once (a plan-cache writer thread and
        the plan's view may both ask)."""
        with self._lock:
            found = self.encoded.get(kind)
            if found is None:
                found = self.encoded[kind] = Rows.of(item.to_json() for item in getattr(self, kind))
            return found

    def size(self, kind: str) -> int:
        """How many ``changes`` or ``blocked`` entries (a stored outcome knows without decoding)."""
        return len(getattr(self, kind))

    def groups(self, kind: str) -> list[Group]:
        """The ``changes`` or ``blocked`` entries grouped as the text view prints them."""
        return groups.group(kind, getattr(self, kind))

    def operations(self) -> dict[str, int]:
        """How many changes of each operation."""
        return count_operations(self.changes)

    def soonest(self) -> datetime | None:
        """The earliest next evaluation of a blocked entry."""
        return soonest(self.blocked)

    def valid_at(self, at: datetime) -> bool:
        if self.computed_at is None or at < self.computed_at:
            return False
        if at == self.computed_at:
            return True
        return not self.exact and (self.until is None or at < self.until)


class ReleaseSource:
    """Rebuilds a release from the inputs of the plan that reuses an outcome (rebound per plan)."""

    def __init__(self) -> None:
        self.build: Callable[[TargetKey, str], Release] | None = None


class DeferredRelease(Release):
    """A Release known by its identity; its other fields are rebuilt on first access."""

    def __init__(self, id: str, target: TargetKey, version: str, config_digest: str, source: ReleaseSource):
        self.__dict__.update(id=id, target=target, version=version, config_digest=config_digest, _source=source)

    def __getattr__(self, name: str):
        if name not in _HEAVY:
            raise AttributeError(name)
        build = self.__dict__["_source"].build
        if build is None:
            raise RuntimeError(f"the cached release {self.__dict__['id']} is not bound to a plan")
        full = build(self.__dict__["target"], self.__dict__["version"])
        if full.id != self.__dict__["id"]:
            raise RuntimeError(f"plan cache inconsistency: release of {full.target} rebuilt as {full.id}, "
                               f"cached as {self.__dict__['id']}; clear the plan cache and report this")
        for heavy in _HEAVY:
            object.__setattr__(self, heavy, getattr(full, heavy))
        return self.__dict__[name]

    def __reduce__(self):  # pragma: no cover - never pickled; materialize first
        raise TypeError("DeferredRelease cannot be pickled")


class PriorReleases:
    """The releases a deployment's previous outcome planned, by target: ``get`` hands one back
    (deferred, rebuilt on first use from this plan's inputs) when the target's fingerprint and
    version are those it was planned with, since equal fingerprints mean equal releases."""

    def __init__(self, identities: Mapping[str, tuple[str, str, str, str]],
                 build: Callable[[TargetKey, str], Release]):
        self.identities = identities  # target -> (fingerprint, release id, version, config digest)
        self.source = ReleaseSource()
        self.source.build = build

    def get(self, key: TargetKey, name: str, version: str, fingerprint: str) -> Release | None:
        found = self.identities.get(name)
        if found is None or found[0] != fingerprint or found[2] != version:
            return None
        return DeferredRelease(found[1], key, version, found[3], self.source)


def prior_identities(outcome: DeploymentOutcome) -> dict[str, tuple[str, str, str, str]]:
    """What ``PriorReleases`` needs of an outcome: its planned (not queued) changes' releases."""
    out = {}
    for change in outcome.changes:
        release = change.release
        if release is not None and change.fingerprint and change.queued is None:
            out[str(change.key)] = (change.fingerprint, release.id, release.version, release.config_digest)
    return out


def release_identity(release: Release | None) -> tuple[str, str, str] | None:
    """(id, version, config digest) of a release: what a cached outcome keeps of it."""
    if release is None:
        return None
    return release.id, release.version, release.config_digest
