"""Read-only access to recorded history for ``history``, ``status`` and views.

Opening history needs only ``reconciler.yaml`` (for the workspace name and state URL), not a valid
desired state, so history stays readable while the YAML is broken.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.errors import UsageError
from reconciler.loading.source import CONFIG_FILE
from reconciler.loading.yaml_reader import parse_file
from reconciler.models.workspace import WorkspaceConfig
from reconciler.state.store import open_store, resolve_url


def read_config(directory: str) -> WorkspaceConfig:
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise UsageError(f"no {CONFIG_FILE} in {Path(directory).resolve()}; pass the desired-state folder with -C DIR")
    parsed = parse_file(CONFIG_FILE, path.read_bytes(), use_cache=False)
    docs = [d for d in parsed.documents if d is not None]
    try:
        return WorkspaceConfig.model_validate(docs[0] if docs else {})
    except Exception as exc:  # noqa: BLE001
        raise UsageError(f"{CONFIG_FILE} is invalid; run 'reconciler validate' ({exc.__class__.__name__})") from exc


def open_history(directory: str, state_url: str | None):
    config = read_config(directory)
    root = Path(directory).resolve()
    return open_store(resolve_url(state_url, config.state, root), config.workspace, root, readonly=True)


class _StoreSession:
    """Just enough of a Session for operations that need only the store."""

    def __init__(self, store):
        self.store = store

    def close(self) -> None:
        self.store.close()


def open_history_writable(directory: str, state_url: str | None) -> _StoreSession:
    """The store for task reports, traces, rollbacks and holds; needs only reconciler.yaml."""
    config = read_config(directory)
    root = Path(directory).resolve()
    return _StoreSession(open_store(resolve_url(state_url, config.state, root), config.workspace, root))
