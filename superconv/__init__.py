"""superconv: the 1cycle learning-rate policy and super-convergence, made visible.

``import superconv`` is light (numpy only). TensorFlow is imported only by the modules
that train: :mod:`superconv.keras`, :mod:`superconv.training`, :mod:`superconv.lr_range_test`
(and :class:`superconv.lr_finder.LRFinder` when it is used).

Example:
    >>> import superconv
    >>> s = superconv.OneCycle(max_lr=0.1, total_steps=superconv.total_steps_for(1797, 64, 10))
    >>> s.total_steps, round(float(s.lr(0)), 6)
    (290, 0.004)
"""

from superconv.schedules import (
    SCHEDULE_KINDS,
    Constant,
    CyclicLR,
    OneCycle,
    Schedule,
    StepDecay,
    schedule_from_dict,
    steps_per_epoch,
    total_steps_for,
)

__version__ = "0.1.0"

__all__ = [
    "SCHEDULE_KINDS",
    "Constant",
    "CyclicLR",
    "OneCycle",
    "Schedule",
    "StepDecay",
    "schedule_from_dict",
    "steps_per_epoch",
    "total_steps_for",
    "__version__",
]
