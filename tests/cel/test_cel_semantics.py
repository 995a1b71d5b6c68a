"""Evaluation semantics: operators, precedence, CEL's strict typing, error absorption by ``&&``,
``||`` and the macros, ``in``, indexing, field selection and ``has()``."""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import pytest

from reconciler.planning import cel
from reconciler.planning.cel import CelEvalError, Uint

RESOURCE = {
    "kind": "KubernetesCluster", "name": "prod-east", "count": 7, "ratio": 0.5, "flag": True, "nothing": None,
    "metadata": {"region": "us-east-1", "env": "prod"}, "ports": [80, 443], "tags": ["a", "b"],
    "config": {"nested": {"depth": 2}, "list": [{"x": 1}]},
}
ACTIVATION = {"resource": RESOURCE}
ERR = object()


def run(expression: str, activation: dict[str, Any] | None = None) -> Any:
    """The value, or ERR if evaluation fails; also checks matches() agrees with the value."""
    program = cel.compile(expression)
    activation = ACTIVATION if activation is None else activation
    try:
        value = program.evaluate(activation)
    except CelEvalError:
        value = ERR
    assert program.matches(activation) is (value is True), expression
    return value


def check(cases: list[tuple[str, Any]]) -> None:
    for expression, expected in cases:
        value = run(expression)
        if expected is ERR:
            assert value is ERR, f"{expression} should fail, got {value!r}"
        else:
            assert value == expected and type(value) is type(expected), f"{expression} = {value!r}, want {expected!r}"


def test_integer_arithmetic() -> None:
    check([
        ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("10 - 3 - 2", 5), ("7 / 2", 3), ("-7 / 2", -3), ("7 / -2", -3),
        ("-7 % 2", -1), ("7 % -2", 1), ("-7 % -2", -1), ("1 / 0", ERR), ("1 % 0", ERR), ("-(-3)", 3), ("--3", 3),
        ("9223372036854775807 + 1", ERR), ("-9223372036854775808 - 1", ERR), ("-9223372036854775808 / -1", ERR),
        ("4611686018427387904 * 2", ERR), ("resource.count * 2 - 4", 10),
    ])


def test_unsigned_and_double_arithmetic() -> None:
    check([
        ("1u + 2u", Uint(3)), ("1u - 2u", ERR), ("7u / 2u", Uint(3)), ("7u % 4u", Uint(3)), ("2u * 3u", Uint(6)),
        ("-1u", ERR), ("1u / 0u", ERR), ("18446744073709551615u + 1u", ERR),
        ("1.5 + 2.25", 3.75), ("0.5 - 1.0", -0.5), ("1.5 * 2.0", 3.0), ("1.0 / 4.0", 0.25), ("-resource.ratio", -0.5),
        ("5.5 % 2.0", ERR), ("1.0 / 0.0", math.inf), ("-1.0 / 0.0", -math.inf), ("1.0 / -0.0", -math.inf),
    ])
    assert math.isnan(run("0.0 / 0.0"))


def test_no_implicit_conversions() -> None:
    check([
        ('1 + "a"', ERR), ('"a" + 1', ERR), ("1 + 1.0", ERR), ("1.0 + 1", ERR), ("1 + 1u", ERR), ("1u + 1", ERR),
        ("true + true", ERR), ("[1] + 1", ERR), ('"a" * 2', ERR), ("-true", ERR), ('-"a"', ERR), ("!1", ERR),
        ('!"true"', ERR), ("1.5 > 1", ERR), ("1 < 1.5", ERR), ("1 < 2u", ERR), ("true < 1", ERR),
    ])


def test_concatenation() -> None:
    check([('"a" + "b" + "c"', "abc"), ("[1] + [2, 3]", [1, 2, 3]), ("[] + []", []), ('b"a" + b"b"', b"ab"),
           ('resource.name + "-" + resource.kind', "prod-east-KubernetesCluster"), ("resource.tags + [1]", ["a", "b", 1])])


