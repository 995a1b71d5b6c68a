"""Engine glue for generated artifacts: read templates from the desired-state source, render the
artifacts of releases, summarise artifact changes in a plan, carry what execution needs in a task's
job spec, and compute every target's desired release for ``reconciler render``.

Secrets: releases built at plan time hold ``<redacted>`` for secret variables, so everything
rendered here for plans, for the render directory and for history contains no secret value. Only
``render_for_execution`` sees real values (revealed by the caller) and its output goes to agents,
never to files under the desired-state directory.

Release id: artifacts carry ``artifact_release_id``, the release id computed without secret
digests, so they do not depend on which secrets the renderer's environment holds.

Revision: the lock header's ``revision`` is, by default, the release's *inputs revision*
(``inputs-`` + 16 hex of the release id and the template sources used), not the Git commit. A
commit cannot contain its own hash, and a commit hash would change every lock on every commit; the
inputs revision keeps committed renders, plan diffs and shipped files identical. The Git revision
goes into the task record and the version sticker.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from reconciler.engine.artifact_errors import Problems
from reconciler.engine.session import Session, gather_facts
from reconciler.errors import ConfigError, TemplateError
from reconciler.loading.source import Source
from reconciler.models.catalog import Catalog
from reconciler.models.entities import ArtifactSpec
from reconciler.planning import decide, dispatch
from reconciler.planning.build import PlanResult
from reconciler.planning.policies.index import PlanIndex
from reconciler.planning.releases import Release, build_release
from reconciler.planning.targets import compute_targets
from reconciler.rendering import outdir, sticker
from reconciler.rendering.artifacts import RenderedArtifact, render_artifacts
from reconciler.rendering.sandbox import render_value

DIFF_LINES = 400
Previous = Callable[[str], "dict[str, str] | None"]


def load_templates(source: Source, templates_dir: str) -> dict[str, str]:
    """Every UTF-8 file under ``templates_dir`` of ``source`` (worktree or ``--ref``), by relative path."""
    prefix = templates_dir.strip("/") + "/"
    out = {}
    for path, item in sorted(source.files.items()):
        if path.startswith(prefix):
            try:
                out[path[len(prefix):]] = item.read().decode("utf-8")
            except UnicodeDecodeError:
                continue  # not a template; a spec naming it gets "does not exist (or is not UTF-8 text)"
    return out


def template_context(release: Release) -> dict[str, Any]:
    """The release's template context: views, system, target, variables (secrets redacted), config."""
    return {**release.context, "variables": dict(release.variables), "config": release.config}


def _images(catalog: Catalog, release: Release) -> dict[str, str]:
    version = catalog.version(release.target.deployment, release.version)
    return dict(version.images) if version is not None else {}


def _used(specs: Iterable[ArtifactSpec], templates: Mapping[str, str]) -> dict[str, str]:
    return {s.template: templates[s.template] for s in specs if s.template and s.template in templates}


def inputs_revision(release_id: str, templates: Mapping[str, str]) -> str:
    """A content address of what a release's artifacts render from (see the module docstring)."""
    sources = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in sorted(templates.items())}
    data = json.dumps({"release": release_id, "templates": sources}, sort_keys=True)
    return "inputs-" + hashlib.sha256(data.encode()).hexdigest()[:16]


def artifact_release_id(catalog: Catalog, release: Release) -> str:
    """The release id written into artifacts: ``release.id`` computed without secret values (the
    same id when the deployment has no secret variables). Secret digests use a per-store key and
    the values at hand, so they would make committed renders differ between machines."""
    if not release.secrets:
        return release.id
    version = catalog.version(release.target.deployment, release.version)
    assert version is not None
    created = str(release.context.get("version", {}).get("createdAt", ""))
    return build_release(catalog, release.target, version, render_value, {}, (), created).id


def render_release(catalog: Catalog, release: Release, templates: Mapping[str, str], *,
                   revision: str | None = None) -> dict[str, RenderedArtifact]:
    """The artifacts of ``release``, keyed by path. TemplateError names the template, line and target."""
    dep = catalog.deployments[release.target.deployment]
    rid = artifact_release_id(catalog, release)
    rev = revision or inputs_revision(rid, _used(dep.artifacts, templates))
    try:
        return render_artifacts(dep.artifacts, templates, template_context(release), _images(catalog, release),
                                release_id=rid, revision=rev, templates_dir=catalog.config.templatesDir)
    except TemplateError as exc:
        raise TemplateError(f"{exc} (artifacts of {release.target})", exc.template, exc.line, exc.keys) from None


