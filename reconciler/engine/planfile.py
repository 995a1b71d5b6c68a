"""The stored form of one deployment's planned outcome (a plan-cache file, a planning worker's
reply), and the outcome read back from it, whose entries are decoded only when first read.

A stored outcome is three parts, one after the other:

1. a JSON line: the caller's head (the input digest), the outcome's small fields
   (``plancodec.encode_rest``), what a plan needs of its entries without reading them (how many
   changes of each operation, how many blocked, the soonest next evaluation, the groups the text
   view prints), and the sizes and CRC-32 of the two parts below;
2. the entries in ``plancodec``'s compact JSON form;
3. the JSON rows a plan prints for its changes and its blocked entries, as plain ASCII text (no
   JSON string around them, which would have to be unescaped).

A warm plan of 150,000 changes printed as JSON reads only the head lines and copies the rows:
its entries are never decoded. Anything damaged (sizes, checksum, a head that is not an object)
makes ``loads`` raise, and the plan cache then plans the deployment again. Never pickle: plans
read files an untrusted pull request cannot write, but the format must not trust them either.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from reconciler.engine import plancodec
from reconciler.jsontext import Rows
from reconciler.planning import groups
from reconciler.planning.groups import Group
from reconciler.planning.outcome import DeploymentOutcome

FORMAT = 4
_KINDS = ("changes", "blocked")


def dumps(outcome: DeploymentOutcome, head: dict[str, Any] | None = None) -> bytes:
    body = json.dumps(plancodec.encode_entries(outcome), separators=(",", ":"), default=str).encode()
    rows = [outcome.rows(kind).encode("ascii") for kind in _KINDS]
    crc = zlib.crc32(rows[1], zlib.crc32(rows[0], zlib.crc32(body)))
    line = {**(head or {}), "format": FORMAT, **plancodec.encode_rest(outcome),
            "operations": outcome.operations(), "blockedCount": outcome.size("blocked"),
            "soonest": plancodec.iso_time(outcome.soonest()), "sizes": [len(body), *map(len, rows)], "crc": crc,
            "groups": {kind: groups.encode(kind, outcome.groups(kind)) for kind in _KINDS}}
    return b"".join([json.dumps(line, separators=(",", ":"), default=str).encode(), b"\n", body, *rows])


def loads(blob: bytes) -> tuple[dict[str, Any], DeploymentOutcome]:
    """(the head line, the outcome) of ``dumps``; raises ValueError/KeyError/TypeError/IndexError
    when anything is damaged."""
    end = blob.find(b"\n")
    if end < 0:
        raise ValueError("no head line")
    head = json.loads(blob[:end])
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ValueError("not a stored outcome of this format")
    sizes = [int(size) for size in head["sizes"]]
    if len(sizes) != 3 or min(sizes) < 0 or end + 1 + sum(sizes) != len(blob):
        raise ValueError("parts of the wrong size")
    if zlib.crc32(memoryview(blob)[end + 1:]) != head["crc"]:  # (a view: no copy of the whole entry)
        raise ValueError("checksum mismatch")
    outcome = StoredOutcome(head, blob, end + 1, sizes)
    return head, outcome


class StoredOutcome(DeploymentOutcome):
    """An outcome read by ``loads``: its small fields at once, its changes and blocked entries
    when first read (its counts, soonest next evaluation and rows without reading them)."""

    def __init__(self, head: dict[str, Any], blob: bytes, start: int, sizes: list[int]):
        super().__init__(str(head["deployment"]))
        del self.__dict__["_changes"], self.__dict__["_blocked"]  # (set empty by the dataclass __init__)
        plancodec.decode_rest(self, head)
        operations, count, soonest = head["operations"], head["blockedCount"], head["soonest"]
        if not isinstance(operations, dict) or not isinstance(count, int):
            raise TypeError("damaged counts")
        self._counts = {"changes": sum(operations.values()), "blocked": count}
        self._operations = {str(op): int(n) for op, n in operations.items()}
        self._soonest = plancodec.parse_time(soonest)
        self._groups = {kind: groups.decode(kind, head["groups"][kind]) for kind in _KINDS}
        self._assigned: set[str] = set()  # entries assigned since: their rows are encoded again
        body, changes, _blocked = sizes
        self._blob, self._parts = blob, {"body": (start, start + body), "changes": (start + body, start + body + changes),
                                         "blocked": (start + body + changes, len(blob))}

    # changes and blocked: decoded on first read, assignable as a plain outcome's
    def _read(self, kind: str) -> list:
        found = self.__dict__.get("_" + kind)
        if found is None:
            start, stop = self._parts["body"]
            data = json.loads(self._blob[start:stop])
            try:
                changes, blocked = plancodec.decode_entries(self.deployment, self.releases, data)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise RuntimeError(f"the plan cache entry of {self.deployment} is damaged ({exc}); "
                                   "clear the plan cache and report this") from None
            self.__dict__.setdefault("_changes", changes)
            self.__dict__.setdefault("_blocked", blocked)
            found = self.__dict__["_" + kind]
        return found

    def _write(self, kind: str, items: list) -> None:
        if "_blob" in self.__dict__:  # assigned entries: no longer the blob's (nor their rows)
            self._read("changes" if kind == "blocked" else "blocked")
            self._assigned.add(kind)
            self.encoded.pop(kind, None)
        self.__dict__["_" + kind] = items

    changes = property(lambda self: self._read("changes"), lambda self, v: self._write("changes", v))  # type: ignore
    blocked = property(lambda self: self._read("blocked"), lambda self, v: self._write("blocked", v))  # type: ignore

    def size(self, kind: str) -> int:
        return len(self.__dict__["_" + kind]) if ("_" + kind) in self.__dict__ else self._counts[kind]

    def operations(self) -> dict[str, int]:
        return super().operations() if "_changes" in self.__dict__ else dict(self._operations)

    def soonest(self):
        return super().soonest() if "_blocked" in self.__dict__ else self._soonest

    def groups(self, kind: str) -> list[Group]:
        return super().groups(kind) if kind in self._assigned else list(self._groups[kind])

    def rows(self, kind: str) -> Rows:
        if kind in self._assigned:
            return super().rows(kind)
        with self._lock:
            found = self.encoded.get(kind)
            if found is None:
                start, stop = self._parts[kind]
                found = self.encoded[kind] = Rows(self._blob[start:stop].decode("ascii"))
            return found