def test_equality_follows_cel_python_for_mixed_types() -> None:
    check([
        ("1 == 1", True), ("1 != 2", True), ('"a" == "a"', True), ("1.5 == 1.5", True), ("true == true", True),
        ("null == null", True), ("resource.nothing == null", True), ("null == resource.nothing", True),
        ('resource.kind == null', False), ('null != "a"', True), ("null == 1", False), ("[1] == null", False),
        ("1 == 1.0", ERR), ("1.0 == 1", ERR), ("1 == 1u", ERR), ('1 == "1"', ERR), ('"1" == 1', ERR),
        ("true == 1", ERR), ("1 == true", ERR), ('[1] == "a"', ERR), ('{"a": 1} == 1', ERR),
        ('"a" == b"a"', False), ('"a" == true', False), ('true != "a"', True),
        ("[1, 2] == [1, 2]", True), ("[1, 2] == [1]", False), ('[1, "a"] == [1, "a"]', True),
        ('[1, "a"] == [1, 2]', ERR), ('[1, "a"] == [2, 2]', False), ("[[1]] == [[1]]", True),
        ('{"a": 1} == {"a": 1}', True), ('{"a": 1} == {"b": 1}', False), ('{"a": 1} == {"a": "x"}', ERR),
        ('{"a": 1, "b": 2} == {"b": 2, "a": 1}', True), ('{"a": 1} != {"a": "x"}', ERR),
        ('resource.metadata == {"region": "us-east-1", "env": "prod"}', True),
        ("resource.count == 7", True), ("7 == resource.count", True), ("resource.flag == true", True),
        ("resource.flag == 1", ERR), ("resource.ratio == 0.5", True), ("resource.ports == [80, 443]", True),
        ('type(1) == int', True), ('type(1) == string', False), ("type(1) == 1", ERR),
    ])
    assert math.isnan(cel.compile('double("NaN")').evaluate({}))
    check([('double("NaN") == double("NaN")', False), ('double("NaN") != double("NaN")', True)])


def test_ordering() -> None:
    check([
        ("1 < 2", True), ("2 <= 2", True), ("3 > 4", False), ("4 >= 4", True), ('"abc" < "abd"', True),
        ('"b" > "abc"', True), ("1.5 < 2.5", True), ("false < true", True), ("1u < 2u", True), ('b"a" < b"b"', True),
        ("[1] < [2]", ERR), ('{"a": 1} < {"a": 2}', ERR), ("null < null", ERR), ('"a" < 1', ERR),
        ("resource.count > 5", True), ("5 < resource.count", True), ("resource.name >= 'prod'", True),
        ('duration("1h") > duration("59m")', True),
        ('timestamp("2024-01-01T00:00:00Z") < timestamp("2024-01-01T01:00:00+02:00")', False),
    ])


def test_relations_share_one_precedence_level_and_associate_left() -> None:
    check([("1 < 2 == true", True), ("1 == 1 == true", True), ("1 in [1] == true", True), ("true == 1 in [1]", ERR),
           ("1 + 1 == 2 && 2 * 2 == 4 || false", True), ("!true || true", True), ("!(true || true)", False),
           ("true || false && false", True), ("false && true || true", True), ("true ? 1 : 2 + 10", 1),
           ("false ? 1 : true ? 2 : 3", 2), ("-2 * -3 + 1", 7), ('"a" + "b" == "ab"', True)])


@pytest.mark.parametrize(("expression", "expected"), [
    ("false && resource.missing", False), ("resource.missing && false", False),
    ("true || resource.missing", True), ("resource.missing || true", True),
    ("true && resource.missing", ERR), ("resource.missing && true", ERR),
    ("false || resource.missing", ERR), ("resource.missing || false", ERR),
    ("resource.missing || resource.gone", ERR), ("resource.missing && resource.gone", ERR),
    ("false && 1", False), ("1 && false", False), ("true && 1", ERR), ("1 && true", ERR), ("1 || true", True),
    ("1 || false", ERR), ("resource.count || true", True), ("resource.count && true", ERR),
    ("resource.missing == 1 || resource.missing == 2 || resource.kind == 'KubernetesCluster'", True),
    ("resource.kind == 'KubernetesCluster' && (resource.missing || true) && resource.count > 1", True),
    ("(resource.missing || false) && false", False), ("!(resource.missing && false)", True),
    ("true ? 1 : resource.missing", 1), ("false ? resource.missing : 2", 2), ("resource.missing ? 1 : 2", ERR),
    ("1 ? 2 : 3", ERR), ("resource.flag ? 'yes' : 'no'", "yes"), ("!resource.flag", False), ("!resource.count", ERR),
])
def test_logical_operators_absorb_errors_commutatively(expression: str, expected: Any) -> None:
    value = run(expression)
    assert value is expected if expected is ERR or isinstance(expected, bool) else value == expected


