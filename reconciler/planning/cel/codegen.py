"""Syntax tree → Python expression source, in three modes.

``FAST`` code inlines plain Python operators behind exact-class guards (``x == "a"`` becomes
``(t == "a" if (t := x).__class__ is str else _eq(t, "a"))``), uses Python ``and``/``or`` for
``&&``/``||`` and native subscripts for field access; it returns the exact CEL value or raises
(any exception). ``ABSORB`` code is the same except that ``&&``/``||``/``all``/``exists`` evaluate
each operand separately so errors can be absorbed (``false && <error>`` is false). ``PRECISE``
code absorbs errors too and raises CelEvalError with CEL messages (helpers instead of native
subscripts). emit.py combines the modes into a program's ``evaluate`` and ``matches``.

Generated names: ``v_<name>`` CEL variables, ``_t<n>`` temporaries, ``_k<n>`` hoisted constants,
other ``_name``\\ s runtime helpers (see program.py). Calls and macros live in calls.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from reconciler.planning.cel import calls
from reconciler.planning.cel.calls import FAST, PRECISE
from reconciler.planning.cel.parser import Node
from reconciler.planning.cel.values import TYPE_NAMES, TYPES, CelSyntaxError, Uint

_SIMPLE_LITERALS = (str, int, float, bool, bytes)
_RELATIONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in"})
_ARITHMETIC = {"+": "_add", "-": "_sub", "*": "_mul", "/": "_div", "%": "_mod"}
_ORDER = frozenset({"<", "<=", ">", ">="})


def _simple_literal(node: Node) -> bool:
    return node.kind == "lit" and type(node.args[0]) in _SIMPLE_LITERALS


def _null(node: Node) -> bool:
    return node.kind == "lit" and node.args[0] is None


class Codegen:
    """Generates code for one expression; collects constants, variables and flags on the way."""

    def __init__(self, expression: str, allowed: Iterable[str], functions: Mapping[str, Callable[..., Any]]):
        self.expression = expression
        self.allowed = frozenset(allowed)
        self.functions = functions
        self.consts: dict[str, Any] = {}
        self.variables: set[str] = set()
        self.absorbing = False  # uses &&, ||, all() or exists(): FAST failures need an ABSORB retry
        self._temps = 0

    # ---- bookkeeping ----

    def fail(self, pos: int, what: str, hint: str = "") -> NoReturn:
        """A compile-time error about a well-formed expression (unknown name, bad literal): the
        message names the culprit rather than the column, which ``column`` carries."""
        raise CelSyntaxError(self.expression, what + (f"; {hint}" if hint else ""), pos + 1)

    def const(self, value: Any) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def gen(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        return getattr(self, "_" + node.kind)(node, mode, scope)

    def boolean(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        """Code that yields exactly True/False or raises (for conditions and ``&&``/``||``)."""
        code = self.gen(node, mode, scope)
        return code if self.is_bool(node) else f"_truth({code})"

    def is_bool(self, node: Node) -> bool:
        """Whether ``node``'s code always yields a bool (or raises), so it needs no guard."""
        kind = node.kind
        if kind == "lit":
            return type(node.args[0]) is bool
        if kind in ("not", "and", "or"):
            return True
        if kind == "binop":
            return node.args[0] in _RELATIONS
        if kind == "cond":
            return self.is_bool(node.args[1]) and self.is_bool(node.args[2])
        if kind == "call":
            return node.args[0] not in self.functions and node.args[0] in calls.BOOL_FUNCTIONS
        return kind == "method" and node.args[1] in calls.BOOL_METHODS

    # ---- leaves ----

    def _lit(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        value = node.args[0]
        if type(value) is int and not -(2**63) <= value < 2**63:
            self.fail(node.pos, f"integer literal {value} is out of range")
        if type(value) is Uint or (type(value) is float and not math.isfinite(value)):
            return self.const(value)
        text = repr(value)
        return f"({text})" if text.startswith("-") else text

    def _ident(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        name = node.args[0]
        if name in scope:
            return f"v_{name}"
        if name in self.allowed:
            self.variables.add(name)
            return f"_var(act, {name!r})" if mode == PRECISE else f"v_{name}"
        if name in TYPE_NAMES:
            return self.const(TYPES[name])
        known = ", ".join(sorted(self.allowed)) or "none"
        self.fail(node.pos, f"unknown variable '{name}'", f"known: {known}")

    def _list(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        return "[" + ", ".join(self.gen(item, mode, scope) for item in node.args[0]) + "]"

    def _map(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        flat = [self.gen(part, mode, scope) for pair in node.args[0] for part in pair]
        return f"_mkmap({', '.join(flat)})"

    # ---- access ----

    def _select(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        operand, field = node.args
        code = self.gen(operand, mode, scope)
        return f"_select({code}, {field!r})" if mode == PRECISE else f"{code}[{field!r}]"

    def _index(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        operand, key = node.args
        code = self.gen(operand, mode, scope)
        if mode != PRECISE and key.kind == "lit" and type(key.args[0]) is str:
            return f"{code}[{key.args[0]!r}]"
        return f"_index({code}, {self.gen(key, mode, scope)})"

    def _call(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        return calls.gen_call(self, node, mode, scope)

    def _method(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        return calls.gen_method(self, node, mode, scope)

    # ---- operators ----

    def _not(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        operand = node.args[0]
        code = self.gen(operand, mode, scope)
        return f"(not {code})" if self.is_bool(operand) else f"_not({code})"

    def _neg(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        return f"_neg({self.gen(node.args[0], mode, scope)})"

    def _cond(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        test, then, other = node.args
        return (f"({self.gen(then, mode, scope)} if {self.boolean(test, mode, scope)} "
                f"else {self.gen(other, mode, scope)})")

    def _and(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        return self._logic(node, mode, scope, "and")

    def _or(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        return self._logic(node, mode, scope, "or")

    def _logic(self, node: Node, mode: str, scope: frozenset[str], word: str) -> str:
        self.absorbing = True
        operands: list[Node] = []
        flatten(node, node.kind, operands)
        if mode == FAST:
            return "(" + f" {word} ".join(self.boolean(op, mode, scope) for op in operands) + ")"
        thunks = ", ".join(f"lambda: {self.gen(op, mode, scope)}" for op in operands)
        return f"_{word}({thunks})"

    def _binop(self, node: Node, mode: str, scope: frozenset[str]) -> str:
        op, left, right = node.args
        if op in ("==", "!="):
            return self._equality(op, left, right, mode, scope)
        if op in _ORDER:
            return self._ordering(op, left, right, mode, scope)
        if op == "in":
            return self._membership(left, right, mode, scope)
        return f"{_ARITHMETIC[op]}({self.gen(left, mode, scope)}, {self.gen(right, mode, scope)})"

    def _equality(self, op: str, left: Node, right: Node, mode: str, scope: frozenset[str]) -> str:
        helper = "_eq" if op == "==" else "_ne"
        if (_simple_literal(left) or _null(left)) and not (_simple_literal(right) or _null(right)):
            left, right = right, left  # equality is symmetric; literals have no effects to reorder
        if _null(right):
            return f"({self.gen(left, mode, scope)} is {'' if op == '==' else 'not '}None)"
        if _simple_literal(right):
            t, k = self.temp(), self.gen(right, mode, scope)
            cls = type(right.args[0]).__name__
            return f"({t} {op} {k} if ({t} := {self.gen(left, mode, scope)}).__class__ is {cls} else {helper}({t}, {k}))"
        a, b = self.temp(), self.temp()
        return (f"({a} {op} {b} if ({a} := {self.gen(left, mode, scope)}).__class__ is "
                f"({b} := {self.gen(right, mode, scope)}).__class__ and {a}.__class__ in _SCALARS "
                f"else {helper}({a}, {b}))")

    def _ordering(self, op: str, left: Node, right: Node, mode: str, scope: frozenset[str]) -> str:
        for lit, other, literal_right in ((right, left, True), (left, right, False)):
            if lit.kind == "lit" and type(lit.args[0]) in (str, int, float):
                t, k = self.temp(), self.gen(lit, mode, scope)
                x, y = (t, k) if literal_right else (k, t)
                cls = type(lit.args[0]).__name__
                return (f"({x} {op} {y} if ({t} := {self.gen(other, mode, scope)}).__class__ is {cls} "
                        f"else _cmp({op!r}, {x}, {y}))")
        a, b = self.temp(), self.temp()
        return (f"({a} {op} {b} if ({a} := {self.gen(left, mode, scope)}).__class__ is "
                f"({b} := {self.gen(right, mode, scope)}).__class__ and {a}.__class__ in _ORDERED "
                f"else _cmp({op!r}, {a}, {b}))")

    def _membership(self, item: Node, container: Node, mode: str, scope: frozenset[str]) -> str:
        if container.kind == "list" and container.args[0]:
            values = [element.args[0] if element.kind == "lit" else None for element in container.args[0]]
            classes = {type(v) for v in values}
            if all(e.kind == "lit" for e in container.args[0]) and len(classes) == 1 \
                    and classes <= {str, int, float, bool}:
                t, cls = self.temp(), classes.pop().__name__
                members, ordered = self.const(frozenset(values)), self.const(tuple(values))
                return f"({t} in {members} if ({t} := {self.gen(item, mode, scope)}).__class__ is {cls} else _in({t}, {ordered}))"
        if item.kind == "lit" and type(item.args[0]) is str:
            t, k = self.temp(), self.gen(item, mode, scope)
            return f"({k} in {t} if ({t} := {self.gen(container, mode, scope)}).__class__ is dict else _in({k}, {t}))"
        return f"_in({self.gen(item, mode, scope)}, {self.gen(container, mode, scope)})"


def flatten(node: Node, kind: str, out: list[Node]) -> None:
    """The operands of a chain ``a && b && c`` (any grouping) in order."""
    if node.kind == kind:
        flatten(node.args[0], kind, out)
        flatten(node.args[1], kind, out)
    else:
        out.append(node)
