"""Differential tests: random well-typed and ill-typed CEL expressions over fixed activations,
evaluated by our compiler and by cel-python (the oracle); results must be identical, with every
kind of error counted as one value. Each example also checks that ``matches`` agrees with
``evaluate`` and that the precise (error-reporting) path computes the same value as the fast one.

Shapes excluded on purpose, each a cel-python 0.5 quirk where it departs from the CEL spec (and
from cel-go, which Ctrlplane uses). The generator never produces them:

* non-bool operands of ``&&``, ``||``, ``!`` and ``?:`` (cel-python returns ``1`` for
  ``1 && true``; the spec says error). Errors as operands are generated freely.
* ``==``/``<`` between bool and int (cel-python: ``true == 1`` is true yet ``1 == true`` is an
  error), ordering or arithmetic with a double on the left and an int on the right (``1.5 > 1``
  and ``1.5 + 1`` succeed, ``1 < 1.5`` and ``1 + 1.5`` fail), ``null`` compared with numbers
  (error in cel-python, false here), and bools in arithmetic (``true + true`` is 2).
* an ill-typed comparison with the empty list literal on the right (``"a" != []``, ``1 == []``):
  cel-python raises IndexError instead of returning an error value, so an enclosing
  ``true || …`` fails there although the spec (and we) say true.
* ``in`` on a map with a key of another type (cel-python: error; here: false, i.e. "not a key"),
  ``in`` on strings (``"a" in "abc"`` is true in cel-python).
* ``map``/``filter``/``exists_one`` bodies that can fail (cel-python keeps error objects as list
  elements or counts them as true), and the three-argument ``map`` (unsupported there).
* map literals with failing keys or values (cel-python stores the error object in the map;
  lists do propagate errors, so list literals are generated freely).
* results of ``+`` on strings and of double arithmetic lose their CEL type in cel-python (plain
  ``str``/``float``/``list``), so ``("a" + "b").contains("a")`` fails there and ``"a" == [1] + [2]``
  is false instead of an error: ``contains`` receivers and the operands of deliberately ill-typed
  comparisons are atoms (literals and field accesses).
* ``string()`` of bools and doubles (cel-python prints Python's ``True``/``1.0``), ``size(null)``
  (0 in cel-python), negative list indexes (Python semantics there), ``lowerAscii``/``upperAscii``
  and the semver functions (not in cel-python). These are covered by unit tests instead.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.planning import cel
from tests.cel.oracle import ERROR, oracle, ours, plain

ACTIVATIONS = [
    {
        "resource": {
            "kind": "KubernetesCluster", "name": "prod-east-1", "version": "v1.2.3",
            "metadata": {"region": "us-east-1", "env": "prod", "team": "core", "tier": "1"},
            "config": {"replicas": 3, "ratio": 0.5, "enabled": True, "tags": ["a", "b"],
                       "nested": {"depth": 2, "name": "x"}, "nothing": None},
            "count": 7, "ports": [80, 443], "labels": [],
        },
        "deployment": {"name": "api", "metadata": {"owner": "web"}},
        "environment": {"name": "prod", "metadata": {"region": "us-east-1"}},
        "version": {"tag": "v1.4.0", "metadata": {"commit": "abc123"}},
    },
    {
        "resource": {
            "kind": "VM", "name": "", "version": "2.0.0",
            "metadata": {"region": "eu-west-1", "env": "staging", "tier": "x"},
            "config": {"replicas": -2, "ratio": 2.5, "enabled": False, "tags": [],
                       "nested": {"depth": 0}, "nothing": None},
            "count": 0, "ports": [8080], "labels": ["b"],
        },
        "deployment": {"name": "web", "metadata": {}},
        "environment": {"name": "staging", "metadata": {"region": "eu-west-1"}},
        "version": {"tag": "2.0.0-rc.1", "metadata": {}},
    },
]

STRING_ATOMS = ['"a"', '"b"', '""', '"prod"', '"us-east-1"', '"x\\"y"', "'KubernetesCluster'", '"é"',
                "resource.kind", "resource.name", "resource.metadata.region", 'resource.metadata["env"]',
                "resource.metadata.team", "resource.metadata.tier", "deployment.name", "environment.name",
                "version.tag", "resource.config.nested.name", "resource.missing", "environment.metadata.region"]
INT_ATOMS = ["0", "1", "2", "3", "-1", "7", "100", "0x10", "resource.count", "resource.config.replicas",
             "resource.ports[0]", "resource.ports[1]", "resource.config.nested.depth", "resource.gone"]
DOUBLE_ATOMS = ["0.5", "1.5", "-2.0", "2.0", "1e2", "resource.config.ratio"]
BOOL_ATOMS = ["true", "false", "resource.config.enabled", "resource.config.missing_flag"]
LIST_INT_ATOMS = ["[1, 2, 3]", "[]", "[0, -1]", "resource.ports"]
LIST_STRING_ATOMS = ['["a", "b"]', '["prod", "staging"]', "resource.config.tags", "resource.labels",
                     '["us-east-1", "eu-west-1"]']
MAP_ATOMS = ["resource.metadata", "resource.config.nested", '{"a": 1, "b": 2}', "deployment.metadata",
             "{}", "resource.nope"]
ATOMS = {"string": STRING_ATOMS, "int": INT_ATOMS, "double": DOUBLE_ATOMS, "bool": BOOL_ATOMS,
         "list_int": LIST_INT_ATOMS, "list_string": LIST_STRING_ATOMS, "map": MAP_ATOMS}
# Cross-type pairs on which both implementations agree that ==, <, + are errors.
ILL_TYPED = [("int", "string"), ("string", "int"), ("int", "double"), ("string", "list_int"),
             ("list_int", "string"), ("map", "int"), ("int", "list_int")]
STRING_MAPS = ["resource.metadata", "deployment.metadata", "environment.metadata", '{"a": "x", "region": "r"}']
INDEXES = ["0", "1", "2", "resource.count", "resource.config.nested.depth", "size(resource.labels)", "1u"]
REGEXES = ['"^us-"', '"[0-9]+"', '"prod$"', '"^$"', '"e.s"', "r'\\d'"]


@cache
def expr(typ: str, depth: int = 3) -> st.SearchStrategy[str]:
    """Expressions that, when they do not fail, have type ``typ`` (strategies are built once)."""
    atoms = st.sampled_from(ATOMS[typ])
    if depth <= 0:
        return atoms
    return st.one_of(atoms, _COMPOUND[typ](depth - 1))


def _f(template: str, *parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``template`` (with {0}, {1}… placeholders) filled from ``parts``."""
    return st.tuples(*parts).map(lambda values: template.format(*values))


