"""``--commit``, ``--branch``, ``--push`` and ``--message`` on the edit commands, and
``write_approval`` for ``approve --git``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.loading.edit import write_approval
from reconciler.loading.load import load_workspace
from tests.conftest import git


@pytest.fixture
def no_global_git_identity(tmp_path, monkeypatch):
    """Hide the machine's ~/.gitconfig, so the author's email must come from the fallback."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))


def commits(root, rev: str = "HEAD") -> list[str]:
    return git(root, "log", "--format=%H", rev).split()


def test_commit_creates_exactly_one_commit_with_the_actors_name(shop, cli, no_global_git_identity):
    before = commits(shop)
    result = cli("version", "add", "web", "2.1", "-C", shop, "--commit", "--actor", "ci-bot")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "Added version 2.1 of web to versions/web-b.yaml"
    assert result.out.splitlines()[1].startswith("Committed ") and result.out.endswith(" on main as ci-bot\n")
    assert commits(shop)[1:] == before
    assert git(shop, "log", "-1", "--format=%an|%ae|%cn|%s") == \
        "ci-bot|ci-bot@users.noreply.reconciler.dev|ci-bot|Add version 2.1 of web\n"
    assert git(shop, "show", "--name-only", "--format=", "HEAD").split() == ["versions/web-b.yaml"]
    assert git(shop, "status", "--porcelain") == ""


def test_actor_from_the_environment_and_email_from_git_config(shop, cli, monkeypatch):
    git(shop, "config", "user.email", "deploys@example.com")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    result = cli("freeze", "stop", "--reason", "incident", "-C", shop, "--commit", "-m", "Stop the line")
    assert result.code == 0, result.err
    assert git(shop, "log", "-1", "--format=%an|%ae|%s") == "octocat|deploys@example.com|Stop the line\n"
    assert git(shop, "show", "--name-status", "--format=", "HEAD").split() == ["A", "freezes.yaml"]


@pytest.mark.parametrize("dirt", ["modified", "staged", "untracked"])
def test_commit_refuses_unrelated_changes_and_writes_nothing(shop, cli, dirt):
    if dirt == "untracked":
        (shop / "notes.txt").write_text("todo\n")
    else:
        (shop / "resources.yaml").write_text((shop / "resources.yaml").read_text() + "# edited\n")
        if dirt == "staged":
            git(shop, "add", "resources.yaml")
    target = (shop / "versions/web-b.yaml").read_bytes()
    head = commits(shop)
    result = cli("version", "add", "web", "2.1", "-C", shop, "--commit")
    assert result.code == 2
    assert "refusing to commit: the work tree has unrelated changes" in result.err
    assert ("notes.txt" if dirt == "untracked" else "resources.yaml") in result.err
    assert (shop / "versions/web-b.yaml").read_bytes() == target and commits(shop) == head


def test_a_dirty_edited_file_is_not_unrelated(shop, cli):
    path = shop / "versions/web-b.yaml"
    path.write_text(path.read_text().replace("Keep this comment.", "Keep this comment!"))
    assert cli("version", "add", "web", "2.1", "-C", shop, "--commit").code == 0
    assert git(shop, "status", "--porcelain") == ""


def test_branch_is_created_and_main_is_left_alone(shop, cli):
    main = commits(shop)
    result = cli("pin", "hold", "-C", shop, "--deployment", "web", "--version", "2.0", "--reason", "wait",
                 "--commit", "--branch", "pin/hold", "--actor", "alice")
    assert result.code == 0, result.err
    assert git(shop, "branch", "--show-current").strip() == "pin/hold"
    assert commits(shop, "main") == main and commits(shop, "pin/hold")[1:] == main
    result = cli("freeze", "f", "-C", shop, "--reason", "x", "--commit", "--branch", "main")
    assert result.code == 0 and git(shop, "branch", "--show-current").strip() == "main"
    assert not (shop / "pins.yaml").exists()  # the pin lives on its branch only


def test_a_failed_edit_on_a_new_branch_goes_back(shop, cli):
    result = cli("version", "add", "web", "2.0", "-C", shop, "--commit", "--branch", "ci/dup")
    assert result.code == 2 and "already exists" in result.err
    assert git(shop, "branch", "--show-current").strip() == "main"
    assert "ci/dup" not in git(shop, "branch", "--list")


def test_push_to_a_bare_remote(shop, cli, tmp_path):
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(shop), str(bare))
    git(shop, "remote", "add", "origin", str(bare))
    result = cli("version", "add", "web", "2.1", "-C", shop, "--commit", "--branch", "ci/web-2.1", "--push",
                 "--actor", "ci-bot")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "Pushed ci/web-2.1 to origin"
    assert git(bare, "rev-parse", "ci/web-2.1") == git(shop, "rev-parse", "HEAD")
    assert git(bare, "log", "-1", "--format=%an %s", "ci/web-2.1") == "ci-bot Add version 2.1 of web\n"


def test_remove_with_commit_records_the_deletion(shop, cli):
    assert cli("freeze", "all", "--reason", "stop", "-C", shop, "--commit").code == 0
    assert cli("freeze", "--remove", "all", "-C", shop, "--commit").code == 0
    assert git(shop, "show", "--name-status", "--format=%s", "HEAD").split() == \
        ["Remove", "Freeze", "all", "D", "freezes.yaml"]


def test_write_approval_appends_an_approval_document(shop, golden):
    at = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    edit = write_approval(shop, "web", "2.0", "production", "carol", "looks good", "approved", at)
    assert edit.path == "approvals.yaml" and edit.before is None
    write_approval(shop, "web", "2.0", "staging", "dave", "", "rejected", at, file="approvals/web.yaml")
    golden("edit/approval.yaml", (shop / "approvals.yaml").read_text())
    catalog = load_workspace(str(shop)).catalog
    votes = {(a.environment, a.approvedBy, a.status) for a in catalog.approvals}
    assert votes == {("production", "carol", "approved"), ("staging", "dave", "rejected")}
