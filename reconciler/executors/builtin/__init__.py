"""Built-in job agents, listed explicitly (no registration by import side effect).

Each is named by ``module:Class`` and imported only when a workspace uses that agent type, so a
plan of a command-only workspace never imports paramiko or httpx.
"""

from __future__ import annotations

import importlib

BUILTIN_PATHS = {
    "command": "reconciler.executors.builtin.command:CommandAgent",
    "ssh": "reconciler.executors.builtin.ssh:SshAgent",
    "compose": "reconciler.executors.builtin.compose:ComposeAgent",
    "kubernetes": "reconciler.executors.builtin.kubernetes:KubernetesAgent",
    "github-actions": "reconciler.executors.builtin.github_actions:GitHubActionsAgent",
    "argocd": "reconciler.executors.builtin.argocd:ArgoCdAgent",
    "terraform-cloud": "reconciler.executors.builtin.terraform_cloud:TerraformCloudAgent",
    "http": "reconciler.executors.builtin.http:HttpAgent",
    "pull": "reconciler.executors.builtin.pull:PullAgent",
}


def load(path: str):
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def __getattr__(name: str):
    if name == "BUILTIN_AGENTS":  # every built-in class, imported (tests and schema generation)
        return [load(path) for path in BUILTIN_PATHS.values()]
    raise AttributeError(name)
