"""Programs: the match-all/match-nothing shortcuts, caching, referenced variables, unbound
variables, the generated fast path, and ``shorthand_to_cel``."""

from __future__ import annotations

import dataclasses
import timeit
from typing import Any

import pytest

from reconciler.planning import cel
from reconciler.planning.cel import CelEvalError, Program

RESOURCES = [
    {"kind": "KubernetesCluster", "name": "a", "metadata": {"region": "us-east-1", "app.kubernetes.io/name": "web"}},
    {"kind": "KubernetesCluster", "name": "b", "metadata": {"region": "eu-west-1"}},
    {"kind": "VM", "name": "c", "metadata": {"region": "us-east-1", "say": 'he said "hi"\\'}},
    {"kind": "VM", "name": "d", "metadata": {}},
]


@pytest.mark.parametrize(("text", "constant"), [("", False), ("   ", False), ("false", False), (" false\n", False),
                                                ("true", True), ("  true ", True)])
def test_shortcuts_are_constants(text: str, constant: bool) -> None:
    program = cel.compile(text)
    assert program.constant is constant
    assert program.variables == frozenset()
    assert program.source == text
    assert program.matches({}) is constant and program.matches({"resource": {}}) is constant
    assert program.evaluate({}) is constant


def test_constant_matches_is_nearly_free() -> None:
    program = cel.compile("true")
    per_call = min(timeit.repeat(lambda: program.matches(None), number=20000, repeat=3)) / 20000  # type: ignore[arg-type]
    assert per_call < 1e-6


def test_other_expressions_are_not_constant() -> None:
    assert cel.compile("true && true").constant is None
    assert cel.compile("1 == 1").evaluate({}) is True


def test_programs_are_cached_by_text_allowed_and_functions() -> None:
    first = cel.compile("resource.kind == 'VM'")
    assert cel.compile("resource.kind == 'VM'") is first
    assert cel.compile("resource.kind == 'VM'", allowed=("resource",)) is not first
    assert cel.compile("resource.kind == 'VM'", allowed=["resource"]) is cel.compile("resource.kind == 'VM'", allowed=("resource",))
    fn = lambda x: x
    with_fn = cel.compile("f(resource.kind) == 'VM'", functions={"f": fn})
    assert cel.compile("f(resource.kind) == 'VM'", functions={"f": fn}) is with_fn
    assert cel.compile("f(resource.kind) == 'VM'", functions={"f": lambda x: x}) is not with_fn


def test_program_is_a_frozen_value() -> None:
    program = cel.compile("resource.kind == 'VM' && version.tag != ''")
    assert isinstance(program, Program)
    assert program.source == "resource.kind == 'VM' && version.tag != ''"
    assert program.variables == frozenset({"resource", "version"})
    assert program.constant is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.source = "x"  # type: ignore[misc]
    assert "resource.kind" in repr(program)


def test_unbound_variables_fail_only_when_reached() -> None:
    program = cel.compile("resource.kind == 'VM' || version.tag == '1'")
    assert program.matches({"resource": {"kind": "VM"}}) is True
    assert program.evaluate({"resource": {"kind": "VM"}}) is True
    assert program.matches({"resource": {"kind": "K"}}) is False
    with pytest.raises(CelEvalError, match="no value for variable 'version'"):
        program.evaluate({"resource": {"kind": "K"}})
    ternary = cel.compile("true ? 1 : version.tag")
    assert ternary.evaluate({}) == 1


def test_evaluate_errors_carry_cel_messages() -> None:
    cases = {
        "resource.metadata.team == 'x'": "no such key: 'team'",
        "resource.name + 1": "no such overload: string + int",
        "resource.name.size() / 0": "division by zero",
        "resource.name.size() < 'a'": "no such overload: int < string",
        "!resource.name": "no such overload: !(string)",
        "resource.kind == 'VM' && resource.nope": "no such key: 'nope'",
        "resource.kind || false": "no such overload: '||' needs bool operands, got string",
    }
    for text, message in cases.items():
        with pytest.raises(CelEvalError) as info:
            cel.compile(text).evaluate({"resource": RESOURCES[3]})
        assert str(info.value) == message, text


