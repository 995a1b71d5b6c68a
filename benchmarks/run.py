"""Benchmark runner: prints one line per figure, ``name value unit``.

    python benchmarks/run.py [--scale 1] [--scales 0.1,0.3,1] [--skip-apply] [--skip-history] [--pg URL]

Figures (issue "Performance at Ctrlplane's benchmark scale"), per scale factor:
 1. ``plan_cold``: CLI ``plan --format json`` with no parse cache and no plan cache, recorded state
    present (the first plan of a fleet: 150,000 installs and 150,000 unchanged targets at scale 1);
 2. ``plan_warm``: the same, caches filled, nothing changed; ``plan_warm_text`` in the text view;
 3. ``plan_after_one_version``: warm, after one Version document was added (Ctrlplane's scenario);
    ``*_in_process``: the same measured in a long-lived process (``run``, ``watch``, ``serve``), one
    of its own (``inprocess.py``: medians of three rounds); ``*_watch``: a real ``reconciler watch``
    process, from writing the file to the printed plan (``watchrounds.py``: median of three rounds);
 4. peak RSS of each CLI run;
 5. apply throughput with the command agent running ``true``, on SQLite and PostgreSQL;
 6. ``history --deployment D --page 1`` with 1,000,000 task rows (query time and CLI wall time);
 7. selector evaluation, compiled vs cel-python;
 8. YAML load MB/s: ours (C safe loader) vs ruamel round-trip vs PyYAML's C loader;
 9. scale-out: 1 vs 3 ``apply`` processes sharing a PostgreSQL state, with a 0.2 s ``sleep`` agent;
plus the scaling exponent of plan time over the given scale factors, and a calibration figure
(plain Python speed of this machine, printed first). Timings are measured here and
never asserted in tests.
"""

from __future__ import annotations

import argparse
import compileall
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import fleet  # noqa: E402
import scaleout  # noqa: E402
import seed  # noqa: E402

AT = "2026-11-22T10:00:00Z"
NEW_VERSION = ('---\ntype: Version\ndeployment: svc-07\ntag: v1.5.0\ncreatedAt: "2026-11-22T09:00:00Z"\n')


def figure(name: str, value: float, unit: str) -> None:
    print(f"{name} {value:.3f} {unit}", flush=True)


def measure(*args: str, env: dict | None = None) -> tuple[float, float]:
    out = subprocess.run([sys.executable, str(HERE / "_measure.py"), *args], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, check=False)
    if out.returncode != 0:
        raise SystemExit(f"benchmark command failed: {' '.join(args)}\n{out.stderr}")
    seconds, rss = out.stdout.split()
    return float(seconds), float(rss)


def plan_cmd(root: Path, fmt: str = "json") -> list[str]:
    return [sys.executable, "-m", "reconciler", "plan", "-C", str(root), "--at", AT, "--format", fmt]


def seeded_fleet(work: Path, scale: float) -> Path:
    """A fleet at ``scale`` with recorded state: every install of its first plan recorded as done."""
    from reconciler.engine.planner import make_plan
    from reconciler.engine.session import open_session

    root = fleet.generate(work / f"fleet-{scale}", scale)
    saved = {k: os.environ.get(k) for k in ("RECONCILER_PLAN_CACHE", "RECONCILER_PLAN_WORKERS")}
    os.environ.update(RECONCILER_PLAN_CACHE="0", RECONCILER_PLAN_WORKERS="1")  # full releases, nothing cached
    session = open_session(str(root))
    try:
        result = make_plan(session, datetime(2026, 11, 22, 10, tzinfo=UTC))
        seed.record_plan(session.store, result.plan)
    finally:
        session.close()
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    return root


