"""A small run of benchmarks/load.py: concurrent dashboard sessions while jobs train, no errors, cap held.

Timings are printed by the benchmark, not asserted here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _load_module():
    spec = importlib.util.spec_from_file_location("superconv_load_benchmark", ROOT / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # session functions are pickled by name for the worker processes
    spec.loader.exec_module(module)
    return module


def test_sessions_and_jobs_together_no_errors_and_the_cap_holds(tmp_path):
    load = _load_module()
    res = load.run_load(clients=3, reruns=2, jobs=3, cap=2, deadline=240, store_dir=str(tmp_path),
                        job={"dataset": "spirals", "model": "mlp", "width": 16, "epochs": 4, "batch_size": 50})
    assert res["errors"] == []
    assert res["reruns_timed"] == 6
    assert res["job_statuses"] == ["finished"] * 3
    assert 1 <= res["max_running_seen"] <= 2 and res["store_polls"] > 10
