"""Desired-state sources: the working tree (default) or any Git revision, read without checkout.

A directory that is not inside a Git repository still works; its revision is ``worktree``. Files
are identified by their Git blob hash, which also keys the parse cache.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from reconciler.errors import SourceError, UsageError

CONFIG_FILE = "reconciler.yaml"
YAML_SUFFIXES = (".yaml", ".yml")


def blob_hash(data: bytes) -> str:
    """Git's blob id for ``data`` (sha1 of ``blob <len>\\0<data>``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class SourceFile:
    """One file of a source; its bytes and blob id are read lazily and then kept."""

    __slots__ = ("path", "_read", "_data", "_blob", "dirty")

    def __init__(self, path: str, blob: str | None, read: Callable[[], bytes]):
        self.path = path  # posix path relative to the desired-state directory
        self._read = read
        self._data: bytes | None = None
        self._blob = blob
        self.dirty = False

    def read(self) -> bytes:
        if self._data is None:
            self._data = self._read()
        return self._data

    @property
    def blob(self) -> str:
        if self._blob is None:
            self._blob = blob_hash(self.read())
        return self._blob


@dataclass
class Source:
    """The files of one desired-state directory at one revision."""

    root: Path
    revision: str
    dirty: bool
    files: dict[str, SourceFile]
    git_root: Path | None = None

    def yaml_files(self, skip: list[str]) -> list[SourceFile]:
        """Desired-state YAML files, sorted, skipping hidden folders, the config and ``skip`` patterns."""
        out = []
        for path, item in sorted(self.files.items()):
            if path == CONFIG_FILE or not path.endswith(YAML_SUFFIXES):
                continue
            if _hidden(path) or _excluded(path, skip):
                continue
            out.append(item)
        return out

    def read_text(self, path: str) -> str | None:
        item = self.files.get(path)
        return item.read().decode("utf-8") if item else None


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in PurePosixPath(path).parts[:-1])


def _excluded(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        pattern = pattern.strip("/")
        if not pattern:
            continue
        if path.startswith(pattern + "/") or fnmatch.fnmatch(path, pattern):
            return True
    return False


def open_source(directory: str | os.PathLike[str], ref: str | None = None) -> Source:
    """Open ``directory`` at ``ref`` (a Git revision) or as the working tree when ``ref`` is None."""
    root = Path(directory).resolve()
    if not root.is_dir():
        raise UsageError(f"directory {str(directory)!r} does not exist; pass the desired-state folder with -C DIR")
    repo = _repo_for(root)
    if ref is not None:
        if repo is None:
            raise UsageError(f"--ref {ref} needs a Git repository, but {root} is not inside one")
        return _from_commit(root, repo, ref)
    return _from_worktree(root, repo)


def _repo_for(root: Path):  # -> git.Repo | None
    try:
        import git
    except ImportError:  # pragma: no cover - gitpython is a dependency
        return None
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _prefix(root: Path, repo) -> str:
    rel = root.relative_to(Path(repo.working_tree_dir).resolve()).as_posix()
    return "" if rel == "." else rel


def _from_commit(root: Path, repo, ref: str) -> Source:
    import git

    try:
        commit = repo.commit(ref)
    except (git.BadName, ValueError, git.GitCommandError) as exc:
        raise UsageError(f"unknown Git revision {ref!r}; give a branch, tag or commit of this repository "
                         "('git log --oneline' lists commits)") from exc
    prefix = _prefix(root, repo)
    try:
        tree = commit.tree / prefix if prefix else commit.tree
    except KeyError as exc:
        raise SourceError(f"{prefix!r} does not exist at revision {ref}") from exc
    files = {}
    for item in tree.traverse():
        if item.type != "blob":
            continue
        rel = PurePosixPath(item.path).relative_to(prefix).as_posix() if prefix else item.path
        files[rel] = SourceFile(rel, item.hexsha, _blob_reader(item))
    return Source(root, commit.hexsha, False, files, Path(repo.working_tree_dir))


def _blob_reader(blob) -> Callable[[], bytes]:
    return lambda: blob.data_stream.read()


def _from_worktree(root: Path, repo) -> Source:
    files: dict[str, SourceFile] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            files[rel] = SourceFile(rel, None, _file_reader(full, rel))
    if repo is None:
        return Source(root, "worktree", False, files)
    return _mark_dirty(root, repo, files)


def _file_reader(full: Path, rel: str) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            return full.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {rel}: {exc}") from exc

    return read


def _mark_dirty(root: Path, repo, files: dict[str, SourceFile]) -> Source:
    prefix = _prefix(root, repo)
    committed: dict[str, str] = {}
    try:
        head = repo.head.commit
    except ValueError:  # a repository without commits
        head = None
    if head is not None:
        try:
            tree = head.tree / prefix if prefix else head.tree
            for item in tree.traverse():
                if item.type == "blob":
                    rel = PurePosixPath(item.path).relative_to(prefix).as_posix() if prefix else item.path
                    committed[rel] = item.hexsha
        except KeyError:
            pass
    dirty = False
    for rel, item in files.items():
        if _hidden(rel) or not (rel.endswith(YAML_SUFFIXES) or rel in committed):
            continue
        if committed.get(rel) != item.blob:
            item.dirty = dirty = True
    if any(rel not in files and not _hidden(rel) for rel in committed):
        dirty = True
    revision = (head.hexsha if head is not None else "worktree") + ("+dirty" if dirty and head is not None else "")
    return Source(root, revision, dirty, files, Path(repo.working_tree_dir))
