"""Load a desired-state directory into a validated Catalog plus every diagnostic found.

``load_workspace`` is the entry point: read ``reconciler.yaml``, parse every YAML file, validate
each document against its model, index them (reporting duplicates against the first definition)
and run the cross-document checks in ``checks``. Nothing is written except the parse cache.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from reconciler.diagnostics import Diagnostic, SourcePos
from reconciler.errors import UsageError
from reconciler.loading import celtables, checks, doccache, model_errors, prefetch
from reconciler.loading.positions import PositionIndex
from reconciler.loading.source import CONFIG_FILE, Source, open_source
from reconciler.loading.yaml_reader import parse_file
from reconciler.models.catalog import Catalog
from reconciler.models.common import Document
from reconciler.models.documents import DOCUMENT_TYPES
from reconciler.models.policy import RULE_TYPES, Policy
from reconciler.models.workspace import WorkspaceConfig


@dataclass
class Loaded:
    """A document that validated, with where it came from."""

    model: Document
    path: str
    index: int
    data: dict[str, Any]


@dataclass
class LoadResult:
    catalog: Catalog | None
    diagnostics: list[Diagnostic]
    source: Source
    positions: PositionIndex
    documents: list[Loaded] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.catalog is not None and not any(d.severity == "error" for d in self.diagnostics)


def load_workspace(directory: str, ref: str | None = None, use_cache: bool = True) -> LoadResult:
    source = open_source(directory, ref)
    positions = PositionIndex(lambda p: source.files[p].read() if p in source.files else None)
    diags: list[Diagnostic] = []
    config = _load_config(source, positions, diags)
    skip = ([config.templatesDir, config.renderDir, "policy-tests", *config.exclude] if config
            else ["templates", "rendered", "policy-tests"])
    loaded: list[Loaded] = []
    files = source.yaml_files(skip)
    if use_cache:
        prefetch.warm(files)
    reuse = use_cache and doccache.enabled()
    for item in files:
        found = doccache.remembered(item.path, item.blob) if reuse else None
        if found is None:
            found = _load_file(item, use_cache, reuse, positions, diags)
        loaded.extend(found)
    catalog = None
    if config is not None:
        catalog = Catalog(config=config, revision=source.revision, dirty=source.dirty, root=str(source.root))
        _index(catalog, loaded, positions, diags)
        if use_cache:
            celtables.prime()
        diags.extend(checks.check_catalog(catalog, loaded, positions))
    diags.sort(key=lambda d: d.sort_key())
    return LoadResult(catalog, diags, source, positions, loaded)


def _load_file(item, use_cache: bool, reuse: bool, positions: PositionIndex, diags: list[Diagnostic]) -> list[Loaded]:
    """The valid documents of one file; its problems are added to ``diags``."""
    parsed = parse_file(item.path, item.read(), item.blob, use_cache=use_cache)
    diags.extend(parsed.diagnostics)
    before = len(diags)
    fast = reuse and not parsed.diagnostics and doccache.validated_before(item.blob)
    out = []
    for index, doc in enumerate(parsed.documents):
        if doc is None:
            continue
        model = doccache.construct(doc) if fast else None
        if model is None:
            model = _validate_document(doc, item.path, index, positions, diags)
        if model is not None:
            out.append(Loaded(model, item.path, index, doc))
    if reuse and not parsed.diagnostics and len(diags) == before:
        doccache.remember(item.path, item.blob, out)
        if not fast:
            doccache.mark_validated(item.blob)
    return out


def _load_config(source: Source, positions: PositionIndex, diags: list[Diagnostic]) -> WorkspaceConfig | None:
    item = source.files.get(CONFIG_FILE)
    if item is None:
        raise UsageError(
            f"no {CONFIG_FILE} in {source.root}; create one with at least 'workspace: NAME', or pass -C DIR"
        )
    parsed = parse_file(CONFIG_FILE, item.read(), None, use_cache=False)
    diags.extend(parsed.diagnostics)
    docs = [d for d in parsed.documents if d is not None]
    if parsed.diagnostics:
        return None
    data = docs[0] if docs else {}
    if not isinstance(data, dict):
        diags.append(Diagnostic("Wrong type", f"{CONFIG_FILE} must be a mapping such as 'workspace: NAME'.",
                                SourcePos(CONFIG_FILE, 1, 1)))
        return None
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as exc:
        locate = lambda path, key: positions.locate(CONFIG_FILE, 0, path, key=key)  # noqa: E731
        diags.extend(model_errors.diagnostics_from(exc, data, CONFIG_FILE, WorkspaceConfig, locate))
        return None


def _validate_document(doc: Any, path: str, index: int, positions: PositionIndex, diags: list[Diagnostic]):
    def locate(keys, key=False):
        return positions.locate(path, index, keys, key=key)

    if not isinstance(doc, dict):
        diags.append(Diagnostic("Not a mapping", "Every document must be a mapping with a 'type:' field.", locate(())))
        return None
    kind = doc.get("type")
    known = ", ".join(DOCUMENT_TYPES)
    if kind is None:
        diags.append(Diagnostic("Missing document type", f"Add 'type:' with one of: {known}.", locate(())))
        return None
    if kind not in DOCUMENT_TYPES:
        close = difflib.get_close_matches(str(kind), list(DOCUMENT_TYPES), n=1)
        hint = f"Did you mean {close[0]!r}? " if close else ""
        diags.append(Diagnostic("Unknown document type", f"{kind!r} is not a document type. {hint}Use one of: {known}.",
                                locate(("type",))))
        return None
    model_cls = DOCUMENT_TYPES[kind]
    rule_errors = _check_rules(doc, locate) if kind == "Policy" else []
    diags.extend(rule_errors)
    try:
        model = model_cls.model_validate(doc)
    except ValidationError as exc:
        diags.extend(model_errors.diagnostics_from(exc, doc, kind, model_cls, locate))
        return None if rule_errors else _without_bad_fields(model_cls, doc, exc)
    return None if rule_errors else model


def _without_bad_fields(model_cls, doc: dict[str, Any], exc: ValidationError):
    """The document without the top-level fields that failed (already reported), if it is valid so:
    the cross-document checks (references, selectors) then still see it, so every error in a file
    is reported in one pass. None when a required field is the problem."""
    bad = {e["loc"][0] for e in exc.errors() if e["loc"] and isinstance(e["loc"][0], str) and e["loc"][0] != "type"}
    if not bad:
        return None
    try:
        return model_cls.model_validate({k: v for k, v in doc.items() if k not in bad})
    except ValidationError:
        return None


def _check_rules(doc: dict[str, Any], locate) -> list[Diagnostic]:
    rules = doc.get("rules")
    if not isinstance(rules, list):
        return []
    out: list[Diagnostic] = []
    known = ", ".join(RULE_TYPES)
    for i, item in enumerate(rules):
        if not isinstance(item, dict) or len(item) != 1:
            out.append(Diagnostic("Invalid rule", f"rules[{i}] must be a one-key map such as '- anyApproval: "
                                  "{minApprovals: 1}'.", locate(("rules", i))))
            continue
        (kind, body), = item.items()
        if kind not in RULE_TYPES:
            close = difflib.get_close_matches(str(kind), list(RULE_TYPES), n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            out.append(Diagnostic("Unknown rule type", f"{kind!r} is not a rule. {hint}Known rules: {known}.",
                                  locate(("rules", i, kind), key=True)))
            continue
        try:
            RULE_TYPES[kind].model_validate(body if body is not None else {})
        except ValidationError as exc:
            prefix = ("rules", i, kind)
            loc = lambda keys, key=False, _p=prefix: locate((*_p, *keys), key=key)  # noqa: E731
            out.extend(model_errors.diagnostics_from(exc, body, f"rule {kind}", RULE_TYPES[kind], loc))
    return out


def _identity(model: Document) -> tuple[str, ...] | None:
    kind = model.type  # type: ignore[attr-defined]
    if kind == "Resource":
        return (kind, model.identifier)  # type: ignore[attr-defined]
    if kind == "Environment":
        return (kind, model.system, model.name)  # type: ignore[attr-defined]
    if kind == "Version":
        return (kind, model.deployment, model.tag)  # type: ignore[attr-defined]
    if kind == "Approval":
        return None
    return (kind, model.name)  # type: ignore[attr-defined]


_DESCRIBE = {"Environment": "environment {2!r} in system {1!r}", "Version": "version {2!r} of deployment {1!r}",
             "Resource": "resource with identifier {1!r}"}


def _index(catalog: Catalog, loaded: list[Loaded], positions: PositionIndex, diags: list[Diagnostic]) -> None:
    for order, item in enumerate(loaded):
        ident = _identity(item.model)
        if ident is not None and ident in catalog.origins:
            first = positions.locate(*catalog.origins[ident])
            what = _DESCRIBE.get(ident[0], ident[0].lower() + " named {1!r}").format(*ident)
            field = {"Resource": "identifier", "Version": "tag"}.get(ident[0], "name")
            diags.append(Diagnostic(f"Duplicate {ident[0].lower()}",
                                    f"A {what} was already defined at {first}; rename or remove one of them.",
                                    positions.locate(item.path, item.index, (field,))))
            continue
        if ident is not None:
            catalog.origins[ident] = (item.path, item.index)
        _add(catalog, item.model, order)


def _add(catalog: Catalog, model: Any, order: int) -> None:
    kind = model.type
    if kind == "System":
        catalog.systems[model.name] = model
    elif kind == "Resource":
        catalog.resources[model.identifier] = model
    elif kind == "Environment":
        catalog.environments[(model.system, model.name)] = model
    elif kind == "JobAgent":
        catalog.agents[model.name] = model
    elif kind == "Deployment":
        catalog.deployments[model.name] = model
    elif kind == "Version":
        catalog.versions.setdefault(model.deployment, []).append(model)
        catalog.version_order[(model.deployment, model.tag)] = order
    elif kind == "Policy":
        catalog.policies.append(model)
    elif kind == "VariableSet":
        catalog.variable_sets.append(model)
    elif kind == "Approval":
        catalog.approvals.append(model)
    elif kind == "Freeze":
        catalog.freezes.append(model)
    elif kind == "Pin":
        catalog.pins.append(model)
    elif kind == "PolicySkip":
        catalog.skips.append(model)


__all__ = ["LoadResult", "Loaded", "load_workspace", "Policy"]
