"""`superconv train` and `superconv runs` end to end in subprocesses (real training, real store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from superconv.store import RunStore


def _cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "superconv", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})


@pytest.mark.slow
def test_train_then_runs(tmp_path):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"name": "tiny", "dataset": "spirals", "model": "mlp", "width": 16,
                                  "epochs": 2, "batch_size": 100,
                                  "schedule": {"kind": "onecycle", "max_lr": 0.3}}))
    store_path = tmp_path / "runs.sqlite"
    out = _cli("train", "--config", config, "--store", store_path)
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("run 1 finished: epochs 2/2 train_loss ") and "val_acc" in last and "on CPU" in last
    assert "step 24/24" in out.stderr and "epoch 2/2: train_loss" in out.stderr

    store = RunStore(store_path)
    run = store.get_run(1)
    assert run["status"] == "finished" and run["name"] == "tiny" and run["config"]["epochs"] == 2
    assert store.batch_metrics(1)["step"].tolist() == list(range(24))
    val_acc = store.epoch_metrics(1)["val_acc"].iloc[-1]
    assert f"val_acc {val_acc:.4f}" in last

    listing = _cli("runs", "--store", store_path, "--json")
    assert listing.returncode == 0, listing.stderr
    records = json.loads(listing.stdout)
    assert [(r["id"], r["name"], r["status"], r["dataset"]) for r in records] == [(1, "tiny", "finished", "spirals")]
    assert records[0]["final_val_acc"] == pytest.approx(val_acc)
    table = _cli("runs", env={"SUPERCONV_STORE": str(store_path)})
    assert "tiny" in table.stdout and "finished" in table.stdout and "1 run(s) in" in table.stdout


@pytest.mark.parametrize("config, message", [
    ({"epochs": 0}, "superconv train: error: epochs must be >= 1; received epochs=0"),
    ({"optimizer": "lamb"}, "received optimizer='lamb'"),
    ({"epoch": 3}, "unknown field 'epoch'"),
    # too short for the schedule once the run's real length is known: refused before a run is stored
    ({"epochs": 1, "batch_size": 1_000_000}, "superconv train: error: the schedule does not fit this run of 1 "
     "optimizer steps (epochs=1 x 1 per epoch, from 1438 training samples and batch_size=1000000)"),
    ({"val_fraction": 0.999}, "the training split would have 2 samples, fewer than the 10 classes"),
])
def test_train_invalid_config_exit_2(tmp_path, config, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config))
    out = _cli("train", "--config", path, "--store", tmp_path / "runs.sqlite")
    assert out.returncode == 2 and message in out.stderr
    assert RunStore(tmp_path / "runs.sqlite").list_runs().empty   # nothing half-written


def test_train_missing_config_and_empty_runs(tmp_path):
    out = _cli("train", "--config", tmp_path / "nope.json", "--store", tmp_path / "r.sqlite")
    assert out.returncode == 2 and "cannot be read" in out.stderr
    typo = _cli("runs", "--store", tmp_path / "typo" / "r.sqlite")  # listing creates no store at a typo
    assert typo.returncode == 2 and not (tmp_path / "typo").exists()
    assert typo.stderr.strip() == (f"superconv runs: error: --store '{tmp_path / 'typo' / 'r.sqlite'}' does not exist; "
                                   f"received --store='{tmp_path / 'typo' / 'r.sqlite'}'")
    RunStore(tmp_path / "r.sqlite")
    empty = _cli("runs", "--store", tmp_path / "r.sqlite")
    assert empty.returncode == 0 and "no runs in" in empty.stdout
    assert _cli("runs", "--store", tmp_path / "r.sqlite", "--json").stdout.strip() == "[]"
    # $SUPERCONV_STORE at a typo is refused the same way; a default store not yet made lists no runs
    env_typo = _cli("runs", env={"SUPERCONV_STORE": str(tmp_path / "typo2" / "r.sqlite")})
    assert env_typo.returncode == 2 and not (tmp_path / "typo2").exists()
    assert env_typo.stderr.strip() == (f"superconv runs: error: SUPERCONV_STORE '{tmp_path / 'typo2' / 'r.sqlite'}' "
                                       f"does not exist; received SUPERCONV_STORE='{tmp_path / 'typo2' / 'r.sqlite'}'")
    fresh = _cli("runs", "--json", env={"SUPERCONV_HOME": str(tmp_path / "home")})
    assert fresh.returncode == 0 and fresh.stdout.strip() == "[]" and not (tmp_path / "home").exists()


def test_a_store_that_cannot_be_opened_is_one_line_exit_2(tmp_path):
    (tmp_path / "notdb.sqlite").write_text("not a database\n")
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"epochs": 1}))
    for argv, reason in [(("runs", "--store", tmp_path / "notdb.sqlite"), "file is not a database"),
                         (("train", "--config", config, "--store", tmp_path), "it is a directory")]:
        out = _cli(*argv)
        store = argv[-1]
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert out.stderr.strip() == f"superconv {argv[0]}: error: the run store '{store}' cannot be opened: {reason}"
    # a file where the store's folder should be: said so, not "File exists"
    out = _cli("train", "--config", config, "--store", tmp_path / "notdb.sqlite" / "runs.sqlite")
    assert out.returncode == 2 and out.stderr.strip() == (
        f"superconv train: error: the run store '{tmp_path / 'notdb.sqlite' / 'runs.sqlite'}' cannot be opened: "
        f"'{tmp_path / 'notdb.sqlite'}' is a file, not a folder")
    # listing does not turn an empty file into a store
    (tmp_path / "empty.sqlite").write_bytes(b"")
    out = _cli("runs", "--store", tmp_path / "empty.sqlite")
    assert out.returncode == 2 and (tmp_path / "empty.sqlite").stat().st_size == 0
    assert out.stderr.strip() == (f"superconv runs: error: --store '{tmp_path / 'empty.sqlite'}' is an empty file, "
                                  f"not a run store; received --store='{tmp_path / 'empty.sqlite'}'")
