"""Local agent processes that never outlive their task: each runs in its own process group,
gets SIGTERM when the reconciler dies (Linux ``PR_SET_PDEATHSIG``), and is recorded in the task's
scratch folder, so that when a killed run's task is resumed the group still running from the
interrupted attempt is stopped before the next attempt starts (one attempt at a time per target).

A group is only signalled if one of its processes carries the token recorded with it in its
environment, so a reused process-group id is never hit.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

RECORD = "agent-process"
TOKEN_VAR = "RECONCILER_AGENT_GROUP"
_PR_SET_PDEATHSIG = 1


try:  # resolved here, in the parent: the child between fork and exec only makes the call
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: the scratch record still covers a resume
    _PRCTL = None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], scratch: Path | None) -> subprocess.Popen:
    """Start ``argv`` in a new process group with pipes; stop a leftover group of the same scratch
    folder first. Raises OSError as Popen does."""
    token = secrets.token_hex(8)
    if scratch is not None:
        reap(scratch)
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env={**env, TOKEN_VAR: token}, start_new_session=True,
                            preexec_fn=_die_with_parent if _PRCTL is not None else None)  # noqa: PLW1509
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
