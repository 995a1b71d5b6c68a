"""reconciler: a declarative GitOps deployment reconciler.

Desired state (systems, resources, environments, deployments, versions, policies) lives as YAML in
Git. ``reconciler plan`` explains what would change and why; ``reconciler apply`` executes the plan
through job agents and records every task as audit history.
"""

__version__ = "0.1.0"
