"""Queries of the HTTP API (``reconciler serve``): API keys, pull-agent claims, and releases with
their newest task.

A mixin for ``SqlStore``; expects ``self._read()``/``self._write()``, ``self._ws()``,
``self.backend`` and ``self.workspace``.

Claims are leases on tasks: ``claimed_by`` holds the task until ``claimed_until``. Claiming is
atomic across processes: candidates are selected ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (inside
``BEGIN IMMEDIATE`` on SQLite, which serialises writers), and each one is taken by a conditional
``UPDATE ... WHERE claimed_by IS NULL`` whose row count says who won. Every claim change is such a
compare-and-set, so two servers sweeping expired leases never requeue one twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from reconciler.errors import UsageError
from reconciler.models import statuses
from reconciler.models.records import ReleaseRecord, TaskRecord
from reconciler.state.schema import api_keys, attempts, releases, tasks
from reconciler.state.sqlparts import StoreParts
from reconciler.state.sqltasks import task_from_row

QUEUED = (statuses.TRIGGERED, statuses.IN_PROGRESS)  # what a pull agent may claim


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as stored: never the key itself, only its SHA-256 and a short prefix to recognise it."""

    name: str
    prefix: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    task_id: str
    claimed_by: str | None
    claimed_until: datetime | None
    expiries: int


