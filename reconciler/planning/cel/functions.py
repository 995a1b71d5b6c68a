"""Built-in CEL functions: ``size``, the string functions (``contains``, ``startsWith``,
``endsWith``, ``matches``, ``lowerAscii``, ``upperAscii``), the type conversions (``int``,
``uint``, ``double``, ``string``, ``bool``, ``bytes``, ``dyn``, ``type``) and the semver helpers
(``semverSatisfies``, ``semverCompare``). Each returns the CEL value or raises CelEvalError. Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from reconciler.planning.cel import semver_range
from reconciler.planning.cel.runtime import INT_MAX, INT_MIN, UINT_MAX
from reconciler.planning.cel.timefns import format_duration, format_timestamp
from reconciler.planning.cel.values import (
    DURATION,
    TIMESTAMP,
    CelEvalError,
    Uint,
    describe,
    no_overload,
    type_name,
    type_of,
)

_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?"
                     r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])\Z")
_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
          "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


def size(value: Any) -> int:
    if isinstance(value, (str, bytes, list, tuple, Mapping)):
        return len(value)
    raise no_overload("size", value)


def _strings(name: str, a: Any, b: Any) -> None:
    if not (isinstance(a, str) and isinstance(b, str)):
        raise no_overload(name, a, b)


def contains(text: Any, part: Any) -> bool:
    _strings("contains", text, part)
    return part in text


def starts_with(text: Any, prefix: Any) -> bool:
    _strings("startsWith", text, prefix)
    return text.startswith(prefix)


def ends_with(text: Any, suffix: Any) -> bool:
    _strings("endsWith", text, suffix)
    return text.endswith(suffix)


@lru_cache(maxsize=512)
def regex(pattern: str) -> re.Pattern[str]:
    """Compile a ``matches`` pattern (Python ``re``, close to RE2 for ordinary patterns)."""
    try:
        return re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


def matches(text: Any, pattern: Any) -> bool:
    _strings("matches", text, pattern)
    try:
        compiled = regex(pattern)
    except ValueError as exc:
        raise CelEvalError(str(exc)) from None
    return compiled.search(text) is not None


def matches_compiled(text: Any, compiled: re.Pattern[str]) -> bool:
    if not isinstance(text, str):
        raise no_overload("matches", text, compiled.pattern)
    return compiled.search(text) is not None


def lower_ascii(text: Any) -> str:
    if not isinstance(text, str):
        raise no_overload("lowerAscii", text)
    return text.translate(_LOWER)


def upper_ascii(text: Any) -> str:
    if not isinstance(text, str):
        raise no_overload("upperAscii", text)
    return text.translate(_UPPER)


# ---- conversions --------------------------------------------------------------------------------

def to_int(value: Any) -> int:
    kind = type_name(value)
    if kind in ("int", "uint", "double", "string"):
        number = _integral(value, kind)
        if INT_MIN <= number <= INT_MAX:
            return int(number)
        raise CelEvalError(f"int({describe(value)}) is out of range")
    if kind == TIMESTAMP:
        return math.floor(value.timestamp())
    raise no_overload("int", value)


def to_uint(value: Any) -> Uint:
    kind = type_name(value)
    if kind in ("int", "uint", "double", "string"):
        number = _integral(value, kind)
        if 0 <= number <= UINT_MAX:
            return Uint(number)
        raise CelEvalError(f"uint({describe(value)}) is out of range")
    raise no_overload("uint", value)


def _integral(value: Any, kind: str) -> int:
    if kind == "string":
        if not _INTEGER.match(value):
            raise CelEvalError(f"cannot convert {describe(value)} to an integer")
        return int(value)
    if kind == "double":
        if not math.isfinite(value):
            raise CelEvalError(f"cannot convert {value} to an integer")
        return int(value)  # truncates toward zero
    return int(value)


def to_double(value: Any) -> float:
    kind = type_name(value)
    if kind in ("int", "uint", "double"):
        return float(value)
    if kind == "string" and _DOUBLE.match(value):
        return float(value)
    if kind == "string":
        raise CelEvalError(f"cannot convert {describe(value)} to a double")
    raise no_overload("double", value)


def to_string(value: Any) -> str:
    kind = type_name(value)
    if kind == "string":
        return str(value)
    if kind in ("int", "uint"):
        return str(int(value))
    if kind == "double":
        return format_double(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "bytes":
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise CelEvalError("bytes are not valid UTF-8") from None
    if kind == TIMESTAMP:
        return format_timestamp(value)
    if kind == DURATION:
        return format_duration(value)
    raise no_overload("string", value)


def format_double(value: float) -> str:
    """Go's ``%g`` (shortest representation), which cel-go uses: 1.0 → "1", 1e6 → "1e+06"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    _, digits, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    text_digits = "".join(map(str, digits)) or "0"
    point = len(text_digits) + int(exponent)  # position of the decimal point
    negative = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return negative + "0"
    exp = point - 1
    if exp < -4 or exp >= 6:  # Go uses exponent form outside this window for shortest %g
        mantissa = text_digits[0] + ("." + text_digits[1:] if len(text_digits) > 1 else "")
        return f"{negative}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{negative}0.{'0' * -point}{text_digits}"
    if point >= len(text_digits):
        return negative + text_digits + "0" * (point - len(text_digits))
    return f"{negative}{text_digits[:point]}.{text_digits[point:]}"


def to_bool(value: Any) -> bool:
    kind = type_name(value)
    if kind == "bool":
        return bool(value)
    if kind == "string" and value in _BOOLS:
        return _BOOLS[value]
    if kind == "string":
        raise CelEvalError(f"cannot convert {describe(value)} to a bool")
    raise no_overload("bool", value)


def to_bytes(value: Any) -> bytes:
    kind = type_name(value)
    if kind == "bytes":
        return bytes(value)
    if kind == "string":
        return value.encode("utf-8")
    raise no_overload("bytes", value)


def dyn(value: Any) -> Any:
    return value


type_ = type_of


# ---- semver -------------------------------------------------------------------------------------

@lru_cache(maxsize=1024)
def _range(text: str) -> semver_range.Range:
    return semver_range.parse_range(text)


def semver_satisfies(version: Any, range_text: Any) -> bool:
    """``semverSatisfies("v1.4.2", ">=1.2 <2")``: false for an unparsable version, an error for an
    unparsable range."""
    if not (isinstance(version, str) and isinstance(range_text, str)):
        raise no_overload("semverSatisfies", version, range_text)
    try:
        parsed = _range(range_text)
    except ValueError as exc:
        raise CelEvalError(str(exc)) from None
    return parsed.contains(version)


def semver_satisfies_range(version: Any, parsed: semver_range.Range) -> bool:
    if not isinstance(version, str):
        raise no_overload("semverSatisfies", version, str(parsed))
    return parsed.contains(version)


def semver_compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 by semver precedence; an error if either is not a version."""
    if not (isinstance(a, str) and isinstance(b, str)):
        raise no_overload("semverCompare", a, b)
    left, right = semver_range.parse_version(a), semver_range.parse_version(b)
    if left is None or right is None:
        raise CelEvalError(f"not a semantic version: {a if left is None else b!r}")
    return left.compare(right)