def summarize(rendered: Mapping[str, RenderedArtifact], before: Mapping[str, str] | None) -> dict[str, Any]:
    """``{path: {sha256, type, changed, diff}}``; a path only in ``before`` appears as removed."""
    before = before or {}
    out: dict[str, Any] = {}
    for path, art in rendered.items():
        old = before.get(path)
        changed = old != art.content
        out[path] = {"sha256": art.sha256, "type": art.type, "changed": changed,
                     "diff": unified_diff(path, old, art.content) if changed else None}
    for path in sorted(set(before) - set(rendered)):
        out[path] = {"sha256": None, "type": None, "changed": True, "diff": unified_diff(path, before[path], None)}
    return dict(sorted(out.items()))


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    lines = list(difflib.unified_diff((old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
                                      "/dev/null" if old is None else f"a/{path}",
                                      "/dev/null" if new is None else f"b/{path}"))
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"... ({len(lines) - DIFF_LINES} more diff lines)\n"]
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def plan_artifacts(catalog: Catalog, plan_result: PlanResult, templates: Mapping[str, str], previous: Previous,
                   *, revision: str | None = None, positions: Any = None) -> None:
    """Fill ``Change.artifacts`` of every change: the files its release renders, compared with
    ``previous(target)`` (an uninstall lists what it removes). ConfigError lists every template
    error, at the setting of the deployment it comes from when ``positions`` are given."""
    plan = plan_result.plan
    problems = Problems(catalog, positions)
    for i, change in enumerate(plan.changes):
        if change.release is None:
            gone = previous(str(change.key)) if change.operation == "uninstall" else None
            if gone:
                plan.changes[i] = dataclasses.replace(change, artifacts=summarize({}, gone))
            continue
        if not catalog.deployments[change.key.deployment].artifacts:
            continue
        try:
            rendered = render_release(catalog, change.release, templates, revision=revision)
        except TemplateError as exc:
            problems.add(change.key.deployment, exc, str(change.key))
            continue
        plan.changes[i] = dataclasses.replace(change, artifacts=summarize(rendered, previous(str(change.key))))
    if problems:
        raise ConfigError(problems.diagnostics())


# -- execution ----------------------------------------------------------------------------------

def artifact_job_spec(catalog: Catalog, release: Release, templates: Mapping[str, str], *,
                      revision: str | None = None) -> dict[str, Any]:
    """What a task's job spec needs to re-render its artifacts without Git (JSON-shaped): specs, the
    template sources used, images, revision, and the plan-time files' types and sha256s."""
    dep = catalog.deployments[release.target.deployment]
    if not dep.artifacts:
        return {}
    used = _used(dep.artifacts, templates)
    rid = artifact_release_id(catalog, release)
    rev = revision or inputs_revision(rid, used)
    rendered = render_release(catalog, release, templates, revision=rev)
    digest, _ = sticker.lock_digest({p: a.content for p, a in rendered.items()})
    return {
        "releaseId": rid,
        "revision": rev,
        "specs": [s.model_dump(mode="json", exclude_none=True) for s in dep.artifacts],
        "templates": used,
        "templatesDir": catalog.config.templatesDir,
        "images": _images(catalog, release),
        "files": {p: {"type": a.type, "sha256": a.sha256} for p, a in rendered.items()},
        "lockDigest": digest,
    }


def render_for_execution(spec: Mapping[str, Any], variables: Mapping[str, Any],
                         config: Mapping[str, Any]) -> dict[str, str]:
    """Artifacts of a stored job spec (``TaskRecord.job``) with revealed ``variables`` and ``config``
    (from ``planning.releases.materialize``): path → content for ``Job.artifacts``. The result may
    hold secret values: hand it to the agent only, never write it under the desired-state dir."""
    art = spec.get("artifacts") or {}
    if not art.get("specs"):
        return {}
    specs = [ArtifactSpec.model_validate(s) for s in art["specs"]]
    context = {**spec.get("context", {}), "variables": dict(variables), "config": dict(config)}
    rendered = render_artifacts(specs, art.get("templates", {}), context, art.get("images", {}),
                                release_id=str(art.get("releaseId", "")), revision=str(art.get("revision", "")),
                                templates_dir=art.get("templatesDir", "templates"))
    return {path: a.content for path, a in rendered.items()}


