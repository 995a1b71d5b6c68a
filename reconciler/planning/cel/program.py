"""Compiled CEL programs: ``compile()`` parses an expression, generates Python source for it
(codegen.py), ``exec``\\ s that once and wraps the resulting functions in a ``Program``. Programs are
cached by (expression, allowed variables, custom functions), since the same selector text is
compiled for thousands of entities. Pure: generated code only reads the activation it is given.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.planning.cel import access, functions, runtime, timefns
from reconciler.planning.cel.codegen import Codegen
from reconciler.planning.cel.emit import module_source
from reconciler.planning.cel.parser import parse
from reconciler.planning.cel.values import CelEvalError, CelSyntaxError

DEFAULT_ALLOWED = ("resource", "deployment", "environment", "version")
_CACHE_LIMIT = 4096

_HELPERS: dict[str, Any] = {
    "__builtins__": builtins, "CelEvalError": CelEvalError,
    "_SCALARS": runtime.SCALARS, "_ORDERED": runtime.ORDERED,
    "_eq": runtime.eq, "_ne": runtime.ne, "_cmp": runtime.compare, "_add": runtime.add, "_sub": runtime.sub,
    "_mul": runtime.mul, "_div": runtime.div, "_mod": runtime.mod, "_neg": runtime.neg,
    "_truth": runtime.truth, "_not": runtime.logical_not, "_and": runtime.and_, "_or": runtime.or_,
    "_var": access.var, "_select": access.select, "_index": access.index, "_in": access.contains,
    "_has": access.has, "_has_path": access.has_path, "_mkmap": access.make_map, "_call": access.call,
    "_all_fast": access.all_fast, "_exists_fast": access.exists_fast, "_all": access.all_,
    "_exists": access.exists, "_exists_one": access.exists_one, "_map": access.map_,
    "_map_filter": access.map_filter, "_filter": access.filter_,
    "_size": functions.size, "_contains": functions.contains, "_starts_with": functions.starts_with,
    "_ends_with": functions.ends_with, "_matches": functions.matches, "_match_re": functions.matches_compiled,
    "_lower_ascii": functions.lower_ascii, "_upper_ascii": functions.upper_ascii,
    "_to_int": functions.to_int, "_to_uint": functions.to_uint, "_to_double": functions.to_double,
    "_to_string": functions.to_string, "_to_bool": functions.to_bool, "_to_bytes": functions.to_bytes,
    "_dyn": functions.dyn, "_type": functions.type_, "_semver_sat": functions.semver_satisfies,
    "_semver_range": functions.semver_satisfies_range, "_semver_cmp": functions.semver_compare,
    "_timestamp": timefns.timestamp, "_duration": timefns.duration, "_time_part": timefns.time_part,
    "_finish": runtime.as_cel,
}

@dataclass(frozen=True)
class Program:
    """A compiled CEL expression.

    ``evaluate(activation)`` returns the CEL value (plain Python data) or raises CelEvalError;
    ``matches(activation)`` is True only when the value is exactly ``True`` (errors and
    non-bool values are False, as in Ctrlplane). ``constant`` is True/False for the ``"true"``,
    ``"false"`` and ``""`` shortcuts and None otherwise.
    """

    source: str
    variables: frozenset[str]
    constant: bool | None = None
    python: str = field(default="", repr=False, compare=False)  # the generated code, for debugging
    _evaluate: Callable[[Mapping[str, Any]], Any] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _matches: Callable[[Mapping[str, Any]], bool] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        # Bind the generated functions straight onto the instance so ``program.matches(x)`` is a
        # single call (instance attributes shadow these methods; behaviour is identical).
        object.__setattr__(self, "evaluate", self._evaluate)
        object.__setattr__(self, "matches", self._matches)

    def evaluate(self, activation: Mapping[str, Any]) -> Any:
        return self._evaluate(activation)

    def matches(self, activation: Mapping[str, Any]) -> bool:
        return self._matches(activation)


def _constant(source: str, value: bool) -> Program:
    return Program(source, frozenset(), value, f"{value}", lambda _activation: value, lambda _activation: value)


_CONSTANTS = {"": False, "false": False, "true": True}
_CACHE: dict[tuple[Any, ...], Program] = {}


def compile(expression: str, *, allowed: Iterable[str] = DEFAULT_ALLOWED,
            functions: Mapping[str, Callable[..., Any]] | None = None) -> Program:
    """Compile ``expression`` once into a Program; raises CelSyntaxError for bad syntax, unknown
    variables (not in ``allowed``) or functions, and malformed literal regexes or semver ranges.
    ``functions`` adds global functions ``name(args…)`` called with the evaluated arguments."""
    names = allowed if isinstance(allowed, tuple) else tuple(allowed)
    # Custom functions are keyed by identity; a cached Program keeps its functions alive, so an
    # id() in a live key cannot be reused by another object.
    key = (expression, names, tuple(sorted((n, id(f)) for n, f in functions.items())) if functions else ())
    program = _CACHE.get(key)
    if program is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        program = _CACHE[key] = _build(expression, names, dict(functions or {}))
    return program


def _build(expression: str, allowed: tuple[str, ...], custom: dict[str, Callable[..., Any]]) -> Program:
    if not isinstance(expression, str):
        raise TypeError(f"a CEL expression must be a string, not {type(expression).__name__}")
    shortcut = _CONSTANTS.get(expression.strip())
    if shortcut is not None:
        return _constant(expression, shortcut)
    tree = parse(expression)
    cg = Codegen(expression, allowed, custom)
    try:
        text = module_source(cg, tree)
        namespace = {**_HELPERS, **cg.consts}
        with warnings.catch_warnings():  # "<literal> is True" in generated code is intended
            warnings.simplefilter("ignore", SyntaxWarning)
            code = builtins.compile(text, f"<cel {expression[:60]!r}>", "exec")
        exec(code, namespace)  # noqa: S102 - our own generated source
    except (RecursionError, MemoryError, SyntaxError):
        raise CelSyntaxError(expression, "expression is too deeply nested to compile", 1) from None
    return Program(expression, frozenset(cg.variables), None, text, namespace["evaluate"], namespace["matches"])
