"""The render directory's layout and how it compares with what is on disk.

``reconciler render`` writes ``OUT/<deployment>/<environment>/<resource>/<path>``: the target key
(``deployment/environment/resource``) followed by the artifact's path. A resource identifier may
contain ``/``, so a file belongs to the *longest* target key that prefixes it. Files directly in
``OUT`` (a README, ``.gitkeep``) never belong to a target and are left alone.

Pure: mappings of relative paths to text in, a report out. The engine does the reading and writing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.errors import UsageError


@dataclass
class Report:
    """How a render directory differs from what would be rendered (sorted relative paths)."""

    stale: list[str] = field(default_factory=list)  # on disk with other content
    missing: list[str] = field(default_factory=list)  # would be rendered, not on disk
    extra: list[str] = field(default_factory=list)  # on disk, no longer rendered

    @property
    def clean(self) -> bool:
        return not (self.stale or self.missing or self.extra)

    def to_json(self) -> dict[str, list[str]]:
        return {"stale": self.stale, "missing": self.missing, "extra": self.extra}


def layout(renders: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """``{target: {artifact path: content}}`` → ``{OUT-relative path: content}``, sorted."""
    out: dict[str, str] = {}
    for target, files in renders.items():
        if any(part in ("", ".", "..") for part in target.split("/")):
            raise UsageError(f"target {target!r} cannot be a directory name under the render directory")
        for path, content in files.items():
            out[f"{target}/{path}"] = content
    return dict(sorted(out.items()))


def owner(path: str, targets: Iterable[str]) -> str | None:
    """The longest target key that ``path`` lies under, or None."""
    best = None
    for target in targets:
        if path.startswith(target + "/") and (best is None or len(target) > len(best)):
            best = target
    return best


def compare(expected: Mapping[str, str], existing: Mapping[str, str], targets: Iterable[str],
            selected: Iterable[str] | None = None) -> Report:
    """Compare ``expected`` with ``existing`` (both OUT-relative). With ``selected`` (target keys),
    only files owned by those targets count; otherwise every file below a folder counts."""
    known = list(targets)
    chosen = set(selected) if selected is not None else None
    report = Report()
    for path, content in expected.items():
        if path not in existing:
            report.missing.append(path)
        elif existing[path] != content:
            report.stale.append(path)
    for path in existing:
        if path in expected or "/" not in path:
            continue
        if chosen is not None and owner(path, known) not in chosen:
            continue
        report.extra.append(path)
    report.stale.sort()
    report.missing.sort()
    report.extra.sort()
    return report
