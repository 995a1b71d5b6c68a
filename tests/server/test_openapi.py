"""The published OpenAPI document matches the app, and the running server honours it: schemathesis
generates requests from ``schemas/openapi.json`` and checks every answer against it (no 5xx,
documented status codes, content types and response schemas)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from reconciler.server.app import openapi_text

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "schemas" / "openapi.json"
schema = schemathesis.openapi.from_path(DOCUMENT)


def test_the_published_document_is_the_apps():
    assert DOCUMENT.read_text() == openapi_text(), (
        "schemas/openapi.json drifted from the app: run 'reconciler serve --openapi-out schemas/openapi.json'")


def test_every_route_of_the_api_is_documented_with_its_errors():
    doc = json.loads(DOCUMENT.read_text())
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if path != "/healthz":
                assert {"401", "422"} & set(op["responses"]) or "webhooks" in path, (method, path)
            if path not in ("/healthz", "/api/v1/webhooks/github"):
                assert op.get("security") == [{"HTTPBearer": []}], (method, path)


@pytest.fixture
def live(pull_quickstart, serve_thread, cli, monkeypatch):
    monkeypatch.setenv("RECONCILER_GITHUB_WEBHOOK_SECRET", "test-secret")
    assert cli("apply", "-C", pull_quickstart).code == 0
    return serve_thread(pull_quickstart)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_server_conforms_to_its_document(case, live):
    case.call_and_validate(base_url=live.url, headers={"Authorization": f"Bearer {live.keys['admin']}"})
