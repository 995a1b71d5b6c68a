"""Blue-green with the compose agent: the new colour starts beside the live one, and the switch
(stopping the old colour) happens only after verification passes; a failed verification stops
the new colour and the old one stays live. Docker is a recording stand-in (no engine here)."""

from __future__ import annotations

import json

from tests.conftest import write_files
from tests.fakes.binaries import recording_binary

DIGEST = "sha256:" + "ab" * 32


def workspace(root, docker) -> None:
    write_files(root, {
        "reconciler.yaml": "workspace: bg\n",
        "templates/compose.yml.j2": "services:\n  web:\n    image: web\n    environment: {PORT: \"8080\"}\n",
        "docs.yaml": f"""
            type: System
            name: s
            ---
            type: Environment
            name: prod
            system: s
            resourceSelector: "true"
            ---
            type: Resource
            identifier: host-1
            name: host-1
            kind: ComposeHost
            version: v1
            ---
            type: JobAgent
            name: compose
            config: {{type: compose, docker: {docker.path}, blueGreen: true, pull: false}}
            ---
            type: Deployment
            name: web
            system: s
            agent: {{ref: compose}}
            artifacts: [{{type: compose-lock, template: compose.yml.j2, path: compose.lock.yml}}]
            ---
            type: Policy
            name: health
            rules:
              - verification:
                  metrics:
                    - name: healthy
                      provider: {{type: command, command: ["test", "!", "-e", "unhealthy-{{{{ version.tag }}}}"]}}
                      count: 1
                      successCondition: result.ok
            """,
    })


def add_version(root, tag: str, day: int) -> None:
    with open(root / "docs.yaml", "a") as handle:
        handle.write(f'---\ntype: Version\ndeployment: web\ntag: {tag}\ncreatedAt: "2026-11-{day:02d}T00:00:00Z"\n'
                     f"images: {{web: \"registry.example.com/web@{DIGEST}\"}}\n")





def test_switch_after_verification_and_abandon_on_failure(cli, tmp_path):
    docker = recording_binary(tmp_path / "bin", "docker")
    root = tmp_path / "ws"
    workspace(root, docker)
    add_version(root, "v1", 1)
    assert cli("apply", "-C", root).code == 0
    add_version(root, "v2", 2)
    assert cli("apply", "-C", root).code == 0
    assert [(a[a.index("-p") + 1], "down" if "down" in a else "up") for a in docker.argvs()] == [
        ("web-prod-blue", "up"), ("web-prod-green", "up"), ("web-prod-blue", "down")]
    colour_file = root / ".reconciler/compose/web-prod/.reconciler-colour"
    assert colour_file.read_text().strip() == "green"

    (root / "unhealthy-v3").write_text("")
    add_version(root, "v3", 3)
    assert cli("apply", "-C", root).code == 1
    calls = [(a[a.index("-p") + 1], "down" if "down" in a else "up") for a in docker.argvs()][3:]
    assert calls == [("web-prod-blue", "up"), ("web-prod-blue", "down")], "the new colour is abandoned"
    assert colour_file.read_text().strip() == "green", "the old colour stays live"
    task = json.loads(cli("history", "-C", root, "--format", "json").out)["tasks"][0]
    assert task["status"] == "failed" and "abandoned web-prod-blue; the old colour stays live" in task["message"]
    status = json.loads(cli("status", "-C", root, "--format", "json").out)
    assert status[0]["currentVersion"] == "v2"
