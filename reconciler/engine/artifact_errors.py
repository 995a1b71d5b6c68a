"""Template errors of artifacts as diagnostics: placed at the template line when the error is in
a template file, else at the deployment's setting it comes from (its ``artifacts`` entry), and
one per distinct error. An error that every target repeats (a missing image digest on 3,000
hosts) is one diagnostic naming its first target and how many more, not 3,000 lines."""

from __future__ import annotations

from typing import Any

from reconciler.diagnostics import Diagnostic, SourcePos
from reconciler.errors import TemplateError
from reconciler.models.catalog import Catalog

SUMMARY = "Template error"


def position(catalog: Catalog, deployment: str, exc: TemplateError, positions: Any = None) -> SourcePos:
    """Where ``exc`` is fixed: its template line, else its setting in the deployment's document."""
    root = catalog.config.templatesDir.strip("/") + "/"
    if exc.template.startswith(root):
        return SourcePos(exc.template, exc.line or 0)
    origin = catalog.origins.get(("Deployment", deployment))
    if origin is None:
        return SourcePos("<unknown>")
    if positions is None:
        return SourcePos(origin[0])
    return positions.locate(origin[0], origin[1], tuple(exc.keys))


class Problems:
    """Collects template errors of many targets; ``diagnostics()`` merges the repeated ones."""

    def __init__(self, catalog: Catalog, positions: Any = None):
        self.catalog, self.positions = catalog, positions
        # (position, message without its target) -> [position, first message, its target, count]
        self._found: dict[tuple[str, str], list[Any]] = {}

    def add(self, deployment: str, exc: TemplateError, target: str = "") -> None:
        pos = position(self.catalog, deployment, exc, self.positions)
        message = str(exc)
        general = message.replace(target, "\0") if target else message
        entry = self._found.setdefault((str(pos), general), [pos, message, target, 0])
        entry[3] += 1

    def __bool__(self) -> bool:
        return bool(self._found)

    def diagnostics(self) -> list[Diagnostic]:
        out = []
        for pos, message, target, count in self._found.values():
            if count > 1:
                more = f"{count - 1} more target{'s' if count > 2 else ''}"
                message = message.replace(target, f"{target} and {more}", 1) if target in message \
                    else f"{message} (and {more})"
            out.append(Diagnostic(SUMMARY, f"{message}. Fix the template or define the value.", pos))
        return out
