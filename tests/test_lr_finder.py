"""LR range test, numpy side: the LR sweep, smoothing, divergence stop and the suggestion rules
on hand-made curves with hand-computed answers."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from superconv.lr_finder import (
    DivergenceMonitor,
    RangeTestResult,
    aggregate_curves,
    curve_beta,
    ema_smooth,
    job_configs,
    lr_sequence,
    minimum_div10,
    slide,
    steepest,
    suggest_all,
    valley,
)

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- the sweep
def test_exp_sequence_hand_computed():
    # ratio (10 / 1e-3) ** (1/4) = 10 per step
    np.testing.assert_allclose(lr_sequence(1e-3, 10.0, 5, "exp"), [1e-3, 1e-2, 1e-1, 1.0, 10.0], rtol=1e-12)
    # ratio (8/1) ** (1/3) = 2
    np.testing.assert_allclose(lr_sequence(1.0, 8.0, 4), [1.0, 2.0, 4.0, 8.0], rtol=1e-12)


def test_linear_sequence_hand_computed():
    np.testing.assert_allclose(lr_sequence(0.1, 1.0, 4, "linear"), [0.1, 0.4, 0.7, 1.0], rtol=1e-12)
    np.testing.assert_allclose(lr_sequence(0.5, 2.5, 3, mode="linear"), [0.5, 1.5, 2.5], rtol=1e-12)


def test_sequence_ends_exactly_on_start_and_end():
    lrs = lr_sequence(1e-7, 10.0, 100)
    assert lrs[0] == 1e-7 and lrs[-1] == 10.0 and lrs.size == 100
    assert np.all(np.diff(np.log(lrs)) > 0)
    np.testing.assert_allclose(np.diff(np.log(lrs)), math.log(1e8) / 99, rtol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_lr": 0.0}, "start_lr must be a finite number > 0; received start_lr=0.0"),
        ({"end_lr": 1e-8}, "end_lr must be > start_lr=1e-07; received end_lr=1e-08"),
        ({"num_iter": 1}, "num_iter must be an integer >= 2; received num_iter=1"),
        ({"num_iter": 10.5}, "num_iter must be an integer >= 2; received num_iter=10.5"),
        ({"mode": "log"}, "mode must be one of ['exp', 'linear']; received mode='log'"),
        ({"end_lr": float("inf")}, "end_lr must be a finite number > 0; received end_lr=inf"),
    ],
)
def test_sequence_rejects_bad_input(kwargs, message):
    args = {"start_lr": 1e-7, "end_lr": 10.0, "num_iter": 100, "mode": "exp", **kwargs}
    with pytest.raises(ValueError) as err:
        lr_sequence(**args)
    assert str(err.value) == message


# --------------------------------------------------------------------------- smoothing and divergence
def test_ema_with_bias_correction_hand_computed():
    # avg: 0.5, 1.75, 1.875; corrections 0.5, 0.75, 0.875
    np.testing.assert_allclose(ema_smooth([1.0, 3.0, 2.0], beta=0.5), [1.0, 1.75 / 0.75, 1.875 / 0.875], rtol=1e-15)
    np.testing.assert_array_equal(ema_smooth([4.0, 1.0], beta=0.0), [4.0, 1.0])
    assert ema_smooth([2.5], beta=0.98)[0] == pytest.approx(2.5, rel=1e-15)  # first value unbiased
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\); received beta=1.0"):
        ema_smooth([1.0], beta=1.0)


def test_divergence_stop_on_smoothed_loss():
    m = DivergenceMonitor(beta=0.0, diverge_th=2.0)
    assert [m.update(x) for x in (1.0, 0.5, 0.9)] == [None, None, None]
    assert m.best == 0.5
    assert m.update(1.01) == "diverged"  # 1.01 > 2 * 0.5


def test_divergence_uses_smoothing():
    # beta=0.5: smoothed 1.0, then (0.25 + 5*0.5)/0.75 = 3.6667 < 4 * 1.0 -> go on; then 10 -> diverge
    m = DivergenceMonitor(beta=0.5, diverge_th=4.0)
    assert m.update(1.0) is None
    assert m.update(5.0) is None
    assert m.smoothed == pytest.approx(2.75 / 0.75)
    assert m.update(10.0) == "diverged"  # (1.375 + 5) / 0.875 = 7.29 > 4


def test_divergence_stop_on_nan_and_inf():
    m = DivergenceMonitor()
    assert m.update(2.0) is None
    assert m.update(float("nan")) == "nan"
    assert DivergenceMonitor().update(float("inf")) == "nan"
    with pytest.raises(ValueError, match="diverge_th must be > 1; received diverge_th=1.0"):
        DivergenceMonitor(diverge_th=1.0)


# --------------------------------------------------------------------------- rules on hand-made curves
def test_steepest_uses_slope_per_log_lr():
    # lrs 1, 10, 20: raw differences -1 and -0.5 would pick index 0; per log LR the slopes are
    # -1/ln(10) = -0.434 and -0.5/ln(2) = -0.721, so index 1.
    s = steepest([1.0, 10.0, 20.0], [3.0, 2.0, 1.5])
    assert (s.rule, s.index, s.lr, s.loss) == ("steepest", 1, 10.0, 2.0)
    # geometric grid: slopes -1, -2, -0.5 per ln 2 -> index 1 (lr 2)
    assert steepest([1.0, 2.0, 4.0, 8.0], [5.0, 4.0, 2.0, 1.5]).lr == 2.0


def test_minimum_div10():
    s = minimum_div10([1e-3, 1e-2, 1e-1, 1.0], [3.0, 2.0, 1.0, 2.0])
    assert s.rule == "minimum/10" and s.index == 2
    assert s.lr == pytest.approx(0.01, rel=1e-12)
    assert s.loss == pytest.approx(2.0)  # the curve's loss at lr=0.01 (interpolated on log LR)


def test_valley_on_monotone_valley():
    # longest decreasing run: indexes 0..8 (length 9): start = 8 - 9 = -1, sections = 3, idx = -1 + 3 + 1 = 3
    lrs = np.geomspace(1e-5, 1, 10)
    s = valley(lrs, [9, 8, 7, 6, 5, 4, 3, 2, 1, 5])
    assert (s.rule, s.index, s.lr) == ("valley", 3, lrs[3])


def test_valley_is_a_decreasing_subsequence_not_a_contiguous_run():
    # 5, 4, 3, 2 (skipping the 1) is the longest decreasing subsequence: end=4, start=4-4=0,
    # sections=4/3 -> idx = 0 + 1 + 0 = 1
    assert valley([1, 2, 3, 4, 5, 6], [5, 1, 4, 3, 2, 6]).index == 1
    # two valleys: 9..3 (indexes 4..10, length 7) beats 5..2: start = 10 - 7 = 3, sections = 7/3,
    # idx = 3 + 2 + 1 = 6
    assert valley(np.geomspace(1e-4, 1, 12), [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 6]).index == 6


def _fastai_valley_reference(losses):
    """fastai's published loop, verbatim in structure (index before clamping)."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


