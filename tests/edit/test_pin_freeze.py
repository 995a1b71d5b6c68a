"""``reconciler pin`` and ``reconciler freeze``: the documents they write validate and change the
plan; ``--remove`` deletes one document and leaves every other byte alone."""

from __future__ import annotations

import json

PINS = """\
# Pins of the shop.   Reviewed in every PR.
type: Pin
name: keep-web-prod
deployment: web
version: '1.0'
reason: customer sign-off pending   # ticket 7
selectors:
- environments: environment.name == "production"
"""


def plan(cli, root) -> dict:
    result = cli("plan", "-C", root, "--format", "json")
    assert result.code in (0, 2), result.err
    return json.loads(result.out)


def planned_versions(cli, root) -> dict[str, str]:
    return {c["target"]: c["toVersion"] for c in plan(cli, root)["changes"]}


def test_freeze_blocks_the_targets_in_scope(shop, cli, golden):
    assert planned_versions(cli, shop)["web/staging/staging-1"] == "2.0"
    result = cli("freeze", "incident-42", "-C", shop, "--reason", "db migration", "--environment", "staging",
                 "--until", "2099-01-01T00:00:00Z", "--actor", "alice")
    assert result.code == 0, result.err
    assert result.out == "Froze incident-42 in freezes.yaml\n"
    golden("edit/freeze-new-file.yaml", (shop / "freezes.yaml").read_text())
    assert cli("validate", "-C", shop).code == 0
    after = plan(cli, shop)
    blocked = {b["target"]: b for b in after["blocked"]}
    assert blocked["web/staging/staging-1"]["policy"] == "incident-42"
    assert "db migration" in blocked["web/staging/staging-1"]["message"]
    assert "web/production/prod-1" in {c["target"] for c in after["changes"]}


def test_pin_holds_targets_on_the_pinned_version(shop, cli, golden):
    (shop / "pins.yaml").write_text(PINS)
    assert cli("version", "add", "web", "2.1", "-C", shop, "--created-at", "2026-11-20T09:00:00Z").code == 0
    assert planned_versions(cli, shop)["web/staging/staging-1"] == "2.1"
    result = cli("pin", "web-staging", "-C", shop, "--deployment", "web", "--version", "2.0", "--reason",
                 "2.1 breaks checkout", "--environment", "staging", "--target", "web/staging/staging-1",
                 "--actor", "bob")
    assert result.code == 0, result.err
    after = (shop / "pins.yaml").read_text()
    assert after.startswith(PINS)
    golden("edit/pin-append.yaml", after)
    versions = planned_versions(cli, shop)
    assert versions["web/staging/staging-1"] == "2.0"
    assert versions["web/production/prod-1"] == "1.0"  # the existing pin still holds production


def test_pin_and_freeze_input_errors(shop, cli):
    cases = [
        (("pin", "p", "--deployment", "web", "--version", "9.9", "--reason", "x"), "has no version '9.9'"),
        (("pin", "p", "--deployment", "web", "--version", "2.0"), "needs --reason"),
        (("pin", "p", "--deployment", "web", "--version", "2.0", "--reason", "x", "--environment", "qa"),
         "unknown environment 'qa'"),
        (("pin", "p", "--deployment", "web", "--version", "2.0", "--reason", "x",
          "--target", "api/staging/s"),
         "belongs to deployment 'api'"),
        (("freeze", "f"), "needs --reason"),
        (("freeze", "f", "--reason", "x", "--deployment", "nope"), "unknown deployment 'nope'"),
        (("freeze", "--remove", "missing"), "no Freeze named 'missing'"),
        (("freeze", "bad name", "--reason", "x"), "invalid Freeze: name"),
    ]
    for args, message in cases:
        result = cli(*args, "-C", shop)
        assert result.code == 2 and message in result.err, (args, result.err)
    assert not (shop / "pins.yaml").exists() and not (shop / "freezes.yaml").exists()


def test_remove_deletes_only_that_document(shop, cli, golden):
    (shop / "pins.yaml").write_text(PINS)
    for name in ("a", "b"):
        assert cli("pin", name, "-C", shop, "--deployment", "web", "--version", "2.0", "--reason", name,
                   "--actor", "ci").code == 0
    before = (shop / "pins.yaml").read_text()
    result = cli("pin", "--remove", "a", "-C", shop)
    assert result.code == 0 and result.out == "Removed Pin a from pins.yaml\n"
    after = (shop / "pins.yaml").read_text()
    golden("edit/pin-remove-middle.yaml", after)
    cut = before.replace(after[len(PINS):], "", 1)[len(PINS):]
    assert after.startswith(PINS) and cut.startswith("---\ntype: Pin\nname: a\n") and "name: b" not in cut
    assert cli("validate", "-C", shop).code == 0


def test_removing_the_last_document_deletes_the_file(shop, cli):
    assert cli("freeze", "all", "--reason", "stop", "-C", shop).code == 0
    result = cli("freeze", "--remove", "all", "-C", shop)
    assert result.code == 0 and "the file is now empty and was deleted" in result.out
    assert not (shop / "freezes.yaml").exists()
