"""RunConfig validation: errors name the field and the value."""

from __future__ import annotations

import json

import pytest

from superconv.config import RunConfig, load_run_config


def test_defaults_and_round_trip():
    cfg = load_run_config({})
    assert (cfg.dataset, cfg.model, cfg.optimizer, cfg.epochs, cfg.batch_size) == ("digits", "mlp", "sgd", 10, 64)
    assert "total_steps" not in cfg.schedule and cfg.schedule["kind"] == "onecycle"
    again = RunConfig.model_validate(json.loads(json.dumps(cfg.model_dump())))
    assert again == cfg
    assert cfg.build_schedule(123).total_steps == 123


def test_schedule_is_normalised():
    cfg = load_run_config({"schedule": {"kind": "constant", "lr": 0.05, "total_steps": 7}})
    assert cfg.schedule == {"kind": "constant", "lr": 0.05, "total_steps": 7, "momentum": 0.9}
    assert cfg.build_schedule(50).lr([0, 49]).tolist() == [0.05, 0.05]


@pytest.mark.parametrize("data, message", [
    ({"epochs": 0}, "epochs must be >= 1; received epochs=0"),
    ({"batch_size": 0}, "batch_size must be >= 1; received batch_size=0"),
    ({"batch_size": "big"}, "batch_size must be an integer; received batch_size='big'"),
    # strict types: a number in quotes is refused at the top level as in the schedule
    ({"epochs": "3"}, "epochs must be an integer; received epochs='3'"),
    ({"weight_decay": "1e-4"}, "weight_decay must be a number; received weight_decay='1e-4'"),
    ({"mixed_precision": "yes"}, "mixed_precision must be true or false; received mixed_precision='yes'"),
    ({"weight_decay": -0.1}, "weight_decay must be >= 0.0; received weight_decay=-0.1"),
    ({"weight_decay": float("nan")}, "weight_decay must be a finite number; received weight_decay=nan"),
    ({"val_fraction": float("inf")}, "val_fraction must be a finite number; received val_fraction=inf"),
    ({"val_fraction": 1.0}, "val_fraction must be < 1.0; received val_fraction=1.0"),
    ({"dataset": "imagenet"}, "dataset must be one of [.*]; received dataset='imagenet'"),
    ({"model": "vgg"}, "model must be one of ['cnn', 'mlp', 'resnet']; received model='vgg'"),
    ({"optimizer": "lamb"}, "optimizer must be one of ['sgd', 'adam', 'adamw', 'rmsprop']; received optimizer='lamb'"),
    ({"epoch": 3}, "unknown field 'epoch'"),
    ({"schedule": {"kind": "onecycle", "max_lr": 0.1, "pct_start": 1.3}},
     "schedule is invalid: pct_start must be in (0, 1); received pct_start=1.3"),
    ({"schedule": {"kind": "warp"}}, "schedule is invalid: kind must be one of"),
    ({"dataset": "csv"}, "csv_path is required when dataset='csv'"),
    ({"optimizer": "adam", "nesterov": True}, "nesterov applies to optimizer='sgd' only"),
    ({"dataset": "spirals", "model": "cnn"},
     "model='cnn' needs images (height, width, channels) but dataset='spirals' gives vectors of shape (2,): use model='mlp'"),
    ({"dataset": "csv", "csv_path": "data.csv", "model": "resnet"},
     "model='resnet' needs images (height, width, channels) but dataset='csv' gives vectors of shape (features,)"),
    # checked against the run's exact length (1438 training digits), before anything is stored
    ({"batch_size": 1_000_000, "epochs": 1},
     "the schedule does not fit this run of 1 optimizer steps (epochs=1 x 1 per epoch, from 1438 training samples "
     "and batch_size=1000000): total_steps must be an integer >= 2; received total_steps=1; use more epochs or a "
     "smaller batch_size"),
    ({"batch_size": 1000, "epochs": 1},
     "the schedule does not fit this run of 2 optimizer steps (epochs=1 x 2 per epoch, from 1438 training samples "
     "and batch_size=1000): pct_start * total_steps must be > 1"),
    ({"max_samples": 10}, "the training split would have 8 samples, fewer than the 10 classes of dataset='digits' "
     "(10 samples with max_samples=10, val_fraction=0.2)"),
    ({"val_fraction": 0.999}, "the training split would have 2 samples, fewer than the 10 classes"),
    ({"dataset": "csv", "csv_path": "/nonexistent/x.csv"},
     "csv_path '/nonexistent/x.csv' cannot be read: No such file or directory"),
])
def test_errors_name_field_and_value(data, message):
    with pytest.raises(ValueError) as info:
        load_run_config(data)
    text = str(info.value)
    if "[.*]" in message:
        head, tail = message.split("[.*]")
        assert text.startswith(head) and text.endswith(tail)
    else:
        assert message in text


def test_config_file_errors(tmp_path):
    with pytest.raises(ValueError, match="cannot be read"):
        load_run_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{epochs: 3")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_run_config(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"epochs": 2, "optimizer": "ADAM"}))
    cfg = load_run_config(good)
    assert (cfg.epochs, cfg.optimizer) == (2, "adam")
    with pytest.raises(ValueError, match="must be a JSON object; received list"):
        load_run_config([1, 2])


def test_run_length_is_the_engines_step_count():
    assert RunConfig(epochs=10, batch_size=64).run_length() == (1438, 23, 230)  # ceil(1438 / 64) = 23
    assert RunConfig(epochs=3, batch_size=100, max_samples=500, val_fraction=0.1).run_length() == (450, 5, 15)
    assert RunConfig(dataset="mnist", model="cnn", epochs=2, batch_size=128).run_length() == (60000, 469, 938)
    # the schedule is checked at that length: 1 epoch of 10 steps is enough for a 30% warm-up (3 steps)
    assert load_run_config({"epochs": 1, "batch_size": 150}).run_length()[2] == 10
