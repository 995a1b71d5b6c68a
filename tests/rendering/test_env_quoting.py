"""Env-file quoting: a table of forms, and a round trip through models of the two readers (systemd's
EnvironmentFile= parser and compose-go's dotenv parser) written from their sources."""

from __future__ import annotations

import re

import pytest

from reconciler.errors import TemplateError
from reconciler.rendering.formats import env_line, env_lines, env_quote

TABLE = [
    ("", ""),
    (None, ""),
    ("plain-value_1.2:3@x/y+z,w=%", "plain-value_1.2:3@x/y+z,w=%"),
    (3, "3"),
    (True, "true"),
    ({"b": 1, "a": [1]}, "'{\"a\": [1], \"b\": 1}'"),
    ("hello world", "'hello world'"),
    (" leading space", "' leading space'"),
    ("a #b", "'a #b'"),
    ("$HOME and ${VAR}", "'$HOME and ${VAR}'"),
    ('say "hi"', "'say \"hi\"'"),
    ("back\\slash", "'back\\slash'"),
    ("line1\nline2", "'line1\nline2'"),
    ("tab\there", "'tab\there'"),
    ("é", "'é'"),
    ("it's", '"it\'s"'),
    ("it's $5 \\ `x` \"q\" #", '"it\'s \\$5 \\\\ `x` \\"q\\" #"'),
    ("ends in backslash\\", '"ends in backslash\\\\"'),
    ("it's\nmulti", '"it\'s\nmulti"'),
]


@pytest.mark.parametrize(("value", "quoted"), TABLE)
def test_quoting_table(value, quoted):
    assert env_quote(value) == quoted


def systemd_value(raw: str) -> str:
    """systemd env-file.c: PRE_VALUE → VALUE | SINGLE_QUOTE_VALUE | DOUBLE_QUOTE_VALUE."""
    raw = raw.lstrip(" \t")
    if raw[:1] == "'":
        return raw[1:raw.index("'", 1)]
    if raw[:1] == '"':
        out, i = [], 1
        while raw[i] != '"':
            if raw[i] == "\\":
                i += 1
                if raw[i] in '"\\`$':
                    out.append(raw[i])
                elif raw[i] != "\n":
                    out.append("\\" + raw[i])
            else:
                out.append(raw[i])
            i += 1
        return "".join(out)
    return raw.split("\n", 1)[0].rstrip(" \t")


def compose_value(raw: str) -> str:
    """compose-go dotenv/parser.go extractVarValue with no variables defined."""
    if raw[:1] not in ("'", '"'):
        return _expand(raw.split("\n", 1)[0].split("#")[0].rstrip())
    quote = raw[0]
    i = next(i for i in range(1, len(raw)) if raw[i] == quote and raw[i - 1] != "\\")
    value = raw[:i].rstrip(quote).lstrip(quote)
    if quote == '"':
        value = re.sub(r"\\.", lambda m: {"\\n": "\n", "\\r": "\r"}.get(m.group(0), m.group(0)), value)
        value = _expand(re.sub(r"\\([^$])", r"\1", value))
    return value


def _expand(value: str) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) == "\\" or m.group(3) == "(":
            return m.group(0)[1:]
        return "" if m.group(4) else m.group(0)

    return re.sub(r"(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?", sub, value)


ROUND_TRIP = [v for v, _ in TABLE if isinstance(v, str) and v]


@pytest.mark.parametrize("value", ROUND_TRIP)
def test_systemd_reads_back_the_value(value):
    assert systemd_value(env_quote(value)) == value


@pytest.mark.parametrize("value", [v for v in ROUND_TRIP if not v.endswith(("\\", '"'))])
def test_docker_compose_reads_back_the_value(value):
    assert compose_value(env_quote(value)) == value


def test_a_nul_character_is_refused():
    with pytest.raises(TemplateError, match="NUL"):
        env_quote("a\0b")


@pytest.mark.parametrize("key", ["1ABC", "A-B", "A B", ""])
def test_keys_must_be_variable_names(key):
    with pytest.raises(TemplateError, match="not a valid variable name"):
        env_line(key, "x")


def test_lines_keep_their_order_and_end_with_a_newline():
    assert env_lines([("B", "1"), ("A", "two words")]) == "B=1\nA='two words'\n"
