"""The Policy document and one model per rule type (Ctrlplane's rule set plus ours).

A policy applies to a release target when any of its ``selectors`` entries matches (each entry's
``environments``, ``deployments`` and ``resources`` CEL strings are ANDed; a missing key means
"true"). All rules of all enabled, matching policies are ANDed; ``priority`` only orders them.
Every rule item is a one-key map such as ``- anyApproval: {minApprovals: 1}``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reconciler.models.common import Document, Duration, Metadata, Name, Selector
from reconciler.models.statuses import normalize_status


class Rule(BaseModel):
    """Base class of rule bodies; unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AnyApproval(Rule):
    minApprovals: int = Field(default=1, ge=0)


def _cel_or_wrapped(value: Any) -> Any:
    # The Ctrlplane CLI era wrapped CEL as {cel: "..."}; accept both.
    if isinstance(value, dict) and set(value) == {"cel"}:
        return value["cel"]
    return value


class EnvironmentProgression(Rule):
    dependsOnEnvironmentSelector: Selector
    minimumSuccessPercentage: float = Field(default=0, ge=0, le=100)
    minimumSoakTimeMinutes: float = Field(default=0, ge=0, alias="minimumSoakTimeMinutes")
    maximumAgeHours: float | None = Field(default=None, gt=0)
    successStatuses: list[str] = Field(default_factory=lambda: ["done"])
    requireVerificationPassed: bool = False

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "minimumSockTimeMinutes" in data and "minimumSoakTimeMinutes" not in data:
                data["minimumSoakTimeMinutes"] = data.pop("minimumSockTimeMinutes")  # Ctrlplane's typo
            if "dependsOnEnvironmentSelector" in data:
                data["dependsOnEnvironmentSelector"] = _cel_or_wrapped(data["dependsOnEnvironmentSelector"])
        return data

    @field_validator("successStatuses")
    @classmethod
    def _statuses(cls, value: list[str]) -> list[str]:
        return [normalize_status(v) for v in value]


class GradualRollout(Rule):
    rolloutType: Literal["linear", "linear-normalized"] = "linear"
    timeScaleInterval: Duration


class DeploymentWindow(Rule):
    rrule: str
    duration: Duration
    timezone: str = "UTC"
    allow: bool = True

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}; use an IANA name such as Europe/Berlin or UTC") from None
        return value

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str) -> str:
        from dateutil import rrule as dateutil_rrule

        try:
            dateutil_rrule.rrulestr(value.strip().removeprefix("RRULE:"), ignoretz=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid RRULE {value!r} ({exc}); an RFC 5545 rule looks like "
                             "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH;BYHOUR=9") from None
        return value


class VersionCooldown(Rule):
    interval: Duration

    @model_validator(mode="before")
    @classmethod
    def _ctrlc(cls, data: Any) -> Any:
        if isinstance(data, dict) and "duration" in data and "interval" not in data:
            data = {**data, "interval": data["duration"]}  # ctrlc's policy documents say duration
            del data["duration"]
        return data


class VersionSelector(Rule):
    selector: str
    description: str = ""


class DeploymentDependency(Rule):
    dependsOn: str


class Retry(Rule):
    maxRetries: int = Field(ge=0)
    retryOnStatuses: list[str] = Field(default_factory=list)
    backoff: Duration = 0
    backoffStrategy: Literal["linear", "exponential"] = "linear"
    maxBackoff: Duration | None = None

    @field_validator("retryOnStatuses")
    @classmethod
    def _statuses(cls, value: list[str]) -> list[str]:
        return [normalize_status(v) for v in value]


class Concurrency(Rule):
    max: int = Field(ge=1)


class ReleaseSequencing(Rule):
    mode: Literal["wait", "cancel"] = "cancel"


PROVIDER_FIELDS = {"http": ("url",), "tcp": ("host", "port"), "command": ("command",),
                   "prometheus": ("address", "query"), "sleep": ()}
PROVIDER_EXAMPLES = {"http": "{type: http, url: 'https://{{ resource.name }}/healthz'}",
                     "tcp": "{type: tcp, host: db.internal, port: 5432}", "command": "{type: command, command: [./check.sh]}",
                     "prometheus": "{type: prometheus, address: 'http://prometheus:9090', query: 'up'}", "sleep": ""}


