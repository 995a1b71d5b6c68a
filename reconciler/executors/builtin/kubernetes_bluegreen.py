"""Blue-green for the ``kubernetes`` agent: the new release runs beside the live one under the
other colour, and traffic moves only after verification.

Dispatch: read the live colour from the Service selector (label ``reconciler.dev/colour``), give
every Deployment/StatefulSet/DaemonSet of the manifests the other colour (name suffix ``-<colour>``
and the colour label on its selector and pod template), apply them and wait for their rollouts.
Services are applied only on the first deployment (with the colour in their selector); later they
are left as they are until the switch. Finalize: after verification passes, apply each Service as
the release defines it with the new colour in its selector (so changed ports or annotations arrive
with the switch), then delete the old colour's workloads; when it fails, delete the new colour's
workloads and leave the Services on the old one.
"""

from __future__ import annotations

import json
from typing import Any

from ruamel.yaml import YAML

from reconciler.executors import artifacts
from reconciler.executors.base import AgentResult, ExecContext, Job

LABEL = "reconciler.dev/colour"
COLOURS = ("blue", "green")
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


def other(colour: str) -> str:
    return "green" if colour == "blue" else "blue"


def colour_documents(docs: list[dict[str, Any]], colour: str, with_services: bool) -> tuple[list, list, list]:
    """(documents to apply, workload kind/name of this colour, Service names) for ``colour``."""
    out, workloads, services = [], [], []
    for doc in docs:
        kind, meta = doc.get("kind"), doc.setdefault("metadata", {})
        if kind in WORKLOADS:
            meta["name"] = f"{meta['name']}-{colour}"
            meta.setdefault("labels", {})[LABEL] = colour
            spec = doc.setdefault("spec", {})
            spec.setdefault("selector", {}).setdefault("matchLabels", {})[LABEL] = colour
            spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})[LABEL] = colour
            workloads.append(f"{kind.lower()}/{meta['name']}")
            out.append(doc)
        elif kind == "Service":
            services.append(meta["name"])
            if with_services:
                doc.setdefault("spec", {}).setdefault("selector", {})[LABEL] = colour
                out.append(doc)
        else:
            out.append(doc)
    return out, workloads, services


def dispatch(run, cfg, job: Job, ctx: ExecContext, manifests: dict[str, str], directory) -> AgentResult:
    from reconciler.executors.builtin.kubernetes import _documents  # the same parser as plain apply

    docs = [d for path, text in sorted(manifests.items()) for d in _documents(path, text) if isinstance(d, dict)]
    services = [d["metadata"]["name"] for d in docs if d.get("kind") == "Service"]
    live = _live_colour(run, services)
    colour = other(live) if live in COLOURS else "blue"
    applied_docs, workloads, services = colour_documents(docs, colour, with_services=live not in COLOURS)
    switch = [d for d in docs if d.get("kind") == "Service"] if live in COLOURS else []
    for doc in switch:  # the Services as this release defines them, pointing at the new colour
        doc.setdefault("spec", {}).setdefault("selector", {})[LABEL] = colour
    artifacts.write_local(directory, {"bluegreen.yaml": _dump(applied_docs)})
    result = run.step(["apply", "-f", str(directory / "bluegreen.yaml")], f"kubectl apply ({colour})")
    for workload in workloads if result.status == "done" else []:
        result = run.step(["rollout", "status", workload, f"--timeout={cfg.rolloutTimeout:g}s"],
                          f"rollout of {workload}", None, cfg.rolloutTimeout + 30)
        if result.status != "done":
            break
    previous = [w.rsplit("-", 1)[0] + f"-{live}" for w in workloads] if live in COLOURS else []
    result.outputs = {"colour": colour, "previousColour": live or None, "services": services,
                      "workloads": workloads, "previousWorkloads": previous,
                      "servicesManifest": _dump(switch) if switch else ""}
    if result.status == "done":
        result.message = f"{colour} is up beside {live or 'nothing'}; traffic switches after verification"
    return result


def _dump(docs: list[dict[str, Any]]) -> str:
    from io import StringIO

    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    buffer = StringIO()
    yaml.dump_all(docs, buffer)
    return buffer.getvalue()


def _live_colour(run, services: list[str]) -> str:
    for service in services:
        probe = run.capture(["get", "service", service, "-o", "jsonpath={.spec.selector.reconciler\\.dev/colour}"])
        if probe.strip() in COLOURS:
            return probe.strip()
    return ""


def _switch(run, outputs: dict[str, Any], colour: str) -> AgentResult:
    """Point the Services at ``colour``: apply them as the release defines them, or (for a task
    recorded before the release's Services were kept) patch their selectors."""
    manifest = outputs.get("servicesManifest") or ""
    if manifest:
        artifacts.write_local(run.ctx.scratch, {"bluegreen-services.yaml": manifest})
        return run.step(["apply", "-f", str(run.ctx.scratch / "bluegreen-services.yaml")],
                        f"switch {', '.join(outputs.get('services', []))}")
    patch = json.dumps({"spec": {"selector": {LABEL: colour}}})
    for service in outputs.get("services", []):
        result = run.step(["patch", "service", service, "--type", "merge", "-p", patch], f"switch {service}")
        if result.status != "done":
            return result
    return AgentResult("done", "switched", run.log)


def finalize(run, outputs: dict[str, Any], succeeded: bool) -> AgentResult:
    colour = outputs["colour"]
    if succeeded:
        switched = _switch(run, outputs, colour)
        if switched.status != "done":
            return switched
        gone = outputs.get("previousWorkloads") or []
        what = f"traffic on {colour}"
    else:
        gone, what = outputs.get("workloads") or [], f"abandoned {colour}; the old colour stays live"
    for workload in gone:
        result = run.step(["delete", workload, "--ignore-not-found"], f"delete {workload}")
        if result.status != "done":
            return result
    return AgentResult("done", what, run.log)
