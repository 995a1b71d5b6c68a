"""CEL text → syntax tree. Owns the lark LALR parser (built once, on first use, from ``cel.lark``),
the tree builder that runs inside the parser (so no intermediate lark tree is built), decoding of
string/bytes/number literals, and translation of lark's errors into ``CelSyntaxError`` with a
1-based column and a one-sentence message. Pure apart from reading the packaged grammar once; its
built tables can be handed out and back as JSON (``tables``/``load_tables``) for a cache to keep.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, cast

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from reconciler.planning.cel.literals import LiteralError, decode_string
from reconciler.planning.cel.values import CelSyntaxError, Uint

RESERVED = frozenset({
    "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
    "package", "namespace", "return", "var", "void", "while", "in", "true", "false", "null",
})


class Node(NamedTuple):
    """A syntax-tree node. ``pos`` is the 0-based offset of the token that best identifies it
    (the identifier, the operator, the literal); ``args`` depends on ``kind``:

    lit (value,) · ident (name,) · select (operand, field) · index (operand, key) ·
    call (name, args) · method (target, name, args) · list (items,) · map (pairs,) ·
    not (operand,) · neg (operand,) · binop (op, left, right) · and (left, right) ·
    or (left, right) · cond (test, then, else)
    """

    kind: str
    pos: int
    args: tuple[Any, ...]


class _Fail(Exception):
    def __init__(self, offset: int, what: str, hint: str = ""):
        super().__init__(what)
        self.offset, self.what, self.hint = offset, what, hint


def _at(tok: lark.Token) -> int:
    """A token's 0-based offset (lark types it as optional; the LALR lexer always sets it)."""
    return tok.start_pos or 0


class _Builder(lark.Transformer):
    """Callbacks run by the LALR parser as it reduces; each returns a ``Node``."""

    def cond(self, c: list[Any]) -> Node:
        return Node("cond", c[0].pos, (c[0], c[1], c[2]))

    def or_(self, c: list[Any]) -> Node:
        return Node("or", c[0].pos, (c[0], c[1]))

    def and_(self, c: list[Any]) -> Node:
        return Node("and", c[0].pos, (c[0], c[1]))

    def binop(self, c: list[Any]) -> Node:
        return Node("binop", _at(c[1]), (str(c[1]), c[0], c[2]))

    def not_(self, c: list[Any]) -> Node:
        return Node("not", _at(c[0]), (c[1],))

    def neg(self, c: list[Any]) -> Node:
        operand = c[1]
        if operand.kind == "lit" and type(operand.args[0]) in (int, float):  # fold -1, -2.5
            return Node("lit", _at(c[0]), (-operand.args[0],))
        return Node("neg", _at(c[0]), (operand,))

    def select(self, c: list[Any]) -> Node:
        return Node("select", _at(c[1]), (c[0], str(c[1])))

    def method(self, c: list[Any]) -> Node:
        return Node("method", _at(c[1]), (c[0], str(c[1]), tuple(c[2] or ())))

    def index(self, c: list[Any]) -> Node:
        return Node("index", c[1].pos, (c[0], c[1]))

    def message(self, c: list[Any]) -> Node:
        raise _Fail(_at(c[1]), "message construction is not supported")

    def ident(self, c: list[Any]) -> Node:
        return Node("ident", _at(c[0]), (self._name(c[0]),))

    def call(self, c: list[Any]) -> Node:
        return Node("call", _at(c[0]), (self._name(c[0]), tuple(c[1] or ())))

    def list_(self, c: list[Any]) -> Node:
        return Node("list", _at(c[0]), (tuple(c[1] or ()),))

    def map_(self, c: list[Any]) -> Node:
        flat = c[1] or []
        return Node("map", _at(c[0]), (tuple(zip(flat[::2], flat[1::2])),))

    def exprlist(self, c: list[Any]) -> list[Any]:
        return c

    listinits = mapinits = fieldinits = exprlist

    def literal(self, c: list[Any]) -> Node:
        tok = c[0]
        return Node("lit", _at(tok), (_literal_value(tok),))

    @staticmethod
    def _name(tok: lark.Token) -> str:
        if tok in RESERVED:
            raise _Fail(_at(tok), f"reserved word '{tok}' cannot be used as a name")
        return str(tok)


def _literal_value(tok: lark.Token) -> Any:
    kind, text = tok.type, str(tok)
    if kind == "INT":
        return int(text, 16) if text[:2] == "0x" else int(text)
    if kind == "UINT":
        value = int(text[:-1], 16) if text[:2] == "0x" else int(text[:-1])
        if value >= 2**64:
            raise _Fail(_at(tok), f"uint literal {text} is out of range")
        return Uint(value)
    if kind == "FLOAT":
        return float(text)
    if kind == "STRING":
        try:
            return decode_string(text)
        except LiteralError as exc:
            raise _Fail(_at(tok) + exc.offset, exc.message) from None
    return {"TRUE": True, "FALSE": False, "NULL": None}[kind]


_PARSER: lark.Lark | None = None
_TABLES_FORMAT = 1


@lru_cache(maxsize=1)
def _grammar() -> str:
    return Path(__file__).with_name("cel.lark").read_text(encoding="utf-8")


