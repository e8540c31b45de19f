"""Property-based: valid parameters give finite curves inside their bounds; invalid ones raise ValueError."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from superconv import CyclicLR, OneCycle, schedule_from_dict

finite_lr = st.floats(min_value=1e-6, max_value=10.0, allow_nan=False)
divs = st.floats(min_value=1.0, max_value=1e5, allow_nan=False)
moms = st.floats(min_value=0.0, max_value=0.999, allow_nan=False)


@st.composite
def onecycle_kwargs(draw):
    total = draw(st.integers(min_value=2, max_value=5000))
    three = draw(st.booleans())
    pct = draw(st.floats(min_value=0.01, max_value=0.99, allow_nan=False))
    assume(pct * total - 1 > 0)
    if three:
        assume(2 * pct * total - 2 < total - 1)
    m1, m2 = sorted([draw(moms), draw(moms)])
    return dict(max_lr=draw(finite_lr), total_steps=total, pct_start=pct, div_factor=draw(divs),
                final_div_factor=draw(divs), anneal=draw(st.sampled_from(["cos", "linear"])), three_phase=three,
                base_momentum=m1, max_momentum=m2)


@settings(max_examples=300, deadline=None)
@given(onecycle_kwargs())
def test_valid_onecycle_is_finite_and_bounded(kwargs):
    s = OneCycle(**kwargs)
    _, lr, mom = s.curves()
    assert np.all(np.isfinite(lr)) and np.all(np.isfinite(mom))
    tol = 1e-12 * s.max_lr
    assert lr.min() >= s.min_lr - tol and lr.max() <= s.max_lr + tol
    assert mom.min() >= s.base_momentum - 1e-12 and mom.max() <= s.max_momentum + 1e-12
    assert lr[0] == pytest.approx(s.initial_lr, rel=1e-9)
    assert schedule_from_dict(s.to_dict()) == s


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=2, max_value=5000), finite_lr, st.floats(0.01, 0.99), moms)
def test_valid_fastai_is_finite_and_bounded(total, lr_max, pct, mom):
    assume(pct * total >= 1 and total - math.ceil(pct * total) >= 1)  # a warm-up step and an anneal step
    s = OneCycle.fastai(lr_max, total, pct_start=pct, moms=(0.95, min(mom, 0.95), 0.95))
    _, lr, m = s.curves()
    assert np.all(np.isfinite(lr)) and lr.max() <= lr_max * (1 + 1e-12) and lr.min() >= s.min_lr * (1 - 1e-12)
    assert np.all((m >= s.base_momentum - 1e-12) & (m <= 0.95 + 1e-12))


bad_numbers = st.one_of(
    st.just(float("nan")), st.just(float("inf")), st.just(float("-inf")),
    st.floats(max_value=0.0, allow_nan=False), st.text(max_size=5), st.none(), st.lists(st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["max_lr", "pct_start", "div_factor", "final_div_factor", "base_momentum", "total_steps"]),
       bad_numbers)
def test_invalid_onecycle_values_raise_value_error_naming_the_field(field, value):
    kwargs = dict(max_lr=0.1, total_steps=1000, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                  base_momentum=0.85, max_momentum=0.95)
    kwargs[field] = value
    if field in ("div_factor", "final_div_factor") and isinstance(value, float) and math.isfinite(value):
        assume(value < 1)
    if field == "base_momentum" and isinstance(value, float) and math.isfinite(value):
        assume(value < 0)
    with pytest.raises(ValueError) as err:
        OneCycle(**kwargs)
    assert f"{field}=" in str(err.value)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 2000), finite_lr, finite_lr, st.integers(1, 500))
def test_cyclic_stays_between_its_bounds(total, a, b, step_size):
    lo, hi = sorted([a, b])
    _, lr, _ = CyclicLR(base_lr=lo, max_lr=hi, total_steps=total, step_size=step_size).curves()
    assert np.all(lr >= lo * (1 - 1e-12)) and np.all(lr <= hi * (1 + 1e-12))
