"""Git objects of the ``git+branch:`` state backend: read trees and blobs, write new trees.

Works on the object database only (gitpython plumbing): no work tree, no index, no checkout. A
``Snapshot`` is a read-only view of one commit's tree below a workspace folder; a ``Transaction``
records puts and deletes over a snapshot, and ``ObjectStore.write_tree`` turns them into a new
tree that shares every untouched subtree with its base. Objects are immutable, so the caches
keyed by object id never go stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from stat import S_ISDIR
from typing import Any

from git.objects.fun import tree_entries_from_data, tree_to_stream
from gitdb.base import IStream
from gitdb.db import LooseObjectDB
from gitdb.typ import str_blob_type, str_commit_type, str_tree_type

from reconciler.state import gitbranch_codec as codec

Path = tuple[str, ...]
Entries = dict[str, tuple[int, bytes]]  # name -> (mode, binsha)
TREE_MODE = 0o040000
BLOB_MODE = 0o100644
_CACHE_ENTRIES = 50_000
_CACHE_BYTES = 64 * 1024 * 1024  # blobs kept in memory; tasks carry log tails, so bound by size


class ObjectStore:
    """Cached reads and content-addressed writes against one repository's object database.

    Reads go through gitpython's ``cat-file`` pipe (so packed objects are found); writes go
    straight to loose objects in Python, with no process per object. Not thread-safe (the pipe
    is shared): callers serialize access.
    """

    def __init__(self, odb: Any):
        self.odb = odb
        self.loose = LooseObjectDB(odb.root_path())
        self._trees: dict[bytes, Entries] = {}
        self._blobs: dict[bytes, bytes] = {}
        self._blob_bytes = 0

    def entries(self, tree: bytes | None) -> Entries:
        if tree is None:
            return {}
        found = self._trees.get(tree)
        if found is None:
            raw = self.odb.stream(tree).read()
            found = {name: (mode, sha) for sha, mode, name in tree_entries_from_data(raw)}
            self._remember(self._trees, tree, found)
        return found

    def blob(self, sha: bytes) -> bytes:
        found = self._blobs.get(sha)
        if found is None:
            found = self.odb.stream(sha).read()
            self._remember_blob(sha, found)
        return found

    def lookup(self, tree: bytes | None, path: Path) -> tuple[int, bytes] | None:
        entry = None
        for name in path:
            if entry is not None:
                if not S_ISDIR(entry[0]):
                    return None
                tree = entry[1]
            entry = self.entries(tree).get(name)
            if entry is None:
                return None
        return entry

    def put_blob(self, data: bytes) -> bytes:
        sha = self._store(str_blob_type, data)
        self._remember_blob(sha, data)
        return sha

    def put_commit(self, tree: bytes, parents: list[str], identity: str, when: int, message: str) -> str:
        """Write a commit object; ``identity`` is ``Name <email>``, ``when`` a Unix time (UTC)."""
        lines = [f"tree {tree.hex()}", *(f"parent {p}" for p in parents),
                 f"author {identity} {when} +0000", f"committer {identity} {when} +0000", "", message]
        return self._store(str_commit_type, "\n".join(lines).encode()).hex()

    def _store(self, kind: bytes, data: bytes) -> bytes:
        return self.loose.store(IStream(kind, len(data), BytesIO(data))).binsha

    def write_tree(self, base: bytes | None, changes: dict[Path, bytes | None]) -> bytes | None:
        """The tree ``base`` with each path set to a blob id (or removed, for None); None if empty."""
        entries = dict(self.entries(base))
        nested: dict[str, dict[Path, bytes | None]] = {}
        for path, blob in changes.items():
            if len(path) > 1:
                nested.setdefault(path[0], {})[path[1:]] = blob
            elif blob is None:
                entries.pop(path[0], None)
            else:
                entries[path[0]] = (BLOB_MODE, blob)
        for name, sub in nested.items():
            current = entries.get(name)
            subtree = current[1] if current and S_ISDIR(current[0]) else None
            written = self.write_tree(subtree, sub)
            if written is None:
                entries.pop(name, None)
            else:
                entries[name] = (TREE_MODE, written)
        return self._store_tree(entries) if entries else None

    def _store_tree(self, entries: Entries) -> bytes:
        # Git orders entries by name, comparing a folder as if its name ended in "/".
        ordered = sorted(entries.items(), key=lambda e: e[0] + ("/" if S_ISDIR(e[1][0]) else ""))
        buffer = BytesIO()
        tree_to_stream([(sha, mode, name) for name, (mode, sha) in ordered], buffer.write)
        sha = self._store(str_tree_type, buffer.getvalue())
        self._remember(self._trees, sha, dict(entries))
        return sha

    def _remember_blob(self, sha: bytes, data: bytes) -> None:
        if self._blob_bytes + len(data) > _CACHE_BYTES or len(self._blobs) >= _CACHE_ENTRIES:
            self._blobs.clear()
            self._blob_bytes = 0
        self._blobs[sha] = data
        self._blob_bytes += len(data)

    @staticmethod
    def _remember(cache: dict[bytes, Any], key: bytes, value: Any) -> None:
        if len(cache) >= _CACHE_ENTRIES:
            cache.clear()
        cache[key] = value


class Snapshot:
    """The recorded state of one workspace at one commit (``commit`` is None for an empty branch)."""

    def __init__(self, objects: ObjectStore, commit: str | None, tree: bytes | None, prefix: Path):
        self.objects, self.commit, self.tree, self.prefix = objects, commit, tree, prefix

    def raw(self, *path: str) -> bytes | None:
        entry = self.objects.lookup(self.tree, self.prefix + path)
        if entry is None or S_ISDIR(entry[0]):
            return None
        return self.objects.blob(entry[1])

    def read(self, *path: str) -> Any | None:
        """The JSON document at ``path`` (a fresh copy), or None."""
        data = self.raw(*path)
        return None if data is None else codec.loads(data)

    def names(self, *folder: str) -> list[str]:
        """Entry names (escaped) directly inside ``folder``; empty when it does not exist."""
        entry = self.objects.lookup(self.tree, self.prefix + folder)
        if entry is None or not S_ISDIR(entry[0]):
            return []
        return sorted(self.objects.entries(entry[1]))

    def files(self, *folder: str) -> list[tuple[Path, bytes]]:
        """Every file below ``folder`` (recursively) as (path relative to the workspace, bytes)."""
        entry = self.objects.lookup(self.tree, self.prefix + folder)
        if entry is None or not S_ISDIR(entry[0]):
            return []
        return sorted(self._walk(entry[1], folder))

    def _walk(self, tree: bytes, at: Path) -> Iterator[tuple[Path, bytes]]:
        for name, (mode, sha) in self.objects.entries(tree).items():
            if S_ISDIR(mode):
                yield from self._walk(sha, (*at, name))
            else:
                yield (*at, name), self.objects.blob(sha)


class Transaction(Snapshot):
    """A snapshot plus pending puts and deletes; reads see the pending changes."""

    def __init__(self, base: Snapshot):
        super().__init__(base.objects, base.commit, base.tree, base.prefix)
        self.changes: dict[Path, bytes | None] = {}

    def put(self, path: Path, data: Any) -> None:
        self.changes[path] = codec.dumps(data)

    def delete(self, path: Path) -> None:
        self.changes[path] = None

    def raw(self, *path: str) -> bytes | None:
        if path in self.changes:
            return self.changes[path]
        return super().raw(*path)

    def names(self, *folder: str) -> list[str]:
        found = set(super().names(*folder))
        for path, data in self.changes.items():
            if len(path) == len(folder) + 1 and path[:-1] == folder:
                (found.add if data is not None else found.discard)(path[-1])
        return sorted(found)

    def files(self, *folder: str) -> list[tuple[Path, bytes]]:
        found = dict(super().files(*folder))
        for path, data in self.changes.items():
            if path[:len(folder)] == folder and len(path) > len(folder):
                if data is None:
                    found.pop(path, None)
                else:
                    found[path] = data
        return sorted(found.items())
