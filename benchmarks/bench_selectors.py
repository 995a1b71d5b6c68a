"""Benchmark: compiled CEL selectors (reconciler.planning.cel) against the cel-python interpreter.

Compiles representative selectors once, evaluates them over generated resource dicts and prints
the median time per evaluation, overall and per expression:

    selector_compiled_median_us <value> us      our Program.matches()
    selector_celpython_median_us <value> us     cel-python's evaluate() on the same activations

Each figure is the median over batches of the mean time per evaluation within a batch (timing a
single sub-microsecond call is dominated by the timer itself); the loop overhead is included.
Activations for cel-python are converted to its types beforehand, so only evaluation is timed.
Results of both implementations are compared on every cel-python evaluation.

Usage: python benchmarks/bench_selectors.py [--quick]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.planning import cel

SELECTORS = {
    "metadata_eq": 'resource.metadata["region"] == "us-east-1"',
    "kind_and_env": 'resource.kind == "KubernetesCluster" && resource.metadata.env == "prod"',
    "region_in_list": 'resource.metadata.region in ["us-east-1", "us-west-2", "eu-west-1"]',
    "name_prefix": 'resource.name.startsWith("prod-")',
    "has_then_eq": 'has(resource.metadata.team) && resource.metadata.team == "payments"',
    "or_missing_key": 'resource.metadata.tier == "critical" || resource.metadata.env == "prod"',
    "nested_or_and": '(resource.kind == "VM" || resource.kind == "KubernetesCluster") && '
                     'resource.metadata.region.startsWith("us-")',
    "macro_exists": 'resource.labels.exists(l, l == "gpu")',
    "int_range": "resource.config.replicas > 2 && resource.config.replicas <= 10",
    "not_in_suffix": '!(resource.metadata.env in ["dev", "test"]) && resource.name.endsWith("-1")',
}

KINDS = ["KubernetesCluster", "VM", "Database", "Bucket"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"]
ENVS = ["prod", "staging", "dev", "test"]
TEAMS = ["payments", "core", "search"]
LABELS = ["gpu", "ssd", "spot", "arm"]


def make_resources(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        metadata = {"region": rng.choice(REGIONS), "env": rng.choice(ENVS)}
        if rng.random() < 0.5:
            metadata["team"] = rng.choice(TEAMS)
        if rng.random() < 0.3:
            metadata["tier"] = rng.choice(["critical", "standard"])
        out.append({
            "identifier": f"r-{i}", "kind": rng.choice(KINDS), "version": f"v{rng.randint(1, 3)}.{rng.randint(0, 9)}.0",
            "name": f"{rng.choice(['prod', 'stg', 'dev'])}-{rng.choice(['api', 'web', 'db'])}-{rng.randint(1, 3)}",
            "metadata": metadata, "labels": rng.sample(LABELS, rng.randint(0, 3)),
            "config": {"replicas": rng.randint(0, 12)},
        })
    return out


def time_batches(fn: Any, activations: list[Any], batch: int, repeats: int) -> list[float]:
    """Mean µs per call for each batch of ``batch`` activations, over ``repeats`` passes."""
    means = []
    for _ in range(repeats):
        for start in range(0, len(activations), batch):
            chunk = activations[start:start + batch]
            began = time.perf_counter()
            for activation in chunk:
                fn(activation)
            means.append((time.perf_counter() - began) / len(chunk) * 1e6)
    return means


def celpython_programs() -> tuple[Any, Any]:
    import celpy

    logging.getLogger("celpy").setLevel(logging.CRITICAL)
    env = celpy.Environment()
    return env, {name: env.program(env.compile(text)) for name, text in SELECTORS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer resources and repeats (runs in a few seconds)")
    args = parser.parse_args(argv)
    count, repeats, oracle_count = (2000, 5, 200) if args.quick else (5000, 15, 1000)

    import celpy
    from celpy import celtypes

    resources = make_resources(count)
    activations = [{"resource": r} for r in resources]
    oracle_activations = [{"resource": celpy.json_to_cel(r)} for r in resources[:oracle_count]]
    compiled = {name: cel.compile(text, allowed=("resource",)) for name, text in SELECTORS.items()}
    _, oracle = celpython_programs()

    ours_all: list[float] = []
    theirs_all: list[float] = []
    mismatches = 0
    rows = []
    for name, program in compiled.items():
        ours = time_batches(program.matches, activations, 100, repeats)
        evaluate = time_batches(_safe(program.evaluate), activations, 100, max(1, repeats // 3))
        theirs = time_batches(_safe(oracle[name].evaluate), oracle_activations, 20, 1)
        ours_all += ours
        theirs_all += theirs
        matched = sum(program.matches(a) for a in activations)
        for plain, converted in zip(activations, oracle_activations):
            result = _safe(oracle[name].evaluate)(converted)
            mismatches += program.matches(plain) != (isinstance(result, celtypes.BoolType) and bool(result))
        rows.append((name, statistics.median(ours), statistics.median(evaluate), statistics.median(theirs), matched))

    print(f"# {len(SELECTORS)} selectors x {count} resources (cel-python: {oracle_count}); "
          f"Python {sys.version.split()[0]}")
    print(f"# {'expression':<16} {'matches_us':>10} {'evaluate_us':>11} {'celpython_us':>12} {'speedup':>8} {'matched':>8}")
    for name, ours_med, eval_med, theirs_med, matched in rows:
        print(f"  {name:<16} {ours_med:>10.3f} {eval_med:>11.3f} {theirs_med:>12.1f} {theirs_med / ours_med:>7.0f}x "
              f"{matched:>8}")
        print(f"selector_compiled_us[{name}] {ours_med:.3f} us")
        print(f"selector_celpython_us[{name}] {theirs_med:.1f} us")
    print(f"selector_compiled_median_us {statistics.median(ours_all):.3f} us")
    print(f"selector_celpython_median_us {statistics.median(theirs_all):.1f} us")
    print(f"selector_result_mismatches {mismatches}")
    return 1 if mismatches else 0


def _safe(fn: Any) -> Any:
    def call(activation: Any) -> Any:
        try:
            return fn(activation)
        except Exception as exc:  # noqa: BLE001 - errors count as "no match" for both
            return exc

    return call


if __name__ == "__main__":
    sys.exit(main())
