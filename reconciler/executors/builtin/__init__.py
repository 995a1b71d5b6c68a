"""Built-in job agents, listed explicitly (no registration by import side effect)."""

from reconciler.executors.builtin.argocd import ArgoCdAgent
from reconciler.executors.builtin.command import CommandAgent
from reconciler.executors.builtin.compose import ComposeAgent
from reconciler.executors.builtin.github_actions import GitHubActionsAgent
from reconciler.executors.builtin.http import HttpAgent
from reconciler.executors.builtin.kubernetes import KubernetesAgent
from reconciler.executors.builtin.ssh import SshAgent
from reconciler.executors.builtin.terraform_cloud import TerraformCloudAgent

BUILTIN_AGENTS = [
    CommandAgent,
    SshAgent,
    ComposeAgent,
    KubernetesAgent,
    GitHubActionsAgent,
    ArgoCdAgent,
    TerraformCloudAgent,
    HttpAgent,
]
