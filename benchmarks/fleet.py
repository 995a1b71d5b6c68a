"""Generate Ctrlplane's benchmark fleet as a real desired-state Git repository.

At scale 1: 15,000 resources, 20 environments (CEL selectors), 50 deployments with 5 versions each,
and policies with approval, gradual rollout, a deployment window and environment progression:
50 deployments × 6,000 matching resources = 300,000 release targets. The scale factor multiplies
the resources (and so the targets); everything is deterministic for a given seed.

    python benchmarks/fleet.py OUT_DIR [--scale 1.0] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import subprocess
from pathlib import Path

ENVIRONMENTS = 20
DEPLOYMENTS = 50
VERSIONS = 5
POOLS = 10  # each deployment selects 4 of 10 pools = 40% of resources
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1")


def resources_yaml(start: int, count: int, rng: random.Random) -> str:
    docs = []
    for i in range(start, start + count):
        env = i % ENVIRONMENTS
        docs.append(
            f"type: Resource\nidentifier: node-{i:06d}\nname: node-{i:06d}\nkind: ComposeHost\n"
            f"version: fleet/v1\nmetadata: {{env: env-{env:02d}, pool: p{i // ENVIRONMENTS % POOLS}, "
            f"region: {rng.choice(REGIONS)}, rack: r{rng.randrange(100)}}}\n"
            f"config: {{port: {8000 + i % 1000}}}\nvariables: {{WEIGHT: {rng.randrange(1, 10)}}}\n")
    return "---\n".join(docs)


def environments_yaml() -> str:
    docs = ["type: System\nname: fleet\n"]
    for e in range(ENVIRONMENTS):
        docs.append(f"type: Environment\nname: env-{e:02d}\nsystem: fleet\n"
                    f"resourceSelector: resource.metadata[\"env\"] == \"env-{e:02d}\"\n"
                    f"metadata: {{stage: {'production' if e >= 10 else 'pre'}}}\n")
    docs.append("type: JobAgent\nname: noop\nconfig: {type: command, command: [\"true\"]}\n")
    return "---\n".join(docs)


def deployment_yaml(d: int) -> str:
    pools = [f"p{(d + k) % POOLS}" for k in range(4)]
    docs = [f"type: Deployment\nname: svc-{d:02d}\nsystem: fleet\n"
            f"resourceSelector: resource.metadata[\"pool\"] in {pools}\n"
            f"agent: {{ref: noop, config: {{image: \"svc-{d:02d}:{{{{ version.tag }}}}\", "
            f"weight: \"{{{{ variables.WEIGHT }}}}\"}}}}\n"
            f"variables: {{WEIGHT: 1, LOG_LEVEL: info}}\n"]
    for v in range(VERSIONS):
        docs.append(f"type: Version\ndeployment: svc-{d:02d}\ntag: v1.{v}.0\n"
                    f"createdAt: \"2026-11-{10 + v:02d}T0{d % 10}:00:00Z\"\n")
    return "---\n".join(docs)


POLICIES = """type: Policy
name: production-approval
selectors: [{environments: 'environment.metadata["stage"] == "production"'}]
rules: [{anyApproval: {minApprovals: 1}}]
---
type: Policy
name: progression
selectors: [{environments: 'environment.metadata["stage"] == "production"'}]
rules:
  - environmentProgression: {dependsOnEnvironmentSelector: 'environment.metadata["stage"] == "pre"', minimumSoakTimeMinutes: 30}
