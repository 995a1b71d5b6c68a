"""User-facing problems as values: a severity, a short summary, a sentence of detail and a position.

Loading and validation never stop at the first problem; they return diagnostics, and the CLI prints
them all as ``path:line:col: error: summary: detail``. This module has no dependencies on the rest
of the package.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class SourcePos:
    """A position in a file: 1-based line and column. ``line == 0`` means the whole file."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}:{self.column or 1}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the user's input.

    ``summary`` is a short phrase ("Duplicate environment name"); ``detail`` is a full sentence that
    says what is wrong and how to fix it, and points to related definitions.
    """

    summary: str
    detail: str
    source: SourcePos = field(default_factory=lambda: SourcePos("<unknown>"))
    severity: Severity = Severity.ERROR

    def format(self) -> str:
        pos = self.source
        where = f"{pos.path}:{pos.line or 1}:{pos.column or 1}"
        return f"{where}: {self.severity.value}: {self.summary}: {self.detail}"

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.source.path,
            "line": self.source.line or 1,
            "column": self.source.column or 1,
            "severity": self.severity.value,
            "summary": self.summary,
            "detail": self.detail,
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.source.path, self.source.line, self.source.column, self.summary)


def errors(diags: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diags if d.severity is Severity.ERROR]


__all__ = ["Diagnostic", "Severity", "SourcePos", "asdict", "errors"]