def _pick(*options: str) -> st.SearchStrategy[str]:
    return st.sampled_from(options)


def _atom(typ: str) -> st.SearchStrategy[str]:
    return st.sampled_from(ATOMS[typ])


def _right_atom(typ: str) -> st.SearchStrategy[str]:
    """The right operand of an ill-typed comparison: never the empty list literal, which makes
    cel-python raise (IndexError) instead of returning an error value."""
    return st.sampled_from([a for a in ATOMS[typ] if a != "[]"])


def _bool(depth: int) -> st.SearchStrategy[str]:
    def sub(t: str) -> st.SearchStrategy[str]:
        return expr(t, depth)

    return st.one_of(
        *[_f("({0} {1} {2})", sub(t), _pick("==", "!="), sub(t)) for t in ("string", "int", "double", "bool")],
        *[_f("({0} {1} {2})", sub(t), _pick("<", "<=", ">", ">="), sub(t)) for t in ("string", "int", "double")],
        *[_f("({0} {1} {2})", _atom(a), _pick("==", "!=", "<"), _right_atom(b)) for a, b in ILL_TYPED],
        _f("({0} {1} {2})", sub("bool"), _pick("&&", "||"), sub("bool")),
        _f("!{0}", sub("bool")),
        _f("({0} ? {1} : {2})", sub("bool"), sub("bool"), sub("bool")),
        _f("({0} in {1})", sub("string"), sub("list_string")),
        _f("({0} in {1})", sub("int"), sub("list_int")),
        _f("({0} in {1})", sub("string"), sub("list_int")),
        _f("({0} in {1})", sub("string"), sub("map")),
        _pick("has(resource.metadata.team)", "has(resource.config.nested.depth)", "has(resource.config.nothing.x)",
              "has(resource.missing.x)", "has(version.metadata.commit)", "has(resource.kind.x)",
              "has(deployment.metadata.owner)"),
        _f("{0}.{1}({2})", sub("string"), _pick("startsWith", "endsWith"), sub("string")),
        _f("{0}.contains({1})", _atom("string"), sub("string")),
        _f("{0}.startsWith({1})", sub("string"), sub("int")),
        _f("{0}.matches({1})", sub("string"), st.sampled_from(REGEXES)),
        *[_f("{0}.{1}({2})", sub(t), _pick("all", "exists"), _predicate(t, depth, may_fail=True))
          for t in ("list_int", "list_string", "map")],
        _f("{0}.exists_one({1})", sub("list_int"), _predicate("list_int", depth, may_fail=False)),
        *[_f("({0} {1} {2})", sub(t), _pick("==", "!="), sub(t)) for t in ("list_int", "map")],
    )


