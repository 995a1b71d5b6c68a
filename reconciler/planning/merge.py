"""Deep merge of job configs and the dotted-path config diff Platz records for upgrades.

This is a purely computational module with no side effects.
"""

from __future__ import annotations

from typing import Any


def deep_merge(*layers: dict[str, Any] | None) -> dict[str, Any]:
    """Merge mappings left to right; later layers win, nested mappings merge, lists are replaced."""
    out: dict[str, Any] = {}
    for layer in layers:
        if not layer:
            continue
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = deep_merge(out[key], value)
            else:
                out[key] = value
    return out


def dotted_diff(old: Any, new: Any, prefix: str = "") -> dict[str, list[Any]]:
    """Platz's config delta: ``{"config.replicas": [3, 5]}``.

    Recurses only into mapping/mapping pairs; a missing key is ``None``; a type change or a list
    change reports the whole value; equal values give ``{}``; a top-level scalar change has key "".
    """
    if old == new:
        return {}
    if isinstance(old, dict) and isinstance(new, dict):
        out: dict[str, list[Any]] = {}
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(dotted_diff(old.get(key), new.get(key), path))
        return out
    return {prefix: [old, new]}


def get_path(data: Any, dotted: str) -> Any:
    """The value at ``a.b.c`` in nested mappings, or None."""
    node = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