def previous_from_state(store: Any) -> Previous:
    """``previous`` for ``plan_artifacts``: what each target's last successful task shipped, re-rendered
    from its job spec with secrets redacted (as at plan time)."""
    states = store.target_states()

    def previous(target: str) -> dict[str, str] | None:
        state = states.get(target)
        if state is None:
            return None
        job = store.get_task(state.last_task_id).job
        return render_for_execution(job, job.get("variables", {}), job.get("config", {})) or None

    return previous


# -- desired releases ---------------------------------------------------------------------------

def desired_releases(session: Session, now: datetime, only: Iterable[str] | None = None, *, newest: bool = False
                     ) -> tuple[dict[str, Release], Problems]:
    """The release each target should run (whether or not the plan changes it), with the template
    errors of job configs (``Problems``). Targets with no deployable version are left out. With
    ``newest``, the newest ready version of each target instead, whatever the policies and
    recorded deployments say: what will run once every gate opens, a function of Git alone."""
    catalog = session.catalog
    facts = gather_facts(session, now)
    keys = compute_targets(catalog)
    index = PlanIndex.build(catalog, facts, keys)
    wanted = set(only) if only is not None else None
    out: dict[str, Release] = {}
    problems = Problems(catalog, session.workspace.loaded.positions)
    for key in keys:
        if wanted is not None and str(key) not in wanted:
            continue
        version = dispatch.newest_selected(index, key) if newest else decide.decide(index, key).version
        if version is None:
            continue
        created = index.created_at(version.deployment, version.tag).isoformat().replace("+00:00", "Z")
        try:
            out[str(key)] = build_release(catalog, key, version, render_value, facts.secret_digests,
                                          facts.placement_fields.get(key.deployment, ()), created)
        except TemplateError as exc:
            problems.add(key.deployment, exc, str(key))
    return out, problems


def render_targets(session: Session, now: datetime, only: Iterable[str] | None = None, *, newest: bool = False
                   ) -> dict[str, dict[str, RenderedArtifact]]:
    """Every selected target's desired artifacts (targets whose deployment declares some).
    Raises ConfigError with every template error; then nothing is rendered."""
    catalog = session.catalog
    with_artifacts = {str(k) for k in compute_targets(catalog) if catalog.deployments[k.deployment].artifacts}
    chosen = with_artifacts & set(only) if only is not None else with_artifacts
    releases, problems = desired_releases(session, now, chosen, newest=newest)
    templates = load_templates(session.workspace.loaded.source, catalog.config.templatesDir)
    out: dict[str, dict[str, RenderedArtifact]] = {}
    for target, release in sorted(releases.items()):
        try:
            out[target] = render_release(catalog, release, templates)
        except TemplateError as exc:
            problems.add(release.target.deployment, exc, target)
    if problems:
        raise ConfigError(problems.diagnostics())
    return out


# -- the render directory -----------------------------------------------------------------------

def read_tree(out: Path) -> dict[str, str]:
    """Every file under ``out`` by posix path relative to it (undecodable bytes replaced)."""
    if not out.is_dir():
        return {}
    return {p.relative_to(out).as_posix(): p.read_bytes().decode("utf-8", "replace")
            for p in sorted(out.rglob("*")) if p.is_file()}


def write_tree(out: Path, expected: Mapping[str, str], report: outdir.Report, *, clean: bool) -> list[str]:
    """Write the stale and missing files of ``report`` (and delete its extra files when ``clean``);
    returns what changed as ``wrote PATH`` / ``removed PATH`` lines."""
    done = []
    for rel in sorted([*report.stale, *report.missing]):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(expected[rel].encode("utf-8"))
        done.append(f"wrote {rel}")
    if clean:
        for rel in report.extra:
            (out / rel).unlink()
            done.append(f"removed {rel}")
            _prune_dirs((out / rel).parent, out)
    return done


def _prune_dirs(folder: Path, stop: Path) -> None:
    while folder != stop and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
