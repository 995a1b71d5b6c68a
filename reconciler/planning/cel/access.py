"""Data access for generated code: variables, field selection, indexing, ``in``, ``has()``, map
literals and the comprehension macros (``all``, ``exists``, ``exists_one``, ``map``, ``filter``).

The ``*_fast`` macro variants let any failure escape, for the fast path (which retries on the
precise path); the others implement CEL's error absorption. Pure: no I/O, no clock reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler.planning.cel.runtime import KEY_KINDS, as_cel, eq, truth
from reconciler.planning.cel.values import CelEvalError, describe, no_overload, type_name


def var(activation: Mapping[str, Any], name: str) -> Any:
    try:
        return activation[name]
    except (KeyError, TypeError):
        raise CelEvalError(f"no value for variable '{name}' in the activation") from None


def select(obj: Any, name: str) -> Any:
    """``obj.name``: map lookup by the field name."""
    if obj.__class__ is dict or isinstance(obj, Mapping):
        try:
            return obj[name]
        except KeyError:
            raise CelEvalError(f"no such key: {name!r}") from None
    raise CelEvalError(f"type '{type_name(obj)}' does not support field selection ('.{name}')")


def index(obj: Any, key: Any) -> Any:
    """``obj[key]``: list position (int or uint, no negatives) or map key."""
    kind = type_name(key)
    if isinstance(obj, (list, tuple)):
        if kind not in ("int", "uint"):
            raise CelEvalError(f"no such overload: list index must be int, got {kind}")
        if 0 <= key < len(obj):
            return obj[key]
        raise CelEvalError(f"index {key} out of range for a list of size {len(obj)}")
    if isinstance(obj, Mapping):
        if kind not in KEY_KINDS:
            raise CelEvalError(f"unsupported map key type: {kind}")
        try:
            return obj[key]
        except KeyError:
            raise CelEvalError(f"no such key: {describe(key)}") from None
    raise CelEvalError(f"type '{type_name(obj)}' does not support indexing")


def contains(item: Any, container: Any) -> bool:
    """``item in container``: list membership (by CEL equality) or map key membership."""
    if isinstance(container, (list, tuple)):
        err = None
        for element in container:
            try:
                if eq(item, element):
                    return True
            except CelEvalError as exc:
                err = err or exc
        if err is not None:
            raise err
        return False
    if isinstance(container, Mapping):
        kind = type_name(item)
        if kind not in KEY_KINDS and kind != "null_type" and kind != "double":
            raise CelEvalError(f"unsupported map key type: {kind}")
        if kind == "string":
            return item in container
        return any(type_name(key) == kind and key == item for key in container)
    raise no_overload("in", item, container)


def has(operand: Callable[[], Any], name: str) -> bool:
    """``has(e.f)``: whether ``e`` evaluates to a map with key ``f``. As in cel-python, a failure
    to evaluate ``e`` gives false rather than an error."""
    try:
        obj = operand()
    except Exception:  # noqa: BLE001 - by design
        return False
    return isinstance(obj, Mapping) and name in obj


def has_path(root: Any, path: tuple[Any, ...], name: str) -> bool:
    """``has(root.a.b.name)`` without evaluating through exceptions (the fast path)."""
    obj = root
    for key in path:
        if not (obj.__class__ is dict or isinstance(obj, Mapping)) or key not in obj:
            return False
        obj = obj[key]
    return (obj.__class__ is dict or isinstance(obj, Mapping)) and name in obj


def make_map(*flat: Any) -> dict[Any, Any]:
    """A map literal ``{k1: v1, k2: v2}`` from ``k1, v1, k2, v2``."""
    out: dict[Any, Any] = {}
    for i in range(0, len(flat), 2):
        key = flat[i]
        kind = type_name(key)
        if kind not in KEY_KINDS:
            raise CelEvalError(f"unsupported map key type: {kind}")
        if key in out:
            raise CelEvalError(f"duplicate map key {describe(key)}")
        out[key] = flat[i + 1]
    return out


def call(function: Callable[..., Any], name: str, *args: Any) -> Any:
    """A custom function call; its exceptions become CelEvalError."""
    try:
        return function(*args)
    except CelEvalError:
        raise
    except Exception as exc:
        raise CelEvalError(f"function '{name}' failed: {exc}") from exc


# ---- macros -------------------------------------------------------------------------------------

def _range(obj: Any) -> Any:
    if obj.__class__ is list or isinstance(obj, (list, tuple)):
        return obj
    if isinstance(obj, Mapping):
        return list(obj)
    raise CelEvalError(f"no such overload: macros need a list or map, got {type_name(obj)}")


def all_fast(obj: Any, predicate: Callable[[Any], Any]) -> bool:
    for element in _range(obj):
        result = predicate(element)
        if result is False:
            return False
        if result is not True:
            raise CelEvalError("predicate is not a bool")
    return True


def exists_fast(obj: Any, predicate: Callable[[Any], Any]) -> bool:
    for element in _range(obj):
        result = predicate(element)
        if result is True:
            return True
        if result is not False:
            raise CelEvalError("predicate is not a bool")
    return False


def all_(obj: Any, predicate: Callable[[Any], Any]) -> bool:
    """``all``: false if the predicate is false for any element, even if it fails for others."""
    return _quantify(obj, predicate, False)


def exists(obj: Any, predicate: Callable[[Any], Any]) -> bool:
    """``exists``: true if the predicate is true for any element, even if it fails for others."""
    return _quantify(obj, predicate, True)


def _quantify(obj: Any, predicate: Callable[[Any], Any], decisive: bool) -> bool:
    err: BaseException | None = None
    for element in _range(obj):
        try:
            result = predicate(element)
        except Exception as exc:  # noqa: BLE001 - errors are values until the end
            err = err or exc
            continue
        if result is decisive:
            return decisive
        if result is not (not decisive) and err is None:
            err = CelEvalError(f"no such overload: predicate must be bool, got {type_name(result)}")
    if err is not None:
        raise as_cel(err)
    return not decisive


def exists_one(obj: Any, predicate: Callable[[Any], Any]) -> bool:
    return sum(1 for element in _range(obj) if truth(predicate(element))) == 1


def map_(obj: Any, transform: Callable[[Any], Any]) -> list[Any]:
    return [transform(element) for element in _range(obj)]


def map_filter(obj: Any, predicate: Callable[[Any], Any], transform: Callable[[Any], Any]) -> list[Any]:
    return [transform(element) for element in _range(obj) if truth(predicate(element))]


def filter_(obj: Any, predicate: Callable[[Any], Any]) -> list[Any]:
    return [element for element in _range(obj) if truth(predicate(element))]
