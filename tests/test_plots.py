"""Schedule figures: exact values at the plotted steps, decimation keeps what matters, layout options."""

from __future__ import annotations

import json

import numpy as np
import pytest

from superconv import Constant, CyclicLR, OneCycle, StepDecay
from superconv.plots import (
    MAX_POINTS,
    decimation_indices,
    overlay_figure,
    schedule_figure,
    schedule_points,
    trace_array,
)


def _spec_traces(fig):
    spec = json.loads(fig.to_json())
    return [{k: trace_array(t[k]) for k in ("x", "y") } | {"name": t["name"]} for t in spec["data"]], spec


def test_short_schedule_is_plotted_step_for_step():
    s = OneCycle(max_lr=0.1, total_steps=500, three_phase=True, anneal="linear")
    traces, spec = _spec_traces(schedule_figure(s, steps_per_epoch=50))
    steps = np.arange(500)
    np.testing.assert_array_equal(traces[0]["x"], steps)
    np.testing.assert_allclose(traces[0]["y"], s.lr(steps), rtol=0, atol=0)
    np.testing.assert_allclose(traces[1]["y"], s.momentum(steps), rtol=0, atol=0)
    np.testing.assert_allclose(trace_array(spec["data"][0]["customdata"]), steps / 50, atol=1e-4)
    # phase boundaries are drawn on both subplots, epochs label the top axis
    lines = [sh for sh in spec["layout"]["shapes"] if sh["type"] == "line"]
    assert sorted({sh["x0"] for sh in lines}) == s.phase_boundaries() and len(lines) == 2 * len(s.phase_boundaries())
    assert spec["layout"]["xaxis"]["ticktext"][:3] == ["epoch 0", "1", "2"]
    assert spec["layout"]["xaxis"]["tickvals"][:2] == [0, 50]


@pytest.mark.parametrize(
    "schedule",
    [
        OneCycle(max_lr=0.3, total_steps=1_000_000),
        OneCycle(max_lr=0.3, total_steps=777_777, pct_start=0.123, three_phase=True),
        OneCycle.fastai(0.01, 123_457),
        StepDecay(lr=0.1, total_steps=200_001, boundaries=(0.3, 0.6, 0.9)),
        CyclicLR(base_lr=0.01, max_lr=0.1, total_steps=100_000, step_size=5_000),
        CyclicLR(base_lr=0.01, max_lr=0.1, total_steps=100_000, step_size=7),  # far more cycles than points
    ],
    ids=["1M", "three-phase", "fastai", "step", "clr", "clr-many-cycles"],
)
def test_long_schedules_keep_endpoints_boundaries_peak_and_exact_values(schedule):
    steps, lr, mom = schedule_points(schedule, max_points=MAX_POINTS)
    n = schedule.total_steps
    assert len(steps) <= MAX_POINTS + 8
    assert np.all(np.diff(steps) > 0) and steps[0] == 0 and steps[-1] == n - 1
    np.testing.assert_array_equal(lr, schedule.lr(steps))
    np.testing.assert_array_equal(mom, schedule.momentum(steps))
    full_lr = schedule.lr(np.arange(n))
    assert lr.max() == full_lr.max() and lr.min() == full_lr.min()  # peak and trough survive
    bounds = schedule.phase_boundaries()
    if 4 * len(bounds) <= MAX_POINTS // 2:
        assert set(bounds) <= set(steps.tolist())
        assert {b + 1 for b in bounds} <= set(steps.tolist())  # both sides of a jump (step decay)


def test_decimation_keeps_min_max_per_bucket_and_requested_points():
    rng = np.random.default_rng(0)
    y = rng.normal(size=100_000)
    y[31_337] = 50.0
    y[77_777] = -50.0
    idx = decimation_indices(y, 1000, keep=[5, 99_998])
    assert len(idx) <= 1000 + 2
    assert {0, 99_999, 31_337, 77_777, 5, 99_998} <= set(idx.tolist())
    np.testing.assert_array_equal(decimation_indices(y[:10], 1000), np.arange(10))
    with pytest.raises(ValueError, match="max_points must be an integer >= 4; received max_points=2"):
        decimation_indices(y, 2)


def test_log_toggle_and_overlay():
    s = OneCycle(max_lr=0.1, total_steps=1000)
    assert json.loads(schedule_figure(s, log_lr=True).to_json())["layout"]["yaxis"]["type"] == "log"
    assert json.loads(schedule_figure(s).to_json())["layout"]["yaxis"]["type"] == "linear"
    schedules = {"1cycle": s, "constant": Constant(0.01, 2000), "step": StepDecay(0.1, 1500)}
    traces, spec = _spec_traces(overlay_figure(schedules, log_lr=True))
    assert [t["name"] for t in traces] == ["1cycle", "1cycle (momentum)", "constant", "constant (momentum)",
                                            "step", "step (momentum)"]
    for i, sched in enumerate(schedules.values()):
        lr_t, mom_t = traces[2 * i], traces[2 * i + 1]
        np.testing.assert_array_equal(lr_t["y"], sched.lr(lr_t["x"].astype(int)))
        np.testing.assert_array_equal(mom_t["y"], sched.momentum(mom_t["x"].astype(int)))
    assert spec["layout"]["yaxis"]["type"] == "log"
    colors = [t["line"]["color"] for t in spec["data"]]
    assert colors[0] == colors[1] != colors[2] == colors[3]


def test_phase_markers_are_labelled_inside_the_lr_panel_clear_of_the_epoch_ticks():
    fig = schedule_figure(OneCycle(max_lr=0.1, total_steps=1000, three_phase=True), steps_per_epoch=100)
    notes = [(a.text, a.x, a.yanchor, a.xanchor) for a in fig.layout.annotations]
    # inside the panel (top-left anchored at the marker): the epoch tick labels sit above it
    assert notes == [("peak (step 299)", 299, "top", "left"), ("end of cool-down (step 598)", 598, "top", "left")]
    assert list(fig.layout.xaxis.ticktext[:2]) == ["epoch 0", "1"]
