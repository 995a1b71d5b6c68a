"""``reconciler version add``: which file it appends to, byte-exact appends on commented files,
input validation, and a workspace that still validates afterwards."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from reconciler.errors import ConfigError
from reconciler.loading import edit

DIGEST = "sha256:" + "ab" * 32


def read(root, rel: str) -> str:
    return (root / rel).read_text()


def test_appends_to_the_file_with_the_newest_version_and_keeps_every_byte(shop, cli, golden):
    before = read(shop, "versions/web-b.yaml")
    untouched = read(shop, "versions/web-a.yaml")
    result = cli("version", "add", "web", "2.1", "-C", shop, "--created-at", "2026-11-20T09:30:00Z",
                 "--image", f"web=registry.example.com/web@{DIGEST}", "--metadata", "commit=0f3a9c1",
                 "--metadata", "branch=main", "--config", "replicas=3", "--job-config", "timeout: 5m")
    assert result.code == 2  # "timeout: 5m" has no '='
    result = cli("version", "add", "web", "2.1", "-C", shop, "--created-at", "2026-11-20T09:30:00Z",
                 "--image", f"web=registry.example.com/web@{DIGEST}", "--metadata", "commit=0f3a9c1",
                 "--metadata", "branch=main", "--config", "replicas=3", "--job-config", "timeout=5m")
    assert result.code == 0, result.err
    assert result.out == "Added version 2.1 of web to versions/web-b.yaml\n"
    after = read(shop, "versions/web-b.yaml")
    assert after.startswith(before) and read(shop, "versions/web-a.yaml") == untouched
    golden("edit/version-add-web-b.yaml", after)
    assert cli("validate", "-C", shop).code == 0


def test_without_versions_it_appends_to_the_deployments_own_file(shop, cli, golden):
    before = read(shop, "deployments/api.yaml")
    result = cli("version", "add", "api", "v1.0.0", "-C", shop, "--created-at", "2026-11-20T09:30:00+01:00")
    assert result.code == 0, result.err
    after = read(shop, "deployments/api.yaml")
    assert after.startswith(before)
    golden("edit/version-add-api.yaml", after)


def test_file_option_and_created_at_now(shop, cli):
    started = datetime.now(UTC).replace(microsecond=0)
    result = cli("version", "add", "api", "v2", "-C", shop, "--file", "versions/api.yaml",
                 "--status", "building")
    assert result.code == 0, result.err
    text = read(shop, "versions/api.yaml")
    stamp = re.search(r"^createdAt: (\S+)$", text, re.M).group(1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert started <= at <= started + timedelta(seconds=5)
    assert text.startswith("type: Version\ndeployment: api\ntag: v2\nstatus: building\n")


def test_input_errors_are_one_line_and_exit_2_writing_nothing(shop, cli):
    snapshot = {p: p.read_bytes() for p in shop.rglob("*.yaml")}
    cases = [
        (("nope", "v1"), "unknown deployment 'nope' (known: api, web)"),
        (("web", "2.0"), "version '2.0' of deployment 'web' already exists in versions/web-b.yaml"),
        (("web", "3", "--image", "web=registry.example.com/web:3"), "REPO@sha256:<64 hex digits>"),
        (("web", "3", "--image", "web=r/web@sha256:abc"), "REPO@sha256:<64 hex digits>"),
        (("web", "3", "--metadata", "novalue"), "--metadata expects KEY=VALUE"),
        (("web", "3", "--created-at", "yesterday"), "not an ISO 8601 time"),
        (("web", "3", "--file", "../outside.yaml"), "outside the desired-state directory"),
        (("web", "3", "--push"), "only apply together with --commit"),
    ]
    for args, message in cases:
        result = cli("version", "add", *args, "-C", shop)
        assert result.code == 2, (args, result.err)
        assert message in result.err and result.err.count("\n") == 1, result.err
    assert {p: p.read_bytes() for p in shop.rglob("*.yaml")} == snapshot


def test_a_file_the_workspace_does_not_read_is_refused_and_restored(shop, cli):
    (shop / "reconciler.yaml").write_text("workspace: shop\nexclude: [drafts]\n")
    result = cli("version", "add", "web", "3", "-C", shop, "--file", "drafts/web.yaml")
    assert result.code == 2 and "is not read as desired state" in result.err
    assert not (shop / "drafts").exists()


def test_the_new_version_is_planned(shop, cli):
    assert cli("version", "add", "web", "2.1", "-C", shop).code == 0
    plan = json.loads(cli("plan", "-C", shop, "--format", "json").out)
    assert {c["toVersion"] for c in plan["changes"] if c["deployment"] == "web"} == {"2.1"}


def test_an_edit_that_breaks_the_workspace_is_rolled_back(shop):
    broken = edit.Edit(shop, "more/bad.yaml", None, b"type: Version\ndeployment: nope\ntag: x\n", "Add x")
    with pytest.raises(ConfigError, match="nope"):
        edit.apply(broken)
    assert not (shop / "more").exists()
