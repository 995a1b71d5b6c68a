"""Edit the desired state from the CLI: add Version, Pin, Freeze and Approval documents, remove
Pin and Freeze documents, keeping every other byte of the files as it was.

An edit is computed first, as an ``Edit`` value (which file, its bytes before and after), then
applied: written, the workspace reloaded, and the file restored if the edit introduced an error
or the new document did not load. Choosing the file: ``--file`` if given; for a version, the file
that holds the deployment's newest Version document, else the deployment's own file; for pins,
freezes and approvals ``pins.yaml``, ``freezes.yaml`` and ``approvals.yaml`` at the root.
Committing an edit to Git is ``edit_git``'s job; resolving the acting user is the CLI's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, UsageError
from reconciler.loading import edit_docs, edit_yaml
from reconciler.loading.load import LoadResult, load_workspace
from reconciler.models.catalog import Catalog

DEFAULT_FILES = {"Pin": "pins.yaml", "Freeze": "freezes.yaml", "Approval": "approvals.yaml"}


@dataclass(frozen=True)
class Edit:
    """One file's change. ``before``/``after`` None mean the file is absent before/after."""

    root: Path
    path: str  # posix, relative to root
    before: bytes | None
    after: bytes | None
    summary: str  # one line; the default commit message
    identity: tuple[str, ...] = ()  # the document that must load afterwards (or, removing, must not)
    removes: bool = False

    @property
    def file(self) -> Path:
        return self.root / self.path


def load(directory: str | Path) -> LoadResult:
    result = load_workspace(str(directory))
    if result.catalog is None:
        raise ConfigError(result.diagnostics)
    return result


def version_edit(directory: str | Path, deployment: str, tag: str, *, created_at: datetime,
                 status: str = "ready", images: dict[str, str] | None = None, metadata: dict[str, str] | None = None,
                 config: dict[str, Any] | None = None, job_config: dict[str, Any] | None = None,
                 file: str | None = None) -> Edit:
    catalog = _catalog(directory)
    doc = edit_docs.version(catalog, deployment, tag, status=status, created_at=created_at,
                            image_refs=images or {}, metadata=metadata or {}, config=config or {},
                            job_config=job_config or {})
    path = _relative(catalog, file) if file else _version_file(catalog, deployment)
    return _append(catalog, path, doc, f"Add version {tag} of {deployment}", ("Version", deployment, tag))


def pin_edit(directory: str | Path, name: str, *, deployment: str, version: str, reason: str,
             environment: str | None = None, targets: list[str] | None = None, until: datetime | None = None,
             created_by: str = "", file: str | None = None) -> Edit:
    catalog = _catalog(directory)
    doc = edit_docs.pin(catalog, name, deployment=deployment, version_tag=version, reason=reason,
                        environment=environment, targets=list(targets or []), until=until,
                        created_by=created_by)
    path = _relative(catalog, file or DEFAULT_FILES["Pin"])
    return _append(catalog, path, doc, f"Pin {deployment} to {version} ({name}): {reason}", ("Pin", name))


def freeze_edit(directory: str | Path, name: str, *, reason: str, environment: str | None = None,
                deployment: str | None = None, until: datetime | None = None, created_by: str = "",
                file: str | None = None) -> Edit:
    catalog = _catalog(directory)
    doc = edit_docs.freeze(catalog, name, reason=reason, environment=environment, deployment=deployment,
                           until=until, created_by=created_by)
    path = _relative(catalog, file or DEFAULT_FILES["Freeze"])
    return _append(catalog, path, doc, f"Freeze {name}: {reason}", ("Freeze", name))


def approval_edit(directory: str | Path, deployment: str, version: str, environment: str, approved_by: str,
                  reason: str, status: str, at: datetime, file: str | None = None) -> Edit:
    catalog = _catalog(directory)
    doc = edit_docs.approval(catalog, deployment, version, environment, approved_by, reason, status, at)
    path = _relative(catalog, file or DEFAULT_FILES["Approval"])
    verb = "Approve" if status == "approved" else "Reject"
    return _append(catalog, path, doc, f"{verb} {deployment} {version} in {environment} ({approved_by})")


