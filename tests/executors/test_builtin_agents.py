"""Every built-in agent honours the registry contract: typed config with descriptions, free-form job
data allowed, a correct ``asynchronous`` flag and placement fields that are real settings."""

from __future__ import annotations

import pytest

from reconciler.executors import registry
from reconciler.executors.base import Agent, AgentConfig
from reconciler.executors.builtin import BUILTIN_AGENTS

EXPECTED = {
    "pull": (True, ()),
    "command": (False, ()),
    "ssh": (False, ("host", "port")),
    "compose": (False, ("host", "dockerHost", "project")),
    "kubernetes": (False, ("context", "namespace")),
    "github-actions": (True, ()),
    "argocd": (True, ("serverUrl",)),
    "terraform-cloud": (True, ("address", "organization", "workspace")),
    "http": (True, ()),
}
NEW_AGENTS = [cls for cls in BUILTIN_AGENTS if cls.type != "command"]


def test_the_builtin_list_is_what_the_registry_serves():
    assert {cls.type: (cls.asynchronous, cls.placement_fields) for cls in BUILTIN_AGENTS} == EXPECTED
    assert all(registry.registry()[cls.type] is cls for cls in BUILTIN_AGENTS)


@pytest.mark.parametrize("cls", NEW_AGENTS, ids=lambda c: c.type)
def test_every_setting_is_typed_and_described(cls: type[Agent]):
    assert issubclass(cls.Config, AgentConfig)
    fields = {name: f for name, f in cls.Config.model_fields.items() if name != "type"}
    assert [name for name, f in fields.items() if not f.description] == []
    assert set(cls.placement_fields) <= set(fields)
    assert cls.Config.model_fields["type"].default == cls.type


@pytest.mark.parametrize("cls", NEW_AGENTS, ids=lambda c: c.type)
def test_async_agents_implement_poll(cls: type[Agent]):
    assert (cls.poll is not Agent.poll) == cls.asynchronous


@pytest.mark.parametrize("config", [
    {"type": "ssh", "host": "h", "user": "u", "keyFile": "k", "command": ["./deploy.sh"]},
    {"type": "compose"},
    {"type": "kubernetes"},
    {"type": "github-actions", "owner": "o", "repo": "r", "workflow": 123},
    {"type": "argocd", "serverUrl": "https://a", "template": {"metadata": {"name": "x"}, "spec": {}}},
    {"type": "terraform-cloud", "organization": "o", "workspace": "w"},
    {"type": "http", "url": "https://hooks.example/deploy"},
], ids=lambda c: c["type"])
def test_minimal_configs_validate_and_keep_job_data(config):
    typed = registry.validate_config({**config, "image": "api:v1", "replicas": 3})
    assert typed.model_extra == {"image": "api:v1", "replicas": 3}


def test_async_agents_tell_the_engine_how_often_to_poll():
    agent = registry.create({"type": "http", "url": "https://x", "pollInterval": "1m"})
    assert agent.poll_interval() == 60.0
    assert registry.create({"type": "argocd", "serverUrl": "https://a", "template": {
        "metadata": {"name": "x"}, "spec": {}}}).poll_interval() == 10.0
