"""Faults: the dashboard server killed mid-run, the store locked by another process, a diverging run,
a model too big for the machine. Nothing is lost: the store stays readable, every run ends with a
status that says what happened, its metrics so far are kept. (Worker SIGKILL and restart after a
dead worker are in tests/test_jobs.py.)"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_support import chromium, browser_page, free_port, stop, wait_healthy  # noqa: F401 - fixtures

from superconv.jobs import JobManager
from superconv.store import BatchRow, EpochRow, MetricsWriter, RunStore

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
QUICK = {"dataset": "spirals", "model": "mlp", "width": 16, "epochs": 2, "batch_size": 100}   # 24 steps


def _serve(home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "SUPERCONV_HOME": str(home), "PYTHONUNBUFFERED": "1", "SUPERCONV_MAX_JOBS": "1"}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.browser
def test_server_killed_mid_run_then_restarted(tmp_path, browser_page):  # noqa: F811
    home, port = tmp_path / "home", free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(home, port)
    try:
        wait_healthy(url, server)
        browser_page.goto(url + "/train_compare")
        browser_page.get_by_role("button", name="Start run").click()   # defaults: digits, mlp, 10 epochs
        store = RunStore(home / "runs.sqlite")
        _wait(lambda: len(store.list_runs()) == 1, 60, "the run to be stored")
        run_id = int(store.list_runs()["id"][0])
        _wait(lambda: len(store.batch_metrics(run_id)) > 0, 90, "the first metrics")
        worker_pid = store.get_run(run_id)["pid"]
        assert worker_pid != server.pid
        server.send_signal(signal.SIGKILL)                              # the server dies mid-run
        server.wait(timeout=10)
        assert store.status(run_id) == "running" and len(store.batch_metrics(run_id)) > 0   # readable
        # Design: the worker is its own process; it keeps training and records the end itself.
        assert store.wait_for(run_id, timeout=180) == "finished"
        run = store.get_run(run_id)
        steps = run["final"]["total_steps"]
        assert store.batch_metrics(run_id)["step"].tolist() == list(range(steps))
        assert store.epoch_metrics(run_id)["epoch"].tolist() == list(range(10))

        server = _serve(home, port)                                     # restart: serves again
        wait_healthy(url, server)
        browser_page.goto(url + "/train_compare")
        # the runs table (a canvas grid; its cells are mirrored in an accessible, hidden table)
        browser_page.locator("[role=gridcell]", has_text="finished").first.wait_for(state="attached", timeout=60_000)
        assert browser_page.get_by_text("Traceback").count() == 0
        assert store.status(run_id) == "finished"                      # the restart did not touch it
    finally:
        stop(server)


def _hold_exclusive_lock(path: Path, seconds: float) -> subprocess.Popen:
    code = ("import sqlite3, sys, time\n"
            "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "con.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n"
            "con.execute('COMMIT')\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_store_locked_by_another_process_writers_wait_then_complete(tmp_path):
    path = tmp_path / "runs.sqlite"
    jm = JobManager(path, max_concurrent=1)
    try:
        rid = jm.submit(QUICK)
        _wait(lambda: len(jm.store.batch_metrics(rid)) > 0, 90, "the first metrics")
        holder = _hold_exclusive_lock(path, 3.0)
        t0 = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):   # a short timeout fails clearly
            RunStore(path, timeout=0.3).create_run({"x": 1}, name="impatient")
        assert time.monotonic() - t0 < 2.5
        assert jm.wait(rid, timeout=120) == "finished"                   # the worker waited (busy timeout)
        holder.wait(timeout=10)
        assert holder.returncode == 0
        assert jm.store.batch_metrics(rid)["step"].tolist() == list(range(24))   # every metric, none twice
        assert jm.store.epoch_metrics(rid)["epoch"].tolist() == [0, 1]
        assert "impatient" not in jm.store.list_runs()["name"].tolist()         # nothing half-written
        with sqlite3.connect(path) as con:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        jm.shutdown()


def test_metrics_queued_while_the_store_is_locked_past_its_timeout_are_written_after(tmp_path):
    path = tmp_path / "runs.sqlite"
    store = RunStore(path, timeout=0.2)  # each write try gives up after 0.2 s
    rid = store.create_run({})
    writer = MetricsWriter(store, rid)
    writer.add_batches([BatchRow(0, 0, 2.0, 0.1, 0.9)])
    _wait(lambda: len(store.batch_metrics(rid)) == 1, 10, "the first row")
    holder = _hold_exclusive_lock(path, 2.0)  # ten times the store's timeout
    for step in range(1, 5):
        writer.add_batches([BatchRow(step, 0, 2.0 - step / 10, 0.1, 0.9)])
        time.sleep(0.1)
    writer.add_epoch(EpochRow(0, 1.5, 0.5, 1.6, 0.4, 1.0))
    writer.close()  # returns once the lock is gone and every row is written
    holder.wait(timeout=10)
    assert store.batch_metrics(rid)["step"].tolist() == [0, 1, 2, 3, 4]
    assert store.batch_metrics(rid)["loss"].tolist() == pytest.approx([2.0, 1.9, 1.8, 1.7, 1.6])
    assert store.epoch_metrics(rid)["val_acc"].tolist() == [0.4]

    # a lock held past max_locked_seconds is reported by close(), not swallowed
    writer = MetricsWriter(store, rid, max_locked_seconds=0.5)
    holder = _hold_exclusive_lock(path, 3.0)
    writer.add_batches([BatchRow(9, 1, 1.0, 0.1, 0.9)])
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        writer.close()
    holder.wait(timeout=10)
    assert store.batch_metrics(rid)["step"].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_cli_on_a_store_locked_past_the_busy_timeout_is_one_line(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunStore(path).create_run({}, name="kept")
    config = tmp_path / "run.json"
    config.write_text('{"dataset": "spirals", "model": "mlp", "epochs": 1}')
    holder = _hold_exclusive_lock(path, 40.0)  # longer than the store's 30 s busy timeout
    try:
        listing = subprocess.run([sys.executable, "-m", "superconv", "runs", "--store", str(path)],
                                 capture_output=True, text=True, timeout=120)
        out = subprocess.run([sys.executable, "-m", "superconv", "train", "--config", str(config), "--store", str(path)],
                             capture_output=True, text=True, timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert listing.returncode == 0 and "kept" in listing.stdout  # readers are not blocked (WAL)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == "superconv train: error: the run store failed: database is locked"
    assert RunStore(path).list_runs()["name"].tolist() == ["kept"]  # nothing half-written


def test_diverging_job_keeps_metrics_so_far(tmp_path):
    jm = JobManager(tmp_path / "runs.sqlite", max_concurrent=1)
    try:
        rid = jm.submit({**QUICK, "epochs": 3, "schedule": {"kind": "constant", "lr": 1e6}})
        assert jm.wait(rid, timeout=120) == "diverged"
        run, rows = jm.store.get_run(rid), jm.store.batch_metrics(rid)
        assert "learning rate is too high" in run["error"] and run["finished_at"]
        assert 1 <= len(rows) < 36 and rows["step"].tolist() == list(range(len(rows)))
        assert rows["loss"].iloc[:-1].notna().all()                     # finite losses up to the blow-up
    finally:
        jm.shutdown()


def test_model_too_big_for_the_machine(tmp_path):
    jm = JobManager(tmp_path / "runs.sqlite", max_concurrent=1)
    try:
        # Known input shape: refused up front, nothing stored.
        with pytest.raises(ValueError, match="width=4096 makes a cnn of 453,169,162 parameters"):
            jm.submit({**QUICK, "dataset": "digits", "model": "cnn", "width": 4096})
        assert jm.store.list_runs().empty
        # A CSV's shape is known only once read: the worker refuses before allocating, the run is failed.
        csv = tmp_path / "wide.csv"
        cols = 25_000
        header = ",".join(f"f{i}" for i in range(cols)) + ",label\n"
        csv.write_text(header + "".join(",".join(["1"] * cols) + f",{i % 2}\n" for i in range(40)))
        rid = jm.submit({**QUICK, "dataset": "csv", "csv_path": str(csv), "width": 4096, "batch_size": 8})
        assert jm.wait(rid, timeout=120) == "failed"
        error = jm.store.get_run(rid)["error"]
        assert "width=4096 makes a mlp of" in error and "lower width" in error
        ok = jm.submit(QUICK)                                            # the manager keeps serving
        assert jm.wait(ok, timeout=120) == "finished"
    finally:
        jm.shutdown()