def seed_in_child(work: Path, scale: float) -> tuple[Path, int]:
    """``seeded_fleet`` and its target count, run in a process of its own. Seeding grows a process
    by about 1 GB; if this runner kept that heap, every measured plan would have to take memory
    this VM has never touched, and first touches are slow here (a 1 GB idle runner made the cold
    plan 8.4 -> 10.1 s; touching 800 MB took 1.12 s instead of 0.35 s). The seeding process frees
    its memory on exit, as a real machine's earlier work would have."""
    code = (f"import sys; sys.path[:0] = [{str(HERE)!r}, {str(HERE.parent)!r}]\n"
            "from pathlib import Path\nimport run\n"
            f"root = run.seeded_fleet(Path({str(work)!r}), {scale!r})\nprint(root)\nprint(run._targets(root))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"seeding the fleet failed\n{out.stderr}")
    root, targets = out.stdout.split()
    return Path(root), int(targets)


def plan_figures(work: Path, scale: float, cache: Path) -> dict[str, float]:
    root, targets = seed_in_child(work, scale)
    env = {"RECONCILER_CACHE_DIR": str(cache)}
    shutil.rmtree(cache, ignore_errors=True)  # parse cache and plan cache: a truly cold plan
    cold, cold_rss = measure(*plan_cmd(root), env=env)
    measure(*plan_cmd(root), env=env)
    warm, warm_rss = measure(*plan_cmd(root), env=env)
    warm_text, _ = measure(*plan_cmd(root, "text"), env=env)
    warm_in_process, incremental_in_process = _in_process(root, cache)
    incremental_watch = _watch(root, cache)
    with open(root / "deployments" / "svc-07.yaml", "a") as handle:
        handle.write(NEW_VERSION)
    incremental, inc_rss = measure(*plan_cmd(root), env=env)
    suffix = f"_scale_{scale:g}"
    figure("targets" + suffix, targets, "targets")
    figure("plan_cold" + suffix, cold, "s")
    figure("plan_warm" + suffix, warm, "s")
    figure("plan_warm_text" + suffix, warm_text, "s")
    figure("plan_warm_in_process" + suffix, warm_in_process, "s")
    figure("plan_after_one_version" + suffix, incremental, "s")
    figure("plan_after_one_version_in_process" + suffix, incremental_in_process, "s")
    figure("plan_after_one_version_watch" + suffix, incremental_watch, "s")
    figure("rss_plan_cold" + suffix, cold_rss, "MB")
    figure("rss_plan_warm" + suffix, warm_rss, "MB")
    figure("rss_plan_after_one_version" + suffix, inc_rss, "MB")
    return {"targets": targets, "cold": cold, "warm": warm, "incremental": incremental}


def _targets(root: Path) -> int:
    from reconciler.engine.workspace import open_workspace
    from reconciler.planning.targets import compute_targets

    return len(compute_targets(open_workspace(str(root)).catalog))


def _figures_of(script: str, root: Path, cache: Path) -> list[float]:
    """The seconds a helper script (``inprocess.py``, ``watchrounds.py``) prints for the fleet."""
    out = subprocess.run([sys.executable, str(HERE / script), str(root), str(cache)], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{script} failed\n{out.stdout}{out.stderr}")
    return [float(value) for value in out.stdout.split()]


def _in_process(root: Path, cache: Path) -> tuple[float, float]:
    """(warm, after one new version) of a long-lived planner, in a process of its own."""
    warm, incremental = _figures_of("inprocess.py", root, cache)
    return warm, incremental


def _watch(root: Path, cache: Path) -> float:
    """After one new version, as ``reconciler watch`` prints it (``watchrounds.py``: median of three)."""
    return _figures_of("watchrounds.py", root, cache)[-1]


def apply_throughput(work: Path, url: str | None, label: str, targets: int = 1000) -> None:
    root = work / f"apply-{label}"
    fleet.small_workspace(root, targets)
    cmd = [sys.executable, "-m", "reconciler", "apply", "-C", str(root), "--actor", "bench"]  # maxParallel 16 (fleet)
    name = None
    if url:  # a fresh database, so that every run deploys everything
        name = f"reconciler_bench_{os.getpid()}_{label}"
        scaleout._database(url, name, create=True)
        cmd += ["--state", url.rsplit("/", 1)[0] + "/" + name]
    try:
        planned, _ = measure(*(cmd[:3] + ["plan"] + cmd[4:6] + cmd[8:]),  # plan -C ROOT [--state URL]
                             env={"RECONCILER_PLAN_CACHE": "0"})  # leaves the apply as cold as before
        seconds, _ = measure(*cmd)
    finally:
        if name:
            scaleout._database(url, name, create=False)
    figure(f"plan_{targets}_targets_{label}", planned, "s")
    figure(f"apply_throughput_{label}", targets / seconds, "tasks/s")


def history_figures(work: Path, rows: int = 1_000_000) -> None:
    from reconciler.state.store import open_store

    root = work / "history"
    root.mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text("workspace: history\n")
    store = open_store("sqlite:///.reconciler/state.db", "history", root)
    start = time.perf_counter()
    seed.pad_history(store, rows)
    figure("history_seed_rows", rows, "rows")
    figure("history_seed_time", time.perf_counter() - start, "s")
    start = time.perf_counter()
    page, total = store.list_tasks(deployment="svc-01", page=1, per_page=10)
    figure("history_page_query", (time.perf_counter() - start) * 1000, "ms")
    store.close()
    seconds, _ = measure(sys.executable, "-m", "reconciler", "history", "-C", str(root), "--deployment", "svc-01",
                         "--page", "1", "--format", "json")
    figure("history_page_cli", seconds * 1000, "ms")


def selector_figures() -> None:
    out = subprocess.run([sys.executable, str(HERE / "bench_selectors.py"), "--quick"], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith(("selector_compiled_median_us", "selector_celpython_median_us")):
            name, value, unit = line.split()[:3]
            figure(name, float(value), unit)


def yaml_figures(work: Path) -> None:
    import yaml as pyyaml
    from ruamel.yaml import YAML

    from reconciler.loading.yaml_reader import parse_file

    root = fleet.generate(work / "yaml", 0.2, commit=False)
    files = sorted((root / "resources").glob("*.yaml")) + sorted((root / "deployments").glob("*.yaml"))
    data = [p.read_bytes() for p in files]
    size = sum(map(len, data)) / 1e6
    loaders = {
        "ours": lambda b: parse_file("x.yaml", b, use_cache=False).documents,
        "ruamel_roundtrip": lambda b: list(YAML(typ="rt").load_all(b)),
        "pyyaml_c": lambda b: list(pyyaml.load_all(b, Loader=pyyaml.CSafeLoader)),
    }
    for name, load in loaders.items():
        start = time.perf_counter()
        for blob in data:
            load(blob)
        figure(f"yaml_load_{name}", size / (time.perf_counter() - start), "MB/s")


def scale_out_figures(work: Path, pg: str, scale: float) -> None:
    deployments, resources = (12, 8) if scale >= 0.1 else (6, 4)
    out = scaleout.speedup(pg, work, deployments, resources)
    figure("scale_out_tasks", out["tasks"], "tasks")
    figure("scale_out_1_process", out["one"], "s")
    figure("scale_out_3_processes", out["three"], "s")
    figure("scale_out_speedup", out["speedup"], "x")


def calibration() -> None:
    """How fast this machine runs plain Python (best of 3), so that figures from different machines
    (or one noisy machine at different times) can be compared: divide by it."""
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        sum(range(10_000_000))
        best = min(best, time.perf_counter() - start)
    figure("calibration_python_sum_1e7", best, "s")


def exponent(points: list[dict[str, float]], key: str) -> float:
    xs = [math.log(p["targets"]) for p in points]
    ys = [math.log(p[key]) for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description="reconciler benchmarks")
    parser.add_argument("--scale", type=float, default=1.0, help="Largest fleet scale (1 = 300,000 targets).")
    parser.add_argument("--scales", default=None, help="Comma-separated scale factors for the exponent.")
    parser.add_argument("--pg", default=os.environ.get("RECONCILER_BENCH_PG",
                                                        "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--history-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-apply", action="store_true")
    parser.add_argument("--skip-history", action="store_true")
    args = parser.parse_args()
    scales = [float(s) for s in args.scales.split(",")] if args.scales else sorted({args.scale / 10, args.scale * 0.3,
                                                                                     args.scale})
    calibration()
    # Bytecode compiled, as pip compiles an installed package (an editable install under
    # PYTHONDONTWRITEBYTECODE would otherwise compile every module in every measured command).
    compileall.compile_dir(str(HERE.parent / "reconciler"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="reconciler-bench-") as tmp:
        work = Path(tmp)
        points = [plan_figures(work, s, work / "cache") for s in scales]
        if len({p["targets"] for p in points}) >= 2:
            for key in ("cold", "warm", "incremental"):
                figure(f"scaling_exponent_plan_{key}", exponent(points, key), "")
        if not args.skip_apply:
            apply_throughput(work, None, "sqlite", targets=max(50, int(1000 * min(1.0, args.scale * 10))))
            if args.pg:
                apply_throughput(work, args.pg, "postgresql", targets=max(50, int(1000 * min(1.0, args.scale * 10))))
            if args.pg:
                scale_out_figures(work, args.pg, args.scale)
        if not args.skip_history:
            history_figures(work, min(args.history_rows, max(10000, int(1_000_000 * args.scale))))
        selector_figures()
        yaml_figures(work)


if __name__ == "__main__":
    main()
