"""Schedule values computed by hand, validation messages, JSON round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from superconv import (
    Constant,
    CyclicLR,
    OneCycle,
    StepDecay,
    schedule_from_dict,
    steps_per_epoch,
    total_steps_for,
)


def cos_anneal(start: float, end: float, pct: float) -> float:
    return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)


# N=10, pct_start=0.5 -> warm-up ends at step 4.0, annealing ends at step 9.
# max_lr=1, div_factor=4 -> initial 0.25; final_div_factor=100 -> min 0.0025.
TWO = dict(max_lr=1.0, total_steps=10, pct_start=0.5, div_factor=4.0, final_div_factor=100.0)


def test_onecycle_cos_endpoints_and_midpoints():
    s = OneCycle(**TWO)
    assert s.lr(0) == pytest.approx(0.25, rel=1e-12)
    assert s.lr(2) == pytest.approx(0.625, rel=1e-12)  # half-way up: (0.25 + 1) / 2
    assert s.lr(4) == pytest.approx(1.0, rel=1e-12)
    assert s.lr(6) == pytest.approx(cos_anneal(1.0, 0.0025, 2 / 5), rel=1e-12)
    assert s.lr(9) == pytest.approx(0.0025, rel=1e-12)
    assert s.momentum(0) == pytest.approx(0.95)
    assert s.momentum(2) == pytest.approx(0.90)
    assert s.momentum(4) == pytest.approx(0.85)
    assert s.momentum(9) == pytest.approx(0.95)
    assert s.initial_lr == 0.25 and s.min_lr == pytest.approx(0.0025)
    assert s.phase_boundaries() == [4]


def test_onecycle_linear_values():
    s = OneCycle(**TWO, anneal="linear")
    assert s.lr([0, 1, 2, 4]).tolist() == pytest.approx([0.25, 0.4375, 0.625, 1.0], rel=1e-12)
    # step 7 is 3/5 of the way down from 1.0 to 0.0025
    assert s.lr(7) == pytest.approx(1.0 + (0.0025 - 1.0) * 0.6, rel=1e-12)
    assert s.momentum(7) == pytest.approx(0.85 + 0.1 * 0.6, rel=1e-12)


def test_onecycle_three_phase_linear_is_smiths_original():
    # N=20, pct 0.25: ends at 4 (up), 8 (back down to initial), 19 (annihilation to min)
    s = OneCycle(max_lr=1.0, total_steps=20, pct_start=0.25, div_factor=4.0, final_div_factor=100.0,
                 anneal="linear", three_phase=True)
    assert s.lr([0, 2, 4, 6, 8, 19]).tolist() == pytest.approx([0.25, 0.625, 1.0, 0.625, 0.25, 0.0025])
    assert s.lr(14) == pytest.approx(0.25 + (0.0025 - 0.25) * 6 / 11, rel=1e-12)
    assert s.momentum([0, 4, 8, 12, 19]).tolist() == pytest.approx([0.95, 0.85, 0.95, 0.95, 0.95])
    assert s.phase_boundaries() == [4, 8]


def test_fastai_convention_values_and_final_lr():
    s = OneCycle.fastai(1.0, 8, div=4.0, div_final=400.0, pct_start=0.25, moms=(0.95, 0.85, 0.95))
    # position k/8; warm-up while position < 0.25 (steps 0, 1)
    assert s.lr(0) == pytest.approx(0.25)
    assert s.lr(1) == pytest.approx(0.625)  # half-way up in cos
    assert s.lr(2) == pytest.approx(1.0)
    assert s.lr(5) == pytest.approx((1.0 + 0.0025) / 2)  # half-way down
    assert s.lr(7) == pytest.approx(cos_anneal(1.0, 0.0025, 5 / 6), rel=1e-12)
    assert s.momentum(1) == pytest.approx(0.90) and s.momentum(2) == pytest.approx(0.85)
    assert s.min_lr == pytest.approx(1.0 / 400)
    assert s.phase_boundaries() == [1]


def test_pytorch_and_fastai_final_lr_conventions_differ():
    torch_style = OneCycle(max_lr=1.0, total_steps=100, div_factor=25.0, final_div_factor=1e5)
    fastai_style = OneCycle.fastai(1.0, 100, div=25.0, div_final=1e5)
    assert torch_style.min_lr == pytest.approx(1.0 / 25 / 1e5)
    assert fastai_style.min_lr == pytest.approx(1.0 / 1e5)


def test_lr_peak_and_momentum_trough_coincide():
    s = OneCycle(max_lr=0.3, total_steps=1000)
    steps, lr, mom = s.curves()
    assert int(np.argmax(lr)) == int(np.argmin(mom)) == 299
    assert lr.dtype == np.float64 and lr.shape == (1000,)


def test_constant_step_decay_cyclic_values():
    c = Constant(lr=0.05, total_steps=10, momentum=0.8)
    assert c.lr([0, 9]).tolist() == [0.05, 0.05] and c.momentum(5) == 0.8
    d = StepDecay(lr=0.1, total_steps=100, boundaries=(0.5, 0.75), factor=0.1)
    assert d.lr([0, 49, 50, 74, 75, 99]).tolist() == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert d.phase_boundaries() == [49, 74]
    # boundary * total_steps rounded half up, the same way for every length (2.5 -> 3, 3.5 -> 4)
    assert StepDecay(lr=1.0, total_steps=5, boundaries=(0.5,)).lr(range(5)).tolist() == [1, 1, 1, 0.1, 0.1]
    assert StepDecay(lr=1.0, total_steps=7, boundaries=(0.5,)).phase_boundaries() == [3]
    cy = CyclicLR(base_lr=0.01, max_lr=0.11, total_steps=40, step_size=10, base_momentum=0.8, max_momentum=0.9)
    assert cy.lr([0, 5, 10, 15, 20, 30]).tolist() == pytest.approx([0.01, 0.06, 0.11, 0.06, 0.01, 0.11])
    assert cy.momentum([0, 10, 20]).tolist() == pytest.approx([0.9, 0.8, 0.9])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(max_lr=0.1, total_steps=1), "total_steps must be an integer >= 2; received total_steps=1"),
        (dict(max_lr=0.1, total_steps=10.5), "total_steps must be an integer >= 2; received total_steps=10.5"),
        (dict(max_lr=0.0, total_steps=100), "max_lr must be > 0; received max_lr=0.0"),
        (dict(max_lr=-1, total_steps=100), "max_lr must be > 0; received max_lr=-1.0"),
        (dict(max_lr=float("nan"), total_steps=100), "max_lr must be a finite number; received max_lr=nan"),
        (dict(max_lr="0.1", total_steps=100), "max_lr must be a finite number; received max_lr='0.1'"),
        (dict(max_lr=0.1, total_steps=100, pct_start=1.3), "pct_start must be in (0, 1); received pct_start=1.3"),
        (dict(max_lr=0.1, total_steps=100, pct_start=0.0), "pct_start must be in (0, 1); received pct_start=0.0"),
        (dict(max_lr=0.1, total_steps=100, div_factor=0.5), "div_factor must be >= 1; received div_factor=0.5"),
        (dict(max_lr=0.1, total_steps=100, final_div_factor=0.1),
         "final_div_factor must be >= 1; received final_div_factor=0.1"),
        (dict(max_lr=0.1, total_steps=100, base_momentum=1.0), "base_momentum must be in [0, 1); received base_momentum=1.0"),
        (dict(max_lr=0.1, total_steps=100, max_momentum=-0.1), "max_momentum must be in [0, 1); received max_momentum=-0.1"),
        (dict(max_lr=0.1, total_steps=100, base_momentum=0.9, max_momentum=0.8),
         "base_momentum must be <= max_momentum; received base_momentum=0.9, max_momentum=0.8"),
        (dict(max_lr=0.1, total_steps=100, anneal="exp"), "anneal must be one of ['cos', 'linear']; received anneal='exp'"),
        (dict(max_lr=0.1, total_steps=3, pct_start=0.3), "received pct_start=0.3, total_steps=3"),
        (dict(max_lr=0.1, total_steps=100, pct_start=0.6, three_phase=True), "three_phase needs pct_start <"),
        (dict(max_lr=0.1, total_steps=100, convention="keras"),
         "convention must be one of ['pytorch', 'fastai']; received convention='keras'"),
    ],
)
def test_onecycle_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        OneCycle(**kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Constant(lr=0, total_steps=10), "lr must be > 0; received lr=0.0"),
        (lambda: StepDecay(lr=0.1, total_steps=10, boundaries=(0.7, 0.5)),
         "boundaries must be increasing fractions in (0, 1); received boundaries=[0.7, 0.5]"),
        (lambda: StepDecay(lr=0.1, total_steps=10, factor=2.0), "factor must be in (0, 1]; received factor=2.0"),
        (lambda: StepDecay(lr=0.1, total_steps=10, boundaries=(0.01, 0.02)),
         "boundaries must each fall on a step of their own in 1..9; received boundaries=[0.01, 0.02], "
         "which drop at steps [0, 0] of total_steps=10"),
        (lambda: StepDecay(lr=0.1, total_steps=10, boundaries=(0.5, 0.52)), "which drop at steps [5, 5]"),
        (lambda: StepDecay(lr=0.1, total_steps=10, boundaries=(0.99,)), "which drop at steps [10] of total_steps=10"),
        (lambda: StepDecay(lr=0.1, total_steps=100).with_total_steps(2),
         "received boundaries=[0.5, 0.75], which drop at steps [1, 2] of total_steps=2"),
        (lambda: CyclicLR(base_lr=0.2, max_lr=0.1, total_steps=10, step_size=2),
         "base_lr must be <= max_lr; received base_lr=0.2, max_lr=0.1"),
        (lambda: CyclicLR(base_lr=0.01, max_lr=0.1, total_steps=10, step_size=0),
         "step_size must be an integer >= 1; received step_size=0"),
        (lambda: OneCycle.fastai(0.1, 100, moms=(0.95, 0.85, 0.9)), "moms must be (start, middle, end)"),
        # fastai's own argument names, not the PyTorch fields they map to
        (lambda: OneCycle.fastai(-1, 100), "lr_max must be > 0; received lr_max=-1.0"),
        (lambda: OneCycle.fastai(0.1, 100, moms=(0.9, 0.95, 0.9)),
         "moms must be (start, middle, end) with start == end >= middle; received moms=(0.9, 0.95, 0.9)"),
        (lambda: OneCycle.fastai(0.1, 100, moms=None),
         "moms must be a sequence of three momentums (start, middle, end), such as a tuple or a list; received "
         "moms=None of type NoneType"),
        (lambda: OneCycle.fastai(0.1, 3, pct_start=0.999),
         "pct_start * total_steps must be <= total_steps - 1 so the anneal has at least one step; "
         "received pct_start=0.999, total_steps=3"),
        (lambda: OneCycle.fastai(0.1, 100, div=25, div_final=10), "div_final must be >= div"),
    ],
)
def test_baselines_reject_invalid_arguments(build, message):
    with pytest.raises(ValueError) as err:
        build()
    assert message in str(err.value)


def test_stepping_past_the_end_raises():
    s = OneCycle(max_lr=0.1, total_steps=100)
    with pytest.raises(ValueError, match=r"steps must be in \[0, total_steps\) = \[0, 100\); received step 100"):
        s.lr(100)
    with pytest.raises(ValueError, match="received step -1"):
        s.momentum([-1, 3])
    with pytest.raises(ValueError, match="steps must be integers"):
        s.lr(1.5)


@pytest.mark.parametrize(
    "schedule",
    [
        OneCycle(max_lr=0.1, total_steps=1000, anneal="linear", three_phase=True),
        OneCycle.fastai(3e-3, 500),
        Constant(lr=0.1, total_steps=50),
        StepDecay(lr=0.1, total_steps=50, boundaries=(0.3, 0.6, 0.9), factor=0.2),
        CyclicLR(base_lr=0.01, max_lr=0.1, total_steps=50, step_size=5),
    ],
)
def test_json_round_trip(schedule):
    data = json.loads(json.dumps(schedule.to_dict()))
    again = schedule_from_dict(data)
    assert again == schedule
    steps = np.arange(schedule.total_steps)
    np.testing.assert_array_equal(again.lr(steps), schedule.lr(steps))
    np.testing.assert_array_equal(again.momentum(steps), schedule.momentum(steps))


def test_from_dict_errors_name_the_field():
    with pytest.raises(ValueError, match="kind must be one of .*received kind='warmup'"):
        schedule_from_dict({"kind": "warmup"})
    with pytest.raises(ValueError, match=r"^unknown field\(s\) \['bogus'\] for a 'onecycle' schedule \(its fields: "
                                         r"\['max_lr', 'total_steps', .*\]\); received bogus=1$"):
        schedule_from_dict({"kind": "onecycle", "max_lr": 0.1, "total_steps": 10, "bogus": 1})
    with pytest.raises(ValueError, match=r"^a 'step' schedule needs lr, total_steps; received fields \['factor'\]$"):
        schedule_from_dict({"kind": "step", "factor": 0.5})
    with pytest.raises(ValueError, match=r"^kind must be one of .*; received kind=\['onecycle'\]$"):
        schedule_from_dict({"kind": ["onecycle"]})
    with pytest.raises(ValueError, match="max_lr must be > 0; received max_lr=-1.0"):
        schedule_from_dict({"kind": "onecycle", "max_lr": -1, "total_steps": 10})


def test_with_total_steps_rescales():
    s = OneCycle(max_lr=0.1, total_steps=100).with_total_steps(1000)
    assert s.total_steps == 1000 and s.phase_boundaries() == [299]
    assert StepDecay(lr=0.1, total_steps=10).with_total_steps(100).phase_boundaries() == [49, 74]


def test_step_budget_helpers():
    assert steps_per_epoch(1000, 128) == 8
    assert steps_per_epoch(1000, 128, drop_remainder=True) == 7
    assert total_steps_for(1797, 64, 10) == 290
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1; received batch_size=0"):
        total_steps_for(100, 0, 3)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1; received epochs=0"):
        total_steps_for(100, 10, 0)
    with pytest.raises(ValueError, match="received batch_size=200, num_samples=100"):
        steps_per_epoch(100, 200, drop_remainder=True)


def test_huge_float_steps_are_refused_with_their_value():
    with pytest.raises(ValueError, match=r"^steps must be in \[0, total_steps\) = \[0, 100\); received step 1e\+300$"):
        OneCycle(max_lr=0.1, total_steps=100).lr(1e300)


@pytest.mark.parametrize("n, pct", [(25, 0.28), (50, 0.14), (100, 0.07), (100, 0.55), (180, 0.55), (100, 0.25)])
def test_fastai_phase_boundary_is_the_last_warm_up_step_the_lr_takes(n, pct):
    # pct * n rounds up in float for the first five (0.07 * 100 = 7.000000000000001): ceil() would be one late
    s = OneCycle.fastai(0.1, n, pct_start=pct)
    [boundary] = s.phase_boundaries()
    assert boundary == round(pct * n) - 1
    lr = s.lr(np.arange(n))
    assert lr[boundary] < s.max_lr and lr[boundary + 1] == pytest.approx(s.max_lr)  # the peak opens the anneal


def test_fastai_moms_as_a_numpy_array_and_drop_remainder_must_be_a_bool():
    s = OneCycle.fastai(0.1, 100, moms=np.array([0.95, 0.85, 0.95]))
    assert (s.max_momentum, s.base_momentum) == (0.95, 0.85)
    with pytest.raises(ValueError, match=r"moms must be a sequence of three momentums \(start, middle, end\), such "
                                         r"as a tuple or a list; received moms=<generator .* of type generator"):
        OneCycle.fastai(0.1, 100, moms=(m for m in (0.95, 0.85, 0.95)))
    assert total_steps_for(1797, 64, 10, drop_remainder=True) == 280
    for bad in ("no", 1, None):
        with pytest.raises(ValueError) as exc:
            total_steps_for(1797, 64, 10, drop_remainder=bad)
        assert str(exc.value) == f"drop_remainder must be True or False; received drop_remainder={bad!r}"
