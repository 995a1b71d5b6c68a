"""Translate pydantic validation errors into diagnostics with a summary, a detail and a position.

Each pydantic error location is mapped back onto the document's data (skipping pydantic's
union-member tags) so the position points at the offending key or value.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.diagnostics import Diagnostic, SourcePos

Locate = Callable[[Sequence[str | int], bool], SourcePos]


def data_path(data: Any, loc: Sequence[str | int]) -> list[str | int]:
    """The part of ``loc`` that exists in ``data`` (pydantic adds tags such as 'str' or 'function-after')."""
    path: list[str | int] = []
    node = data
    for step in loc:
        if isinstance(node, dict) and step in node:
            node = node[step]
            path.append(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            path.append(step)
        elif isinstance(node, dict) and isinstance(step, str) and step not in node and _is_field_name(step, loc, path):
            path.append(step)  # a missing or unknown key: point at its parent, name it
            break
    return path


def _is_field_name(step: str, loc: Sequence[str | int], path: list[str | int]) -> bool:
    return not (step.startswith(("function-", "json-or-python", "lax-or-strict")) or step in _TYPE_TAGS)


_TYPE_TAGS = {"str", "int", "float", "bool", "dict[str,any]", "list[any]", "none", "is-instance", "literal"}


def field_names(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """Field names of the model nested at ``path`` under ``model`` (for did-you-mean hints)."""
    current: Any = model
    for step in path:
        if isinstance(step, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(step)
        if field is None:
            return []
        current = _unwrap(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [name for name, f in current.model_fields.items() if not f.exclude]
    return []


def _unwrap(annotation: Any) -> Any:
    for _ in range(5):
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (list, dict, typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else (args[-1] if args else annotation)
        else:
            break
    return annotation


def diagnostics_from(
    exc: ValidationError | list[Any], data: Any, kind: str, model: type[BaseModel], locate: Locate,
    prefix: Sequence[str | int] = (),
) -> list[Diagnostic]:
    """One diagnostic per distinct pydantic error in ``exc`` (an error or its ``errors()`` list)."""
    out = []
    seen = set()
    errors = exc.errors(include_url=False) if isinstance(exc, ValidationError) else exc
    for error in errors:
        diag = _one(error, data, kind, model, locate, prefix)
        ident = (diag.source, diag.summary, diag.detail)
        if ident not in seen:
            seen.add(ident)
            out.append(diag)
    return out


def _one(error: dict[str, Any], data: Any, kind: str, model: type[BaseModel], locate: Locate, prefix) -> Diagnostic:
    loc = list(error["loc"])
    path = data_path(data, loc)
    etype = error["type"]
    dotted = ".".join(str(p) for p in path) or kind
    full = [*prefix, *path]
    if etype == "missing":
        name = path[-1] if path else loc[-1]
        parent = full[:-1]
        return Diagnostic(
            "Missing field",
            f"{kind} needs the field {name!r} at {'.'.join(map(str, path[:-1])) or 'top level'}; add it.",
            locate(parent, False),
        )
    if etype == "extra_forbidden":
        name = str(path[-1]) if path else str(loc[-1])
        known = field_names(model, path[:-1])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else (f" Known fields: {', '.join(known)}." if known else "")
        return Diagnostic("Unknown field", f"{kind} has no field {name!r}.{hint}", locate(full, True))
    message = str(error.get("msg", "invalid value"))
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    summary = _summary(etype, message)
    got = _value_at(data, path)
    shown = f" (got {got!r})" if got is not _MISSING and not isinstance(got, (dict, list)) else ""
    return Diagnostic(summary, f"{dotted}: {message}{shown}.", locate(full, False))


_MISSING = object()


def _value_at(data: Any, path: Sequence[str | int]) -> Any:
    node = data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return node


def _summary(etype: str, message: str) -> str:
    lower = message.lower()
    if lower.startswith("invalid rrule"):
        return "Invalid RRULE"
    if lower.startswith("unknown timezone"):
        return "Unknown timezone"
    if "duration" in lower:
        return "Invalid duration"
    if "timestamp" in lower or etype.startswith("datetime"):
        return "Invalid timestamp"
    if etype.endswith("_type") or etype in ("model_type", "dict_type", "list_type"):
        return "Wrong type"
    if etype == "literal_error":
        return "Invalid value"
    if etype == "string_pattern_mismatch":
        return "Invalid name"
    return "Invalid value"
