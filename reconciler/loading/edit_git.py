"""Commit a CLI edit with gitpython: refuse on unrelated changes, switch branch, commit, push.

The order matters and is the caller's: ``open_repo`` and ``unrelated_changes`` before any file is
written (so a refusal writes nothing), ``switch_branch`` next, then the edit, then ``commit`` and
``push``. Commits go through the index of the repository with an explicit author, so no editor
or hook runs; only the edited file is staged.
"""

from __future__ import annotations

from pathlib import Path

import git

from reconciler.errors import SourceError, UsageError

NOREPLY = "users.noreply.reconciler.dev"


def open_repo(directory: Path) -> git.Repo:
    try:
        return git.Repo(directory, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise UsageError(f"--commit needs a Git repository, and {directory} is not inside one") from exc


def repo_path(repo: git.Repo, file: Path) -> str:
    """``file`` relative to the repository's work tree, in Git's notation."""
    work_tree = Path(str(repo.working_tree_dir)).resolve()
    return file.resolve().relative_to(work_tree).as_posix()


def unrelated_changes(repo: git.Repo, allowed: set[str]) -> list[str]:
    """Changed, staged or untracked paths (ignored ones excepted) other than ``allowed``."""
    out = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all")
    entries = out.split("\0")
    paths, i = [], 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            i += 1  # a rename also names its source
    return sorted(p for p in paths if p not in allowed)


def refuse_if_dirty(repo: git.Repo, edited: str) -> None:
    others = unrelated_changes(repo, {edited})
    if others:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise UsageError(f"refusing to commit: the work tree has unrelated changes ({shown}); "
                         "commit or stash them first, or run without --commit")


def current_branch(repo: git.Repo) -> str | None:
    return None if repo.head.is_detached else repo.active_branch.name


def switch_branch(repo: git.Repo, branch: str) -> bool:
    """Check out ``branch``, creating it at HEAD if needed; True when it was created."""
    if current_branch(repo) == branch:
        return False
    exists = branch in [h.name for h in repo.heads]
    try:
        repo.git.checkout(branch) if exists else repo.git.checkout("-b", branch)
    except git.GitCommandError as exc:
        raise UsageError(f"cannot switch to branch {branch!r}: {_tail(exc.stderr)}") from exc
    return not exists


def author(repo: git.Repo, actor: str) -> git.Actor:
    """The actor as author; the email from git config if it has one, else a no-reply address."""
    email = repo.config_reader().get_value("user", "email", default="")
    return git.Actor(actor, str(email) or f"{actor}@{NOREPLY}")


def commit(repo: git.Repo, path: str, message: str, actor: str, *, deleted: bool = False) -> str:
    """Stage exactly ``path`` and commit it; the new commit's id."""
    if deleted:
        repo.index.remove([path], working_tree=False)
    else:
        repo.index.add([path])
    who = author(repo, actor)
    return repo.index.commit(message, author=who, committer=who).hexsha


def push(repo: git.Repo, branch: str | None) -> str:
    """Push ``branch`` to its upstream remote (default origin); the remote's name."""
    if branch is None:
        raise UsageError("--push needs a branch, and HEAD is detached; pass --branch NAME")
    tracking = repo.heads[branch].tracking_branch()
    remote = tracking.remote_name if tracking is not None else "origin"
    if remote not in [r.name for r in repo.remotes]:
        raise UsageError(f"--push: the repository has no remote {remote!r}")
    try:
        repo.git.push(remote, f"refs/heads/{branch}:refs/heads/{branch}")
    except git.GitCommandError as exc:
        raise SourceError(f"committed, but the push to {remote} failed: {_tail(exc.stderr)}") from exc
    return remote


def undo_branch(repo: git.Repo, previous: str | None, created: str | None) -> None:
    """Go back to ``previous`` after a failed edit, deleting ``created`` if we made it."""
    if previous is not None and current_branch(repo) != previous:
        repo.git.checkout(previous)
    if created is not None and created != previous:
        repo.git.branch("-D", created)


def _tail(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"
