"""Digests of document models, remembered for the life of the process.

Models are immutable and a digest is a pure function of one, so a long-lived process (``watch``,
``run``, ``serve``, which reuse the models of unchanged files) computes each only once, instead of
once per plan: for a fleet of 15,000 resources that is most of what re-planning one deployment
costs besides the deployment itself. Entries hold their model, so an id is never reused while its
entry lives.

This is a purely computational module with no side effects beyond its memo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_DIGESTS: dict[tuple[int, str], tuple[Any, str]] = {}
_LIMIT = 200_000


def model_digest(model: Any, variant: str, compute: Callable[[Any], str]) -> str:
    """``compute(model)``, remembered per model object and ``variant`` (which digest of it)."""
    key = (id(model), variant)
    found = _DIGESTS.get(key)
    if found is not None and found[0] is model:
        return found[1]
    value = compute(model)
    if len(_DIGESTS) >= _LIMIT:
        _DIGESTS.clear()
    _DIGESTS[key] = (model, value)
    return value
