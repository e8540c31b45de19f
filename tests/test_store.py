"""Run store: real SQLite round trips, CSV export, cancel flags, interrupted runs, concurrency."""

from __future__ import annotations

import csv
import math
import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

from superconv.store import BatchRow, EpochRow, MetricsWriter, RunStore, default_store_path


def test_default_path_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERCONV_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "runs.sqlite"
    monkeypatch.setenv("SUPERCONV_STORE", str(tmp_path / "x.db"))
    assert default_store_path() == tmp_path / "x.db"
    assert RunStore().path == tmp_path / "x.db"


def test_wal_and_busy_timeout(tmp_path):
    store = RunStore(tmp_path / "r.sqlite", timeout=7)
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store._connect() as c:
        assert c.execute("PRAGMA busy_timeout").fetchone()[0] == 7000


def test_run_round_trip(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    cfg = {"dataset": "digits", "model": "cnn", "epochs": 2, "batch_size": 32, "schedule": {"kind": "onecycle"}}
    rid = store.create_run(cfg, name="first", group="race-1")
    run = store.get_run(rid)
    assert (run["name"], run["kind"], run["group"], run["status"]) == ("first", "train", "race-1", "queued")
    assert run["config"] == cfg and run["started_at"] is None and run["finished_at"] is None

    store.set_status(rid, "running", device="CPU", pid=os.getpid())
    store.add_batches(rid, [BatchRow(0, 0, 2.5, 0.01, 0.95), (1, 0, 2.25, 0.02, 0.94)])
    store.add_batches(rid, [{"step": 2, "epoch": 1, "loss": 1.5, "lr": 0.03, "momentum": 0.93}])
    store.add_epoch(rid, EpochRow(0, 2.4, 0.3, 2.0, 0.35, 1.25))
    store.add_epoch(rid, (1, 1.5, 0.5, float("nan"), float("nan"), 0.5))
    store.set_status(rid, "finished", final={"train_loss": 1.5, "val_loss": float("nan"), "val_acc": 0.35})

    run = store.get_run(rid)
    assert run["status"] == "finished" and run["device"] == "CPU"
    assert run["started_at"] <= run["finished_at"]
    assert run["final"] == {"train_loss": 1.5, "val_loss": None, "val_acc": 0.35}

    b = store.batch_metrics(rid)
    assert list(b.columns) == ["step", "epoch", "loss", "lr", "momentum"]
    assert b["step"].tolist() == [0, 1, 2]
    assert b["loss"].tolist() == [2.5, 2.25, 1.5]
    assert b["momentum"].tolist() == [0.95, 0.94, 0.93]
    assert store.batch_metrics(rid, since_step=0)["step"].tolist() == [1, 2]

    e = store.epoch_metrics(rid)
    assert list(e.columns) == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
    assert e["train_loss"].tolist() == [2.4, 1.5]
    assert math.isnan(e["val_loss"].iloc[1])

    runs = store.list_runs()
    assert runs.loc[0, "id"] == rid and runs.loc[0, "model"] == "cnn" and runs.loc[0, "final_val_acc"] == 0.35
    assert len(store.list_runs(kind="lr_find")) == 0
    assert len(store.list_runs(group="race-1")) == 1


def test_list_filters_and_delete(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    a = store.create_run({}, kind="train", group="g")
    b = store.create_run({}, kind="lr_find")
    store.add_batches(b, [BatchRow(0, None, 3.0, 1e-5, 0.9)])
    assert store.list_runs()["id"].tolist() == [b, a]
    assert store.list_runs(kind="lr_find")["id"].tolist() == [b]
    assert pd.isna(store.batch_metrics(b)["epoch"].iloc[0])
    store.delete_run(b)
    assert store.list_runs()["id"].tolist() == [a]
    assert len(store.batch_metrics(b)) == 0
    with pytest.raises(KeyError, match=f"no run with id {b}"):
        store.get_run(b)


def test_bad_status_and_row(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    rid = store.create_run({})
    with pytest.raises(ValueError, match="status must be one of .*received status='done'"):
        store.set_status(rid, "done")
    with pytest.raises(ValueError, match="a metrics row needs 5 values"):
        store.add_batches(rid, [(0, 0, 1.0)])
    assert store.get_run(rid)["status"] == "queued"


def test_export_csv(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    rid = store.create_run({})
    store.add_batches(rid, [BatchRow(s, s // 2, 3.0 - s, 0.1 * s, 0.9) for s in range(4)])
    store.add_epoch(rid, EpochRow(0, 2.5, 0.4, 2.6, 0.45, 1.0))
    store.add_epoch(rid, EpochRow(1, 0.5, 0.8, 0.7, 0.75, 1.0))
    out = store.export_csv(rid, tmp_path / "run.csv")
    rows = list(csv.DictReader(open(out)))
    assert [r["step"] for r in rows] == ["0", "1", "2", "3"]
    assert [r["loss"] for r in rows] == ["3.0", "2.0", "1.0", "0.0"]
    assert [r["val_acc"] for r in rows] == ["", "0.45", "", "0.75"]
    assert list(rows[0]) == ["step", "epoch", "loss", "lr", "momentum",
                             "train_loss", "train_acc", "val_loss", "val_acc", "seconds"]
    frame = pd.read_csv(out)
    assert frame["train_loss"].dropna().tolist() == [2.5, 0.5]


def test_cancel_flag(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    queued, running = store.create_run({}), store.create_run({})
    store.set_status(running, "running")
    assert not store.cancel_requested(running)
    store.request_cancel(queued)
    store.request_cancel(running)
    assert store.get_run(queued)["status"] == "cancelled"       # nothing to stop: cancelled at once
    assert store.get_run(running)["status"] == "running"        # the worker stops it
    assert store.cancel_requested(running)


def test_mark_interrupted_only_dead_owners(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive, orphan, done = store.create_run({}), store.create_run({}), store.create_run({})
    store.set_status(alive, "running", pid=os.getpid())
    store.set_status(orphan, "running", pid=dead.pid)
    store.set_status(done, "finished")
    assert store.mark_interrupted() == 1
    assert store.get_run(orphan)["status"] == "interrupted"
    assert "stopped before it finished" in store.get_run(orphan)["error"]
    assert store.get_run(alive)["status"] == "running"
    assert store.get_run(done)["status"] == "finished"


def _writer(path: str, run_id: int, start: int) -> None:
    store = RunStore(path)
    for k in range(20):
        store.add_batches(run_id, [BatchRow(start + 10 * k + i, 0, 1.0, 0.1, 0.9) for i in range(10)])


def test_concurrent_writers_and_reader(tmp_path):
    path = str(tmp_path / "r.sqlite")
    store = RunStore(path)
    a, b = store.create_run({}), store.create_run({})
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, rid, 0)) for rid in (a, b)]
    for p in procs:
        p.start()
    while any(p.is_alive() for p in procs):
        store.batch_metrics(a)  # reading while others write never fails
    assert [p.exitcode for p in procs] == [0, 0]
    assert len(store.batch_metrics(a)) == 200 and len(store.batch_metrics(b)) == 200


def test_metrics_writer_keeps_order_and_reports_errors(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    rid = store.create_run({})
    with MetricsWriter(store, rid) as writer:
        for k in range(100):
            writer.add_batches([BatchRow(2 * k, k // 10, float(k), 0.1, 0.9), BatchRow(2 * k + 1, k // 10, 0.5, 0.1, 0.9)])
            if k % 10 == 9:
                writer.add_epoch(EpochRow(k // 10, 1.0, 0.5, 1.0, 0.5, 0.1))
    assert store.batch_metrics(rid)["step"].tolist() == list(range(200))
    assert store.epoch_metrics(rid)["epoch"].tolist() == list(range(10))
    broken = MetricsWriter(store, 999)           # no such run: the rows are refused, close() says so
    broken.add_batches([BatchRow(0, 0, 1.0, 0.1, 0.9)])
    with pytest.raises(KeyError, match="no run with id 999"):
        broken.close()


def test_runs_of_another_host_are_interrupted_once_stale(tmp_path):
    store = RunStore(tmp_path / "r.sqlite")
    fresh, stale = store.create_run({}), store.create_run({})
    with store._transaction() as con:   # as a previous container (other hostname) left them
        con.execute("UPDATE runs SET host='old-container', status='running', heartbeat=? WHERE id=?",
                    (time.time() - 60, fresh))
        con.execute("UPDATE runs SET host='old-container', status='running', heartbeat=? WHERE id=?",
                    (time.time() - 3600, stale))
    assert store.mark_interrupted(stale_after=900) == 1
    assert store.status(stale) == "interrupted" and store.status(fresh) == "running"


def test_store_without_heartbeat_column_is_upgraded(tmp_path):
    path = tmp_path / "old.sqlite"
    RunStore(path)
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE runs DROP COLUMN heartbeat")
    con.commit()
    con.close()
    store = RunStore(path)
    rid = store.create_run({})
    store.add_batches(rid, [BatchRow(0, 0, 1.0, 0.1, 0.9)])
    assert store.get_run(rid)["heartbeat"] > 0


def test_bad_arguments_name_themselves(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    with pytest.raises(KeyError, match="no run with id 99 in"):
        store.add_batches(99, [BatchRow(0, 0, 1.0, 0.1, 0.9)])
    with pytest.raises(KeyError, match="no run with id 99 in"):
        store.add_epoch(99, (0, 1.0, 0.5, 1.0, 0.5, 1.0))
    with pytest.raises(ValueError, match=r"^config must be a mapping \(a run config dict\); received list$"):
        store.create_run([1, 2])
    rid = store.create_run({"epochs": 1})
    with pytest.raises(ValueError, match=r"^statuses must be a list of \[.*\]; received statuses=\['bogus'\]$"):
        store.wait_for(rid, statuses=["bogus"], timeout=None)  # would otherwise wait forever
    with pytest.raises(ValueError, match=r"^stale_after must be a number of seconds >= 0; received stale_after=nan$"):
        store.mark_interrupted(stale_after=float("nan"))
    with pytest.raises(ValueError, match=r"^timeout must be a number of seconds > 0; received timeout=-1$"):
        RunStore(tmp_path / "runs.sqlite", timeout=-1)
    assert store.list_runs()["id"].tolist() == [rid]
