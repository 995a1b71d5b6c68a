"""The state branch of the ``git+branch:`` backend: find it, read its tip, publish commits safely.

Where the tip lives: with a remote (``origin`` when the repository has one, or the ``@REMOTE`` of
``git+branch:NAME@REMOTE``) the remote branch is the truth and ``refs/remotes/REMOTE/NAME`` caches
it; without one, the local branch ``refs/heads/NAME`` is the truth. The user's HEAD, index and
work tree are never touched.

How a write works (optimistic concurrency): read the remote tip (``ls-remote``; fetch only if it
moved), evaluate the change on it, build the new tree and commit in the object database, then
compare-and-swap the branch: a push with ``--force-with-lease=NAME:<tip>`` to the remote, or
``git update-ref NAME <new> <tip>`` locally. If another writer moved the branch first, the push
is rejected and the change is replayed on the new tip; after two rejections the writer queues
for a fair turn (``gitbranch_turns``). Writers in one clone also queue on a file lock in the Git
directory, so they never race each other. Reads fetch first, too.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import git
from git.refs.symbolic import SymbolicReference

from reconciler.errors import StateError, UsageError
from reconciler.state.gitbranch_objects import ObjectStore, Snapshot, Transaction
from reconciler.state.gitbranch_turns import Ticket, Turns

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: in-process locking only
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
ZERO = "0" * 40
WRITE_TIMEOUT = 120.0
AUTHOR = "reconciler <reconciler@users.noreply.reconciler.dev>"
_RETRYABLE = ("[rejected]", "[remote rejected]", "stale info", "fetch first", "non-fast-forward",
              "cannot lock ref", "failed to update ref", "failed to lock", "incorrect old value")


def parse_url(url: str) -> tuple[str, str | None]:
    """``git+branch:NAME[@REMOTE]`` → (NAME, REMOTE or None)."""
    rest = url[len("git+branch:"):]
    name, _, remote = rest.partition("@")
    if not name:
        raise UsageError(f"state URL {url!r} names no branch; use git+branch:NAME or git+branch:NAME@REMOTE")
    return name, remote or None


class Branch:
    """One state branch of one repository. Thread-safe; every Git access holds ``self.mutex``."""

    def __init__(self, url: str, root: Path, *, readonly: bool, readme: bytes):
        self.name, explicit = parse_url(url)
        self.readonly, self.readme = readonly, readme
        self.repo = _open_repo(root)
        self.repo.git.update_environment(GIT_TERMINAL_PROMPT="0")
        _check_name(self.repo, self.name)
        names = {r.name for r in self.repo.remotes}
        if explicit and explicit not in names:
            raise StateError(f"state URL {url!r} names remote {explicit!r}, "
                             f"but {self.location} has no such remote")
        self.remote = explicit or ("origin" if "origin" in names else None)
        self.ref = f"refs/remotes/{self.remote}/{self.name}" if self.remote else f"refs/heads/{self.name}"
        self.turns = Turns(self.repo.git, self.remote, self.name) if self.remote else None
        self.objects = ObjectStore(self.repo.odb)
        self.mutex = threading.RLock()
        self.last_write_seconds = 0.0
        self.replays = 0  # writes replayed because another writer moved the branch first

    @property
    def location(self) -> str:
        return str(self.repo.working_tree_dir or self.repo.git_dir)

    def describe(self) -> str:
        where = f"remote {self.remote}" if self.remote else "local only"
        return f"git+branch:{self.name} ({where}, repository {self.location})"

    def close(self) -> None:
        with self.mutex:
            self.repo.close()

    # -- reading --------------------------------------------------------------------------------
    @contextmanager
    def reading(self, prefix: tuple[str, ...]) -> Iterator[Snapshot]:
        """A snapshot of the freshest tip (fetched first when there is a remote)."""
        with self.mutex:
            yield self._snapshot(self._sync(), prefix)

    def _snapshot(self, commit: str | None, prefix: tuple[str, ...]) -> Snapshot:
        tree = self.repo.commit(commit).tree.binsha if commit else None
        return Snapshot(self.objects, commit, tree, prefix)

    def _local_tip(self) -> str | None:
        try:
            return SymbolicReference.dereference_recursive(self.repo, self.ref)
        except (ValueError, OSError):
            return None

    def _sync(self) -> str | None:
        """The newest tip: the local ref, refreshed from the remote when there is one."""
        if self.turns is None:
            return self._local_tip()
        with self._file_lock():
            return self._catch_up(self._survey()[0])

    def _survey(self) -> tuple[str | None, list[Ticket]]:
        assert self.turns is not None
        try:
            return self.turns.survey()
        except git.GitCommandError as exc:
            raise StateError(f"cannot reach the remote of {self.describe()}: {_tail(exc.stderr)}") from exc

    def _catch_up(self, remote_tip: str | None) -> str | None:
        """Make ``self.ref`` the remote's tip, fetching it if needed (caller holds the file lock)."""
        local = self._local_tip()
        if remote_tip == local:
            return local
        if remote_tip is None:
            self.repo.git.update_ref("-d", self.ref)
            return None
        try:
            self.repo.git.fetch("--quiet", "--no-tags", "--no-write-fetch-head", self.remote,
                                f"+refs/heads/{self.name}:{self.ref}")
        except git.GitCommandError as exc:
            raise StateError(f"cannot fetch state from {self.describe()}: {_tail(exc.stderr)}") from exc
        return self._local_tip()

    # -- writing --------------------------------------------------------------------------------
    def write(self, prefix: tuple[str, ...], mutate: Callable[[Transaction], T], message: str) -> T:
        """Apply ``mutate`` to the newest state and publish it as one commit; replay on conflicts.

        ``mutate`` may run several times (once per replay), each time on a fresh transaction.
        """
        if self.readonly:
            raise StateError(f"the state at {self.describe()} was opened read-only; refusing to write")
        started = time.perf_counter()
        with self.mutex, self._file_lock():
            try:
                result = self._write_locked(prefix, mutate, message)
            finally:
                if self.turns is not None:
                    self.turns.leave()
        self.last_write_seconds = time.perf_counter() - started
        return result

    def _write_locked(self, prefix: tuple[str, ...], mutate: Callable[[Transaction], T], message: str) -> T:
        deadline = time.monotonic() + WRITE_TIMEOUT
        rejections = 0
        while True:
            base = self._await_turn(deadline)
            tx = Transaction(self._snapshot(base, prefix))
            result = mutate(tx)
            tree = self._new_tree(tx)
            if tree is None or self._publish(self._commit(tree, base, message), base):
                return result
            rejections += 1
            self.replays += 1
            if time.monotonic() > deadline:
                raise StateError(f"gave up writing to {self.describe()}: {rejections} pushes were rejected "
                                 f"in {WRITE_TIMEOUT:g}s because other writers kept moving the branch")
            if rejections >= 2 and base is not None and self.turns is not None:
                self.turns.take(base)
            time.sleep(random.uniform(0, 0.01))

    def _await_turn(self, deadline: float) -> str | None:
        """The newest tip, once no older ticket is queued (or the deadline is near)."""
        if self.turns is None:
            return self._local_tip()
        while True:
            tip, tickets = self._survey()
            if not self.turns.must_wait(tickets) or time.monotonic() > deadline - WRITE_TIMEOUT / 4:
                return self._catch_up(tip)
            time.sleep(random.uniform(0.005, 0.03))

    def _new_tree(self, tx: Transaction) -> bytes | None:
        """The root tree with the transaction applied, or None when nothing changes."""
        if not tx.changes:
            return None
        changes = {tx.prefix + path: None if data is None else self.objects.put_blob(data)
                   for path, data in tx.changes.items()}
        if not self.objects.entries(tx.tree).get("README.md"):
            changes[("README.md",)] = self.objects.put_blob(self.readme)
        tree = self.objects.write_tree(tx.tree, changes)
        return None if tree == tx.tree else tree

    def _commit(self, tree: bytes, parent: str | None, message: str) -> str:
        body = f"{message}\n\nby {_whoami()}\n"
        return self.objects.put_commit(tree, [parent] if parent else [], AUTHOR, int(time.time()), body)

    def _publish(self, commit: str, base: str | None) -> bool:
        """Compare-and-swap the branch from ``base`` to ``commit``; False when someone moved it."""
        try:
            if self.remote is None:
                self.repo.git.update_ref("-m", "reconciler state", self.ref, commit, base or ZERO)
                return True
            self.repo.git.push("--quiet", "--no-verify",
                               f"--force-with-lease=refs/heads/{self.name}:{base or ''}",
                               self.remote, f"{commit}:refs/heads/{self.name}")
        except git.GitCommandError as exc:
            detail = f"{exc.stdout}\n{exc.stderr}"
            if any(marker in detail for marker in _RETRYABLE):
                return False
            raise StateError(f"cannot publish state to {self.describe()}: {_tail(exc.stderr)}") from exc
        self.repo.git.update_ref(self.ref, commit)
        return True

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Serialize writers and fetches of this branch across threads and processes of one clone."""
        if fcntl is None:
            yield
            return
        path = Path(self.repo.common_dir) / f"reconciler-state-{self.name.replace('/', '-')}.lock"
        with open(path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _open_repo(root: Path) -> git.Repo:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise StateError(f"the git+branch: state backend needs a Git repository, "
                         f"and {root} is not in one") from exc


def _check_name(repo: git.Repo, name: str) -> None:
    try:
        repo.git.check_ref_format(f"refs/heads/{name}")
    except git.GitCommandError as exc:
        raise UsageError(f"{name!r} is not a valid Git branch name for the state branch") from exc


def _whoami() -> str:
    try:
        user = os.getlogin()
    except OSError:
        user = os.environ.get("USER", "unknown")
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def _tail(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"
