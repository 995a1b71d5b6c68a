"""``reconciler version add``, ``reconciler pin`` and ``reconciler freeze``: edit the desired state's
YAML (comments and formatting kept) and optionally commit the edit (``--commit``, ``--push``).

This module orchestrates: ``loading.edit`` computes and applies the edit, ``loading.edit_git``
commits it, ``engine.identity`` names the actor. ``run_edit`` is reusable by other commands that
write documents (``approve --git``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from reconciler.cli import options
from reconciler.errors import UsageError


@dataclass(frozen=True)
class GitOptions:
    commit: bool = False
    message: str | None = None
    branch: str | None = None
    push: bool = False

    def check(self) -> None:
        if not self.commit and (self.message or self.branch or self.push):
            raise UsageError("--message, --branch and --push only apply together with --commit")


def git_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--push", is_flag=True, help="Push the branch after committing.")(f)
    f = click.option("--branch", default=None, metavar="B", help="Commit on branch B (created if needed).")(f)
    f = click.option("--message", "-m", default=None, metavar="M", help="Commit message.")(f)
    f = click.option("--commit", is_flag=True,
                     help="Commit the edit (refused if other files are changed).")(f)
    f = options.actor(f)
    return options.directory(f)


def run_edit(directory: str, compute: Callable[[], Any], git_opts: GitOptions, actor: str | None,
             done: Callable[[Any], str]) -> Any:
    """Compute, apply and (with ``--commit``) commit an edit; returns the applied ``Edit``.

    ``done(edit)`` is the line printed once the file is written. With ``--commit`` the work tree
    is checked first: any change other than the edited file refuses the command before anything
    is written.
    """
    from reconciler.engine.identity import resolve_actor
    from reconciler.loading import edit as edits
    from reconciler.loading import edit_git

    git_opts.check()
    if not git_opts.commit:
        applied = compute()
        edits.apply(applied)
        click.echo(done(applied))
        return applied
    repo = edit_git.open_repo(Path(directory).resolve())
    edit_git.refuse_if_dirty(repo, edit_git.repo_path(repo, compute().file))
    previous, created = edit_git.current_branch(repo), None
    try:
        if git_opts.branch:
            created = git_opts.branch if edit_git.switch_branch(repo, git_opts.branch) else None
        applied = compute()  # again: the branch we switched to may hold other content
        edits.apply(applied)
    except Exception:
        edit_git.undo_branch(repo, previous, created)
        raise
    click.echo(done(applied))
    who = resolve_actor(actor).name
    path = edit_git.repo_path(repo, applied.file)
    sha = edit_git.commit(repo, path, git_opts.message or applied.summary, who, deleted=applied.after is None)
    branch = edit_git.current_branch(repo)
    click.echo(f"Committed {sha[:12]} on {branch or 'detached HEAD'} as {who}")
    if git_opts.push:
        click.echo(f"Pushed {branch} to {edit_git.push(repo, branch)}")
    return applied


def _when(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    from reconciler.models.common import parse_time

    try:
        return parse_time(text)
    except ValueError as exc:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 time such as 2026-01-15T12:00:00Z") from exc


def _opts(commit: bool, message: str | None, branch: str | None, push: bool) -> GitOptions:
    return GitOptions(commit, message, branch, push)


@click.group()
def version() -> None:
    """Add Version documents (CI registers each build)."""


@version.command("add")
@click.argument("deployment")
@click.argument("tag")
@click.option("--status", default="ready", show_default=True,
              type=click.Choice(["building", "ready", "failed", "rejected", "paused"]))
@click.option("--image", "images", multiple=True, metavar="NAME=REPO@sha256:…", help="A digest-pinned image.")
@click.option("--metadata", multiple=True, metavar="K=V", help="Version metadata (strings).")
@click.option("--config", multiple=True, metavar="K=V", help="Version config (values read as YAML).")
@click.option("--job-config", "job_config", multiple=True, metavar="K=V", help="jobAgentConfig entries.")
@click.option("--created-at", "created_at", default=None, metavar="ISO8601", help="Default: now.")
@click.option("--file", "file", default=None, metavar="PATH", help="Append to this file instead.")
@git_options
def version_add(deployment, tag, status, images, metadata, config, job_config, created_at, file,
                directory, actor, commit, message, branch, push) -> int:
    """Append a Version document for DEPLOYMENT with tag TAG (createdAt = now)."""
    from reconciler.loading import edit as edits
    from reconciler.loading import edit_docs

    at = _when(created_at, "--created-at") or datetime.now(UTC)
    image_refs = edit_docs.images(images)
    meta = edit_docs.pairs(metadata, "--metadata", typed=False)
    conf = edit_docs.pairs(config, "--config", typed=True)
    job = edit_docs.pairs(job_config, "--job-config", typed=True)

    def compute():
        return edits.version_edit(directory, deployment, tag, created_at=at, status=status, images=image_refs,
                                  metadata=meta, config=conf, job_config=job, file=file)

    run_edit(directory, compute, _opts(commit, message, branch, push), actor,
             lambda e: f"Added version {tag} of {deployment} to {e.path}")
    return 0


@click.command()
@click.argument("name")
@click.option("--remove", is_flag=True, help="Delete the Pin called NAME instead.")
@click.option("--deployment", default=None, metavar="D")
@click.option("--version", "version_tag", default=None, metavar="TAG", help="The version to hold targets on.")
@click.option("--reason", default=None, help="Why (required when adding).")
@click.option("--environment", default=None, metavar="E", help="Only targets in this environment.")
@click.option("--target", "targets", multiple=True, metavar="KEY", help="Only these release targets.")
@click.option("--until", default=None, metavar="ISO8601", help="The pin ends at this time.")
@click.option("--file", "file", default=None, metavar="PATH", help="Default: pins.yaml at the root.")
@git_options
def pin(name, remove, deployment, version_tag, reason, environment, targets, until, file,
        directory, actor, commit, message, branch, push) -> int:
    """Write a Pin document: hold DEPLOYMENT's targets on a version (or downgrade deliberately)."""
    from reconciler.engine.identity import resolve_actor
    from reconciler.loading import edit as edits

    if remove:
        return _remove("Pin", name, directory, actor, _opts(commit, message, branch, push))
    missing = [flag for flag, value in (("--deployment", deployment), ("--version", version_tag),
                                        ("--reason", reason)) if not value]
    if missing:
        raise UsageError(f"pin {name} needs {', '.join(missing)} (or --remove to delete it)")
    end, who = _when(until, "--until"), resolve_actor(actor).name

    def compute():
        return edits.pin_edit(directory, name, deployment=deployment, version=version_tag, reason=reason,
                              environment=environment, targets=list(targets), until=end, created_by=who,
                              file=file)

    run_edit(directory, compute, _opts(commit, message, branch, push), actor,
             lambda e: f"Pinned {deployment} to {version_tag} ({name}) in {e.path}")
    return 0


