"""Policy tests: given desired state, recorded facts and a clock, assert each target's outcome.

A test file (YAML) names a desired-state directory (``workspace:``, relative to the file) or holds
inline ``documents:``, plus defaults for ``at`` and ``facts``, and a list of ``cases``::

    workspace: ..
    at: 2026-11-23T10:00:00Z
    facts:
      deployed: [{target: api/staging/staging-cluster, version: v1.2.3, at: 2026-11-23T08:00:00Z}]
      tasks: [{target: ..., version: ..., status: failed, at: ..., retries: 0}]
      approvals: [{deployment: api, version: v1.2.3, environment: production, actor: alice, at: ...}]
      holds: [{target: ..., version: ...}]
      seen: [{deployment: api, tag: v1.2.4, at: ...}]
    cases:
      - name: production waits for approval
        expect:
          api/production/cluster-1: blocked anyApproval
          api/staging/staging-cluster: deploy v1.2.3

Outcomes: ``deploy <version>``, ``blocked <rule>``, ``unchanged``, ``uninstall``, ``orphaned``,
``in-progress``. A case may override ``at`` and add ``facts`` (lists are appended). Nothing is
executed and no state is read or written: facts are built in memory.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.engine.session import git_approvals, placement_fields
from reconciler.engine.workspace import open_workspace
from reconciler.errors import ReconcilerError, UsageError
from reconciler.loading.yaml_reader import parse_file
from reconciler.models import statuses
from reconciler.models.common import parse_duration, parse_time
from reconciler.models.keys import TargetKey
from reconciler.models.records import ApprovalRecord, HoldRecord, Outcome, TargetState, TaskRecord
from reconciler.planning.build import build_plan
from reconciler.planning.facts import Facts
from reconciler.planning.releases import build_release
from reconciler.planning.targets import compute_targets
from reconciler.rendering.sandbox import render_value


@dataclass
class CaseResult:
    file: str
    name: str
    passed: bool
    mismatches: list[tuple[str, str, str]] = field(default_factory=list)  # target, expected, actual
    error: str = ""


def _time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return parse_time(str(value))
    except ValueError as exc:
        raise UsageError(f"invalid time {value!r} in a policy test: {exc}") from None


def load_file(path: Path) -> dict[str, Any]:
    parsed = parse_file(str(path), path.read_bytes(), use_cache=False)
    if parsed.diagnostics:
        raise UsageError(parsed.diagnostics[0].format())
    docs = [d for d in parsed.documents if d is not None]
    if not docs or not isinstance(docs[0], dict) or "cases" not in docs[0]:
        raise UsageError(f"{path}: a policy test file needs 'cases:' (and 'workspace:' or 'documents:')")
    return docs[0]


def run_file(path: Path, at: datetime | None = None) -> list[CaseResult]:
    """Run every case of one test file; a case with its own ``documents`` gets its own workspace.
    ``at`` is the evaluation time of cases (and files) that give none."""
    spec = load_file(path)
    if at is not None and "at" not in spec:
        spec["at"] = at
    results = []
    shared = None
    for case in spec["cases"]:
        try:
            if "documents" in case:
                with tempfile.TemporaryDirectory() as tmp:
                    ws = open_workspace(str(_workspace_dir(path, spec, Path(tmp), case["documents"])))
                    results.append(_run_case(path, spec, case, ws))
                continue
            if shared is None:
                shared = tempfile.TemporaryDirectory()
                shared_ws = open_workspace(str(_workspace_dir(path, spec, Path(shared.name))))
            results.append(_run_case(path, spec, case, shared_ws))
        except ReconcilerError as exc:
            results.append(CaseResult(str(path), case.get("name", "unnamed"), False, error=str(exc)))
    if shared is not None:
        shared.cleanup()
    return results


def _workspace_dir(path: Path, spec: dict[str, Any], tmp: Path, extra: Any = None) -> Path:
    """The directory to load: ``workspace`` (relative to the file), plus inline ``documents``."""
    if "workspace" in spec:
        source = (path.parent / spec["workspace"]).resolve()
        if not (source / "reconciler.yaml").exists():
            raise UsageError(f"{path}: workspace {source} has no reconciler.yaml")
        if "documents" not in spec and extra is None:
            return source
        shutil.copytree(source, tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".reconciler", ".git"))
    else:
        (tmp / "reconciler.yaml").write_text(f"workspace: {spec.get('name', 'policy-test')}\n")
    for name, docs in (("zz-inline-documents.yaml", spec.get("documents")), ("zz-case-documents.yaml", extra)):
        if docs:
            _write_documents(tmp / name, docs)
    return tmp


def _write_documents(target: Path, docs: Any) -> None:
    with open(target, "w") as handle:
        if isinstance(docs, str):
            handle.write(docs)
        else:
            from ruamel.yaml import YAML

            YAML(typ="safe", pure=True).dump_all(docs, handle)


def _merged(spec: dict[str, Any], case: dict[str, Any]) -> tuple[datetime, dict[str, list]]:
    if case.get("at", spec.get("at")) is None:
        raise UsageError("the case gives no 'at:' time (nor does its file); add one or pass --at")
    at = _time(case.get("at", spec.get("at")))
    facts: dict[str, list] = {k: list(v) for k, v in (spec.get("facts") or {}).items()}
    for key, items in (case.get("facts") or {}).items():
        facts.setdefault(key, []).extend(items)
    return at, facts


def _run_case(path: Path, spec: dict[str, Any], case: dict[str, Any], ws) -> CaseResult:
    name = case.get("name", "unnamed")
    try:
        at, raw = _merged(spec, case)
        facts = build_facts(ws.catalog, at, raw)
        result = build_plan(ws.catalog, facts, render_value)
        actual = outcomes(result.plan)
    except Exception as exc:  # noqa: BLE001 - a broken case is reported, not raised
        return CaseResult(str(path), name, False, error=f"{type(exc).__name__}: {exc}")
    known = set(facts.states) | {str(k) for k in compute_targets(ws.catalog)}
    mismatches = []
    for target, expected in (case.get("expect") or {}).items():
        got = actual.get(target, "unchanged" if target in known else "not a target")
        if not _matches(expected, got, result.plan, target):
            mismatches.append((target, _show(expected), got))
    return CaseResult(str(path), name, not mismatches, mismatches)


def _matches(expected: Any, got: str, plan, target: str) -> bool:
    """A string expectation matches the outcome's leading words; a mapping checks a blocked entry:
    ``{blocked: RULE, version: V, next: ISO|null, message: SUBSTRING}``."""
    if not isinstance(expected, dict):
        exp = str(expected).split()
        return got.split()[: len(exp)] == exp
    entry = next((b for b in plan.blocked if str(b.key) == target), None)
    if entry is None or entry.rule != expected.get("blocked", entry.rule):
        return False
    if "version" in expected and str(expected["version"]) != entry.version:
        return False
    if "next" in expected:
        want = None if expected["next"] is None else _time(expected["next"])
        if want != entry.next_evaluation:
            return False
    return str(expected.get("message", "")) in entry.message


def _show(expected: Any) -> str:
    if isinstance(expected, dict):
        return ", ".join(f"{k}: {v}" for k, v in expected.items())
    return str(expected)


def outcomes(plan) -> dict[str, str]:
    out: dict[str, str] = {}
    for change in plan.changes:
        out[str(change.key)] = "uninstall" if change.operation == "uninstall" else f"deploy {change.to_version}"
    for item in plan.blocked:
        nxt = item.next_evaluation.isoformat().replace("+00:00", "Z") if item.next_evaluation else "never"
        out[str(item.key)] = f"blocked {item.rule} {item.version} (next: {nxt}; {item.message})"
    for orphan in plan.orphaned:
        out[orphan.target] = "orphaned"
    for flight in plan.in_flight:
        out[flight.target] = "in-progress"
    return out


def build_facts(catalog, at: datetime, raw: dict[str, list]) -> Facts:
    """Facts from a test's literal description (deployed targets, task outcomes, approvals...)."""
    states, outcomes_, latest, active = {}, [], {}, {}
    for item in raw.get("deployed", []):
        key = TargetKey.parse(item["target"])
        when = _time(item.get("at", at))
        release_id = _release_id(catalog, key, str(item["version"]))
        states[str(key)] = TargetState(str(key), str(item["version"]), release_id, "", {}, {"resource": key.resource},
                                       "test", when, when)
        outcomes_.append(Outcome(str(key), str(item["version"]), statuses.DONE, 1, when, when))
    for i, item in enumerate(raw.get("tasks", [])):
        task = _task(item, i, at, _release_id(catalog, TargetKey.parse(item["target"]), str(item["version"])))
        outcomes_.append(Outcome(task.target, task.version, task.status, 1, task.finished_at or at,
                                 task.finished_at or at))
        if task.status in statuses.ACTIVE:
            active.setdefault(task.target, []).append(task)
        latest[task.target] = task
    approvals = [ApprovalRecord(a["deployment"], str(a["version"]), a["environment"], a.get("actor", "someone"),
                                a.get("status", "approved"), a.get("reason", ""), _time(a.get("at", at)))
                 for a in raw.get("approvals", [])]
    holds = [HoldRecord(h["target"], str(h["version"]), h.get("reason", "held"), "test", at)
             for h in raw.get("holds", [])]
    seen = {(s["deployment"], str(s["tag"])): _time(s["at"]) for s in raw.get("seen", [])}
    return Facts(now=at, states=states, latest=latest, active=active, outcomes=outcomes_,
                 approvals=[*approvals, *git_approvals(catalog)], holds=holds, first_seen=seen,
                 placement_fields=placement_fields(catalog), prune=catalog.config.prune)


