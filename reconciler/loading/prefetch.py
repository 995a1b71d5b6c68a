"""Fill the parse cache on two cores before a cold load: a forked worker parses half of the files
that are not cached yet (writing the cache, as ``parse_file`` would), while this process parses the
other half. The load that follows then reads every file from the cache. Parsing is most of a cold
load of a large repository, and the constructor of the YAML loader is pure Python.

Used only where it pays and is safe: several uncached files of at least ``MIN_BYTES`` in total, a
fork-capable system with more than one core, and a single-threaded process (no locks a child
could inherit held). Anything that goes wrong in the worker only costs speed: files it did not
cache are parsed here by the load itself. ``RECONCILER_PLAN_WORKERS=1`` turns it off.
"""

from __future__ import annotations

import os
import threading

from reconciler.loading import yaml_reader
from reconciler.loading.source import SourceFile

MIN_BYTES = 1_000_000


def _workers() -> int:
    try:
        wanted = int(os.environ.get("RECONCILER_PLAN_WORKERS", "2"))
    except ValueError:
        wanted = 2
    return max(1, min(wanted, os.cpu_count() or 1, 2))


def warm(files: list[SourceFile]) -> None:
    """Parse the uncached ``files`` into the parse cache, half of them in a forked worker."""
    if _workers() < 2 or not hasattr(os, "fork") or threading.active_count() != 1:
        return
    todo = [f for f in files if not yaml_reader.cached(f.blob)]
    sizes = [(len(f.read()), f) for f in todo]
    if len(sizes) < 2 or sum(size for size, _ in sizes) < MIN_BYTES:
        return
    sizes.sort(key=lambda item: -item[0])
    shares: tuple[list[SourceFile], list[SourceFile]] = ([], [])
    load = [0, 0]
    for size, item in sizes:
        side = 0 if load[0] <= load[1] else 1
        shares[side].append(item)
        load[side] += size
    pid = os.fork()
    if pid == 0:  # the worker: parse its share into the cache, never return
        code = 1
        try:
            _parse(shares[1])
            code = 0
        finally:
            os._exit(code)
    _parse(shares[0])
    os.waitpid(pid, 0)


def _parse(files: list[SourceFile]) -> None:
    for item in files:
        yaml_reader.parse_file(item.path, item.read(), item.blob)
