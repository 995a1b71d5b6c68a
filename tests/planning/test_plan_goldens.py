"""Golden plans: every operation (install, upgrade, reinstall, recreate, uninstall, rollback),
blocked and orphaned targets, in text, markdown and JSON. ``pytest --update-goldens`` rewrites."""

from __future__ import annotations

import re

from tests.conftest import write_files

AT = "2026-11-22T10:00:00Z"

FILES = {
    "reconciler.yaml": "workspace: goldens\n",
    "inventory.yaml": """
        type: System
        name: shop
        ---
        type: Environment
        name: staging
        system: shop
        resourceSelector: resource.metadata["env"] == "staging"
        ---
        type: Environment
        name: production
        system: shop
        resourceSelector: resource.metadata["env"] == "prod"
        ---
        type: JobAgent
        name: noop
        config: {type: command, command: ["true"]}
        """,
    "resources.yaml": "".join(
        f"---\ntype: Resource\nidentifier: {name}\nname: {name}\nkind: Host\nversion: v1\n"
        f"metadata: {{env: {env}, role: {role}}}\nconfig: {{namespace: shop}}\nvariables: {{REPLICAS: 2}}\n"
        for name, env, role in (("s1", "staging", "app"), ("p1", "prod", "app"), ("p2", "prod", "app"),
                                ("p3", "prod", "app"), ("d1", "prod", "db"))),
    "web.yaml": """
        type: Deployment
        name: web
        system: shop
        resourceSelector: resource.metadata["role"] == "app"
        agent: {ref: noop, config: {replicas: "{{ variables.REPLICAS }}", image: "web:{{ version.tag }}"}}
        variables: {REPLICAS: 1}
        ---
        type: Version
        deployment: web
        tag: v1
        createdAt: "2026-11-01T00:00:00Z"
        """,
    "api.yaml": """
        type: Deployment
        name: api
        system: shop
        resourceSelector: resource.metadata["role"] == "app" && resource.metadata["env"] == "prod"
        agent: {ref: noop, config: {replicas: "{{ variables.REPLICAS }}"}}
        variables: {REPLICAS: 1}
        ---
        type: Version
        deployment: api
        tag: "1.0"
        createdAt: "2026-11-01T00:00:00Z"
        """,
    "db.yaml": """
        type: Deployment
        name: db
        system: shop
        resourceSelector: resource.metadata["role"] == "db"
        placement: [namespace]
        agent: {ref: noop, config: {namespace: "{{ resource.config.namespace }}"}}
        ---
        type: Version
        deployment: db
        tag: "15"
        createdAt: "2026-11-01T00:00:00Z"
        """,
    "old.yaml": """
        type: Deployment
        name: legacy
        system: shop
        resourceSelector: resource.metadata["env"] == "staging"
        agent: {ref: noop}
        ---
        type: Version
        deployment: legacy
        tag: "0.9"
        createdAt: "2026-11-01T00:00:00Z"
        """,
}


def normalize(text: str, ids: dict[str, str]) -> str:
    for real, fake in ids.items():
        text = text.replace(real, fake)
    return re.sub(r'"releaseId": "[0-9a-f]{16}"', '"releaseId": "<release>"', text)


def test_plan_goldens(cli, tmp_path, golden):
    write_files(tmp_path, FILES)
    assert cli("apply", "-C", tmp_path, "--actor", "ci").code == 0
    (tmp_path / "api.yaml").write_text((tmp_path / "api.yaml").read_text()
                                       + '---\ntype: Version\ndeployment: api\ntag: "1.1"\ncreatedAt: "2026-11-02T00:00:00Z"\n')
    assert cli("apply", "-C", tmp_path, "--actor", "ci", "--target", "api/production/p3").code == 0
    # Desired-state edits: a new host (install), a new web version (upgrade), a resource variable
    # (reinstall), a namespace move (recreate), a removed deployment (uninstall), a gated version.
    resources = (tmp_path / "resources.yaml").read_text()
    resources = resources.replace("identifier: p2\nname: p2\nkind: Host\nversion: v1\nmetadata: {env: prod, role: app}\n"
                                  "config: {namespace: shop}\nvariables: {REPLICAS: 2}",
                                  "identifier: p2\nname: p2\nkind: Host\nversion: v1\nmetadata: {env: prod, role: app}\n"
                                  "config: {namespace: shop}\nvariables: {REPLICAS: 4}")
    resources = resources.replace("metadata: {env: prod, role: db}\nconfig: {namespace: shop}",
                                  "metadata: {env: prod, role: db}\nconfig: {namespace: shop-db}")
    resources += "---\ntype: Resource\nidentifier: p4\nname: p4\nkind: Host\nversion: v1\nmetadata: {env: prod, role: app}\n"
    (tmp_path / "resources.yaml").write_text(resources)
    (tmp_path / "web.yaml").write_text((tmp_path / "web.yaml").read_text()
                                       + '---\ntype: Version\ndeployment: web\ntag: v2\ncreatedAt: "2026-11-21T00:00:00Z"\n')
    (tmp_path / "old.yaml").unlink()
    write_files(tmp_path, {"gate.yaml": """
        type: Policy
        name: api-approval
        selectors: [{deployments: deployment.name == "api"}]
        rules: [{anyApproval: {minApprovals: 1}}]
        """})
    queued = cli("rollback", "api/production/p3", "-C", tmp_path, "--actor", "alice")
    assert queued.code == 0, queued.err
    ids = {queued.out.split()[3].rstrip(":"): "<task-1>"}
    for fmt, ext in (("text", "txt"), ("markdown", "md"), ("json", "json")):
        result = cli("plan", "-C", tmp_path, "--at", AT, "--format", fmt, "--prune")
        assert result.code == 0, result.err
        golden(f"plans/every-operation.{ext}", normalize(result.out, ids))
    orphan = cli("plan", "-C", tmp_path, "--at", AT, "--format", "json")
    golden("plans/orphaned.json", normalize(orphan.out, ids))