def _release_id(catalog, key: TargetKey, tag: str) -> str:
    """The id the release of ``tag`` on ``key`` has under the current desired state."""
    version = catalog.version(key.deployment, tag)
    if version is None or key.deployment not in catalog.deployments or key.resource not in catalog.resources:
        return "unknown"
    try:
        return build_release(catalog, key, version, render_value, {}, placement_fields(catalog).get(
            key.deployment, ())).id
    except Exception:  # noqa: BLE001 - the target may no longer exist; any id will do
        return "unknown"


def _task(item: dict[str, Any], index: int, at: datetime, release_id: str) -> TaskRecord:
    key = TargetKey.parse(item["target"])
    when = _time(item.get("at", at))
    status = statuses.normalize_status(item.get("status", "done"))
    finished = when if status in statuses.TERMINAL else None
    return TaskRecord(
        id=item.get("id", f"test{index:04d}"), target=str(key), deployment=key.deployment,
        environment=key.environment, resource=key.resource, operation=item.get("operation", "upgrade"),
        status=status, version=str(item["version"]), from_version=None, release_id=release_id,
        actor="test", actor_kind="user", reason="", diff={}, revision="", created_at=when, started_at=when,
        finished_at=finished, retries=int(item.get("retries", 0)), job={}, artifacts={}, verification={},
    )


__all__ = ["CaseResult", "build_facts", "outcomes", "parse_duration", "run_file"]
