"""The ssh agent against a real sshd on 127.0.0.1 (see tests/fakes/sshd.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from reconciler.errors import InvalidAgentError, TerminalError, TransientError
from reconciler.executors import registry
from tests.executors.conftest import make_agent, make_job


def ssh_config(sshd, remote_dir: Path, **extra) -> dict:
    return {"type": "ssh", "host": sshd.host, "port": sshd.port, "user": sshd.user, "keyFile": str(sshd.client_key),
            "knownHostsFile": str(sshd.known_hosts), "workdir": str(remote_dir),
            "command": ["sh", "-c", 'cat compose.env; echo "v=$RECONCILER_VERSION in $(pwd)"; echo warn >&2'],
            **extra}


def run(config: dict, ctx, **job_fields):
    job = make_job(config, artifacts={"compose.env": "A=1\n", "conf/app.ini": "[x]\n"}, **job_fields)
    return make_agent(config).dispatch(job, ctx)


def test_uploads_artifacts_and_job_then_runs_with_the_environment(sshd, tmp_path, ctx):
    remote = tmp_path / "remote"
    result = run(ssh_config(sshd, remote), ctx)
    assert result.status == "done", result.message
    assert result.message == f"v=v1.2.3 in {remote}"
    assert "A=1" in result.log and "warn" in result.log
    assert (remote / "conf/app.ini").read_text() == "[x]\n"
    job = json.loads((remote / ".reconciler-job.json").read_text())
    assert job["taskId"] == "t0123456789abcdef" and job["artifacts"] == ["compose.env", "conf/app.ini"]


def test_variables_stay_off_the_remote_command_line_and_the_job_file_is_private(sshd, tmp_path, ctx):
    config = ssh_config(sshd, tmp_path / "remote", command="tr '\\0' ' ' < /proc/$$/cmdline; echo; "
                                                           "echo \"token=$RECONCILER_VAR_API_TOKEN\"")
    job = make_job(config, variables={"API_TOKEN": "s3cret-value-42"})
    result = make_agent(config).dispatch(job, ctx)
    command_line, exported = result.log.splitlines()[:2]
    assert 'eval "$(cat)"' in command_line
    assert "export" not in command_line and "s3cret" not in command_line
    assert exported == "token=s3cret-value-42"
    assert oct((tmp_path / "remote" / ".reconciler-job.json").stat().st_mode & 0o777) == "0o600"


def test_key_from_an_environment_variable(sshd, tmp_path, ctx, monkeypatch):
    monkeypatch.setenv("DEPLOY_KEY", sshd.client_key.read_text())
    config = ssh_config(sshd, tmp_path / "remote", keyEnv="DEPLOY_KEY", command="echo $RECONCILER_VAR_REPLICAS")
    del config["keyFile"]
    result = run(config, ctx)
    assert (result.status, result.message) == ("done", "3")


def test_non_zero_exit_fails_with_the_stderr_tail(sshd, tmp_path, ctx):
    config = ssh_config(sshd, tmp_path / "remote", command="echo out; echo 'disk full' >&2; exit 3")
    result = run(config, ctx)
    assert result.status == "failed"
    assert result.message.startswith("exit code 3 on ") and result.message.endswith(": disk full")


def test_uninstall_runs_the_uninstall_command(sshd, tmp_path, ctx):
    config = ssh_config(sshd, tmp_path / "remote", uninstallCommand=["echo", "removing $RECONCILER_TARGET"])
    result = run(config, ctx, operation="uninstall")
    assert (result.status, result.message) == ("done", "removing $RECONCILER_TARGET")  # argv is quoted


def test_timeout_fails_the_task(sshd, tmp_path, ctx):
    result = run(ssh_config(sshd, tmp_path / "remote", command="sleep 5", timeout="0.5s"), ctx)
    assert result.status == "failed" and "timed out" in result.message


def test_cancel_before_upload_changes_nothing(sshd, tmp_path, ctx):
    ctx.cancel_requested = lambda: True
    result = run(ssh_config(sshd, tmp_path / "remote"), ctx)
    assert result.status == "canceled"
    assert not (tmp_path / "remote").exists()


def test_unknown_host_key_is_rejected(sshd, tmp_path, ctx):
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    with pytest.raises(TerminalError, match=r"is not in .*empty_known_hosts; add its host key"):
        run(ssh_config(sshd, tmp_path / "remote", knownHostsFile=str(empty)), ctx)
    assert not (tmp_path / "remote").exists()


def test_changed_host_key_is_rejected(sshd, tmp_path, ctx):
    with pytest.raises(TerminalError, match="does not match"):
        run(ssh_config(sshd, tmp_path / "remote", knownHostsFile=str(sshd.wrong_known_hosts)), ctx)


def test_missing_known_hosts_file_is_terminal(sshd, tmp_path, ctx):
    with pytest.raises(TerminalError, match="known_hosts file .* does not exist"):
        run(ssh_config(sshd, tmp_path / "remote", knownHostsFile=str(tmp_path / "nope")), ctx)


def test_host_key_checking_off_accepts_an_unknown_host(sshd, tmp_path, ctx):
    config = ssh_config(sshd, tmp_path / "remote", knownHostsFile=str(tmp_path / "nope"), hostKeyChecking=False)
    assert run(config, ctx).status == "done"


def test_wrong_key_is_rejected(sshd, tmp_path, ctx):
    with pytest.raises(TerminalError, match="ssh authentication failed for .*the key was refused"):
        run(ssh_config(sshd, tmp_path / "remote", keyFile=str(sshd.other_key)), ctx)


def test_missing_key_variable_is_terminal_and_unreachable_port_transient(sshd, tmp_path, ctx):
    config = ssh_config(sshd, tmp_path / "remote", keyEnv="NOT_SET_ANYWHERE")
    del config["keyFile"]
    with pytest.raises(TerminalError, match="NOT_SET_ANYWHERE is not set"):
        run(config, ctx)
    with pytest.raises(TransientError, match="cannot reach"):
        run(ssh_config(sshd, tmp_path / "remote", port=1), ctx)


@pytest.mark.parametrize("change, error", [
    ({"keyEnv": "K"}, "exactly one of keyFile"),
    ({"keyFile": None}, "exactly one of keyFile"),
    ({"port": 70000}, "less than or equal to 65535"),
    ({"command": ""}, "must not be empty"),
])
def test_config_is_validated(tmp_path, change, error):
    config = {"type": "ssh", "host": "h", "user": "u", "keyFile": "k", "command": "true", **change}
    with pytest.raises(ValidationError, match=error):
        registry.validate_config(config)
    with pytest.raises(InvalidAgentError):
        make_agent(config)


def test_an_unusable_remote_directory_is_terminal(sshd, tmp_path, ctx):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(TerminalError, match=r"cannot create directory .*a-file/sub on "):
        run(ssh_config(sshd, tmp_path / "a-file" / "sub"), ctx)


def test_a_successful_run_leaves_a_version_sticker_that_reads_back(sshd, tmp_path, ctx):
    remote = tmp_path / "remote"
    config = ssh_config(sshd, remote)
    assert run(config, ctx).status == "done"
    agent = make_agent(config)
    job = make_job(config)
    data = json.loads(agent.read_sticker(job, ctx))
    assert (data["target"], data["version"], data["releaseId"]) == ("api/prod/eu-1", "v1.2.3", "rel-1")
    assert json.loads((remote / "reconciler.sticker.json").read_text()) == data
    assert run({**config, "command": "exit 3"}, ctx, version="v9").status == "failed"
    assert json.loads(agent.read_sticker(job, ctx))["version"] == "v1.2.3"  # a failure leaves the old one
    assert run(config, ctx, operation="uninstall").status == "done"
    assert agent.read_sticker(job, ctx) is None
