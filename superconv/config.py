"""Training-run configuration: one validated, JSON-ready object per run (pydantic v2, no TensorFlow).

A run is (dataset, model, optimizer, schedule, epochs, batch size, weight decay, seed).
The schedule is any :mod:`superconv.schedules` schedule's ``to_dict()``; its ``total_steps``
may be omitted because the engine replaces it by the run's exact step count.

Example:
    >>> cfg = load_run_config({"dataset": "digits", "model": "mlp", "epochs": 3, "batch_size": 64,
    ...                        "schedule": {"kind": "onecycle", "max_lr": 0.5}})
    >>> cfg.schedule["kind"], cfg.epochs
    ('onecycle', 3)
    >>> load_run_config({"epochs": 0})
    Traceback (most recent call last):
    ...
    ValueError: epochs must be >= 1; received epochs=0
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from superconv.schedules import schedule_from_dict

OPTIMIZER_NAMES = ("sgd", "adam", "adamw", "rmsprop")

# Placeholder length used only to validate a schedule given without total_steps.
_PLACEHOLDER_STEPS = 1000


def default_schedule() -> dict[str, Any]:
    """The 1cycle schedule a run uses when none is given (total_steps filled in by the engine).

    Example:
        >>> default_schedule()["max_lr"]
        0.5
    """
    return {"kind": "onecycle", "max_lr": 0.5, "pct_start": 0.3, "div_factor": 25.0,
            "final_div_factor": 1e4, "anneal": "cos", "three_phase": False,
            "base_momentum": 0.85, "max_momentum": 0.95, "convention": "pytorch"}


class RunConfig(BaseModel):
    """Everything that defines one training run (see the module docstring).

    Attributes:
        name: Free label shown in the dashboard.
        dataset: A key of :data:`superconv.data.DATASETS`.
        model: A key of :data:`superconv.models.MODELS`.
        optimizer: ``sgd``, ``adam``, ``adamw`` or ``rmsprop`` (LR and momentum from the schedule).
        schedule: A schedule's ``to_dict()`` (``total_steps`` optional; replaced by the run length).
        epochs, batch_size: Run length; one optimizer step per batch (the last batch may be short).
        weight_decay: Decoupled weight decay of the Keras optimizer (``optimizer.weight_decay``):
            each step multiplies the weights by ``1 - lr * weight_decay``. 0 disables it.
        seed: Seeds data split, shuffling, initialization and TF ops (deterministic runs).
        val_fraction: Share of the data held out for validation (ignored by datasets with a fixed split).
        csv_path, label_column: For ``dataset="csv"``.
        max_samples: Subsample the training data (quick runs); ``None`` keeps all.
        width: Model width (units / base filters); ``None`` picks the model's default.
        mixed_precision: float16 compute on a GPU; ignored (and recorded so) on a CPU.
        jit_compile: Compile the train step with XLA.
        nesterov: Nesterov momentum (SGD only).
        shuffle: Reshuffle the training data every epoch (default); False keeps the file order.
    """

    # strict: "epochs": "3" or "mixed_precision": "yes" is refused, as a string max_lr in the schedule is
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False, strict=True)

    name: str = ""
    dataset: str = "digits"
    model: str = "mlp"
    optimizer: str = "sgd"
    schedule: dict[str, Any] = Field(default_factory=default_schedule)
    epochs: int = Field(default=10, ge=1, le=10_000)
    batch_size: int = Field(default=64, ge=1, le=1_000_000)
    weight_decay: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    val_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    csv_path: str | None = None
    label_column: str = "label"
    max_samples: int | None = Field(default=None, ge=10)
    width: int | None = Field(default=None, ge=1, le=4096)
    mixed_precision: bool = False
    jit_compile: bool = False
    nesterov: bool = False
    shuffle: bool = True

    @field_validator("epochs", "batch_size", "weight_decay", "seed", "val_fraction", "max_samples", "width",
                     mode="before")
    @classmethod
    def _no_bools(cls, value: Any, info: Any) -> Any:
        # pydantic's lax mode reads JSON true/false as 1/0: refuse them instead of training 1 epoch.
        if isinstance(value, bool):
            raise ValueError(f"{info.field_name} must be a number, not true/false; "
                             f"received {info.field_name}={value!r}")
        return value

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        from superconv.data import DATASETS

        if value not in DATASETS:
            raise ValueError(f"dataset must be one of {sorted(DATASETS)}; received dataset={value!r}")
        return value

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        from superconv.models import MODELS

        if value not in MODELS:
            raise ValueError(f"model must be one of {sorted(MODELS)}; received model={value!r}")
        return value

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        key = value.lower()
        if key not in OPTIMIZER_NAMES:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZER_NAMES)}; received optimizer={value!r}")
        return key

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: dict[str, Any]) -> dict[str, Any]:
        data = dict(value)
        has_steps = "total_steps" in data
        if not has_steps:
            data["total_steps"] = _PLACEHOLDER_STEPS
        try:
            schedule = schedule_from_dict(data)
        except ValueError as exc:
            raise ValueError(f"schedule is invalid: {exc}") from None
        out = schedule.to_dict()
        if not has_steps:
            out.pop("total_steps")
        return out

    @model_validator(mode="after")
    def _check_combination(self) -> "RunConfig":
        if self.dataset == "csv" and not self.csv_path:
            raise ValueError("csv_path is required when dataset='csv'; received csv_path=None")
        from superconv.data import INPUT_SHAPES
        from superconv.models import check_model_size, default_width

        shape, classes = INPUT_SHAPES.get(self.dataset, (None, None))  # None: a CSV, vectors of its columns
        if self.model != "mlp" and (shape is None or len(shape) == 1):  # refuse before a run is stored
            raise ValueError(f"model={self.model!r} needs images (height, width, channels) but dataset={self.dataset!r} "
                             f"gives vectors of shape {shape or '(features,)'}: use model='mlp'")
        if shape is not None:  # refuse a model too big to train before anything is stored
            width = self.width if self.width is not None else default_width(self.model)
            check_model_size(self.model, shape, classes, width)
        if self.nesterov and self.optimizer != "sgd":
            raise ValueError(f"nesterov applies to optimizer='sgd' only; received optimizer={self.optimizer!r}")
        # The schedule is stretched to the run's exact length: check it there, not on a placeholder, so a
        # run too short for its warm-up (or with a single step) is refused before it is stored.
        num_train, spe, total = self.run_length()
        try:
            self.build_schedule(total)
        except ValueError as exc:
            raise ValueError(f"the schedule does not fit this run of {total} optimizer steps (epochs={self.epochs} x "
                             f"{spe} per epoch, from {num_train} training samples and batch_size={self.batch_size}): "
                             f"{exc}; use more epochs or a smaller batch_size") from None
        return self

    def run_length(self) -> tuple[int, int, int]:
        """``(num_train, steps_per_epoch, total_steps)`` of this run, as the engine will train it.

        Computed without loading the data (a CSV file is read once to count its rows).

        Example:
            >>> RunConfig(dataset="digits", epochs=10, batch_size=64).run_length()
            (1438, 23, 230)
        """
        from superconv.data import split_sizes
        from superconv.schedules import steps_per_epoch

        num_train, _, _ = split_sizes(self.dataset, val_fraction=self.val_fraction, max_samples=self.max_samples,
                                      csv_path=self.csv_path, label_column=self.label_column)
        spe = steps_per_epoch(num_train, self.batch_size)
        return num_train, spe, self.epochs * spe

    def build_schedule(self, total_steps: int) -> Any:
        """The run's schedule stretched to exactly ``total_steps`` steps.

        Example:
            >>> RunConfig().build_schedule(290).total_steps
            290
        """
        return schedule_from_dict({**self.schedule, "total_steps": int(total_steps)})


_MESSAGES = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be a JSON object",
    "missing": "is required",
}


def format_validation_error(exc: ValidationError) -> str:
    """One readable line per problem: ``<field> <rule>; received <field>=<value>``.

    Example:
        >>> try:
        ...     RunConfig(batch_size="many")
        ... except ValidationError as exc:
        ...     print(format_validation_error(exc))
        batch_size must be an integer; received batch_size='many'
    """
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "config"
        kind = err["type"]
        value = err.get("input")
        if kind == "value_error":
            lines.append(str(err.get("ctx", {}).get("error", err["msg"])))
        elif kind == "extra_forbidden":
            known = ", ".join(RunConfig.model_fields)
            lines.append(f"unknown field {field!r} (known fields: {known}); received {field}={value!r}")
        elif kind == "missing":
            lines.append(f"{field} is required")
        elif kind in _MESSAGES:
            rule = _MESSAGES[kind].format(**err.get("ctx", {}))
            lines.append(f"{field} {rule}; received {field}={value!r}")
        else:
            lines.append(f"{field}: {err['msg']}; received {field}={value!r}")
    return "\n".join(lines)


def load_run_config(source: RunConfig | dict[str, Any] | str | os.PathLike[str]) -> RunConfig:
    """Validate a run config from a dict, a ``RunConfig`` or a JSON file path.

    Raises:
        ValueError: naming the field and the value (one line per problem).

    Example:
        >>> load_run_config({"optimizer": "lamb"})
        Traceback (most recent call last):
        ...
        ValueError: optimizer must be one of ['sgd', 'adam', 'adamw', 'rmsprop']; received optimizer='lamb'
    """
    if isinstance(source, RunConfig):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"config file {str(path)!r} cannot be read: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"config file {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(source, dict):
        raise ValueError(f"a run config must be a JSON object; received {type(source).__name__}")
    try:
        return RunConfig.model_validate(source)
    except ValidationError as exc:
        raise ValueError(format_validation_error(exc)) from None
