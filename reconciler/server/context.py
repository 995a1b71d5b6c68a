"""What every request of one server shares: settings, the state store, and the desired state.

The desired-state directory (``serve -C DIR``) is re-read when any file in it changes (checked at
most once per ``reload_seconds``, by size and modification time), so approvals are checked against
the versions and environments currently in Git. A broken edit keeps the last valid desired state
and shows the error (``load_error``) instead of taking the server down. Plans and status rows are
computed at most once per ``cache_seconds`` and recomputed at once after the server writes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reconciler.engine.history import read_config
from reconciler.engine.session import Session
from reconciler.engine.workspace import open_workspace
from reconciler.errors import ConfigError, UsageError
from reconciler.server import snapshot as snapshots
from reconciler.state.sqlstore import SqlStore
from reconciler.state.store import open_store, resolve_url

WEBHOOK_SECRET_ENV = "RECONCILER_GITHUB_WEBHOOK_SECRET"


@dataclass
class Settings:
    directory: Path
    state_url: str | None = None
    lease: float = 60.0  # seconds a pull agent's claim lasts without a heartbeat
    max_expiries: int = 3  # leases that may run out before the job fails instead of going back
    cache_seconds: float = 2.0
    reload_seconds: float = 1.0
    body_limit: int = 1 << 20
    webhook_secret_env: str = WEBHOOK_SECRET_ENV
    drift: bool = False  # read version stickers for the dashboard's "drifted" state


@dataclass
class ServerContext:
    settings: Settings
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    load_error: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self.root = self.settings.directory.resolve()
        config = read_config(str(self.root))
        self.url = resolve_url(self.settings.state_url, config.state, self.root)
        store = open_store(self.url, config.workspace, self.root)
        if not isinstance(store, SqlStore):
            store.close()
            raise UsageError(f"reconciler serve needs a SQLite or PostgreSQL state backend, not {self.url!r}")
        self.store: SqlStore = store
        self._session: Session | None = None
        self._files: tuple[tuple[str, int, int], ...] = ()
        self._checked = 0.0
        self._snapshot: snapshots.Snapshot | None = None
        self._snapshot_at = 0.0
        self.session()  # fail at start when the desired state is invalid

    def close(self) -> None:
        self.store.close()

    def now(self) -> datetime:
        return self.clock()

    def session(self) -> Session:
        """The session on the current desired state (reloaded when its files changed)."""
        with self._lock:
            if self._session is None or time.monotonic() - self._checked >= self.settings.reload_seconds:
                self._checked = time.monotonic()
                files = _fingerprint(self.root)
                if self._session is None or files != self._files:
                    self._reload(files)
            assert self._session is not None
            return self._session

    def _reload(self, files: tuple[tuple[str, int, int], ...]) -> None:
        try:
            workspace = open_workspace(str(self.root))
        except ConfigError as exc:
            if self._session is None:
                raise
            self.load_error = "; ".join(d.format() for d in exc.diagnostics)
            self._files = files
            return
        self._session = Session(workspace, self.store, self.url, self.root)
        self._files, self.load_error = files, None
        self._snapshot = None

    def snapshot(self) -> snapshots.Snapshot:
        """Plan, status rows and pending releases, at most ``cache_seconds`` old."""
        session = self.session()
        with self._lock:
            fresh = time.monotonic() - self._snapshot_at < self.settings.cache_seconds
            if self._snapshot is None or not fresh:
                self._snapshot = snapshots.build(session, self.now(), drift=self.settings.drift)
                self._snapshot_at = time.monotonic()
            return self._snapshot

    def invalidate(self) -> None:
        """Forget the snapshot after a write, so the next read shows its effect."""
        with self._lock:
            self._snapshot = None

    def webhook_secret(self) -> str | None:
        return os.environ.get(self.settings.webhook_secret_env) or None


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime) of every file outside hidden folders: what a reload depends on."""
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(folder, name)
            try:
                info = path.stat()
            except OSError:
                continue
            out.append((str(path.relative_to(root)), info.st_size, info.st_mtime_ns))
    return tuple(out)
