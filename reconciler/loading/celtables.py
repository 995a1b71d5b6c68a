"""The CEL parser's tables, kept as JSON in the parse cache's folder: building them from the
grammar is most of the CEL cost of a short command (about 80 ms), reading them back about 10 ms.
The file is keyed by the grammar, lark's version and the tables' format; a missing, stale or
damaged file only means the parser is built from the grammar (and the file written) again.
"""

from __future__ import annotations

import os

from reconciler.loading.yaml_reader import CACHE_FORMAT, cache_dir
from reconciler.planning.cel import parser


def prime() -> None:
    """Make the CEL parser ready from the cached tables, or build it and cache its tables."""
    if parser.built():
        return
    path = cache_dir() / CACHE_FORMAT / f"cel-{parser.tables_key()}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is not None and parser.load_tables(text):
        return
    try:
        text = parser.tables()
    except Exception:  # noqa: BLE001 - a lark that serializes differently: the grammar-built parser serves
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # an optimisation; a read-only cache folder must not fail a command
