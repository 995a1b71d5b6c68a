"""Local agent processes that never outlive their task: each runs in its own process group,
gets SIGTERM when the reconciler dies (Linux ``PR_SET_PDEATHSIG``, through util-linux ``setpriv``), and is recorded in the task's
scratch folder, so that when a killed run's task is resumed the group still running from the
interrupted attempt is stopped before the next attempt starts (one attempt at a time per target).

A group is only signalled if one of its processes carries the token recorded with it in its
environment, so a reused process-group id is never hit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

RECORD = "agent-process"
TOKEN_VAR = "RECONCILER_AGENT_GROUP"
_SETPRIV = shutil.which("setpriv")  # util-linux: sets PR_SET_PDEATHSIG, then execs the program


def _with_parent_death_signal(argv: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """``argv`` run so that it gets SIGTERM when the reconciler dies. Through ``setpriv`` rather
    than a ``preexec_fn``: that would stop subprocess from using vfork and halve task throughput.
    A program that cannot be found is left unwrapped, so Popen reports it as it always does."""
    if _SETPRIV is None or os.environ.get("RECONCILER_NO_PDEATHSIG"):
        return argv  # the scratch record still stops a leftover group before a resumed attempt
    program = argv[0]
    if "/" in program:
        found = os.access(program if os.path.isabs(program) else os.path.join(cwd, program), os.X_OK)
    else:
        found = _on_path(program, env.get("PATH"))
    return [_SETPRIV, "--pdeathsig", "TERM", "--", *argv] if found else argv


_FOUND: dict[tuple[str, str | None], str] = {}  # (program, PATH) -> where it was found last


def _on_path(program: str, path: str | None) -> bool:
    """Whether ``program`` is on ``path``: where it was found last is checked first (one access
    check instead of a search of every folder for every task), else the search runs again."""
    key = (program, path)
    last = _FOUND.get(key)
    if last is not None and os.path.isfile(last) and os.access(last, os.X_OK):
        return True
    found = shutil.which(program, path=path)
    if found is None:
        _FOUND.pop(key, None)
        return False
    if len(_FOUND) < 256:
        _FOUND[key] = found
    return True


def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], scratch: Path | None) -> subprocess.Popen:
    """Start ``argv`` in a new process group with pipes; stop a leftover group of the same scratch
    folder first. Raises OSError as Popen does."""
    token = secrets.token_hex(8)
    if scratch is not None:
        reap(scratch)
    proc = subprocess.Popen(_with_parent_death_signal(argv, cwd, env), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=cwd, env={**env, TOKEN_VAR: token}, start_new_session=True)
    if scratch is not None:
        with contextlib.suppress(OSError):
            (scratch / RECORD).write_text(f"{socket.gethostname()} {proc.pid} {token}\n")
    return proc


def finished(scratch: Path | None) -> None:
    """The process group ended normally: forget it."""
    if scratch is not None:
        with contextlib.suppress(OSError):
            (scratch / RECORD).unlink()


def reap(scratch: Path, grace: float = 5.0) -> bool:
    """Stop the process group an interrupted attempt left running (same host only). True if one was."""
    try:
        host, pgid, token = (scratch / RECORD).read_text().split()
    except (OSError, ValueError):
        return False
    finished(scratch)
    if host != socket.gethostname() or not _ours(int(pgid), token):
        return False
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 1.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(pgid), sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _members(int(pgid)):
            time.sleep(0.05)
        if not _members(int(pgid)):
            break
    return True


def _members(pgid: int) -> list[int]:
    """Live (not zombie) processes of group ``pgid`` (Linux /proc; empty elsewhere)."""
    out = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry.parent.name))
    return out


def _ours(pgid: int, token: str) -> bool:
    needle = f"{TOKEN_VAR}={token}".encode()
    for pid in _members(pgid):
        try:
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                return True
        except OSError:
            continue
    return False
