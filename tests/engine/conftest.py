"""A small workspace whose command agent is a Python script the test controls."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import write_files

AGENT = textwrap.dedent('''
    import json, os, sys, time
    job = json.load(sys.stdin)
    work = os.environ["RECONCILER_WORKDIR"]
    cfg = job["config"]
    with open(os.path.join(work, "events.log"), "a") as log:
        log.write(json.dumps({"event": "start", "target": job["target"], "t": time.time(),
                              "op": job["operation"], "version": job["version"], "task": job["taskId"]}) + "\\n")
    print(cfg.get("say", "hello"), "secret is", job["variables"].get("TOKEN"))
    sys.stdout.write("x" * int(cfg.get("spam", 0)))
    time.sleep(float(cfg.get("sleep", 0)))
    with open(os.path.join(work, "events.log"), "a") as log:
        log.write(json.dumps({"event": "end", "target": job["target"], "t": time.time()}) + "\\n")
    with open(os.path.join(work, "deployed-" + job["resource"]), "w") as f:
        f.write(job["version"])
    if cfg.get("failOn") and job["resource"] in str(cfg["failOn"]).split(","):
        sys.stderr.write("cannot deploy to " + job["resource"] + "\\n")
        sys.exit(4)
    if cfg.get("fail"):
        sys.stderr.write("boom: " + str(cfg["fail"]) + "\\n")
        sys.exit(3)
''')


def workspace_files(*, resources: int = 3, policies: str = "", config: str = "{}", versions: str = "v1",
                    variables: str = "") -> dict[str, str]:
    res = "\n---\n".join(f"type: Resource\nidentifier: r{i}\nname: r{i}\nkind: Host\nversion: v1\n"
                         for i in range(1, resources + 1))
    vers = "\n---\n".join(f"type: Version\ndeployment: app\ntag: {tag}\ncreatedAt: \"2026-11-0{i + 1}T00:00:00Z\"\n"
                          for i, tag in enumerate(versions.split()))
    return {
        "reconciler.yaml": "workspace: engine-test\nlockTimeout: 10\n",
        "system.yaml": "type: System\nname: s\n---\ntype: Environment\nname: prod\nsystem: s\nresourceSelector: \"true\"\n",
        "resources.yaml": res + "\n",
        "agent.yaml": f"type: JobAgent\nname: py\nconfig: {{type: command, command: [{sys.executable}, agent.py]}}\n",
        "app.yaml": f"type: Deployment\nname: app\nsystem: s\nagent: {{ref: py, config: {config}}}\n{variables}",
        "versions.yaml": vers + "\n",
        "policies.yaml": policies or "# none\n",
    }


@pytest.fixture
def ws(tmp_path):
    def make(**kwargs) -> Path:
        write_files(tmp_path, workspace_files(**kwargs))
        (tmp_path / "agent.py").write_text(AGENT)
        return tmp_path

    return make


def events(root: Path) -> list[dict]:
    import json

    path = root / "events.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
