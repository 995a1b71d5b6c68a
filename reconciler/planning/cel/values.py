"""The CEL value model shared by the compiler and the runtime: the two error types, the ``uint``
wrapper, type values (what ``type(x)`` returns) and the mapping from Python data to CEL type names.

Activation data is plain Python: dict (map), list/tuple (list), str, bytes, int, float, bool, None
(null), datetime (timestamp) and timedelta (duration). Only ``uint`` needs a wrapper class, since
Python has a single integer type. Pure: no I/O, no clock reads.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any


class CelSyntaxError(Exception):
    """A CEL expression that cannot be compiled: bad syntax, an unknown variable or function, a
    malformed literal (regex, semver range). ``column`` is 1-based within ``expression`` (counted
    from its first character, newlines included); ``line`` is the 1-based line."""

    def __init__(self, expression: str, message: str, column: int):
        self.expression = expression
        self.message = message
        self.column = column
        self.line = expression.count("\n", 0, max(column - 1, 0)) + 1
        super().__init__(message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.expression, self.message, self.column))

    @classmethod
    def at(cls, expression: str, offset: int, what: str, hint: str = "") -> CelSyntaxError:
        """``"<what> at column N[; <hint>]"`` for the 0-based ``offset`` into ``expression``."""
        column = offset + 1
        where = f"column {column}"
        if "\n" in expression:
            line_start = expression.rfind("\n", 0, offset) + 1
            where = f"line {expression.count(chr(10), 0, offset) + 1}, column {offset - line_start + 1}"
        return cls(expression, f"{what} at {where}" + (f"; {hint}" if hint else ""), column)


class CelEvalError(Exception):
    """Evaluation failed: no such key, no matching overload (type mismatch), division by zero,
    out-of-range index, a bad conversion, or an error raised by a custom function."""


class Uint(int):
    """A CEL ``uint`` value (``1u``); plain Python ints are CEL ``int``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


class CelType:
    """A CEL type value: ``type(1) == int`` compares two of these. One instance per type name."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple[Any, ...]:
        return (type_value, (self.name,))


TIMESTAMP = "google.protobuf.Timestamp"
DURATION = "google.protobuf.Duration"

# The identifiers that denote type values when used as plain names (``type(x) == string``).
TYPE_NAMES = ("bool", "bytes", "double", "int", "list", "map", "null_type", "string", "type", "uint")
TYPES: dict[str, CelType] = {name: CelType(name) for name in (*TYPE_NAMES, TIMESTAMP, DURATION)}

_EXACT: dict[type, str] = {
    bool: "bool", Uint: "uint", int: "int", float: "double", str: "string", bytes: "bytes",
    type(None): "null_type", list: "list", tuple: "list", dict: "map",
    _dt.datetime: TIMESTAMP, _dt.timedelta: DURATION, CelType: "type",
}


def type_name(value: Any) -> str:
    """The CEL type name of a Python value (subclasses of the plain types are accepted)."""
    name = _EXACT.get(value.__class__)
    if name is not None:
        return name
    for cls, name in _EXACT.items():  # bool precedes int, Uint precedes int in the table
        if isinstance(value, cls):
            return name
    if isinstance(value, Mapping):
        return "map"
    return type(value).__name__


def type_value(name: str) -> CelType:
    """The type value named ``name`` (unknown Python types get their own type value)."""
    found = TYPES.get(name)
    if found is None:
        found = TYPES.setdefault(name, CelType(name))
    return found


def type_of(value: Any) -> CelType:
    """``type(value)`` in CEL."""
    return type_value(type_name(value))


def describe(value: Any) -> str:
    """A short rendering of a value for error messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def as_utc(value: _dt.datetime) -> _dt.datetime:
    """Timestamps are instants: naive datetimes from activations are taken as UTC."""
    return value.replace(tzinfo=_dt.UTC) if value.tzinfo is None else value


def no_overload(op: str, *values: Any) -> CelEvalError:
    """The standard type-mismatch error, e.g. ``no such overload: int + string``."""
    names = [type_name(v) for v in values]
    if len(names) == 2 and not op[0].isalpha():
        return CelEvalError(f"no such overload: {names[0]} {op} {names[1]}")
    return CelEvalError(f"no such overload: {op}({', '.join(names)})")
