"""Keras optimizers whose momentum (or Adam's ``beta_1``) really follows a schedule.

Keras bakes ``SGD.momentum`` and ``Adam.beta_1`` into the compiled train step as Python
floats, so a callback that changes them after ``compile`` is silently ignored. These
subclasses instead read the momentum of the current step from the schedule inside
``update_step``. Each step they also store the LR and momentum they applied in two
optimizer variables (``applied_lr``, ``applied_momentum``), which callbacks read back.

The update rules are Keras' own with the momentum made a per-step tensor.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from superconv.keras.schedules import ScheduleLR, ScheduleTable
from superconv.schedules import Schedule



class _ScheduledMomentum:
    """Mixin: LR and momentum from one schedule, applied values kept in variables."""

    _momentum_name = "momentum"

    @classmethod
    def _init_schedule(cls, schedule: Schedule | dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Return Keras constructor kwargs with the LR schedule and a momentum placeholder filled in."""
        key = cls._momentum_name
        if key in kwargs:
            raise ValueError(
                f"{key} is set by the schedule; received {key}={kwargs[key]!r}. "
                "Set base_momentum/max_momentum on the schedule instead."
            )
        lr = kwargs.pop("learning_rate", None)
        own = ScheduleLR(schedule)
        # from_config passes the saved LR schedule back: the same schedule is fine, anything else conflicts.
        if lr is not None and not (isinstance(lr, ScheduleLR) and lr.schedule.to_dict() == own.schedule.to_dict()):
            raise ValueError(f"learning_rate is set by the schedule; received learning_rate={lr!r}. "
                             "Pass the schedule alone (its max_lr sets the peak).")
        kwargs["learning_rate"] = own
        # A non-zero placeholder so Keras builds the momentum slots; the per-step value is used instead.
        kwargs[key] = 0.9
        return kwargs

    @property
    def schedule(self) -> Schedule:
        """The superconv schedule this optimizer follows.

        Example:
            >>> from superconv import Constant
            >>> ScheduledSGD(Constant(lr=0.05, total_steps=10)).schedule
            Constant(lr_value=0.05, total_steps=10, momentum_value=0.9)
        """
        return self._learning_rate.schedule

    @property
    def _table(self) -> ScheduleTable:
        return self._learning_rate.table

    def build(self, variables: list[Any]) -> None:
        """Build Keras' slots and the ``applied_lr`` / ``applied_momentum`` scalar variables (once)."""
        if self.built:
            return
        super().build(variables)  # type: ignore[misc]
        # only_first_replica: every replica writes the same value under MirroredStrategy.
        self.applied_lr = self.add_variable((), initializer="zeros", dtype="float32",
                                            aggregation="only_first_replica", name="applied_lr")
        self.applied_momentum = self.add_variable((), initializer="zeros", dtype="float32",
                                                  aggregation="only_first_replica", name="applied_momentum")

    def _backend_update_step(self, grads: list[Any], trainable_variables: list[Any], learning_rate: Any) -> None:
        self.applied_lr.assign(ops.cast(learning_rate, "float32"))
        self.applied_momentum.assign(self._table.momentum_at(self.iterations))
        super()._backend_update_step(grads, trainable_variables, learning_rate)  # type: ignore[misc]

    def _step_momentum(self, dtype: str) -> Any:
        """The momentum applied at this step (the value just written to ``applied_momentum``)."""
        return ops.cast(self.applied_momentum, dtype)

    def get_config(self) -> dict[str, Any]:
        """Keras' config without the momentum placeholder, plus ``"schedule"``: the schedule's ``to_dict()``.

        Example:
            >>> from superconv import Constant
            >>> config = ScheduledSGD(Constant(lr=0.05, total_steps=10)).get_config()
            >>> config["schedule"], "momentum" in config
            ({'kind': 'constant', 'lr': 0.05, 'total_steps': 10, 'momentum': 0.9}, False)
        """
        config = super().get_config()  # type: ignore[misc]
        config.pop(self._momentum_name, None)
        config["schedule"] = self.schedule.to_dict()
        return config


@keras.saving.register_keras_serializable(package="superconv")
class ScheduledSGD(_ScheduledMomentum, keras.optimizers.SGD):
    """SGD (Keras' momentum form) with LR and momentum from ``schedule``.

    Args:
        schedule: A superconv schedule (or its ``to_dict()``).
        **kwargs: Other ``keras.optimizers.SGD`` arguments (``nesterov``, ``weight_decay``, ...).

    Raises:
        ValueError: ``momentum is set by the schedule; received momentum=...`` (and likewise for a
            ``learning_rate`` other than this schedule's), or a schedule that is neither a schedule nor
            a valid ``to_dict()``.

    Example:
        >>> from superconv import OneCycle
        >>> opt = ScheduledSGD(OneCycle(max_lr=0.1, total_steps=100), nesterov=True)
        >>> opt.schedule.max_lr
        0.1
    """

    def __init__(self, schedule: Schedule | dict[str, Any], **kwargs: Any):
        super().__init__(**self._init_schedule(schedule, kwargs))

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """Keras' SGD update of one variable, with this step's scheduled momentum."""
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        momentum = self._step_momentum(variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        self.assign(m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)))
        if self.nesterov:
            self.assign_add(variable, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)))
        else:
            self.assign_add(variable, m)