class ApiQueries(StoreParts):
    # -- API keys ------------------------------------------------------------------------------
    def create_api_key(self, name: str, key_hash: str, prefix: str, scope: str, now: datetime) -> ApiKey:
        """Record a new key; a revoked key's name may be reused, a live one's may not."""
        k = api_keys
        with self._write() as conn:
            row = conn.execute(sa.select(k.c.revoked_at).where(self._ws(k), k.c.name == name)).first()
            if row is not None and row.revoked_at is None:
                raise UsageError(f"an API key named {name!r} already exists; revoke it first or choose another name")
            conn.execute(sa.delete(k).where(self._ws(k), k.c.name == name))
            conn.execute(sa.insert(k).values(workspace=self.workspace, name=name, key_hash=key_hash, prefix=prefix,
                                             scope=scope, created_at=now, revoked_at=None))
        return ApiKey(name, prefix, scope, now)

    def api_keys(self) -> list[ApiKey]:
        k = api_keys
        with self._read() as conn:
            rows = conn.execute(sa.select(k).where(self._ws(k)).order_by(k.c.name))
            return [ApiKey(r.name, r.prefix, r.scope, r.created_at, r.revoked_at) for r in rows]

    def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        """The live (unrevoked) key with this hash, if any."""
        k = api_keys
        query = sa.select(k).where(self._ws(k), k.c.key_hash == key_hash, k.c.revoked_at.is_(None))
        with self._read() as conn:
            r = conn.execute(query).first()
        return None if r is None else ApiKey(r.name, r.prefix, r.scope, r.created_at, r.revoked_at)

    def revoke_api_key(self, name: str, now: datetime) -> bool:
        k = api_keys
        with self._write() as conn:
            done = conn.execute(sa.update(k).where(self._ws(k), k.c.name == name,
                                                   k.c.revoked_at.is_(None)).values(revoked_at=now))
            return done.rowcount == 1

    # -- pull-agent claims ----------------------------------------------------------------------
    def claim_tasks(self, agent: str, claimant: str, now: datetime, until: datetime, limit: int) -> list[str]:
        """Atomically claim up to ``limit`` queued, unclaimed tasks of ``agent`` (oldest first)."""
        t = tasks
        query = (sa.select(t.c.id).where(self._ws(t), t.c.agent == agent, t.c.status.in_(QUEUED),
                                         t.c.claimed_by.is_(None), t.c.cancel_requested.is_(False))
                 .order_by(t.c.seq).limit(limit))
        if self.backend == "postgresql":
            query = query.with_for_update(skip_locked=True)
        won = []
        with self._write() as conn:
            for task_id in conn.execute(query).scalars().all():
                done = conn.execute(sa.update(t).where(self._ws(t), t.c.id == task_id,
                                                       t.c.claimed_by.is_(None), t.c.status.in_(QUEUED))
                                    .values(claimed_by=claimant, claimed_until=until))
                if done.rowcount == 1:
                    won.append(task_id)
        return won

    def claim(self, task_id: str) -> Claim:
        t = tasks
        with self._read() as conn:
            r = conn.execute(sa.select(t.c.id, t.c.claimed_by, t.c.claimed_until, t.c.claim_expiries).where(
                self._ws(t), t.c.id == task_id)).first()
        return Claim(task_id, None, None, 0) if r is None else Claim(r.id, r.claimed_by, r.claimed_until,
                                                                      r.claim_expiries)

    def renew_claim(self, task_id: str, claimant: str, until: datetime) -> bool:
        """Extend ``claimant``'s lease (or take the task back when nobody holds it); False when another holds it."""
        t = tasks
        with self._write() as conn:
            done = conn.execute(sa.update(t).where(
                self._ws(t), t.c.id == task_id, t.c.status.in_(statuses.ACTIVE),
                sa.or_(t.c.claimed_by.is_(None), t.c.claimed_by == claimant),
            ).values(claimed_by=claimant, claimed_until=until))
            return done.rowcount == 1

    def release_claim(self, task_id: str) -> None:
        t = tasks
        with self._write() as conn:
            conn.execute(sa.update(t).where(self._ws(t), t.c.id == task_id)
                         .values(claimed_by=None, claimed_until=None))

    def expired_claims(self, now: datetime) -> list[Claim]:
        """Claims on unfinished tasks whose lease ran out before ``now``."""
        t = tasks
        query = sa.select(t.c.id, t.c.claimed_by, t.c.claimed_until, t.c.claim_expiries).where(
            self._ws(t), t.c.claimed_by.is_not(None), t.c.claimed_until < now,
            t.c.status.in_(statuses.ACTIVE))
        with self._read() as conn:
            return [Claim(r.id, r.claimed_by, r.claimed_until, r.claim_expiries) for r in conn.execute(query)]

    def drop_expired_claim(self, claim: Claim, *, requeue_message: str | None) -> bool:
        """Compare-and-set: drop ``claim`` if it is still the one held, counting the expiry. With a
        ``requeue_message`` the task goes back to the queue (``triggered``, no external id)."""
        t = tasks
        values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "claim_expiries": claim.expiries + 1}
        if requeue_message is not None:
            values.update(status=statuses.TRIGGERED, external_id=None, message=requeue_message)
        with self._write() as conn:
            done = conn.execute(sa.update(t).where(
                self._ws(t), t.c.id == claim.task_id, t.c.claimed_by == claim.claimed_by,
                t.c.claimed_until == claim.claimed_until, t.c.status.in_(statuses.ACTIVE)).values(**values))
            if done.rowcount == 1 and requeue_message is not None:
                conn.execute(sa.update(attempts).where(
                    self._ws(attempts), attempts.c.task_id == claim.task_id,
                    attempts.c.finished_at.is_(None)).values(status=statuses.TRIGGERED))
            return done.rowcount == 1

    # -- releases -------------------------------------------------------------------------------
    def list_releases(self, deployment: str, page: int = 1, per_page: int = 20
                      ) -> tuple[list[tuple[ReleaseRecord, TaskRecord | None]], int]:
        """Releases of ``deployment`` newest first, each with its newest task, and the total count."""
        r, t = releases, tasks
        cond = [self._ws(r), r.c.target.startswith(f"{deployment}/", autoescape=True)]
        newest = (sa.select(t.c.release_id, sa.func.max(t.c.seq).label("seq"))
                  .where(self._ws(t), t.c.deployment == deployment)
                  .group_by(t.c.release_id).subquery())
        query = (sa.select(r, newest.c.seq.label("task_seq")).select_from(
            r.outerjoin(newest, newest.c.release_id == r.c.id)).where(*cond)
            .order_by(r.c.created_at.desc(), r.c.id).limit(per_page).offset((max(page, 1) - 1) * per_page))
        with self._read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(r).where(*cond)).scalar_one()
            rows = conn.execute(query).all()
            seqs = [row.task_seq for row in rows if row.task_seq is not None]
            found = {row.seq: task_from_row(row) for row in conn.execute(
                sa.select(t).where(t.c.seq.in_(seqs)))} if seqs else {}
        out = [(ReleaseRecord(row.id, row.target, row.version, row.variables, row.config, row.config_digest,
                              row.created_at), found.get(row.task_seq)) for row in rows]
        return out, int(total)

    def release_tasks(self, release_id: str) -> list[TaskRecord]:
        """Every task that delivered (or is delivering) ``release_id``, oldest first."""
        query = sa.select(tasks).where(self._ws(tasks), tasks.c.release_id == release_id)
        with self._read() as conn:
            return [task_from_row(row) for row in conn.execute(query.order_by(tasks.c.seq))]

    def version_tasks(self, deployment: str, versions: list[str]) -> list[TaskRecord]:
        """Tasks of ``deployment`` that deliver one of ``versions``, oldest first (rollout timelines)."""
        query = sa.select(tasks).where(self._ws(tasks), tasks.c.deployment == deployment,
                                       tasks.c.version.in_(versions), tasks.c.operation != "uninstall")
        with self._read() as conn:
            return [task_from_row(row) for row in conn.execute(query.order_by(tasks.c.seq))]
