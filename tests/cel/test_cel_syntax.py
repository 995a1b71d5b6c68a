"""Parsing and compile-time checks: syntax errors with exact messages and 1-based columns,
unknown variables and functions, literal decoding, reserved words."""

from __future__ import annotations

import pytest

from reconciler.planning import cel
from reconciler.planning.cel import CelSyntaxError, Uint


def error(expression: str, **kwargs: object) -> CelSyntaxError:
    with pytest.raises(CelSyntaxError) as info:
        cel.compile(expression, **kwargs)  # type: ignore[arg-type]
    assert info.value.expression == expression
    return info.value


@pytest.mark.parametrize(("expression", "message", "column"), [
    ("resource.kind == )", "unexpected token ')' at column 18; expected an operand", 18),
    ('resource.kind == "a" && )', "unexpected token ')' at column 25; expected an operand", 25),
    ("resource.kind ==", "unexpected end of expression at column 17; expected an operand", 17),
    ("(resource.kind", "unexpected end of expression at column 15; expected ')'", 15),
    ("resource.kind resource", "unexpected token 'resource' at column 15; expected an operator or the end of the expression", 15),
    ("[1, 2", "unexpected end of expression at column 6; expected ']' or ','", 6),
    ("resource.", "unexpected end of expression at column 10; expected a name", 10),
    ("resource.kind = 'a'", "unexpected character '=' at column 15; use '==' to compare", 15),
    ("resource.kind & true", "unexpected character '&' at column 15; use '&&' for logical and", 15),
    ('resource.kind == "abc', "unterminated string literal at column 18", 18),
    ("resource.kind # x", "unexpected character '#' at column 15", 15),
    ("true ? 1", "unexpected end of expression at column 9; expected an operator or ':'", 9),
    ("f(1,", "unexpected end of expression at column 5; expected an operand", 5),
    ("(a))", "unexpected token ')' at column 4; expected the end of the expression", 4),
    ("1 +* 2", "unexpected token '*' at column 4; expected an operand", 4),
    ('"\\q"', "invalid escape sequence '\\q' in string literal at column 2", 2),
    ('"ok" + "\\u12"', "escape '\\u' needs 4 hex digits at column 9", 9),
    ('"\\ud800"', "invalid unicode escape '\\ud800' at column 2", 2),
    ("if == 1", "reserved word 'if' cannot be used as a name at column 1", 1),
    ("resource{kind: 1}", "message construction is not supported at column 9", 9),
    ("   ", None, None),  # blank is the match-nothing shortcut, not an error
])
def test_syntax_errors_have_messages_and_columns(expression: str, message: str | None, column: int | None) -> None:
    if message is None:
        assert cel.compile(expression).constant is False
        return
    exc = error(expression)
    assert str(exc) == message
    assert exc.message == message
    assert exc.column == column


def test_multi_line_expressions_report_line_and_column_but_keep_the_offset_column() -> None:
    exc = error('resource.kind == "a" &&\n  resource.name == )')
    assert str(exc) == "unexpected token ')' at line 2, column 20; expected an operand"
    assert exc.line == 2
    assert exc.column == 44  # 1-based offset in the whole expression


def test_syntax_errors_survive_pickling() -> None:
    import pickle

    exc = pickle.loads(pickle.dumps(error("resource.kind == )")))
    assert (exc.expression, exc.message, exc.column, exc.line) == (
        "resource.kind == )", "unexpected token ')' at column 18; expected an operand", 18, 1)


def test_unknown_variable_names_the_known_ones_and_points_at_the_identifier() -> None:
    exc = error('resource.kind == "a" && resourse.name == "b"')
    assert str(exc) == "unknown variable 'resourse'; known: deployment, environment, resource, version"
    assert exc.column == 25


def test_allowed_variables_are_configurable() -> None:
    assert cel.compile("result.status == 'ok'", allowed=("result",)).variables == {"result"}
    assert cel.compile("from.id == to.id", allowed=["from", "to"]).variables == {"from", "to"}
    exc = error("resource.kind == 'a'", allowed=("result",))
    assert str(exc) == "unknown variable 'resource'; known: result"
    assert error("x", allowed=()).message == "unknown variable 'x'; known: none"


def test_macro_variables_are_in_scope_only_inside_the_macro() -> None:
    assert cel.compile("resource.ports.all(p, p > 0)").variables == {"resource"}
    exc = error("resource.ports.all(p, p > 0) && p > 1")
    assert exc.message.startswith("unknown variable 'p'") and exc.column == 33


