"""Documents that record decisions in Git, so a PR review or a cron run sees them:
Approval, Freeze (an emergency stop with an expiry), Pin (hold targets on a version, or downgrade
deliberately) and PolicySkip (bypass one rule for one version, with an audit trail).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reconciler.models.common import Document, Name, Timestamp
from reconciler.models.policy import PolicySelector


class Approval(Document):
    """An approval of one version in one environment, committed to Git (e.g. via a reviewed PR)."""

    type: Literal["Approval"] = "Approval"
    deployment: Name
    version: str
    environment: Name
    approvedBy: str = Field(min_length=1)
    reason: str = ""
    status: Literal["approved", "rejected"] = "approved"
    at: Timestamp | None = None


class Freeze(Document):
    """Stops every change to the targets in scope until ``until`` (or until removed)."""

    type: Literal["Freeze"] = "Freeze"
    name: Name
    reason: str = Field(min_length=1)
    selectors: list[PolicySelector] = Field(default_factory=lambda: [PolicySelector()])
    until: Timestamp | None = None
    createdBy: str = ""


class Pin(Document):
    """Holds the targets in scope on ``version``; also how a deliberate downgrade is requested."""

    type: Literal["Pin"] = "Pin"
    name: Name
    deployment: Name
    version: str
    reason: str = Field(min_length=1)
    selectors: list[PolicySelector] = Field(default_factory=lambda: [PolicySelector()])
    targets: list[str] = Field(default_factory=list, description="Release target keys; empty means all in scope.")
    until: Timestamp | None = None
    createdBy: str = ""


class PolicySkip(Document):
    """Bypasses one rule for one version (optionally in one environment or on one resource)."""

    type: Literal["PolicySkip"] = "PolicySkip"
    name: Name
    deployment: Name
    version: str
    rule: str = Field(description="Rule type (anyApproval) or policy/rule (prod-gates/anyApproval).")
    environment: Name | None = None
    resource: str | None = None
    reason: str = Field(min_length=1)
    until: Timestamp | None = None
    createdBy: str = ""
