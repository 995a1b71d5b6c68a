"""The fast path for loading desired-state YAML: PyYAML's C parser with YAML 1.2 core-schema
resolvers that give exactly what ruamel.yaml's safe loader gives (``yes``/``on`` stay strings,
``017`` is seventeen, ``1_000`` is a thousand), about three times faster.

Anything it does not load cleanly — a syntax error, a duplicate key, an odd tag — raises
``FastPathError``, and the caller loads the file with ruamel.yaml instead, which then reports the
problem with its position. Equality with ruamel on every file and on tricky scalars is tested.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml


class FastPathError(Exception):
    """This input needs the full loader (ruamel.yaml)."""


# ruamel.yaml's YAML 1.2 patterns, verbatim (ruamel/yaml/resolver.py): what resolves must match.
_INT = re.compile(r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""", re.X)
_FLOAT = re.compile(r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
_TIMESTAMP = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]? :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X)


class _Core(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.2 core schema on PyYAML's C parser."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value):
            raise FastPathError("merge keys")  # ruamel resolves them; keep one behaviour
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) != len(node.value):
            raise FastPathError("duplicate key")  # ruamel reports it with its line
        return mapping


def _int(loader: _Core, node: Any) -> int:
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if text.startswith(prefix):
            return sign * int(text[2:], base)
    return sign * int(text, 10)


def _float(loader: _Core, node: Any) -> float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


def _resolver(tag: str, pattern: re.Pattern[str], first: str | list[str]) -> None:
    _Core.add_implicit_resolver(tag, pattern, list(first))


_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF")
_resolver("tag:yaml.org,2002:int", _INT, "-+0123456789")
_resolver("tag:yaml.org,2002:float", _FLOAT, "-+0123456789.")
_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_resolver("tag:yaml.org,2002:timestamp", _TIMESTAMP, "0123456789")
_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), "<")
_Core.add_constructor("tag:yaml.org,2002:int", _int)
_Core.add_constructor("tag:yaml.org,2002:float", _float)


def load_all(data: bytes) -> list[Any]:
    """Every document of ``data``, or FastPathError when ruamel.yaml should load it instead."""
    try:
        return list(yaml.load_all(data, Loader=_Core))  # noqa: S506 - a safe loader with core-schema resolvers
    except FastPathError:
        raise
    except Exception as exc:  # noqa: BLE001 - any trouble: the full loader decides and reports
        raise FastPathError(str(exc)) from None
