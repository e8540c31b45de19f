"""OneCycle equals PyTorch's OneCycleLR step for step (needs torch; CI installs the CPU wheel)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from superconv import CyclicLR, OneCycle

torch = pytest.importorskip("torch", reason="PyTorch is the reference here; install the CPU wheel to run this")


def torch_curves(scheduler_factory, total_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """LR and momentum PyTorch applies at each optimizer step 0..total_steps-1."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    sched = scheduler_factory(opt)
    lrs, moms = [], []
    for _ in range(total_steps):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    return np.array(lrs), np.array(moms)


@pytest.mark.parametrize(
    "total_steps, pct_start, anneal, three_phase",
    list(itertools.product([10, 101, 1000], [0.25, 0.3, 0.45], ["cos", "linear"], [False, True])),
)
def test_onecycle_matches_torch_onecyclelr(total_steps, pct_start, anneal, three_phase):
    kw = dict(max_lr=0.4, pct_start=pct_start, div_factor=13.0, final_div_factor=250.0,
              three_phase=three_phase, base_momentum=0.8, max_momentum=0.93)
    ours = OneCycle(total_steps=total_steps, anneal=anneal, **kw)
    lr, mom = torch_curves(
        lambda opt: torch.optim.lr_scheduler.OneCycleLR(opt, total_steps=total_steps, anneal_strategy=anneal, **kw),
        total_steps,
    )
    steps = np.arange(total_steps)
    np.testing.assert_allclose(ours.lr(steps), lr, rtol=1e-9, atol=0)
    np.testing.assert_allclose(ours.momentum(steps), mom, rtol=1e-9, atol=0)


def test_cyclic_matches_torch_cycliclr_triangular():
    ours = CyclicLR(base_lr=0.01, max_lr=0.2, total_steps=95, step_size=7, base_momentum=0.8, max_momentum=0.9)
    lr, mom = torch_curves(
        lambda opt: torch.optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.2, step_size_up=7,
                                                      mode="triangular", base_momentum=0.8, max_momentum=0.9),
        95,
    )
    steps = np.arange(95)
    np.testing.assert_allclose(ours.lr(steps), lr, rtol=1e-9)
    np.testing.assert_allclose(ours.momentum(steps), mom, rtol=1e-9)
