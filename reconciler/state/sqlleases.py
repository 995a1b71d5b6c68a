"""Lease queries of the SQL store: the workspace lock (``engine.lease``) and per-deployment leases
on PostgreSQL (``engine.leases``).

A mixin for ``SqlStore``; expects ``self._read()``/``self._write()``, ``self._ws()``,
``self.backend`` and ``self.workspace``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from reconciler.models.records import LockInfo
from reconciler.state.schema import locks
from reconciler.state.sqlparts import StoreParts

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LeaseQueries(StoreParts):
    # -- lease lock ----------------------------------------------------------------------------
    def try_lock(self, name: str, info: LockInfo, token: str, now: datetime,
                 steal: Callable[[LockInfo], bool] = lambda _: False) -> LockInfo | None:
        """Take or renew the lock; None when acquired, else the live holder.

        The lock is free when absent, expired, already ours (same token), or ``steal(holder)``
        says the holder is dead.
        """
        values = {"owner": info.owner, "host": info.host, "pid": info.pid, "token": token,
                  "acquired_at": info.acquired_at, "expires_at": info.expires_at}
        try:
            with self._write() as conn:
                query = sa.select(locks).where(self._ws(locks), locks.c.name == name)
                if self.backend == "postgresql":
                    query = query.with_for_update()
                row = conn.execute(query).first()
                if row is None:
                    conn.execute(sa.insert(locks).values(workspace=self.workspace, name=name, **values))
                    return None
                holder = LockInfo(row.name, row.owner, row.host, row.pid, row.acquired_at, row.expires_at)
                if row.token == token or row.expires_at <= now or steal(holder):
                    if row.token == token:
                        values["acquired_at"] = row.acquired_at
                    conn.execute(sa.update(locks).where(self._ws(locks), locks.c.name == name,
                                                        locks.c.token == row.token).values(**values))
                    return None
                return holder
        except IntegrityError:
            return self.lock_holder(name) or LockInfo(name, "unknown", "", 0, now, now)

    def renew_lock(self, name: str, token: str, expires_at: datetime) -> bool:
        with self._write() as conn:
            done = conn.execute(sa.update(locks).where(self._ws(locks), locks.c.name == name,
                                                       locks.c.token == token).values(expires_at=expires_at))
            return done.rowcount == 1

    def release_lock(self, name: str, token: str) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(locks).where(self._ws(locks), locks.c.name == name, locks.c.token == token))

    def lock_holder(self, name: str) -> LockInfo | None:
        with self._read() as conn:
            row = conn.execute(sa.select(locks).where(self._ws(locks), locks.c.name == name)).first()
        return None if row is None else LockInfo(row.name, row.owner, row.host, row.pid, row.acquired_at,
                                                 row.expires_at)

    # -- per-deployment leases (scale-out on PostgreSQL) ---------------------------------------
    def claim_leases(self, names: list[str], info: LockInfo, token: str, now: datetime, limit: int = 1,
                     steal: Callable[[LockInfo], bool] = lambda holder: False) -> list[str]:
        """Claim up to ``limit`` of the named leases that are free (never taken, expired, ours, or
        held by a process ``steal`` says is dead).

        Candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so processes
        claiming at the same time never wait for each other and never get the same lease. Returns
        the names claimed, sorted.
        """
        if not names or limit <= 0:
            return []
        dialect = postgresql if self.backend == "postgresql" else sqlite
        free = [{"workspace": self.workspace, "name": n, "owner": "", "host": "", "pid": 0, "token": "",
                 "acquired_at": _EPOCH, "expires_at": _EPOCH} for n in sorted(set(names))]
        with self._write() as conn:
            conn.execute(dialect.insert(locks).on_conflict_do_nothing(), free)
        with self._write() as conn:
            query = (sa.select(locks).where(self._ws(locks), locks.c.name.in_(sorted(set(names))))
                     .order_by(locks.c.name))
            if self.backend == "postgresql":
                query = query.with_for_update(skip_locked=True)
            claimed = []
            for row in conn.execute(query):
                holder = LockInfo(row.name, row.owner, row.host, row.pid, row.acquired_at, row.expires_at)
                if row.expires_at <= now or row.token == token or steal(holder):
                    claimed.append(row.name)
                    if len(claimed) >= limit:
                        break
            if claimed:
                conn.execute(sa.update(locks).where(self._ws(locks), locks.c.name.in_(claimed)).values(
                    owner=info.owner, host=info.host, pid=info.pid, token=token, acquired_at=now,
                    expires_at=info.expires_at))
            return claimed

    def renew_leases(self, names: list[str], token: str, expires_at: datetime) -> set[str]:
        """Extend the named leases still held with ``token``; returns the names renewed."""
        if not names:
            return set()
        where = (self._ws(locks), locks.c.name.in_(sorted(names)), locks.c.token == token)
        with self._write() as conn:
            conn.execute(sa.update(locks).where(*where).values(expires_at=expires_at))
            return set(conn.execute(sa.select(locks.c.name).where(*where)).scalars())

    def release_leases(self, names: list[str], token: str) -> None:
        """Give the named leases held with ``token`` back (at once, not at expiry)."""
        if names:
            with self._write() as conn:
                conn.execute(sa.update(locks).where(self._ws(locks), locks.c.name.in_(sorted(names)),
                                                    locks.c.token == token).values(token="", expires_at=_EPOCH))
