"""Writing a job's artifacts (rendered compose locks, manifests, env files) to a local directory.

Artifact paths are relative to the target directory; an absolute path or one that climbs out with
``..`` is a TerminalError, so a rendered artifact can never overwrite files elsewhere.
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from reconciler.errors import TerminalError


def safe_relative(rel: str) -> str:
    """``rel`` as a normalised relative POSIX path; absolute paths and ``..`` are a TerminalError."""
    norm = posixpath.normpath(rel.replace("\\", "/"))
    if norm.startswith(("/", "../")) or norm in ("", ".", ".."):
        raise TerminalError(f"artifact path {rel!r} must stay inside the target directory")
    return norm


def write_local(directory: Path, files: dict[str, str]) -> list[Path]:
    """Write ``files`` (relative path → text) under ``directory``; return the paths written."""
    written = []
    for rel, text in sorted(files.items()):
        path = directory / safe_relative(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
