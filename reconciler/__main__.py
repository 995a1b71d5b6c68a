"""Allow ``python -m reconciler``."""

from reconciler.cli.main import entry

entry()
