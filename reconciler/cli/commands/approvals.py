"""``reconciler approve`` and ``reconciler reject``: one vote per actor per version × environment."""

from __future__ import annotations

import click

from reconciler.cli import clock, options


def _vote_options(f):
    f = click.option("--file", "git_file", default=None, metavar="PATH",
                     help="With --git: the file to append to (default approvals.yaml).")(f)
    f = click.option("--push", is_flag=True, help="With --commit: push the branch.")(f)
    f = click.option("--branch", default=None, metavar="B", help="With --commit: commit on branch B.")(f)
    f = click.option("--message", "-m", default=None, metavar="M", help="With --commit: the commit message.")(f)
    f = click.option("--commit", is_flag=True, help="With --git: commit the Approval document.")(f)
    f = click.option("--git", "in_git", is_flag=True,
                     help="Write an Approval document into the desired state instead of recording it in state, "
                          "so the approval can be a reviewed pull request.")(f)
    f = click.option("--reason", default="", help="Why (recorded in history).")(f)
    f = click.option("--environment", "environment", required=True, metavar="ENV")(f)
    f = click.option("--version", "version", required=True, metavar="TAG")(f)
    f = click.option("--deployment", "deployment", required=True, metavar="NAME")(f)
    f = options.actor(f)
    f = options.state(f)
    f = options.directory(f)
    return click.option("--at", "at", default=None, hidden=True)(f)


def _vote_in_git(status, directory, actor, deployment, version, environment, reason, at, git_file, commit,
                 message, branch, push) -> int:
    from reconciler.cli.commands.edit import GitOptions, run_edit
    from reconciler.engine.identity import resolve_actor
    from reconciler.loading import edit

    who = resolve_actor(actor)
    when = clock.clock_for(clock.parse_at(at))()
    verb = "approval" if status == "approved" else "rejection"
    run_edit(directory, lambda: edit.approval_edit(directory, deployment, version, environment, who.name, reason,
                                                   status, when, git_file),
             GitOptions(commit, message, branch, push), actor,
             lambda e: f"wrote the {verb} of {deployment} {version} in {environment} by {who.name} to {e.path}")
    return 0


def _vote(status: str, directory, state_url, actor, deployment, version, environment, reason, at,
          in_git=False, git_file=None, commit=False, message=None, branch=None, push=False) -> int:
    if in_git:
        return _vote_in_git(status, directory, actor, deployment, version, environment, reason, at, git_file,
                            commit, message, branch, push)
    if commit or push or branch:
        from reconciler.errors import UsageError

        raise UsageError("--commit, --branch and --push need --git (a state approval is not a Git change)")
    from reconciler.engine.identity import resolve_actor
    from reconciler.engine.operations import record_vote
    from reconciler.engine.session import open_session

    session = open_session(directory, None, state_url)
    try:
        who = resolve_actor(actor)
        record_vote(session, deployment, version, environment, who, status, reason,
                    clock.clock_for(clock.parse_at(at))())
    finally:
        session.close()
    verb = "approved" if status == "approved" else "rejected"
    click.echo(f"{who.name} {verb} {deployment} {version} in {environment}")
    return 0


@click.command()
@_vote_options
def approve(directory, state_url, actor, deployment, version, environment, reason, at, in_git, commit, message,
            branch, push, git_file) -> int:
    """Approve a version of a deployment in an environment (in state, or with --git as a document)."""
    return _vote("approved", directory, state_url, actor, deployment, version, environment, reason, at,
                 in_git, git_file, commit, message, branch, push)


@click.command()
@_vote_options
def reject(directory, state_url, actor, deployment, version, environment, reason, at, in_git, commit, message,
           branch, push, git_file) -> int:
    """Reject a version in an environment; it will not deploy there."""
    return _vote("rejected", directory, state_url, actor, deployment, version, environment, reason, at,
                 in_git, git_file, commit, message, branch, push)
