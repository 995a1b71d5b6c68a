"""Where an agent writes files and runs programs: a local directory, or a directory on an SSH host.

Both kinds offer the same small interface (write, read, child, run), so an agent such as compose
is written once for both. A local program runs without a shell (``run_argv``); a remote one runs
as a quoted command line in the login shell. Results use ``remote.RemoteResult`` either way.
"""

from __future__ import annotations

import os
import posixpath
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reconciler.executors import artifacts, remote
from reconciler.executors.base import ExecContext
from reconciler.executors.builtin.command import run_argv


@dataclass
class LocalPlace:
    """A directory on this machine; relative paths resolve against the desired-state directory."""

    directory: Path

    def write(self, files: dict[str, str]) -> None:
        artifacts.write_local(self.directory, files)

    def read(self, rel: str) -> str | None:
        path = self.directory / artifacts.safe_relative(rel)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def child(self, name: str) -> LocalPlace:
        return LocalPlace(self.directory / artifacts.safe_relative(name))

    def run(self, argv: list[str], env: dict[str, str], timeout: float, ctx: ExecContext) -> remote.RemoteResult:
        self.directory.mkdir(parents=True, exist_ok=True)
        done = run_argv(argv, cwd=self.directory, env={**os.environ, **env}, timeout=timeout, ctx=ctx)
        return remote.RemoteResult(done.returncode, done.out.decode("utf-8", "replace"),
                                   done.err.decode("utf-8", "replace"), done.outcome)


@dataclass
class RemotePlace:
    """A directory on an SSH host, relative to the login directory unless absolute."""

    session: remote.RemoteSession
    directory: str

    def write(self, files: dict[str, str]) -> None:
        self.session.write_files(self.directory, files)

    def read(self, rel: str) -> str | None:
        return self.session.read_text(posixpath.join(self.directory, artifacts.safe_relative(rel)))

    def child(self, name: str) -> RemotePlace:
        return RemotePlace(self.session, posixpath.join(self.directory, artifacts.safe_relative(name)))

    def run(self, argv: list[str], env: dict[str, str], timeout: float, ctx: ExecContext) -> remote.RemoteResult:
        self.session.makedirs(self.directory)
        return self.session.run(shlex.join(argv), env=env, cwd=self.directory, timeout=timeout, ctx=ctx)


Place = LocalPlace | RemotePlace


@contextmanager
def open_place(target: remote.SshTarget | None, directory: str, workdir: Path) -> Iterator[Place]:
    """A local place under ``workdir`` when ``target`` is None, else a remote one (connection closed on exit)."""
    if target is None:
        path = Path(os.path.expanduser(directory))
        yield LocalPlace(path if path.is_absolute() else workdir / path)
        return
    with remote.RemoteSession(target) as session:
        yield RemotePlace(session, directory)
