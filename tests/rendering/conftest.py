"""Fixtures for rendering tests: the case templates, a release context and a version's images."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.models.entities import ArtifactSpec
from reconciler.rendering.artifacts import render_artifacts

CASES = Path(__file__).resolve().parent / "cases"
WEB = "registry.example.com/shop/web@sha256:" + "1" * 64
WORKER = "registry.example.com/shop/worker@sha256:" + "2" * 64
IMAGES = {"web": WEB, "worker": WORKER}
CONTEXT = {
    "deployment": {"name": "shop-web", "system": "shop", "metadata": {}, "description": "", "slug": "shop-web",
                   "id": "shop-web"},
    "environment": {"name": "production", "system": "shop", "metadata": {"tier": "prod"}},
    "resource": {"identifier": "host-1", "name": "Host 1", "kind": "ComposeHost", "version": "v1",
                 "metadata": {"environment": "production"}, "config": {"domain": "one.example.com", "port": 8080}},
    "version": {"tag": "v1.4.0", "name": "v1.4.0", "status": "ready", "metadata": {}, "config": {},
                "deployment": "shop-web", "createdAt": "2026-01-01T00:00:00Z", "id": "shop-web@v1.4.0",
                "message": ""},
    "variables": {"LOG_LEVEL": "info", "REPLICAS": 3, "DB_PASSWORD": "<redacted>",
                  "GREETING": "hello $USER # not a comment"},
    "config": {"type": "command", "command": ["./deploy.sh"]},
    "system": "shop",
    "target": "shop-web/production/host-1",
}


def templates() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(CASES.glob("*.j2"))}


def render(*specs: dict, context: dict | None = None, images: dict | None = None, revision: str = "rev-1"):
    """Render ArtifactSpec-shaped dicts with the case templates, as release ``rel-1``."""
    return render_artifacts([ArtifactSpec.model_validate(s) for s in specs], templates(), context or CONTEXT,
                            IMAGES if images is None else images, release_id="rel-1", revision=revision)


@pytest.fixture
def context() -> dict:
    import copy

    return copy.deepcopy(CONTEXT)
