"""The kubernetes agent with a recording stand-in ``kubectl``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reconciler.errors import TerminalError
from reconciler.executors import registry
from reconciler.executors.builtin.kubernetes import APPLY_DIR, k8s_name
from tests.executors.conftest import make_agent, make_job
from tests.fakes.binaries import recording_binary

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
---
apiVersion: v1
kind: Service
metadata: {name: api}
"""
WORKERS = """\
apiVersion: v1
kind: List
items:
  - {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, namespace: data}}
  - {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent}}
"""
ARTIFACTS = {"manifests/10-api.yaml": DEPLOY, "manifests/20-workers.yml": WORKERS, "notes.txt": "not a manifest"}


@pytest.fixture
def kubectl(tmp_path):
    return recording_binary(tmp_path / "bin", "kubectl")


def deploy(kubectl, ctx, operation="install", artifacts=ARTIFACTS, **config):
    config = {"type": "kubernetes", "kubectl": str(kubectl.path), "context": "prod-eu", "namespace": "shop", **config}
    return make_agent(config).dispatch(make_job(config, operation=operation, artifacts=artifacts), ctx)


def test_applies_the_manifests_then_waits_for_every_rollout(kubectl, ctx):
    result = deploy(kubectl, ctx, kubeconfig="kube/config", rolloutTimeout="2m")
    directory = str(ctx.scratch / APPLY_DIR)
    flags = ["--kubeconfig", str(ctx.workdir / "kube/config"), "--context", "prod-eu"]
    assert result.status == "done", result.message
    assert kubectl.argvs() == [
        [*flags, "-n", "shop", "apply", "-R", "-f", directory],
        [*flags, "-n", "shop", "rollout", "status", "deployment/api", "--timeout=120s"],
        [*flags, "-n", "data", "rollout", "status", "statefulset/db", "--timeout=120s"],
        [*flags, "-n", "shop", "rollout", "status", "daemonset/agent", "--timeout=120s"],
    ]
    assert kubectl.calls()[0]["files"] == {"manifests/10-api.yaml": DEPLOY, "manifests/20-workers.yml": WORKERS}
    assert result.message.endswith("ready: deployment/api, statefulset/db, daemonset/agent")


def test_wait_for_overrides_the_discovered_rollouts(kubectl, ctx):
    result = deploy(kubectl, ctx, waitFor=["deployment.apps/api"], context=None, namespace=None)
    assert result.status == "done"
    assert kubectl.argvs()[1:] == [["rollout", "status", "deployment.apps/api", "--timeout=300s"]]


def test_a_failed_rollout_fails_the_task_and_stops_waiting(kubectl, ctx):
    kubectl.on("statefulset/db", exit=1, stderr="error: timed out waiting for the condition\n")
    result = deploy(kubectl, ctx)
    assert result.status == "failed"
    assert result.message == "rollout of statefulset/db failed (exit code 1): error: timed out waiting for the condition"
    assert [a[-2] for a in kubectl.argvs()[1:]] == ["deployment/api", "statefulset/db"]


def test_a_failed_apply_waits_for_nothing(kubectl, ctx):
    kubectl.on("apply", exit=1, stderr='error: unable to recognize "x.yaml": no matches for kind "Deploymnt"')
    result = deploy(kubectl, ctx)
    assert result.status == "failed" and "kubectl apply failed" in result.message and "Deploymnt" in result.message
    assert len(kubectl.calls()) == 1


def test_a_hanging_apply_times_out(kubectl, ctx):
    kubectl.on("apply", exit=0, sleep=5)
    result = deploy(kubectl, ctx, timeout="0.5s")
    assert (result.status, result.message) == ("failed", "kubectl apply timed out")


def test_cancel_between_rollouts(kubectl, ctx):
    asked = iter([False, True])
    ctx.cancel_requested = lambda: next(asked, True)
    result = deploy(kubectl, ctx)
    assert result.status == "canceled" and "statefulset/db" in result.message
    assert len(kubectl.calls()) == 2


def test_uninstall_deletes_what_the_manifests_describe(kubectl, ctx):
    result = deploy(kubectl, ctx, operation="uninstall")
    assert result.status == "done"
    assert kubectl.argvs() == [["--context", "prod-eu", "-n", "shop", "delete", "-R", "-f",
                                str(ctx.scratch / APPLY_DIR), "--ignore-not-found"]]


def test_no_manifests_or_bad_yaml_is_terminal(kubectl, ctx):
    with pytest.raises(TerminalError, match="no manifest artifacts"):
        deploy(kubectl, ctx, artifacts={"notes.txt": "x"})
    with pytest.raises(TerminalError, match="manifest bad.yaml is not valid YAML"):
        deploy(kubectl, ctx, artifacts={"bad.yaml": "kind: [unclosed"})
    assert kubectl.calls() == []


@pytest.mark.parametrize("change, error", [
    ({"waitFor": ["api"]}, "must look like kind/name"),
    ({"rolloutTimeout": "soon"}, "invalid duration"),
    ({"namespace": 3}, "valid string"),
])
def test_config_is_validated(change, error):
    with pytest.raises(ValidationError, match=error):
        registry.validate_config({"type": "kubernetes", **change})


def test_k8s_names():
    assert k8s_name("API_Service/EU West") == "api-service-eu-west"
    assert len(k8s_name("x" * 100)) == 63
    with pytest.raises(TerminalError):
        k8s_name("__")


def test_each_attempt_applies_only_its_own_manifests(kubectl, ctx):
    deploy(kubectl, ctx)
    deploy(kubectl, ctx, artifacts={"only.yaml": DEPLOY})
    assert kubectl.calls()[-2]["files"] == {"only.yaml": DEPLOY}