---
type: Policy
name: waves
selectors: [{environments: 'environment.metadata["stage"] == "production"'}]
rules: [{gradualRollout: {rolloutType: linear-normalized, timeScaleInterval: 1h}}]
---
type: Policy
name: office-hours
selectors: [{environments: 'environment.metadata["stage"] == "production"'}]
rules:
  - deploymentWindow: {rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=8;BYMINUTE=0;BYSECOND=0", duration: 10h, timezone: Europe/Berlin}
"""


def approvals_yaml() -> str:
    docs = []
    for d in range(DEPLOYMENTS):
        for e in range(10, ENVIRONMENTS):
            docs.append(f"type: Approval\ndeployment: svc-{d:02d}\nversion: v1.{VERSIONS - 1}.0\n"
                        f"environment: env-{e:02d}\napprovedBy: release-manager\nat: \"2026-11-14T12:00:00Z\"\n")
    return "---\n".join(docs)


def generate(out: Path, scale: float = 1.0, seed: int = 7, commit: bool = True) -> Path:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "reconciler.yaml").write_text("workspace: fleet\nmaxParallel: 16\n")
    (out / "environments.yaml").write_text(environments_yaml())
    (out / "policies.yaml").write_text(POLICIES)
    (out / "approvals.yaml").write_text(approvals_yaml())
    total = max(ENVIRONMENTS, int(15000 * scale))
    chunk = 1000
    (out / "resources").mkdir(exist_ok=True)
    for n, start in enumerate(range(0, total, chunk)):
        (out / "resources" / f"nodes-{n:03d}.yaml").write_text(resources_yaml(start, min(chunk, total - start), rng))
    (out / "deployments").mkdir(exist_ok=True)
    for d in range(DEPLOYMENTS):
        (out / "deployments" / f"svc-{d:02d}.yaml").write_text(deployment_yaml(d))
    if commit:
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=out, check=True)
        subprocess.run([*git, "add", "-A"], cwd=out, check=True)
        subprocess.run([*git, "commit", "-qm", f"fleet scale {scale}"], cwd=out, check=True)
    return out


def small_workspace(out: Path, targets: int) -> Path:
    """One deployment on ``targets`` hosts with the command agent running ``true`` (apply throughput),
    at most 16 tasks at once (``maxParallel``; the workers run as many as the cores keep busy)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "reconciler.yaml").write_text(f"workspace: apply-{targets}\nmaxParallel: 16\n")
    docs = ["type: System\nname: s\n",
            "type: Environment\nname: prod\nsystem: s\nresourceSelector: \"true\"\n",
            "type: JobAgent\nname: noop\nconfig: {type: command, command: [\"true\"]}\n",
            "type: Deployment\nname: app\nsystem: s\nagent: {ref: noop}\n",
            "type: Version\ndeployment: app\ntag: v1\ncreatedAt: \"2026-11-01T00:00:00Z\"\n"]
    docs += [f"type: Resource\nidentifier: h{i:05d}\nname: h{i:05d}\nkind: Host\nversion: v1\n" for i in range(targets)]
    (out / "docs.yaml").write_text("---\n".join(docs))
    return out


def scale_out_workspace(out: Path, deployments: int, resources: int, sleep: str = "0.2") -> Path:
    """``deployments`` deployments on ``resources`` hosts each, with a command agent that sleeps
    (so agents, not CPU, are the bottleneck): the scale-out figure."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "reconciler.yaml").write_text(f"workspace: scale-out-{deployments}x{resources}\n")
    docs = ["type: System\nname: s\n", "type: Environment\nname: prod\nsystem: s\nresourceSelector: \"true\"\n",
            f"type: JobAgent\nname: slow\nconfig: {{type: command, command: [sleep, \"{sleep}\"]}}\n"]
    docs += [f"type: Resource\nidentifier: h{i:04d}\nname: h{i:04d}\nkind: Host\nversion: v1\n"
             for i in range(resources)]
    for d in range(deployments):
        docs.append(f"type: Deployment\nname: app{d:02d}\nsystem: s\nagent: {{ref: slow}}\n")
        docs.append(f"type: Version\ndeployment: app{d:02d}\ntag: v1\ncreatedAt: \"2026-11-01T00:00:00Z\"\n")
    (out / "docs.yaml").write_text("---\n".join(docs))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(args.out, args.scale, args.seed)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
