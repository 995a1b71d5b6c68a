"""Verdicts, the per-evaluation context, and scope memoization of rule results.

Each rule declares the scope its answer depends on (e.g. approval: environment × version), and
its verdict is computed once per scope value, as Ctrlplane's scope fields do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reconciler.models.keys import TargetKey
from reconciler.planning.plan import utc

if TYPE_CHECKING:
    from reconciler.models.catalog import Catalog
    from reconciler.models.entities import Deployment, Environment, Resource, Version
    from reconciler.planning.facts import Facts
    from reconciler.planning.policies.index import PlanIndex

ALLOW, PENDING, DENY = "allow", "pending", "deny"
_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # allow | pending | deny
    message: str = ""
    next_evaluation: datetime | None = None
    satisfied_at: datetime | None = None
    action: str | None = None  # approval | wait | None
    policy: str = ""
    rule: str = ""
    # The earliest time this verdict may change by the clock alone when ``next_evaluation`` does not
    # say it (an allowed verdict that expires); plan caches are valid only before it.
    until: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.status == ALLOW

    @property
    def changes_at(self) -> datetime | None:
        """The earliest time the clock alone may change this verdict (None: never)."""
        times = [t for t in (self.next_evaluation, self.until) if t is not None]
        return min(times) if times else None

    def named(self, policy: str, rule: str) -> Verdict:
        return Verdict(self.status, self.message, self.next_evaluation, self.satisfied_at, self.action, policy, rule,
                       self.until)


def allow(message: str = "", satisfied_at: datetime | None = None, next_evaluation: datetime | None = None,
          until: datetime | None = None) -> Verdict:
    return Verdict(ALLOW, message, next_evaluation, satisfied_at, until=until)


def pending(message: str, next_evaluation: datetime | None = None, action: str = "wait") -> Verdict:
    return Verdict(PENDING, message, next_evaluation, None, action)


def deny(message: str, next_evaluation: datetime | None = None) -> Verdict:
    return Verdict(DENY, message, next_evaluation)


@dataclass
class RuleContext:
    """One (target, candidate version) being evaluated, with shared read-only indexes."""

    catalog: Catalog
    facts: Facts
    index: PlanIndex
    key: TargetKey
    deployment: Deployment
    environment: Environment
    resource: Resource
    version: Version
    views: dict[str, Any]
    applicable: list[Any] | None = None  # (policy, index, kind, rule) of every rule for this target
    target_specific: bool = False  # set when a verdict depended on this very target (not only its scope)
    current: Any = _UNKNOWN  # the version the target runs, when the caller already looked it up

    @property
    def now(self) -> datetime:
        return self.facts.now

    @property
    def current_version(self) -> str | None:
        if self.current is _UNKNOWN:
            state = self.facts.states.get(str(self.key))
            self.current = state.version if state else None
        return self.current

    def scope_value(self, scope: str) -> Any:
        if scope == "environment":
            return (self.deployment.system, self.environment.name)
        if scope == "version":
            return (self.version.deployment, self.version.tag)
        if scope == "current":
            return self.current_version
        if scope == "reference":
            active = self.facts.active.get(str(self.key))
            return ("active", active[-1].version) if active else ("current", self.current_version)
        if scope in ("target", "resource"):
            self.target_specific = True
            return self.key if scope == "target" else self.key.resource
        return self.key.deployment  # "deployment"


def fmt_time(value: datetime) -> str:
    """Short UTC time for messages: ``2026-11-23 14:05Z`` (local times are converted to UTC)."""
    value = utc(value)
    return _minute(value.year, value.month, value.day, value.hour, value.minute)


@lru_cache(maxsize=65536)
def _minute(year: int, month: int, day: int, hour: int, minute: int) -> str:
    return f"{year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}Z"  # rollouts format one per target
