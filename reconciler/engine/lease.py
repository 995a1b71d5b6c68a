"""The workspace lease: one live apply per workspace, with an owner and an expiry.

A holder renews the lease from a heartbeat thread every third of its TTL. A crashed holder's
lease expires within the TTL (30 s by default); a holder on the same host whose process is gone
is detected at once and replaced. A second run waits up to ``timeout`` seconds, then raises
LockError naming the holder.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

from reconciler.errors import LockError
from reconciler.models.records import LockInfo

DEFAULT_TTL = 30.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_on_this_host(holder: LockInfo) -> bool:
    return holder.host == socket.gethostname() and holder.pid > 0 and holder.pid != os.getpid() \
        and not _pid_alive(holder.pid)


class Lease:
    """Context manager holding the named lease on ``store`` while the block runs."""

    def __init__(self, store, name: str, owner: str, *, timeout: float = 60.0, ttl: float = DEFAULT_TTL,
                 clock=lambda: datetime.now(UTC)):
        self.store, self.name, self.owner = store, name, owner
        self.timeout, self.ttl, self.clock = timeout, ttl, clock
        self.token = secrets.token_hex(16)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _info(self) -> LockInfo:
        now = self.clock()
        return LockInfo(self.name, self.owner, socket.gethostname(), os.getpid(), now,
                        now + timedelta(seconds=self.ttl))

    def acquire(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            holder = self.store.try_lock(self.name, self._info(), self.token, self.clock(), dead_on_this_host)
            if holder is None:
                break
            if time.monotonic() >= deadline:
                raise LockError(f"workspace {self.store.workspace!r} is locked by {holder.describe()}; "
                                f"waited {self.timeout:g}s (raise --lock-timeout to wait longer)", holder.owner)
            time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
        self._thread = threading.Thread(target=self._heartbeat, name="lease-heartbeat", daemon=True)
        self._thread.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                ok = self.store.renew_lock(self.name, self.token, self.clock() + timedelta(seconds=self.ttl))
            except Exception:  # noqa: BLE001 - a blip must not kill the run; the next beat retries
                continue
            if not ok:
                self.lost.set()
                return

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.store.release_lock(self.name, self.token)
        except Exception:  # noqa: BLE001 - an expired lease is released by expiry anyway
            pass

    def __enter__(self) -> Lease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
