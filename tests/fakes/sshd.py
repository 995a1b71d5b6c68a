"""A throwaway OpenSSH server on 127.0.0.1: its own host key, one authorized client key, no PAM,
SFTP built in. Logs in as the user running the tests. ``sshd_binary`` finds the server
(``RECONCILER_SSHD`` overrides the path)."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CONFIG = """\
ListenAddress 127.0.0.1
HostKey {dir}/host_key
AuthorizedKeysFile {dir}/authorized_keys
PidFile {dir}/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
"""


@dataclass(frozen=True)
class Sshd:
    host: str
    port: int
    user: str
    client_key: Path  # authorized
    other_key: Path  # a valid key the server does not know
    known_hosts: Path  # holds the server's real host key
    wrong_known_hosts: Path  # holds another key for the same host
    log: Path


def sshd_binary() -> str | None:
    """``$RECONCILER_SSHD``, else sshd on PATH, else /usr/sbin/sshd; None when not executable."""
    found = os.environ.get("RECONCILER_SSHD") or shutil.which("sshd") or "/usr/sbin/sshd"
    return found if os.access(found, os.X_OK) else None


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_banner(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}: {log.read_text()[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not start listening on {port}: {log.read_text()[-500:]}")


@contextmanager
def running_sshd(directory: Path, binary: str) -> Iterator[Sshd]:
    """Start sshd in ``directory`` on a free port; stop it on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    host_pub = _keygen(directory / "host_key")
    client_pub = _keygen(directory / "client_key")
    _keygen(directory / "other_key")
    decoy_pub = _keygen(directory / "decoy_host_key")
    (directory / "authorized_keys").write_text(client_pub + "\n")
    (directory / "sshd_config").write_text(CONFIG.format(dir=directory))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    port = _free_port()
    known, wrong = directory / "known_hosts", directory / "wrong_known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {' '.join(host_pub.split()[:2])}\n")
    wrong.write_text(f"[127.0.0.1]:{port} {' '.join(decoy_pub.split()[:2])}\n")
    log = directory / "sshd.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([binary, "-D", "-e", "-f", str(directory / "sshd_config"), "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_banner(port, proc, log)
        yield Sshd("127.0.0.1", port, getpass.getuser(), directory / "client_key", directory / "other_key",
                   known, wrong, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
