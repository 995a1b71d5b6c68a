"""The benchmark harness cannot rot: a small-scale run prints every figure (values are not checked;
timings are measured by ``benchmarks/run.py``, never asserted in tests)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT

PER_SCALE = ("targets", "plan_cold", "plan_warm", "plan_warm_text", "plan_warm_in_process", "plan_after_one_version",
             "plan_after_one_version_in_process", "plan_after_one_version_watch",
             "rss_plan_cold", "rss_plan_warm", "rss_plan_after_one_version")
ONCE = ("calibration_python_sum_1e7", "scaling_exponent_plan_cold", "scaling_exponent_plan_warm", "scaling_exponent_plan_incremental",
        "apply_throughput_sqlite", "apply_throughput_postgresql", "scale_out_tasks", "scale_out_1_process",
        "scale_out_3_processes", "scale_out_speedup", "history_seed_rows", "history_seed_time", "history_page_query",
        "history_page_cli", "selector_compiled_median_us", "selector_celpython_median_us", "yaml_load_ours",
        "yaml_load_ruamel_roundtrip", "yaml_load_pyyaml_c")
LINE = re.compile(r"^([a-z0-9_.]+) (-?[0-9]+\.[0-9]{3}) ?(\S*)$")


def test_a_small_benchmark_run_prints_every_figure(pg_url, tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--scale", "0.01", "--history-rows",
                          "20000", "--pg", pg_url], capture_output=True, text=True, timeout=240, cwd=tmp_path,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    figures = {}
    for line in out.stdout.splitlines():
        match = LINE.match(line)
        assert match, f"not a figure line: {line!r}"
        figures[match.group(1)] = float(match.group(2))
    expected = [f"{name}_scale_{scale}" for scale in ("0.001", "0.003", "0.01") for name in PER_SCALE] + list(ONCE)
    missing = [name for name in expected if name not in figures]
    assert not missing, f"figures not printed: {missing}"
    assert figures["targets_scale_0.01"] == 3000
