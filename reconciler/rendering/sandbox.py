"""The sandboxed jinja2 environment every template renders in.

``StrictUndefined`` turns a misspelled variable into an error; the sandbox refuses attribute access
such as ``__class__``. A value that is exactly one ``{{ expression }}`` keeps its type (a number
stays a number); anything else renders to a string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError as JinjaTemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from reconciler.errors import TemplateError

# A value that is exactly one expression (no braces inside) keeps the expression's type.
_SINGLE = re.compile(r"^\{\{\s*(?P<expr>[^{}]+?)\s*\}\}$", re.DOTALL)


def _to_json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _quote_env(value: Any) -> str:
    from reconciler.rendering.formats import env_quote

    return env_quote(value)


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True,
                               trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson_sorted"] = _to_json
    env.filters["env_quote"] = _quote_env
    return env


@lru_cache(maxsize=8192)
def _template(source: str):
    return environment().from_string(source)


@lru_cache(maxsize=8192)
def _expression(source: str):
    return environment().compile_expression(source, undefined_to_none=False)


_PATH = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_PLACEHOLDER = re.compile(r"\{\{\s*(" + _PATH + r")\s*\}\}")
_MISS = object()


@lru_cache(maxsize=8192)
def _simple(source: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(literal parts, dotted paths) when ``source`` is text with plain ``{{ a.b.c }}`` placeholders only."""
    literals, paths, pos = [], [], 0
    for match in _PLACEHOLDER.finditer(source):
        literals.append(source[pos:match.start()])
        paths.append(match.group(1))
        pos = match.end()
    literals.append(source[pos:])
    if any("{" in part or "}" in part for part in literals):
        return None  # anything brace-like outside plain placeholders is jinja's to judge
    return tuple(literals), tuple(paths)


def _lookup(context: Mapping[str, Any], path: str) -> Any:
    """Plain dictionary lookup of ``a.b.c``; _MISS when jinja's semantics could differ (attributes)."""
    parts = path.split(".")
    value = context.get(parts[0], _MISS)
    for part in parts[1:]:
        if value is _MISS or type(value) is not dict or hasattr(dict, part):
            return _MISS
        value = value.get(part, _MISS)
    return value


def _fast(source: str, context: Mapping[str, Any]) -> Any:
    """Render plain placeholders without jinja (the common case, many thousands of times a plan);
    _MISS sends anything else — filters, logic, undefined names — to the sandbox."""
    parsed = _simple(source)
    if parsed is None:
        return _MISS
    literals, paths = parsed
    values = [_lookup(context, p) for p in paths]
    if any(v is _MISS or v is None or isinstance(v, (dict, list, float)) for v in values):
        return _MISS
    if len(paths) == 1 and literals == ("", ""):
        return values[0]
    out = [literals[0]]
    for value, literal in zip(values, literals[1:]):
        out.append(str(value) if not isinstance(value, bool) else ("True" if value else "False"))
        out.append(literal)
    return "".join(out)


def render_value(source: str, context: Mapping[str, Any], name: str = "") -> Any:
    """Render one config value: a lone ``{{ expr }}`` keeps its type, anything else is a string."""
    fast = _fast(source, context)
    if fast is not _MISS:
        return fast
    try:
        match = _SINGLE.match(source)
        if match:
            value = _expression(match.group("expr"))(**context)
            if isinstance(value, StrictUndefined):
                str(value)  # raises UndefinedError with jinja's message
            return value
        return _template(source).render(**context)
    except (JinjaTemplateError, SecurityError) as exc:
        raise _error(exc, source, name) from None


def render_text(source: str, context: Mapping[str, Any], name: str) -> str:
    """Render a whole template file; errors name the template and its line."""
    try:
        return _template(source).render(**context)
    except (JinjaTemplateError, SecurityError) as exc:
        raise _error(exc, source, name) from None


def _error(exc: Exception, source: str, name: str) -> TemplateError:
    line = getattr(exc, "lineno", None) or _runtime_line(exc)
    if isinstance(exc, TemplateSyntaxError):
        what = f"template syntax error: {exc.message}"
    elif isinstance(exc, SecurityError):
        what = f"the sandbox refused: {exc}"
    elif isinstance(exc, UndefinedError):
        msg = str(exc)
        what = f"the sandbox refused: {msg}" if "unsafe" in msg else f"undefined: {msg}"
    else:
        what = f"{type(exc).__name__}: {exc}"
    where = name or repr(source if len(source) < 60 else source[:57] + "...")
    return TemplateError(f"{where}{f' line {line}' if line else ''}: {what}", name, line)


def _runtime_line(exc: Exception) -> int | None:
    """The template line of a runtime error: jinja rewrites the traceback so that frames of the
    template itself carry the file name ``<template>`` and the template's line number."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
