"""Byte-level tests of the text edits: appends keep the old file as an exact prefix and follow its
style; removals delete exactly one document's lines."""

from __future__ import annotations

import pytest

from reconciler.errors import UsageError
from reconciler.loading import edit_yaml

K8S_STYLE = """\
# Pins (k8s style: dashes flush with their key, double quotes).
type: Pin
name: old
deployment: api
version: "1.0"
reason: "keep: 1.0"
selectors:
- environments: environment.name == "staging"
"""

FOUR_SPACES = """\
type: Version   # four spaces, single quotes
deployment: web
tag: '2.0'
metadata:
    commit: 'abc'
"""

THREE_DOCS = """\
# header: keep me
type: Freeze
name: first
reason: a   # first
---
# the second one
type: Freeze
name: second
reason: b
---
type: Freeze
name: third
reason: c
"""

PIN = {"type": "Pin", "name": "new", "deployment": "api", "version": "2.0", "reason": "why: because",
       "selectors": [{"environments": 'environment.name == "production"'}], "until": "2026-12-01T00:00:00Z"}


def test_append_keeps_the_file_as_a_prefix_and_matches_a_flush_dash_style(golden):
    new = edit_yaml.append(K8S_STYLE, PIN)
    assert new.startswith(K8S_STYLE)
    golden("edit/append-k8s-style.yaml", new)


def test_append_matches_four_space_indent_and_single_quotes(golden):
    doc = {"type": "Version", "deployment": "web", "tag": "3.0", "createdAt": "2026-11-20T09:00:00Z",
           "metadata": {"commit": "def", "note": "a: b"}}
    new = edit_yaml.append(FOUR_SPACES, doc)
    assert new.startswith(FOUR_SPACES)
    golden("edit/append-four-spaces.yaml", new)


def test_append_to_a_file_without_a_final_newline_or_documents():
    assert edit_yaml.append("a: 1", {"b": 2}) == "a: 1\n---\nb: 2\n"
    assert edit_yaml.append("", {"b": 2}) == "b: 2\n"
    assert edit_yaml.append("# only a comment\n", {"b": 2}) == "# only a comment\nb: 2\n"


def test_append_keeps_a_blank_line_before_separators_when_the_file_does():
    text = "a: 1\n\n---\nb: 2\n"
    assert edit_yaml.append(text, {"c": 3}) == text + "\n---\nc: 3\n"


def test_detect_style_defaults_to_the_examples():
    assert edit_yaml.detect_style("") == edit_yaml.Style(2, 2, '"', False)
    assert edit_yaml.detect_style(K8S_STYLE).dash_offset == 0
    assert edit_yaml.detect_style(FOUR_SPACES) == edit_yaml.Style(4, 4, "'", False)


@pytest.mark.parametrize("index, name", [(0, "first"), (1, "second"), (2, "third")])
def test_remove_deletes_only_that_documents_lines(index, name, golden):
    new = edit_yaml.remove(THREE_DOCS, index)
    golden(f"edit/remove-{name}.yaml", new)
    cut = _one_cut(THREE_DOCS, new)
    assert cut is not None and f"name: {name}\n" in cut and cut.count("name:") == 1
    assert new.startswith("# header: keep me\n")


def _one_cut(old: str, new: str) -> str | None:
    """The single contiguous run of bytes deleted from ``old`` to give ``new`` (None if not one cut)."""
    head = 0
    while head < len(new) and new[head] == old[head]:
        head += 1
    tail = len(old) - (len(new) - head)
    return old[head:tail] if old[:head] + old[tail:] == new else None


def test_remove_refuses_a_file_it_cannot_split_safely():
    tricky = "a: |\n  text\n---\nb: 1\n"  # fine: the block scalar is indented
    assert edit_yaml.remove(tricky, 1) == "a: |\n  text\n"
    with pytest.raises(UsageError, match="document boundaries"):
        edit_yaml.remove("--- {a: 1}\n", 1)
