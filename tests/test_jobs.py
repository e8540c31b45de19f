"""JobManager with real worker subprocesses and a real SQLite store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from superconv.jobs import JobManager
from superconv.store import RunStore

pytestmark = pytest.mark.slow

QUICK = {"dataset": "spirals", "model": "mlp", "width": 16, "epochs": 2, "batch_size": 100}   # 24 steps
LONG = {"dataset": "spirals", "model": "mlp", "width": 16, "epochs": 200, "batch_size": 16}   # 15,000 steps


@pytest.fixture
def manager(tmp_path):
    jm = JobManager(tmp_path / "runs.sqlite", max_concurrent=2)
    yield jm
    jm.shutdown()


def _wait_for_steps(store, run_id, n, timeout=60):
    deadline = time.monotonic() + timeout
    while len(store.batch_metrics(run_id)) < n:
        assert time.monotonic() < deadline, f"run {run_id} wrote no metrics: {store.get_run(run_id)}"
        time.sleep(0.05)


def test_two_concurrent_jobs_complete(manager):
    a = manager.submit(QUICK, group="pair")
    b = manager.submit({**QUICK, "seed": 1}, group="pair")
    assert manager.wait(a, timeout=120) == "finished"
    assert manager.wait(b, timeout=120) == "finished"
    ra, rb = manager.store.get_run(a), manager.store.get_run(b)
    assert rb["started_at"] < ra["finished_at"]              # they overlapped
    for rid, run in ((a, ra), (b, rb)):
        assert run["device"] == "CPU" and run["final"]["steps"] == 24
        assert manager.store.batch_metrics(rid)["step"].tolist() == list(range(24))
        assert manager.store.epoch_metrics(rid)["epoch"].tolist() == [0, 1]
    assert manager.store.list_runs(group="pair")["status"].tolist() == ["finished", "finished"]
    assert manager.active() == []


def test_cap_queues_and_cancel(tmp_path):
    jm = JobManager(tmp_path / "runs.sqlite", max_concurrent=1)
    try:
        long_id = jm.submit(LONG)
        queued_id = jm.submit(QUICK)
        _wait_for_steps(jm.store, long_id, 1)
        assert jm.store.status(queued_id) == "queued" and jm.queued() == [queued_id]
        jm.cancel(queued_id)
        assert jm.store.status(queued_id) == "cancelled" and jm.queued() == []
        jm.cancel(long_id)
        assert jm.wait(long_id, timeout=60) == "cancelled"
        done = len(jm.store.batch_metrics(long_id))
        assert 0 < done < 15000                               # stopped early, metrics kept
        assert jm.store.get_run(queued_id)["started_at"] is None
        assert jm.active() == []
    finally:
        jm.shutdown()


def test_sigkilled_worker_leaves_store_readable(manager, tmp_path):
    rid = manager.submit(LONG)
    _wait_for_steps(manager.store, rid, 1)
    pid = manager.store.get_run(rid)["pid"]
    os.kill(pid, signal.SIGKILL)
    assert manager.wait(rid, timeout=30) == "interrupted"
    run = manager.store.get_run(rid)
    assert "killed by signal 9 (SIGKILL)" in run["error"]
    assert len(manager.store.batch_metrics(rid)) >= 1
    manager.shutdown()
    again = JobManager(tmp_path / "runs.sqlite")
    try:
        assert again.store.status(rid) == "interrupted"
    finally:
        again.shutdown()


def test_restart_marks_orphaned_run_interrupted(tmp_path):
    """A worker whose manager is gone (server restart) and which then dies: the next manager marks it."""
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    rid = store.create_run({**LONG, "schedule": {"kind": "onecycle", "max_lr": 0.5}})
    worker = subprocess.Popen([sys.executable, "-m", "superconv.worker", "--run-id", str(rid), "--store", str(path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_steps(store, rid, 1)
    worker.kill()
    worker.wait()
    assert store.status(rid) == "running"                    # nobody recorded the death yet
    jm = JobManager(path)
    try:
        assert jm.interrupted_on_start == 1
        run = jm.store.get_run(rid)
        assert run["status"] == "interrupted" and "stopped before it finished" in run["error"]
        assert len(jm.store.batch_metrics(rid)) >= 1
    finally:
        jm.shutdown()


def test_failed_job_and_bad_config(manager, tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(40)))
    rid = manager.submit({**QUICK, "dataset": "csv", "csv_path": str(data), "batch_size": 8})
    data.unlink()  # gone before the worker process (still importing TensorFlow) reads it
    assert manager.wait(rid, timeout=60) == "failed"
    assert f"csv_path '{data}' cannot be read" in manager.store.get_run(rid)["error"]
    before = len(manager.store.list_runs())
    with pytest.raises(ValueError, match="csv_path '/nonexistent.csv' cannot be read"):
        manager.submit({**QUICK, "dataset": "csv", "csv_path": "/nonexistent.csv"})
    assert len(manager.store.list_runs()) == before  # refused before anything is stored
    with pytest.raises(ValueError, match="batch_size must be >= 1; received batch_size=0"):
        manager.submit({**QUICK, "batch_size": 0})
    with pytest.raises(ValueError, match="kind must be one of"):
        manager.submit(QUICK, kind="nope")


def test_pages_share_one_manager_per_store_so_the_cap_is_server_wide(tmp_path, monkeypatch):
    from superconv.jobs import shared_manager

    monkeypatch.setenv("SUPERCONV_MAX_JOBS", "2")
    first = shared_manager(tmp_path / "a.sqlite")
    try:
        assert shared_manager(str(tmp_path / "a.sqlite")) is first  # str or Path: same store, same manager
        assert first.max_concurrent == 2
        other = shared_manager(tmp_path / "b.sqlite")
        assert other is not first
        other.shutdown()
    finally:
        first.shutdown()
    assert shared_manager(tmp_path / "a.sqlite") is not first  # a shut-down manager is replaced
    shared_manager(tmp_path / "a.sqlite").shutdown()
    pages = ["views/train_compare.py", "views/demo.py", "views/lr_finder.py"]
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    for page in pages:
        text = (root / page).read_text()
        assert "shared_manager(store.path)" in text and "JobManager(" not in text, page
