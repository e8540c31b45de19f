"""Keras callbacks: read back applied LR/momentum, and refuse a schedule that does not fit the run."""

from __future__ import annotations

import warnings
from typing import Any

import keras
import numpy as np


def unwrap_optimizer(optimizer: Any) -> Any:
    """Return the optimizer that applies updates (inside a ``LossScaleOptimizer`` if any).

    Args:
        optimizer: A Keras optimizer, possibly wrapped (anything with an ``inner_optimizer``).

    Returns:
        ``optimizer.inner_optimizer`` when it has one, else ``optimizer`` itself.

    Example:
        >>> from superconv import OneCycle
        >>> from superconv.keras import one_cycle_optimizer
        >>> opt = one_cycle_optimizer("sgd", OneCycle(max_lr=0.1, total_steps=100))
        >>> unwrap_optimizer(keras.optimizers.LossScaleOptimizer(opt)) is opt, unwrap_optimizer(opt) is opt
        (True, True)
    """
    return getattr(optimizer, "inner_optimizer", optimizer)


class AppliedTrace(keras.callbacks.Callback):
    """Record, per batch, the LR and momentum the optimizer actually applied.

    Values are read back from the optimizer's ``applied_lr`` / ``applied_momentum``
    variables (see :mod:`superconv.keras.optimizers`), not recomputed from the schedule, with the
    schedule step they belong to. Keras calls batch hooks once per execution: with
    ``steps_per_execution=k`` the trace holds every k-th step. Under mixed precision a step whose
    gradients overflowed is skipped (the optimizer's ``iterations`` does not advance, so the schedule
    is indexed by applied updates): that batch repeats the previous step and its values.

    Attributes:
        steps: the schedule step (``optimizer.iterations - 1``) of each entry.
        lr: list of applied learning rates, one per entry.
        momentum: list of applied momentum (or ``beta_1``) values, one per entry.

    Raises:
        ValueError: at the start of ``fit``, for an optimizer that is not a superconv one (it has no
            applied values to read).

    Example:
        >>> trace = AppliedTrace()
        >>> trace.steps, trace.lr, trace.momentum
        ([], [], [])
    """

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []
        self.lr: list[float] = []
        self.momentum: list[float] = []

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Check that the optimizer records what it applies (Keras hook)."""
        from superconv.keras.optimizers import _ScheduledMomentum

        opt = unwrap_optimizer(self.model.optimizer)
        if not isinstance(opt, _ScheduledMomentum):
            raise ValueError("AppliedTrace reads what a superconv optimizer applied: compile with "
                             "superconv.keras.one_cycle_optimizer(...); received optimizer="
                             f"{type(opt).__name__}")

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Append the step and the optimizer's ``applied_lr`` and ``applied_momentum`` (Keras hook)."""
        opt = unwrap_optimizer(self.model.optimizer)
        self.steps.append(int(opt.iterations.numpy()) - 1)
        self.lr.append(float(np.asarray(opt.applied_lr.numpy())))
        self.momentum.append(float(np.asarray(opt.applied_momentum.numpy())))


class ScheduleGuard(keras.callbacks.Callback):
    """Stop a ``fit`` whose batches would run past the schedule's ``total_steps``.

    Stepping past the end (the classic "total steps" mismatch) raises ValueError before the
    first surplus batch; a run that ends before the schedule does gets a warning, since its
    LR never anneals.

    Args:
        schedule: A superconv schedule or its ``to_dict()``; only its ``total_steps`` is kept.

    Raises:
        ValueError: ``schedule must be a superconv schedule or its to_dict(); received ...``, or as
            :func:`~superconv.schedules.schedule_from_dict` for a bad dict. During ``fit``: ``the schedule
            covers total_steps=... but this fit needs ... steps ...`` (see :meth:`on_epoch_begin`), or,
            for data whose length Keras does not know, at the first batch past the schedule (see
            :meth:`on_train_batch_begin`).

    Example:
        >>> from superconv import OneCycle
        >>> ScheduleGuard(OneCycle(max_lr=0.1, total_steps=100)).total_steps
        100
    """

    def __init__(self, schedule: Any) -> None:
        super().__init__()
        if isinstance(schedule, dict):  # a schedule's to_dict(), as one_cycle_optimizer accepts
            from superconv.schedules import schedule_from_dict

            schedule = schedule_from_dict(schedule)
        if not isinstance(getattr(schedule, "total_steps", None), int):
            raise ValueError(f"schedule must be a superconv schedule or its to_dict(); received {schedule!r:.80}")
        self.total_steps = int(schedule.total_steps)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Check, at each epoch's start, that the remaining epochs fit the schedule (Keras hook).

        Steps needed are the optimizer's ``iterations`` so far plus the epochs left times
        ``params["steps"]`` (no check when Keras does not know the steps per epoch). A shortfall
        warns at the last epoch's start.

        Raises:
            ValueError: ``the schedule covers total_steps=... but this fit needs ... steps (... epochs x ...
                batches after ... done); build the schedule with superconv.total_steps_for(num_samples,
                batch_size, epochs)``.
        """
        steps = self.params.get("steps")
        if not steps:
            if epoch == 0:
                warnings.warn(
                    "the data's length is unknown to Keras (e.g. a filtered tf.data pipeline): ScheduleGuard "
                    "checks each batch instead, and Keras 3 advances optimizer.iterations once more per epoch "
                    "than it trains batches with such data, so the schedule skips a step each epoch; give the "
                    "data a known length (dataset.apply(tf.data.experimental.assert_cardinality(n))) or pass "
                    "steps_per_epoch",
                    stacklevel=2,
                )
            return
        done = int(unwrap_optimizer(self.model.optimizer).iterations.numpy())
        needed = done + (self.params["epochs"] - epoch) * steps
        if needed > self.total_steps:
            raise ValueError(
                f"the schedule covers total_steps={self.total_steps} but this fit needs {needed} steps "
                f"({self.params['epochs'] - epoch} epochs x {steps} batches after {done} done); "
                "build the schedule with superconv.total_steps_for(num_samples, batch_size, epochs)"
            )
        if epoch == self.params["epochs"] - 1 and needed < self.total_steps:
            warnings.warn(
                f"fit ends at step {needed} of a schedule with total_steps={self.total_steps}: "
                "the LR will not finish annealing",
                stacklevel=2,
            )

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """With data of unknown length, stop before a batch would step past the schedule (Keras hook).

        Raises:
            ValueError: ``the schedule covers total_steps=... and this fit has used them all ...``.
        """
        if self.params.get("steps"):
            return  # checked per epoch, before any surplus batch
        done = int(unwrap_optimizer(self.model.optimizer).iterations.numpy())
        if done >= self.total_steps:
            raise ValueError(
                f"the schedule covers total_steps={self.total_steps} and this fit has used them all "
                f"(optimizer.iterations={done}) with batches still coming: its data's length was unknown to "
                "Keras; build the schedule with superconv.total_steps_for(num_samples, batch_size, epochs) "
                "and give the data a known length"
            )
