"""Code generation for function calls, method calls and macros: resolving names against the
built-ins and the caller's custom functions at compile time (unknown names and wrong argument
counts are CelSyntaxError), validating literal arguments early (``matches`` patterns, semver
ranges) and expanding ``has()``, ``all``, ``exists``, ``exists_one``, ``map`` and ``filter``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.planning.cel.functions import regex
from reconciler.planning.cel.parser import Node
from reconciler.planning.cel.semver_range import parse_range
from reconciler.planning.cel.timefns import ACCESSORS

if TYPE_CHECKING:
    from reconciler.planning.cel.codegen import Codegen

FAST, ABSORB, PRECISE = "fast", "absorb", "precise"  # code generation modes, see codegen.py

# name: (helper, minimum arguments, maximum arguments)
GLOBALS: dict[str, tuple[str, int, int]] = {
    "size": ("_size", 1, 1), "int": ("_to_int", 1, 1), "uint": ("_to_uint", 1, 1),
    "double": ("_to_double", 1, 1), "string": ("_to_string", 1, 1), "bool": ("_to_bool", 1, 1),
    "bytes": ("_to_bytes", 1, 1), "dyn": ("_dyn", 1, 1), "type": ("_type", 1, 1),
    "timestamp": ("_timestamp", 1, 1), "duration": ("_duration", 1, 1), "matches": ("_matches", 2, 2),
    "semverSatisfies": ("_semver_sat", 2, 2), "semverCompare": ("_semver_cmp", 2, 2),
}
METHODS: dict[str, tuple[str, int, int]] = {
    "size": ("_size", 0, 0), "contains": ("_contains", 1, 1), "startsWith": ("_starts_with", 1, 1),
    "endsWith": ("_ends_with", 1, 1), "matches": ("_matches", 1, 1), "lowerAscii": ("_lower_ascii", 0, 0),
    "upperAscii": ("_upper_ascii", 0, 0), "semverSatisfies": ("_semver_sat", 1, 1),
    "semverCompare": ("_semver_cmp", 1, 1),
    **{name: ("_time_part", 0, 1) for name in ACCESSORS},
}
MACROS = {"all": (2, 2), "exists": (2, 2), "exists_one": (2, 2), "map": (2, 3), "filter": (2, 2)}
BOOL_FUNCTIONS = frozenset({"has", "matches", "semverSatisfies", "bool"})
BOOL_METHODS = frozenset({"contains", "startsWith", "endsWith", "matches", "semverSatisfies",
                          "all", "exists", "exists_one"})
_STRING_TESTS = {"startsWith": "startswith", "endsWith": "endswith"}


def _arity(cg: Codegen, node: Node, name: str, count: int, low: int, high: int) -> None:
    if not low <= count <= high:
        want = str(low) if low == high else f"{low} or {high}"
        noun = "argument" if want == "1" else "arguments"
        cg.fail(node.pos, f"{name}() takes {want} {noun}, got {count}")


def gen_call(cg: Codegen, node: Node, mode: str, scope: frozenset[str]) -> str:
    """``name(args…)``: has(), a custom function, or a built-in global."""
    name, args = node.args
    if name == "has":
        return _has(cg, node, mode, scope)
    if name in cg.functions:
        function = cg.const(cg.functions[name])
        values = "".join(", " + cg.gen(arg, mode, scope) for arg in args)
        return f"_call({function}, {name!r}{values})"
    spec = GLOBALS.get(name)
    if spec is None:
        if name in METHODS or name in MACROS:
            cg.fail(node.pos, f"{name}() is a method", f"write x.{name}(…)")
        cg.fail(node.pos, f"unknown function '{name}'")
    helper, low, high = spec
    _arity(cg, node, name, len(args), low, high)
    if name == "matches" and _string(args[1]):
        return f"_match_re({cg.gen(args[0], mode, scope)}, {_pattern(cg, args[1])})"
    if name == "semverSatisfies" and _string(args[1]):
        return f"_semver_range({cg.gen(args[0], mode, scope)}, {_semver(cg, args[1])})"
    return f"{helper}({', '.join(cg.gen(arg, mode, scope) for arg in args)})"


def gen_method(cg: Codegen, node: Node, mode: str, scope: frozenset[str]) -> str:
    """``target.name(args…)``: a macro or a built-in method."""
    target, name, args = node.args
    if name in MACROS:
        return _macro(cg, node, mode, scope)
    spec = METHODS.get(name)
    if spec is None:
        cg.fail(node.pos, f"unknown method '{name}'")
    helper, low, high = spec
    _arity(cg, node, name, len(args), low, high)
    receiver = cg.gen(target, mode, scope)
    if name in _STRING_TESTS and _string(args[0]):
        t, k = cg.temp(), cg.gen(args[0], mode, scope)
        return f"({t}.{_STRING_TESTS[name]}({k}) if ({t} := {receiver}).__class__ is str else {helper}({t}, {k}))"
    if name == "contains" and _string(args[0]):
        t, k = cg.temp(), cg.gen(args[0], mode, scope)
        return f"({k} in {t} if ({t} := {receiver}).__class__ is str else {helper}({t}, {k}))"
    if name == "matches" and _string(args[0]):
        return f"_match_re({receiver}, {_pattern(cg, args[0])})"
    if name == "semverSatisfies" and _string(args[0]):
        return f"_semver_range({receiver}, {_semver(cg, args[0])})"
    if name in ACCESSORS:
        return f"_time_part({name!r}, {receiver}{''.join(', ' + cg.gen(a, mode, scope) for a in args)})"
    return f"{helper}({receiver}{''.join(', ' + cg.gen(a, mode, scope) for a in args)})"


def _string(node: Node) -> bool:
    return node.kind == "lit" and type(node.args[0]) is str


def _pattern(cg: Codegen, node: Node) -> str:
    try:
        return cg.const(regex(node.args[0]))
    except ValueError as exc:
        cg.fail(node.pos, str(exc))


def _semver(cg: Codegen, node: Node) -> str:
    try:
        return cg.const(parse_range(node.args[0]))
    except ValueError as exc:
        cg.fail(node.pos, str(exc))


def _has(cg: Codegen, node: Node, mode: str, scope: frozenset[str]) -> str:
    args = node.args[1]
    if len(args) != 1 or args[0].kind != "select":
        cg.fail(node.pos, "has() needs a field selection", "e.g. has(resource.metadata.team)")
    operand, field = args[0].args
    if mode != PRECISE:
        keys: list[str] = []
        root = operand
        while root.kind == "select" or (root.kind == "index" and _string(root.args[1])):
            keys.append(root.args[1] if root.kind == "select" else root.args[1].args[0])
            root = root.args[0]
        if root.kind == "ident":
            return f"_has_path({cg.gen(root, mode, scope)}, {tuple(reversed(keys))!r}, {field!r})"
    # The operand may fail harmlessly, so FAST code must not abort on errors ABSORB would absorb.
    return f"_has(lambda: {cg.gen(operand, PRECISE if mode == PRECISE else ABSORB, scope)}, {field!r})"


def _macro(cg: Codegen, node: Node, mode: str, scope: frozenset[str]) -> str:
    target, name, args = node.args
    _arity(cg, node, name, len(args), *MACROS[name])
    if args[0].kind != "ident":
        cg.fail(args[0].pos, f"{name}() needs a variable name first", f"e.g. {name}(x, …)")
    variable = args[0].args[0]
    inner = scope | {variable}
    source = cg.gen(target, mode, scope)
    bodies = [f"lambda v_{variable}: {cg.gen(body, mode, inner)}" for body in args[1:]]
    if name in ("all", "exists"):
        cg.absorbing = True
        helper = f"_{name}_fast" if mode == FAST else f"_{name}"
    else:
        helper = {"exists_one": "_exists_one", "filter": "_filter"}.get(name) or (
            "_map" if len(bodies) == 1 else "_map_filter")
    return f"{helper}({source}, {', '.join(bodies)})"
