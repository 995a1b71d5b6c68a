"""The version sticker: a small JSON file an agent writes next to the files it deployed, so
``reconciler drift`` can later read back what runs there and compare it with recorded state.

Format (file name ``reconciler.sticker.json``; keys sorted, two-space indent, trailing newline)::

    {
      "lockDigest": "sha256:…",    // x-reconciler.digest of the compose lock shipped, or null
      "releaseId": "3f2a9c…",       // the release the task deployed
      "revision": "9b1d…",          // desired-state revision of the task, or null when unknown
      "target": "api/production/host-1",
      "taskId": "…",                // the task that wrote it
      "version": "v1.4.0"
    }

No timestamps, so re-running a task writes the same bytes. Pure: values in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.rendering import compose

FILE_NAME = "reconciler.sticker.json"
FIELDS = ("lockDigest", "releaseId", "revision", "target", "taskId", "version")


def lock_digest(artifacts: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(digest, revision) from the first compose lock among ``artifacts`` (path → text), by path."""
    for path in sorted(artifacts):
        text = artifacts[path]
        if compose.HEADER_KEY not in text:
            continue
        header = compose.read_header(text)
        if header and header.get("digest"):
            revision = header.get("revision")
            return str(header["digest"]), str(revision) if revision else None
    return None, None


def make_sticker(*, release_id: str, target: str, version: str, task_id: str, revision: str | None,
                 artifacts: Mapping[str, str]) -> str:
    """The sticker text for a task that shipped ``artifacts`` (path → content)."""
    digest, lock_revision = lock_digest(artifacts)
    data = {"lockDigest": digest, "releaseId": release_id, "revision": revision or lock_revision,
            "target": target, "taskId": task_id, "version": version}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def for_job(job: Any) -> str:
    """The sticker text for a job that just succeeded ('' after an uninstall: no release runs)."""
    if job.operation == "uninstall":
        return ""
    return make_sticker(release_id=job.release_id, target=job.target, version=job.version, task_id=job.task_id,
                        revision=job.release.get("revision"), artifacts=job.artifacts)


def parse_sticker(text: str) -> dict[str, Any]:
    """The sticker's fields; ValueError when it is not a sticker."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the sticker is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("the sticker is not a JSON object")
    missing = [f for f in ("releaseId", "target", "version") if not isinstance(data.get(f), str)]
    if missing:
        raise ValueError(f"the sticker lacks {', '.join(missing)}")
    return {f: data.get(f) for f in FIELDS}
