"""JSON text as reconciler prints it, shared by the CLI's views and the plan cache: one object on
one line by CPython's C encoder (``encode_row``), and ``Rows``, the rows of a list already
encoded that way, which the views lay out exactly as they lay out the list's objects.

A plan of 150,000 changes is 57 MB of rows. The plan cache keeps each deployment's rows as
encoded text next to its outcome, so a reused deployment's rows are copied, not encoded again.
"""

from __future__ import annotations

import json
from json import encoder as _encoder
from typing import Any

ROW = json.JSONEncoder(separators=(", ", ": "))
# One C encoder for every row: ``JSONEncoder.encode`` builds a new one per call, which is a
# quarter of the cost of encoding 300,000 short rows. (No circular-reference check: rows are trees.)
_C_ROW = _encoder.c_make_encoder(None, ROW.default, _encoder.encode_basestring_ascii, None, ": ", ", ",
                                 False, False, True) if _encoder.c_make_encoder else None


def encode_row(row: Any) -> str:
    """``row`` on one line (ASCII only, so a row never holds a line break)."""
    return "".join(_C_ROW(row, 0)) if _C_ROW is not None else ROW.encode(row)


class Rows(str):
    """The rows of a JSON list of objects, each encoded by ``encode_row``, joined by line breaks
    (the empty string for an empty list)."""

    @classmethod
    def of(cls, rows: Any) -> Rows:
        return cls("\n".join(map(encode_row, rows)))


class RowsChain(tuple):
    """The rows of one list kept as several non-empty ``Rows`` parts (one per deployment outcome),
    laid out as if they were joined: a plan of 57 MB of rows is written part by part instead of
    being copied into one string first."""
