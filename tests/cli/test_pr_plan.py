"""``plan --base``: what a pull request changes, as a PR comment (golden), within GitHub's limit."""

from __future__ import annotations

import json
from textwrap import dedent

from tests.conftest import git, write_files

AT = "2026-11-22T10:00:00Z"
BASE = {
    "reconciler.yaml": "workspace: pr\n",
    "inventory.yaml": """
        type: System
        name: shop
        ---
        type: Environment
        name: production
        system: shop
        resourceSelector: "true"
        ---
        type: JobAgent
        name: noop
        config: {type: command, command: ["true"]}
        ---
        type: Resource
        identifier: h1
        name: h1
        kind: Host
        version: v1
        ---
        type: Resource
        identifier: h2
        name: h2
        kind: Host
        version: v1
        """,
    "api.yaml": """
        type: Deployment
        name: api
        system: shop
        agent: {ref: noop}
        ---
        type: Version
        deployment: api
        tag: v1
        createdAt: "2026-11-01T00:00:00Z"
        """,
    "web.yaml": """
        type: Deployment
        name: web
        system: shop
        agent: {ref: noop}
        ---
        type: Version
        deployment: web
        tag: v1
        createdAt: "2026-11-01T00:00:00Z"
        """,
    "db.yaml": """
        type: Deployment
        name: db
        system: shop
        agent: {ref: noop}
        ---
        type: Version
        deployment: db
        tag: "15"
        createdAt: "2026-11-01T00:00:00Z"
        """,
}


def test_pr_plan_markdown_golden(cli, make_repo, golden):
    repo = make_repo(BASE)
    assert cli("apply", "-C", repo, "--actor", "ci").code == 0
    git(repo, "checkout", "-q", "-b", "bump")
    write_files(repo, {
        "api.yaml": dedent(BASE["api.yaml"]) + '---\ntype: Version\ndeployment: api\ntag: v2\ncreatedAt: "2026-11-21T00:00:00Z"\n',
        "web.yaml": dedent(BASE["web.yaml"]) + '---\ntype: Version\ndeployment: web\ntag: v2\ncreatedAt: "2026-11-21T00:00:00Z"\n',
        "gate.yaml": """
            type: Policy
            name: web-needs-approval
            selectors: [{deployments: deployment.name == "web"}]
            rules: [{anyApproval: {minApprovals: 1}}]
            """,
    })
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bump api, gate web")
    result = cli("plan", "-C", repo, "--base", "main", "--at", AT, "--format", "markdown", "--detailed-exitcode")
    assert result.code == 2, result.err
    golden("plans/pr-plan.md", result.out)
    doc = json.loads(cli("plan", "-C", repo, "--base", "main", "--at", AT, "--format", "json").out)
    assert doc["unaffected"] == 2  # db on h1 and h2
    kinds = {c["target"]: (c["base"]["kind"], c["head"]["kind"]) for c in doc["changes"]}
    assert kinds == {"api/production/h1": ("unchanged", "change"), "api/production/h2": ("unchanged", "change"),
                     "web/production/h1": ("unchanged", "blocked"), "web/production/h2": ("unchanged", "blocked")}
    same = cli("plan", "-C", repo, "--base", "HEAD", "--at", AT, "--format", "markdown", "--detailed-exitcode")
    assert same.code == 0 and "does not change what any release target will run" in same.out


def test_pr_comment_stays_under_the_limit_without_cutting_tables():
    from datetime import UTC, datetime

    from reconciler.cli.views.prdiff import markdown
    from reconciler.engine.prdiff import Outcome, PlanDiff

    diff = PlanDiff("a" * 40, "b" * 40, datetime(2026, 11, 22, tzinfo=UTC))
    for d in range(40):
        for r in range(400):
            diff.entries.append((f"dep{d}/production/host-{r:04d}", Outcome("unchanged"),
                                 Outcome("change", "upgrade", "v2", "v2 is the newest deployable version " + "x" * 40)))
    text = markdown(diff, limit=65536 - 1000)
    assert len(text) < 65536
    assert text.count("<details>") == text.count("</details>") == 40
    assert text.count("| target | before this PR |") == 40
    assert "more rows not shown to stay under GitHub's comment limit" in text
    for line in text.splitlines():
        assert not line.startswith("|") or line.endswith("|"), "a table row was cut"


def test_a_removed_resource_says_why_its_targets_go(cli, make_repo):
    repo = make_repo({**BASE, "gate.yaml": """
        type: Policy
        name: gate
        rules: [{anyApproval: {minApprovals: 1}}]
        """})
    git(repo, "checkout", "-q", "-b", "shrink")
    inventory = dedent(BASE["inventory.yaml"])
    write_files(repo, {"inventory.yaml": inventory[:inventory.index("---\ntype: Resource\nidentifier: h2")]})
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "drop h2")
    out = cli("plan", "-C", repo, "--base", "main", "--at", AT, "--format", "markdown").out
    row = next(line for line in out.splitlines() if line.startswith("| `h2`"))
    assert "no longer a release target with this PR" in row and "awaiting approval" not in row
