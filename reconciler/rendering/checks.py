"""Shape checks of rendered artifacts, so a broken file fails the plan instead of the host.

Each check takes the rendered text and the artifact's path, and raises TemplateError naming the
path and the rendered line. The checks are deliberately shallow: they catch what a template
typically breaks (YAML that no longer parses, a manifest without ``kind``, an unbalanced brace in
an nginx config, a unit line outside any section), not everything the consuming tool would reject.
Pure: text in, nothing out.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from reconciler.errors import TemplateError

_SECTION = re.compile(r"^\[[^\[\]]+\]$")
_ASSIGNMENT = re.compile(r"^[A-Za-z0-9_.-]+\s*=")


def _fail(path: str, what: str, line: int | None = None) -> TemplateError:
    where = f" (rendered line {line})" if line else ""
    return TemplateError(f"artifact {path}{where}: {what}", path, line)


def yaml_documents(text: str, path: str) -> list[tuple[int, Any]]:
    """(first line, value) of every YAML document in ``text``; empty documents are skipped."""
    loader = yaml.SafeLoader(text)
    out: list[tuple[int, Any]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            value = loader.construct_document(node)
            if value is not None:
                out.append((node.start_mark.line + 1, value))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise _fail(path, f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                    mark.line + 1 if mark is not None else None) from None
    finally:
        loader.dispose()
    return out


def compose_file(text: str, path: str) -> None:
    """A compose file is one YAML mapping with a ``services`` mapping."""
    docs = yaml_documents(text, path)
    if len(docs) != 1 or not isinstance(docs[0][1], dict):
        raise _fail(path, "a compose file must be exactly one YAML mapping")
    if not isinstance(docs[0][1].get("services"), dict):
        raise _fail(path, "a compose file needs a 'services:' mapping")


def manifest(text: str, path: str) -> None:
    """Kubernetes YAML: every document is a mapping with apiVersion, kind and metadata.name."""
    docs = yaml_documents(text, path)
    if not docs:
        raise _fail(path, "the manifest has no YAML documents")
    for number, (line, doc) in enumerate(docs, 1):
        if not isinstance(doc, dict):
            raise _fail(path, f"document {number} is not a mapping", line)
        missing = [f for f in ("apiVersion", "kind") if not isinstance(doc.get(f), str) or not doc.get(f)]
        meta = doc.get("metadata")
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta.get("name"):
            missing.append("metadata.name")
        if missing:
            raise _fail(path, f"document {number} lacks {', '.join(missing)}", line)


def systemd_unit(text: str, path: str) -> None:
    """An INI-style unit: ``[Section]`` headers, then ``Key=Value`` lines (with ``\\`` continuations)."""
    section = False
    continued = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        was_continued, continued = continued, line.endswith("\\")
        if was_continued or not line or line[0] in "#;":
            continue
        if _SECTION.match(line):
            section = True
        elif not _ASSIGNMENT.match(line):
            raise _fail(path, f"expected [Section] or Key=Value, got {line[:60]!r}", number)
        elif not section:
            raise _fail(path, "a Key=Value line comes before any [Section]", number)
    if not section:
        raise _fail(path, "a systemd unit needs at least one [Section]")


def nginx_config(text: str, path: str) -> None:
    """Balanced braces outside comments and quoted strings."""
    stack: list[int] = []
    for number, line in enumerate(text.splitlines(), 1):
        for char in _code(line):
            if char == "{":
                stack.append(number)
            elif char == "}":
                if not stack:
                    raise _fail(path, "'}' without a matching '{'", number)
                stack.pop()
    if stack:
        raise _fail(path, "'{' is never closed", stack[-1])


def _code(line: str) -> str:
    """``line`` without quoted strings and without its comment."""
    out, quote, escaped = [], "", False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            break
        else:
            out.append(char)
    return "".join(out)
