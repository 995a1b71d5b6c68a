"""CEL literal text ⇄ Python values. Decoding string and bytes literals (prefixes, quotes, escape
sequences, as in https://github.com/google/cel-spec/blob/master/doc/langdef.md#string-and-bytes-values)
for the parser; the reverse, rendering Python scalars as CEL literals; and ``shorthand_to_cel``,
which renders the structured selector shorthand (``{kind: K, metadata: {region: r}}``) as CEL
text built from such literals. Pure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
           "\\": "\\", "?": "?", '"': '"', "'": "'", "`": "`"}
_HEX = frozenset("0123456789abcdefABCDEF")


class LiteralError(ValueError):
    """A malformed literal; ``offset`` is relative to the start of the literal's text."""

    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset, self.message = offset, message


def decode_string(text: str) -> str | bytes:
    """The value of a STRING token: ``"a\\n"``, ``r'\\d+'``, ``b"\\xff"``, ``'''multi-line'''``…"""
    prefix_len = 0
    while text[prefix_len] not in "\"'":
        prefix_len += 1
    prefix = text[:prefix_len].lower()
    body = text[prefix_len:]
    quote = 3 if body[:3] in ('"""', "'''") else 1
    content = body[quote:-quote]
    start = prefix_len + quote
    if "r" in prefix:
        return content.encode("utf-8") if "b" in prefix else content
    return _unescape(content, start, "b" in prefix)


def _unescape(content: str, start: int, as_bytes: bool) -> str | bytes:
    if "\\" not in content:
        return content.encode("utf-8") if as_bytes else content
    out: list[int] = []  # code points for strings, byte values for bytes
    i, n = 0, len(content)
    while i < n:
        char = content[i]
        if char != "\\":
            out.extend(char.encode("utf-8") if as_bytes else (ord(char),))
            i += 1
            continue
        code, width, is_byte = _escape(content, i, start, as_bytes)
        if as_bytes and not is_byte:
            out.extend(chr(code).encode("utf-8"))
        else:
            out.append(code)
        i += width
    return bytes(out) if as_bytes else "".join(map(chr, out))


def _escape(content: str, i: int, start: int, as_bytes: bool) -> tuple[int, int, bool]:
    """(value, length, is_raw_byte) of the escape sequence at ``content[i]`` (a backslash)."""
    kind = content[i + 1] if i + 1 < len(content) else ""
    if kind in _SIMPLE:
        return ord(_SIMPLE[kind]), 2, False
    if kind in "xX":
        return _hex(content, i, 2, start), 4, True
    if kind in "uU" and not as_bytes:
        width = 4 if kind == "u" else 8
        code = _hex(content, i, width, start)
        if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            raise LiteralError(start + i, f"invalid unicode escape '{content[i:i + 2 + width]}'")
        return code, 2 + width, False
    digits = content[i + 1:i + 4]
    if len(digits) == 3 and digits[0] in "0123" and all(d in "01234567" for d in digits):
        return int(digits, 8), 4, True
    shown = content[i:i + 2] if kind else "\\"
    raise LiteralError(start + i, f"invalid escape sequence '{shown}' in string literal")


def _hex(content: str, i: int, width: int, start: int) -> int:
    digits = content[i + 2:i + 2 + width]
    if len(digits) != width or not set(digits) <= _HEX:
        raise LiteralError(start + i, f"escape '{content[i:i + 2]}' needs {width} hex digits")
    return int(digits, 16)


def quote(value: str) -> str:
    """A double-quoted CEL string literal denoting exactly ``value``."""
    parts = ['"']
    for char in value:
        code = ord(char)
        if char in '"\\':
            parts.append("\\" + char)
        elif char == "\n":
            parts.append("\\n")
        elif char == "\r":
            parts.append("\\r")
        elif char == "\t":
            parts.append("\\t")
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            if 0xD800 <= code <= 0xDFFF:
                raise ValueError(f"string {value!r} contains a lone surrogate")
            parts.append(f"\\x{code:02x}")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)


def render(value: Any) -> str:
    """CEL literal text for a scalar: string, bool, int, float or None."""
    if isinstance(value, str):
        return quote(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no CEL literal")
        text = repr(float(value))
        return text if "." in text or "e" in text else text + ".0"
    raise TypeError(f"{type(value).__name__} value {value!r} has no CEL literal")


_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*\Z")
_RESERVED = frozenset({"as", "break", "const", "continue", "else", "for", "function", "if", "import",
                       "let", "loop", "package", "namespace", "return", "var", "void", "while", "in",
                       "true", "false", "null"})


def shorthand_to_cel(obj: Mapping[str, Any], entity: str) -> str:
    """CEL text for the structured shorthand: every key must match (keys sorted for determinism).

    ``{kind: KubernetesCluster, metadata: {region: us-east-1}}`` with entity ``resource`` gives
    ``resource.kind == "KubernetesCluster" && resource.metadata["region"] == "us-east-1"``.
    Top-level keys become field selections (index syntax if not identifiers), nested maps become
    ``["key"]`` lookups, lists mean "one of" (``in [...]``); an empty map matches everything.
    Raises TypeError for values with no CEL literal (nested lists, dates, non-string keys) and
    ValueError for non-finite floats or a bad entity name.
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"a selector shorthand must be a map, not {type(obj).__name__}")
    if not _IDENT.match(entity) or entity in _RESERVED:
        raise ValueError(f"{entity!r} is not a CEL variable name")
    clauses: list[str] = []
    _clauses(obj, entity, True, clauses)
    return " && ".join(clauses) if clauses else "true"


def _clauses(obj: Mapping[str, Any], prefix: str, top: bool, out: list[str]) -> None:
    for key in obj:
        if not isinstance(key, str):
            raise TypeError(f"selector shorthand keys must be strings, not {key!r}")
    for key in sorted(obj):
        value = obj[key]
        field = f"{prefix}.{key}" if top and _IDENT.match(key) and key not in _RESERVED else f"{prefix}[{quote(key)}]"
        if isinstance(value, Mapping):
            _clauses(value, field, False, out)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, (Mapping, list, tuple)):
                    raise TypeError(f"shorthand list for {key!r} may only hold scalars, not {item!r}")
            out.append(f"{field} in [{', '.join(render(item) for item in value)}]")
        else:
            out.append(f"{field} == {render(value)}")