class Metric(Rule):
    name: str
    provider: dict[str, Any]
    interval: Duration = 30
    count: int = Field(default=1, ge=1)
    successCondition: str
    failureCondition: str | None = None
    successThreshold: int | None = Field(default=None, ge=1)
    failureThreshold: int = Field(default=0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _ctrlc(cls, data: Any) -> Any:
        """ctrlc's ``success: {condition, threshold}`` / ``failure: {...}`` forms."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for side in ("success", "failure"):
            block = data.get(side)
            if isinstance(block, dict):
                del data[side]
                if "condition" in block:
                    data.setdefault(f"{side}Condition", block["condition"])
                if "threshold" in block:
                    data.setdefault(f"{side}Threshold", block["threshold"])
        return data

    @field_validator("provider")
    @classmethod
    def _provider_type(cls, value: dict[str, Any]) -> dict[str, Any]:
        kind = value.get("type")
        if kind not in PROVIDER_FIELDS:
            raise ValueError(
                f"unknown verification provider {kind!r}; use http, tcp, command, prometheus or sleep"
            )
        missing = [f for f in PROVIDER_FIELDS[kind] if value.get(f) in (None, "", [])]
        if missing:
            raise ValueError(f"the {kind} provider needs {' and '.join(repr(f) for f in missing)} "
                             f"(e.g. {PROVIDER_EXAMPLES[kind]})")
        port = value.get("port")
        if kind == "tcp" and not (isinstance(port, int) and 0 < port < 65536 or isinstance(port, str) and "{{" in port):
            raise ValueError(f"the tcp provider's port must be a number from 1 to 65535 (got {port!r})")
        return value


class Verification(Rule):
    triggerOn: Literal["jobCreated", "jobStarted", "jobSuccess", "jobFailure"] = "jobSuccess"
    metrics: list[Metric] = Field(min_length=1)


class Rollback(Rule):
    onJobStatuses: list[str] = Field(default_factory=lambda: ["failed"])
    onVerificationFailure: bool = True

    @field_validator("onJobStatuses")
    @classmethod
    def _statuses(cls, value: list[str]) -> list[str]:
        return [normalize_status(v) for v in value]


class Strategy(Rule):
    type: Literal["all-at-once", "rolling", "canary", "blue-green"] = "all-at-once"
    batchSize: int | None = Field(default=None, ge=1)
    percent: float | None = Field(default=None, gt=0, le=100)
    steps: list[float] = Field(default_factory=list)
    verify: bool = True


RULE_TYPES: dict[str, type[Rule]] = {
    "anyApproval": AnyApproval,
    "environmentProgression": EnvironmentProgression,
    "gradualRollout": GradualRollout,
    "deploymentWindow": DeploymentWindow,
    "versionCooldown": VersionCooldown,
    "versionSelector": VersionSelector,
    "deploymentDependency": DeploymentDependency,
    "retry": Retry,
    "concurrency": Concurrency,
    "releaseSequencing": ReleaseSequencing,
    "verification": Verification,
    "rollback": Rollback,
    "strategy": Strategy,
}


class PolicySelector(BaseModel):
    """One entry of ``selectors``: all given CEL strings must match; missing means "true"."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    environments: Selector = "true"
    deployments: Selector = "true"
    resources: Selector = "true"


class Policy(Document):
    """Rules that decide which version each matching release target may run now."""

    type: Literal["Policy"] = "Policy"
    name: Name
    description: str = ""
    priority: int = 0
    enabled: bool = True
    metadata: Metadata = Field(default_factory=dict)
    selectors: list[PolicySelector] = Field(default_factory=lambda: [PolicySelector()])
    rules: list[dict[str, Any]] = Field(default_factory=list)

    def parsed_rules(self) -> list[tuple[str, Rule]]:
        """(rule type, rule body) pairs; only valid after loading has validated ``rules``."""
        out = []
        for item in self.rules:
            (kind, body), = item.items()
            out.append((kind, RULE_TYPES[kind].model_validate(body or {})))
        return out
