"""`superconv lr-find`: flag validation (fast, no TensorFlow) and a real run on digits (slow)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from superconv.cli import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "imagenet"], "--dataset must be one of"),
        (["--model", "vgg"], "--model must be one of ['cnn', 'mlp', 'resnet']; received --model='vgg'"),
        (["--optimizer", "lion"], "--optimizer must be one of"),
        (["--end-lr", "1e-9"], "--end-lr must be > --start-lr=1e-05; received --end-lr=1e-09"),
        (["--num-iter", "1"], "--num-iter must be an integer >= 2; received --num-iter=1"),
        (["--start-lr", "1e-300", "--end-lr", "1e300"],
         "start_lr and end_lr span too many decades for a float: received --start-lr=1e-300, --end-lr=1e+300"),
        (["--batch-size", "0"], "--batch-size must be an integer >= 1; received --batch-size=0"),
        (["--weight-decay", "-1"], "--weight-decay must be >= 0; received --weight-decay=-1.0"),
        (["--weight-decay", "0", "1e-4", "--batch-size", "32", "64"], "sweep one of --batch-size or --weight-decay"),
        (["--val-every", "0"], "--val-every must be an integer >= 1; received --val-every=0"),
        (["--seeds", *map(str, range(33)), "--weight-decay", "0", "1e-4"],
         "at most 64 curves (--seeds x swept values); received 33 seed(s) x 2 value(s) = 66"),
        # the run fields, checked as a training run's are, before TensorFlow loads
        (["--dataset", "csv"], "--csv-path is required when --dataset='csv'; received --csv-path=None"),
        (["--dataset", "spirals", "--model", "cnn"], "--model='cnn' needs images (height, width, channels) but "
         "--dataset='spirals' gives vectors of shape (2,): use --model='mlp'"),
        (["--csv-path", "x.csv"],
         "--csv-path is read only with --dataset csv; received --csv-path='x.csv' with --dataset='digits'"),
        (["--dataset", "csv", "--model", "mlp", "--csv-path", "/"],
         "csv_path '/' is not a regular file (it is a directory); received --csv-path='/'"),
    ],
)
def test_bad_flags_exit_2_with_the_flag_named(argv, message, capsys):
    assert main(["lr-find", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("superconv lr-find: error: ")
    assert message in err


def test_run_fields_are_checked_before_tensorflow_loads():
    code = ("import sys; from superconv.cli import main; "
            "rc = main(['lr-find', '--dataset', 'spirals', '--model', 'resnet']); "
            "print(rc, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["2", "False"]
    assert "--model='resnet' needs images" in out.stderr


@pytest.mark.slow
def test_a_curve_shorter_than_the_rules_need_gets_no_suggestion(capsys):
    assert main(["lr-find", "--model", "mlp", "--num-iter", "5", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [c["steps"] for c in info["curves"]] == [5]
    assert info["curves"][0]["suggestions"] == [] and info["groups"][0]["suggestions"] == []
    assert main(["lr-find", "--model", "mlp", "--num-iter", "5"]) == 0
    assert "  none (the curve has 5 points; the rules need 10)" in capsys.readouterr().out


@pytest.mark.slow
def test_json_run_prints_curves_and_every_suggestion(capsys):
    argv = ["lr-find", "--model", "mlp", "--num-iter", "40", "--start-lr", "1e-4", "--end-lr", "3",
            "--seeds", "0", "1", "--json"]
    assert main(argv) == 0
    info = json.loads(capsys.readouterr().out)
    assert [c["seed"] for c in info["curves"]] == [0, 1]
    for c in info["curves"]:
        assert c["steps"] <= 40 and c["first_lr"] == pytest.approx(1e-4)
        assert c["stop_reason"] in ("completed", "diverged")
    (group,) = info["groups"]
    assert group["n_curves"] == 2
    rules = [s["rule"] for s in group["suggestions"]]
    assert rules == ["steepest", "minimum/10", "valley", "slide"]
    grid = np.geomspace(1e-4, 3, 40)
    for s in group["suggestions"]:
        assert 1e-4 / 10 <= s["lr"] <= 3
        if s["rule"] != "minimum/10":  # the other rules pick a grid point
            assert np.min(np.abs(grid / s["lr"] - 1)) < 1e-9


@pytest.mark.slow
def test_text_output_names_each_rule(capsys):
    assert main(["lr-find", "--model", "mlp", "--num-iter", "30", "--max-samples", "300"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("LR range test: digits / mlp / sgd, exp sweep 1e-05 -> 10 over 30 batches")
    for rule in ("steepest", "minimum/10", "valley", "slide"):
        assert f"\n  {rule} " in out
    assert "max_lr/3 .. max_lr/10" in out
