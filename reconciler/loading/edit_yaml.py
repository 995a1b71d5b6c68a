"""Byte-exact YAML edits: append a document in a file's own style, or cut one document out.

The rest of the file never changes: an append keeps every existing byte as a prefix, and a removal
deletes exactly the lines of one document. The new document is rendered by ruamel.yaml's
round-trip dumper configured with the file's indentation, sequence style and preferred quote
character, and every result is re-parsed and compared with what was intended before anyone
writes it. This module only transforms text; it reads and writes no files.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from reconciler.errors import UsageError
from reconciler.loading.yaml_reader import jsonable

_SEPARATOR = re.compile(r"^---(?:[ \t]|$)")
_KEY_LINE = re.compile(r"^( *)[^\s#\-][^:#]*:(?:\s|$)")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@dataclass(frozen=True)
class Style:
    """How a file writes YAML: mapping indent, dash offset under a key, quotes, blank before ---."""

    indent: int = 2
    dash_offset: int = 2
    quote: str = '"'
    blank_before_separator: bool = False


def detect_style(text: str) -> Style:
    """Infer the style from existing lines; defaults match the examples (2 spaces, indented dashes)."""
    lines = text.splitlines()
    indents = sorted({len(m.group(1)) for line in lines if (m := _KEY_LINE.match(line)) and m.group(1)})
    indent = indents[0] if indents else 2
    dash_offset = indent
    for before, line in zip(lines, lines[1:]):
        key, dash = _KEY_LINE.match(before), re.match(r"^( *)- ", line)
        if key and dash and before.rstrip().endswith(":"):
            dash_offset = len(dash.group(1)) - len(key.group(1))
            break
    double = len(re.findall(r""":[ \t]+"|-[ \t]+\"""", text))
    single = len(re.findall(r""":[ \t]+'|-[ \t]+'""", text))
    separators = [i for i, line in enumerate(lines) if _SEPARATOR.match(line) and i > 0]
    blank = bool(separators) and all(not lines[i - 1].strip() for i in separators)
    return Style(indent, max(dash_offset, 0), "'" if single > double else '"', blank)


def render(doc: dict[str, Any], style: Style) -> str:
    """One document as YAML text in ``style`` (no ``---``), ending with a newline."""
    yaml = _dumper(style)
    out = io.StringIO()
    yaml.dump(_commented(doc, style), out)
    return out.getvalue()


def append(text: str, doc: dict[str, Any]) -> str:
    """``text`` with ``doc`` added as a new last document; the old text stays a byte-exact prefix."""
    existing = _documents(text)
    body = render(doc, detect_style(text))
    if not existing:
        new = text + ("\n" if text and not text.endswith("\n") else "") + body
    else:
        style = detect_style(text)
        head = text if text.endswith("\n") else text + "\n"
        new = head + ("\n" if style.blank_before_separator else "") + "---\n" + body
    if _documents(new) != [*existing, jsonable(doc)]:
        raise UsageError("the new document would not read back as written; please add it by hand")
    return new


def remove(text: str, index: int) -> str:
    """``text`` without document ``index`` (0-based); every other line stays as it was."""
    lines = text.splitlines(keepends=True)
    chunks = _chunks(lines)
    existing = _documents(text)
    if len(chunks) != len(existing) or not 0 <= index < len(chunks):
        raise UsageError("cannot find document boundaries safely in this file; please remove it by hand")
    start, end = chunks[index]
    if not _SEPARATOR.match(lines[start]):
        while start < end and _is_comment_or_blank(lines[start]):
            start += 1  # keep the file's header comments
        if end < len(lines):
            end += 1  # drop the separator that started the next document
    new = "".join(lines[:start] + lines[end:])
    if _documents(new) != existing[:index] + existing[index + 1:]:
        raise UsageError("removing the document would change others; please remove it by hand")
    return new


def _chunks(lines: list[str]) -> list[tuple[int, int]]:
    """(start, end) line ranges of each document; the part before the first --- counts if it has content."""
    starts = [i for i, line in enumerate(lines) if _SEPARATOR.match(line)]
    bounds = [0, *starts, len(lines)]
    ranges = [(a, b) for a, b in zip(bounds, bounds[1:]) if not (a == 0 and b == 0)]
    if ranges and ranges[0][0] == 0 and (not starts or starts[0] != 0):
        if all(_is_comment_or_blank(line) for line in lines[ranges[0][0]:ranges[0][1]]):
            ranges = ranges[1:]
    return ranges


def _is_comment_or_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _documents(text: str) -> list[Any]:
    try:
        return [jsonable(d) for d in YAML(typ="safe", pure=True).load_all(text)]
    except YAMLError as exc:
        raise UsageError(f"the file is not valid YAML ({str(exc).splitlines()[0]}); fix it first") from exc


def _dumper(style: Style) -> YAML:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=style.indent, sequence=style.dash_offset + 2, offset=style.dash_offset)
    return yaml


def _commented(value: Any, style: Style) -> Any:
    """Plain data → ruamel round-trip nodes: timestamps stay plain, quoted strings use the file's quote."""
    if isinstance(value, dict):
        return CommentedMap((k, _commented(v, style)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_commented(v, style) for v in value)
    if isinstance(value, str):
        if _TIMESTAMP.match(value):
            return YAML(typ="rt").load(f"t: {value}\n")["t"]  # a plain YAML timestamp, as in the examples
        if _needs_quotes(value):
            return (DoubleQuotedScalarString if style.quote == '"' else SingleQuotedScalarString)(value)
    return value


def _needs_quotes(value: str) -> bool:
    out = io.StringIO()
    YAML(typ="rt").dump({"k": value}, out)
    return out.getvalue()[3:4] in ("'", '"')