def _predicate(typ: str, depth: int, may_fail: bool) -> st.SearchStrategy[str]:
    """``x, <bool using x>`` for a macro over a ``typ`` collection."""
    var = "resource" if typ == "map" else "x"  # shadowing a variable must work too
    if typ == "list_int":
        safe = _f(var + " {0} {1}", _pick("<", ">", "==", "!="), st.sampled_from(INT_ATOMS[:7]))
        risky = _pick(f"(10 / {var}) > 1", f"{var} > resource.gone", f"({var} % 2 == 0) || resource.no")
    else:
        safe = _f(var + " {0} {1}", _pick("==", "!=", "<"), st.sampled_from(STRING_ATOMS[:6]))
        risky = st.one_of(st.just(f"{var}.startsWith(resource.metadata.team)"),
                          _f(var + " == {0}", expr("string", max(depth - 1, 0))))
    body = st.one_of(safe, risky) if may_fail else safe
    return body.map(lambda b: f"{var}, {b}")


def _int(depth: int) -> st.SearchStrategy[str]:
    def sub(t: str) -> st.SearchStrategy[str]:
        return expr(t, depth)

    return st.one_of(
        _f("({0} {1} {2})", sub("int"), _pick("+", "-", "*", "/", "%"), sub("int")),
        *[_f("({0} + {1})", _atom(a), _atom(b)) for a, b in ILL_TYPED],
        _f("-{0}", sub("int")),
        *[_f("size({0})", sub(t)) for t in ("string", "list_int", "list_string", "map", "int", "bool")],
        _f("({0} ? {1} : {2})", sub("bool"), sub("int"), sub("int")),
        _f("int({0})", sub("string")),
        _pick('int("42")', 'int("-7")', 'int("4x")', "int(2.9)", "int(-2.9)", "resource.tier"),
        _f("int({0})", sub("double")),
        _f("{0}[{1}]", sub("list_int"), st.sampled_from(INDEXES)),
    )


def _double(depth: int) -> st.SearchStrategy[str]:
    def sub(t: str) -> st.SearchStrategy[str]:
        return expr(t, depth)

    return st.one_of(
        _f("({0} {1} {2})", sub("double"), _pick("+", "-", "*"), sub("double")),
        _f("({0} / {1})", sub("double"), _pick("0.5", "2.0", "-4.0")),
        _f("-{0}", sub("double")),
        _f("double({0})", sub("int")),
        _pick('double("1.5")', 'double("abc")', 'double("-2")'),
    )


def _string(depth: int) -> st.SearchStrategy[str]:
    def sub(t: str) -> st.SearchStrategy[str]:
        return expr(t, depth)

    return st.one_of(
        _f("({0} + {1})", sub("string"), sub("string")),
        _f("({0} ? {1} : {2})", sub("bool"), sub("string"), sub("string")),
        _f("string({0})", sub("int")),
        _f("string({0})", sub("string")),
        _f("{0}[{1}]", _pick(*STRING_MAPS), _pick('"region"', '"env"', '"team"', '"a"')),
        _f("{0}[{1}]", sub("list_string"), st.sampled_from(INDEXES)),
    )