def removal_edit(directory: str | Path, kind: str, name: str) -> Edit:
    """Remove the ``kind`` document (Pin or Freeze) called ``name``; every other line stays."""
    catalog = _catalog(directory)
    origin = catalog.origins.get((kind, name))
    if origin is None:
        known = ", ".join(sorted(k[1] for k in catalog.origins if k[0] == kind)) or "none"
        raise UsageError(f"no {kind} named {name!r} (known: {known})")
    path, index = origin
    before = (Path(catalog.root) / path).read_bytes()
    text = edit_yaml.remove(before.decode("utf-8"), index)
    after = text.encode("utf-8") if text.strip() else None
    return Edit(Path(catalog.root), path, before, after, f"Remove {kind} {name}", (kind, name), removes=True)


def write_approval(directory: str | Path, deployment: str, version: str, environment: str, approved_by: str,
                   reason: str, status: str, at: datetime, file: str | None = None) -> Edit:
    """Append an Approval document (default ``approvals.yaml``) and check the workspace still loads."""
    edit = approval_edit(directory, deployment, version, environment, approved_by, reason, status, at, file)
    apply(edit)
    return edit


def apply(edit: Edit) -> None:
    """Write the edit, then reload: restore the file and raise if it broke anything."""
    baseline = _errors(load(edit.root))
    new_dirs = [d for d in edit.file.parents if edit.root in d.parents and not d.exists()]
    _write(edit.file, edit.after)
    try:
        result = load(edit.root)
    except Exception:
        _restore(edit, new_dirs)
        raise
    new = [d for d in result.diagnostics if d.severity == "error" and _key(d) not in baseline]
    if new:
        _restore(edit, new_dirs)
        raise ConfigError(new)
    loaded = edit.identity in result.catalog.origins  # type: ignore[union-attr]
    if edit.identity and loaded == edit.removes:
        _restore(edit, new_dirs)
        if edit.removes:
            kind, name = edit.identity
            raise UsageError(f"another {kind} named {name!r} remains; remove it by hand")
        raise UsageError(f"{edit.path} is not read as desired state (hidden, excluded or not YAML); "
                         "choose another --file")


def _restore(edit: Edit, new_dirs: list[Path]) -> None:
    _write(edit.file, edit.before)
    for folder in new_dirs:  # deepest first: the folders this edit created
        if folder.exists() and not any(folder.iterdir()):
            folder.rmdir()


def _catalog(directory: str | Path) -> Catalog:
    catalog = load(directory).catalog
    assert catalog is not None
    return catalog


def _version_file(catalog: Catalog, deployment: str) -> str:
    """The file holding the deployment's last-declared Version document, else its own file."""
    mine = [(order, tag) for (dep, tag), order in catalog.version_order.items() if dep == deployment]
    if mine:
        return catalog.origins[("Version", deployment, max(mine)[1])][0]
    return catalog.origins[("Deployment", deployment)][0]


def _relative(catalog: Catalog, file: str) -> str:
    root = Path(catalog.root).resolve()
    path = (root / file).resolve()
    if root != path and root not in path.parents:
        raise UsageError(f"--file {file} is outside the desired-state directory {root}")
    if path.suffix not in (".yaml", ".yml") or path.name == "reconciler.yaml":
        raise UsageError(f"--file {file} must be a .yaml or .yml document file")
    return path.relative_to(root).as_posix()


def _append(catalog: Catalog, path: str, doc: dict[str, Any], summary: str,
            identity: tuple[str, ...] = ()) -> Edit:
    file = Path(catalog.root) / path
    before = file.read_bytes() if file.exists() else None
    text = edit_yaml.append((before or b"").decode("utf-8"), doc)
    return Edit(Path(catalog.root), path, before, text.encode("utf-8"), summary, identity)


def _write(file: Path, data: bytes | None) -> None:
    if data is None:
        file.unlink(missing_ok=True)
        return
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)


def _errors(result: LoadResult) -> set[tuple[str, str, str]]:
    return {_key(d) for d in result.diagnostics if d.severity == "error"}


def _key(diagnostic: Any) -> tuple[str, str, str]:
    return (diagnostic.source.path, diagnostic.summary, diagnostic.detail)
