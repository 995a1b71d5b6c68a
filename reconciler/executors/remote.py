"""SSH and SFTP helpers shared by the agents that work on a remote host (``ssh``, ``compose``).

:func:`connect` opens a paramiko session with host-key checking ON by default (RejectPolicy
against a known_hosts file) and turns every failure into the agent error contract: an unknown or
changed host key and a refused key are ``TerminalError``; an unreachable host is
``TransientError``. :class:`RemoteSession` uploads files over SFTP and runs one shell command,
watching its timeout and the task's cancel request. Key material is never written to disk or put
in a message.
"""

from __future__ import annotations

import io
import posixpath
import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import paramiko

from reconciler.errors import TerminalError, TransientError
from reconciler.executors.artifacts import safe_relative
from reconciler.executors.base import ExecContext

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class SshTarget:
    """Where and how to log in; ``key_text`` is private key material read from an env var."""

    host: str
    port: int
    user: str
    key_file: Path | None = None
    key_text: str | None = None
    known_hosts: Path | None = None
    check_host_key: bool = True
    connect_timeout: float = 15.0

    @property
    def label(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"


@dataclass
class RemoteResult:
    """How a remote command ended: ``outcome`` is exited, timeout or canceled."""

    returncode: int | None
    out: str
    err: str
    outcome: str


def parse_destination(text: str) -> tuple[str | None, str, int]:
    """``user@host[:port]`` → (user or None, host, port or 22)."""
    user, _, rest = text.rpartition("@")
    host, port = rest, 22
    if rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
        if not port_text.isdigit():
            raise ValueError(f"invalid port in {text!r}; use user@host or user@host:2222")
        port = int(port_text)
    if not host:
        raise ValueError(f"invalid ssh destination {text!r}; use user@host or user@host:2222")
    return user or None, host, port


def load_key(target: SshTarget) -> paramiko.PKey:
    """The private key from ``key_file`` or ``key_text``; a bad key is a TerminalError."""
    try:
        if target.key_file is not None:
            return paramiko.PKey.from_path(target.key_file)
        for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                return cls.from_private_key(io.StringIO(target.key_text or ""))
            except paramiko.SSHException:
                continue
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise TerminalError(f"cannot load the ssh private key {target.key_file}: {type(exc).__name__}") from exc
    raise TerminalError("the ssh private key in the environment variable is not an ed25519, ecdsa or rsa key")


def connect(target: SshTarget) -> paramiko.SSHClient:
    """An authenticated client; the caller closes it."""
    client = paramiko.SSHClient()
    if target.check_host_key:
        _load_known_hosts(client, target)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
    else:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # in memory only, never saved
    try:
        client.connect(target.host, target.port, username=target.user, pkey=load_key(target),
                       timeout=target.connect_timeout, banner_timeout=target.connect_timeout,
                       auth_timeout=target.connect_timeout, allow_agent=False, look_for_keys=False)
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise TerminalError(f"the host key of {target.host}:{target.port} does not match {target.known_hosts}; "
                            "if the host was rebuilt, update that file") from exc
    except paramiko.AuthenticationException as exc:
        client.close()
        raise TerminalError(f"ssh authentication failed for {target.label}: the key was refused") from exc
    except paramiko.SSHException as exc:
        client.close()
        if "not found in known_hosts" in str(exc):
            raise TerminalError(f"{target.host}:{target.port} is not in {target.known_hosts}; add its host key "
                                f"(ssh-keyscan -p {target.port} {target.host}) or set hostKeyChecking: false") from exc
        raise TransientError(f"ssh to {target.label} failed: {exc}", retry_after=30) from exc
    except OSError as exc:  # includes socket timeouts
        client.close()
        raise TransientError(f"cannot reach {target.label}: {exc.strerror or type(exc).__name__}",
                             retry_after=30) from exc
    return client


def _load_known_hosts(client: paramiko.SSHClient, target: SshTarget) -> None:
    path = target.known_hosts
    if path is None or not path.is_file():
        raise TerminalError(f"known_hosts file {path} does not exist; create it with ssh-keyscan "
                            "or set hostKeyChecking: false")
    try:
        client.load_host_keys(str(path))
    except (OSError, paramiko.SSHException) as exc:
        raise TerminalError(f"cannot read known_hosts file {path}: {exc}") from exc


class RemoteSession:
    """Files and one command at a time on a connected host. Use as a context manager."""

    def __init__(self, target: SshTarget):
        self.target = target
        self.client = connect(target)
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sftp is not None:
            self._sftp.close()
        self.client.close()

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = self.client.open_sftp()
        return self._sftp

    def write_files(self, directory: str, files: dict[str, str], mode: int | None = None) -> None:
        """Write ``files`` (relative path → text) under ``directory``, creating directories; ``mode``
        is applied before any content is written (0o600 for files holding secrets)."""
        for rel, text in sorted(files.items()):
            path = posixpath.join(directory, safe_relative(rel))
            self.makedirs(posixpath.dirname(path))
            with self._errors(f"write {path}"), self.sftp.open(path, "w") as handle:
                if mode is not None:
                    handle.chmod(mode)
                handle.write(text.encode("utf-8"))

    def read_text(self, path: str) -> str | None:
        """The text of ``path``, or None when it does not exist."""
        with self._errors(f"read {path}"):
            try:
                with self.sftp.open(path, "r") as handle:
                    data: bytes = handle.read()
                    return data.decode("utf-8", "replace")
            except FileNotFoundError:
                return None

    def makedirs(self, directory: str) -> None:
        current = "/" if directory.startswith("/") else ""
        with self._errors(f"create directory {directory}"):
            for part in [p for p in directory.split("/") if p]:
                current = posixpath.join(current, part) if current else part
                try:
                    self.sftp.stat(current)
                except FileNotFoundError:
                    self.sftp.mkdir(current)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """SFTP failures as agent errors: a refused operation is terminal, a dropped link transient."""
        try:
            yield
        except paramiko.SSHException as exc:
            raise TransientError(f"ssh connection to {self.target.label} failed: {exc}", retry_after=30) from exc
        except OSError as exc:
            raise TerminalError(f"cannot {action} on {self.target.label}: {exc.strerror or exc}") from exc

    def run(self, command: str, *, env: dict[str, str], cwd: str | None, timeout: float,
            ctx: ExecContext) -> RemoteResult:
        """Run ``command`` in the login shell with ``env`` exported, inside ``cwd``.

        The exports travel on stdin (``eval "$(cat)"``), never on the command line, so variable values
        (which may be secrets) do not show in the remote process list. The command's stdin is empty.
        """
        prefix = 'eval "$(cat)" && '
        if cwd:
            prefix += f"cd {shlex.quote(cwd)} && "
        transport = self.client.get_transport()
        if transport is None:
            raise TransientError(f"the ssh connection to {self.target.label} was closed", retry_after=30)
        channel = transport.open_session()
        channel.exec_command(prefix + command)
        channel.sendall("".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items())).encode())
        channel.shutdown_write()
        return _collect(channel, timeout, ctx)


def _collect(channel: paramiko.Channel, timeout: float, ctx: ExecContext) -> RemoteResult:
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + timeout
    outcome = "exited"
    while not (channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready()):
        _drain(channel, out, err)
        if time.monotonic() > deadline:
            outcome = "timeout"
        elif ctx.cancel_requested is not None and ctx.cancel_requested():
            outcome = "canceled"
        if outcome != "exited":
            channel.close()
            return RemoteResult(None, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), outcome)
        time.sleep(POLL_SECONDS)
    _drain(channel, out, err)
    code = channel.recv_exit_status()
    channel.close()
    return RemoteResult(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), outcome)


def _drain(channel: paramiko.Channel, out: bytearray, err: bytearray) -> None:
    while channel.recv_ready():
        out.extend(channel.recv(65536))
    while channel.recv_stderr_ready():
        err.extend(channel.recv_stderr(65536))