@pytest.mark.parametrize(("expression", "message", "column"), [
    ('resource.kind == "a" && foo(1)', "unknown function 'foo'", 25),
    ("resource.name.shout()", "unknown method 'shout'", 15),
    ("contains(resource.name, 'a')", "contains() is a method; write x.contains(…)", 1),
    ("size(1, 2)", "size() takes 1 argument, got 2", 1),
    ("resource.name.startsWith()", "startsWith() takes 1 argument, got 0", 15),
    ("resource.ports.map(x)", "map() takes 2 or 3 arguments, got 1", 16),
    ("resource.ports.all(1, true)", "all() needs a variable name first; e.g. all(x, …)", 20),
    ("has(resource)", "has() needs a field selection; e.g. has(resource.metadata.team)", 1),
    ("has(resource.ports[0])", "has() needs a field selection; e.g. has(resource.metadata.team)", 1),
    ("9223372036854775808 > 1", "integer literal 9223372036854775808 is out of range", 1),
    ("18446744073709551616u > 1u", "uint literal 18446744073709551616u is out of range at column 1", 1),
])
def test_compile_time_errors_for_names_and_arguments(expression: str, message: str, column: int) -> None:
    exc = error(expression)
    assert (exc.message, exc.column) == (message, column)


def test_literal_regex_and_semver_range_are_validated_at_compile_time() -> None:
    exc = error('resource.name.matches("[a-")')
    assert exc.message.startswith("invalid regular expression '[a-'")
    assert exc.column == 23
    exc = error('semverSatisfies(version.tag, ">=1.2 <two")')
    assert exc.message == "invalid semver range '>=1.2 <two': cannot parse '<two'"
    assert exc.column == 30
    exc = error('version.tag.semverSatisfies("~banana")')
    assert exc.column == 29
    # Non-literal arguments are checked when evaluated instead.
    program = cel.compile("semverSatisfies(version.tag, version.metadata.range)")
    with pytest.raises(cel.CelEvalError, match="invalid semver range"):
        program.evaluate({"version": {"tag": "1.0.0", "metadata": {"range": ">>1"}}})


@pytest.mark.parametrize(("text", "value"), [
    ("42", 42), ("0x1F", 31), ("-7", -7), ("-9223372036854775808", -(2**63)), ("7u", Uint(7)), ("0x10U", Uint(16)),
    ("1.5", 1.5), (".5", 0.5), ("1e3", 1000.0), ("2.5E-1", 0.25), ("-0.0", -0.0),
    ('"a\\tb"', "a\tb"), ("'it\\'s'", "it's"), ('"\\x41\\101\\u00e9\\U0001F600"', "AAé😀"),
    ('"\\a\\b\\f\\n\\r\\v\\\\\\?\\`"', "\a\b\f\n\r\v\\?`"), ("r'\\d+\\n'", "\\d+\\n"), ('R"\\"', "\\"),
    ('"""a\n"b"\nc"""', 'a\n"b"\nc'), ("'''x''' + r'''\\y'''", "x\\y"),
    ('b"\\xff\\x00"', b"\xff\x00"), ("b'\\377é'", b"\xff\xc3\xa9"), ("br'\\x'", b"\\x"), ('B"a"', b"a"),
    ("true", True), ("false", False), ("null", None), ("[]", []), ("[1, 2,]", [1, 2]), ("{}", {}),
    ('{"a": 1, 2: "b",}', {"a": 1, 2: "b"}), ("// leading comment\n 1 + 1 // trailing", 2),
])
def test_literals(text: str, value: object) -> None:
    result = cel.compile(text).evaluate({})
    assert result == value and type(result) is type(value)


def test_identifiers_may_look_like_keywords_or_prefixes() -> None:
    activation = {"resource": {"index": 1, "in": 2, "true": 3, "rb": 4, "nullable": 5}}
    assert cel.compile("resource.index + resource.in + resource.true").evaluate(activation) == 6
    assert cel.compile("resource.rb + resource.nullable").evaluate(activation) == 9
    assert cel.compile(".resource.index").evaluate(activation) == 1  # leading dot: root scope


def test_deeply_nested_expressions_are_rejected_cleanly() -> None:
    deep = "(" * 40 + "1" + ")" * 40
    assert cel.compile(deep).evaluate({}) == 1
    exc = error("!" * 400 + "true")
    assert "too deeply nested" in exc.message