@pytest.mark.parametrize("seed", range(8))
def test_valley_matches_fastai_loop(seed):
    rng = np.random.default_rng(seed)
    losses = np.round(2.3 - np.cumsum(rng.normal(0.02, 0.1, 60)), 2)  # noisy, with ties
    lrs = np.geomspace(1e-6, 1, 60)
    expected = max(_fastai_valley_reference(list(losses)), 0)
    assert valley(lrs, losses).index == expected


def test_slide_hand_computed():
    # gradients (np.gradient): idx19 3.0, 18 2.25, 17 1.2, 16 0.5, 15 -0.057, 14..9 -0.214;
    # windows (r, l) = (19,15), (18,14), (17,13), (16,12), (15,11) differ by > 0.01; (14,10) do not -> idx 11
    lrs = np.geomspace(1e-4, 1, 20)
    losses = np.r_[np.full(8, 2.0), np.linspace(2.0, 0.5, 8), [0.6, 1.5, 3.0, 6.0]]
    s = slide(lrs, losses, lr_diff=4, thresh=0.01)
    assert (s.rule, s.index, s.lr) == ("slide", 11, lrs[11])
    assert slide(lrs, losses, lr_diff=4, thresh=0.01, adjust_value=0.5).lr == pytest.approx(lrs[11] / 2)
    with pytest.raises(ValueError, match="slide needs at least lr_diff \\+ 1 = 16 points; received 10"):
        slide(lrs[:10], losses[:10])


def test_suggest_all_returns_every_rule_by_name_and_trims():
    lrs = lr_sequence(1e-5, 10.0, 60)
    x = np.log10(lrs)
    losses = 2.3 - 2.0 / (1 + np.exp(-3 * (x + 3))) + np.exp(2 * x)
    out = suggest_all(lrs, losses)
    assert [s.rule for s in out] == ["steepest", "minimum/10", "valley", "slide"]
    by = {s.rule: s for s in out}
    # grid: log10 lr_i = -5 + 6 i / 59. The sigmoid falls fastest at log10 lr = -3, between grid
    # points 19 (-3.068) and 20 (-2.966): forward differences pick index 19.
    assert by["steepest"].index == 19 and by["steepest"].lr == pytest.approx(10 ** (-5 + 6 * 19 / 59))
    # the curve's minimum is at log10 lr = -1.586 (numerically); nearest grid point 34 (-1.542)
    assert by["minimum/10"].index == 34
    assert by["minimum/10"].lr == pytest.approx(10 ** (-5 + 6 * 34 / 59) / 10)
    # the blow-up tail and the first tenth are skipped: a minimum placed there is ignored
    spiky = losses.copy()
    spiky[2] = -5.0
    spiky[-1] = -5.0
    assert {s.rule: s.index for s in suggest_all(lrs, spiky)}["minimum/10"] == 34
    assert {s.rule: s.index for s in suggest_all(lrs, spiky, skip_start=0, skip_end=0)}["minimum/10"] == 2