@click.command()
@click.argument("name")
@click.option("--remove", is_flag=True, help="Delete the Freeze called NAME instead.")
@click.option("--reason", default=None, help="Why (required when adding).")
@click.option("--environment", default=None, metavar="E", help="Only this environment.")
@click.option("--deployment", default=None, metavar="D", help="Only this deployment.")
@click.option("--until", default=None, metavar="ISO8601", help="The freeze ends at this time.")
@click.option("--file", "file", default=None, metavar="PATH", help="Default: freezes.yaml at the root.")
@git_options
def freeze(name, remove, reason, environment, deployment, until, file, directory, actor, commit, message,
           branch, push) -> int:
    """Write a Freeze document: stop every change in scope until it expires or is removed."""
    from reconciler.engine.identity import resolve_actor
    from reconciler.loading import edit as edits

    if remove:
        return _remove("Freeze", name, directory, actor, _opts(commit, message, branch, push))
    if not reason:
        raise UsageError(f"freeze {name} needs --reason (or --remove to delete it)")
    end, who = _when(until, "--until"), resolve_actor(actor).name

    def compute():
        return edits.freeze_edit(directory, name, reason=reason, environment=environment,
                                 deployment=deployment, until=end, created_by=who, file=file)

    run_edit(directory, compute, _opts(commit, message, branch, push), actor,
             lambda e: f"Froze {name} in {e.path}")
    return 0


def _remove(kind: str, name: str, directory: str, actor: str | None, git_opts: GitOptions) -> int:
    from reconciler.loading import edit as edits

    def done(edit: Any) -> str:
        gone = " (the file is now empty and was deleted)" if edit.after is None else ""
        return f"Removed {kind} {name} from {edit.path}{gone}"

    run_edit(directory, lambda: edits.removal_edit(directory, kind, name), git_opts, actor, done)
    return 0