@keras.saving.register_keras_serializable(package="superconv")
class ScheduledAdam(_ScheduledMomentum, keras.optimizers.Adam):
    """Adam with LR and ``beta_1`` from ``schedule`` (bias correction uses the current ``beta_1``,
    as PyTorch's Adam does when OneCycleLR cycles it).

    Args:
        schedule: A superconv schedule (or its ``to_dict()``); its momentum is ``beta_1``.
        **kwargs: Other ``keras.optimizers.Adam`` arguments (``beta_2``, ``epsilon``, ``amsgrad``, ...).

    Raises:
        ValueError: ``beta_1 is set by the schedule; received beta_1=...``, or as :class:`ScheduledSGD`.

    Example:
        >>> from superconv import OneCycle
        >>> opt = ScheduledAdam(OneCycle(max_lr=1e-3, total_steps=100), beta_2=0.99)
        >>> opt.beta_2
        0.99
    """

    _momentum_name = "beta_1"

    def __init__(self, schedule: Schedule | dict[str, Any], **kwargs: Any):
        super().__init__(**self._init_schedule(schedule, kwargs))

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """Keras' Adam update of one variable, with this step's scheduled ``beta_1``."""
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        beta_1 = self._step_momentum(variable.dtype)
        local_step = ops.cast(self.iterations + 1, variable.dtype)
        beta_1_power = ops.power(beta_1, local_step)
        beta_2_power = ops.power(ops.cast(self.beta_2, variable.dtype), local_step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        if self.amsgrad:
            v_hat = self._velocity_hats[self._get_variable_index(variable)]
            self.assign(v_hat, ops.maximum(v_hat, v))
            v = v_hat
        self.assign_sub(variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon)))


@keras.saving.register_keras_serializable(package="superconv")
class ScheduledAdamW(ScheduledAdam, keras.optimizers.AdamW):
    """AdamW (decoupled weight decay, default 0.004 as in Keras) with scheduled LR and ``beta_1``.

    Example:
        >>> from superconv import OneCycle
        >>> ScheduledAdamW(OneCycle(max_lr=1e-3, total_steps=100), weight_decay=0.01).weight_decay
        0.01
    """


@keras.saving.register_keras_serializable(package="superconv")
class ScheduledRMSprop(_ScheduledMomentum, keras.optimizers.RMSprop):
    """RMSprop with LR and ``momentum`` from ``schedule``.

    Args:
        schedule: A superconv schedule (or its ``to_dict()``).
        **kwargs: Other ``keras.optimizers.RMSprop`` arguments (``rho``, ``centered``, ...).

    Raises:
        ValueError: as :class:`ScheduledSGD`.

    Example:
        >>> from superconv import OneCycle
        >>> ScheduledRMSprop(OneCycle(max_lr=1e-3, total_steps=100), rho=0.8).rho
        0.8
    """

    def __init__(self, schedule: Schedule | dict[str, Any], **kwargs: Any):
        super().__init__(**self._init_schedule(schedule, kwargs))

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """Keras' RMSprop update of one variable, with this step's scheduled momentum."""
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        momentum_coef = self._step_momentum(variable.dtype)
        velocity = self._velocities[self._get_variable_index(variable)]
        momentum = self._momentums[self._get_variable_index(variable)]
        rho = self.rho
        self.assign(velocity, ops.add(ops.multiply(rho, velocity), ops.multiply(1 - rho, ops.square(gradient))))
        if self.centered:
            average_grad = self._average_gradients[self._get_variable_index(variable)]
            self.assign(average_grad, ops.add(ops.multiply(rho, average_grad), ops.multiply(1 - rho, gradient)))
            denominator = velocity - ops.square(average_grad) + self.epsilon
        else:
            denominator = ops.add(velocity, self.epsilon)
        increment = ops.divide(ops.multiply(lr, gradient), ops.sqrt(denominator))
        self.assign(momentum, ops.add(ops.multiply(momentum_coef, momentum), increment))
        self.assign_sub(variable, momentum)


OPTIMIZERS: dict[str, type] = {
    "sgd": ScheduledSGD,
    "adam": ScheduledAdam,
    "adamw": ScheduledAdamW,
    "rmsprop": ScheduledRMSprop,
}


def one_cycle_optimizer(name: str, schedule: Schedule | dict[str, Any], **kwargs: Any) -> keras.optimizers.Optimizer:
    """Build a Keras optimizer whose LR and momentum follow ``schedule`` under compiled ``fit``.

    Args:
        name: ``"sgd"``, ``"adam"``, ``"adamw"`` or ``"rmsprop"``.
        schedule: Any superconv schedule (``OneCycle``, ``Constant``, ``StepDecay``, ``CyclicLR``).
        **kwargs: Passed to the Keras optimizer (e.g. ``nesterov=True``, ``weight_decay=5e-4``).

    Returns:
        The optimizer; ``opt.applied_lr`` / ``opt.applied_momentum`` hold the last applied values.

    Raises:
        ValueError: ``optimizer must be one of ['adam', 'adamw', 'rmsprop', 'sgd']; received optimizer=...``,
            or as the optimizer class (e.g. a ``momentum`` or ``learning_rate`` in ``kwargs``).

    Example:
        >>> from superconv import OneCycle
        >>> opt = one_cycle_optimizer("sgd", OneCycle(max_lr=0.1, total_steps=500), nesterov=True)
        >>> type(opt).__name__
        'ScheduledSGD'
    """
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; received optimizer={name!r}")
    return OPTIMIZERS[key](schedule, **kwargs)
