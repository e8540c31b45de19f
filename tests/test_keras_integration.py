"""Under a compiled ``fit``, the applied LR and momentum follow the schedule and change the update.

The references are numpy re-implementations of Keras' SGD / Adam / AdamW / RMSprop update
rules fed with the schedule's per-step LR and momentum. A momentum change that Keras ignores
(the pitfall of callbacks that set ``optimizer.momentum``) must fail these comparisons, and
``test_ignored_momentum_change_is_detected`` proves it does.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from superconv import Constant, CyclicLR, OneCycle, StepDecay  # noqa: E402
from superconv.keras import AppliedTrace, ScheduleGuard, ScheduleLR, one_cycle_optimizer  # noqa: E402

pytestmark = pytest.mark.slow

BATCH, BATCHES, EPOCHS = 16, 4, 5
N_STEPS = BATCHES * EPOCHS
# Momentum swings widely (0.5 <-> 0.95) so a constant momentum is far from the reference.
SCHEDULE = OneCycle(max_lr=0.05, total_steps=N_STEPS, pct_start=0.25, base_momentum=0.5, max_momentum=0.95)


def regression_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH * BATCHES, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3 + rng.normal(size=len(x)) * 0.1).astype("float32")[:, None]
    return x, y


def linear_model() -> keras.Model:
    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])


def fit_compiled(optimizer, callbacks=(), epochs=EPOCHS) -> keras.Model:
    x, y = regression_data()
    model = linear_model()
    model.compile(optimizer=optimizer, loss="mse", run_eagerly=False, jit_compile=False)
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, callbacks=list(callbacks))
    assert not model.run_eagerly
    return model


def mse_grads(w: np.ndarray, b: np.ndarray, xb: np.ndarray, yb: np.ndarray):
    r = xb @ w + b - yb
    return 2 * xb.T @ r / len(xb), 2 * r.sum(0) / len(xb)


def reference(rule: str, lrs: np.ndarray, moms: np.ndarray, weight_decay: float = 0.0) -> np.ndarray:
    """numpy float64 re-implementation of Keras' update rule with per-step lr and momentum."""
    x, y = (a.astype(np.float64) for a in regression_data())
    params = [p.astype(np.float64) for p in linear_model().get_weights()]
    slots = [[np.zeros_like(p) for p in params] for _ in range(2)]
    for k in range(len(lrs)):
        i = k % BATCHES
        grads = mse_grads(params[0], params[1], x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH])
        lr, mom = lrs[k], moms[k]
        for j, g in enumerate(grads):
            m, v = slots[0][j], slots[1][j]
            if weight_decay:
                params[j] = params[j] - params[j] * weight_decay * lr
            if rule == "sgd":
                m[:] = mom * m - lr * g
                params[j] = params[j] + m
            elif rule == "adam":
                m[:] = m + (g - m) * (1 - mom)
                v[:] = v + (g * g - v) * (1 - 0.999)
                alpha = lr * np.sqrt(1 - 0.999 ** (k + 1)) / (1 - mom ** (k + 1))
                params[j] = params[j] - m * alpha / (np.sqrt(v) + 1e-7)
            elif rule == "rmsprop":
                v[:] = 0.9 * v + 0.1 * g * g
                m[:] = mom * m + lr * g / np.sqrt(v + 1e-7)
                params[j] = params[j] - m
    return params[0]


def planned() -> tuple[np.ndarray, np.ndarray]:
    steps = np.arange(N_STEPS)
    return SCHEDULE.lr(steps), SCHEDULE.momentum(steps)


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop"])
def test_applied_lr_and_momentum_equal_the_schedule(name):
    trace = AppliedTrace()
    fit_compiled(one_cycle_optimizer(name, SCHEDULE), callbacks=[trace])
    lr, mom = planned()
    assert len(trace.lr) == N_STEPS
    np.testing.assert_allclose(trace.lr, lr, rtol=1e-6)
    np.testing.assert_allclose(trace.momentum, mom, rtol=1e-6)


