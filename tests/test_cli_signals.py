"""The CLI stopped from outside (SIGTERM, SIGKILL, --timeout): the run store is left consistent.

Real processes, real training, a real store: nothing may stay 'running' or 'queued' once the
process that owned it is gone, and the metrics written so far are kept.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from superconv.store import RunStore


def _start(*args):
    return subprocess.Popen([sys.executable, "-m", "superconv", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def _wait_for_batches(store_path, run_id: int, count: int, proc, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if store_path.exists():
            try:
                if len(RunStore(store_path).batch_metrics(run_id)) >= count:
                    return
            except KeyError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} wrote fewer than {count} batches in {timeout} s")


def _long_run_config(tmp_path):
    config = tmp_path / "long.json"
    config.write_text(json.dumps({"dataset": "digits", "model": "mlp", "width": 16, "epochs": 300, "batch_size": 16,
                                  "schedule": {"kind": "onecycle", "max_lr": 0.1}}))
    return config


@pytest.mark.slow
def test_sigterm_cancels_a_cli_training_run_and_keeps_its_metrics(tmp_path):
    store_path = tmp_path / "runs.sqlite"
    proc = _start("train", "--config", _long_run_config(tmp_path), "--store", store_path, "--no-progress")
    _wait_for_batches(store_path, 1, 20, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert out.startswith("run 1 cancelled: epochs ") and "Traceback" not in err
    store = RunStore(store_path)
    assert store.status(1) == "cancelled"
    assert len(store.batch_metrics(1)) >= 20  # what it trained is kept


@pytest.mark.slow
def test_a_run_whose_process_was_killed_is_listed_as_interrupted(tmp_path):
    store_path = tmp_path / "runs.sqlite"
    proc = _start("train", "--config", _long_run_config(tmp_path), "--store", store_path, "--no-progress")
    _wait_for_batches(store_path, 1, 5, proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert RunStore(store_path).status(1) == "running"  # SIGKILL leaves no chance to write anything
    listing = subprocess.run([sys.executable, "-m", "superconv", "runs", "--store", str(store_path), "--json"],
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    [run] = json.loads(listing.stdout)
    assert (run["status"], run["error"]) == ("interrupted", "the process running it stopped before it finished")
    assert RunStore(store_path).status(1) == "interrupted" and len(RunStore(store_path).batch_metrics(1)) >= 5


@pytest.mark.slow
def test_sigterm_stops_a_headless_race_and_cancels_the_runs_left(tmp_path):
    store_path = tmp_path / "race.sqlite"
    proc = _start("demo", "--preset", "tiny", "--epochs", "400", "--seeds", "2", "--store", store_path)
    _wait_for_batches(store_path, 1, 10, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "superconv demo: the race was stopped: terminated (SIGTERM); the runs not finished are cancelled" in err
    assert "Traceback" not in err and "schedule" in out  # the table of what ran is still printed
    store = RunStore(store_path)
    runs = store.list_runs().sort_values("id")
    assert runs["status"].tolist() == ["cancelled"] * 6
    assert len(store.batch_metrics(1)) >= 10 and store.batch_metrics(2).empty


def test_demo_timeout_is_one_line_and_leaves_no_run_waiting(tmp_path):
    store_path = tmp_path / "race.sqlite"
    out = subprocess.run([sys.executable, "-m", "superconv", "demo", "--preset", "tiny", "--epochs", "2", "--jobs", "2",
                          "--timeout", "0.5", "--store", str(store_path)], capture_output=True, text=True, timeout=180)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert ("superconv demo: the race was stopped: --timeout: run 1 still 'queued' after 0.5 s; the runs not "
            "finished are cancelled") in out.stderr or "run 1 still 'running' after 0.5 s" in out.stderr
    assert set(RunStore(store_path).list_runs()["status"]) == {"cancelled"}
    refused = subprocess.run([sys.executable, "-m", "superconv", "demo", "--timeout", "5"], capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("superconv demo: error: --timeout applies to runs in worker processes: use it "
                                      "with --jobs 2 or more; received --timeout=5.0 with --jobs=1")