def _parser() -> lark.Lark:
    global _PARSER
    if _PARSER is None:
        _PARSER = lark.Lark(_grammar(), parser="lalr", lexer="contextual", transformer=_Builder(),
                            maybe_placeholders=True)
    return _PARSER


# ---- the parser's tables as JSON ----------------------------------------------------------------
# Building the LALR tables from the grammar takes most of a short command's CEL time (~80 ms);
# the loading layer keeps them in its cache folder as JSON (never pickle: lark's own cache pickles)
# and hands them back here. Tables are keyed by the grammar, lark's version and this format.

def built() -> bool:
    return _PARSER is not None


@lru_cache(maxsize=1)
def tables_key() -> str:
    import hashlib

    text = f"{_TABLES_FORMAT}\0{lark.__version__}\0{_grammar()}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def tables() -> str:
    """The built parser's tables (``lark.Lark.memo_serialize``) as JSON text, with ``tables_key``."""
    from lark.grammar import Rule
    from lark.lark import _LOAD_ALLOWED_OPTIONS
    from lark.lexer import TerminalDef

    data, memo = _parser().memo_serialize([TerminalDef, Rule])
    data["options"] = {n: v for n, v in data["options"].items() if n not in _LOAD_ALLOWED_OPTIONS}
    return json.dumps(_tag({"key": tables_key(), "data": data, "memo": memo}), separators=(",", ":"))


def load_tables(text: str) -> bool:
    """Use the parser ``tables`` wrote, unless one is built already; False (and nothing changed)
    when the text is not tables of this grammar, lark and format."""
    global _PARSER
    if _PARSER is not None:
        return True
    try:
        found = _untag(json.loads(text))
        if not isinstance(found, dict) or found.get("key") != tables_key():
            return False
        _PARSER = lark.Lark._load_from_dict(found["data"], found["memo"], transformer=_Builder())
    except Exception:  # anything wrong with the text: build from the grammar as usual
        return False
    return True


def _tag(value: Any) -> Any:
    """JSON-safe form of serialized tables: dicts with non-string keys and tuples are tagged."""
    if isinstance(value, dict):
        if all(type(k) is str for k in value):
            return {k: _tag(v) for k, v in value.items()}
        return {"\0items": [[_tag(k), _tag(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"\0tuple": [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if "\0items" in value:
            return {_untag(k): _untag(v) for k, v in value["\0items"]}
        if "\0tuple" in value:
            return tuple(_untag(v) for v in value["\0tuple"])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def parse(expression: str) -> Node:
    """Parse ``expression``; raises CelSyntaxError with the column of the problem."""
    try:
        return cast(Node, _parser().parse(expression))
    except _Fail as exc:
        raise CelSyntaxError.at(expression, exc.offset, exc.what, exc.hint) from None
    except UnexpectedInput as exc:
        raise _describe(expression, exc) from None


# ---- error messages -----------------------------------------------------------------------------

_OPERAND = {"IDENT", "INT", "UINT", "FLOAT", "STRING", "TRUE", "FALSE", "NULL", "LSQB", "LBRACE",
            "LPAR", "BANG", "MINUS", "DOT"}
_CLOSERS = {"RPAR": "')'", "RSQB": "']'", "RBRACE": "'}'", "COMMA": "','", "COLON": "':'",
            "$END": "the end of the expression"}


def _describe(expression: str, exc: UnexpectedInput) -> CelSyntaxError:
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = _expected(_accepted(exc))
        if tok.type == "$END":
            return CelSyntaxError.at(expression, len(expression.rstrip()), "unexpected end of expression", expected)
        shown = str(tok) if len(tok) <= 24 else str(tok)[:21] + "..."
        return CelSyntaxError.at(expression, _at(tok), f"unexpected token {shown!r}", expected)
    if isinstance(exc, UnexpectedCharacters):
        offset = exc.pos_in_stream or 0
        char = expression[offset]
        if char in "\"'":
            return CelSyntaxError.at(expression, offset, "unterminated string literal")
        return CelSyntaxError.at(expression, offset, f"unexpected character {char!r}", _HINTS.get(char, ""))
    return CelSyntaxError.at(expression, getattr(exc, "pos_in_stream", 0) or 0, "invalid expression")


_HINTS = {"=": "use '==' to compare", "&": "use '&&' for logical and", "|": "use '||' for logical or"}


def _accepted(exc: UnexpectedToken) -> set[str]:
    """The terminals the parser would really accept here (lark's ``expected`` is an LALR superset)."""
    try:
        return set(exc.interactive_parser.accepts())
    except Exception:  # noqa: BLE001 - fall back to the superset if lark cannot replay the state
        return set(exc.expected)


def _expected(names: set[str]) -> str:
    parts: list[str] = []
    if names == {"IDENT"}:
        parts.append("a name")
    elif "IDENT" in names:
        parts.append("an operand")
    elif names - _OPERAND - set(_CLOSERS):
        parts.append("an operator")
    parts += [text for name, text in _CLOSERS.items() if name in names]
    if not parts:
        return ""
    return "expected " + (parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1])
