"""A small run of benchmarks/load.py: concurrent dashboard sessions while jobs train, no errors, cap held.

Timings are printed by the benchmark, not asserted here. The run gets an interpreter of its own: its
sessions are forked processes, and a fork of a pytest worker that has already loaded TensorFlow (other
tests in the same worker) can crash when Streamlit clears the Keras session in the child."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

RUN = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("superconv_load_benchmark", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = module  # session functions are pickled by name for the worker processes
spec.loader.exec_module(module)
res = module.run_load(clients=3, reruns=2, jobs=3, cap=2, deadline=240, store_dir=sys.argv[2],
                      job={"dataset": "spirals", "model": "mlp", "width": 16, "epochs": 4, "batch_size": 50})
print(json.dumps(res, default=str))
"""


def test_sessions_and_jobs_together_no_errors_and_the_cap_holds(tmp_path):
    out = subprocess.run([sys.executable, "-c", RUN, str(ROOT / "benchmarks" / "load.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=420, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["errors"] == []
    assert res["reruns_timed"] == 6
    assert res["job_statuses"] == ["finished"] * 3
    assert 1 <= res["max_running_seen"] <= 2 and res["store_polls"] > 10
