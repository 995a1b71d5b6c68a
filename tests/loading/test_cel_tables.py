"""The CEL parser's tables are kept as JSON in the cache folder: a parser loaded from them parses
and reports errors exactly as one built from the grammar, and a missing, stale or damaged file
only means building from the grammar (and writing the file) again."""

from __future__ import annotations

import json

import lark
import pytest

from reconciler.loading import celtables
from reconciler.planning.cel import CelSyntaxError
from reconciler.planning.cel import parser

EXPRESSIONS = [
    'resource.metadata["env"] == "prod" && resource.kind in ["a", "b"]',
    "size(x) > 2u ? -1.5e3 : {'k': [1, 2]}.k[0]",
    "b'\\x00' + r'\\d' + \"\\u00e9\"", "!a || (b && c.exists(e, e > 1))",
    "resource.kind == )", "(resource.kind", "resource.kind = 'a'", '"\\q"', "if == 1", "a b",
]


def _outcomes() -> list[str]:
    out = []
    for text in EXPRESSIONS:
        try:
            out.append(repr(parser.parse(text)))
        except CelSyntaxError as exc:
            out.append(f"error: {exc}")
    return out


@pytest.fixture()
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(parser, "_PARSER", None)
    return tmp_path


def _never_build(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the parser was built from the grammar")

    monkeypatch.setattr(lark.Lark, "__init__", refuse)


def test_a_parser_from_cached_tables_parses_and_fails_like_one_built_from_the_grammar(fresh, monkeypatch):
    built = _outcomes()  # (built from the grammar by the first parse)
    assert any(o.startswith("error:") for o in built) and any(not o.startswith("error:") for o in built)
    monkeypatch.setattr(parser, "_PARSER", None)
    celtables.prime()  # builds, then writes the tables
    files = list(fresh.rglob("cel-*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["key"] == parser.tables_key()
    monkeypatch.setattr(parser, "_PARSER", None)
    _never_build(monkeypatch)
    celtables.prime()
    assert parser.built()
    assert _outcomes() == built


@pytest.mark.parametrize("damage", ["garbage", "other key", "truncated"])
def test_damaged_or_stale_tables_are_rebuilt_not_trusted(fresh, monkeypatch, damage):
    celtables.prime()
    path = next(fresh.rglob("cel-*.json"))
    good = path.read_text()
    bad = {"garbage": "\x00not json", "other key": good.replace(parser.tables_key(), "0" * 24),
           "truncated": good[: len(good) // 2]}[damage]
    path.write_text(bad)
    monkeypatch.setattr(parser, "_PARSER", None)
    assert not parser.load_tables(bad)
    celtables.prime()
    assert parser.built() and json.loads(path.read_text())["key"] == parser.tables_key()  # written again
    monkeypatch.setattr(parser, "_PARSER", None)
    _never_build(monkeypatch)
    celtables.prime()
    assert repr(parser.parse("a.b == 1")).startswith("Node(")
