"""Keras 3 integration: in-graph schedules, optimizers whose momentum cycles, callbacks.

Importing this package imports TensorFlow/Keras; ``import superconv`` alone does not.

Example:
    >>> import superconv
    >>> from superconv.keras import one_cycle_optimizer
    >>> opt = one_cycle_optimizer("adam", superconv.OneCycle(max_lr=3e-3, total_steps=200))
    >>> type(opt).__name__
    'ScheduledAdam'
"""

from superconv.keras.callbacks import AppliedTrace, ScheduleGuard, unwrap_optimizer
from superconv.keras.optimizers import (
    OPTIMIZERS,
    ScheduledAdam,
    ScheduledAdamW,
    ScheduledRMSprop,
    ScheduledSGD,
    one_cycle_optimizer,
)
from superconv.keras.schedules import ScheduleLR, ScheduleTable

__all__ = [
    "AppliedTrace",
    "OPTIMIZERS",
    "ScheduleGuard",
    "ScheduleLR",
    "ScheduleTable",
    "ScheduledAdam",
    "ScheduledAdamW",
    "ScheduledRMSprop",
    "ScheduledSGD",
    "one_cycle_optimizer",
    "unwrap_optimizer",
]
