"""What the query mixins of the SQL store (``ApiQueries``, ``LeaseQueries``) expect of the
``SqlStore`` they are mixed into: its workspace, backend name, workspace filter and transactions."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import sqlalchemy as sa


class StoreParts:
    workspace: str
    backend: str

    if TYPE_CHECKING:
        def _ws(self, table: sa.Table) -> sa.ColumnElement[bool]: ...
        def _read(self) -> AbstractContextManager[sa.Connection]: ...
        def _write(self) -> AbstractContextManager[sa.Connection]: ...
