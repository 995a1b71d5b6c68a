"""Built-in functions and methods, conversions, timestamps and durations, type values, custom
functions and the semver helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reconciler.planning import cel
from reconciler.planning.cel import CelEvalError, Uint

UTC = dt.UTC
ACTIVATION = {"resource": {"name": "Prod-East", "tags": ["a"], "metadata": {"a": "1"}, "count": 3, "raw": b"\xff"},
              "version": {"tag": "v1.4.2", "created": dt.datetime(2024, 3, 5, 10, 20, 30, 250000, tzinfo=UTC),
                          "naive": dt.datetime(2024, 3, 5, 10, 20, 30), "age": dt.timedelta(hours=2, seconds=5)}}
ERR = object()


def value(expression: str, **kwargs: Any) -> Any:
    try:
        return cel.compile(expression, **kwargs).evaluate(ACTIVATION)
    except CelEvalError:
        return ERR


def check(cases: list[tuple[str, Any]]) -> None:
    for expression, expected in cases:
        result = value(expression)
        if expected is ERR:
            assert result is ERR, f"{expression} should fail, got {result!r}"
        else:
            assert result == expected and type(result) is type(expected), f"{expression} = {result!r}, want {expected!r}"


def test_size() -> None:
    check([('size("abc")', 3), ('size("été")', 3), ('"abc".size()', 3), ('size(b"\\xc3\\xa9")', 2), ("size([1, 2])", 2),
           ("size({})", 0), ("resource.metadata.size()", 1), ("size(resource.tags)", 1), ("size(1)", ERR),
           ("size(null)", ERR), ("size(true)", ERR)])


def test_string_functions() -> None:
    check([
        ('resource.name.contains("East")', True), ('resource.name.contains("east")', False), ('"".contains("")', True),
        ('resource.name.startsWith("Prod")', True), ('resource.name.endsWith("East")', True),
        ('resource.name.startsWith(resource.name)', True), ("resource.name.startsWith(1)", ERR),
        ('resource.count.startsWith("3")', ERR), ('resource.tags.contains("a")', ERR),
        ('resource.name.matches("^Prod-[A-Z]")', True), ('resource.name.matches("east")', False),
        ('matches(resource.name, "t$")', True), ('resource.name.matches(resource.metadata.a)', False),
        ('resource.name.matches("(?i)prod")', True),
        ('resource.name.lowerAscii()', "prod-east"), ('resource.name.upperAscii()', "PROD-EAST"),
        ('"ÉTÉ".lowerAscii()', "ÉtÉ"), ('"éte".upperAscii()', "éTE"), ("resource.count.lowerAscii()", ERR),
    ])
    # a pattern computed at runtime is compiled then; an invalid one is an evaluation error
    with pytest.raises(CelEvalError, match="invalid regular expression"):
        cel.compile("resource.name.matches(resource.name + '[')").evaluate(ACTIVATION)


def test_conversions() -> None:
    check([
        ('int("42")', 42), ('int("-7")', -7), ('int("+7")', 7), ('int(" 7")', ERR), ('int("0x10")', ERR), ('int("1.5")', ERR),
        ("int(2.9)", 2), ("int(-2.9)", -2), ("int(1e19)", ERR), ('int(double("inf"))', ERR), ("int(5u)", 5),
        ("int(true)", ERR), ("int(timestamp('2024-01-01T00:00:01Z'))", 1704067201),
        ('uint("42")', Uint(42)), ("uint(-1)", ERR), ("uint(2.5)", Uint(2)), ("uint(7)", Uint(7)),
        ('double("1.5")', 1.5), ('double("1e3")', 1000.0), ('double("-2")', -2.0), ("double(3)", 3.0), ("double(3u)", 3.0),
        ('double("abc")', ERR), ('double(" 1")', ERR), ('double("1_0")', ERR), ("double(true)", ERR),
        ("string(42)", "42"), ("string(-1)", "-1"), ("string(7u)", "7"), ('string("s")', "s"),
        ("string(true)", "true"), ("string(false)", "false"), ("string(1.0)", "1"), ("string(1.5)", "1.5"),
        ("string(0.1)", "0.1"), ("string(1e6)", "1e+06"), ("string(123456.0)", "123456"), ("string(1.5e-5)", "1.5e-05"),
        ("string(-0.0)", "-0"), ('string(b"caf\\xc3\\xa9")', "café"), ("string(resource.raw)", ERR), ("string(null)", ERR),
        ("string([1])", ERR), ('string(timestamp("2024-01-01T10:00:00.500+02:00"))', "2024-01-01T08:00:00.5Z"),
        ('string(duration("1h30m"))', "5400s"), ('string(duration("-1.5s"))', "-1.5s"),
        ('bool("true")', True), ('bool("FALSE")', False), ('bool("1")', True), ('bool("f")', False), ('bool("yes")', ERR),
        ("bool(1)", ERR), ('bytes("é")', b"\xc3\xa9"), ("bytes(1)", ERR), ("dyn(1) + 1", 2),
    ])


def test_type_values() -> None:
    check([
        ("type(1) == int", True), ("type(1u) == uint", True), ("type(1.5) == double", True), ("type('a') == string", True),
        ("type(true) == bool", True), ("type(b'') == bytes", True), ("type([]) == list", True), ("type({}) == map", True),
        ("type(null) == null_type", True), ("type(int) == type", True), ("type(resource) == map", True),
        ("type(resource.count) == type(1)", True), ("type(1) == type('1')", False), ("type(version.created) == int", False),
    ])
    assert repr(value("type(version.age)")) == "google.protobuf.Duration"


def test_timestamps_and_durations() -> None:
    check([
        ('timestamp("2024-01-01T00:00:00Z")', dt.datetime(2024, 1, 1, tzinfo=UTC)),
        ('timestamp("2024-01-01T02:00:00+02:00") == timestamp("2024-01-01T00:00:00Z")', True),
        ('timestamp("2024-01-01T00:00:00.123456789Z")', dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ('timestamp("2024-01-01")', ERR), ('timestamp("2024-13-01T00:00:00Z")', ERR), ('timestamp("soon")', ERR),
        ("timestamp(0)", dt.datetime(1970, 1, 1, tzinfo=UTC)),
        ('duration("1h30m")', dt.timedelta(minutes=90)), ('duration("1.5h")', dt.timedelta(minutes=90)),
        ('duration("-2m3s")', -dt.timedelta(minutes=2, seconds=3)), ('duration("250ms")', dt.timedelta(milliseconds=250)),
        ('duration("3us") == duration("3µs")', True), ('duration("0")', dt.timedelta(0)), ('duration("1d")', ERR),
        ('duration("")', ERR), ('duration("1")', ERR), ('duration("h")', ERR),
        ('version.created + duration("1h") == timestamp("2024-03-05T11:20:30.25Z")', True),
        ('duration("1h") + version.created == version.created + duration("1h")', True),
        ('version.created - timestamp("2024-03-05T10:20:30Z")', dt.timedelta(milliseconds=250)),
        ('version.created - duration("30s") < version.created', True), ("version.created + version.created", ERR),
        ('version.age + duration("55s") == duration("2h1m")', True), ('-version.age < duration("0")', True),
        ('version.naive == timestamp("2024-03-05T10:20:30Z")', True),  # naive datetimes are UTC
        ("version.created.getFullYear()", 2024), ("version.created.getMonth()", 2), ("version.created.getDate()", 5),
        ("version.created.getDayOfMonth()", 4), ("version.created.getDayOfWeek()", 2), ("version.created.getDayOfYear()", 64),
        ("version.created.getHours()", 10), ("version.created.getMinutes()", 20), ("version.created.getSeconds()", 30),
        ("version.created.getMilliseconds()", 250), ('version.created.getHours("America/New_York")', 5),
        ('version.created.getHours("+05:30")', 15), ('version.created.getMinutes("-01:15")', 5),
        ('version.created.getHours("Mars/Olympus")', ERR), ("version.age.getHours()", 2), ("version.age.getMinutes()", 120),
        ("version.age.getSeconds()", 7205), ("version.age.getFullYear()", ERR), ("resource.count.getHours()", ERR),
    ])


def test_custom_functions_receive_evaluated_arguments() -> None:
    calls: list[tuple[Any, ...]] = []

    def region_of(name: str, index: int) -> str:
        calls.append((name, index))
        return name.split("-")[index]

    functions = {"regionOf": region_of, "boom": lambda: 1 / 0}
    program = cel.compile('regionOf(resource.name, 1) == "East"', functions=functions)
    assert program.matches(ACTIVATION) is True and calls == [("Prod-East", 1)]
    assert program.variables == {"resource"}
    with pytest.raises(CelEvalError, match="function 'boom' failed: division by zero"):
        cel.compile("boom()", functions=functions).evaluate(ACTIVATION)
    assert cel.compile("boom() == 1 || true", functions=functions).matches(ACTIVATION) is True
    # a custom function may shadow a built-in global
    assert cel.compile("size('abc')", functions={"size": lambda s: -1}).evaluate({}) == -1
    with pytest.raises(cel.CelSyntaxError, match="unknown function 'regionOf'"):
        cel.compile("regionOf(resource.name, 1)")


@pytest.mark.parametrize(("expression", "expected"), [
    ('semverSatisfies(version.tag, ">=1.2.0 <2.0.0")', True), ('semverSatisfies(version.tag, "^1.5")', False),
    ('version.tag.semverSatisfies("~1.4.0")', True), ('version.tag.semverSatisfies("1.x || >=3")', True),
    ('semverSatisfies("not-a-version", "*")', False), ('semverSatisfies("1.2.3-beta.1", ">=1.2.0")', False),
    ('semverSatisfies("1.2.3-beta.1", ">=1.2.3-alpha")', True), ('semverSatisfies(version.tag, version.tag)', True),
    ('semverSatisfies(1, "*")', ERR), ('semverSatisfies(version.tag, resource.name)', ERR),
    ('semverCompare("1.2.3", "1.10.0")', -1), ('semverCompare("v2.0.0", "2.0.0")', 0), ('semverCompare("2.0.0", "2.0.0-rc.1")', 1),
    ('version.tag.semverCompare("1.4.1")', 1), ('semverCompare("x", "1.0.0")', ERR),
])
def test_semver_functions(expression: str, expected: Any) -> None:
    result = value(expression)
    assert result is expected if expected is ERR or isinstance(expected, bool) else result == expected
