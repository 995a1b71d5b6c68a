"""Variable values and deployment variable declarations.

A value is a literal (string, number, bool, null, list, map) or a secret reference
``{secret: {env: NAME}}``, which is resolved only when a task executes and is shown as
``<redacted>`` everywhere else.

A deployment variable is either a plain default (``LOG_LEVEL: info``) or the structured form
``{default, description, sensitive, values: [{environment, resourceSelector, value}]}``. A mapping
counts as the structured form when all its keys are among those four and it has ``default`` or
``values``; any other mapping is a plain default.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from reconciler.models.common import Name, Selector

STRUCTURED_KEYS = frozenset({"default", "description", "sensitive", "values"})

VariableValue = Any


class SecretRef(BaseModel):
    """Where a secret's value comes from when a task runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


def secret_ref(value: Any) -> SecretRef | None:
    """The SecretRef inside ``value`` if it is ``{secret: {...}}``, else None."""
    if isinstance(value, dict) and set(value) == {"secret"} and isinstance(value["secret"], dict):
        return SecretRef.model_validate(value["secret"])
    return None


class VariableValueRule(BaseModel):
    """One conditional value of a deployment variable; every given condition must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    environment: Name | None = None
    resourceSelector: Selector | None = None
    value: VariableValue

    @model_validator(mode="after")
    def _needs_condition(self) -> VariableValueRule:
        if self.environment is None and self.resourceSelector is None:
            raise ValueError("a variable value needs 'environment' or 'resourceSelector' (or both)")
        return self


class DeploymentVariable(BaseModel):
    """A key a deployment declares; only declared keys reach a release."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default: VariableValue = None
    has_default: SkipJsonSchema[bool] = Field(default=False, exclude=True)
    description: str = ""
    sensitive: bool = False
    values: list[VariableValueRule] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _plain_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and data and set(data) <= STRUCTURED_KEYS and (
            "default" in data or "values" in data
        ):
            return {**data, "has_default": "default" in data}
        return {"default": data, "has_default": True}