def test_matches_agrees_with_evaluate_on_every_path() -> None:
    expressions = [
        'resource.metadata.region == "us-east-1" && resource.kind == "KubernetesCluster"',
        'resource.metadata.region == "us-east-1" || resource.kind == "VM"',
        '(resource.metadata.team == "x" || resource.kind == "VM") && resource.name != "d"',
        '!(resource.metadata.region.startsWith("us") && resource.kind == "VM")',
        'resource.metadata.exists(k, resource.metadata[k].contains("\\""))',
        'has(resource.metadata.region) ? resource.metadata.region.endsWith("-1") : resource.kind == "VM"',
        'resource.name in ["a", "c"] && "region" in resource.metadata',
    ]
    for text in expressions:
        program = cel.compile(text)
        for resource in RESOURCES:
            activation = {"resource": resource}
            try:
                expected = program.evaluate(activation) is True
            except CelEvalError:
                expected = False
            assert program.matches(activation) is expected, (text, resource["name"])


def test_typical_selector_is_fast() -> None:
    program = cel.compile('resource.metadata["region"] == "us-east-1" && resource.kind == "KubernetesCluster"')
    activation = {"resource": RESOURCES[0]}
    per_call = min(timeit.repeat(lambda: program.matches(activation), number=20000, repeat=5)) / 20000
    assert per_call < 5e-6  # typically ~0.2 µs; generous for loaded CI machines


# ---- shorthand ----------------------------------------------------------------------------------

def test_shorthand_example() -> None:
    text = cel.shorthand_to_cel({"kind": "KubernetesCluster", "metadata": {"region": "us-east-1"}}, "resource")
    assert text == 'resource.kind == "KubernetesCluster" && resource.metadata["region"] == "us-east-1"'


@pytest.mark.parametrize(("shorthand", "text"), [
    ({}, "true"),
    ({"metadata": {}}, "true"),
    ({"name": "a"}, 'resource.name == "a"'),
    ({"name": ["a", "c"]}, 'resource.name in ["a", "c"]'),
    ({"name": []}, "resource.name in []"),
    ({"metadata": {"region": "us-east-1", "app.kubernetes.io/name": "web"}},
     'resource.metadata["app.kubernetes.io/name"] == "web" && resource.metadata["region"] == "us-east-1"'),
    ({"config": {"a": {"b": 1}}}, 'resource.config["a"]["b"] == 1'),
    ({"weird key": True, "in": None}, 'resource["in"] == null && resource["weird key"] == true'),
    ({"replicas": 3, "ratio": 0.5, "big": 1e20, "whole": 2.0},
     "resource.big == 1e+20 && resource.ratio == 0.5 && resource.replicas == 3 && resource.whole == 2.0"),
    ({"say": 'he said "hi"\\'}, 'resource.say == "he said \\"hi\\"\\\\"'),
    ({"tab": "a\tb\nc\x01é"}, 'resource.tab == "a\\tb\\nc\\x01é"'),
])
def test_shorthand_rendering(shorthand: dict[str, Any], text: str) -> None:
    assert cel.shorthand_to_cel(shorthand, "resource") == text
    cel.compile(text)  # always valid CEL


@pytest.mark.parametrize(("shorthand", "names"), [
    ({"kind": "KubernetesCluster"}, ["a", "b"]),
    ({"kind": "VM", "metadata": {"region": "us-east-1"}}, ["c"]),
    ({"metadata": {"region": ["us-east-1", "eu-west-1"]}}, ["a", "b", "c"]),
    ({"metadata": {"app.kubernetes.io/name": "web"}}, ["a"]),
    ({"metadata": {"say": 'he said "hi"\\'}}, ["c"]),
    ({"name": ["b", "d"], "kind": ["VM"]}, ["d"]),
    ({}, ["a", "b", "c", "d"]),
])
def test_shorthand_selects_the_intended_resources(shorthand: dict[str, Any], names: list[str]) -> None:
    program = cel.compile(cel.shorthand_to_cel(shorthand, "resource"), allowed=("resource",))
    assert [r["name"] for r in RESOURCES if program.matches({"resource": r})] == names


def test_shorthand_for_other_entities_and_invalid_input() -> None:
    assert cel.shorthand_to_cel({"name": "prod"}, "environment") == 'environment.name == "prod"'
    with pytest.raises(ValueError, match="not a CEL variable name"):
        cel.shorthand_to_cel({"name": "x"}, "not valid")
    with pytest.raises(TypeError, match="keys must be strings"):
        cel.shorthand_to_cel({1: "x"}, "resource")  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="may only hold scalars"):
        cel.shorthand_to_cel({"tags": [["a"]]}, "resource")
    with pytest.raises(TypeError, match="has no CEL literal"):
        cel.shorthand_to_cel({"when": object()}, "resource")
    with pytest.raises(ValueError, match="has no CEL literal"):
        cel.shorthand_to_cel({"ratio": float("nan")}, "resource")
    with pytest.raises(TypeError, match="must be a map"):
        cel.shorthand_to_cel(["kind"], "resource")  # type: ignore[arg-type]
