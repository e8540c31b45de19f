"""Smoothing, decimation and the training-curve figure builders (pure, fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from superconv import Constant, OneCycle, StepDecay
from superconv.plots_training import (
    batch_figure,
    epoch_figure,
    gap_figure,
    race_figure,
    run_colors,
    run_colors_by_id,
    schedules_figure,
)
from superconv.smoothing import decimate, ema, zero_lag_ema


# ----------------------------------------------------------------------------- smoothing
def test_ema_matches_hand_computed_bias_corrected_values():
    # beta=0.9: avg1 = 0.1*1 = 0.1 -> /0.1 = 1 ; avg2 = 0.09 + 0.3 = 0.39 -> /0.19 ; avg3 = 0.351 + 0.2 = 0.551 -> /0.271
    out = ema([1.0, 3.0, 2.0], beta=0.9)
    np.testing.assert_allclose(out, [1.0, 0.39 / 0.19, 0.551 / 0.271], rtol=1e-12)


def test_ema_equals_the_fastai_lr_finder_recurrence_on_random_data():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 0.5, size=500)
    beta, avg, ref = 0.98, 0.0, []
    for i, v in enumerate(x, start=1):
        avg = beta * avg + (1 - beta) * v
        ref.append(avg / (1 - beta**i))
    np.testing.assert_allclose(ema(x, beta), ref, rtol=1e-12)


def test_ema_of_a_constant_is_the_constant_from_the_first_point():
    # Without the bias correction the first value would be 0.02 * 5 = 0.1.
    np.testing.assert_allclose(ema(np.full(50, 5.0), 0.98), 5.0, rtol=1e-12)


def test_ema_skips_non_finite_values_and_leaves_a_gap():
    out = ema([1.0, np.inf, np.nan, 3.0], beta=0.5)
    assert np.isnan(out[1]) and np.isnan(out[2])
    # the average carries over the gap: avg = 0.5, then 0.25 + 1.5 = 1.75 over 1 - 0.25
    assert out[0] == 1.0 and out[3] == pytest.approx(1.75 / 0.75)


def test_ema_reduces_noise():
    rng = np.random.default_rng(1)
    x = 1.0 + rng.normal(0, 0.3, size=2000)
    assert np.std(ema(x, 0.98)[200:]) < 0.3 * np.std(x)


@pytest.mark.parametrize("beta", [1.0, -0.1, 2, "x"])
def test_ema_rejects_bad_beta_naming_it(beta):
    with pytest.raises(ValueError, match=r"beta must be .*received beta="):
        ema([1.0, 2.0], beta)


def test_zero_lag_ema_hand_computed_and_gaps():
    # forward [1, 7/3]; backward over [7/3, 1]: 7/3, then (0.25 * 7/3 + 0.5 * 1) / 0.75 = 13/9
    np.testing.assert_allclose(zero_lag_ema([1.0, 3.0], beta=0.5), [13 / 9, 7 / 3], rtol=1e-12)
    np.testing.assert_array_equal(zero_lag_ema([4.0, 1.0, 2.0], beta=0.0), [4.0, 1.0, 2.0])
    out = zero_lag_ema([1.0, np.nan, 3.0, 3.0], beta=0.5)
    assert np.isnan(out[1]) and np.isfinite(out[[0, 2, 3]]).all()
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\); received beta=1"):
        zero_lag_ema([1.0], beta=1)


def test_zero_lag_ema_keeps_features_where_they_are():
    # A one-way EMA moves a bump's peak and a falling edge later; forward-backward does not.
    x = np.arange(201)
    bump = np.exp(-0.5 * ((x - 100) / 8.0) ** 2)
    assert int(np.argmax(ema(bump, 0.95))) >= 105 and int(np.argmax(zero_lag_ema(bump, 0.95))) == 100
    edge = 1.0 / (1.0 + np.exp((x - 100) / 5.0))   # falls fastest at index 100
    steepest = lambda y: int(np.argmin(np.diff(y)))  # noqa: E731
    assert steepest(ema(edge, 0.95)) >= 105 and steepest(zero_lag_ema(edge, 0.95)) in (99, 100)


def test_ema_rejects_2d_input():
    with pytest.raises(ValueError, match=r"values must be 1-D; received an array of shape \(2, 2\)"):
        ema([[1.0, 2.0], [3.0, 4.0]])


def test_decimate_keeps_ends_and_budget():
    idx = decimate(100_000, 2000)
    assert len(idx) == 2000 and idx[0] == 0 and idx[-1] == 99_999
    assert np.all(np.diff(idx) > 0)
    assert decimate(0, 10).tolist() == []
    with pytest.raises(ValueError, match="max_points must be an integer >= 2; received max_points=1"):
        decimate(10, 1)


# ----------------------------------------------------------------------------- figures
def batches(n: int, lr: float = 0.1) -> pd.DataFrame:
    steps = np.arange(n)
    return pd.DataFrame({"step": steps, "epoch": steps // 10, "loss": 2.0 / (1 + steps), "lr": np.full(n, lr),
                         "momentum": np.full(n, 0.9)})


def epochs(val_acc: list[float]) -> pd.DataFrame:
    n = len(val_acc)
    return pd.DataFrame({"epoch": range(n), "train_loss": np.linspace(1, 0.2, n), "train_acc": np.linspace(0.5, 0.99, n),
                         "val_loss": np.linspace(1.1, 0.4, n), "val_acc": val_acc, "seconds": [1.0] * n})


def by_name(fig):
    return {t.name: t for t in fig.data}


def test_batch_figure_raw_smoothed_applied_and_planned_traces():
    sched = OneCycle(max_lr=0.5, total_steps=40)
    fig = batch_figure({"1cycle": batches(25, 0.3), "constant": batches(10, 0.05)}, planned={"1cycle": sched})
    t = by_name(fig)
    assert list(t["1cycle loss"].y) == pytest.approx((2.0 / (1 + np.arange(25))).tolist())
    assert list(t["1cycle loss (smoothed)"].y) == pytest.approx(ema(2.0 / (1 + np.arange(25))).tolist())
    assert list(t["constant lr"].y) == [0.05] * 10
    # the planned curve covers the whole run, so the chart shows where the LR is heading
    assert list(t["1cycle lr planned"].x) == list(range(40))
    assert max(t["1cycle lr planned"].y) == pytest.approx(0.5)
    assert list(t["1cycle momentum planned"].y) == pytest.approx(sched.momentum(np.arange(40)).tolist())
    assert "constant lr planned" not in t
    # one colour per run across its traces; panels: loss on y, lr on y2, momentum on y3
    assert t["1cycle lr"].line.color == t["1cycle loss (smoothed)"].line.color != t["constant lr"].line.color
    assert (t["1cycle loss"].yaxis, t["1cycle lr"].yaxis, t["1cycle momentum"].yaxis) == ("y", "y2", "y3")
    assert fig.layout.xaxis3.title.text == "step (batch)"


def test_batch_figure_decimates_long_curves_after_smoothing():
    fig = batch_figure({"a": batches(10_000)}, max_points=500)
    t = by_name(fig)
    assert len(t["a loss"].x) == 500 and t["a loss"].x[-1] == 9999
    full = ema(2.0 / (1 + np.arange(10_000)))
    assert t["a loss (smoothed)"].y[-1] == pytest.approx(full[-1])


def test_batch_figure_handles_an_empty_run_and_nan_losses():
    b = batches(4)
    b.loc[2, "loss"] = np.nan
    fig = batch_figure({"queued": batches(0), "diverging": b}, show_raw=True, log_loss=True)
    t = by_name(fig)
    assert list(t["queued loss (smoothed)"].y) == []
    assert t["diverging loss"].y[2] is None
    assert fig.layout.yaxis.type == "log"
    assert "bdata" not in fig.to_json()  # plain lists: readable data in the page JSON and the browser


def test_epoch_figure_counts_epochs_from_one_and_draws_the_target():
    fig = epoch_figure({"a": epochs([0.5, 0.8, 0.9])}, target=0.85)
    t = by_name(fig)
    assert list(t["a val acc"].x) == [1, 2, 3] and list(t["a val acc"].y) == [0.5, 0.8, 0.9]
    assert t["a val loss"].yaxis == "y" and t["a val acc"].yaxis == "y2"
    assert [s.y0 for s in fig.layout.shapes] == [0.85]


def test_gap_figure_values():
    e = epochs([0.5, 0.6, 0.7])
    t = by_name(gap_figure({"a": e}))
    np.testing.assert_allclose(t["a loss gap"].y, (e["val_loss"] - e["train_loss"]).to_numpy())
    np.testing.assert_allclose(t["a accuracy gap"].y, (e["train_acc"] - e["val_acc"]).to_numpy())


def test_race_figure_marks_the_epoch_reaching_the_target():
    table = pd.DataFrame({"schedule": ["1cycle", "constant"], "val_acc_by_epoch": [[0.7, 0.96, 0.97], [0.6, 0.8, 0.9]],
                          "epochs_to_target": pd.Series([2, None], dtype=object)})
    fig = race_figure(table, target=0.95)
    t = by_name(fig)
    assert list(t["1cycle"].y) == [0.7, 0.96, 0.97]
    assert list(t["1cycle reaches 95%"].x) == [2] and list(t["1cycle reaches 95%"].y) == [0.96]
    assert "constant reaches 95%" not in t
    assert fig.layout.font.size == 18
    assert fig.layout.xaxis.range is None and fig.layout.yaxis.range is None  # autoscaled without a budget


def test_race_figure_spans_the_budget_before_any_epoch_is_measured():
    empty = pd.DataFrame({"schedule": ["1cycle", "constant"], "val_acc_by_epoch": [[], []],
                          "epochs_to_target": pd.Series([None, None], dtype=object)})
    fig = race_figure(empty, target=0.98, epochs=30)
    assert fig.layout.xaxis.range == (0.5, 30.5) and fig.layout.xaxis.dtick is None
    assert fig.layout.yaxis.range == (0, 1)
    started = pd.DataFrame({"schedule": ["1cycle"], "val_acc_by_epoch": [[0.4, 0.7]], "epochs_to_target": [None]})
    fig = race_figure(started, target=0.98, epochs=8)
    assert fig.layout.xaxis.range == (0.5, 8.5) and fig.layout.xaxis.dtick == 1
    assert fig.layout.yaxis.range is None  # the measured accuracies set the scale


def test_schedules_figure_puts_lanes_on_a_percent_axis():
    fig = schedules_figure({"1cycle": OneCycle(1.0, 100), "step": StepDecay(0.1, 101), "c": Constant(0.05, 101)})
    t = by_name(fig)
    assert t["1cycle"].x[0] == 0.0 and t["1cycle"].x[-1] == 100.0
    assert max(t["1cycle"].y) == pytest.approx(1.0)
    assert sorted(set(t["step"].y)) == pytest.approx([0.001, 0.01, 0.1])


def test_run_colors_are_distinct_for_twenty_runs():
    colors = run_colors([f"r{i}" for i in range(20)])
    assert len(set(colors.values())) == 20


def test_a_run_keeps_its_colour_when_a_new_run_joins_the_chart():
    # run n takes palette colour n-1: #1 the 1st, #4 the 4th
    before = run_colors_by_id({1: "#1 a", 4: "#4 b"})
    assert before == {"#1 a": "#636EFA", "#4 b": "#AB63FA"}
    # the page lists the newest run first; #24 maps to the 4th colour too, which #4 holds: it takes the 5th
    after = run_colors_by_id({24: "#24 new", 1: "#1 a", 4: "#4 b"})
    assert after == {"#1 a": "#636EFA", "#4 b": "#AB63FA", "#24 new": "#FFA15A"}
    # taking a run off the chart changes no other run's colour
    assert run_colors_by_id({4: "#4 b"}) == {"#4 b": "#AB63FA"}
    # more runs than colours: every run still gets one, cycling
    many = run_colors_by_id({i: f"#{i}" for i in range(1, 23)})
    assert len(set(many.values())) == 20 and many["#21"] == "#636EFA"


def test_short_runs_get_one_tick_per_whole_epoch():
    for build in (epoch_figure, gap_figure):
        short = build({"a": epochs([0.5, 0.8, 0.9])})
        assert (short.layout.xaxis.dtick, short.layout.xaxis2.dtick) == (1, 1)
        long = build({"a": epochs(list(np.linspace(0.5, 0.9, 20)))})
        assert (long.layout.xaxis.dtick, long.layout.xaxis2.dtick) == (None, None)  # Plotly picks whole steps


def test_race_schedules_chart_keeps_the_exact_peak_and_step_edges_of_long_runs():
    from superconv import OneCycle, StepDecay
    from superconv.plots_training import schedules_figure

    n = 100_001
    onecycle = OneCycle(max_lr=1.0, total_steps=n, pct_start=0.3)
    step = StepDecay(lr=0.3, total_steps=n, boundaries=(0.5,), factor=0.1)
    fig = schedules_figure({"1cycle": onecycle, "step": step}, max_points=500)
    lr_trace, step_trace = fig.data
    full = onecycle.lr(np.arange(n))
    peak = int(np.argmax(full))  # 30,299: an evenly thinned curve of 500 points misses it
    assert len(lr_trace.y) <= 510 and max(lr_trace.y) == full[peak]
    assert lr_trace.x[0] == 0.0 and lr_trace.x[-1] == 100.0
    # both sides of the drop are drawn at their exact steps: 0.3 up to step 49,999, 0.03 from 50,000
    (last_high,) = step.phase_boundaries()
    xs = list(step_trace.x)
    edge = xs.index(100.0 * last_high / (n - 1))
    assert xs[edge + 1] == 100.0 * (last_high + 1) / (n - 1)
    assert step_trace.y[edge] == 0.3 and step_trace.y[edge + 1] == pytest.approx(0.03)


def test_empty_charts_say_they_wait_instead_of_showing_made_up_axes():
    empty_batches = pd.DataFrame(columns=["step", "epoch", "loss", "lr", "momentum"])
    empty_epochs = pd.DataFrame(columns=["train_loss", "train_acc", "val_loss", "val_acc"])
    fig = batch_figure({"a": empty_batches})
    notes = [(a.text, a.xref, a.yref) for a in fig.layout.annotations if a.text.startswith("waiting")]
    assert notes == [("waiting for the first batch", f"x{i} domain", f"y{i} domain") for i in ("", "2", "3")]
    assert fig.layout.yaxis.range == (0, 1) and fig.layout.yaxis.showticklabels is False
    # with a planned schedule the step axis follows the plan; only the loss panel waits
    fig = batch_figure({"a": empty_batches}, planned={"a": OneCycle(max_lr=0.1, total_steps=50)})
    assert [a.yref for a in fig.layout.annotations if a.text.startswith("waiting")] == ["y domain"]
    assert fig.layout.xaxis.range is None and fig.layout.yaxis2.range is None
    for figure in (epoch_figure({"a": empty_epochs}, target=0.9), gap_figure({"a": empty_epochs})):
        assert [a.xref for a in figure.layout.annotations if a.text == "waiting for the first epoch"] == [
            "x domain", "x2 domain"]
    # with data: no note
    batches = pd.DataFrame({"step": [0, 1], "epoch": [0, 0], "loss": [2.0, 1.5], "lr": [0.1, 0.1], "momentum": [0.9, 0.9]})
    assert not [a for a in batch_figure({"a": batches}).layout.annotations if a.text.startswith("waiting")]