def _list_int(depth: int) -> st.SearchStrategy[str]:
    def sub(t: str) -> st.SearchStrategy[str]:
        return expr(t, depth)

    return st.one_of(
        _f("({0} + {1})", sub("list_int"), sub("list_int")),
        st.lists(sub("int"), max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        _f("{0}.map(x, {1})", sub("list_int"), _pick("x * 2", "x + 1", "-x")),
        _f("{0}.filter({1})", sub("list_int"), _predicate("list_int", depth, may_fail=False)),
        _f("{0}.map(k, size(k))", sub("map")),
    )


def _list_string(depth: int) -> st.SearchStrategy[str]:
    def sub(t: str) -> st.SearchStrategy[str]:
        return expr(t, depth)

    return st.one_of(
        _f("({0} + {1})", sub("list_string"), sub("list_string")),
        st.lists(sub("string"), max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        _f('{0}.filter(k, k != "env")', sub("map")),
    )


def _map(depth: int) -> st.SearchStrategy[str]:
    return st.one_of(
        _f("{{{0}: {1}, {2}: {3}}}", st.sampled_from(STRING_ATOMS[:6]), st.sampled_from(INT_ATOMS[:7]),
           st.sampled_from(STRING_ATOMS[:6]), _pick('"v"', "[1]", '{"k": "v"}')),  # no bools: see ``true + true``
        _f("({0} ? {1} : {2})", expr("bool", depth), expr("map", depth), expr("map", depth)),
    )


_COMPOUND = {"bool": _bool, "int": _int, "double": _double, "string": _string, "list_int": _list_int,
             "list_string": _list_string, "map": _map}


def _check(expression: str) -> None:
    program = cel.compile(expression)
    precise = program._evaluate.__globals__.get("_precise", program.evaluate)
    for activation, theirs in zip(ACTIVATIONS, oracle(expression, *ACTIVATIONS)):
        mine = ours(program, activation)
        assert mine == theirs, f"{expression!r}: ours={mine!r} cel-python={theirs!r}"
        assert program.matches(activation) == (mine is True), expression
        try:
            again = plain(precise(activation))
        except cel.CelEvalError:
            again = ERROR
        assert again == mine, f"{expression!r}: precise path gave {again!r}, fast path {mine!r}"


# Random examples explore new shapes on every local run; CI runs the same examples every time, so a
# cel-python quirk found by chance shows up here (and is added to the exclusions) rather than as a
# red CI run that nothing in the change caused.
_SETTINGS = settings(max_examples=1000, deadline=None, derandomize=bool(os.environ.get("CI")),
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                            HealthCheck.filter_too_much, HealthCheck.data_too_large])


@_SETTINGS
@given(expr("bool", 4))
def test_boolean_expressions_agree_with_cel_python(expression: str) -> None:
    _check(expression)


@_SETTINGS
@given(st.one_of(expr("int", 3), expr("double", 3), expr("string", 3)))
def test_scalar_expressions_agree_with_cel_python(expression: str) -> None:
    _check(expression)


@_SETTINGS
@given(st.one_of(expr("list_int", 3), expr("list_string", 3), expr("map", 3)))
def test_collection_expressions_agree_with_cel_python(expression: str) -> None:
    _check(expression)


# Precedence and associativity without parentheses, where the generator always adds them.
UNPARENTHESIZED = [
    "1 + 2 * 3 - 4 / 2 % 3", "10 - 3 - 2", "100 / 10 / 5", "-2 * -3 + 1", "!true || true", "!(true || true)",
    "true || false && false", "false && true || true", "1 < 2 == true", "2 + 3 == 5 && 3 * 2 == 6",
    "true ? 1 : 2 + 10", "false ? 1 : true ? 2 : 3", 'resource.kind == "VM" || resource.count > 5 && resource.config.enabled',
    '"a" + "b" + "c" == "abc"', "resource.ports[0] + 1 in [81, 8081]", "!!resource.config.enabled",
    'resource.metadata.region.startsWith("us") == !resource.metadata.region.startsWith("eu")',
    "size(resource.ports) * 2 > resource.count - 5", "[1, 2, 3].map(x, x * x).filter(y, y > 1) == [4, 9]",
    'resource.metadata.exists(k, k == "team") || resource.metadata.all(k, k.size() < 5)',
    '{"a": {"b": [1, {"c": true}]}}.a.b[1].c', "[[1, 2], [3]].exists(x, x.exists(y, y == 3))",
    'timestamp("2024-01-01T00:00:00Z") + duration("1h") > timestamp("2024-01-01T00:30:00Z")',
    'timestamp("2024-03-05T10:20:30Z").getDayOfYear() == 64', 'duration("90m") - duration("1h") == duration("30m")',
    'type(resource.count) == int && type(resource.kind) == string && type(resource.metadata) == map',
    "1u + 2u == 3u", "uint(5) / 2u", "b\"ab\" + b\"c\" == b\"abc\"", "size(b\"\\xff\\x00\")",
    '"\\u00e9t\\u00e9" == "été"', "r'\\n'.size() == 2", "'''multi\nline''' != \"\"", "0x1F + 1", "1e3 == 1000.0",
]


@pytest.mark.parametrize("expression", UNPARENTHESIZED)
def test_precedence_and_literals_agree_with_cel_python(expression: str) -> None:
    _check(expression)


def test_timestamps_in_the_activation_agree() -> None:
    when = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
    activation = {"version": {"created": when, "age": dt.timedelta(hours=3)}}
    for text in ['version.created > timestamp("2024-01-01T00:00:00Z")', "version.created + version.age",
                 'version.age < duration("4h")', "version.created.getMonth()"]:
        program = cel.compile(text)
        assert ours(program, activation) == oracle(text, activation), text
