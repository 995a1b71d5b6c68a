"""A small commented workspace for the edit tests: deployments api (no versions yet) and web
(versions in two files, in a 4-space, single-quote style), two environments, three clusters."""

from __future__ import annotations

import pytest

FILES = {
    "reconciler.yaml": """
        # The shop's desired state.
        workspace: shop
        """,
    "system.yaml": """
        # One system, two environments.
        type: System
        name: shop
        ---
        type: Environment
        name: staging
        system: shop
        resourceSelector: resource.metadata["environment"] == "staging"
        ---
        type: Environment
        name: production   # customers
        system: shop
        resourceSelector: {metadata: {environment: production}}
        """,
    "resources.yaml": """
        type: Resource
        identifier: staging-1
        name: Staging 1
        kind: KubernetesCluster
        version: v1
        metadata: {environment: staging}
        ---
        type: Resource
        identifier: prod-1
        name: Production 1
        kind: KubernetesCluster
        version: v1
        metadata: {environment: production}
        """,
    "agents.yaml": """
        type: JobAgent
        name: local
        config:
          type: command
          command: [./deploy.sh]
        """,
    "deployments/api.yaml": """
        # The HTTP API.
        type: Deployment
        name: api
        system: shop
        resourceSelector: resource.kind == "KubernetesCluster"
        agent:
          ref: local
          config:
            image: "registry.example.com/api:{{ version.tag }}"   # tag from the version
        """,
    "deployments/web.yaml": """
        type: Deployment
        name: web
        system: shop
        agent: {ref: local}
        """,
    "versions/web-a.yaml": """
        # Older web builds.
        type: Version
        deployment: web
        tag: '1.0'
        createdAt: 2026-10-01T09:00:00Z
        """,
    "versions/web-b.yaml": """
        # Web builds, appended by CI.   Keep this comment.
        type: Version
        deployment: web
        tag: '2.0'    # the first 2.x
        status: ready
        createdAt: 2026-11-01T09:00:00Z
        metadata:
            commit: 'abc123'
        """,
}


@pytest.fixture
def shop(make_repo):
    """The workspace as a committed Git repository (branch main)."""
    return make_repo(FILES)
