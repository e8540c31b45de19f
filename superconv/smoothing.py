"""Pure numpy helpers for loss curves: a bias-corrected EMA, its zero-lag variant, and decimation.

Per-batch losses are noisy (the noise is part of the story: a large learning rate regularizes by
adding it). :func:`ema` draws the trend through them the way fastai and pytorch-lr-finder do: an
exponential moving average divided by ``1 - beta**(t+1)`` so the first points are not pulled
towards zero. :func:`zero_lag_ema` runs it forward and back, so the smoothed curve does not trail
the data (the LR finder reads its suggestions off it). :func:`decimate` keeps long curves to a few
thousand points per trace for charts.

Example:
    >>> ema([1.0, 1.0, 1.0], beta=0.9).tolist()
    [1.0, 1.0, 1.0]
    >>> decimate(10, 4).tolist()
    [0, 3, 6, 9]
"""

from __future__ import annotations

from typing import Any

import numpy as np


def ema(values: Any, beta: float = 0.98) -> np.ndarray:
    """Exponential moving average with bias correction.

    ``avg_t = beta * avg_(t-1) + (1 - beta) * x_t`` from ``avg_(-1) = 0``, returned as
    ``avg_t / (1 - beta**(t+1))``. Non-finite values (a diverged batch) are skipped: the average
    carries over and the output there is NaN, so a chart shows a gap instead of a spike to infinity.

    Args:
        values: 1-D sequence of floats (e.g. per-batch losses in step order).
        beta: Smoothing factor in [0, 1). 0 returns the values unchanged; 0.98 averages
            roughly the last 50 points.

    Returns:
        float64 array of the same length.

    Raises:
        ValueError: if ``beta`` is outside [0, 1) or ``values`` is not 1-D.

    Example:
        >>> ema([2.0, 4.0], beta=0.5).tolist()   # (0.5*2)/(1-0.5)=2 ; (0.5*1+0.5*4)/(1-0.25)=10/3
        [2.0, 3.3333333333333335]
        >>> ema([1.0, float("nan"), 3.0], beta=0.0).tolist()
        [1.0, nan, 3.0]
    """
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta must be a number in [0, 1); received beta={beta!r}") from None
    if not 0.0 <= b < 1.0:
        raise ValueError(f"beta must be in [0, 1); received beta={beta!r}")
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"values must be 1-D; received an array of shape {x.shape}")
    out = np.full(x.shape, np.nan)
    avg = 0.0
    weight = 1.0  # beta ** (number of finite points seen)
    for i, v in enumerate(x.tolist()):
        if not np.isfinite(v):
            continue
        avg = b * avg + (1.0 - b) * v
        weight *= b
        out[i] = avg / (1.0 - weight)
    return out


def zero_lag_ema(values: Any, beta: float = 0.95) -> np.ndarray:
    """Forward-backward EMA: :func:`ema` over the values, then :func:`ema` over that result in reverse.

    A one-way EMA trails its data by about ``beta / (1 - beta)`` points (19 at 0.95). On a range
    test's exponential LR sweep that moves every feature of the loss curve, its steepest fall and
    its minimum, to a higher LR. Running the same filter backwards over the result cancels the lag
    (a zero-phase filter, like scipy's ``filtfilt``); the curve is smoothed twice. Needs the whole
    curve, so it is for reading a finished (or growing) curve, not for an online stop rule.

    Args:
        values: 1-D sequence of floats; non-finite values stay gaps (NaN), as in :func:`ema`.
        beta: Smoothing factor in [0, 1); 0 returns the values unchanged.

    Returns:
        float64 array of the same length.

    Example:
        >>> zero_lag_ema([1.0, 3.0], beta=0.5).round(4).tolist()  # forward [1, 7/3]; back: (7/6 + 1/2) / 0.75
        [1.4444, 2.3333]
        >>> bump = [0.0, 0.0, 0.0, 1.0, 2.0, 1.0, 0.0, 0.0, 0.0]
        >>> int(np.argmax(ema(bump, 0.8))), int(np.argmax(zero_lag_ema(bump, 0.8)))  # the peak stays at 4
        (5, 4)
    """
    forward = ema(values, beta)
    return ema(forward[::-1], beta)[::-1].copy()


def decimate(n: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spaced points out of ``n``, always keeping the last.

    Args:
        n: Length of the curve.
        max_points: Budget (>= 2).

    Returns:
        Increasing int64 indices; ``arange(n)`` when ``n <= max_points``.

    Example:
        >>> decimate(5, 10).tolist()
        [0, 1, 2, 3, 4]
        >>> decimate(1001, 3).tolist()
        [0, 500, 1000]
    """
    if not isinstance(max_points, (int, np.integer)) or max_points < 2:
        raise ValueError(f"max_points must be an integer >= 2; received max_points={max_points!r}")
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))
