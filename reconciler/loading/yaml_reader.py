"""Parse YAML files into plain documents: PyYAML's C parser with YAML 1.2 resolvers
(``yaml_fast``), falling back to ruamel.yaml's safe loader, which reports every error.

Parsed documents are JSON-shaped (str keys; dates as ISO strings) and cached on disk by Git blob
hash, so an unchanged file is never parsed twice across runs. The cache is JSON (never pickle) and
lives outside the repository, because PR plans read untrusted files. Round-trip loading, which
is about ten times slower, is used only by ``positions`` to find line and column for messages.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from reconciler.diagnostics import Diagnostic, SourcePos
from reconciler.loading import yaml_fast

_DOC_SPLIT = re.compile(rb"^---(?=\s|$)", re.MULTILINE)
CACHE_FORMAT = "1"


@dataclass
class ParsedFile:
    path: str
    documents: list[Any]
    diagnostics: list[Diagnostic]


def cache_dir() -> Path:
    base = os.environ.get("RECONCILER_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg, "reconciler", "parse")


def _safe_loader() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    return yaml


_LOADER: YAML | None = None


def _loader() -> YAML:
    global _LOADER
    if _LOADER is None:
        _LOADER = _safe_loader()
    return _LOADER


def _load_all(data: bytes) -> list[Any]:
    """Every document: PyYAML's C parser with YAML 1.2 resolvers first (``yaml_fast``), then
    ruamel's C loader, then what that rejects but the YAML spec allows (a plain scalar with ': '
    inside a flow mapping, as in ctrlc's ``config: {server: https://k8s.example.com}``) with
    ruamel's pure-Python loader. Raises ruamel's YAMLError for real syntax errors."""
    try:
        return [jsonable(d) for d in yaml_fast.load_all(data)]
    except yaml_fast.FastPathError:
        pass
    try:
        return [jsonable(d) for d in _loader().load_all(data)]
    except YAMLError:
        return [jsonable(d) for d in YAML(typ="safe", pure=True).load_all(data)]


def jsonable(value: Any) -> Any:
    """Normalise safe-loaded YAML to JSON types: str keys, timestamps as ISO strings."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def parse_file(path: str, data: bytes, blob: str | None = None, use_cache: bool = True) -> ParsedFile:
    """Documents of one file; syntax errors become diagnostics (one per broken document)."""
    cached = _cache_get(blob) if (blob and use_cache) else None
    if cached is not None:
        return ParsedFile(path, cached, [])
    try:
        docs = _load_all(data)
    except YAMLError:
        return _parse_per_document(path, data)
    if blob and use_cache:
        _cache_put(blob, docs)
    return ParsedFile(path, docs, [])


def _parse_per_document(path: str, data: bytes) -> ParsedFile:
    """Re-parse document by document so every broken document is reported, not only the first."""
    docs: list[Any] = []
    diags: list[Diagnostic] = []
    starts = [0] + [m.start() for m in _DOC_SPLIT.finditer(data) if m.start() > 0]
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(data)
        chunk = data[start:end]
        line_offset = data.count(b"\n", 0, start)
        try:
            docs.extend(_load_all(chunk))
        except YAMLError as exc:
            docs.append(None)
            diags.append(_syntax_diagnostic(path, exc, line_offset))
    return ParsedFile(path, docs, diags)


def _syntax_diagnostic(path: str, exc: YAMLError, line_offset: int) -> Diagnostic:
    line = col = 1
    problem = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid YAML"
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            line, col = mark.line + 1, mark.column + 1
        problem = exc.problem or exc.context or problem
    return Diagnostic(
        "YAML syntax error",
        f"{problem}. Fix the YAML syntax here (check indentation, colons and quoting).",
        SourcePos(path, line + line_offset, col),
    )


def _cache_path(blob: str) -> Path:
    return cache_dir() / CACHE_FORMAT / blob[:2] / f"{blob[2:]}.json"


def cached(blob: str) -> bool:
    """Whether the parse cache holds the documents of this blob."""
    return _cache_path(blob).exists()


def _cache_get(blob: str) -> list[Any] | None:
    try:
        return json.loads(_cache_path(blob).read_bytes())
    except (OSError, ValueError):
        return None


def _cache_put(blob: str, docs: list[Any]) -> None:
    target = _cache_path(blob)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(docs, separators=(",", ":"), default=str))
        os.replace(tmp, target)
    except OSError:
        pass  # the cache is an optimisation; a read-only home must not fail a plan
