"""The backend-neutral state store contract, and ``open_store`` which picks a backend from a URL.

Contract (every backend, checked by ``tests/state/test_conformance.py``):
- returned records are copies; mutating them never changes the store;
- every write method is atomic: it happens completely or not at all, and concurrent writers from
  several threads or processes never lose each other's rows;
- ``finish_task`` records the task outcome and the target's new current state in one transaction,
  so a crash can never leave a done task without its target state (or the reverse);
- the workspace lease must be held by whoever runs tasks; the store itself does not check it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from reconciler.models.records import (
    ApprovalRecord,
    Attempt,
    HoldRecord,
    LockInfo,
    Outcome,
    ReleaseRecord,
    TargetState,
    TaskRecord,
    Trace,
)

DEFAULT_SQLITE = ".reconciler/state.db"


class Store(Protocol):
    backend: str
    workspace: str

    def close(self) -> None: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta_default(self, key: str, value: str) -> str: ...
    def first_seen(self) -> dict[tuple[str, str], object]: ...
    def record_seen(self, pairs: list[tuple[str, str]], at: object) -> None: ...
    def target_states(self) -> dict[str, TargetState]: ...
    def put_release(self, release: ReleaseRecord) -> None: ...
    def put_releases(self, records: list[ReleaseRecord]) -> None: ...
    def get_release(self, release_id: str) -> ReleaseRecord | None: ...
    def create_tasks(self, tasks: list[TaskRecord]) -> None: ...
    def get_task(self, task_id: str) -> TaskRecord: ...
    def active_tasks(self) -> list[TaskRecord]: ...
    def latest_tasks(self) -> dict[str, TaskRecord]: ...
    def list_tasks(self, **filters: object) -> tuple[list[TaskRecord], int]: ...
    def attempts(self, task_id: str) -> list[Attempt]: ...
    def outcomes(self) -> list[Outcome]: ...
    def approvals(self) -> list[ApprovalRecord]: ...
    def record_approval(self, approval: ApprovalRecord) -> None: ...
    def holds(self) -> list[HoldRecord]: ...
    def traces(self, task_id: str) -> list[Trace]: ...
    def lock_holder(self, name: str) -> LockInfo | None: ...


def resolve_url(cli_url: str | None, config_url: str | None, root: Path) -> str:
    """State URL by precedence: --state, $RECONCILER_STATE, reconciler.yaml, the embedded default."""
    url = cli_url or os.environ.get("RECONCILER_STATE") or config_url
    if not url:
        url = f"sqlite:///{(root / DEFAULT_SQLITE).resolve()}"
    return url


def open_store(url: str, workspace: str, root: Path, *, readonly: bool = False):  # -> Store
    """Open (and migrate) the store at ``url`` for ``workspace``; relative SQLite paths use ``root``.

    With ``readonly`` (plans), a SQLite file that does not exist yet is not created: an empty
    in-memory store stands in, so a plan never writes anything.
    """
    if url.startswith("git+branch:"):
        from reconciler.state.gitbranch import GitBranchStore

        return GitBranchStore(url, workspace, root, readonly=readonly)
    from reconciler.state import engine
    from reconciler.state.sqlstore import SqlStore

    normalized = engine.normalize_url(url, root)
    if normalized.startswith("sqlite:///") and normalized != "sqlite:///:memory:":
        path = Path(normalized[len("sqlite:///"):])
        if readonly and not path.exists():
            return SqlStore("sqlite:///:memory:", workspace)
        if not readonly and root in path.parents:
            _ignore_state_dir(path.parent)
    return SqlStore(normalized, workspace)


def _ignore_state_dir(folder: Path) -> None:
    """Keep the embedded database out of Git: ``.reconciler/.gitignore`` ignores everything."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# reconciler's recorded state and scratch files; never commit them\n*\n")


SECRET_KEY_ENV = "RECONCILER_SECRET_DIGEST_KEY"


def secret_key_from_env() -> bytes | None:
    """The HMAC key for secret digests from ``$RECONCILER_SECRET_DIGEST_KEY`` (any string; hashed
    to 32 bytes), or None. It wins over the key recorded in state, and it is never written: with
    ``git+branch:`` state, whose files anyone who can read the repository can read, set it as a CI
    secret so the recorded digests cannot be used to test guesses of a secret."""
    import hashlib

    value = os.environ.get(SECRET_KEY_ENV)
    return hashlib.sha256(value.encode()).digest() if value else None
