"""Training engine: real TF training on tiny data; per-batch rows, true loss, divergence, cancel, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from superconv.training import RunResult, train_run

pytestmark = pytest.mark.slow

SPIRALS = {"dataset": "spirals", "model": "mlp", "width": 16}


def _collect(config, **kw):
    rows, epochs = [], []
    result = train_run(config, on_batch=rows.extend, on_epoch=epochs.append, **kw)
    return result, rows, epochs


def test_one_row_per_step_with_applied_schedule():
    from superconv import OneCycle

    calls = []
    result, rows, epochs = _collect({**SPIRALS, "epochs": 2, "batch_size": 100,
                                     "schedule": {"kind": "onecycle", "max_lr": 0.5}},
                                    on_start=calls.append)
    assert result.status == "finished" and result.epochs_done == 2 and result.device == "CPU"
    assert calls[0]["total_steps"] == 24 and calls[0]["steps_per_epoch"] == 12   # 1200 train samples
    assert [r.step for r in rows] == list(range(24))
    assert [r.epoch for r in rows] == [0] * 12 + [1] * 12
    planned = OneCycle(max_lr=0.5, total_steps=24)
    np.testing.assert_allclose([r.lr for r in rows], planned.lr(np.arange(24)), rtol=1e-6)
    np.testing.assert_allclose([r.momentum for r in rows], planned.momentum(np.arange(24)), rtol=1e-6)
    assert [e.epoch for e in epochs] == [0, 1]
    assert all(0.0 <= e.val_acc <= 1.0 and e.seconds > 0 for e in epochs)
    assert result.final["total_steps"] == 24 and result.final["steps"] == 24
    assert result.final["val_acc"] == epochs[-1].val_acc
    assert result.final["mixed_precision_applied"] is False


def test_true_batch_loss_matches_recomputation():
    """Weights frozen (LR 1e-12, below float32 resolution of the weights), no shuffling: every
    reported batch loss must equal the loss recomputed on that batch, short last batch included."""
    import keras

    from superconv.data import load_dataset
    from superconv.models import build_model

    cfg = {**SPIRALS, "epochs": 2, "batch_size": 500, "shuffle": False, "seed": 7,
           "schedule": {"kind": "constant", "lr": 1e-12}}
    result, rows, epochs = _collect(cfg)
    assert result.status == "finished" and len(rows) == 6        # 500, 500, 200 per epoch

    ds = load_dataset("spirals", seed=7)
    model = build_model("mlp", ds.input_shape, ds.num_classes, seed=7, width=16)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    expected = []
    for start, stop in ((0, 500), (500, 1000), (1000, 1200)):
        probs = model(ds.x_train[start:stop], training=True)
        expected.append(float(loss_fn(ds.y_train[start:stop], probs)))
    np.testing.assert_allclose([r.loss for r in rows], expected * 2, rtol=2e-5)
    # Keras' running mean is not the batch loss: the short batch would be hidden in it.
    running = (500 * expected[0] + 500 * expected[1] + 200 * expected[2]) / 1200
    assert epochs[0].train_loss == pytest.approx(running, rel=2e-5)
    assert abs(rows[2].loss - running) > 1e-3


def test_divergence_is_recorded_with_metrics_so_far():
    result, rows, epochs = _collect({**SPIRALS, "epochs": 3, "batch_size": 100,
                                     "schedule": {"kind": "constant", "lr": 1e6}})
    assert result.status == "diverged" and result.epochs_done == 0 and epochs == []
    assert 1 <= len(rows) < 36
    assert not math.isfinite(rows[-1].loss) and all(math.isfinite(r.loss) for r in rows[:-1])
    assert [r.step for r in rows] == list(range(len(rows)))
    assert "loss became nan" in result.error and "learning rate is too high" in result.error


def test_cancel_stops_within_one_batch():
    polls = []

    def should_stop():
        polls.append(1)
        return len(polls) >= 5

    result, rows, _ = _collect({**SPIRALS, "epochs": 5, "batch_size": 100, "jit_compile": True},
                               should_stop=should_stop)
    assert result.status == "cancelled" and result.error is None
    assert result.final["jit_compile"] is True                # XLA-compiled step works and is recorded
    assert len(rows) == 5                     # asked to stop after batch 5: no further batch ran
    assert result.final["steps"] == 5


def test_same_seed_same_run_other_seed_differs():
    cfg = {**SPIRALS, "epochs": 1, "batch_size": 200}
    a = [r.loss for r in _collect(cfg)[1]]
    b = [r.loss for r in _collect(cfg)[1]]
    c = [r.loss for r in _collect({**cfg, "seed": 1})[1]]
    assert a == b
    assert a != c


def test_cnn_weight_decay_adamw_and_mixed_precision_on_cpu():
    result, rows, _ = _collect({"dataset": "digits", "model": "cnn", "width": 8, "epochs": 2, "batch_size": 128,
                                "optimizer": "adamw", "weight_decay": 0.01, "max_samples": 600,
                                "mixed_precision": True,
                                "schedule": {"kind": "onecycle", "max_lr": 0.01}})
    assert result.status == "finished" and len(rows) == 8    # 480 train samples / 128 -> 4 steps an epoch
    assert rows[-1].loss < rows[0].loss
    assert rows[0].momentum == pytest.approx(0.95)           # Adam's beta_1 cycles like momentum
    assert rows[12 // 4].momentum < 0.95
    assert result.final["mixed_precision_applied"] is False  # CPU: float16 ignored, and recorded so


def test_failures_become_failed_results(tmp_path):
    from superconv.config import load_run_config

    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n" + "".join(f"{i},{i % 7},{i % 2}\n" for i in range(40)))
    config = load_run_config({"dataset": "csv", "csv_path": str(data), "epochs": 1, "batch_size": 8})
    data.unlink()  # valid when the run was configured, gone when it trains
    result, rows, _ = _collect(config)
    assert isinstance(result, RunResult) and result.status == "failed" and rows == []
    assert result.error == f"csv_path '{data}' cannot be read: No such file or directory"
    with pytest.raises(ValueError, match="csv_path '/nonexistent/data.csv' cannot be read"):
        train_run({"dataset": "csv", "csv_path": "/nonexistent/data.csv", "epochs": 1})  # refused up front
    with pytest.raises(ValueError, match="epochs must be >= 1; received epochs=0"):
        train_run({"epochs": 0})
