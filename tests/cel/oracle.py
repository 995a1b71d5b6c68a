"""cel-python (``celpy``) as a test oracle: evaluate an expression and convert the result to the
plain Python values our compiler returns, with every kind of failure collapsed into ``ERROR``."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import celpy
from celpy import celtypes

from reconciler.planning.cel import CelEvalError, CelType, Uint

logging.getLogger("celpy").setLevel(logging.CRITICAL)
ERROR = "<error>"
_ENV = celpy.Environment()


def to_plain(value: Any) -> Any:
    """A celtypes value as plain Python; ERROR if an error object hides anywhere inside."""
    if isinstance(value, Exception):
        return ERROR
    if isinstance(value, celtypes.BoolType) or type(value) is bool:
        return bool(value)
    if isinstance(value, celtypes.UintType):
        return ("uint", int(value))
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, dt.datetime):
        return dt.datetime.fromtimestamp(value.timestamp(), dt.UTC)
    if isinstance(value, dt.timedelta):
        return dt.timedelta(seconds=value.total_seconds())
    if isinstance(value, (list, tuple)):
        items = [to_plain(v) for v in value]
        return ERROR if ERROR in items else items
    if isinstance(value, dict):
        items = {to_plain(k): to_plain(v) for k, v in value.items()}
        return ERROR if ERROR in items.values() else items
    if value is None:
        return None
    if isinstance(value, type):
        return ("type", value.__name__)
    return ("opaque", repr(value))


def oracle(expression: str, *activations: dict[str, Any]) -> Any:
    """cel-python's result for ``expression`` (a list of results if several activations are
    given; the expression is parsed once); ERROR for parse or evaluation failures."""
    try:
        program = _ENV.program(_ENV.compile(expression))
    except Exception:  # noqa: BLE001 - cel-python raises many kinds; all mean "error"
        program = None
    results = []
    for activation in activations:
        try:
            cel_activation = {name: celpy.json_to_cel(value) for name, value in activation.items()}
            results.append(ERROR if program is None else to_plain(program.evaluate(cel_activation)))
        except Exception:  # noqa: BLE001
            results.append(ERROR)
    return results[0] if len(results) == 1 else results


def plain(value: Any) -> Any:
    """One of our values in the oracle's vocabulary (uints tagged, type values named)."""
    if isinstance(value, Uint):
        return ("uint", int(value))
    if isinstance(value, CelType):
        return ("type", value.name)
    if isinstance(value, list):
        return [plain(x) for x in value]
    if isinstance(value, dict):
        return {plain(k): plain(x) for k, x in value.items()}
    return value


def ours(program: Any, activation: dict[str, Any]) -> Any:
    """Our result in the oracle's vocabulary; ERROR when evaluation raises CelEvalError."""
    try:
        return plain(program.evaluate(activation))
    except CelEvalError:
        return ERROR
