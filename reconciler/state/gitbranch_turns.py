"""Fair turns for writers of one state branch from different clones (the remote is the referee).

Compare-and-swap pushes alone let a busy writer starve the others: its next push lands before a
rejected writer has fetched and replayed (fetch + push takes longer than one push). So a writer
rejected twice takes a ticket: it pushes ``refs/reconciler/waiting/<branch>/<ms>-<token>``,
pointing at a state commit the remote already has (the push sends no objects). Every writer reads
the tickets in the same ``ls-remote`` that reads the branch tip, and lets older tickets go first.
Tickets expire after ``TICKET_TTL`` seconds, so a crashed waiter blocks nobody for long; expired
tickets are deleted by the next writer that pushes its own ticket changes.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import git

TICKET_TTL = 15.0
NAMESPACE = "refs/reconciler/waiting"


@dataclass(frozen=True, order=True)
class Ticket:
    at_ms: int
    token: str

    @property
    def expired(self) -> bool:
        return time.time() * 1000 - self.at_ms > TICKET_TTL * 1000


class Turns:
    """The ticket queue of one branch on one remote, as seen and used by one writer."""

    def __init__(self, cmd: git.Git, remote: str, branch: str):
        self.cmd, self.remote, self.branch = cmd, remote, branch
        self.prefix = f"{NAMESPACE}/{branch}/"
        self.mine: Ticket | None = None
        self.stale: set[Ticket] = set()

    def survey(self) -> tuple[str | None, list[Ticket]]:
        """The remote's branch tip (None if absent) and the live tickets, oldest first."""
        head = f"refs/heads/{self.branch}"
        out = self.cmd.ls_remote(self.remote, head, f"{self.prefix}*")
        tip, tickets = None, []
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if ref == head:
                tip = sha
            elif ref.startswith(self.prefix):
                ticket = _parse(ref[len(self.prefix):])
                if ticket is not None:
                    if ticket.expired:
                        self.stale.add(ticket)
                    else:
                        tickets.append(ticket)
        return tip, sorted(tickets)

    def must_wait(self, tickets: list[Ticket]) -> bool:
        """True while a live ticket older than ours (or any ticket, if we hold none) is queued."""
        if self.mine is not None and self.mine.expired:
            self.mine = None
        others = [t for t in tickets if t != self.mine]
        return bool(others) and (self.mine is None or others[0] < self.mine)

    def take(self, commit: str) -> None:
        """Queue up (once), pointing the ticket at ``commit``, which the remote already has."""
        if self.mine is not None:
            return
        self.mine = Ticket(int(time.time() * 1000), secrets.token_hex(6))
        self._push(f"{commit}:{self._ref(self.mine)}")

    def leave(self) -> None:
        """Drop our ticket, if any, and sweep expired ones."""
        mine, self.mine = self.mine, None
        doomed = sorted(self.stale | ({mine} if mine else set()))
        self.stale = set()
        if doomed:
            self._push(*(f":{self._ref(t)}" for t in doomed))

    def _ref(self, ticket: Ticket) -> str:
        return f"{self.prefix}{ticket.at_ms}-{ticket.token}"

    def _push(self, *refspecs: str) -> None:
        try:
            self.cmd.push("--quiet", "--no-verify", self.remote, *refspecs)
        except git.GitCommandError:
            pass  # tickets are a courtesy: without one a writer still wins eventually, by retrying


def _parse(name: str) -> Ticket | None:
    at, _, token = name.partition("-")
    return Ticket(int(at), token) if at.isdigit() and token else None
