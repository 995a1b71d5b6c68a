"""A small desired-state repository with artifacts: one deployment on two compose hosts."""

from __future__ import annotations

WEB = "registry.example.com/shop/web@sha256:" + "1" * 64
WORKER = "registry.example.com/shop/worker@sha256:" + "2" * 64

FILES = {
    "reconciler.yaml": "workspace: shop\n",
    "system.yaml": """
        type: System
        name: shop
        ---
        type: Environment
        name: production
        system: shop
        resourceSelector: resource.metadata["environment"] == "production"
        """,
    "resources.yaml": """
        type: Resource
        identifier: host-1
        name: Host 1
        kind: ComposeHost
        version: v1
        metadata: {environment: production}
        config: {domain: one.example.com}
        ---
        type: Resource
        identifier: host-2
        name: Host 2
        kind: ComposeHost
        version: v1
        metadata: {environment: production}
        config: {domain: two.example.com}
        """,
    "agents.yaml": """
        type: JobAgent
        name: local
        config:
          type: command
          command: [sh, deploy.sh]
        """,
    "web.yaml": """
        type: Deployment
        name: web
        system: shop
        agent:
          ref: local
          config:
            stickerPath: "deployed/{{ resource.identifier }}/reconciler.sticker.json"
        variables:
          LOG_LEVEL: info
          DB_PASSWORD:
            default: {secret: {env: WEB_DB_PASSWORD}}
        artifacts:
          - {type: compose-lock, template: compose.yml.j2, path: compose.lock.yml}
          - type: env-file
            path: .env
            values:
              LOG_LEVEL: "{{ variables.LOG_LEVEL }}"
              DB_PASSWORD: "{{ variables.DB_PASSWORD }}"
              DOMAIN: "{{ resource.config.domain }}"
        """,
    "versions.yaml": f"""
        type: Version
        deployment: web
        tag: v1.0.0
        createdAt: 2026-01-01T00:00:00Z
        images:
          web: {WEB}
          worker: {WORKER}
        """,
    "templates/compose.yml.j2": """
        services:
          web:
            image: web
            environment:
              LOG_LEVEL: "{{ variables.LOG_LEVEL }}"
              DOMAIN: "{{ resource.config.domain }}"
          worker:
            image: worker
        """,
    "deploy.sh": "#!/bin/sh\ncat >/dev/null\necho deployed $RECONCILER_TARGET\n",
}


def files(**changes: str) -> dict[str, str]:
    return {**FILES, **changes}
