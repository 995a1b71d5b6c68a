"""JSON Schemas generated from the document models, for editors and for ``reconciler schema``.

``schemas/`` in the repository holds the output; a test fails when it drifts from the models.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter

from reconciler.models.documents import DOCUMENT_TYPES
from reconciler.models.policy import RULE_TYPES
from reconciler.models.workspace import WorkspaceConfig

BASE_URL = "https://reconciler.dev/schemas"


def _rules_schema() -> dict[str, Any]:
    variants = []
    defs: dict[str, Any] = {}
    for name, model in RULE_TYPES.items():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[model.__name__] = schema
        variants.append({
            "type": "object",
            "additionalProperties": False,
            "required": [name],
            "properties": {name: {"$ref": f"#/$defs/{model.__name__}"}},
        })
    return {"type": "array", "items": {"oneOf": variants}, "$defs": defs}


def _patch_rules(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace Policy.rules' free-form items with the typed one-key rule maps."""
    rules = _rules_schema()
    defs = schema.setdefault("$defs", {})
    defs.update(rules.pop("$defs"))
    policy = defs.get("Policy", schema if schema.get("title") == "Policy" else None)
    if policy is not None:
        policy["properties"]["rules"] = {**rules, "description": "One-key rule maps, ANDed."}
    return schema


def document_schema() -> dict[str, Any]:
    """One schema for any document (discriminated by ``type``), for multi-document files."""
    union = Annotated[Union[tuple(DOCUMENT_TYPES.values())], Field(discriminator="type")]  # type: ignore[misc]
    schema = TypeAdapter(union).json_schema(ref_template="#/$defs/{model}")
    schema = _patch_rules(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"{BASE_URL}/document.schema.json"
    schema["title"] = "reconciler desired-state document"
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema for every document type, the combined document schema and the workspace."""
    out: dict[str, dict[str, Any]] = {"document.schema.json": document_schema()}
    for name, model in DOCUMENT_TYPES.items():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        if name == "Policy":
            schema = _patch_rules(schema)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"{BASE_URL}/{name.lower()}.schema.json"
        out[f"{name.lower()}.schema.json"] = schema
    from reconciler.models.plan_schema import PlanDocument

    plan = PlanDocument.model_json_schema()
    plan["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    plan["$id"] = f"{BASE_URL}/plan.schema.json"
    out["plan.schema.json"] = plan
    ws = WorkspaceConfig.model_json_schema()
    ws["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    ws["$id"] = f"{BASE_URL}/workspace.schema.json"
    out["workspace.schema.json"] = ws
    return out


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
