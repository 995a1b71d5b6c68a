"""Blue-green with the kubernetes agent (recording stand-in kubectl): the new colour runs beside
the live one; the Service selector flips only in finalize after verification, or the new colour
is deleted when verification failed."""

from __future__ import annotations


import pytest
import yaml

from tests.executors.conftest import make_agent, make_job
from tests.fakes.binaries import recording_binary

MANIFESTS = {"app.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, labels: {app: api}}
spec:
  selector: {matchLabels: {app: api}}
  template: {metadata: {labels: {app: api}}, spec: {containers: [{name: api, image: "api@sha256:aa"}]}}
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80}]}
"""}


@pytest.fixture
def kubectl(tmp_path):
    return recording_binary(tmp_path / "bin", "kubectl")


def run(kubectl, ctx):
    config = {"type": "kubernetes", "kubectl": str(kubectl.path), "namespace": "shop", "blueGreen": True}
    agent = make_agent(config)
    job = make_job(config, operation="upgrade", artifacts=MANIFESTS)
    return agent, job, agent.dispatch(job, ctx)


def verbs(kubectl, start=0):
    return [" ".join(a[2:5]) for a in kubectl.argvs()[start:]]


def test_first_deployment_is_blue_and_brings_its_service(kubectl, ctx):
    agent, job, result = run(kubectl, ctx)
    assert result.status == "done" and result.outputs["colour"] == "blue"
    applied = list(yaml.safe_load_all(kubectl.calls()[1]["files"][next(iter(kubectl.calls()[1]["files"]))]))
    deployment, service = applied
    assert deployment["metadata"]["name"] == "api-blue"
    assert deployment["spec"]["selector"]["matchLabels"] == {"app": "api", "reconciler.dev/colour": "blue"}
    assert service["spec"]["selector"] == {"app": "api", "reconciler.dev/colour": "blue"}
    done = agent.finalize(job, ctx, result.outputs, succeeded=True)
    assert done.status == "done" and verbs(kubectl, 3) == ["patch service api"]


def test_switch_after_verification_then_old_colour_removed(kubectl, ctx):
    kubectl.on("get", "service", "api", exit=0, stdout="blue")
    agent, job, result = run(kubectl, ctx)
    assert result.outputs["colour"] == "green" and result.outputs["previousWorkloads"] == ["deployment/api-blue"]
    applied = list(yaml.safe_load_all(next(iter(kubectl.calls()[1]["files"].values()))))
    assert [d["kind"] for d in applied] == ["Deployment"], "the live Service is not touched before the switch"
    assert verbs(kubectl) == ["get service api", "apply -f " + kubectl.argvs()[1][4], "rollout status deployment/api-green"]
    agent.finalize(job, ctx, result.outputs, succeeded=True)
    switch = kubectl.argvs()[3]
    assert switch[2:4] == ["apply", "-f"]  # the Service as the release defines it (new ports arrive too)
    (service,) = yaml.safe_load_all(next(iter(kubectl.calls()[3]["files"].values())))
    assert service["kind"] == "Service" and service["spec"]["ports"] == [{"port": 80}]
    assert service["spec"]["selector"] == {"app": "api", "reconciler.dev/colour": "green"}
    assert kubectl.argvs()[4][2:4] == ["delete", "deployment/api-blue"]


def test_failed_verification_abandons_the_new_colour(kubectl, ctx):
    kubectl.on("get", "service", "api", exit=0, stdout="green")
    agent, job, result = run(kubectl, ctx)
    assert result.outputs["colour"] == "blue"
    done = agent.finalize(job, ctx, result.outputs, succeeded=False)
    assert done.status == "done" and "old colour stays live" in done.message
    assert verbs(kubectl, 3) == ["delete deployment/api-blue --ignore-not-found"]
    assert not any("patch" in a for a in kubectl.argvs())
