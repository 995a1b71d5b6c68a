"""Recorded state as planning reads it, loaded lazily: target states one deployment at a time,
failed tasks on first use, full state records and releases one by one at first and a whole
deployment at once when many of its targets changed. A plan that reuses most deployments from the
plan cache thus reads only what it plans; a plan of everything reads in a few large queries.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from reconciler.models.records import TargetState, TaskRecord

class StateSlices(Mapping):
    """Recorded target states (slim records), read one deployment at a time on first use."""

    def __init__(self, store) -> None:
        self._store = store
        self._slices: dict[str, dict[str, TargetState]] = {}
        self._names: set[str] | None = None

    def of_deployment(self, deployment: str) -> dict[str, TargetState]:
        found = self._slices.get(deployment)
        if found is None:
            found = self._slices[deployment] = self._store.target_states(details=False, deployment=deployment)
        return found

    def loaded(self) -> dict[str, dict[str, TargetState]]:
        """The deployments read so far."""
        return self._slices

    def deployments(self) -> set[str]:
        if self._names is None:
            self._names = set(self._store.state_deployments())
        return self._names

    def get(self, key, default=None):
        return self.of_deployment(key.split("/", 1)[0]).get(key, default)

    def __getitem__(self, key: str) -> TargetState:
        return self.of_deployment(key.split("/", 1)[0])[key]

    def __contains__(self, key) -> bool:
        return isinstance(key, str) and key in self.of_deployment(key.split("/", 1)[0])

    def __iter__(self) -> Iterator[str]:
        for name in sorted(self.deployments()):
            yield from self.of_deployment(name)

    def __len__(self) -> int:
        return sum(len(self.of_deployment(name)) for name in self.deployments())


class LazyLatest(Mapping):
    """Targets whose newest task did not succeed, read on first use (planning only asks when it
    builds a release, which a fully cached plan never does)."""

    def __init__(self, store) -> None:
        self._store = store
        self._found: dict[str, TaskRecord] | None = None

    def _all(self) -> dict[str, TaskRecord]:
        if self._found is None:
            self._found = self._store.latest_unsuccessful()
        return self._found

    def get(self, key, default=None):
        return self._all().get(key, default)

    def __getitem__(self, key: str) -> TaskRecord:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


_BATCH_AFTER = 16  # single-row reads per deployment before its rows are read in one query


class StateDetails:
    """Full target-state records (with the inputs that explain a change): one query per target at
    first, the whole deployment in one query once many of its targets changed."""

    def __init__(self, store, states) -> None:
        self._store, self._states = store, states
        self._asked: dict[str, int] = {}
        self._loaded: dict[str, dict[str, TargetState]] = {}

    def __call__(self, target: str) -> TargetState | None:
        dep = target.split("/", 1)[0]
        if dep in self._loaded:
            return self._loaded[dep].get(target)
        self._asked[dep] = self._asked.get(dep, 0) + 1
        if self._asked[dep] <= _BATCH_AFTER:
            return self._store.target_state(target)
        self._loaded[dep] = self._store.target_states(details=True, deployment=dep)
        return self._loaded[dep].get(target)


class LazyReleases(dict):
    """Current releases (what planning diffs a changed target against), fetched from the store only
    when asked for; after a few single reads, a deployment's releases are read in one query."""

    def __init__(self, store, states):
        super().__init__()
        self._store, self._states = store, states
        self._asked = 0
        self._missing: set[str] = set()
        self._owners: dict[str, str] = {}  # release id -> deployment, for the slices read so far
        self._indexed: set[str] = set()

    def get(self, key, default=None):  # type: ignore[override]
        if key in self:
            return super().get(key)
        if key in self._missing:
            return default
        self._asked += 1
        if self._asked > _BATCH_AFTER and hasattr(self._store, "releases_by_id"):
            dep = self._owner(key)
            if dep is not None:
                self._read_deployment(dep)
                return super().get(key, default)
        found = self._store.get_release(key)
        if found is None:
            self._missing.add(key)
            return default
        self[key] = found
        return found

    def _owner(self, key: str) -> str | None:
        if key not in self._owners:
            for dep, slice_ in getattr(self._states, "loaded", dict)().items():
                if dep not in self._indexed:
                    self._indexed.add(dep)
                    self._owners.update((s.release_id, dep) for s in slice_.values())
        return self._owners.get(key)

    def _read_deployment(self, dep: str) -> None:
        ids = [rid for rid, owner in self._owners.items() if owner == dep and rid not in self]
        found = self._store.releases_by_id(ids)
        self.update(found)
        self._missing.update(rid for rid in ids if rid not in found)
