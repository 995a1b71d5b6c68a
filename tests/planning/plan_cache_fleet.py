"""A small fleet for the plan-cache property test, kept as plain data and written as YAML files:
three environments, six resources, three deployments (one depending on another), policies with
approval, progression with soak, gradual rollout, a deployment window, cooldown, retry and
concurrency, a variable set, and GitOps Freeze/Pin/PolicySkip documents with expiry times."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

ENVIRONMENTS = ("staging", "prod-a", "prod-b")
DEPLOYMENTS = ("api", "web", "worker")
POOLS = ("blue", "green")


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Spec:
    resources: dict[str, dict[str, str]] = field(default_factory=lambda: {
        f"r{i}": {"env": ENVIRONMENTS[i % 3], "pool": POOLS[i % 2], "region": "eu" if i < 3 else "us"}
        for i in range(6)})
    versions: dict[str, list[dict]] = field(default_factory=lambda: {
        dep: [{"tag": "v1.0.0", "createdAt": "2026-11-20T08:00:00Z"}] for dep in DEPLOYMENTS})
    policy: dict = field(default_factory=lambda: {"approvals": 0, "soak": 30, "rollout": "20m", "window": True,
                                                  "cooldown": None, "retry": 1, "concurrency": None,
                                                  "dependency": False})
    gitops_docs: list[str] = field(default_factory=list)
    counter: int = 0

    # -- edits ------------------------------------------------------------------------------
    def add_version(self, rng: random.Random, now: datetime) -> None:
        dep = rng.choice(DEPLOYMENTS)
        self.counter += 1
        doc: dict = {"tag": f"v1.{self.counter}.0"}
        roll = rng.random()
        if roll < 0.15:
            pass  # no createdAt: ordered by when state first saw it, or by the plan's clock
        elif roll < 0.3:
            doc["createdAt"] = _iso(now + timedelta(minutes=rng.choice([10, 50, 300])))  # not created yet
        else:
            doc["createdAt"] = _iso(now - timedelta(minutes=rng.choice([1, 30, 600])))
        if rng.random() < 0.15:
            doc["status"] = rng.choice(["paused", "building", "rejected"])
        if rng.random() < 0.2:
            doc["jobAgentConfig"] = {"command": ["false"]}  # a release that fails
        if dep == "web" and rng.random() < 0.3:
            doc["dependencies"] = {"api": 'semverSatisfies(version.tag, ">=1.0.0")'}
        self.versions[dep].append(doc)

    def move_resource(self, rng: random.Random) -> None:
        name = rng.choice(sorted(self.resources))
        meta = self.resources[name]
        key = rng.choice(["env", "pool", "region"])
        choices = {"env": (*ENVIRONMENTS, "retired"), "pool": POOLS, "region": ("eu", "us")}[key]
        meta[key] = rng.choice(choices)

    def edit_policies(self, rng: random.Random) -> None:
        key = rng.choice(sorted(self.policy))
        options = {"approvals": [0, 0, 1, 2], "soak": [0, 30, 120], "rollout": [None, "20m", "2h"],
                   "window": [True, False], "cooldown": [None, "1h"], "retry": [None, 0, 1, 2],
                   "concurrency": [None, 1, 3], "dependency": [True, False]}[key]
        self.policy[key] = rng.choice(options)

    def gitops(self, rng: random.Random, now: datetime) -> None:
        if self.gitops_docs and rng.random() < 0.35:
            self.gitops_docs.pop(rng.randrange(len(self.gitops_docs)))
            return
        self.counter += 1
        until = _iso(now + timedelta(minutes=rng.choice([15, 90, 600])))
        dep, tag = self.random_version(rng)
        kind = rng.choice(["Freeze", "Pin", "PolicySkip", "Approval"])
        if kind == "Freeze":
            doc = (f"type: Freeze\nname: f{self.counter}\nreason: incident\nuntil: \"{until}\"\n"
                   f"selectors: [{{environments: 'environment.name == \"{rng.choice(ENVIRONMENTS)}\"'}}]\n")
        elif kind == "Pin":
            doc = (f"type: Pin\nname: p{self.counter}\ndeployment: {dep}\nversion: {tag}\nreason: hold\n"
                   f"until: \"{until}\"\n")
        elif kind == "PolicySkip":
            rule = rng.choice(["anyApproval", "environmentProgression", "gradualRollout", "deploymentWindow"])
            doc = (f"type: PolicySkip\nname: s{self.counter}\ndeployment: {dep}\nversion: {tag}\nrule: {rule}\n"
                   f"reason: hotfix\nuntil: \"{until}\"\n")
        else:
            doc = (f"type: Approval\ndeployment: {dep}\nversion: {tag}\nenvironment: {rng.choice(ENVIRONMENTS)}\n"
                   f"approvedBy: carol\n")
        self.gitops_docs.append(doc)

    def random_version(self, rng: random.Random, dep: str | None = None) -> tuple[str, str]:
        dep = dep or rng.choice(DEPLOYMENTS)
        return dep, rng.choice(self.versions[dep])["tag"]

    # -- files -------------------------------------------------------------------------------
    def write(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        files = {
            "reconciler.yaml": "workspace: cache-prop\nlockTimeout: 5\n",
            "system.yaml": self._system(),
            "resources.yaml": self._resources(),
            "policies.yaml": self._policies(),
            "gitops.yaml": "---\n".join(self.gitops_docs) or "# none\n",
            "varsets.yaml": ("type: VariableSet\nname: eu\nselector: resource.metadata[\"region\"] == \"eu\"\n"
                             "variables: {REGION_URL: \"https://eu.example.com\"}\n"),
        }
        for dep in DEPLOYMENTS:
            files[f"deployments/{dep}.yaml"] = self._deployment(dep)
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text() != text:
                path.write_text(text)

    def _system(self) -> str:
        docs = ["type: System\nname: shop\n",
                "type: JobAgent\nname: sh\nconfig: {type: command, command: [\"true\"]}\n"]
        for env in ENVIRONMENTS:
            stage = "pre" if env == "staging" else "prod"
            docs.append(f"type: Environment\nname: {env}\nsystem: shop\n"
                        f"resourceSelector: resource.metadata[\"env\"] == \"{env}\"\nmetadata: {{stage: {stage}}}\n")
        return "---\n".join(docs)

    def _resources(self) -> str:
        docs = []
        for name, meta in sorted(self.resources.items()):
            flat = ", ".join(f"{k}: {v}" for k, v in sorted(meta.items()))
            docs.append(f"type: Resource\nidentifier: {name}\nname: {name}\nkind: Host\nversion: v1\n"
                        f"metadata: {{{flat}}}\nconfig: {{port: 80{name[1:]}}}\nvariables: {{WEIGHT: {len(name)}}}\n")
        return "---\n".join(docs)

    def _deployment(self, dep: str) -> str:
        pool = {"api": "blue", "web": "green", "worker": "blue"}[dep]
        selector = "true" if dep == "worker" else f"resource.metadata[\"pool\"] == \"{pool}\""
        config = f"{{image: \"{dep}:{{{{ version.tag }}}}\", weight: \"{{{{ variables.WEIGHT }}}}\"}}"
        docs = [(f"type: Deployment\nname: {dep}\nsystem: shop\nresourceSelector: '{selector}'\n"
                 f"agent: {{ref: sh, config: {config}}}\nvariables: {{WEIGHT: 1, REGION_URL: none}}\n")]
        for v in self.versions[dep]:
            lines = [f"type: Version\ndeployment: {dep}\ntag: {v['tag']}\n"]
            for key in ("createdAt", "status"):
                if key in v:
                    lines.append(f"{key}: \"{v[key]}\"\n")
            if "jobAgentConfig" in v:
                lines.append("jobAgentConfig: {command: [\"false\"]}\n")
            if "dependencies" in v:
                lines.append(f"dependencies: {{api: '{v['dependencies']['api']}'}}\n")
            docs.append("".join(lines))
        return "---\n".join(docs)

    def _policies(self) -> str:
        p = self.policy
        prod = "selectors: [{environments: 'environment.metadata[\"stage\"] == \"prod\"'}]\n"
        rules = [f"  - anyApproval: {{minApprovals: {p['approvals']}}}\n",
                 ("  - environmentProgression: {dependsOnEnvironmentSelector: 'environment.metadata[\"stage\"] == "
                  f"\"pre\"', minimumSoakTimeMinutes: {p['soak']}, maximumAgeHours: 30}}\n")]
        if p["rollout"]:
            rules.append(f"  - gradualRollout: {{rolloutType: linear, timeScaleInterval: {p['rollout']}}}\n")
        if p["window"]:
            rules.append("  - deploymentWindow: {rrule: \"FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0\", duration: 9h, "
                         "timezone: Europe/Berlin}\n")
        if p["cooldown"]:
            rules.append(f"  - versionCooldown: {{interval: {p['cooldown']}}}\n")
        docs = [f"type: Policy\nname: prod-gates\n{prod}rules:\n{''.join(rules)}"]
        every = []
        if p["retry"] is not None:
            every.append(f"  - retry: {{maxRetries: {p['retry']}, backoff: 10m}}\n")
        if p["concurrency"]:
            every.append(f"  - concurrency: {{max: {p['concurrency']}}}\n")
        if p["dependency"]:
            every.append("  - deploymentDependency: {dependsOn: 'deployment.name == \"api\"'}\n")
        if every:
            docs.append("type: Policy\nname: everywhere\nselectors: [{deployments: 'deployment.name != \"api\"'}]\n"
                        f"rules:\n{''.join(every)}")
        return "---\n".join(docs)
