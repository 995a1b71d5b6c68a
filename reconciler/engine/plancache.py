"""The plan cache: each deployment's planned outcome, stored under a digest of every input it was
computed from, and reused while that digest is unchanged and the evaluation time is inside the
outcome's validity (``DeploymentOutcome.valid_at``).

A deployment's inputs (``plandigests``) are the Git blobs of the files its plan reads, the
workspace config, secrets, templates, the code, and its recorded state's epoch (a token the
database replaces on every write that concerns the deployment). The target keys are cached
separately under a narrower digest.

A deployment whose digest changed is planned again, and its previous outcome (of the same code)
lends it the identities of releases whose inputs did not change (``prior``).

Entries are files outside the repository (next to the parse cache, one folder per workspace ×
directory × state URL): an outcome as ``planfile.dumps`` writes it, target keys as JSON. A
long-lived process also keeps them in memory.
``RECONCILER_PLAN_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reconciler.engine import plancodec, planfile
from reconciler.engine.plandigests import code_version, input_digests
from reconciler.engine.plandigests import digest as _digest
from reconciler.engine.session import Session
from reconciler.loading.yaml_reader import cache_dir
from reconciler.models.keys import TargetKey
from reconciler.planning.facts import Facts
from reconciler.planning.outcome import DeploymentOutcome, prior_identities

_MEMORY: dict[tuple[str, str], tuple[str, DeploymentOutcome]] = {}
_MEMORY_TARGETS: dict[tuple[str, str], tuple[str, list[TargetKey]]] = {}
_WRITERS: list[threading.Thread] = []


def enabled() -> bool:
    return os.environ.get("RECONCILER_PLAN_CACHE", "1") not in ("0", "false", "no", "off")


def plan_cache_dir() -> Path:
    """``$RECONCILER_CACHE_DIR/plan`` when that is set (one variable isolates every cache), else
    ``~/.cache/reconciler/plan`` next to the parse cache."""
    if os.environ.get("RECONCILER_CACHE_DIR"):
        return cache_dir() / "plan"
    return cache_dir().parent / "plan"


_HELD = threading.local()  # .writes: the writers ``writes_held`` keeps back on this thread


@contextmanager
def writes_held() -> Iterator[None]:
    """Start this thread's background plan-cache writes only when the block ends. A long-lived
    process (``watch``) prints its plan first, instead of sharing the interpreter with a writer
    while it does. The outcomes are kept in memory at once; only the disk write waits."""
    outer = getattr(_HELD, "writes", None)
    _HELD.writes = []
    try:
        yield
    finally:
        held, _HELD.writes = _HELD.writes, outer
        for writer in held:
            _start(writer)


def _start(writer: threading.Thread) -> None:
    held = getattr(_HELD, "writes", None)
    if held is not None:
        held.append(writer)
        return
    writer.start()
    _WRITERS.append(writer)


def flush() -> None:
    """Wait for plan-cache writes still in progress (a process waits for them anyway at exit)."""
    while _WRITERS:
        _WRITERS.pop().join()


def _remember(memory: dict, key: tuple[str, str], value: Any) -> None:
    if len(memory) >= 2048 and key not in memory:
        memory.clear()  # a long-lived process planning many workspaces: start over, never grow unbounded
    memory[key] = value


class PlanCache:
    """Lookups and stores of one plan's deployments (digests computed once, at construction)."""

    def __init__(self, session: Session, facts: Facts, excluded: Iterable[str] = ()):
        self.session, self.facts = session, facts
        catalog = session.catalog
        self.scope = _digest(catalog.config.workspace, str(session.root), session.url)
        self.folder = plan_cache_dir() / self.scope
        epochs = session.store.plan_epochs()  # type: ignore[attr-defined]
        self.digests, self.target_digests = input_digests(session, facts, epochs, set(excluded))
        self._stale: dict[str, DeploymentOutcome] = {}  # found but not reusable: lends its releases

    # -- outcomes ---------------------------------------------------------------------------
    def reusable(self) -> dict[str, DeploymentOutcome]:
        """Outcomes whose inputs are unchanged and that are valid at the plan's time."""
        out = {}
        for name, digest in self.digests.items():
            outcome = self._load(name, digest)
            if outcome is not None and outcome.valid_at(self.facts.now):
                out[name] = outcome
            elif outcome is not None:
                self._stale[name] = outcome
        return out

    def _load(self, name: str, digest: str) -> DeploymentOutcome | None:
        found = _MEMORY.get((self.scope, name))
        if found is not None and found[0] == digest:
            outcome = found[1]
            if outcome.releases is None:  # kept as planned: from now on by release identity only
                outcome = plancodec.detached(outcome)
                _remember(_MEMORY, (self.scope, name), (digest, outcome))
            return outcome
        if found is not None:  # this process planned it under other inputs (another may have stored it since)
            self._stale[name] = found[1]
        blob = self._read_bytes(f"{quote(name, safe='')}.plan")
        if blob is None:
            return None
        try:
            head, outcome = planfile.loads(blob)
        except (KeyError, TypeError, ValueError, IndexError):
            return None
        if head.get("digest") != digest:
            if head.get("code") == code_version() and found is None:
                self._stale[name] = outcome
            return None
        _remember(_MEMORY, (self.scope, name), (digest, outcome))
        return outcome

    def prior(self, name: str) -> dict[str, tuple[str, str, str, str]] | None:
        """The release identities of the deployment's previous outcome (planned by this code under
        other inputs, or at a time it is no longer valid for), for ``build.Prior``."""
        outcome = self._stale.pop(name, None)
        if outcome is None:
            return None
        try:
            return prior_identities(outcome)
        except RuntimeError:  # a damaged entry lends nothing
            return None

    def store(self, fresh: dict[str, DeploymentOutcome], stored: dict[str, bytes] | None = None, *,
              background: bool = False) -> None:
        """Keep freshly computed outcomes (never ones with errors) for later plans: in memory for a
        long-lived process, and on disk (with ``background``, by a thread, so that the plan is
        returned at once; later lookups wait for it). ``stored`` holds ones already in their stored
        form (``stored_form``)."""
        items = []
        for name, outcome in fresh.items():
            digest = self.digests.get(name)
            if digest is not None and not outcome.errors:
                items.append((name, digest, outcome))
                _remember(_MEMORY, (self.scope, name), (digest, outcome))

        def write() -> None:
            for name, digest, outcome in items:
                blob = (stored or {}).get(name) or self.stored_form(name, outcome)
                self._write_bytes(f"{quote(name, safe='')}.plan", blob)
                try:  # the JSON entry an older release kept for this deployment
                    (self.folder / f"{quote(name, safe='')}.json").unlink(missing_ok=True)
                except OSError:
                    pass

        if background and items:
            _start(threading.Thread(target=write, name="plan-cache-write"))
        else:
            write()

    def stored_form(self, name: str, outcome: DeploymentOutcome) -> bytes:
        """The bytes an outcome is stored as: ``planfile.dumps`` headed by its input digest."""
        return planfile.dumps(outcome, {"digest": self.digests.get(name), "code": code_version()})

    def remember(self, outcomes: dict[str, DeploymentOutcome]) -> None:
        """Keep outcomes another process stored (a planning worker's) in memory too."""
        for name, outcome in outcomes.items():
            digest = self.digests.get(name)
            if digest is not None and not outcome.errors:
                _remember(_MEMORY, (self.scope, name), (digest, outcome))

    # -- target keys ------------------------------------------------------------------------
    def get(self, name: str) -> list[TargetKey] | None:
        """The cached target keys of one deployment, if its selectors and resources are unchanged
        (``TargetSource`` asks only for the deployments it has to plan)."""
        digest = self.target_digests.get(name)
        if digest is None:
            return None
        found = _MEMORY_TARGETS.get((self.scope, name))
        if found is not None and found[0] == digest:
            return found[1]
        data = self._read(f"{quote(name, safe='')}.targets.json")
        if data is None or data.get("digest") != digest:
            return None
        try:
            keys = [TargetKey(name, env, res) for env, resources in data["keys"] for res in resources]
        except (KeyError, TypeError, ValueError):
            return None
        keys.sort(key=str)
        _remember(_MEMORY_TARGETS, (self.scope, name), (digest, keys))
        return keys

    def store_targets(self, computed: dict[str, list[TargetKey]]) -> None:
        for name, keys in computed.items():
            digest = self.target_digests.get(name)
            if digest is None:
                continue
            by_env: dict[str, list[str]] = {}
            for key in keys:
                by_env.setdefault(key.environment, []).append(key.resource)
            self._write(f"{quote(name, safe='')}.targets.json", {"digest": digest, "keys": list(by_env.items())})
            _remember(_MEMORY_TARGETS, (self.scope, name), (digest, keys))

    # -- files ------------------------------------------------------------------------------
    def _read(self, name: str) -> dict[str, Any] | None:
        blob = self._read_bytes(name)
        try:
            data = json.loads(blob) if blob is not None else None
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _read_bytes(self, name: str) -> bytes | None:
        flush()
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return None

    def _write(self, name: str, data: dict[str, Any]) -> None:
        self._write_bytes(name, json.dumps(data, separators=(",", ":"), default=str).encode())

    def _write_bytes(self, name: str, blob: bytes) -> None:
        target = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, target)
        except OSError:
            pass  # the cache is an optimisation; a read-only home must not fail a plan
