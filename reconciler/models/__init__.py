"""Typed desired-state documents, keys and record types. The bottom layer: imports nothing else
from reconciler except ``errors`` and ``diagnostics``; never does I/O."""
