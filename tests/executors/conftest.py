"""Fixtures for agent tests: a job builder, an execution context on tmp dirs, agents built through
the registry (so config validation runs as in the engine), the fake services and a real sshd."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.executors import httpclient, registry
from reconciler.executors.base import Agent, ExecContext, Job
from tests.fakes.argocd import FakeArgoCd
from tests.fakes.github import FakeGitHub
from tests.fakes.service import FakeService
from tests.fakes.sshd import Sshd, running_sshd, sshd_binary
from tests.fakes.tfe import FakeTerraformCloud
from tests.fakes.webhook import FakeWebhook

TOKEN = "tok-s3cr3t-value"


def make_job(config: dict[str, Any], **overrides: Any) -> Job:
    fields: dict[str, Any] = {
        "task_id": "t0123456789abcdef", "attempt": 1, "operation": "install", "target": "api/prod/eu-1",
        "deployment": "api", "environment": "prod", "resource": "eu-1", "version": "v1.2.3",
        "release_id": "rel-1", "config": config, "variables": {"REPLICAS": "3"}, "release": {},
    }
    fields.update(overrides)
    return Job(**fields)


def make_agent(config: dict[str, Any]) -> Agent:
    return registry.create(config)


@pytest.fixture
def ctx(tmp_path: Path) -> ExecContext:
    workdir, scratch = tmp_path / "repo", tmp_path / "scratch"
    workdir.mkdir()
    scratch.mkdir()
    return ExecContext(workdir, scratch, 30.0, None)


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries wait 10 ms instead of 0.5 s so the retry tests stay quick."""
    monkeypatch.setattr(httpclient, "BACKOFF_SECONDS", 0.01)


def _serve(service: FakeService) -> Iterator[Any]:
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    yield from _serve(FakeGitHub(TOKEN))


@pytest.fixture
def argocd(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArgoCd]:
    monkeypatch.setenv("ARGOCD_TOKEN", TOKEN)
    yield from _serve(FakeArgoCd(TOKEN))


@pytest.fixture
def tfe(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTerraformCloud]:
    monkeypatch.setenv("TFE_TOKEN", TOKEN)
    yield from _serve(FakeTerraformCloud(TOKEN))


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWebhook]:
    monkeypatch.setenv("HOOK_SECRET", "hmac-key-123")
    yield from _serve(FakeWebhook("hmac-key-123"))


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """A real sshd; missing → skip, or fail when RECONCILER_REQUIRE_SSHD=1 (CI installs openssh-server)."""
    binary = sshd_binary()
    if binary is None:
        message = "sshd is not installed (apt-get install openssh-server)"
        if os.environ.get("RECONCILER_REQUIRE_SSHD") == "1":
            pytest.fail(message + " and RECONCILER_REQUIRE_SSHD=1")
        pytest.skip(message)
    with running_sshd(tmp_path_factory.mktemp("sshd"), binary) as server:
        yield server
