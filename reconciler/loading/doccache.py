"""Skip validating documents that cannot have changed.

Validation is a pure function of a document's content, so a file whose blob validated cleanly
before yields the same models again:

- in one process (``watch``, ``run``, ``serve`` reload the workspace on every pass), the models of
  an unchanged file (same path and blob) are reused as they are (they are immutable);
- across processes, a marker next to the parse cache records that a blob validated cleanly, and its
  Resource documents (the bulk of a large repository) are then built with ``model_construct``
  from the parsed data, which validation would have returned unchanged. The marker is keyed by the
  Resource model's JSON schema, so a model change invalidates every marker.

Only files without any diagnostic are remembered. Nothing here is needed for correctness.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from reconciler.loading import yaml_reader
from reconciler.models.entities import Resource

_MEMORY: dict[tuple[str, str], list[Any]] = {}
_LIMIT = 50_000


def remembered(path: str, blob: str) -> list[Any] | None:
    """The Loaded documents of an unchanged file validated earlier in this process."""
    return _MEMORY.get((path, blob))


def remember(path: str, blob: str, loaded: list[Any]) -> None:
    if len(_MEMORY) >= _LIMIT:
        _MEMORY.clear()
    _MEMORY[(path, blob)] = loaded


@lru_cache(maxsize=1)
def _schema_key() -> str:
    text = json.dumps(Resource.model_json_schema(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _marker(blob: str) -> Path:
    return yaml_reader.cache_dir() / yaml_reader.CACHE_FORMAT / "valid" / _schema_key() / blob[:2] / blob[2:]


def validated_before(blob: str) -> bool:
    return _marker(blob).exists()


def mark_validated(blob: str) -> None:
    target = _marker(blob)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    except OSError:
        pass  # an optimisation; a read-only cache must not fail a load


def construct(doc: Any) -> Resource | None:
    """The Resource model of a document from a blob that validated cleanly, without validating
    it again; None for any other document (those are validated as usual)."""
    if isinstance(doc, dict) and doc.get("type") == "Resource":
        return Resource.model_construct(**doc)
    return None


def enabled() -> bool:
    return os.environ.get("RECONCILER_PLAN_CACHE", "1") not in ("0", "false", "no", "off")
