"""Job-agent features end to end through the CLI: a third-party agent from the
``reconciler.agents`` entry-point group (and a broken one left out), verification triggered on a
job failure, fine-grained task traces, and rolling batches by percentage and canary steps."""

from __future__ import annotations

import json
import os
import sys
import textwrap

from tests.conftest import run_process, write_files

PLUGIN = textwrap.dedent('''
    from reconciler.executors.base import Agent, AgentConfig, AgentResult

    class EchoConfig(AgentConfig):
        type: str = "echo"
        greeting: str = "hello"

    class EchoAgent(Agent):
        type = "echo"
        Config = EchoConfig

        def dispatch(self, job, ctx):
            (ctx.workdir / f"echo-{job.resource}").write_text(f"{self.config.greeting} {job.version}")
            return AgentResult("done", f"echoed {job.version}")
''')


def _plugin_path(tmp_path) -> str:
    site = tmp_path / "site"
    (site / "echo_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "echo_plugin.py").write_text(PLUGIN)
    (site / "echo_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: echo-plugin\n"
                                                                  "Version: 1.0\n")
    (site / "echo_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[reconciler.agents]\necho = echo_plugin:EchoAgent\nbroken = no_such_module:Agent\n")
    return str(site)


def test_an_agent_from_the_entry_point_group_runs_and_a_broken_one_is_left_out(tmp_path, ws):
    root = ws(resources=2)
    (root / "agent.yaml").write_text("type: JobAgent\nname: py\nconfig: {type: echo, greeting: hi}\n")
    env = {"PYTHONPATH": os.pathsep.join([_plugin_path(tmp_path), os.environ.get("PYTHONPATH", "")])}
    result = run_process("apply", "-C", root, env=env)
    assert result.code == 0, result.out + result.err
    assert (root / "echo-r1").read_text() == "hi v1" and (root / "echo-r2").read_text() == "hi v1"
    (root / "agent.yaml").write_text("type: JobAgent\nname: py\nconfig: {type: broken}\n")
    result = run_process("validate", "-C", root, env=env)
    assert result.code == 1 and "agent.yaml:3:16: error: Broken agent plugin: agent type 'broken' is installed, but " \
        "its plugin (entry point 'no_such_module:Agent' of the reconciler.agents group) fails to import: " \
        "ModuleNotFoundError: No module named 'no_such_module'. Fix or reinstall the plugin" in result.err
    (root / "agent.yaml").write_text("type: JobAgent\nname: py\nconfig: {type: nosuch}\n")
    result = run_process("validate", "-C", root, env=env)
    assert result.code == 1 and "'nosuch' is not a job agent type; use one of: " in result.err
    assert "echo" in result.err and "broken" not in result.err  # a broken plugin is not offered


def test_verification_can_run_on_a_job_failure(cli, ws, tmp_path):
    root = ws(resources=1, config="{fail: yes}", policies=f"""type: Policy
name: check-failures
rules:
  - verification:
      triggerOn: jobFailure
      metrics:
        - name: probe
          provider: {{type: command, command: [{sys.executable}, -c, "print('probed')"]}}
          successCondition: result.exitCode == 0
""")
    assert cli("apply", "-C", root).code == 1
    (task,) = json.loads(cli("history", "-C", root, "--format", "json").out)["tasks"]
    assert task["status"] == "failed" and "boom" in task["message"]
    assert task["verification"]["metrics"]["probe"]["measurements"], task["verification"]


def test_task_trace_records_steps_shown_in_history(cli, ws):
    root = ws(resources=1)
    assert cli("apply", "-C", root).code == 0
    (task,) = json.loads(cli("history", "-C", root, "--format", "json").out)["tasks"]
    assert cli("task", "trace", task["id"], "migrate", "completed", "--message", "3 migrations", "-C", root).code == 0
    shown = json.loads(cli("history", "-C", root, "--task", task["id"], "--format", "json").out)
    assert [(t["step"], t["status"], t["message"]) for t in shown["traces"]] == [("migrate", "completed",
                                                                                  "3 migrations")]
    assert "migrate" in cli("history", "-C", root, "--task", task["id"]).out
    bogus = cli("task", "trace", task["id"], "migrate", "exploded", "-C", root)
    assert bogus.code == 2 and "'exploded' is not one of" in bogus.err
    assert cli("release-hold", "app/prod/nope", "-C", root).code == 2
    assert cli("release-hold", "app/prod/r1", "-C", root).out.startswith("no holds on app/prod/r1")


def test_rolling_by_percent_and_canary_steps(cli, ws):
    root = ws(resources=5, policies="type: Policy\nname: r\nrules: [{strategy: {type: rolling, percent: 40}}]\n")
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert [c["batch"] for c in plan["changes"]] == [1, 1, 2, 2, 3]
    write_files(root, {"policies.yaml": "type: Policy\nname: c\nrules: [{strategy: {type: canary, steps: [1, 3]}}]\n"})
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert [c["batch"] for c in plan["changes"]] == [1, 2, 2, 3, 3]
    write_files(root, {"policies.yaml": "type: Policy\nname: c\nrules: [{strategy: {type: canary, "
                                        "steps: [20, 60, 100]}}]\n"})
    plan = json.loads(cli("plan", "-C", root, "--format", "json").out)
    assert [c["batch"] for c in plan["changes"]] == [1, 2, 2, 3, 3]  # percentages when the last step is 100