def test_matches_is_true_only_for_exactly_true() -> None:
    assert cel.compile("resource.count").matches(ACTIVATION) is False
    assert cel.compile("resource.flag").matches(ACTIVATION) is True
    assert cel.compile("'true'").matches(ACTIVATION) is False
    assert cel.compile("resource.missing").matches(ACTIVATION) is False
    assert cel.compile("1 / 0 == 1").matches(ACTIVATION) is False
    assert cel.compile("resource.missing || resource.count == 7").matches(ACTIVATION) is True
    assert cel.compile("!(resource.missing || false)").matches(ACTIVATION) is False


def test_in_for_lists_and_maps() -> None:
    check([
        ('"a" in ["a", "b"]', True), ('"c" in ["a", "b"]', False), ("2 in [1, 2]", True), ("1.5 in [1.5]", True),
        ('resource.metadata.region in ["us-east-1", "eu-west-1"]', True), ("resource.count in [1, 2]", False),
        ('resource.count in ["a", "b"]', ERR), ('"x" in [1, "x"]', True), ('"y" in [1, "x"]', ERR),
        ('1 in ["a"]', ERR), ("[1] in [[1], [2]]", True), ('"a" in []', False), ("null in [null]", True),
        ('"region" in resource.metadata', True), ('"team" in resource.metadata', False), ('"kind" in resource', True),
        ('1 in {"a": 1}', False), ('1 in {1: "a"}', True), ('"1" in {1: "a"}', False), ("[1] in {}", ERR),
        ('"a" in "abc"', ERR), ("1 in 1", ERR), ('"a" in resource.tags', True), ("resource.missing in [1]", ERR),
    ])


def test_field_selection_and_indexing() -> None:
    check([
        ("resource.metadata.region", "us-east-1"), ('resource.metadata["region"]', "us-east-1"),
        ('resource["kind"]', "KubernetesCluster"), ("resource.config.nested.depth", 2), ("resource.ports[0]", 80),
        ("resource.ports[1u]", 443), ("resource.ports[2]", ERR), ("resource.ports[-1]", ERR), ("resource.ports[1.0]", ERR),
        ('resource.ports["0"]', ERR), ("resource.config.list[0].x", 1), ('{"a": {"b": [1, {"c": true}]}}.a.b[1].c', True),
        ("{1: 'x', 2: 'y'}[2]", "y"), ("{true: 'y'}[true]", "y"),
        ("{1: 'x', true: 'y'}", ERR),  # Python dicts cannot hold both 1 and True: reported as a duplicate
        ('{"a": 1}.a', 1), ('"abc"[0]', ERR), ("resource.count.x", ERR),
        ("resource.nothing.x", ERR), ("resource.tags.x", ERR), ("resource.metadata[1.5]", ERR),
        ('{"a": 1, "a": 2}', ERR), ("{1.5: 1}", ERR), ("{[1]: 1}", ERR),
    ])
    with pytest.raises(CelEvalError, match=r"^no such key: 'b'$"):
        cel.compile("resource.a.b", allowed=("resource",)).evaluate({"resource": {"a": {}}})
    with pytest.raises(CelEvalError, match="does not support field selection"):
        cel.compile("resource.count.x").evaluate(ACTIVATION)
    with pytest.raises(CelEvalError, match="out of range"):
        cel.compile("resource.ports[5]").evaluate(ACTIVATION)


