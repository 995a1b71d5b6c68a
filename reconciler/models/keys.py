"""The release target key: one typed value with one canonical string form.

``TargetKey("api", "production", "cluster-1")`` prints as ``api/production/cluster-1`` and
``TargetKey.parse`` reads it back. Deployment and environment names cannot contain '/', so the
resource identifier is everything after the second '/'. The same string is the state primary key,
the plan sort key, the log field and the CLI ``--target`` argument.
"""

from __future__ import annotations

from typing import NamedTuple


class TargetKey(NamedTuple):
    deployment: str
    environment: str
    resource: str

    def __str__(self) -> str:
        return f"{self.deployment}/{self.environment}/{self.resource}"

    @classmethod
    def parse(cls, text: str) -> TargetKey:
        parts = text.split("/", 2)
        if len(parts) != 3 or not all(parts):
            raise ValueError(
                f"invalid release target key {text!r}; use deployment/environment/resource, e.g. api/production/cluster-1"
            )
        return cls(*parts)
