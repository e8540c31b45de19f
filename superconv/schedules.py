"""Learning-rate and momentum schedules in pure numpy (no TensorFlow).

Every schedule is an immutable value object with the same interface:

* ``lr(steps)`` and ``momentum(steps)``: float64 arrays for integer steps in
  ``[0, total_steps)`` (stepping past the end raises instead of extrapolating),
* ``phase_boundaries()``: the steps where a phase ends (for plot markers),
* ``to_dict()`` / :func:`schedule_from_dict`: a JSON round trip.

``OneCycle`` follows PyTorch's ``OneCycleLR`` exactly (``convention="pytorch"``)
or fastai's ``fit_one_cycle`` (``convention="fastai"``, built with
:meth:`OneCycle.fastai`). The baselines (``Constant``, ``StepDecay``,
``CyclicLR``) are the schedules Smith & Topin compare against.

Example:
    >>> import numpy as np
    >>> s = OneCycle(max_lr=0.1, total_steps=100)
    >>> round(float(s.lr(0)), 12)  # max_lr / div_factor
    0.004
    >>> round(float(s.lr(29)), 6), round(float(s.momentum(29)), 6)  # the peak
    (0.1, 0.85)
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
from typing import Any, ClassVar, Sequence

import numpy as np

__all__ = [
    "Schedule",
    "OneCycle",
    "Constant",
    "StepDecay",
    "CyclicLR",
    "schedule_from_dict",
    "steps_per_epoch",
    "total_steps_for",
    "SCHEDULE_KINDS",
]


# --------------------------------------------------------------------------- validation helpers
def _check_int(name: str, value: Any, minimum: int) -> int:
    """Return ``value`` as int or raise ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}; received {name}={value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; received {name}={value!r}")
    return int(value)


def _check_float(name: str, value: Any) -> float:
    """Return ``value`` as a finite float or raise ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite number; received {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; received {name}={value!r}")
    return value


def _check_positive(name: str, value: Any) -> float:
    value = _check_float(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0; received {name}={value!r}")
    return value


def _check_at_least_one(name: str, value: Any) -> float:
    value = _check_float(name, value)
    if value < 1:
        raise ValueError(f"{name} must be >= 1; received {name}={value!r}")
    return value


def _check_momentum(name: str, value: Any) -> float:
    value = _check_float(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1); received {name}={value!r}")
    return value


def _check_momentum_range(base: float, peak: float) -> None:
    if base > peak:
        raise ValueError(
            f"base_momentum must be <= max_momentum; received base_momentum={base!r}, max_momentum={peak!r}"
        )


def _check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; received {name}={value!r}")
    return value


def _as_steps(steps: Any, total_steps: int) -> np.ndarray:
    """Validate a step index or array of indices against ``[0, total_steps)``."""
    arr = np.asarray(steps)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.floor(arr)):
            if arr.size and (arr.min() < 0 or arr.max() >= total_steps):  # before a cast that could overflow
                bad = float(arr.min()) if arr.min() < 0 else float(arr.max())
                raise ValueError(f"steps must be in [0, total_steps) = [0, {total_steps}); received step {bad:g}")
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"steps must be integers; received steps with dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= total_steps):
        bad = int(arr.min()) if arr.min() < 0 else int(arr.max())
        raise ValueError(
            f"steps must be in [0, total_steps) = [0, {total_steps}); received step {bad}. "
            "Compute total_steps with superconv.total_steps_for(...) so the schedule covers every batch."
        )
    return arr.astype(np.float64)


def _fastai_split(total_steps: int, pct_start: float) -> int:
    """First anneal step of a fastai cycle: the smallest ``t`` with ``t / total_steps >= pct_start``.

    The same float comparison the LR uses (``ceil(pct_start * total_steps)`` is off by one when the
    product rounds up, e.g. ``0.07 * 100 = 7.000000000000001``).
    """
    t = math.ceil(pct_start * total_steps)
    while t > 0 and (t - 1) / total_steps >= pct_start:
        t -= 1
    while t / total_steps < pct_start:
        t += 1
    return t


# --------------------------------------------------------------------------- annealing
def _anneal_cos(start: float, end: float, pct: np.ndarray) -> np.ndarray:
    """Cosine from ``start`` (pct=0) to ``end`` (pct=1), PyTorch's ``_annealing_cos``."""
    return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1.0)


def _anneal_linear(start: float, end: float, pct: np.ndarray) -> np.ndarray:
    """Straight line from ``start`` (pct=0) to ``end`` (pct=1)."""
    return (end - start) * pct + start


_ANNEAL = {"cos": _anneal_cos, "linear": _anneal_linear}


