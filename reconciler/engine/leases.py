"""Per-deployment leases: how several reconcile processes share one workspace on PostgreSQL.

Each process claims free deployments (``store.claim_leases``: row locks with ``FOR UPDATE SKIP
LOCKED``, so claimers never wait for each other or get the same deployment), works on them, and
gives them back. A heartbeat thread renews every held lease each third of its TTL. A process that
dies stops renewing: its leases expire after the TTL and another process claims the deployment
and takes its work over (tasks the dead run left started are resumed, never duplicated, by
``Applier``). A lease that could not be renewed in time is reported as lost, and the holder stops
starting tasks.

SQLite and git-branch states keep the single workspace lease (``engine.lease``).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from datetime import UTC, datetime, timedelta

from reconciler.engine.lease import DEFAULT_TTL, dead_on_this_host
from reconciler.models.records import LockInfo

PREFIX = "deployment:"


def per_deployment(store) -> bool:
    """Whether runs on ``store`` lease deployments rather than the whole workspace:
    PostgreSQL does (``RECONCILER_LEASES=workspace`` opts out)."""
    if os.environ.get("RECONCILER_LEASES", "").lower() == "workspace":
        return False
    return getattr(store, "backend", "") == "postgresql" and hasattr(store, "claim_leases")


def lease_ttl() -> float:
    try:
        return max(1.0, float(os.environ.get("RECONCILER_LEASE_TTL", DEFAULT_TTL)))
    except ValueError:
        return DEFAULT_TTL


class DeploymentLeases:
    """The deployment leases one run holds; a context manager that renews and finally releases them."""

    def __init__(self, store, owner: str, *, ttl: float | None = None, clock=lambda: datetime.now(UTC)):
        self.store, self.owner, self.clock = store, owner, clock
        self.ttl = ttl or lease_ttl()
        self.token = secrets.token_hex(16)
        self.held: set[str] = set()
        self.lost = threading.Event()
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _info(self) -> LockInfo:
        now = self.clock()
        return LockInfo("", self.owner, socket.gethostname(), os.getpid(), now, now + timedelta(seconds=self.ttl))

    def claim(self, deployments: list[str], limit: int = 1) -> list[str]:
        """Claim up to ``limit`` free deployments among ``deployments`` (in name order)."""
        names = [PREFIX + d for d in deployments]
        claimed = self.store.claim_leases(names, self._info(), self.token, self.clock(), limit, dead_on_this_host)
        with self._mutex:
            self.held.update(claimed)
        return [name[len(PREFIX):] for name in claimed]

    def holders(self, deployments: list[str]) -> list[tuple[str, LockInfo]]:
        """Who holds the leases of ``deployments`` (those held by someone)."""
        found = [(d, self.store.lock_holder(PREFIX + d)) for d in deployments]
        return [(d, h) for d, h in found if h is not None and h.owner]

    def release(self, deployments: list[str]) -> None:
        names = [PREFIX + d for d in deployments]
        with self._mutex:
            self.held.difference_update(names)
        self.store.release_leases(names, self.token)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            with self._mutex:
                names = sorted(self.held)
            try:
                renewed = self.store.renew_leases(names, self.token, self.clock() + timedelta(seconds=self.ttl))
            except Exception:  # noqa: BLE001 - a blip must not kill the run; the next beat retries
                continue
            if set(names) - renewed:
                self.lost.set()

    def __enter__(self) -> DeploymentLeases:
        self._thread = threading.Thread(target=self._heartbeat, name="deployment-leases", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._mutex:
            names = sorted(self.held)
            self.held.clear()
        try:
            self.store.release_leases(names, self.token)
        except Exception:  # noqa: BLE001 - they expire anyway
            pass
