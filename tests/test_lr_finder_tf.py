"""LR range test with real TensorFlow on tiny data: applied LRs, divergence stop, exact restore of
model and optimizer variables, validation variant, repeats and sweeps on the engine's datasets."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow

keras = pytest.importorskip("keras")

from superconv.lr_finder import LRFinder, aggregate_curves, ema_smooth, lr_sequence  # noqa: E402


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int32") + (x[:, 2] > 1).astype("int32")
    return x, y


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(16, use_bias=False),
        keras.layers.BatchNormalization(momentum=0.9),
        keras.layers.Activation("relu"),
        keras.layers.Dense(3),
    ])


def _values(variables):
    return [np.array(v.numpy(), copy=True) for v in variables]


def _assert_bitwise_equal(before, variables):
    after = _values(variables)
    assert len(before) == len(after)
    for a, b in zip(before, after):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


def test_applied_lr_follows_the_sequence_and_losses_are_per_batch():
    x, y = _data()
    model = _model()
    finder = LRFinder(model, "sgd")
    seen = []
    result = finder.range_test((x, y), batch_size=32, start_lr=1e-4, end_lr=1e-1, num_iter=12, mode="linear",
                               on_step=lambda i, lr, loss: seen.append((i, float(finder.optimizer.learning_rate), loss)))
    expected = lr_sequence(1e-4, 1e-1, 12, "linear")
    assert result.stop_reason == "completed" and result.num_iter_done == 12
    np.testing.assert_allclose(result.lrs, expected, rtol=1e-15)
    # the optimizer's LR variable (float32) held the batch's LR while the batch trained
    np.testing.assert_allclose([s[1] for s in seen], expected.astype(np.float32), rtol=1e-7)
    assert [s[0] for s in seen] == list(range(12))
    np.testing.assert_array_equal([s[2] for s in seen], result.losses)
    # 3 classes, fresh model: first batch loss near ln 3
    assert 0.5 < result.losses[0] < 3.0
    assert result.params["mode"] == "linear" and result.params["num_iter"] == 12


def test_divergence_stops_the_test_early():
    x, y = _data()
    finder = LRFinder(_model(), "sgd")
    result = finder.range_test((x, y), batch_size=32, start_lr=1e-3, end_lr=1e6, num_iter=80, diverge_th=4.0)
    assert result.stop_reason in ("diverged", "nan")
    assert 5 < result.num_iter_done < 80
    assert np.all(np.isfinite(result.losses))
    if result.stop_reason == "diverged":
        smoothed = ema_smooth(result.losses, result.beta)  # the stop rule's online (one-way) EMA
        assert smoothed[-1] > 4.0 * smoothed[:-1].min()
        assert np.all(smoothed[1:-1] <= 4.0 * np.minimum.accumulate(smoothed)[:-2])


def test_model_and_optimizer_restored_bit_for_bit():
    x, y = _data()
    model = _model()
    opt = keras.optimizers.SGD(0.05, momentum=0.9, weight_decay=1e-3)
    model.compile(opt, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)  # non-zero momentum slots, iterations, BN stats
    model_before = _values(model.variables)
    opt_before = _values(opt.variables)
    assert int(opt.iterations.numpy()) == 4 and any(np.abs(v).sum() > 0 for v in opt_before[2:])

    finder = LRFinder(model, opt)
    result = finder.range_test((x, y), batch_size=32, start_lr=1e-4, end_lr=10, num_iter=30)
    assert result.num_iter_done > 5
    _assert_bitwise_equal(model_before, model.variables)
    _assert_bitwise_equal(opt_before, opt.variables)
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.05)

    # without restore the weights did change (so the check above can fail) and reset() undoes it
    finder.range_test((x, y), batch_size=32, start_lr=1e-4, end_lr=1e-1, num_iter=5, restore=False)
    assert any(a.tobytes() != b.tobytes() for a, b in zip(model_before, _values(model.variables)))
    assert int(opt.iterations.numpy()) == 9
    finder.reset()
    _assert_bitwise_equal(model_before, model.variables)
    _assert_bitwise_equal(opt_before, opt.variables)
    # the model still trains normally afterwards with the compiled fit
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert int(opt.iterations.numpy()) == 8


def test_unbuilt_model_and_fresh_optimizer_are_restored():
    x, y = _data()
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
    finder = LRFinder(model, "adam", weight_decay=1e-4)
    finder.range_test((x, y), batch_size=32, start_lr=1e-4, end_lr=1.0, num_iter=10, restore=False)
    assert int(finder.optimizer.iterations.numpy()) == 10
    finder.reset()  # back to the weights right after build, optimizer slots at zero
    assert int(finder.optimizer.iterations.numpy()) == 0
    assert all(np.abs(v.numpy()).sum() == 0 for v in finder.optimizer.variables[2:])


def test_validation_loss_every_k_steps_and_cancel():
    x, y = _data()
    xv, yv = _data(100, seed=1)
    model = _model()
    finder = LRFinder(model, "sgd")
    result = finder.range_test((x, y), (xv, yv), batch_size=32, start_lr=1e-3, end_lr=1.0, num_iter=12,
                               val_every=4, restore=True)
    np.testing.assert_array_equal(result.val_steps, [3, 7, 11])
    assert np.all(np.isfinite(result.val_losses)) and result.val_losses.shape == (3,)
    # validation loss of the restored model equals Keras' own evaluation of it
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    keras_val = model.evaluate(xv, yv, batch_size=100, verbose=0)
    assert finder._engine.val_loss(finder._engine.val_batch_list((xv, yv), 32)) == pytest.approx(keras_val, rel=1e-5)

    calls = []
    cancelled = finder.range_test((x, y), batch_size=32, num_iter=50,
                                  should_stop=lambda: calls.append(1) or len(calls) > 3)
    assert cancelled.stop_reason == "cancelled" and cancelled.num_iter_done == 3


def test_tf_data_input_and_bad_optimizer():
    tf = pytest.importorskip("tensorflow")
    x, y = _data(64)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)  # 2 batches, re-iterated
    finder = LRFinder(_model(), "rmsprop")
    assert finder.range_test(ds, start_lr=1e-4, end_lr=1e-2, num_iter=5).num_iter_done == 5
    with pytest.raises(ValueError, match="optimizer must be one of"):
        LRFinder(_model(), "lion")
    with pytest.raises(ValueError, match="float learning rate"):
        LRFinder(_model(), keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)))
    with pytest.raises(ValueError, match="batch_size is required with numpy train data"):
        finder.range_test((x, y), num_iter=5)


def test_repeats_over_seeds_and_weight_decay_sweep_on_digits():
    from superconv.lr_range_test import bands_by_label, run_sweep

    results = run_sweep(seeds=[0, 1], sweep_over="weight_decay", values=[0.0, 1e-3], dataset="digits",
                        model="mlp", batch_size=64, start_lr=1e-4, end_lr=1.0, num_iter=15)
    assert [r.label for r in results] == ["weight_decay=0"] * 2 + ["weight_decay=0.001"] * 2
    assert [r.params["seed"] for r in results] == [0, 1, 0, 1]
    assert [r.params["weight_decay"] for r in results] == [0.0, 0.0, 1e-3, 1e-3]
    # different seeds give different curves on the same LR grid
    assert not np.array_equal(results[0].losses, results[1].losses)
    bands = bands_by_label(results)
    assert list(bands) == ["weight_decay=0", "weight_decay=0.001"]
    band = bands["weight_decay=0"]
    n = band.lrs.size
    np.testing.assert_allclose(band.mean, (results[0].smoothed[:n] + results[1].smoothed[:n]) / 2)
    assert np.all(band.low <= band.mean) and np.all(band.mean <= band.high)
    assert aggregate_curves(results[:2]).n_curves == 2


def test_lr_find_job_writes_every_batch_to_the_store():
    from superconv.lr_finder import job_configs, result_from_rows
    from superconv.store import RunStore
    from superconv.worker import run_job

    store = RunStore()
    (config,) = job_configs(dataset="digits", model="mlp", num_iter=25, start_lr=1e-4, end_lr=1.0, mode="linear",
                            momentum=0.8, weight_decay=1e-4, seeds=[3])
    run_id = store.create_run(config, kind="lr_find", group="g")
    import signal

    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert run_job(run_id, store) == 0  # the worker's own entry point, in this process
    finally:
        signal.signal(signal.SIGTERM, previous)
    run = store.get_run(run_id)
    assert run["status"] == "finished" and run["final"]["stop_reason"] in ("completed", "diverged")
    df = store.batch_metrics(run_id)
    assert df["step"].tolist() == list(range(run["final"]["steps"]))
    np.testing.assert_allclose(df["lr"].to_numpy(), lr_sequence(1e-4, 1.0, 25, "linear")[:len(df)], rtol=1e-12)
    assert np.all(df["momentum"].to_numpy() == 0.8)
    r = result_from_rows(run["config"], df["lr"], df["loss"], run["final"]["stop_reason"])
    assert r.params["seed"] == 3 and r.params["weight_decay"] == 1e-4 and r.params["num_iter"] == 25
    assert run["final"]["min_smoothed_loss"] == pytest.approx(float(r.smoothed.min()), rel=1e-9)