def test_has_reports_presence_without_failing() -> None:
    check([
        ("has(resource.metadata.region)", True), ("has(resource.metadata.team)", False), ("has(resource.nothing)", True),
        ("has(resource.nothing.x)", False), ("has(resource.count.x)", False), ("has(resource.missing.deeper.x)", False),
        ('has(resource.metadata["region"].x)', False), ("has(resource.config.list[0].x)", True),
        ("has(resource.config.list[3].x)", False), ('has({"a": 1}.a)', True), ("!has(resource.metadata.team)", True),
        ("has(resource.metadata.team) && resource.metadata.team == 'x'", False),
        ("has((1 / 0 > 1 || true ? resource : resource).kind)", True),
    ])
    program = cel.compile("has(version.tag)")
    assert program.evaluate({}) is False  # even an unbound variable
    assert program.matches({"version": {"tag": "1"}}) is True


def test_macros_on_lists_and_maps() -> None:
    check([
        ("[1, 2, 3].all(x, x > 0)", True), ("[1, 2, 3].all(x, x > 1)", False), ("[].all(x, false)", True),
        ("[1, 2, 3].exists(x, x > 2)", True), ("[].exists(x, true)", False), ("[1, 2, 3].exists_one(x, x > 1)", False),
        ("[1, 2, 3].exists_one(x, x > 2)", True), ("[1, 2, 3].map(x, x * 2)", [2, 4, 6]),
        ("[1, 2, 3].map(x, x > 1, x * 10)", [20, 30]), ("[1, 2, 3].filter(x, x % 2 == 1)", [1, 3]),
        ('resource.metadata.all(k, k.size() > 2)', True), ('resource.metadata.exists(k, k == "env")', True),
        ('resource.metadata.map(k, resource.metadata[k])', ["us-east-1", "prod"]),
        ('resource.metadata.filter(k, k.startsWith("r"))', ["region"]),
        ("resource.ports.all(resource, resource > 0)", True),  # the macro variable shadows `resource`
        ("[[1, 2], [3]].all(x, x.all(y, y > 0))", True), ("[1, 2].map(x, [10].map(y, x + y))", [[11], [12]]),
        ('"abc".all(c, true)', ERR), ("resource.count.exists(x, true)", ERR), ("resource.missing.all(x, true)", ERR),
    ])


def test_macro_error_absorption() -> None:
    check([
        ("[1, 0, 2].all(x, 10 / x > 0)", ERR), ("[1, 0, 2].all(x, 10 / x > 5)", False),
        ("[0, 1].exists(x, 10 / x > 0)", True), ("[0, 1].exists(x, 10 / x > 20)", ERR),
        ('[1, "a"].all(x, x > 0)', ERR), ('["a", 1].exists(x, x == 1)', True), ("[1, 2].all(x, x)", ERR),
        ("[1, 0].exists_one(x, 10 / x > 0)", ERR), ("[1, 0].map(x, 10 / x)", ERR), ("[1, 0].filter(x, 10 / x > 0)", ERR),
        ("[1, 2].filter(x, x)", ERR), ("[true, false].filter(x, x)", [True]),
    ])


def test_activation_values_of_other_mapping_and_sequence_types() -> None:
    from collections import OrderedDict

    class Name(str):
        pass

    activation = {"resource": MappingProxyType({
        "kind": Name("VM"), "metadata": OrderedDict(region="eu"), "ports": (1, 2), "flag": True,
    })}
    assert cel.compile('resource.kind == "VM" && resource.metadata.region == "eu"').matches(activation)
    assert cel.compile("resource.ports[1] == 2 && 2 in resource.ports && size(resource.ports) == 2").matches(activation)
    assert cel.compile('resource.kind.startsWith("V") && "region" in resource.metadata').matches(activation)
    assert cel.compile("resource.ports.map(p, p * 2) == [2, 4]").matches(activation)
    assert cel.compile("has(resource.metadata.region)").matches(activation)
    assert run("type(resource.kind) == string", activation) is True