def test_suggest_all_leaves_out_rules_that_need_more_points():
    out = suggest_all(np.geomspace(1e-4, 1, 8), [3.0, 2.9, 2.5, 2.0, 1.2, 1.0, 1.5, 4.0], skip_start=0, skip_end=0)
    assert [s.rule for s in out] == ["steepest", "minimum/10", "valley"]
    with pytest.raises(ValueError, match="rule must be one of"):
        suggest_all([1, 2, 3], [3, 2, 1], rules=["best"])


def test_result_round_trip_and_val_suggestions():
    r = RangeTestResult(lrs=lr_sequence(1e-4, 1, 20), losses=np.linspace(3, 1, 20), beta=0.9,
                        val_steps=[4, 9, 14, 19], val_losses=[2.5, 2.0, 1.0, 4.0], params={"seed": 3},
                        stop_reason="diverged", label="wd=0")
    back = RangeTestResult.from_dict(r.to_dict())
    np.testing.assert_array_equal(back.lrs, r.lrs)
    np.testing.assert_array_equal(back.smoothed, r.smoothed)
    assert (back.stop_reason, back.params, back.label) == ("diverged", {"seed": 3}, "wd=0")
    val = {s.rule: s for s in r.suggestions(on="val", skip_start=0, skip_end=0)}
    assert val["minimum/10"].lr == pytest.approx(r.lrs[14] / 10)
    with pytest.raises(ValueError, match="on must be 'train' or 'val'; received on='test'"):
        r.suggestions(on="test")


def test_suggestions_read_a_curve_smoothed_without_lag():
    # A noise-free curve (a fall centred at 1e-3, then a blow-up): the rules on the raw losses are the truth.
    lrs = lr_sequence(1e-5, 10, 100)
    x = np.log10(lrs)
    losses = 2.3 - 2.0 / (1 + np.exp(-3 * (x + 3))) + np.exp(2 * x)
    truth = {s.rule: s.lr for s in suggest_all(lrs, losses)}
    ours = {s.rule: s.lr for s in RangeTestResult(lrs=lrs, losses=losses, beta=0.95).suggestions()}
    lagged = {s.rule: s.lr for s in suggest_all(lrs, ema_smooth(losses, 0.95))}  # fastai's one-way EMA
    for rule in ("steepest", "minimum/10"):
        assert 0.5 < ours[rule] / truth[rule] < 2, (rule, ours[rule], truth[rule])
        assert lagged[rule] / truth[rule] > 2.5, (rule, lagged[rule], truth[rule])


def test_job_configs_check_the_run_fields_before_anything_is_stored():
    (cfg,) = job_configs(dataset="spirals", model="mlp", seeds=[3], weight_decay=1e-4, num_iter=50)
    assert {k: cfg[k] for k in ("dataset", "model", "seed", "weight_decay")} == {
        "dataset": "spirals", "model": "mlp", "seed": 3, "weight_decay": 1e-4}
    assert cfg["lr_find"]["num_iter"] == 50
    with pytest.raises(ValueError, match=r"^model='cnn' needs images .* but dataset='spirals' gives vectors of shape \(2,\)"):
        job_configs(dataset="spirals", model="cnn")
    with pytest.raises(ValueError, match=r"^optimizer must be one of .*; received optimizer='lamb'$"):
        job_configs(optimizer="lamb")


def test_aggregate_curves_mean_and_band():
    lrs = [1e-3, 1e-2, 1e-1]
    a = RangeTestResult(lrs, [2.0, 1.0, 3.0], beta=0.0)
    b = RangeTestResult(lrs, [4.0, 2.0, 1.0], beta=0.0)
    c = RangeTestResult(lrs[:2], [3.0, 3.0], beta=0.0)  # stopped earlier: the band ends there
    band = aggregate_curves([a, b, c], label="wd=0")
    np.testing.assert_allclose(band.mean, [3.0, 2.0])
    np.testing.assert_allclose(band.low, [2.0, 1.0])
    np.testing.assert_allclose(band.high, [4.0, 3.0])
    np.testing.assert_allclose(band.std, [np.std([2, 4, 3]), np.std([1, 2, 3])])
    assert (band.n_curves, band.label) == (3, "wd=0")
    with pytest.raises(ValueError, match="same LR grid"):
        aggregate_curves([a, RangeTestResult([1e-3, 2e-2, 1e-1], [1, 1, 1])])