# --------------------------------------------------------------------------- base class
class Schedule:
    """Interface shared by every schedule (see the module docstring)."""

    kind: ClassVar[str] = ""
    total_steps: int

    def lr(self, steps: Any) -> np.ndarray:  # pragma: no cover - abstract
        """Learning rate applied at optimizer step(s) ``steps`` (step 0 is the first batch).

        Args:
            steps: An integer step or an array-like of them, each in ``[0, total_steps)``; floats
                with integer values are accepted.

        Returns:
            float64 array shaped like ``steps`` (0-d for a scalar step).

        Raises:
            ValueError: ``steps must be in [0, total_steps) = [0, N); received step S. Compute
                total_steps with superconv.total_steps_for(...) so the schedule covers every batch.``
                for a step outside the schedule, or ``steps must be integers; received steps with
                dtype ...`` for fractional steps.

        Example:
            >>> s = Constant(lr=0.05, total_steps=10)
            >>> s.lr([0, 9.0]).tolist(), s.lr(3).shape
            ([0.05, 0.05], ())
            >>> s.lr(10)
            Traceback (most recent call last):
            ...
            ValueError: steps must be in [0, total_steps) = [0, 10); received step 10. Compute total_steps ...
        """
        raise NotImplementedError

    def momentum(self, steps: Any) -> np.ndarray:  # pragma: no cover - abstract
        """Momentum (SGD/RMSprop ``momentum``, Adam ``beta_1``) applied at optimizer step(s) ``steps``.

        Args:
            steps: An integer step or an array-like of them, each in ``[0, total_steps)``.

        Returns:
            float64 array shaped like ``steps`` (0-d for a scalar step).

        Raises:
            ValueError: for a step outside ``[0, total_steps)`` or a fractional step, as :meth:`lr`.

        Example:
            >>> Constant(lr=0.05, total_steps=10, momentum=0.8).momentum([0, 9]).tolist()
            [0.8, 0.8]
        """
        raise NotImplementedError

    def phase_boundaries(self) -> list[int]:
        """Steps at which a phase ends (empty for a single-phase schedule).

        Returns:
            The last step of each phase but the final one, increasing (for plot markers).

        Example:
            >>> Constant(lr=0.05, total_steps=10).phase_boundaries()
            []
        """
        return []

    def curves(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(steps, lr, momentum)`` over the whole schedule.

        Returns:
            ``steps`` is ``0 .. total_steps - 1`` (int), ``lr`` and ``momentum`` the float64 values there.

        Example:
            >>> steps, lr, momentum = Constant(lr=0.05, total_steps=3).curves()
            >>> steps.tolist(), lr.tolist(), momentum.tolist()
            ([0, 1, 2], [0.05, 0.05, 0.05], [0.9, 0.9, 0.9])
        """
        steps = np.arange(self.total_steps)
        return steps, self.lr(steps), self.momentum(steps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with a ``kind`` key; inverse of :func:`schedule_from_dict`.

        This base version lists every dataclass field (tuples as lists); ``Constant`` and
        ``StepDecay`` override it to use their constructor's argument names.

        Returns:
            ``{"kind": ..., <field>: <value>, ...}``.

        Example:
            >>> d = CyclicLR(base_lr=0.01, max_lr=0.1, total_steps=40, step_size=10).to_dict()
            >>> list(d)
            ['kind', 'base_lr', 'max_lr', 'total_steps', 'step_size', 'base_momentum', 'max_momentum']
            >>> d["kind"], d["step_size"]
            ('cyclic', 10)
        """
        data = {"kind": self.kind}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            data[field.name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Schedule":
        """Build a schedule from ``to_dict`` output: same as :func:`schedule_from_dict`.

        The class built is the one named by ``data["kind"]``, whichever class this is called on.

        Args:
            data: A schedule's ``to_dict()`` output.

        Returns:
            The rebuilt schedule.

        Raises:
            ValueError: as :func:`schedule_from_dict`.

        Example:
            >>> Schedule.from_dict({"kind": "constant", "lr": 0.05, "total_steps": 10})
            Constant(lr_value=0.05, total_steps=10, momentum_value=0.9)
        """
        return schedule_from_dict(data)

    def with_total_steps(self, total_steps: int) -> "Schedule":
        """Return a copy covering ``total_steps`` steps (same shape, rescaled).

        The other settings are kept, so phases given as fractions of the run (``pct_start``,
        ``boundaries``) scale with it; ``CyclicLR``'s ``step_size`` is in steps and stays as it is.

        Args:
            total_steps: Optimizer steps (batches) the copy covers.

        Returns:
            A new schedule of the same class.

        Raises:
            ValueError: when the new length does not fit the settings, with the constructor's message
                (e.g. a ``total_steps`` below 2 or a warm-up of no step).

        Example:
            >>> OneCycle(max_lr=0.1, total_steps=100).with_total_steps(200).phase_boundaries()
            [59]
            >>> OneCycle(max_lr=0.1, total_steps=100).with_total_steps(3)
            Traceback (most recent call last):
            ...
            ValueError: pct_start * total_steps must be > 1 so the warm-up has at least one step; received ...
        """
        return dataclasses.replace(self, total_steps=total_steps)  # type: ignore[type-var]


# --------------------------------------------------------------------------- 1cycle
@dataclasses.dataclass(frozen=True)
class OneCycle(Schedule):
    """The 1cycle policy: warm up to ``max_lr``, then anneal far below the start.

    With ``convention="pytorch"`` (the default) values equal PyTorch's
    ``torch.optim.lr_scheduler.OneCycleLR`` step for step:

    * start ``initial_lr = max_lr / div_factor``; end ``min_lr = initial_lr / final_div_factor``;
    * two phases: ``initial -> max`` ending at step ``pct_start*N - 1``, then ``max -> min`` ending at ``N - 1``;
    * ``three_phase=True``: ``initial -> max -> initial`` (symmetric) then ``initial -> min``;
      momentum ``max -> base -> max`` then flat (Smith's original is ``anneal="linear"``);
    * momentum moves opposite to the LR between ``max_momentum`` and ``base_momentum``.

    With ``convention="fastai"`` (see :meth:`OneCycle.fastai`) the position is ``step / N``
    and the phase split is at ``pct_start`` of it, as in fastai's ``combined_cos``.

    Args:
        max_lr: Peak learning rate.
        total_steps: Number of optimizer steps (batches) the schedule covers, >= 2.
        pct_start: Fraction of the steps spent warming up, in (0, 1).
        div_factor: ``initial_lr = max_lr / div_factor`` (>= 1).
        final_div_factor: ``min_lr = initial_lr / final_div_factor`` (>= 1).
        anneal: ``"cos"`` or ``"linear"``.
        three_phase: Use the symmetric warm-up/cool-down plus annihilation tail.
        base_momentum: Momentum (or Adam ``beta_1``) at the LR peak.
        max_momentum: Momentum at the start and the end.
        convention: ``"pytorch"`` or ``"fastai"``.

    Raises:
        ValueError: naming the argument, for a value out of range or a choice not offered, and for
            settings that leave a phase without steps (``pct_start * total_steps must be > 1 so the
            warm-up has at least one step; ...``).

    Example:
        >>> s = OneCycle(max_lr=1.0, total_steps=11, pct_start=0.5, anneal="linear")
        >>> s.lr([0, 2, 4]).round(4).tolist()   # 0.04 -> 1.0 linearly over steps 0..4.5
        [0.04, 0.4667, 0.8933]
        >>> s.phase_boundaries()
        [4]
    """

    kind: ClassVar[str] = "onecycle"

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    anneal: str = "cos"
    three_phase: bool = False
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    convention: str = "pytorch"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "max_lr", _check_positive("max_lr", self.max_lr))
        set_(self, "total_steps", _check_int("total_steps", self.total_steps, 2))
        pct = _check_float("pct_start", self.pct_start)
        if not 0.0 < pct < 1.0:
            raise ValueError(f"pct_start must be in (0, 1); received pct_start={pct!r}")
        set_(self, "pct_start", pct)
        set_(self, "div_factor", _check_at_least_one("div_factor", self.div_factor))
        set_(self, "final_div_factor", _check_at_least_one("final_div_factor", self.final_div_factor))
        _check_choice("anneal", self.anneal, tuple(_ANNEAL))
        _check_choice("convention", self.convention, ("pytorch", "fastai"))
        if not isinstance(self.three_phase, (bool, np.bool_)):
            raise ValueError(f"three_phase must be True or False; received three_phase={self.three_phase!r}")
        set_(self, "three_phase", bool(self.three_phase))
        set_(self, "base_momentum", _check_momentum("base_momentum", self.base_momentum))
        set_(self, "max_momentum", _check_momentum("max_momentum", self.max_momentum))
        _check_momentum_range(self.base_momentum, self.max_momentum)
        if self.convention == "fastai" and self.three_phase:
            raise ValueError("three_phase=True is a PyTorch option; received three_phase=True with convention='fastai'")
        if self.convention == "pytorch":
            n = self.total_steps
            if pct * n - 1 <= 0:
                raise ValueError(
                    "pct_start * total_steps must be > 1 so the warm-up has at least one step; "
                    f"received pct_start={pct!r}, total_steps={n}"
                )
            if self.three_phase and 2 * pct * n - 2 >= n - 1:
                raise ValueError(
                    "three_phase needs pct_start < (total_steps + 1) / (2 * total_steps) so the final phase has "
                    f"steps; received pct_start={pct!r}, total_steps={n}"
                )
        elif self.total_steps - _fastai_split(self.total_steps, pct) < 1:  # fastai: steps with step/N < pct warm up
            raise ValueError(
                "pct_start * total_steps must be <= total_steps - 1 so the anneal has at least one step; "
                f"received pct_start={pct!r}, total_steps={self.total_steps}"
            )

    # -- derived values ---------------------------------------------------------------
    @property
    def initial_lr(self) -> float:
        """LR at step 0: ``max_lr / div_factor``.

        Example:
            >>> OneCycle(max_lr=0.1, total_steps=100).initial_lr
            0.004
        """
        return self.max_lr / self.div_factor

    @property
    def min_lr(self) -> float:
        """Final LR: ``initial_lr / final_div_factor``, the LR of the last step (PyTorch convention).

        Under the fastai convention this is ``lr_max / div_final``, the value the cosine tends to: its
        position is ``step / total_steps``, which never reaches 1, so the last step ends a little above.

        Example:
            >>> s = OneCycle(max_lr=0.1, total_steps=100)
            >>> s.min_lr, float(s.lr(99)) == s.min_lr
            (4e-07, True)
        """
        return self.initial_lr / self.final_div_factor

    @classmethod
    def fastai(
        cls,
        lr_max: float,
        total_steps: int,
        div: float = 25.0,
        div_final: float = 1e5,
        pct_start: float = 0.25,
        moms: Sequence[float] = (0.95, 0.85, 0.95),
    ) -> "OneCycle":
        """fastai's ``fit_one_cycle`` conventions: final LR is ``lr_max / div_final``.

        Args:
            lr_max: Peak learning rate.
            total_steps: Batches in the whole run (``epochs * batches_per_epoch``).
            div: ``start = lr_max / div``.
            div_final: ``final = lr_max / div_final`` (not divided again by ``div``: that is PyTorch's rule).
            pct_start: Fraction of the run spent warming up.
            moms: ``(start, middle, end)`` momentum; start and end must be equal.

        Returns:
            A ``OneCycle`` with ``convention="fastai"``.

        Raises:
            ValueError: naming the argument: ``lr_max`` not > 0, ``div`` below 1, ``div_final`` below
                ``div`` (``div_final must be >= div; ...``), ``moms`` not three momenta in [0, 1) with
                ``start == end >= middle``, or a ``total_steps``/``pct_start`` the constructor refuses.

        Example:
            >>> s = OneCycle.fastai(1e-2, 100)
            >>> round(float(s.lr(0)), 12), round(s.min_lr, 12)
            (0.0004, 1e-07)
        """
        lr_max = _check_positive("lr_max", lr_max)
        div = _check_at_least_one("div", div)
        div_final = _check_float("div_final", div_final)
        if div_final < div:
            raise ValueError(f"div_final must be >= div; received div_final={div_final!r}, div={div!r}")
        if isinstance(moms, np.ndarray) and moms.ndim == 1:
            moms = moms.tolist()  # e.g. np.array([0.95, 0.85, 0.95])
        if isinstance(moms, (str, bytes)) or not isinstance(moms, Sequence):
            raise ValueError(f"moms must be a sequence of three momentums (start, middle, end), such as a tuple "
                             f"or a list; received moms={moms!r} of type {type(moms).__name__}")
        moms = tuple(_check_momentum("moms", m) for m in moms)
        if len(moms) != 3 or moms[0] != moms[2] or moms[1] > moms[0]:
            raise ValueError(f"moms must be (start, middle, end) with start == end >= middle; received moms={moms!r}")
        return cls(
            max_lr=lr_max,
            total_steps=total_steps,
            pct_start=pct_start,
            div_factor=div,
            final_div_factor=div_final / div,
            anneal="cos",
            base_momentum=moms[1],
            max_momentum=moms[0],
            convention="fastai",
        )

    # -- phases ----------------------------------------------------------------------
    def _phases(self) -> list[tuple[float, float, float, float, float]]:
        """``(end_step, start_lr, end_lr, start_mom, end_mom)`` per phase, PyTorch's table."""
        n, p = self.total_steps, self.pct_start
        hi, lo = self.max_momentum, self.base_momentum
        if self.three_phase:
            return [
                (p * n - 1, self.initial_lr, self.max_lr, hi, lo),
                (2 * p * n - 2, self.max_lr, self.initial_lr, lo, hi),
                (n - 1, self.initial_lr, self.min_lr, hi, hi),
            ]
        return [
            (p * n - 1, self.initial_lr, self.max_lr, hi, lo),
            (n - 1, self.max_lr, self.min_lr, lo, hi),
        ]

    def _values(self, steps: Any, which: int) -> np.ndarray:
        """Evaluate the LR (``which=0``) or momentum (``which=1``) at ``steps``."""
        t = _as_steps(steps, self.total_steps)
        anneal = _ANNEAL[self.anneal]
        if self.convention == "fastai":
            # fastai: position = step / N, split at pct_start; cos (or linear) in each part.
            pos = t / self.total_steps
            first = pos < self.pct_start
            if which == 0:
                a = anneal(self.initial_lr, self.max_lr, pos / self.pct_start)
                b = anneal(self.max_lr, self.min_lr, (pos - self.pct_start) / (1 - self.pct_start))
            else:
                a = anneal(self.max_momentum, self.base_momentum, pos / self.pct_start)
                b = anneal(self.base_momentum, self.max_momentum, (pos - self.pct_start) / (1 - self.pct_start))
            return np.where(first, a, b)
        # PyTorch: a step belongs to the first phase whose end_step it does not pass.
        out = np.empty_like(t)
        start_step = 0.0
        remaining = np.ones(t.shape, dtype=bool)
        phases = self._phases()
        for i, (end_step, lr0, lr1, m0, m1) in enumerate(phases):
            mask = remaining & ((t <= end_step) | (i == len(phases) - 1))
            pct = (t[mask] - start_step) / (end_step - start_step)
            out[mask] = anneal(lr0, lr1, pct) if which == 0 else anneal(m0, m1, pct)
            remaining &= ~mask
            start_step = end_step
        return out

    def lr(self, steps: Any) -> np.ndarray:
        """Learning rate at integer ``steps`` (scalar or array) as float64.

        Args:
            steps: Optimizer step(s) in ``[0, total_steps)`` (see :meth:`Schedule.lr`).

        Returns:
            float64 array shaped like ``steps``: ``initial_lr`` at step 0, ``max_lr`` at the end of the
            warm-up, ``min_lr`` at the last step (PyTorch convention).

        Raises:
            ValueError: for a step outside ``[0, total_steps)`` or a fractional step (see :meth:`Schedule.lr`).

        Example:
            >>> OneCycle(max_lr=0.1, total_steps=100).lr([0, 29, 99]).round(9).tolist()
            [0.004, 0.1, 4e-07]
        """
        return self._values(steps, 0)

    def momentum(self, steps: Any) -> np.ndarray:
        """Momentum (SGD/RMSprop ``momentum``, Adam ``beta_1``) at ``steps`` as float64.

        It moves opposite to the LR: ``max_momentum`` at the start, ``base_momentum`` at the LR peak,
        ``max_momentum`` again at the end.

        Args:
            steps: Optimizer step(s) in ``[0, total_steps)`` (see :meth:`Schedule.lr`).

        Returns:
            float64 array shaped like ``steps``.

        Raises:
            ValueError: for a step outside ``[0, total_steps)`` or a fractional step (see :meth:`Schedule.lr`).

        Example:
            >>> OneCycle(max_lr=0.1, total_steps=100).momentum([0, 29, 99]).round(6).tolist()
            [0.95, 0.85, 0.95]
        """
        return self._values(steps, 1)

    def phase_boundaries(self) -> list[int]:
        """Last step of each phase but the final one.

        Returns:
            PyTorch convention: ``floor(pct_start * total_steps - 1)`` (the LR peak), and with
            ``three_phase`` also ``floor(2 * pct_start * total_steps - 2)``; fastai convention: the last
            warm-up step, the last ``step`` with ``step / total_steps < pct_start`` (about
            ``ceil(pct_start * total_steps) - 1``, exactly as the LR is computed).

        Example:
            >>> OneCycle(max_lr=0.1, total_steps=100).phase_boundaries()
            [29]
            >>> OneCycle(max_lr=0.1, total_steps=100, three_phase=True).phase_boundaries()
            [29, 58]
            >>> OneCycle.fastai(0.1, 100).phase_boundaries()
            [24]
            >>> OneCycle.fastai(0.1, 100, pct_start=0.07).phase_boundaries()  # 0.07 * 100 is 7.000000000000001
            [6]
        """
        if self.convention == "fastai":
            return [_fastai_split(self.total_steps, self.pct_start) - 1]
        return [int(math.floor(p[0])) for p in self._phases()[:-1]]


# --------------------------------------------------------------------------- baselines
@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    """A constant learning rate and momentum (the usual default).

    Args:
        lr: The learning rate (> 0).
        total_steps: Optimizer steps (batches) covered, >= 2.
        momentum: Momentum (or Adam ``beta_1``) in [0, 1).

    Raises:
        ValueError: naming the argument, for a value out of range.

    Example:
        >>> Constant(lr=0.05, total_steps=10).lr([0, 9]).tolist()
        [0.05, 0.05]
    """

    kind: ClassVar[str] = "constant"

    lr_value: float
    total_steps: int
    momentum_value: float = 0.9

    def __init__(self, lr: float, total_steps: int, momentum: float = 0.9) -> None:
        object.__setattr__(self, "lr_value", _check_positive("lr", lr))
        object.__setattr__(self, "total_steps", _check_int("total_steps", total_steps, 2))
        object.__setattr__(self, "momentum_value", _check_momentum("momentum", momentum))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict keyed by the constructor's arguments (``lr``, ``momentum``), plus ``kind``.

        Example:
            >>> Constant(lr=0.05, total_steps=10).to_dict()
            {'kind': 'constant', 'lr': 0.05, 'total_steps': 10, 'momentum': 0.9}
        """
        return {"kind": self.kind, "lr": self.lr_value, "total_steps": self.total_steps,
                "momentum": self.momentum_value}

    def with_total_steps(self, total_steps: int) -> "Constant":
        """The same LR and momentum over ``total_steps`` steps (see :meth:`Schedule.with_total_steps`).

        Example:
            >>> Constant(lr=0.05, total_steps=10).with_total_steps(20)
            Constant(lr_value=0.05, total_steps=20, momentum_value=0.9)
        """
        return Constant(self.lr_value, total_steps, self.momentum_value)

    @property
    def max_lr(self) -> float:
        """The highest LR of the schedule: the constant LR.

        Example:
            >>> Constant(lr=0.05, total_steps=10).max_lr
            0.05
        """
        return self.lr_value

    def lr(self, steps: Any) -> np.ndarray:  # type: ignore[override]
        """The constant LR at every step (see :meth:`Schedule.lr` for ``steps`` and errors).

        Example:
            >>> Constant(lr=0.05, total_steps=10).lr(range(3)).tolist()
            [0.05, 0.05, 0.05]
        """
        return np.full(_as_steps(steps, self.total_steps).shape, self.lr_value)

    def momentum(self, steps: Any) -> np.ndarray:  # type: ignore[override]
        """The constant momentum at every step (see :meth:`Schedule.momentum`).

        Example:
            >>> Constant(lr=0.05, total_steps=10, momentum=0.8).momentum([0, 9]).tolist()
            [0.8, 0.8]
        """
        return np.full(_as_steps(steps, self.total_steps).shape, self.momentum_value)


@dataclasses.dataclass(frozen=True)
class StepDecay(Schedule):
    """Piecewise-constant LR (the paper's PC-LR): multiply by ``factor`` at each boundary.

    Args:
        lr: LR before the first boundary.
        total_steps: Steps covered.
        boundaries: Increasing fractions of ``total_steps`` in (0, 1) where the LR drops: the first
            step at the lower LR is ``boundary * total_steps`` rounded half up, and each boundary must
            land on a step of its own in ``1 .. total_steps - 1``.
        factor: Multiplier at each boundary, in (0, 1].
        momentum: Constant momentum.

    Raises:
        ValueError: naming the argument, for a value out of range, boundaries that do not increase or
            that drop at a shared step (as below).

    Example:
        >>> s = StepDecay(lr=0.1, total_steps=100, boundaries=(0.5, 0.75), factor=0.1)
        >>> s.lr([0, 49, 50, 75, 99]).round(6).tolist()
        [0.1, 0.1, 0.01, 0.001, 0.001]
        >>> StepDecay(lr=0.1, total_steps=10, boundaries=(0.01, 0.02))
        Traceback (most recent call last):
        ...
        ValueError: boundaries must each fall on a step of their own in 1..9; received boundaries=[0.01, 0.02], which drop at steps [0, 0] of total_steps=10
    """

    kind: ClassVar[str] = "step"

    lr_value: float
    total_steps: int
    boundaries: tuple[float, ...] = (0.5, 0.75)
    factor: float = 0.1
    momentum_value: float = 0.9

    def __init__(self, lr: float, total_steps: int, boundaries: Sequence[float] = (0.5, 0.75),
                 factor: float = 0.1, momentum: float = 0.9) -> None:
        object.__setattr__(self, "lr_value", _check_positive("lr", lr))
        object.__setattr__(self, "total_steps", _check_int("total_steps", total_steps, 2))
        if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Sequence):
            raise ValueError(f"boundaries must be a list of fractions in (0, 1); received boundaries={boundaries!r}")
        bounds = tuple(_check_float("boundaries", b) for b in boundaries)
        if any(not 0 < b < 1 for b in bounds) or any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])):
            raise ValueError(
                f"boundaries must be increasing fractions in (0, 1); received boundaries={list(bounds)!r}"
            )
        object.__setattr__(self, "boundaries", bounds)
        steps = self._boundary_steps().tolist()
        if steps and (steps[0] < 1 or steps[-1] > self.total_steps - 1 or len(set(steps)) < len(steps)):
            raise ValueError(
                f"boundaries must each fall on a step of their own in 1..{self.total_steps - 1}; "
                f"received boundaries={list(bounds)!r}, which drop at steps {steps} of total_steps={self.total_steps}"
            )
        f = _check_float("factor", factor)
        if not 0 < f <= 1:
            raise ValueError(f"factor must be in (0, 1]; received factor={f!r}")
        object.__setattr__(self, "factor", f)
        object.__setattr__(self, "momentum_value", _check_momentum("momentum", momentum))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict keyed by the constructor's arguments (``lr``, ``momentum``...), plus ``kind``.

        Example:
            >>> StepDecay(lr=0.1, total_steps=100).to_dict()
            {'kind': 'step', 'lr': 0.1, 'total_steps': 100, 'boundaries': [0.5, 0.75], 'factor': 0.1, 'momentum': 0.9}
        """
        return {"kind": self.kind, "lr": self.lr_value, "total_steps": self.total_steps,
                "boundaries": list(self.boundaries), "factor": self.factor, "momentum": self.momentum_value}

    def with_total_steps(self, total_steps: int) -> "StepDecay":
        """The same drops, at the same fractions of the run, over ``total_steps`` steps.

        Raises:
            ValueError: when a boundary no longer falls on a step of its own (see the class docstring).

        Example:
            >>> StepDecay(lr=0.1, total_steps=100).with_total_steps(10).phase_boundaries()
            [4, 7]
        """
        return StepDecay(self.lr_value, total_steps, self.boundaries, self.factor, self.momentum_value)

    @property
    def max_lr(self) -> float:
        """The highest LR of the schedule: the LR before the first drop.

        Example:
            >>> StepDecay(lr=0.1, total_steps=100).max_lr
            0.1
        """
        return self.lr_value

    def _boundary_steps(self) -> np.ndarray:
        # The first step at the lower LR: boundary * total_steps, rounded half up.
        return np.array([math.floor(b * self.total_steps + 0.5) for b in self.boundaries], dtype=np.int64)

    def lr(self, steps: Any) -> np.ndarray:  # type: ignore[override]
        """``lr * factor ** k``, k the number of drop steps at or before each step (see :meth:`Schedule.lr`).

        Example:
            >>> StepDecay(lr=0.1, total_steps=10, boundaries=(0.5,), factor=0.5).lr([4, 5]).tolist()
            [0.1, 0.05]
        """
        t = _as_steps(steps, self.total_steps)
        drops = np.searchsorted(self._boundary_steps(), t, side="right")
        return self.lr_value * self.factor ** drops

    def momentum(self, steps: Any) -> np.ndarray:  # type: ignore[override]
        """The constant momentum at every step (see :meth:`Schedule.momentum`).

        Example:
            >>> StepDecay(lr=0.1, total_steps=10, momentum=0.8).momentum([0, 9]).tolist()
            [0.8, 0.8]
        """
        return np.full(_as_steps(steps, self.total_steps).shape, self.momentum_value)

    def phase_boundaries(self) -> list[int]:
        """The last step before each drop (the step ahead of ``boundary * total_steps`` rounded half up).

        Example:
            >>> StepDecay(lr=0.1, total_steps=100, boundaries=(0.5, 0.75)).phase_boundaries()
            [49, 74]
        """
        return [int(b) - 1 for b in self._boundary_steps()]


@dataclasses.dataclass(frozen=True)
class CyclicLR(Schedule):
    """Triangular cyclical learning rate (Smith's CLR), momentum cycling inversely.

    Matches PyTorch's ``CyclicLR(mode="triangular", step_size_up=step_size)``.

    Args:
        base_lr: Lowest LR (start of every cycle).
        max_lr: Highest LR (middle of every cycle).
        total_steps: Steps covered.
        step_size: Steps in half a cycle.
        base_momentum: Momentum at the LR peak.
        max_momentum: Momentum at the LR trough.

    Raises:
        ValueError: naming the argument, for a value out of range or ``base_lr`` above ``max_lr``
            (``base_lr must be <= max_lr; ...``).

    Example:
        >>> s = CyclicLR(base_lr=0.01, max_lr=0.11, total_steps=40, step_size=10)
        >>> s.lr([0, 5, 10, 15, 20]).round(6).tolist()
        [0.01, 0.06, 0.11, 0.06, 0.01]
    """

    kind: ClassVar[str] = "cyclic"

    base_lr: float
    max_lr: float
    total_steps: int
    step_size: int
    base_momentum: float = 0.85
    max_momentum: float = 0.95

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "base_lr", _check_positive("base_lr", self.base_lr))
        set_(self, "max_lr", _check_positive("max_lr", self.max_lr))
        if self.base_lr > self.max_lr:
            raise ValueError(
                f"base_lr must be <= max_lr; received base_lr={self.base_lr!r}, max_lr={self.max_lr!r}"
            )
        set_(self, "total_steps", _check_int("total_steps", self.total_steps, 2))
        set_(self, "step_size", _check_int("step_size", self.step_size, 1))
        set_(self, "base_momentum", _check_momentum("base_momentum", self.base_momentum))
        set_(self, "max_momentum", _check_momentum("max_momentum", self.max_momentum))
        _check_momentum_range(self.base_momentum, self.max_momentum)

    def with_total_steps(self, total_steps: int) -> "CyclicLR":
        """A copy over ``total_steps`` steps; ``step_size`` (in steps) is kept, so the run has more cycles.

        Example:
            >>> CyclicLR(base_lr=0.01, max_lr=0.1, total_steps=40, step_size=10).with_total_steps(80).total_steps
            80
        """
        return dataclasses.replace(self, total_steps=total_steps)

    def _scale(self, steps: Any) -> np.ndarray:
        t = _as_steps(steps, self.total_steps)
        cycle_len = 2.0 * self.step_size
        x = 1.0 + t / cycle_len - np.floor(1.0 + t / cycle_len)
        return np.where(x <= 0.5, x / 0.5, (x - 1.0) / (0.5 - 1.0))

    def lr(self, steps: Any) -> np.ndarray:  # type: ignore[override]
        """Triangle wave: ``base_lr`` at multiples of ``2 * step_size``, ``max_lr`` half-way (see :meth:`Schedule.lr`).

        Example:
            >>> s = CyclicLR(base_lr=0.01, max_lr=0.11, total_steps=40, step_size=10)
            >>> s.lr([0, 10, 20]).round(6).tolist()
            [0.01, 0.11, 0.01]
        """
        return self.base_lr + (self.max_lr - self.base_lr) * self._scale(steps)

    def momentum(self, steps: Any) -> np.ndarray:  # type: ignore[override]
        """Inverse triangle: ``max_momentum`` at the LR troughs, ``base_momentum`` at the peaks.

        Example:
            >>> s = CyclicLR(base_lr=0.01, max_lr=0.11, total_steps=40, step_size=10)
            >>> s.momentum([0, 5, 10]).round(6).tolist()
            [0.95, 0.9, 0.85]
        """
        return self.max_momentum - (self.max_momentum - self.base_momentum) * self._scale(steps)

    def phase_boundaries(self) -> list[int]:
        """Every multiple of ``step_size`` before the last step: the LR's peaks and troughs.

        Example:
            >>> CyclicLR(base_lr=0.01, max_lr=0.11, total_steps=40, step_size=10).phase_boundaries()
            [10, 20, 30]
        """
        return list(range(self.step_size, self.total_steps - 1, self.step_size))


# --------------------------------------------------------------------------- registry and helpers
SCHEDULE_KINDS: dict[str, type[Schedule]] = {
    cls.kind: cls for cls in (OneCycle, Constant, StepDecay, CyclicLR)
}


def schedule_from_dict(data: dict[str, Any]) -> Schedule:
    """Rebuild any schedule from its ``to_dict()`` output (the inverse of ``to_dict``).

    Args:
        data: A mapping with ``kind`` (one of ``SCHEDULE_KINDS``) and the constructor arguments.

    Returns:
        The schedule; invalid values raise ValueError naming the field.

    Raises:
        ValueError: for data that is not a dict (``a schedule must be a JSON object; ...``), an unknown
            ``kind`` (``kind must be one of ['constant', 'cyclic', 'onecycle', 'step']; ...``), unknown or
            missing fields (naming them), or a value the schedule's constructor refuses.

    Example:
        >>> s = OneCycle(max_lr=0.1, total_steps=1000)
        >>> schedule_from_dict(s.to_dict()) == s
        True
        >>> schedule_from_dict({"kind": "constant", "lr": 0.1})
        Traceback (most recent call last):
        ...
        ValueError: a 'constant' schedule needs total_steps; received fields ['lr']
    """
    if not isinstance(data, dict):
        raise ValueError(f"a schedule must be a JSON object; received {type(data).__name__}: {data!r:.80}")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in SCHEDULE_KINDS:
        raise ValueError(f"kind must be one of {sorted(SCHEDULE_KINDS)}; received kind={kind!r}")
    args = {k: v for k, v in data.items() if k != "kind"}
    params = inspect.signature(SCHEDULE_KINDS[kind]).parameters
    unknown = sorted(set(args) - set(params))
    if unknown:
        raise ValueError(f"unknown field(s) {unknown} for a {kind!r} schedule (its fields: {list(params)}); "
                         f"received {', '.join(f'{k}={args[k]!r}' for k in unknown)}")
    missing = [k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in args]
    if missing:
        raise ValueError(f"a {kind!r} schedule needs {', '.join(missing)}; received fields {sorted(args)}")
    return SCHEDULE_KINDS[kind](**args)


def steps_per_epoch(num_samples: int, batch_size: int, drop_remainder: bool = False) -> int:
    """Batches per epoch, as ``tf.data``'s ``batch(batch_size, drop_remainder)`` yields them.

    Args:
        num_samples: Training samples per epoch (>= 1).
        batch_size: Samples per batch (>= 1).
        drop_remainder: Whether the last, partial batch is dropped.

    Returns:
        ``ceil(num_samples / batch_size)``, or ``num_samples // batch_size`` with ``drop_remainder``.

    Raises:
        ValueError: ``num_samples must be an integer >= 1; ...`` (same for ``batch_size``), a
            ``drop_remainder`` that is not a bool, or ``batch_size must be <= num_samples with
            drop_remainder=True; ...`` when no batch is left.

    Example:
        >>> steps_per_epoch(1000, 128), steps_per_epoch(1000, 128, drop_remainder=True)
        (8, 7)
        >>> steps_per_epoch(100, 128, drop_remainder=True)
        Traceback (most recent call last):
        ...
        ValueError: batch_size must be <= num_samples with drop_remainder=True; received batch_size=128, ...
    """
    num_samples = _check_int("num_samples", num_samples, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    if not isinstance(drop_remainder, (bool, np.bool_)):  # "no" or 0.0 would silently mean something
        raise ValueError(f"drop_remainder must be True or False; received drop_remainder={drop_remainder!r}")
    steps = num_samples // batch_size if drop_remainder else math.ceil(num_samples / batch_size)
    if steps < 1:
        raise ValueError(
            f"batch_size must be <= num_samples with drop_remainder=True; received batch_size={batch_size}, "
            f"num_samples={num_samples}"
        )
    return steps


def total_steps_for(num_samples: int, batch_size: int, epochs: int, drop_remainder: bool = False) -> int:
    """Optimizer steps in a run: ``epochs * steps_per_epoch(...)`` (step per batch, not per epoch).

    This is the ``total_steps`` a schedule needs to cover every batch of a ``fit``.

    Args:
        num_samples: Training samples per epoch (>= 1).
        batch_size: Samples per batch (>= 1).
        epochs: Number of epochs (>= 1).
        drop_remainder: Whether each epoch's last, partial batch is dropped.

    Returns:
        The number of optimizer steps (batches) in the whole run.

    Raises:
        ValueError: ``epochs must be an integer >= 1; ...``, or as :func:`steps_per_epoch`.

    Example:
        >>> total_steps_for(num_samples=1797, batch_size=64, epochs=10)
        290
    """
    epochs = _check_int("epochs", epochs, 1)
    return epochs * steps_per_epoch(num_samples, batch_size, drop_remainder)
