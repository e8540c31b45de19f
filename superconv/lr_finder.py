"""LR range test ("LR finder"): the sweep, the smoothing, the suggestion rules, and :class:`LRFinder`.

The range test trains for ``num_iter`` batches while the learning rate grows from ``start_lr``
to ``end_lr`` (exponentially or linearly) and records the loss of every batch. A good maximum
LR for 1cycle sits where the loss still falls fast, before it blows up (Smith, arXiv 1803.09820).

No single rule reads that point off the curve reliably, so this module computes several and
returns them all, each with its name:

* ``steepest``: the LR where the smoothed loss falls fastest per decade of LR,
* ``minimum/10``: a tenth of the LR at the lowest smoothed loss,
* ``valley``: fastai's rule (longest decreasing stretch of the smoothed loss, a point inside it),
* ``slide``: fastai's interval slide rule.

The rules read a curve smoothed forward and backward (:func:`superconv.smoothing.zero_lag_ema` at
:func:`curve_beta`): the one-way EMA of fastai and pytorch-lr-finder trails the losses by about
``beta / (1 - beta)`` batches, which on an exponential sweep puts every rule's LR several times
too high (``benchmarks/lr_finder_lag.py`` measures it).

Everything here is numpy (plus the run-config check); :class:`LRFinder` imports TensorFlow lazily
(the training loop lives in :mod:`superconv.lr_range_test`), so the dashboard can import the rules
without TF.

Example:
    >>> lrs = lr_sequence(1e-4, 1.0, num_iter=5)
    >>> [float(f"{x:.0e}") for x in lrs]
    [0.0001, 0.001, 0.01, 0.1, 1.0]
    >>> losses = np.array([2.3, 2.2, 1.6, 0.9, 0.7, 4.0])
    >>> [s.rule for s in suggest_all(np.geomspace(1e-4, 10, 6), losses, skip_start=0, skip_end=0)]
    ['steepest', 'minimum/10', 'valley']
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from superconv.config import load_run_config
from superconv.smoothing import ema, zero_lag_ema

__all__ = [
    "MODES",
    "RULES",
    "CurveBand",
    "DivergenceMonitor",
    "LRFinder",
    "RangeTestResult",
    "Suggestion",
    "aggregate_curves",
    "curve_beta",
    "ema_smooth",
    "job_configs",
    "lr_sequence",
    "minimum_div10",
    "result_from_rows",
    "slide",
    "steepest",
    "suggest_all",
    "valley",
]

MODES = ("exp", "linear")
MIN_CURVE_POINTS = 10
"""Fewest points of a curve the suggestion rules are read on (with fewer they read noise); the page
and the CLI offer no suggestion for a shorter curve."""


# --------------------------------------------------------------------------- validation
def _positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0; received {name}={value!r}")
    return float(value)


def _int_at_least(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; received {name}={value!r}")
    return int(value)


def _check_beta(beta: Any) -> float:
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1); received beta={beta!r}")
    return float(beta)


def _curve(lrs: Any, losses: Any) -> tuple[np.ndarray, np.ndarray]:
    lrs = np.asarray(lrs, dtype=np.float64).ravel()
    losses = np.asarray(losses, dtype=np.float64).ravel()
    if lrs.shape != losses.shape:
        raise ValueError(f"lrs and losses must have the same length; received {lrs.size} and {losses.size}")
    if lrs.size and (not np.all(np.isfinite(lrs)) or np.any(lrs <= 0)):
        raise ValueError(f"lrs must be finite and > 0; received lrs={lrs[:5].tolist()}{' ...' if lrs.size > 5 else ''}")
    return lrs, losses


def _rule_curve(rule: str, lrs: Any, losses: Any) -> tuple[np.ndarray, np.ndarray]:
    """The curve a rule reads: finite losses and strictly increasing LRs (``suggest_all`` skips the rest)."""
    lrs, losses = _curve(lrs, losses)
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        raise ValueError(f"{rule} needs finite losses; received losses[{bad[0]}]={float(losses[bad[0]])!r}")
    if lrs.size > 1 and np.any(np.diff(lrs) <= 0):
        raise ValueError(f"{rule} needs strictly increasing lrs; received lrs={lrs[:5].tolist()}"
                         f"{' ...' if lrs.size > 5 else ''}")
    return lrs, losses


# --------------------------------------------------------------------------- the sweep
def lr_sequence(start_lr: float, end_lr: float, num_iter: int, mode: str = "exp") -> np.ndarray:
    """The learning rate of each of the ``num_iter`` batches of a range test.

    ``exp``: ``lr_i = start_lr * (end_lr / start_lr) ** (i / (num_iter - 1))`` (evenly spaced on a
    log axis); ``linear``: ``lr_i = start_lr + (end_lr - start_lr) * i / (num_iter - 1)``. The first
    batch uses ``start_lr`` and the last ``end_lr``.

    Args:
        start_lr: LR of the first batch (> 0).
        end_lr: LR of the last batch (> start_lr).
        num_iter: Number of batches (>= 2).
        mode: ``"exp"`` or ``"linear"``.

    Returns:
        float64 array of length ``num_iter``.

    Raises:
        ValueError: naming the argument: ``start_lr``/``end_lr`` not finite and > 0, ``end_lr`` not above
            ``start_lr`` (``end_lr must be > start_lr=...; received end_lr=...``), ``num_iter`` below 2,
            an unknown ``mode``, or an ``exp`` sweep spanning too many decades for a float.

    Example:
        >>> lr_sequence(0.1, 0.5, 5, mode="linear").round(12).tolist()
        [0.1, 0.2, 0.3, 0.4, 0.5]
        >>> lr_sequence(1.0, 0.1, 10)
        Traceback (most recent call last):
        ...
        ValueError: end_lr must be > start_lr=1.0; received end_lr=0.1
    """
    start = _positive_float("start_lr", start_lr)
    end = _positive_float("end_lr", end_lr)
    if end <= start:
        raise ValueError(f"end_lr must be > start_lr={start!r}; received end_lr={end_lr!r}")
    n = _int_at_least("num_iter", num_iter, 2)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {list(MODES)}; received mode={mode!r}")
    frac = np.arange(n, dtype=np.float64) / (n - 1)
    with np.errstate(over="ignore"):
        if mode == "exp":
            lrs = start * (end / start) ** frac
        else:
            lrs = start + (end - start) * frac
    if not np.all(np.isfinite(lrs)):  # e.g. end_lr / start_lr overflows a float
        raise ValueError(f"start_lr and end_lr span too many decades for a float: received start_lr={start_lr!r}, "
                         f"end_lr={end_lr!r}")
    lrs[0], lrs[-1] = start, end
    return lrs


def curve_beta(num_iter: int) -> float:
    """EMA factor of the forward-backward smoothing of a range-test curve of ``num_iter`` batches.

    Each pass gets a time constant of 5% of the sweep (``1 / (1 - beta) = num_iter / 20``), so the
    smoothing spans the same stretch of LR decades whatever the number of batches: 0.3 decades
    each way on the default sweep from 1e-5 to 10. ``benchmarks/lr_finder_lag.py`` measures it
    against a one-way EMA; curves shorter than 20 batches are not smoothed.

    Args:
        num_iter: Batches in the sweep (an integer >= 0).

    Returns:
        ``1 - 20 / num_iter``, or 0.0 (no smoothing) for ``num_iter <= 20``.

    Raises:
        ValueError: ``num_iter must be an integer >= 0; received num_iter=...``.

    Example:
        >>> [round(curve_beta(n), 3) for n in (10, 100, 300, 1000)]
        [0.0, 0.8, 0.933, 0.98]
    """
    tau = _int_at_least("num_iter", num_iter, 0) / 20
    return 0.0 if tau <= 1 else 1.0 - 1.0 / tau


def ema_smooth(losses: Any, beta: float = 0.95) -> np.ndarray:
    """Exponential moving average with bias correction: ``avg_i / (1 - beta ** (i + 1))``.

    ``avg_i = beta * avg_(i-1) + (1 - beta) * loss_i`` with ``avg_(-1) = 0``; the correction makes
    the first value equal the first loss. ``beta=0`` returns the losses unchanged. The range test
    never records a non-finite loss; :func:`superconv.smoothing.ema` (which this calls) leaves a
    gap at one rather than poisoning the rest of the curve.

    Args:
        losses: Losses in batch order (any array-like; flattened).
        beta: EMA factor in [0, 1).

    Returns:
        float64 array of the smoothed losses, as long as ``losses``.

    Raises:
        ValueError: ``beta must be in [0, 1); received beta=...``.

    Example:
        >>> ema_smooth([1.0, 3.0], beta=0.5).tolist()  # avg: 0.5, 1.75 -> /0.5, /0.75
        [1.0, 2.3333333333333335]
    """
    return ema(np.asarray(losses, dtype=np.float64).ravel(), _check_beta(beta))


class DivergenceMonitor:
    """Streams raw losses; says when the range test must stop.

    Stops on a non-finite loss (``"nan"``) or when the smoothed loss exceeds ``diverge_th``
    times the best smoothed loss so far (``"diverged"``), as pytorch-lr-finder does.

    Args:
        beta: EMA factor of the bias-corrected smoothing (as :func:`ema_smooth`), in [0, 1).
        diverge_th: Divergence threshold, a multiple of the best smoothed loss (> 1).

    Attributes:
        smoothed: The smoothed loss after the last finite loss (None before any).
        best: The lowest smoothed loss so far (inf before any).

    Raises:
        ValueError: ``beta must be in [0, 1); ...`` or ``diverge_th must be > 1; received diverge_th=...``.

    Example:
        >>> m = DivergenceMonitor(beta=0.0, diverge_th=2.0)
        >>> [m.update(x) for x in (1.0, 0.5, 0.9, 1.1)]
        [None, None, None, 'diverged']
    """

    def __init__(self, beta: float = 0.95, diverge_th: float = 5.0):
        self.beta = _check_beta(beta)
        self.diverge_th = _positive_float("diverge_th", diverge_th)
        if self.diverge_th <= 1:
            raise ValueError(f"diverge_th must be > 1; received diverge_th={diverge_th!r}")
        self._avg = 0.0
        self._n = 0
        self.best = math.inf
        self.smoothed: float | None = None

    def update(self, loss: float) -> str | None:
        """Feed one batch loss; return ``"nan"``, ``"diverged"`` or None (go on).

        A non-finite loss changes no state. The first loss never counts as diverged; the smoothed
        loss that diverges is not taken into :attr:`best`.

        Args:
            loss: The raw loss of the batch just trained.

        Returns:
            ``"nan"`` for a non-finite loss, ``"diverged"`` when the smoothed loss exceeds
            ``diverge_th * best``, else None.

        Example:
            >>> m = DivergenceMonitor(beta=0.5, diverge_th=2.0)
            >>> m.update(1.0), m.update(float("inf")), m.smoothed, m.best
            (None, 'nan', 1.0, 1.0)
        """
        loss = float(loss)
        if not math.isfinite(loss):
            return "nan"
        self._n += 1
        self._avg = self.beta * self._avg + (1.0 - self.beta) * loss
        self.smoothed = self._avg / (1.0 - self.beta**self._n)
        if self._n > 1 and self.smoothed > self.diverge_th * self.best:
            return "diverged"
        self.best = min(self.best, self.smoothed)
        return None


# --------------------------------------------------------------------------- suggestion rules
@dataclasses.dataclass(frozen=True)
class Suggestion:
    """One rule's answer: the suggested LR, the curve point it came from, and why.

    ``index`` is the position on the curve the rule picked (for ``minimum/10`` the minimum itself);
    ``loss`` is the curve's loss at ``lr`` (interpolated on log LR), for placing a marker.
    """

    rule: str
    lr: float
    index: int
    loss: float
    description: str

    def to_dict(self) -> dict[str, Any]:
        """The suggestion as a JSON-ready dict of its fields.

        Example:
            >>> Suggestion("steepest", 0.01, 1, 1.9, "fastest fall").to_dict()
            {'rule': 'steepest', 'lr': 0.01, 'index': 1, 'loss': 1.9, 'description': 'fastest fall'}
        """
        return dataclasses.asdict(self)


def _loss_at(lrs: np.ndarray, losses: np.ndarray, lr: float) -> float:
    return float(np.interp(np.log10(lr), np.log10(lrs), losses))


def steepest(lrs: Any, losses: Any) -> Suggestion:
    """LR where the (smoothed) loss falls fastest per unit of log LR.

    Forward differences ``(loss[i+1] - loss[i]) / (log lr[i+1] - log lr[i])`` (fastai's
    ``steep``); the suggestion is ``lrs[i]`` at the most negative slope.

    Args:
        lrs: Strictly increasing LRs (> 0), one per point.
        losses: Finite (smoothed) losses, as many as ``lrs``.

    Returns:
        A :class:`Suggestion` with rule ``"steepest"``; ``index`` is ``i``, the left end of the steepest segment.

    Raises:
        ValueError: ``steepest needs at least 2 points; received ...``, ``steepest needs finite losses;
            ...``, ``steepest needs strictly increasing lrs; ...``, or lengths that differ.

    Example:
        >>> steepest([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.9, 1.0, 3.0]).lr
        0.01
        >>> steepest([1e-3], [2.0])
        Traceback (most recent call last):
        ...
        ValueError: steepest needs at least 2 points; received 1
    """
    lrs, losses = _rule_curve("steepest", lrs, losses)
    if lrs.size < 2:
        raise ValueError(f"steepest needs at least 2 points; received {lrs.size}")
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    i = int(np.argmin(slopes))
    return Suggestion("steepest", float(lrs[i]), i, float(losses[i]),
                      "largest loss decrease per decade of LR")


def minimum_div10(lrs: Any, losses: Any) -> Suggestion:
    """A tenth of the LR at the lowest (smoothed) loss (fastai's ``minimum``).

    Args:
        lrs: Strictly increasing LRs (> 0), one per point.
        losses: Finite (smoothed) losses, as many as ``lrs``.

    Returns:
        A :class:`Suggestion` with rule ``"minimum/10"``; ``index`` is the minimum's position and
        ``loss`` the curve's loss at the suggested LR (the first loss when it lies left of the curve).

    Raises:
        ValueError: ``minimum/10 needs at least 1 point; received 0``, non-finite losses, LRs that do
            not increase, or lengths that differ (naming the rule).

    Example:
        >>> s = minimum_div10([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.5, 1.0, 3.0])
        >>> round(s.lr, 6), s.index
        (0.01, 2)
    """
    lrs, losses = _rule_curve("minimum/10", lrs, losses)
    if lrs.size < 1:
        raise ValueError("minimum/10 needs at least 1 point; received 0")
    i = int(np.argmin(losses))
    lr = float(lrs[i]) / 10.0
    return Suggestion("minimum/10", lr, i, _loss_at(lrs, losses, lr) if lrs.size > 1 else float(losses[i]),
                      "one tenth of the LR at the loss minimum")


def valley(lrs: Any, losses: Any) -> Suggestion:
    """fastai's ``valley`` rule on the (smoothed) loss.

    The valley is the longest strictly decreasing subsequence of the losses (found with fastai's
    O(n^2) dynamic programme, ties resolved as fastai does); with ``start = end - length`` and
    ``sections = (end - start) / 3`` the suggestion is ``lrs[start + int(sections) + int(sections / 2)]``,
    about half-way into the valley. (fastai clamps nothing; here an index before 0 becomes 0.)

    Args:
        lrs: Strictly increasing LRs (> 0), one per point.
        losses: Finite (smoothed) losses, as many as ``lrs``.

    Returns:
        A :class:`Suggestion` with rule ``"valley"`` at the chosen point.

    Raises:
        ValueError: ``valley needs at least 1 point; received 0``, non-finite losses
            (``valley needs finite losses; received losses[i]=...``), LRs that do not increase, or
            lengths that differ.

    Example:
        >>> valley(np.geomspace(1e-5, 1, 10), [9, 8, 7, 6, 5, 4, 3, 2, 1, 5]).index
        3
    """
    lrs, losses = _rule_curve("valley", lrs, losses)
    n = losses.size
    if n < 1:
        raise ValueError("valley needs at least 1 point; received 0")
    lds = np.ones(n, dtype=np.int64)
    max_start, max_end = 0, 0
    for i in range(1, n):
        cand = np.where(losses[i] < losses[:i], lds[:i] + 1, 1)
        lds[i] = cand.max()
        if lds[i] > lds[max_end]:
            # lds[i] can exceed the best so far only by one, so fastai's in-loop update sees its final value.
            max_end, max_start = i, i - int(lds[i])
    sections = (max_end - max_start) / 3
    idx = min(max(max_start + int(sections) + int(sections / 2), 0), n - 1)
    return Suggestion("valley", float(lrs[idx]), idx, float(losses[idx]),
                      "inside the longest decreasing stretch of the loss (fastai's default)")


def slide(lrs: Any, losses: Any, lr_diff: int = 15, thresh: float = 0.005, adjust_value: float = 1.0) -> Suggestion:
    """fastai's interval slide rule.

    Slides a window of ``lr_diff`` points from the right end of the curve towards smaller LRs until
    the loss gradients (``np.gradient`` per point) at its two ends differ by at most ``thresh``; the
    suggestion is the LR at the left end of the last window that had not settled (times
    ``adjust_value``). ``thresh`` is in loss units per point, as in fastai.

    Args:
        lrs: Strictly increasing LRs (> 0), one per point.
        losses: Finite (smoothed) losses, as many as ``lrs``.
        lr_diff: Window width in points (an integer >= 1).
        thresh: Largest gradient difference (>= 0) at which the window counts as settled.
        adjust_value: Factor (> 0) applied to the LR found.

    Returns:
        A :class:`Suggestion` with rule ``"slide"``; ``index`` is the window's left end and ``loss``
        the curve's loss at the (adjusted) LR.

    Raises:
        ValueError: ``slide needs at least lr_diff + 1 = ... points; received ...``, a bad ``lr_diff``,
            ``thresh`` or ``adjust_value`` (naming it), non-finite losses or LRs that do not increase.

    Example:
        >>> lrs = np.geomspace(1e-4, 1, 20)
        >>> losses = np.r_[np.full(8, 2.0), np.linspace(2.0, 0.5, 8), [0.6, 1.5, 3.0, 6.0]]
        >>> slide(lrs, losses, lr_diff=4, thresh=0.01).index
        11
    """
    lrs, losses = _rule_curve("slide", lrs, losses)
    lr_diff = _int_at_least("lr_diff", lr_diff, 1)
    if not (isinstance(thresh, (int, float)) and math.isfinite(thresh) and thresh >= 0):
        raise ValueError(f"thresh must be a finite number >= 0; received thresh={thresh!r}")
    if not (isinstance(adjust_value, (int, float)) and math.isfinite(adjust_value) and adjust_value > 0):
        raise ValueError(f"adjust_value must be a finite number > 0; received adjust_value={adjust_value!r}")
    n = losses.size
    if n < lr_diff + 1:
        raise ValueError(f"slide needs at least lr_diff + 1 = {lr_diff + 1} points; received {n}")
    grad = np.gradient(losses)
    r_idx = -1
    l_idx = r_idx - lr_diff
    local = l_idx
    while l_idx >= -n and abs(grad[r_idx] - grad[l_idx]) > thresh:
        local = l_idx
        r_idx -= 1
        l_idx -= 1
    idx = n + local
    lr = float(lrs[idx]) * float(adjust_value)
    return Suggestion("slide", lr, idx, _loss_at(lrs, losses, lr),
                      "where the loss gradient settles, sliding a window down from the blow-up (fastai)")


RULES: dict[str, Callable[..., Suggestion]] = {
    "steepest": steepest,
    "minimum/10": minimum_div10,
    "valley": valley,
    "slide": slide,
}


def suggest_all(lrs: Any, losses: Any, *, skip_start: int | None = None, skip_end: int = 5,
                rules: Iterable[str] | None = None) -> list[Suggestion]:
    """Apply every rule to a (smoothed) curve; rules that need more points than there are are left out.

    As in fastai and pytorch-lr-finder the first ``skip_start`` points (default: a tenth of the
    curve) and the last ``skip_end`` points (default 5: the blow-up) are ignored. Indexes in the
    returned suggestions refer to the full curve. When fewer than 2 points would be left, the whole
    curve is used; when the points left hold a non-finite loss, no rule is applied.

    Args:
        lrs: LRs of the curve (finite, > 0), one per point.
        losses: The (smoothed) losses, as many as ``lrs``.
        skip_start: Points ignored at the start (integer >= 0); None: ``len(lrs) // 10``.
        skip_end: Points ignored at the end (integer >= 0).
        rules: Names from :data:`RULES`, in the order wanted; None: all of them.

    Returns:
        One :class:`Suggestion` per rule that could be applied, in the order of ``rules``.

    Raises:
        ValueError: ``rules must be a list of rule names from [...]; received rules='...'`` for a bare
            string, ``rule must be one of [...]; received rule=...`` for an unknown name, a bad
            ``skip_start``/``skip_end``, or ``lrs``/``losses`` of different lengths or non-positive LRs.

    Example:
        >>> lrs = lr_sequence(1e-5, 10, 60)
        >>> x = np.log10(lrs)  # a falling sigmoid centred at 1e-3, then a blow-up
        >>> losses = 2.3 - 2.0 / (1 + np.exp(-3 * (x + 3))) + np.exp(2 * x)
        >>> {s.rule: f"{s.lr:.1e}" for s in suggest_all(lrs, losses)}
        {'steepest': '8.6e-04', 'minimum/10': '2.9e-03', 'valley': '6.8e-04', 'slide': '2.1e-04'}
    """
    lrs, losses = _curve(lrs, losses)
    n = lrs.size
    start = n // 10 if skip_start is None else _int_at_least("skip_start", skip_start, 0)
    skip_end = _int_at_least("skip_end", skip_end, 0)
    stop = n - skip_end
    if stop - start < 2:
        start, stop = 0, n
    seg_lrs, seg_losses = lrs[start:stop], losses[start:stop]
    if isinstance(rules, str):  # a single name would be read letter by letter
        raise ValueError(f"rules must be a list of rule names from {list(RULES)}; received rules={rules!r}")
    names = list(RULES) if rules is None else list(rules)
    out = []
    for name in names:
        if name not in RULES:
            raise ValueError(f"rule must be one of {list(RULES)}; received rule={name!r}")
        if not np.all(np.isfinite(seg_losses)):
            continue
        try:
            s = RULES[name](seg_lrs, seg_losses)
        except ValueError:
            continue
        out.append(dataclasses.replace(s, index=s.index + start))
    return out


# --------------------------------------------------------------------------- results
@dataclasses.dataclass
class RangeTestResult:
    """The record of one range test (raw losses; zero-lag smoothing applied on read).

    Attributes:
        lrs: LR used for each completed batch.
        losses: Raw loss of each batch (the loss the step was computed on).
        stop_reason: ``"completed"``, ``"diverged"`` (smoothed loss > diverge_th x best),
            ``"nan"`` (non-finite loss, not recorded) or ``"cancelled"``.
        beta: EMA factor of the online stop rule; 0 also leaves :attr:`smoothed` raw.
        val_steps / val_losses: Validation loss after the given batches (Smith's variant), if asked.
        params: What produced the curve (start_lr, end_lr, num_iter, mode, seed, weight_decay, ...).
        seconds: Wall time of the sweep.
        label: Name of the curve in a comparison (e.g. ``"weight_decay=0.0005"``).

    Raises:
        ValueError: ``lrs and losses must have the same length; ...``, ``lrs must be finite and > 0; ...``
            or ``beta must be in [0, 1); ...``.

    Example:
        >>> r = RangeTestResult(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.0, 4.0], beta=0.0)
        >>> r.smoothed.tolist(), RangeTestResult.from_dict(r.to_dict()).losses.tolist()
        ([2.0, 1.0, 4.0], [2.0, 1.0, 4.0])
    """

    lrs: Any
    losses: Any
    stop_reason: str = "completed"
    beta: float = 0.95
    val_steps: Any = ()
    val_losses: Any = ()
    params: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    label: str = ""

    def __post_init__(self) -> None:
        self.lrs, self.losses = _curve(self.lrs, self.losses)
        self.val_steps = np.asarray(self.val_steps, dtype=np.int64).ravel()
        self.val_losses = np.asarray(self.val_losses, dtype=np.float64).ravel()
        self.beta = _check_beta(self.beta)

    @property
    def smoothed(self) -> np.ndarray:
        """The losses smoothed without lag: :func:`superconv.smoothing.zero_lag_ema` at
        :func:`curve_beta` of the planned sweep length (``params["num_iter"]``, else the batches
        done), so a growing curve keeps one smoothing. ``beta=0`` returns the raw losses. (The
        stop rule, which must run while the test does, uses the one-way EMA with :attr:`beta`.)

        Example:
            >>> r = RangeTestResult(lrs=np.geomspace(1e-4, 1, 40), losses=np.linspace(2.0, 1.0, 40))
            >>> r.smoothed.shape, bool(r.smoothed[0] < r.losses[0])  # the backward pass pulls the start down
            ((40,), True)
        """
        if self.beta == 0:
            return self.losses.copy()
        return zero_lag_ema(self.losses, curve_beta(int(self.params.get("num_iter") or self.num_iter_done)))

    @property
    def num_iter_done(self) -> int:
        """Batches recorded: fewer than the planned ``num_iter`` when the test stopped early.

        Example:
            >>> RangeTestResult(lrs=[1e-3, 1e-2], losses=[2.0, 9.0], stop_reason="diverged").num_iter_done
            2
        """
        return int(self.lrs.size)

    def suggestions(self, *, on: str = "train", skip_start: int | None = None, skip_end: int = 5) -> list[Suggestion]:
        """Every rule's suggestion on the smoothed training loss (``on="train"``) or on the
        validation losses (``on="val"``, Smith's variant; no smoothing).

        Args:
            on: ``"train"`` or ``"val"``.
            skip_start, skip_end: Points ignored at each end (see :func:`suggest_all`).

        Returns:
            The suggestions of :func:`suggest_all`; ``[]`` for ``on="val"`` when no validation loss was recorded.

        Raises:
            ValueError: ``on must be 'train' or 'val'; received on=...``, or as :func:`suggest_all`.

        Example:
            >>> r = RangeTestResult(lrs=[1e-3, 1e-2, 1e-1], losses=[2.0, 1.0, 4.0], beta=0.0)
            >>> [(s.rule, s.lr) for s in r.suggestions(skip_start=0, skip_end=0)]
            [('steepest', 0.001), ('minimum/10', 0.001), ('valley', 0.001)]
            >>> r.suggestions(on="val")
            []
        """
        if on == "train":
            return suggest_all(self.lrs, self.smoothed, skip_start=skip_start, skip_end=skip_end)
        if on == "val":
            if self.val_steps.size == 0:
                return []
            return suggest_all(self.lrs[self.val_steps], self.val_losses, skip_start=skip_start, skip_end=skip_end)
        raise ValueError(f"on must be 'train' or 'val'; received on={on!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field (arrays as lists); :meth:`from_dict` reads it back.

        Example:
            >>> d = RangeTestResult(lrs=[1e-3, 1e-2], losses=[2.0, 1.0], beta=0.0).to_dict()
            >>> list(d)
            ['lrs', 'losses', 'stop_reason', 'beta', 'val_steps', 'val_losses', 'params', 'seconds', 'label']
            >>> d["lrs"], d["val_steps"], d["stop_reason"]
            ([0.001, 0.01], [], 'completed')
        """
        return {
            "lrs": self.lrs.tolist(), "losses": self.losses.tolist(), "stop_reason": self.stop_reason,
            "beta": self.beta, "val_steps": self.val_steps.tolist(), "val_losses": self.val_losses.tolist(),
            "params": dict(self.params), "seconds": float(self.seconds), "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RangeTestResult":
        """Rebuild a result from :meth:`to_dict` output.

        Args:
            data: Keyword arguments of the constructor (``lrs`` and ``losses`` required).

        Returns:
            A new :class:`RangeTestResult`.

        Raises:
            ValueError: as the constructor; an unknown key raises TypeError.

        Example:
            >>> r = RangeTestResult.from_dict({"lrs": [1e-3, 1e-2], "losses": [2.0, 1.0], "label": "a"})
            >>> r.losses.tolist(), r.label, r.beta
            ([2.0, 1.0], 'a', 0.95)
        """
        return cls(**data)


@dataclasses.dataclass
class CurveBand:
    """Mean and spread of several smoothed curves on the same LR grid (repeats over seeds)."""

    lrs: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_curves: int
    label: str = ""

    def suggestions(self, **kwargs: Any) -> list[Suggestion]:
        """Every rule applied to the mean curve.

        Args:
            **kwargs: Passed to :func:`suggest_all` (``skip_start``, ``skip_end``, ``rules``).

        Returns:
            The suggestions on :attr:`mean`.

        Example:
            >>> a = RangeTestResult([1e-3, 1e-2, 1e-1], [2.0, 1.0, 3.0], beta=0.0)
            >>> b = RangeTestResult([1e-3, 1e-2, 1e-1], [4.0, 2.0, 5.0], beta=0.0)
            >>> [(s.rule, s.index) for s in aggregate_curves([a, b]).suggestions(skip_start=0, skip_end=0)]
            [('steepest', 0), ('minimum/10', 1), ('valley', 0)]
        """
        return suggest_all(self.lrs, self.mean, **kwargs)


def aggregate_curves(results: Sequence[RangeTestResult], label: str = "") -> CurveBand:
    """Mean, std, min and max of the smoothed losses of several range tests.

    The curves must share their LR grid; they are cut to the shortest one (a repeat that
    diverged earlier ends the band there).

    Args:
        results: One or more range tests on the same LR grid.
        label: Name of the band (e.g. the swept value).

    Returns:
        A :class:`CurveBand` over the first ``min(num_iter_done)`` LRs: ``mean``, ``std`` (population),
        ``low``/``high`` (min/max) of the smoothed curves, and ``n_curves``.

    Raises:
        ValueError: ``aggregate_curves needs at least one result; received 0`` or
            ``aggregate_curves needs results on the same LR grid``.

    Example:
        >>> a = RangeTestResult([1e-3, 1e-2, 1e-1], [2.0, 1.0, 3.0], beta=0.0)
        >>> b = RangeTestResult([1e-3, 1e-2], [4.0, 2.0], beta=0.0)
        >>> band = aggregate_curves([a, b])
        >>> band.mean.tolist(), band.low.tolist(), band.n_curves
        ([3.0, 1.5], [2.0, 1.0], 2)
    """
    if not results:
        raise ValueError("aggregate_curves needs at least one result; received 0")
    n = min(r.num_iter_done for r in results)
    lrs = results[0].lrs[:n]
    for r in results[1:]:
        if not np.allclose(r.lrs[:n], lrs, rtol=1e-12, atol=0):
            raise ValueError("aggregate_curves needs results on the same LR grid")
    curves = np.stack([r.smoothed[:n] for r in results]) if n else np.empty((len(results), 0))
    return CurveBand(lrs=lrs, mean=curves.mean(axis=0), std=curves.std(axis=0),
                     low=curves.min(axis=0), high=curves.max(axis=0), n_curves=len(results), label=label)


# --------------------------------------------------------------------------- the finder
class LRFinder:
    """LR range test on a Keras model (the shape of pytorch-lr-finder's ``LRFinder``).

    Three verbs: :meth:`range_test` runs the sweep (and restores the model and optimizer
    weights bit-for-bit afterwards unless ``restore=False``), :meth:`suggestions` /
    :attr:`result` give the rules' answers and the curve to plot, :meth:`reset` restores the
    state saved when the finder was built.

    Args:
        model: A built or unbuilt ``keras.Model`` (uncompiled is fine).
        optimizer: A Keras optimizer with a plain float learning rate, or a name
            (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``).
        loss: A Keras loss (name, instance or callable ``loss(y_true, y_pred)``); by default
            sparse categorical cross-entropy on logits.
        momentum: SGD/RMSprop momentum or Adam ``beta_1`` when ``optimizer`` is a name (held
            constant during the test, as Smith recommends).
        weight_decay: Weight decay when ``optimizer`` is a name (use the training run's value).
        jit_compile: XLA-compile the train step.

    Raises:
        ValueError: ``model must be a keras.Model; ...``, ``optimizer must be a name or a keras optimizer;
            ...``, or ``optimizer must have a float learning rate (the range test sets it per batch); ...``
            for an optimizer built with a learning-rate schedule.

    Example (TensorFlow, not run here)::

        finder = LRFinder(model, "sgd", weight_decay=5e-4)
        result = finder.range_test((x, y), batch_size=64, start_lr=1e-5, end_lr=10, num_iter=100)
        for s in finder.suggestions():
            print(s.rule, s.lr)
    """

    def __init__(self, model: Any, optimizer: Any = "sgd", loss: Any = None, *, momentum: float = 0.9,
                 weight_decay: float = 0.0, jit_compile: bool = False):
        from superconv import lr_range_test

        self._engine = lr_range_test.RangeTestEngine(model, optimizer, loss, momentum=momentum,
                                                     weight_decay=weight_decay, jit_compile=jit_compile)
        # An unbuilt model is snapshotted right after it is built on the first batch.
        self._initial_state = self._engine.snapshot()
        self.result: RangeTestResult | None = None

    @property
    def model(self) -> Any:
        """The ``keras.Model`` under test (the one passed in, trained in place during a test)."""
        return self._engine.model

    @property
    def optimizer(self) -> Any:
        """The Keras optimizer the test trains with (built from the name when a name was given)."""
        return self._engine.optimizer

    def range_test(self, train_data: Any, val_data: Any = None, *, start_lr: float = 1e-7, end_lr: float = 10.0,
                   num_iter: int = 100, mode: str = "exp", beta: float = 0.95, diverge_th: float = 5.0,
                   val_every: int | None = None, batch_size: int | None = None, seed: int = 0,
                   restore: bool = True, on_step: Callable[[int, float, float], None] | None = None,
                   should_stop: Callable[[], bool] | None = None) -> RangeTestResult:
        """Run the sweep and return its :class:`RangeTestResult` (also kept in :attr:`result`).

        Args:
            train_data: ``(x, y)`` numpy arrays (batched with ``batch_size``, shuffled with ``seed``)
                or any iterable of ``(x, y)`` batches such as a ``tf.data.Dataset`` (re-iterated when
                exhausted).
            val_data: Optional validation data, same forms; with ``val_every=k`` the mean validation
                loss is computed after every k-th batch (Smith's variant).
            start_lr, end_lr, num_iter, mode: The sweep (see :func:`lr_sequence`); one batch per LR.
            beta: EMA factor of the stop rule's smoothing (bias-corrected, see :class:`DivergenceMonitor`).
            diverge_th: Stop when the smoothed loss exceeds ``diverge_th`` x the best so far (> 1).
            val_every: Compute the validation loss after every ``val_every``-th batch (needs ``val_data``);
                None: no validation.
            batch_size: Batch size for numpy ``train_data`` (required there; the last partial batch of
                each pass is dropped); numpy ``val_data`` is cut in batches of ``max(batch_size, 256)``.
            seed: Shuffling seed for numpy ``train_data``.
            restore: Put the model and optimizer variables back as they were before the test.
            on_step: Called as ``on_step(i, lr, loss)`` after every recorded batch (``i`` from 0).
            should_stop: Polled before every batch; True cancels the test (``stop_reason="cancelled"``).

        Returns:
            The :class:`RangeTestResult`: the LRs and raw losses of the batches done, ``stop_reason``
            (``"completed"``, ``"diverged"``, ``"nan"`` or ``"cancelled"``), the validation losses if asked,
            and ``params`` holding ``start_lr``, ``end_lr``, ``num_iter``, ``mode``, ``diverge_th``, ``seed``.

        Raises:
            ValueError: for a bad sweep (as :func:`lr_sequence`), ``beta`` or ``diverge_th`` (as
                :class:`DivergenceMonitor`), ``val_every`` not an integer >= 1, ``val_every needs val_data;
                received val_data=None``, ``batch_size is required with numpy train data; received
                batch_size=None``, or ``train_data yielded no batches``.
        """
        lrs = lr_sequence(start_lr, end_lr, num_iter, mode)
        if val_every is not None:
            val_every = _int_at_least("val_every", val_every, 1)
            if val_data is None:
                raise ValueError("val_every needs val_data; received val_data=None")
        monitor = DivergenceMonitor(beta, diverge_th)
        engine = self._engine
        batches = engine.batches(train_data, batch_size, seed)
        first = next(batches)
        engine.build(first[0])
        if self._initial_state is None:
            self._initial_state = engine.snapshot()
        val_batches = engine.val_batch_list(val_data, batch_size or 256) if val_every is not None else None
        before = engine.snapshot() if restore else None

        def chained():
            yield first
            yield from batches

        try:
            result = engine.sweep(lrs, chained(), val_batches, monitor=monitor, val_every=val_every,
                                  on_step=on_step, should_stop=should_stop)
        finally:
            if before is not None:
                self._engine.restore(before)
        result.params.update(start_lr=float(start_lr), end_lr=float(end_lr), num_iter=int(num_iter), mode=mode,
                             diverge_th=float(diverge_th), seed=int(seed))
        self.result = result
        return result

    def suggestions(self, *, on: str = "train", skip_start: int | None = None, skip_end: int = 5) -> list[Suggestion]:
        """Every rule's suggestion for the last :meth:`range_test` (see :func:`suggest_all`).

        Args:
            on: ``"train"`` (smoothed training loss) or ``"val"`` (validation losses, Smith's variant).
            skip_start, skip_end: Points ignored at each end (see :func:`suggest_all`).

        Returns:
            The suggestions, as :meth:`RangeTestResult.suggestions` gives them.

        Raises:
            ValueError: ``no range test has run yet; call range_test() first``, or as
                :meth:`RangeTestResult.suggestions`.
        """
        if self.result is None:
            raise ValueError("no range test has run yet; call range_test() first")
        return self.result.suggestions(on=on, skip_start=skip_start, skip_end=skip_end)

    def plot_data(self) -> dict[str, list[float]]:
        """The last curve as plain lists: ``lr``, ``loss`` (raw), ``smoothed``.

        Returns:
            ``{"lr": [...], "loss": [...], "smoothed": [...]}``, one value per batch done
            (``smoothed`` as :attr:`RangeTestResult.smoothed`).

        Raises:
            ValueError: ``no range test has run yet; call range_test() first``.
        """
        if self.result is None:
            raise ValueError("no range test has run yet; call range_test() first")
        return {"lr": self.result.lrs.tolist(), "loss": self.result.losses.tolist(),
                "smoothed": self.result.smoothed.tolist()}

    def reset(self) -> None:
        """Restore the model and optimizer variables saved when the finder was created.

        For a model that was unbuilt then, the state saved when the first :meth:`range_test` built it;
        before that, this does nothing. Use it after ``range_test(..., restore=False)``.
        """
        self._engine.restore(self._initial_state)


# --------------------------------------------------------------------------- background jobs
MAX_CURVES = 64
"""Most curves one range test may ask for (:func:`sweep_plan`): each trains a model."""


def sweep_plan(seeds: Sequence[int], sweep_over: str | None,
               values: Sequence[Any]) -> tuple[list[int], list[tuple[str, dict[str, Any]]]]:
    """The seeds and curve groups of a range-test sweep, checked (shared by :func:`job_configs` and the
    in-process ``superconv.lr_range_test.run_sweep``).

    Args:
        seeds: One curve per distinct seed in each group.
        sweep_over: ``"weight_decay"``, ``"batch_size"`` or None.
        values: The swept parameter's values (one group each).

    Returns:
        ``(seeds without repeats, [(label, override), ...])``; without a sweep a single ``("", {})``.

    Raises:
        ValueError: ``seeds`` not a non-empty list, an unknown ``sweep_over``, no ``values`` to sweep, or
            more than :data:`MAX_CURVES` curves.

    Example:
        >>> sweep_plan([0, 1, 0], "weight_decay", [0.0, 5e-4])
        ([0, 1], [('weight_decay=0', {'weight_decay': 0.0}), ('weight_decay=0.0005', {'weight_decay': 0.0005})])
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise ValueError(f"seeds must be a list of seeds, e.g. [0, 1, 2]; received seeds={seeds!r}")
    if not seeds:
        raise ValueError("seeds must hold at least one seed; received seeds=[]")
    seed_list = list(dict.fromkeys(int(s) for s in seeds))
    curves = len(seed_list) * (len(values) if sweep_over else 1)
    if curves > MAX_CURVES:  # each curve trains a model
        raise ValueError(f"a range test may have at most {MAX_CURVES} curves (seeds x swept values); received "
                         f"{len(seed_list)} seed(s) x {len(values) if sweep_over else 1} value(s) = {curves}")
    if sweep_over not in (None, "weight_decay", "batch_size"):
        raise ValueError(f"sweep_over must be 'weight_decay', 'batch_size' or None; received sweep_over={sweep_over!r}")
    if sweep_over and not values:
        raise ValueError(f"values must list at least one {sweep_over}; received values=[]")
    groups = [(f"{sweep_over}={v:g}", {sweep_over: v}) for v in values] if sweep_over else [("", {})]
    return seed_list, groups


def job_configs(*, seeds: Sequence[int] = (0,), sweep_over: str | None = None, values: Sequence[Any] = (),
                dataset: str = "digits", model: str = "cnn", optimizer: str = "sgd", batch_size: int = 64,
                weight_decay: float = 0.0, momentum: float = 0.9, start_lr: float = 1e-5, end_lr: float = 10.0,
                num_iter: int = 100, mode: str = "exp", beta: float = 0.95, diverge_th: float = 5.0,
                csv_path: str | None = None, max_samples: int | None = None) -> list[dict[str, Any]]:
    """One job config per curve (seed x swept value) for the worker's ``lr_find`` job kind.

    The run fields (dataset, model, optimizer, batch_size, weight_decay, seed) sit at the top level
    like a training run's; the sweep's own settings under ``"lr_find"``, with the curve's ``label``.
    Every run's fields, swept values included, are checked as a training run's are before anything
    is returned.

    Args:
        seeds: Seeds to repeat each curve with (duplicates are dropped; at least one).
        sweep_over: ``"weight_decay"``, ``"batch_size"`` or None (one curve per seed).
        values: The swept values (at least one when ``sweep_over`` is set).
        dataset, model, optimizer, batch_size, weight_decay, csv_path: The run fields, as in a training
            run's config (a swept field's value replaces its default).
        momentum: SGD/RMSprop momentum or Adam ``beta_1``, held constant during the test.
        start_lr, end_lr, num_iter, mode: The sweep (see :func:`lr_sequence`).
        beta, diverge_th: The stop rule (see :class:`DivergenceMonitor`).
        max_samples: Cap on the dataset's samples, as in :func:`superconv.data.load_dataset` (None: all).

    Returns:
        One config dict per curve, ordered by swept value then seed; ``label`` is ``"<field>=<value>"``
        (``"%g"`` formatted) or ``""`` without a sweep.

    Raises:
        ValueError: for a bad sweep (as :func:`lr_sequence`) or ``beta``, ``seeds must hold at least one
            seed; received seeds=[]``, ``batch_size`` below 1, ``sweep_over must be 'weight_decay',
            'batch_size' or None; ...``, ``values must list at least one ...; received values=[]``, or a
            run field a training run's config refuses (as :func:`superconv.config.load_run_config`).

    Example:
        >>> cfgs = job_configs(seeds=[0, 1], sweep_over="weight_decay", values=[0.0, 5e-4], num_iter=50)
        >>> [(c["seed"], c["weight_decay"], c["lr_find"]["label"]) for c in cfgs]
        [(0, 0.0, 'weight_decay=0'), (1, 0.0, 'weight_decay=0'), (0, 0.0005, 'weight_decay=0.0005'), (1, 0.0005, 'weight_decay=0.0005')]
    """
    lr_sequence(start_lr, end_lr, num_iter, mode)
    _check_beta(beta)
    seed_list, groups = sweep_plan(seeds, sweep_over, values)
    _int_at_least("batch_size", batch_size, 1)
    out = []
    for label, override in groups:
        for seed in seed_list:
            run = {"dataset": dataset, "model": model, "optimizer": optimizer, "batch_size": int(batch_size),
                   "weight_decay": float(weight_decay), "seed": seed, "csv_path": csv_path}
            run.update({k: (int(v) if k == "batch_size" else float(v)) for k, v in override.items()})
            # the run fields as a training run checks them (ranges, names, a CNN on vectors, model size),
            # swept values included, before anything is stored
            load_run_config({k: v for k, v in run.items() if v is not None})
            run["lr_find"] = {"start_lr": float(start_lr), "end_lr": float(end_lr), "num_iter": int(num_iter),
                              "mode": mode, "beta": float(beta), "diverge_th": float(diverge_th),
                              "momentum": float(momentum), "max_samples": max_samples, "label": label}
            out.append(run)
    return out


def result_from_rows(config: dict[str, Any], lrs: Any, losses: Any, stop_reason: str = "") -> RangeTestResult:
    """Rebuild a :class:`RangeTestResult` from a stored ``lr_find`` job (its config and batch rows).

    Args:
        config: The job's config (as :func:`job_configs` made it).
        lrs: The LR of each stored batch.
        losses: The raw loss of each stored batch.
        stop_reason: The reason the test stopped; ``""`` gives ``"completed"``.

    Returns:
        The result, with ``beta`` and ``label`` from ``config["lr_find"]`` (``beta`` 0.95 if absent) and
        ``params`` holding the run fields (dataset, model, optimizer, batch_size, weight_decay, seed; None
        where missing) and the ``lr_find`` settings but the label.

    Raises:
        ValueError: as :class:`RangeTestResult` (lengths that differ, non-positive LRs, a bad beta).

    Example:
        >>> cfg = {"dataset": "digits", "seed": 1, "lr_find": {"beta": 0.0, "num_iter": 3, "label": "seed 1"}}
        >>> r = result_from_rows(cfg, [1e-3, 1e-2], [2.0, 1.5], stop_reason="cancelled")
        >>> r.stop_reason, r.label, r.params["seed"], r.params["num_iter"], r.smoothed.tolist()
        ('cancelled', 'seed 1', 1, 3, [2.0, 1.5])
    """
    lf = config.get("lr_find", {})
    params = {k: config.get(k) for k in ("dataset", "model", "optimizer", "batch_size", "weight_decay", "seed")}
    params.update({k: v for k, v in lf.items() if k != "label"})
    return RangeTestResult(lrs=lrs, losses=losses, beta=lf.get("beta", 0.95), stop_reason=stop_reason or "completed",
                           params=params, label=lf.get("label", ""))
