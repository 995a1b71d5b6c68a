"""The ``git+branch:NAME[@REMOTE]`` state store: recorded state as commits on a dedicated branch.

No server for CI: the state lives in a branch of the repository that holds the desired state, one
JSON file per record, one commit per write. ``gitbranch_sync`` publishes each commit with a
compare-and-swap push (optimistic concurrency, replayed on conflict); this module maps the
``Store`` contract (the same methods and semantics as ``SqlStore``) onto files. Layout, per
workspace folder (names percent-escaped, so ``api/prod/c1`` is ``api%2Fprod%2Fc1``)::

    <workspace>/seq.json                          {"tasks": N}: the monotonic task sequence
    <workspace>/tasks/<id[:2]>/<id>.json          a task and its attempts
    <workspace>/traces/<id[:2]>/<id>.json         a task's trace steps
    <workspace>/targets/<target>.json             a target's current state
    <workspace>/releases/<id[:2]>/<id>.json       a content-addressed release
    <workspace>/versions-seen/<deployment>.json   {tag: first seen}
    <workspace>/approvals/<dep>/<version>/<env>/<actor>.json   one vote per actor
    <workspace>/holds/<target>/<version>.json     a version held off a target
    <workspace>/locks/<name>.json                 the lease: owner, host, pid, token, expiry
    <workspace>/meta/<key>.json                   settings such as the secret-digest key

The lease lock is a file too: taking it is a write whose push must win, so two runs can never
both hold it, and a dead run's lease simply expires (no stuck lock file to delete by hand).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from reconciler.models.records import ApprovalRecord, HoldRecord, LockInfo, ReleaseRecord, TargetState
from reconciler.state import gitbranch_codec as codec
from reconciler.state.gitbranch_objects import Snapshot, Transaction
from reconciler.state.gitbranch_sync import Branch
from reconciler.state.gitbranch_tasks import GitTaskQueries

T = TypeVar("T")
README = b"""# reconciler recorded state

