"""The SQL state store (SQLite and PostgreSQL through SQLAlchemy Core).

Reads run in plain transactions; writes run in ``BEGIN IMMEDIATE`` on SQLite so concurrent writers
queue on the database lock instead of failing mid-transaction. Every task's start and finish go
through ``hotwrites`` (compiled once; one autocommitted statement each on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from reconciler.errors import StateError
from reconciler.models.records import ApprovalRecord, HoldRecord, ReleaseRecord, TargetState, Trace
from reconciler.state import engine as engines
from reconciler.state import migrate
from reconciler.state.hotwrites import HotWrites
from reconciler.state.schema import (
    approvals,
    holds,
    meta,
    plan_epoch_shards,
    plan_epochs,
    releases,
    target_state,
    traces,
    versions_seen,
)
from reconciler.state.sqlapi import ApiQueries
from reconciler.state.sqlleases import LeaseQueries
from reconciler.state.sqltasks import TaskQueries

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SqlStore(TaskQueries, ApiQueries, LeaseQueries):
    def __init__(self, url: str, workspace: str):
        self.url = url
        self.workspace = workspace
        self.engine = engines.create(url)
        self.backend = self.engine.dialect.name
        # SQLite has one writer at a time: this process's threads take turns on a lock, handed over
        # at once, rather than in SQLite's busy handler, which sleeps up to 100 ms between tries
        # (other processes still wait there). PostgreSQL writers run concurrently.
        self._writers = threading.RLock() if self.backend == "sqlite" else contextlib.nullcontext()
        self._hot = HotWrites(self.engine, self._writers)
        self._wrote = False  # PRAGMA optimize on close only after writes (read-only plans skip it)
        try:
            migrate.ensure_schema(self.engine)
        except OperationalError as exc:
            raise StateError(f"cannot open state backend {self.describe()}: {exc.orig}") from exc

    def describe(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        if self.backend == "sqlite" and self._wrote and self.url != "sqlite:///:memory:":
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA optimize")  # keeps query-planner statistics current
            except Exception:  # noqa: BLE001 - an optimisation; a read-only file must not fail a command
                pass
        self.engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        self._wrote = True
        with self._writers, self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, \
                conn.begin():
            yield conn

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._read() as conn:
            return conn.execute(sa.select(meta.c.value).where(self._ws(meta), meta.c.key == key)).scalar()

    def set_meta_default(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless one exists; return the stored value (also when
        another process stored one at the same moment)."""
        try:
            with self._write() as conn:
                found = conn.execute(sa.select(meta.c.value).where(self._ws(meta), meta.c.key == key)).scalar()
                if found is not None:
                    return found
                conn.execute(sa.insert(meta).values(workspace=self.workspace, key=key, value=value))
                return value
        except IntegrityError:
            stored = self.get_meta(key)
            if stored is None:
                raise
            return stored

    def secret_key(self, create: bool = True) -> bytes:
        """The workspace's HMAC key for secret digests: ``$RECONCILER_SECRET_DIGEST_KEY`` when set
        (never stored), else created in state on first use (never printed).

        With ``create=False`` (plans) nothing is written: a missing key means nothing was ever
        recorded, so a throwaway key serves.
        """
        from reconciler.state.store import secret_key_from_env

        configured = secret_key_from_env()
        if configured is not None:
            return configured
        if not create:
            found = self.get_meta("secret-digest-key")
            return bytes.fromhex(found) if found else secrets.token_bytes(32)
        return bytes.fromhex(self.set_meta_default("secret-digest-key", secrets.token_hex(32)))

    # -- versions ---------------------------------------------------------------------------
    def first_seen(self) -> dict[tuple[str, str], datetime]:
        with self._read() as conn:
            rows = conn.execute(sa.select(versions_seen).where(self._ws(versions_seen)))
            return {(r.deployment, r.tag): r.first_seen for r in rows}

    def record_seen(self, pairs: list[tuple[str, str]], at: datetime) -> None:
        if not pairs:
            return
        with self._write() as conn:
            known = {(r.deployment, r.tag) for r in conn.execute(sa.select(
                versions_seen.c.deployment, versions_seen.c.tag).where(self._ws(versions_seen)))}
            new = [{"workspace": self.workspace, "deployment": d, "tag": t, "first_seen": at}
                   for d, t in sorted(set(pairs)) if (d, t) not in known]
            if new:  # another process may record the same version at the same moment: first one wins
                dialect = postgresql if self.backend == "postgresql" else sqlite
                conn.execute(dialect.insert(versions_seen).on_conflict_do_nothing(), new)

    # -- releases and target state ------------------------------------------------------------
    def put_release(self, release: ReleaseRecord) -> None:
        """Insert a release unless one with the same content-hash id exists (idempotent)."""
        self.put_releases([release])

    def put_releases(self, records: list[ReleaseRecord]) -> None:
        """``put_release`` for many, in one transaction (new ones inserted; existing ids skipped)."""
        if not records:
            return
        dialect = postgresql if self.backend == "postgresql" else sqlite
        rows = {r.id: {"workspace": self.workspace, "id": r.id, "target": r.target, "version": r.version,
                       "variables": r.variables, "config": r.config, "config_digest": r.config_digest,
                       "created_at": r.created_at} for r in records}
        with self._write() as conn:
            ordered = [rows[k] for k in sorted(rows)]
            for start in range(0, len(ordered), 500):
                conn.execute(dialect.insert(releases).on_conflict_do_nothing(), ordered[start:start + 500])

    def get_release(self, release_id: str) -> ReleaseRecord | None:
        with self._read() as conn:
            r = conn.execute(sa.select(releases).where(self._ws(releases), releases.c.id == release_id)).first()
        if r is None:
            return None
        return ReleaseRecord(r.id, r.target, r.version, r.variables, r.config, r.config_digest, r.created_at)

    def target_states(self, details: bool = True, deployment: str | None = None) -> dict[str, TargetState]:
        """Every target's current state (of one ``deployment`` if given). Without ``details`` only the
        fields planning needs are read (``inputs``, ``placement``, digests and times are left empty;
        fast for large fleets); ``target_state(key)`` reads one in full."""
        t = target_state
        where = [self._ws(t)] if deployment is None else [self._ws(t), t.c.deployment == deployment]
        if not details:  # raw rows: no per-row type processing, for fleets of hundreds of thousands
            query = sa.select(t.c.target, t.c.version, t.c.release_id, t.c.last_task_id, t.c.fingerprint,
                              t.c.drift).where(*where)
            with self._read() as conn:
                rows = conn.execute(query).all()
            return {r[0]: TargetState(r[0], r[1], r[2], "", {}, {}, r[3], _EPOCH, None, r[4], r[5]) for r in rows}
        with self._read() as conn:
            rows = conn.execute(sa.select(t).where(*where))
            return {r.target: TargetState(r.target, r.version, r.release_id, r.config_digest, r.inputs, r.placement,
                                          r.last_task_id, r.updated_at, r.deployed_at, r.fingerprint, r.drift)
                    for r in rows}

    def mark_drift(self, marks: dict[str, str]) -> None:
        """Record (non-empty message) or clear (empty) the drift mark of recorded targets."""
        with self._write() as conn:
            for target, message in sorted(marks.items()):
                conn.execute(sa.update(target_state).where(
                    self._ws(target_state), target_state.c.target == target, target_state.c.drift != message,
                ).values(drift=message))

    def state_deployments(self) -> set[str]:
        """Deployments that have at least one recorded target state."""
        t = target_state
        with self._read() as conn:
            return set(conn.execute(sa.select(t.c.deployment).where(self._ws(t)).distinct()).scalars())

    def plan_epochs(self) -> dict[str, str]:
        """deployment -> a token that changes whenever recorded state planning reads for it changes
        (maintained by database triggers, so every writer counts). On PostgreSQL a deployment's
        epoch is kept in shards (migration 0008): its token is all of them, in shard order."""
        if self.backend != "postgresql":
            with self._read() as conn:
                rows = conn.execute(sa.select(plan_epochs.c.deployment, plan_epochs.c.token).where(self._ws(plan_epochs)))
                return {r[0]: r[1] for r in rows}
        s = plan_epoch_shards
        with self._read() as conn:
            rows = conn.execute(sa.select(s.c.deployment, s.c.token).where(self._ws(s)).order_by(s.c.deployment, s.c.shard))
            tokens: dict[str, list[str]] = {}
            for deployment, token in rows:
                tokens.setdefault(deployment, []).append(token)
        return {deployment: ",".join(parts) for deployment, parts in tokens.items()}

    def releases_by_id(self, ids: list[str]) -> dict[str, ReleaseRecord]:
        """Many releases in a few queries (planning's diffs against what runs)."""
        out: dict[str, ReleaseRecord] = {}
        unique = sorted(set(ids))
        with self._read() as conn:
            for start in range(0, len(unique), 500):
                chunk = unique[start:start + 500]
                for r in conn.execute(sa.select(releases).where(self._ws(releases), releases.c.id.in_(chunk))):
                    out[r.id] = ReleaseRecord(r.id, r.target, r.version, r.variables, r.config, r.config_digest,
                                              r.created_at)
        return out

    def target_state(self, target: str) -> TargetState | None:
        t = target_state
        with self._read() as conn:
            r = conn.execute(sa.select(t).where(self._ws(t), t.c.target == target)).first()
        return None if r is None else TargetState(r.target, r.version, r.release_id, r.config_digest, r.inputs,
                                                  r.placement, r.last_task_id, r.updated_at, r.deployed_at,
                                                  r.fingerprint, r.drift)

    # -- approvals, holds, traces --------------------------------------------------------------
    def approvals(self) -> list[ApprovalRecord]:
        with self._read() as conn:
            rows = conn.execute(sa.select(approvals).where(self._ws(approvals)).order_by(approvals.c.created_at))
            return [ApprovalRecord(r.deployment, r.version, r.environment, r.actor, r.status, r.reason,
                                   r.created_at) for r in rows]

    def record_approval(self, approval: ApprovalRecord) -> None:
        """One vote per actor per (deployment, version, environment); a later vote replaces it."""
        key = (self._ws(approvals), approvals.c.deployment == approval.deployment,
               approvals.c.version == approval.version, approvals.c.environment == approval.environment,
               approvals.c.actor == approval.actor)
        with self._write() as conn:
            conn.execute(sa.delete(approvals).where(*key))
            conn.execute(sa.insert(approvals).values(
                workspace=self.workspace, deployment=approval.deployment, version=approval.version,
                environment=approval.environment, actor=approval.actor, status=approval.status,
                reason=approval.reason, created_at=approval.at))

    def holds(self) -> list[HoldRecord]:
        with self._read() as conn:
            return [HoldRecord(r.target, r.version, r.reason, r.task_id, r.created_at)
                    for r in conn.execute(sa.select(holds).where(self._ws(holds)))]

    def add_hold(self, hold: HoldRecord) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(holds).where(self._ws(holds), holds.c.target == hold.target,
                                                holds.c.version == hold.version))
            conn.execute(sa.insert(holds).values(workspace=self.workspace, target=hold.target, version=hold.version,
                                                 reason=hold.reason, task_id=hold.task_id, created_at=hold.created_at))

    def remove_holds(self, target: str) -> int:
        with self._write() as conn:
            return conn.execute(sa.delete(holds).where(self._ws(holds), holds.c.target == target)).rowcount

    def add_trace(self, task_id: str, step: str, status: str, message: str, at: datetime) -> int:
        with self._write() as conn:
            last = conn.execute(sa.select(sa.func.max(traces.c.seq)).where(
                self._ws(traces), traces.c.task_id == task_id)).scalar() or 0
            conn.execute(sa.insert(traces).values(workspace=self.workspace, task_id=task_id, seq=last + 1,
                                                  step=step, status=status, message=message, at=at))
            return last + 1

    def traces(self, task_id: str) -> list[Trace]:
        query = sa.select(traces).where(self._ws(traces), traces.c.task_id == task_id).order_by(traces.c.seq)
        with self._read() as conn:
            return [Trace(r.task_id, r.seq, r.step, r.status, r.message, r.at) for r in conn.execute(query)]
