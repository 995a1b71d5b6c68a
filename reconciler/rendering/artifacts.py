"""Render a deployment's artifacts for one release: compose files and locks, env files, systemd
units, nginx configs, Kubernetes manifests and plain files.

``render_artifacts`` takes the artifact specs, the template sources (path under the templates dir
→ text), the release's template context and the version's images, and returns the rendered files
keyed by path. Templates see the context plus ``release`` (``id``, ``revision``, ``target``,
``version``) and ``images``. An artifact's ``path`` may itself be a template. Each type is checked
after rendering (see ``checks``); compose locks are built by ``compose``. Any failure raises
TemplateError naming the template file (or artifact path) and line; nothing is returned then.

Pure: no file I/O and no clock, so the same inputs give byte-identical files. Every file ends with
exactly one newline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import TemplateError
from reconciler.models.entities import ArtifactSpec
from reconciler.rendering import checks, compose, formats
from reconciler.rendering.sandbox import render_text, render_value

TYPES = ("compose-file", "compose-lock", "env-file", "systemd-unit", "nginx-config", "manifest", "file")


@dataclass(frozen=True)
class RenderedArtifact:
    """One rendered file: where it goes (relative), its type, its text and the sha256 of that text."""

    path: str
    type: str
    content: str
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "type": self.type, "sha256": self.sha256}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Job:
    spec: ArtifactSpec
    path: str
    templates: Mapping[str, str]
    context: Mapping[str, Any]
    images: Mapping[str, str]
    templates_dir: str

    def template_name(self) -> str:
        return f"{self.templates_dir}/{self.spec.template}" if self.templates_dir else str(self.spec.template)

    def render(self) -> str:
        """The artifact's template rendered; an error if the spec names none or it does not exist."""
        name = self.spec.template
        if not name:
            raise TemplateError(f"artifact {self.path} ({self.spec.type}) needs 'template:'", self.path)
        source = self.templates.get(name)
        if source is None:
            raise TemplateError(f"artifact {self.path}: template {self.template_name()} does not exist (or is not "
                                "UTF-8 text)", self.template_name())
        return render_text(source, self.context, self.template_name())


def render_artifacts(specs: Sequence[ArtifactSpec], templates: Mapping[str, str], context: Mapping[str, Any],
                     images: Mapping[str, str], *, release_id: str, revision: str,
                     templates_dir: str = "templates") -> dict[str, RenderedArtifact]:
    """Every artifact of ``specs`` rendered for one release, keyed by path (sorted)."""
    ctx = release_context(context, images, release_id=release_id, revision=revision)
    out: dict[str, RenderedArtifact] = {}
    for index, spec in enumerate(specs):
        try:
            path = artifact_path(spec.path, ctx, index)
            if path in out:
                raise TemplateError(f"two artifacts render to the same path {path}", path)
            job = _Job(spec, path, templates, ctx, images, templates_dir)
            content = _normalise(RENDERERS[spec.type](job))
        except TemplateError as exc:
            if not exc.keys:  # (an error inside a template file is still reported at its own line)
                exc.keys = ("artifacts", index)
            raise
        out[path] = RenderedArtifact(path, spec.type, content, sha256(content))
    return dict(sorted(out.items()))


def release_context(context: Mapping[str, Any], images: Mapping[str, str], *, release_id: str,
                    revision: str) -> dict[str, Any]:
    """The template context: the release's context plus ``release`` and ``images``."""
    version = context.get("version") or {}
    release = {"id": release_id, "revision": revision, "target": context.get("target", ""),
               "version": version.get("tag", "") if isinstance(version, Mapping) else str(version)}
    return {**context, "release": release, "images": dict(images)}


def artifact_path(source: str, context: Mapping[str, Any], index: int) -> str:
    """The rendered, checked relative path of an artifact (no absolute paths, no ``..``)."""
    path = str(render_value(source, context, f"artifacts[{index}].path")) if "{" in source else source
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise TemplateError(f"artifacts[{index}].path {path!r} must be a relative path without '.', '..' or "
                            "empty parts", f"artifacts[{index}].path")
    return path


def _normalise(text: str) -> str:
    text = text.rstrip("\n")
    return text + "\n" if text else ""


def _compose_lock(job: _Job) -> str:
    spec = job.spec
    text = job.render() if spec.template else compose.lock_from_services(spec.services)
    release = job.context["release"]
    return compose.build_lock(text, job.images, services=spec.services, release_id=release["id"],
                              revision=release["revision"], target=release["target"], version=release["version"],
                              name=job.path)


def _env_file(job: _Job) -> str:
    spec = job.spec
    if not spec.template and not spec.values:
        raise TemplateError(f"artifact {job.path} (env-file) needs 'values:' or 'template:'", job.path)
    head = job.render() if spec.template else ""
    items = [(key, _value(job, key, value)) for key, value in spec.values.items()]
    body = formats.env_lines(items)
    return head + ("\n" if head and not head.endswith("\n") else "") + body


def _value(job: _Job, key: str, value: Any) -> Any:
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return render_value(value, job.context, f"{job.path}: values.{key}")
    return value


def _checked(check: Callable[[str, str], None]) -> Callable[[_Job], str]:
    def render(job: _Job) -> str:
        text = job.render()
        check(text, job.path)
        return text

    return render


RENDERERS: dict[str, Callable[[_Job], str]] = {
    "compose-file": _checked(checks.compose_file),
    "compose-lock": _compose_lock,
    "env-file": _env_file,
    "systemd-unit": _checked(checks.systemd_unit),
    "nginx-config": _checked(checks.nginx_config),
    "manifest": _checked(checks.manifest),
    "file": lambda job: job.render(),
}
