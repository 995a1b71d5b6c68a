"""The fast YAML path gives exactly what ruamel.yaml's safe loader gives, or steps aside."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler.loading import yaml_fast
from reconciler.loading.yaml_reader import parse_file

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for folder in ("examples", "tests") for p in (ROOT / folder).rglob("*.y*ml")
               if p.suffix in (".yaml", ".yml") and ".reconciler" not in p.parts)
TRICKY = ["yes", "no", "on", "off", "y", "n", "True", "TRUE", "false", "0o17", "017", "0017", "1_000", "0x1F",
          "0b101", "1e3", "1.5e3", "+1", "-0", ".5", "1.", ".inf", "-.inf", "~", "null", "NULL", "Null", "",
          "2026-11-20", "2026-11-20T09:00:00Z", "2026-11-20 09:00:00.5 +01:00", "12:30:00", "190:20:30", "1:20",
          "0.1.2", "v1", "1e", "0x", "1__0", "-1_0", "+.5", "6.8523015e+5", "685.230_15e+03", "0.", "-1.5E-3",
          "'017'", '"yes"', "[1, 2]", "{a: 1}", "!!str 12", "- x", "|\n  two\n  lines",
          ".0E0", ".5e+3", "-.5", "1e", "_1", "-_1", "0o", "0b", "1_0.5", "0x_f"]  # .0E0: a string in YAML 1.2


def ruamel(data: bytes) -> list:
    return list(YAML(typ="safe", pure=False).load_all(data))


def fast_or_none(data: bytes) -> list | None:
    """What the fast path loads, or None when it hands the input to ruamel."""
    try:
        return yaml_fast.load_all(data)
    except yaml_fast.FastPathError:
        return None


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_of_the_project_loads_the_same(path):
    data = path.read_bytes()
    fast = fast_or_none(data)
    assert fast is None or fast == ruamel(data)  # None: the full loader takes it (and reports any error)


@pytest.mark.parametrize("scalar", TRICKY)
def test_tricky_scalars_resolve_as_yaml_1_2(scalar):
    doc = f"a: {scalar}\n".encode()
    fast = fast_or_none(doc)
    if fast is None:
        return
    expected = ruamel(doc)
    assert same(fast[0]["a"], expected[0]["a"]) if not isinstance(expected[0]["a"], (list, dict)) \
        else fast == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789_.-+eExobTtrufalsNn:~ ", min_size=1, max_size=12))
def test_random_plain_scalars_resolve_as_ruamel_does(text):
    doc = f"a: '{text}'\nb: {text}\n".encode()
    fast = fast_or_none(doc)
    if fast is None:
        return
    try:
        expected = ruamel(doc)
    except Exception:  # noqa: BLE001 - ruamel rejects it: nothing to compare
        return
    assert same(fast[0]["b"], expected[0]["b"]) and fast[0]["a"] == expected[0]["a"]


def test_duplicate_keys_and_merges_go_to_ruamel_which_reports_them():
    with pytest.raises(yaml_fast.FastPathError):
        yaml_fast.load_all(b"a: 1\na: 2\n")
    with pytest.raises(yaml_fast.FastPathError):
        yaml_fast.load_all(b"base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n")
    parsed = parse_file("dup.yaml", b"type: System\nname: a\nname: b\n", use_cache=False)
    assert parsed.diagnostics and "duplicate" in parsed.diagnostics[0].detail.lower()
