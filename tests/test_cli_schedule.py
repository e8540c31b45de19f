"""``superconv schedule``: summary, CSV and JSON outputs, errors naming the flag and value."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from superconv import OneCycle
from superconv.cli import main


def test_csv_has_every_step_with_schedule_values(tmp_path, capsys):
    out = tmp_path / "curve.csv"
    assert main(["schedule", "--max-lr", "0.1", "--total-steps", "1000", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "onecycle schedule over 1000 steps" in text
    assert "peak 0.1 at step 299" in text and "final 4e-07" in text
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1000 and list(rows[0]) == ["step", "lr", "momentum"]
    expected = OneCycle(max_lr=0.1, total_steps=1000)
    steps = np.array([int(r["step"]) for r in rows])
    np.testing.assert_allclose([float(r["lr"]) for r in rows], expected.lr(steps), rtol=1e-15)
    np.testing.assert_allclose([float(r["momentum"]) for r in rows], expected.momentum(steps), rtol=1e-15)


def test_step_budget_from_epochs_and_json_summary(capsys):
    argv = ["schedule", "--max-lr", "0.5", "--epochs", "10", "--samples", "1797", "--batch-size", "64",
            "--convention", "fastai", "--json"]
    assert main(argv) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["total_steps"] == 290
    assert info["schedule"]["convention"] == "fastai"
    assert info["final_lr"] == pytest.approx(OneCycle.fastai(0.5, 290).lr(289), rel=1e-12)
    assert info["initial_lr"] == pytest.approx(0.5 / 25)


def test_config_file_round_trip(tmp_path, capsys):
    cfg = tmp_path / "s.json"
    cfg.write_text(json.dumps(OneCycle(max_lr=0.2, total_steps=48, three_phase=True, pct_start=0.25).to_dict()))
    assert main(["schedule", "--config", str(cfg), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["phase_ends"] == [11, 22] and info["peak_lr"] == pytest.approx(0.2)


@pytest.mark.parametrize(
    "argv, message",
    [
        # the library's messages, with its argument names spelled as the flags
        (["--max-lr", "0.1", "--total-steps", "1000", "--pct-start", "1.3"],
         "--pct-start must be in (0, 1); received --pct-start=1.3"),
        (["--max-lr", "-1", "--total-steps", "10"], "--max-lr must be > 0; received --max-lr=-1.0"),
        (["--max-lr", "nan", "--total-steps", "10"], "--max-lr must be a finite number; received --max-lr=nan"),
        (["--max-lr", "0.1"], "give --total-steps, or --epochs with --samples and --batch-size"),
        (["--total-steps", "10"], "--max-lr is required"),
        (["--max-lr", "0.1", "--epochs", "2", "--samples", "10", "--batch-size", "0"],
         "--batch-size must be an integer >= 1; received --batch-size=0"),
        (["--max-lr", "0.1", "--epochs", "2", "--samples", "0", "--batch-size", "5"],
         "--samples must be an integer >= 1; received --samples=0"),
        (["--max-lr", "0.1", "--total-steps", "100", "--convention", "fastai", "--div-final", "1"],
         "--div-final must be >= --div-factor; received --div-final=1.0, --div-factor=25.0"),
        # names inside expressions are flags too; a length from the per-epoch flags says where it came from
        (["--max-lr", "0.1", "--total-steps", "2"], "--pct-start * --total-steps must be > 1 so the warm-up has at "
         "least one step; received --pct-start=0.3, --total-steps=2"),
        (["--max-lr", "0.1", "--total-steps", "100", "--base-momentum", "0.99", "--max-momentum", "0.5"],
         "--base-momentum must be <= --max-momentum; received --base-momentum=0.99, --max-momentum=0.5"),
        (["--max-lr", "0.1", "--epochs", "1", "--samples", "10", "--batch-size", "100"],
         "total_steps must be an integer >= 2; received total_steps=1 (total_steps from --epochs=1, --samples=10, "
         "--batch-size=100)"),
        # flags that do not apply are refused, not ignored
        (["--max-lr", "0.1", "--total-steps", "100", "--convention", "fastai", "--three-phase"],
         "--three-phase applies to --convention pytorch only; received it with --convention fastai"),
        (["--max-lr", "0.1", "--total-steps", "100", "--convention", "fastai", "--anneal", "linear",
          "--final-div-factor", "10"],
         "--final-div-factor, --anneal apply to --convention pytorch only; received them with --convention fastai"),
        (["--max-lr", "0.1", "--total-steps", "100", "--div-final", "1e4"],
         "--div-final applies to --convention fastai only; received it with --convention pytorch"),
        (["--max-lr", "0.1", "--total-steps", "100", "--epochs", "5", "--samples", "100", "--batch-size", "10"],
         "give --total-steps or --epochs with --samples and --batch-size, not both; received --total-steps=100, "
         "--epochs=5, --samples=100, --batch-size=10"),
        (["--max-lr", "0.1", "--epochs", "5"], "--epochs, --samples and --batch-size go together; received only --epochs"),
    ],
)
def test_invalid_flags_exit_2_with_a_clear_message(argv, message, capsys):
    assert main(["schedule", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("superconv schedule: error: ") and message in err


def test_bad_config_file_is_reported(tmp_path, capsys):
    cfg = tmp_path / "bad.json"
    cfg.write_text("{not json")
    assert main(["schedule", "--config", str(cfg)]) == 2
    assert "is not a readable JSON file" in capsys.readouterr().err
    cfg.write_bytes(b"\xff\xfe{}")  # not UTF-8 text
    assert main(["schedule", "--config", str(cfg)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"superconv schedule: error: --config '{cfg}' is not a readable JSON file: 'utf-8' codec can't decode "
        "byte 0xff in position 0: invalid start byte")
    cfg.write_text(json.dumps({"kind": "onecycle", "max_lr": 0.1, "total_steps": 1e300}))
    assert main(["schedule", "--config", str(cfg)]) == 2
    assert capsys.readouterr().err.strip() == ("superconv schedule: error: total_steps must be <= 10,000,000 (every "
                                               "step of the curve is computed); received total_steps=1e+300")


def test_console_entry_point_runs_as_module():
    out = subprocess.run([sys.executable, "-m", "superconv", "schedule", "--max-lr", "0.3", "--total-steps", "100"],
                         capture_output=True, text=True, check=True)
    assert "peak 0.3 at step 29" in out.stdout


def test_csv_path_that_cannot_be_written_is_one_line_exit_2(tmp_path, capsys):
    for path, reason in [(tmp_path / "missing" / "x.csv", "No such file or directory"), (tmp_path, "Is a directory")]:
        assert main(["schedule", "--max-lr", "0.1", "--total-steps", "100", "--csv", str(path)]) == 2
        assert capsys.readouterr().err.strip() == (
            f"superconv schedule: error: --csv '{path}' cannot be written: {reason}; received --csv='{path}'")


def test_config_flags_set_the_length_and_refuse_the_shape(tmp_path, capsys):
    run_config = tmp_path / "run.json"  # a run config: its schedule has no total_steps (the run sets it)
    run_config.write_text(json.dumps({"epochs": 3, "schedule": {"kind": "onecycle", "max_lr": 0.2}}))
    assert main(["schedule", "--config", str(run_config)]) == 2
    assert "has no total_steps (a run config's schedule gets it from the run)" in capsys.readouterr().err
    assert main(["schedule", "--config", str(run_config), "--total-steps", "200", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["total_steps"] == 200 and info["peak_lr"] == 0.2 and info["peak_step"] == 59
    assert main(["schedule", "--config", str(run_config), "--total-steps", "200", "--max-lr", "0.5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "superconv schedule: error: --config holds the whole schedule; received --max-lr as well")
