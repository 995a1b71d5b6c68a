"""Operator semantics for generated code: equality, ordering, arithmetic, ``in``, field selection,
indexing, map literals, the error-absorbing logical operators and the comprehension macros.

Every helper returns the exact CEL value or raises ``CelEvalError``. Generated code inlines plain
Python operators for the common same-type cases and calls these for everything else, so the
helpers favour precision over speed. Pure: no I/O, no clock reads.

Equality follows cel-python 0.5 (see the package docs): values of different types are unequal,
except that comparing a number, list or map with a value of another type (null aside) is a
``no such overload`` error; ``1 == 1.0`` and ``1 == 1u`` are errors.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from reconciler.planning.cel.values import (
    DURATION,
    TIMESTAMP,
    CelEvalError,
    Uint,
    as_utc,
    no_overload,
    type_name,
)

INT_MIN, INT_MAX, UINT_MAX = -(2**63), 2**63 - 1, 2**64 - 1
SCALARS = frozenset({str, int, float, bool, bytes, type(None)})  # exact classes: Python == is CEL ==
ORDERED = frozenset({str, int, float, bool, bytes})  # exact classes: Python < is CEL <
_STRICT = frozenset({"int", "uint", "double", "list", "map"})
_ORDERED_KINDS = frozenset({"int", "uint", "double", "string", "bytes", "bool", TIMESTAMP, DURATION})
KEY_KINDS = frozenset({"string", "int", "uint", "bool"})
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def as_cel(exc: BaseException) -> CelEvalError:
    """Any evaluation failure as a CelEvalError (custom functions may raise anything)."""
    if isinstance(exc, CelEvalError):
        return exc
    if isinstance(exc, RecursionError):
        return CelEvalError("expression or data nested too deeply")
    return CelEvalError(f"{type(exc).__name__}: {exc}")


def int64(value: int) -> int:
    if INT_MIN <= value <= INT_MAX:
        return value
    raise CelEvalError("int overflow")


def uint64(value: int) -> Uint:
    if 0 <= value <= UINT_MAX:
        return Uint(value)
    raise CelEvalError("uint overflow")


# ---- equality and ordering ----------------------------------------------------------------------

def eq(a: Any, b: Any) -> bool:
    cls = a.__class__
    if cls is b.__class__ and cls in SCALARS:
        return a == b
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        if ta == "null_type" or tb == "null_type" or (ta not in _STRICT and tb not in _STRICT):
            return False
        raise no_overload("==", a, b)
    if ta == "list":
        return len(a) == len(b) and _all_equal(zip(a, b))
    if ta == "map":
        return len(a) == len(b) and all(k in b for k in a) and _all_equal((a[k], b[k]) for k in a)
    if ta == TIMESTAMP:
        return as_utc(a) == as_utc(b)
    return a == b


def _all_equal(pairs: Any) -> bool:
    """Element-wise equality with ``&&`` semantics: any unequal pair wins over errors."""
    err = None
    for x, y in pairs:
        try:
            if not eq(x, y):
                return False
        except CelEvalError as exc:
            err = err or exc
    if err is not None:
        raise err
    return True


def ne(a: Any, b: Any) -> bool:
    return not eq(a, b)


def compare(op: str, a: Any, b: Any) -> bool:
    ta, tb = type_name(a), type_name(b)
    if ta != tb or ta not in _ORDERED_KINDS:
        raise no_overload(op, a, b)
    if ta == TIMESTAMP:
        a, b = as_utc(a), as_utc(b)
    return _COMPARE[op](a, b)


# ---- arithmetic ---------------------------------------------------------------------------------

def add(a: Any, b: Any) -> Any:
    ta, tb = type_name(a), type_name(b)
    if ta == tb:
        if ta == "int":
            return int64(a + b)
        if ta == "uint":
            return uint64(a + b)
        if ta in ("double", "string", "bytes", DURATION):
            return a + b
        if ta == "list":
            return [*a, *b]
    elif {ta, tb} == {TIMESTAMP, DURATION}:
        return _time_op(operator.add, a, b)
    raise no_overload("+", a, b)


def sub(a: Any, b: Any) -> Any:
    ta, tb = type_name(a), type_name(b)
    if ta == tb:
        if ta == "int":
            return int64(a - b)
        if ta == "uint":
            return uint64(a - b)
        if ta in ("double", DURATION):
            return a - b
        if ta == TIMESTAMP:
            return as_utc(a) - as_utc(b)
    elif ta == TIMESTAMP and tb == DURATION:
        return _time_op(operator.sub, a, b)
    raise no_overload("-", a, b)


def _time_op(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    try:
        return op(a, b)
    except OverflowError:
        raise CelEvalError("timestamp out of range") from None


def mul(a: Any, b: Any) -> Any:
    ta, tb = type_name(a), type_name(b)
    if ta == tb:
        if ta == "int":
            return int64(a * b)
        if ta == "uint":
            return uint64(a * b)
        if ta == "double":
            return a * b
    raise no_overload("*", a, b)


def div(a: Any, b: Any) -> Any:
    ta, tb = type_name(a), type_name(b)
    if ta == tb and ta in ("int", "uint"):
        if b == 0:
            raise CelEvalError("division by zero")
        quotient = abs(a) // abs(b)
        return int64(-quotient if (a < 0) != (b < 0) else quotient) if ta == "int" else Uint(quotient)
    if ta == tb == "double":
        if b == 0.0:  # IEEE 754: ±inf, or NaN for 0/0 and NaN/0
            return math.nan if a == 0.0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1.0, b)
        return a / b
    raise no_overload("/", a, b)


def mod(a: Any, b: Any) -> Any:
    ta, tb = type_name(a), type_name(b)
    if ta == tb and ta in ("int", "uint"):
        if b == 0:
            raise CelEvalError("modulus by zero")
        remainder = abs(a) % abs(b)
        return (-remainder if a < 0 else remainder) if ta == "int" else Uint(remainder)
    raise no_overload("%", a, b)


def neg(a: Any) -> Any:
    kind = type_name(a)
    if kind == "int":
        return int64(-a)
    if kind in ("double", DURATION):
        return -a
    raise no_overload("-", a)


# ---- logic --------------------------------------------------------------------------------------

def truth(value: Any) -> bool:
    """``value`` if it is a bool, else a type error (conditions must be bool)."""
    if value is True or value is False:
        return value
    raise CelEvalError(f"no such overload: expected bool, got {type_name(value)}")


def logical_not(value: Any) -> bool:
    if value is True or value is False:
        return not value
    raise no_overload("!", value)


def and_(*thunks: Callable[[], Any]) -> bool:
    """``a && b && …``: false if any operand is false (even if others fail), else the first
    error, else true. Operands are thunks so each failure can be caught separately."""
    return _fold(thunks, False, "&&")


def or_(*thunks: Callable[[], Any]) -> bool:
    """``a || b || …``: true if any operand is true (even if others fail), else the first error."""
    return _fold(thunks, True, "||")


def _fold(thunks: Any, decisive: bool, op: str) -> bool:
    err: BaseException | None = None
    for thunk in thunks:
        try:
            value = thunk()
        except Exception as exc:  # noqa: BLE001 - errors are values until the end
            err = err or exc
            continue
        if value is decisive:
            return decisive
        if value is not (not decisive) and err is None:
            err = CelEvalError(f"no such overload: '{op}' needs bool operands, got {type_name(value)}")
    if err is not None:
        raise as_cel(err)
    return not decisive