def test_rules_module_does_not_import_tensorflow():
    code = ("import superconv.lr_finder as f, sys; f.suggest_all([1e-3, 1e-2, 1e-1], [2, 1, 3]); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_figure_traces_band_markers_and_clipped_axis():
    from superconv.plots import trace_array
    from superconv.plots_lr import lr_finder_figure
    import json

    lrs = [1e-3, 1e-2, 1e-1, 1.0]
    a = RangeTestResult(lrs, [2.0, 1.0, 0.5, 50.0], beta=0.0, label="wd=0")
    b = RangeTestResult(lrs, [3.0, 2.0, 1.5, 80.0], beta=0.0, label="wd=0")
    c = RangeTestResult(lrs, [2.5, 2.4, 2.0, 9.0], beta=0.0, label="wd=1e-4")
    bands = [aggregate_curves([a, b], label="wd=0"), aggregate_curves([c], label="wd=1e-4")]
    sugg = bands[0].suggestions(skip_start=0, skip_end=0)
    fig = lr_finder_figure(bands, sugg, chosen_lr=0.05)
    spec = json.loads(fig.to_json())
    names = [t["name"] for t in spec["data"]]
    assert names == ["wd=0 high", "wd=0 band", "wd=0", "wd=1e-4", "steepest", "minimum/10", "valley"]
    data = {t["name"]: t for t in spec["data"]}
    np.testing.assert_allclose(trace_array(data["wd=0"]["y"]), [2.5, 1.5, 1.0, 65.0])
    np.testing.assert_allclose(trace_array(data["wd=0 band"]["y"]), [2.0, 1.0, 0.5, 50.0])
    assert data["wd=0 band"]["fill"] == "tonexty"
    assert trace_array(data["minimum/10"]["x"])[0] == pytest.approx(0.01)
    # labels carry 3 significant digits (as the table and the picker) and alternate around their markers
    by_lr = sorted(sugg, key=lambda s: s.lr)
    assert [data[s.rule]["text"] for s in sugg] == [[f"{s.rule} {s.lr:.3g}"] for s in sugg]
    assert [data[s.rule]["textposition"] for s in by_lr] == ["top right", "bottom center", "top left"]
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert spec["layout"]["shapes"][0]["x0"] == 0.05  # the chosen max_lr
    # y axis cut above the highest loss before the minimum (3.0), not at the blow-up (80)
    lo, hi = spec["layout"]["yaxis"]["range"]
    assert lo < 0.5 and 3.0 < hi < 5.0


def test_page_and_cli_modules_do_not_import_tensorflow():
    import ast

    tree = ast.parse((ROOT / "views" / "lr_finder.py").read_text())
    modules = sorted({n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                      and n.module.startswith("superconv")})
    assert "superconv.jobs" in modules and "superconv.plots_lr" in modules
    code = (f"import {', '.join(modules)}, superconv.commands.lr_find, sys; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("call, message", [
    (lambda: steepest([1e-3, 1e-2, 1e-1], [1.0, float("nan"), 0.5]), "steepest needs finite losses; received losses[1]=nan"),
    (lambda: valley([1e-3, 1e-2, 1e-1], [1.0, 0.8, float("inf")]), "valley needs finite losses; received losses[2]=inf"),
    (lambda: minimum_div10([1e-3, 1e-3, 1e-2], [1.0, 2.0, 0.5]), "minimum/10 needs strictly increasing lrs"),
    (lambda: slide(np.geomspace(1e-4, 1, 20), np.linspace(2, 1, 20), lr_diff=4, adjust_value=-1),
     "adjust_value must be a finite number > 0; received adjust_value=-1"),
    (lambda: slide(np.geomspace(1e-4, 1, 20), np.linspace(2, 1, 20), lr_diff=4, thresh=float("nan")),
     "thresh must be a finite number >= 0; received thresh=nan"),
    (lambda: suggest_all(np.geomspace(1e-4, 1, 20), np.linspace(2, 1, 20), rules="steepest"),
     "rules must be a list of rule names from"),
    (lambda: curve_beta(float("nan")), "num_iter must be an integer >= 0; received num_iter=nan"),
])
def test_rules_refuse_input_they_cannot_read(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_job_configs_refuses_a_seed_count_and_too_many_curves():
    with pytest.raises(ValueError, match=r"^seeds must be a list of seeds, e\.g\. \[0, 1, 2\]; received seeds=3$"):
        job_configs(seeds=3)
    with pytest.raises(ValueError, match=r"at most 64 curves .* received 10 seed\(s\) x 7 value\(s\) = 70$"):
        job_configs(seeds=list(range(10)), sweep_over="weight_decay", values=[0.0, 1e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3])