This branch is written by reconciler (`--state git+branch:NAME`); do not edit it by hand.
Each commit is one atomic write. Each workspace has a folder of JSON records: tasks/, traces/,
targets/, releases/, versions-seen/, approvals/, holds/, locks/, meta/ and seq.json.
"""


class GitBranchStore(GitTaskQueries):
    backend = "git"

    def __init__(self, url: str, workspace: str, root: Path, *, readonly: bool = False):
        self.url, self.workspace, self.readonly = url, workspace, readonly
        self.branch = Branch(url, Path(root), readonly=readonly, readme=README)
        self.prefix = (codec.escape(workspace),)

    def describe(self) -> str:
        return self.branch.describe()

    def close(self) -> None:
        self.branch.close()

    @contextmanager
    def _read(self) -> Iterator[Snapshot]:
        with self.branch.reading(self.prefix) as snap:
            yield snap

    def _write(self, message: str, mutate: Callable[[Transaction], T]) -> T:
        return self.branch.write(self.prefix, mutate, f"{message} [{self.workspace}]")

    def _records(self, cls: type[T], *folder: str, **override: Any) -> list[T]:
        with self._read() as snap:
            return [codec.from_json(cls, codec.loads(raw), **override) for _, raw in snap.files(*folder)]

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._read() as snap:
            doc = snap.read("meta", f"{codec.escape(key)}.json")
        return None if doc is None else doc["value"]

    def set_meta_default(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless one exists; return the stored value."""
        path = ("meta", f"{codec.escape(key)}.json")

        def mutate(tx: Transaction) -> str:
            doc = tx.read(*path)
            if doc is not None:
                return doc["value"]
            tx.put(path, {"key": key, "value": value})
            return value

        return self._write(f"Set {key}", mutate)

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
        with self._read() as snap:
            files = snap.files("versions-seen")
        return {(codec.unescape(path[-1].removesuffix(".json")), tag): codec.decode_time(at)
                for path, raw in files for tag, at in codec.loads(raw).items()}

    def record_seen(self, pairs: list[tuple[str, str]], at: datetime) -> None:
        if not pairs:
            return
        by_deployment: dict[str, set[str]] = {}
        for deployment, tag in pairs:
            by_deployment.setdefault(deployment, set()).add(tag)

        def mutate(tx: Transaction) -> None:
            for deployment, tags in sorted(by_deployment.items()):
                path = ("versions-seen", f"{codec.escape(deployment)}.json")
                seen = tx.read(*path) or {}
                new = {tag: codec.encode_time(at) for tag in sorted(tags) if tag not in seen}
                if new:
                    tx.put(path, {**seen, **new})

        self._write("Record versions seen", mutate)

    # -- releases and target state ------------------------------------------------------------
    def put_release(self, release: ReleaseRecord) -> None:
        """Insert a release unless one with the same content-hash id exists (idempotent)."""
        self.put_releases([release])

    def put_releases(self, records: list[ReleaseRecord]) -> None:
        """``put_release`` for many, in one commit."""
        def mutate(tx: Transaction) -> None:
            for release in records:
                path = ("releases", codec.shard(release.id), f"{codec.escape(release.id)}.json")
                if tx.raw(*path) is None:
                    tx.put(path, codec.to_json(release))

        if records:
            self._write(f"Put {len(records)} releases", mutate)

    def get_release(self, release_id: str) -> ReleaseRecord | None:
        with self._read() as snap:
            doc = snap.read("releases", codec.shard(release_id), f"{codec.escape(release_id)}.json")
        return None if doc is None else codec.from_json(ReleaseRecord, doc)

    def target_states(self, details: bool = True, deployment: str | None = None) -> dict[str, TargetState]:
        found = {s.target: s for s in self._records(TargetState, "targets")}
        if deployment is None:
            return found
        return {k: v for k, v in found.items() if k.split("/", 1)[0] == deployment}

    def mark_drift(self, marks: dict[str, str]) -> None:
        """Record (non-empty message) or clear (empty) the drift mark of recorded targets."""
        from dataclasses import replace

        from reconciler.state.gitbranch_tasks import target_path

        def mutate(tx: Transaction) -> None:
            for target, message in sorted(marks.items()):
                doc = tx.read(*target_path(target))
                if doc is not None and doc.get("drift", "") != message:
                    tx.put(target_path(target), codec.to_json(replace(codec.from_json(TargetState, doc), drift=message)))

        self._write("Record drift marks", mutate)

    def state_deployments(self) -> set[str]:
        return {name.split("/", 1)[0] for name in self.target_states()}

    def plan_epochs(self) -> dict[str, str]:
        """``{"*": token}``: one token for every deployment, the workspace's state tree (leases
        excluded), so any recorded change invalidates cached plans."""
        import hashlib

        with self._read() as snap:
            entry = snap.objects.lookup(snap.tree, snap.prefix) if snap.tree else None
            entries = snap.objects.entries(entry[1]) if entry else {}
            parts = sorted(f"{name}:{sha.hex()}" for name, (_mode, sha) in entries.items() if name != "locks")
        return {"*": hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]}

    def releases_by_id(self, ids: list[str]) -> dict[str, ReleaseRecord]:
        out = {}
        for rid in sorted(set(ids)):
            found = self.get_release(rid)
            if found is not None:
                out[rid] = found
        return out

    def target_state(self, target: str) -> TargetState | None:
        return self.target_states().get(target)

    def latest_unsuccessful(self, deployment: str | None = None):
        from reconciler.models import statuses

        return {t: task for t, task in self.latest_tasks().items()
                if (task.status in statuses.TERMINAL and task.status != statuses.DONE or task.operation == "rollback")
                and (deployment is None or task.deployment == deployment)}

    def latest_task(self, target: str):
        return self.latest_tasks().get(target)

    def outcomes_for(self, deployment: str, version: str):
        prefix = f"{deployment}/"
        return [o for o in self.outcomes() if o.target.startswith(prefix) and o.version == version]

    # -- approvals, holds --------------------------------------------------------------------
    def approvals(self) -> list[ApprovalRecord]:
        votes = self._records(ApprovalRecord, "approvals", source="state")
        return sorted(votes, key=lambda a: (a.at, a.deployment, a.version, a.environment, a.actor))

    def record_approval(self, approval: ApprovalRecord) -> None:
        """One vote per actor per (deployment, version, environment); a later vote replaces it."""
        parts = (approval.deployment, approval.version, approval.environment)
        path = ("approvals", *map(codec.escape, parts), f"{codec.escape(approval.actor)}.json")
        data = {k: v for k, v in codec.to_json(approval).items() if k != "source"}
        self._write(f"Record {approval.status} vote of {approval.actor} on {'/'.join(parts)}",
                    lambda tx: tx.put(path, data))

    def holds(self) -> list[HoldRecord]:
        return self._records(HoldRecord, "holds")

    def add_hold(self, hold: HoldRecord) -> None:
        path = ("holds", codec.escape(hold.target), f"{codec.escape(hold.version)}.json")
        self._write(f"Hold {hold.version} off {hold.target}", lambda tx: tx.put(path, codec.to_json(hold)))

    def remove_holds(self, target: str) -> int:
        folder = ("holds", codec.escape(target))

        def mutate(tx: Transaction) -> int:
            names = tx.names(*folder)
            for name in names:
                tx.delete((*folder, name))
            return len(names)

        return self._write(f"Release holds on {target}", mutate)

    # -- lease lock ----------------------------------------------------------------------------
    def try_lock(self, name: str, info: LockInfo, token: str, now: datetime,
                 steal: Callable[[LockInfo], bool] = lambda _: False) -> LockInfo | None:
        """Take or renew the lock; None when acquired, else the live holder.

        The lock is free when absent, expired, already ours (same token), or ``steal(holder)``
        says the holder is dead. Taking it is a commit whose push must win against every other
        writer, so at most one run holds it.
        """
        path = _lock_path(name)
        values = {**codec.to_json(info), "name": name, "token": token}

        def mutate(tx: Transaction) -> LockInfo | None:
            row = tx.read(*path)
            if row is not None:
                holder = codec.from_json(LockInfo, row)
                if row["token"] == token:
                    values["acquired_at"] = row["acquired_at"]
                elif holder.expires_at > now and not steal(holder):
                    return holder
            tx.put(path, values)
            return None

        return self._write(f"Lock {name} for {info.owner}", mutate)

    def renew_lock(self, name: str, token: str, expires_at: datetime) -> bool:
        path = _lock_path(name)

        def mutate(tx: Transaction) -> bool:
            row = tx.read(*path)
            if row is None or row["token"] != token:
                return False
            tx.put(path, {**row, "expires_at": codec.encode_time(expires_at)})
            return True

        return self._write(f"Renew lock {name}", mutate)

    def release_lock(self, name: str, token: str) -> None:
        path = _lock_path(name)

        def mutate(tx: Transaction) -> None:
            row = tx.read(*path)
            if row is not None and row["token"] == token:
                tx.delete(path)

        self._write(f"Unlock {name}", mutate)

    # -- per-deployment leases: the same contract as SqlStore's (each claim is a winning commit) --
    def claim_leases(self, names: list[str], info: LockInfo, token: str, now: datetime, limit: int = 1,
                     steal=lambda holder: False) -> list[str]:
        claimed: list[str] = []
        for name in sorted(set(names)):
            if len(claimed) >= limit:
                break
            if self.try_lock(name, info, token, now, steal) is None:
                claimed.append(name)
        return claimed

    def renew_leases(self, names: list[str], token: str, expires_at: datetime) -> set[str]:
        return {name for name in names if self.renew_lock(name, token, expires_at)}

    def release_leases(self, names: list[str], token: str) -> None:
        for name in names:
            self.release_lock(name, token)

    def lock_holder(self, name: str) -> LockInfo | None:
        with self._read() as snap:
            row = snap.read(*_lock_path(name))
        return None if row is None else codec.from_json(LockInfo, row)


def _lock_path(name: str) -> tuple[str, str]:
    return ("locks", f"{codec.escape(name)}.json")


__all__ = ["GitBranchStore"]
