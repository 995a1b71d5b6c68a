"""The compose agent with a recording stand-in ``docker`` (locally, and remotely through a real sshd)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reconciler.errors import TerminalError
from reconciler.executors import registry
from reconciler.executors.builtin.compose import project_name
from tests.executors.conftest import make_agent, make_job
from tests.fakes.binaries import recording_binary

LOCK = "services:\n  web:\n    image: nginx:1.27\n"
ARTIFACTS = {"compose.lock.yml": LOCK, "env/web.env": "PORT=80\n"}


@pytest.fixture
def docker(tmp_path):
    return recording_binary(tmp_path / "bin", "docker")


def deploy(docker, ctx, operation="install", artifacts=ARTIFACTS, **config):
    config = {"type": "compose", "docker": str(docker.path), **config}
    return make_agent(config).dispatch(make_job(config, operation=operation, artifacts=artifacts), ctx)


def test_writes_every_artifact_then_pulls_and_starts(docker, ctx):
    result = deploy(docker, ctx, dockerHost="tcp://10.0.0.5:2376")
    directory = ctx.workdir / ".reconciler/compose/api-prod"
    assert (result.status, result.message) == ("done", "stack api-prod is up")
    assert (directory / "compose.lock.yml").read_text() == LOCK
    assert (directory / "env/web.env").read_text() == "PORT=80\n"
    assert docker.argvs() == [["compose", "-p", "api-prod", "-f", "compose.lock.yml", "pull"],
                              ["compose", "-p", "api-prod", "-f", "compose.lock.yml", "up", "-d", "--remove-orphans"]]
    assert {c["cwd"] for c in docker.calls()} == {str(directory)}
    assert {c["docker_host"] for c in docker.calls()} == {"tcp://10.0.0.5:2376"}
    assert docker.calls()[1]["files"] == {"compose.lock.yml": LOCK}
    assert result.outputs == {"project": "api-prod", "directory": ".reconciler/compose/api-prod"}


def test_project_directory_lock_file_and_no_pull(docker, ctx):
    artifacts = {"stack.yml": LOCK}
    result = deploy(docker, ctx, artifacts=artifacts, project="shop", directory="deploy/here", lockFile="stack.yml",
                    pull=False)
    assert result.status == "done"
    assert docker.argvs() == [["compose", "-p", "shop", "-f", "stack.yml", "up", "-d", "--remove-orphans"]]
    assert docker.calls()[0]["cwd"] == str(ctx.workdir / "deploy/here")
    assert docker.calls()[0]["docker_host"] is None


def test_a_failed_pull_stops_before_up(docker, ctx):
    docker.on("pull", exit=18, stderr="pulling web\nmanifest unknown: nginx:9\n")
    result = deploy(docker, ctx)
    assert result.status == "failed"
    assert result.message == "docker compose pull (project api-prod) exited with 18: pulling web | manifest unknown: nginx:9"
    assert [a[-1] for a in docker.argvs()] == ["pull"]


def test_a_failed_up_fails_the_task(docker, ctx):
    docker.on("up", exit=1, stderr="port is already allocated")
    result = deploy(docker, ctx)
    assert result.status == "failed" and result.message.endswith("port is already allocated")


def test_uninstall_runs_down_with_the_lock_file_when_present(docker, ctx):
    deploy(docker, ctx)
    result = deploy(docker, ctx, operation="uninstall", artifacts={})
    assert (result.status, result.message) == ("done", "stack api-prod is down")
    assert docker.argvs()[-1] == ["compose", "-p", "api-prod", "-f", "compose.lock.yml", "down"]


def test_uninstall_without_files_runs_down_by_project_name(docker, ctx):
    result = deploy(docker, ctx, operation="uninstall", artifacts={})
    assert result.status == "done"
    assert docker.argvs() == [["compose", "-p", "api-prod", "down"]]


def test_missing_lock_file_and_escaping_paths_are_terminal(docker, ctx):
    with pytest.raises(TerminalError, match="'compose.lock.yml' is not among the job's artifacts"):
        deploy(docker, ctx, artifacts={"other.yml": LOCK})
    with pytest.raises(TerminalError, match="must stay inside"):
        deploy(docker, ctx, artifacts={**ARTIFACTS, "../../etc/passwd": "x"})
    assert docker.calls() == []


def test_cancel_before_the_first_command(docker, ctx):
    ctx.cancel_requested = lambda: True
    assert deploy(docker, ctx).status == "canceled"
    assert docker.calls() == []


def test_blue_green_alternates_and_reports_the_colour(docker, ctx):
    first = deploy(docker, ctx, blueGreen=True)
    second = deploy(docker, ctx, blueGreen=True)
    assert (first.outputs["colour"], first.outputs["previousColour"]) == ("blue", None)
    assert second.outputs == {"project": "api-prod-green", "colour": "green", "previousColour": "blue",
                              "previousProject": "api-prod-blue", "directory": ".reconciler/compose/api-prod/green"}
    assert docker.argvs()[-1][:3] == ["compose", "-p", "api-prod-green"]
    assert docker.calls()[-1]["cwd"] == str(ctx.workdir / ".reconciler/compose/api-prod/green")
    docker.on("up", exit=1, stderr="boom")
    failed = deploy(docker, ctx, blueGreen=True)
    assert (failed.status, failed.outputs["colour"]) == ("failed", "blue")
    assert deploy(docker, ctx, blueGreen=True, pull=False).outputs["colour"] == "blue"  # still green live


def test_blue_green_uninstall_downs_both_colours(docker, ctx):
    deploy(docker, ctx, blueGreen=True)
    result = deploy(docker, ctx, blueGreen=True, operation="uninstall", artifacts={})
    assert result.status == "done"
    assert docker.argvs()[-2:] == [["compose", "-p", "api-prod-blue", "-f", "compose.lock.yml", "down"],
                                   ["compose", "-p", "api-prod-green", "down"]]


def test_runs_remotely_over_ssh(docker, sshd, tmp_path, ctx):
    remote = tmp_path / "remote-stack"
    result = deploy(docker, ctx, host=f"{sshd.user}@{sshd.host}:{sshd.port}", keyFile=str(sshd.client_key),
                    knownHostsFile=str(sshd.known_hosts), directory=str(remote), dockerHost="ssh://box")
    assert result.status == "done", result.message
    assert (remote / "env/web.env").read_text() == "PORT=80\n"
    assert [c["cwd"] for c in docker.calls()] == [str(remote), str(remote)]
    assert {c["docker_host"] for c in docker.calls()} == {"ssh://box"}
    assert {c["task"] for c in docker.calls()} == {"t0123456789abcdef"}
    assert not (ctx.workdir / ".reconciler").exists()


def test_remote_changed_host_key_is_rejected(docker, sshd, tmp_path, ctx):
    with pytest.raises(TerminalError, match="does not match"):
        deploy(docker, ctx, host=f"{sshd.user}@{sshd.host}:{sshd.port}", keyFile=str(sshd.client_key),
               knownHostsFile=str(sshd.wrong_known_hosts), directory=str(tmp_path / "r"))
    assert docker.calls() == [] and not (tmp_path / "r").exists()


@pytest.mark.parametrize("change, error", [
    ({"host": "box"}, "must name the login user"),
    ({"host": "me@box"}, "exactly one of keyFile"),
    ({"host": "me@box:ssh", "keyFile": "k"}, "invalid port"),
    ({"pull": "sometimes"}, "valid boolean"),
])
def test_config_is_validated(change, error):
    with pytest.raises(ValidationError, match=error):
        registry.validate_config({"type": "compose", **change})


def test_project_names_are_sanitised():
    assert project_name("Shop Front/EU") == "shop-front-eu"
    with pytest.raises(TerminalError):
        project_name("///")


def test_a_started_stack_leaves_a_version_sticker_with_the_lock_digest(docker, ctx):
    import json

    from reconciler.rendering import sticker

    assert deploy(docker, ctx).status == "done"
    config = {"type": "compose", "docker": str(docker.path)}
    agent = make_agent(config)
    data = json.loads(agent.read_sticker(make_job(config), ctx))
    assert (data["target"], data["version"]) == ("api/prod/eu-1", "v1.2.3")
    assert data["lockDigest"] is None and sticker.lock_digest(ARTIFACTS) == (None, None)  # no lock header here
    assert (ctx.workdir / ".reconciler/compose/api-prod/reconciler.sticker.json").exists()
    assert deploy(docker, ctx, operation="uninstall").status == "done"
    assert agent.read_sticker(make_job(config), ctx) is None