@pytest.mark.parametrize(
    "name, rule, kwargs",
    [
        ("sgd", "sgd", {}),
        ("adam", "adam", {}),
        ("adamw", "adam", {"weight_decay": 0.1}),
        ("rmsprop", "rmsprop", {}),
    ],
)
def test_compiled_fit_matches_numpy_reference_with_cycled_momentum(name, rule, kwargs):
    model = fit_compiled(one_cycle_optimizer(name, SCHEDULE, **kwargs))
    lr, mom = planned()
    expected = reference(rule, lr, mom, weight_decay=kwargs.get("weight_decay", 0.0))
    np.testing.assert_allclose(model.get_weights()[0], expected, rtol=2e-5, atol=2e-6)
    # The comparison discriminates: holding momentum at its first value lands far away.
    constant_momentum = reference(rule, lr, np.full_like(mom, mom[0]), weight_decay=kwargs.get("weight_decay", 0.0))
    assert np.abs(constant_momentum - expected).max() > 100 * 2e-5


class SetsMomentumEachBatch(keras.callbacks.Callback):
    """The old-callback approach: assign optimizer.momentum per batch (ignored after compile)."""

    def on_train_batch_begin(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        self.model.optimizer.momentum = float(SCHEDULE.momentum(step))


def test_ignored_momentum_change_is_detected():
    opt = keras.optimizers.SGD(learning_rate=ScheduleLR(SCHEDULE), momentum=float(SCHEDULE.momentum(0)))
    model = fit_compiled(opt, callbacks=[SetsMomentumEachBatch()])
    lr, mom = planned()
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(model.get_weights()[0], reference("sgd", lr, mom), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    "schedule",
    [
        Constant(lr=0.01, total_steps=N_STEPS, momentum=0.8),
        StepDecay(lr=0.05, total_steps=N_STEPS, boundaries=(0.5,), factor=0.1),
        CyclicLR(base_lr=0.001, max_lr=0.05, total_steps=N_STEPS, step_size=3),
    ],
)
def test_baselines_are_applied_in_graph(schedule):
    trace = AppliedTrace()
    fit_compiled(one_cycle_optimizer("sgd", schedule), callbacks=[trace])
    steps = np.arange(N_STEPS)
    np.testing.assert_allclose(trace.lr, schedule.lr(steps), rtol=1e-6)
    np.testing.assert_allclose(trace.momentum, schedule.momentum(steps), rtol=1e-6)


def test_save_load_keeps_schedule_and_resumes_mid_schedule(tmp_path):
    x, y = regression_data()
    model = fit_compiled(one_cycle_optimizer("adam", SCHEDULE), epochs=2)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.optimizer).__name__ == "ScheduledAdam"
    assert loaded.optimizer.schedule == SCHEDULE
    assert int(loaded.optimizer.iterations.numpy()) == 2 * BATCHES
    trace = AppliedTrace()
    loaded.fit(x, y, batch_size=BATCH, epochs=EPOCHS, initial_epoch=2, shuffle=False, verbose=0,
               callbacks=[trace, ScheduleGuard(SCHEDULE)])
    resumed = np.arange(2 * BATCHES, N_STEPS)
    np.testing.assert_allclose(trace.lr, SCHEDULE.lr(resumed), rtol=1e-6)
    np.testing.assert_allclose(trace.momentum, SCHEDULE.momentum(resumed), rtol=1e-6)


def test_schedule_guard_refuses_to_step_past_the_end():
    x, y = regression_data()
    short = SCHEDULE.with_total_steps(N_STEPS - 1)
    model = linear_model()
    model.compile(one_cycle_optimizer("sgd", short), "mse")
    with pytest.raises(ValueError, match=rf"covers total_steps={N_STEPS - 1} but this fit needs {N_STEPS} steps"):
        model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[ScheduleGuard(short)])


