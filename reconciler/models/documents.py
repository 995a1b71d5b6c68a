"""The registry of document types, keyed by the ``type:`` discriminator."""

from __future__ import annotations

from reconciler.models.common import Document
from reconciler.models.entities import Deployment, Environment, JobAgent, Resource, System, VariableSet, Version
from reconciler.models.gitops import Approval, Freeze, Pin, PolicySkip
from reconciler.models.policy import Policy

DOCUMENT_TYPES: dict[str, type[Document]] = {
    "System": System,
    "Resource": Resource,
    "Environment": Environment,
    "JobAgent": JobAgent,
    "Deployment": Deployment,
    "Version": Version,
    "Policy": Policy,
    "VariableSet": VariableSet,
    "Approval": Approval,
    "Freeze": Freeze,
    "Pin": Pin,
    "PolicySkip": PolicySkip,
}
