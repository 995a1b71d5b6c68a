"""Line and column of a value inside a YAML file, found with ruamel.yaml's round-trip loader.

Only used when there is something to report, so the slow loader never runs on a valid workspace.
A location is (file, document index, path) where path is a tuple of keys and list indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconciler.diagnostics import SourcePos

Path = Sequence[str | int]


class PositionIndex:
    """Lazily round-trip-parses files and answers ``locate(path, doc, keys)``."""

    def __init__(self, reader: Callable[[str], bytes | None]):
        self._reader = reader
        self._docs: dict[str, list[Any]] = {}

    def _documents(self, path: str) -> list[Any]:
        if path not in self._docs:
            data = self._reader(path)
            docs: list[Any] = []
            if data is not None:
                try:
                    docs = list(YAML(typ="rt").load_all(data))
                except Exception:  # noqa: BLE001 - a broken file just has no positions
                    docs = []
            self._docs[path] = docs
        return self._docs[path]

    def locate(self, path: str, doc_index: int, keys: Path = (), *, key: bool = False) -> SourcePos:
        """Position of the value at ``keys`` (or of its key when ``key``), else the deepest parent."""
        docs = self._documents(path)
        if doc_index >= len(docs):
            return SourcePos(path, 1, 1)
        node = docs[doc_index]
        line, col = _start(node)
        for index, step in enumerate(keys):
            last = index == len(keys) - 1
            found = _child(node, step, want_key=key and last)
            if found is None:
                break
            line, col, node = found
        return SourcePos(path, line + 1, col + 1)


def _start(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return lc.line, lc.col
    return 0, 0


def _child(node: Any, step: str | int, want_key: bool) -> tuple[int, int, Any] | None:
    if isinstance(node, CommentedMap) and step in node:
        if want_key:
            line, col = node.lc.key(step)
        else:
            line, col = node.lc.value(step)
        return line, col, node[step]
    if isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
        line, col = node.lc.item(step)
        return line, col, node[step]
    return None


def scalar_offset(path: str, reader: Callable[[str], bytes | None], pos: SourcePos) -> int:
    """Columns to add to an in-expression column for a single-line scalar starting at ``pos``.

    A quoted scalar adds one for the quote; block scalars (| or >) return -1 (unknown).
    """
    data = reader(path)
    if data is None or not pos.line:
        return -1
    lines = data.decode("utf-8", "replace").splitlines()
    if pos.line > len(lines):
        return -1
    first = lines[pos.line - 1][pos.column - 1 : pos.column]
    if first in ("|", ">"):
        return -1
    return 1 if first in ("'", '"') else 0