def test_momentum_cannot_be_passed_beside_the_schedule():
    with pytest.raises(ValueError, match="momentum is set by the schedule; received momentum=0.9"):
        one_cycle_optimizer("sgd", SCHEDULE, momentum=0.9)
    with pytest.raises(ValueError, match="beta_1 is set by the schedule; received beta_1=0.9"):
        one_cycle_optimizer("adam", SCHEDULE, beta_1=0.9)
    with pytest.raises(ValueError, match="optimizer must be one of .*received optimizer='lion'"):
        one_cycle_optimizer("lion", SCHEDULE)
    with pytest.raises(ValueError, match=r"^learning_rate is set by the schedule; received learning_rate=0.5\. "):
        one_cycle_optimizer("sgd", SCHEDULE, learning_rate=0.5)
    other = OneCycle(max_lr=0.7, total_steps=N_STEPS)
    with pytest.raises(ValueError, match="learning_rate is set by the schedule"):
        one_cycle_optimizer("sgd", SCHEDULE, learning_rate=ScheduleLR(other))
    # the round trip through get_config passes the same schedule back: accepted
    opt = one_cycle_optimizer("adam", SCHEDULE)
    again = type(opt).from_config(opt.get_config())
    assert again.schedule == SCHEDULE


def test_schedule_guard_takes_a_schedule_or_its_dict():
    assert ScheduleGuard(SCHEDULE.to_dict()).total_steps == ScheduleGuard(SCHEDULE).total_steps == N_STEPS
    with pytest.raises(ValueError, match=r"^schedule must be a superconv schedule or its to_dict\(\); received None$"):
        ScheduleGuard(None)


def test_trace_records_the_step_of_each_entry_and_every_kth_with_steps_per_execution():
    x, y = regression_data()
    model = linear_model()
    model.compile(one_cycle_optimizer("sgd", SCHEDULE), "mse", steps_per_execution=2)
    trace = AppliedTrace()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0, callbacks=[trace])
    # batch hooks run once per execution of 2 steps: every second step, each with its own step number
    assert trace.steps == list(range(1, N_STEPS, 2))
    np.testing.assert_allclose(trace.lr, SCHEDULE.lr(np.array(trace.steps)), rtol=1e-6)
    np.testing.assert_allclose(trace.momentum, SCHEDULE.momentum(np.array(trace.steps)), rtol=1e-6)


def test_trace_refuses_an_optimizer_that_records_nothing():
    x, y = regression_data()
    model = linear_model()
    model.compile(keras.optimizers.SGD(0.01), "mse")
    with pytest.raises(ValueError, match=r"^AppliedTrace reads what a superconv optimizer applied: compile with "
                                         r"superconv\.keras\.one_cycle_optimizer\(\.\.\.\); received optimizer=SGD$"):
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[AppliedTrace()])


@pytest.mark.filterwarnings("ignore:Your input ran out of data")  # Keras' own note at each end of such data
def test_schedule_guard_with_data_of_unknown_length_stops_at_the_schedule_end():
    x, y = regression_data()
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).filter(lambda a, b: True).batch(BATCH)  # length unknown
    model = linear_model()
    model.compile(one_cycle_optimizer("sgd", SCHEDULE), "mse")
    trace = AppliedTrace()
    with pytest.warns(UserWarning, match="the data's length is unknown to Keras"):
        with pytest.raises(ValueError, match=rf"^the schedule covers total_steps={N_STEPS} and this fit has used them "
                                             rf"all \(optimizer.iterations={N_STEPS}\)"):
            model.fit(data, epochs=EPOCHS + 2, verbose=0, callbacks=[trace, ScheduleGuard(SCHEDULE)])
    # Keras 3 advances iterations once more per epoch than it trains batches with such data (the warning says
    # so): each epoch skips a schedule step, and the guard stops the fit before a step past the schedule
    assert trace.steps == [e * (BATCHES + 1) + b for e in range(4) for b in range(BATCHES)]
    assert int(model.optimizer.iterations.numpy()) == N_STEPS
