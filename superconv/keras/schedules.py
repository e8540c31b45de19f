"""In-graph Keras learning-rate schedule backed by any :mod:`superconv.schedules` schedule.

The numpy schedule is the single source of truth: its whole curve is tabulated once
(float32, 4 bytes a step) and looked up in the graph from ``optimizer.iterations``,
so compiled training applies exactly the planned values at the cost of one gather.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from superconv.schedules import Schedule, schedule_from_dict


def _as_schedule(schedule: Schedule | dict[str, Any]) -> Schedule:
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, dict):
        return schedule_from_dict(schedule)
    raise ValueError(f"schedule must be a superconv schedule or its to_dict(); received schedule={schedule!r:.80}")


class ScheduleTable:
    """A schedule's LR and momentum tabulated as float32 tensors for in-graph lookup.

    Args:
        schedule: A :class:`~superconv.schedules.Schedule` or its ``to_dict()``.

    Attributes:
        schedule: The schedule (rebuilt from the dict when a dict was given).
        lr_table, momentum_table: float32 tensors of length ``total_steps``.
        last: The last step, ``total_steps - 1``.

    Raises:
        ValueError: ``schedule must be a superconv schedule or its to_dict(); received schedule=...``,
            or as :func:`~superconv.schedules.schedule_from_dict` for a bad dict.

    Example:
        >>> from superconv import OneCycle
        >>> table = ScheduleTable(OneCycle(max_lr=0.1, total_steps=100))
        >>> table.last, tuple(table.lr_table.shape)
        (99, (100,))
    """

    def __init__(self, schedule: Schedule | dict[str, Any]):
        self.schedule = _as_schedule(schedule)
        _, lr, mom = self.schedule.curves()
        self.lr_table = keras.ops.convert_to_tensor(lr.astype(np.float32))
        self.momentum_table = keras.ops.convert_to_tensor(mom.astype(np.float32))
        self.last = self.schedule.total_steps - 1

    def _index(self, step: Any) -> Any:
        # Past the end the final value is held; superconv.keras.ScheduleGuard reports overruns.
        step = keras.ops.cast(step, "int32")
        return keras.ops.clip(step, 0, self.last)

    def lr_at(self, step: Any) -> Any:
        """LR tensor at ``step`` (a scalar tensor).

        Args:
            step: The optimizer step (e.g. ``optimizer.iterations``), cast to int32; a step past the end
                reads the last value (and one below 0 the first): :class:`superconv.keras.ScheduleGuard`
                reports overruns.

        Returns:
            A float32 scalar tensor.

        Example:
            >>> from superconv import OneCycle
            >>> table = ScheduleTable(OneCycle(max_lr=0.1, total_steps=100))
            >>> round(float(table.lr_at(29)), 6), round(float(table.lr_at(500)), 12)  # the peak; held at the end
            (0.1, 4e-07)
        """
        return keras.ops.take(self.lr_table, self._index(step))

    def momentum_at(self, step: Any) -> Any:
        """Momentum tensor at ``step`` (a scalar tensor).

        Args:
            step: The optimizer step, cast to int32 and clipped to the table as in :meth:`lr_at`.

        Returns:
            A float32 scalar tensor.

        Example:
            >>> from superconv import OneCycle
            >>> table = ScheduleTable(OneCycle(max_lr=0.1, total_steps=100))
            >>> round(float(table.momentum_at(0)), 6), round(float(table.momentum_at(29)), 6)
            (0.95, 0.85)
        """
        return keras.ops.take(self.momentum_table, self._index(step))


@keras.saving.register_keras_serializable(package="superconv")
class ScheduleLR(keras.optimizers.schedules.LearningRateSchedule):
    """Keras ``LearningRateSchedule`` that follows a superconv schedule step for step.

    Args:
        schedule: A :class:`~superconv.schedules.Schedule` or its ``to_dict()``.

    Raises:
        ValueError: as :class:`ScheduleTable`.

    Example:
        >>> from superconv import OneCycle
        >>> lr = ScheduleLR(OneCycle(max_lr=0.1, total_steps=100))
        >>> round(float(lr(29)), 6)
        0.1
    """

    def __init__(self, schedule: Schedule | dict[str, Any]):
        self.table = ScheduleTable(schedule)
        self.schedule = self.table.schedule

    def __call__(self, step: Any) -> Any:
        return self.table.lr_at(step)

    def get_config(self) -> dict[str, Any]:
        """Keras serialization config: ``{"schedule": schedule.to_dict()}``.

        Example:
            >>> from superconv import Constant
            >>> ScheduleLR(Constant(lr=0.05, total_steps=10)).get_config()
            {'schedule': {'kind': 'constant', 'lr': 0.05, 'total_steps': 10, 'momentum': 0.9}}
        """
        return {"schedule": self.schedule.to_dict()}
