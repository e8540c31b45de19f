"""The Schedule Designer's settings: validation, share links, JSON configs and code snippets.

Pure Python (no Streamlit, no TensorFlow), so the dashboard page stays a thin layer of widgets.
A :class:`DesignerSettings` holds everything the designer's controls set; it round-trips through
URL query parameters (the share link) and a JSON config, and renders copy-paste snippets for
Keras (superconv's optimizers), PyTorch's ``OneCycleLR`` and fastai's ``fit_one_cycle``.
Every invalid value raises ValueError naming the field and the value received.

Example:
    >>> s = DesignerSettings(max_lr=0.1, epochs=10, num_samples=1797, batch_size=64)
    >>> s.total_steps, s.steps_per_epoch
    (290, 29)
    >>> settings_from_query_params(s.to_query_params()) == s
    True
    >>> settings_from_query_params({"pct_start": "1.3"})
    Traceback (most recent call last):
    ...
    ValueError: pct_start must be in (0, 1); received pct_start=1.3
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from typing import Any, Mapping, Sequence

import numpy as np

from superconv.schedules import (
    Constant,
    CyclicLR,
    OneCycle,
    Schedule,
    StepDecay,
    schedule_from_dict,
    steps_per_epoch,
    total_steps_for,
)

__all__ = [
    "CONFIG_FORMAT",
    "MAX_TOTAL_STEPS",
    "DesignerSettings",
    "settings_from_query_params",
    "settings_from_dict",
    "settings_from_json",
    "settings_to_json",
    "schedule_csv",
    "keras_snippet",
    "pytorch_snippet",
    "fastai_snippet",
    "max_lr_grid",
    "BASELINES",
    "baseline_schedule",
]

CONFIG_FORMAT = "superconv-designer"
MAX_TOTAL_STEPS = 10_000_000
"""Largest step budget the designer accepts (the preview itself is decimated, any length is cheap)."""

MAX_LR = 1e3
"""Largest max_lr the designer accepts (the LR finder's custom pick has the same cap): beyond it a chart
has nothing to show but overflow."""

_FLOAT_FIELDS = ("max_lr", "div_factor", "final_div_factor", "div_final", "pct_start", "base_momentum", "max_momentum")
_INT_FIELDS = ("epochs", "num_samples", "batch_size")
_CHOICES = {"anneal": ("cos", "linear"), "convention": ("pytorch", "fastai")}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclasses.dataclass(frozen=True)
class DesignerSettings:
    """Everything the Schedule Designer's controls set; invalid combinations cannot be built.

    Args:
        max_lr: Peak learning rate.
        div_factor: Start LR is ``max_lr / div_factor`` (fastai's ``div``).
        final_div_factor: PyTorch convention: final LR = ``max_lr / div_factor / final_div_factor``.
        div_final: fastai convention: final LR = ``max_lr / div_final``.
        pct_start: Fraction of the steps spent warming up.
        anneal: ``"cos"`` or ``"linear"`` (fastai: cosine only).
        three_phase: PyTorch's three-phase variant (not available with fastai).
        base_momentum: Momentum at the LR peak.
        max_momentum: Momentum at the start and the end.
        convention: ``"pytorch"`` or ``"fastai"``.
        epochs: Epochs in the run.
        num_samples: Training samples per epoch.
        batch_size: Batch size; one optimizer step per batch (the last short batch counts).

    Example:
        >>> DesignerSettings(convention="fastai", div_final=1e5).schedule().min_lr
        1e-06
        >>> DesignerSettings(batch_size=0)
        Traceback (most recent call last):
        ...
        ValueError: batch_size must be an integer >= 1; received batch_size=0
    """

    max_lr: float = 0.1
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    div_final: float = 1e5
    pct_start: float = 0.3
    anneal: str = "cos"
    three_phase: bool = False
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    convention: str = "pytorch"
    epochs: int = 10
    num_samples: int = 50_000
    batch_size: int = 128

    def __post_init__(self) -> None:
        if isinstance(self.max_lr, (int, float)) and self.max_lr > MAX_LR:
            raise ValueError(f"max_lr must be <= {MAX_LR:g}; received max_lr={self.max_lr!r}")
        total = total_steps_for(self.num_samples, self.batch_size, self.epochs)
        if total > MAX_TOTAL_STEPS:
            raise ValueError(
                f"total_steps must be <= {MAX_TOTAL_STEPS}; received total_steps={total} "
                f"(epochs={self.epochs}, num_samples={self.num_samples}, batch_size={self.batch_size})"
            )
        if self.convention == "fastai" and self.three_phase is True:
            raise ValueError("three_phase=True is a PyTorch option; received three_phase=True with convention='fastai'")
        if self.convention == "fastai" and self.anneal != "cos":
            raise ValueError(
                f"fastai's fit_one_cycle anneals with cosine only; received anneal={self.anneal!r} "
                "with convention='fastai'"
            )
        self.schedule()  # validates every schedule field, naming the field

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps (batches) per epoch."""
        return steps_per_epoch(self.num_samples, self.batch_size)

    @property
    def total_steps(self) -> int:
        """Optimizer steps in the whole run: ``epochs * steps_per_epoch``."""
        return total_steps_for(self.num_samples, self.batch_size, self.epochs)

    def schedule(self) -> OneCycle:
        """The 1cycle schedule these settings describe."""
        if self.convention == "fastai":
            return OneCycle.fastai(
                self.max_lr,
                self.total_steps,
                div=self.div_factor,
                div_final=self.div_final,
                pct_start=self.pct_start,
                moms=(self.max_momentum, self.base_momentum, self.max_momentum),
            )
        return OneCycle(
            max_lr=self.max_lr,
            total_steps=self.total_steps,
            pct_start=self.pct_start,
            div_factor=self.div_factor,
            final_div_factor=self.final_div_factor,
            anneal=self.anneal,
            three_phase=self.three_phase,
            base_momentum=self.base_momentum,
            max_momentum=self.max_momentum,
            convention=self.convention,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict of the fields."""
        return dataclasses.asdict(self)

    def to_query_params(self) -> dict[str, str]:
        """URL query parameters that restore these settings (:func:`settings_from_query_params`).

        Example:
            >>> DesignerSettings().to_query_params()["max_lr"]
            '0.1'
        """
        out = {}
        for key, value in self.to_dict().items():
            out[key] = ("true" if value else "false") if isinstance(value, bool) else repr(value) if isinstance(value, float) else str(value)
        return out


def _field_value(name: str, raw: Any) -> Any:
    """Coerce one raw value (a query-param string or a JSON value) to the field's type."""
    if isinstance(raw, (list, tuple)) and not isinstance(raw, str):
        if len(raw) != 1:
            raise ValueError(f"{name} must be given once; received {name}={list(raw)!r}")
        raw = raw[0]
    if name in _FLOAT_FIELDS:
        if isinstance(raw, bool):
            raise ValueError(f"{name} must be a finite number; received {name}={raw!r}")
        if isinstance(raw, str):
            try:
                value = float(raw.strip())
            except ValueError:
                raise ValueError(f"{name} must be a finite number; received {name}={raw!r}") from None
        elif isinstance(raw, (int, float)):
            value = float(raw)
        else:
            raise ValueError(f"{name} must be a finite number; received {name}={raw!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number; received {name}={raw!r}")
        return value
    if name in _INT_FIELDS:
        if isinstance(raw, bool):
            raise ValueError(f"{name} must be an integer >= 1; received {name}={raw!r}")
        if isinstance(raw, str):
            try:
                return int(raw.strip())
            except ValueError:
                raise ValueError(f"{name} must be an integer >= 1; received {name}={raw!r}") from None
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, int):
            return raw
        raise ValueError(f"{name} must be an integer >= 1; received {name}={raw!r}")
    if name == "three_phase":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        raise ValueError(f"three_phase must be true or false; received three_phase={raw!r}")
    if name in _CHOICES:
        if raw not in _CHOICES[name]:
            raise ValueError(f"{name} must be one of {list(_CHOICES[name])}; received {name}={raw!r}")
        return raw
    raise ValueError(f"unknown field {name!r}; the designer's fields are {[f.name for f in dataclasses.fields(DesignerSettings)]}")


def settings_from_dict(data: Mapping[str, Any], base: DesignerSettings | None = None) -> DesignerSettings:
    """Settings from a mapping of field values; missing fields keep ``base``'s (default: defaults).

    Unknown fields raise ValueError (a typo must not be silently ignored).

    Example:
        >>> settings_from_dict({"max_lr": 0.5, "epochs": 3}).max_lr
        0.5
        >>> settings_from_dict({"max_rl": 0.5})
        Traceback (most recent call last):
        ...
        ValueError: unknown field 'max_rl'; the designer's fields are ['max_lr', 'div_factor', 'final_div_factor', 'div_final', 'pct_start', 'anneal', 'three_phase', 'base_momentum', 'max_momentum', 'convention', 'epochs', 'num_samples', 'batch_size']
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"settings must be a JSON object; received {type(data).__name__}: {data!r:.80}")
    values = {name: _field_value(name, raw) for name, raw in data.items()}
    return dataclasses.replace(base or DesignerSettings(), **values)


def settings_from_query_params(params: Mapping[str, Any], base: DesignerSettings | None = None) -> DesignerSettings:
    """Parse a share link's query parameters (strings) into settings.

    Parameters that are not designer fields are ignored (a link may carry other state);
    a designer field with a bad value raises ValueError naming it.

    Args:
        params: ``st.query_params`` or any mapping of name -> string (or list of strings).
        base: Settings for the fields the link does not set (default: defaults).

    Example:
        >>> settings_from_query_params({"max_lr": "0.3", "three_phase": "true"}).three_phase
        True
        >>> settings_from_query_params({"max_lr": "fast"})
        Traceback (most recent call last):
        ...
        ValueError: max_lr must be a finite number; received max_lr='fast'
    """
    names = {f.name for f in dataclasses.fields(DesignerSettings)}
    return settings_from_dict({k: v for k, v in params.items() if k in names}, base)


def settings_from_link(params: Mapping[str, Any], base: DesignerSettings | None = None) -> tuple[DesignerSettings, list[str]]:
    """Apply a share link: the whole link when it is valid, else field by field, keeping the valid fields.

    One bad value in an edited link should not throw away the rest of it. A valid link applies as a
    whole (fields such as a momentum range of 0.96-0.98 are only valid together). Otherwise fields apply
    one at a time, in passes: a field refused in one pass is tried again once later fields have applied;
    a field that still makes the settings invalid is skipped and reported.

    Args:
        params: ``st.query_params`` or any mapping of name -> string (or list of strings).
        base: Settings for the fields the link does not set (default: defaults).

    Returns:
        ``(settings, errors)``: the settings with every valid field applied, and one message per
        skipped field (empty when the whole link applies).

    Example:
        >>> s, errors = settings_from_link({"max_lr": "0.3", "pct_start": "0", "epochs": "4"})
        >>> s.max_lr, s.pct_start, s.epochs, errors
        (0.3, 0.3, 4, ['pct_start must be in (0, 1); received pct_start=0.0'])
        >>> s, errors = settings_from_link({"base_momentum": "0.96", "max_momentum": "0.98"})
        >>> s.base_momentum, s.max_momentum, errors
        (0.96, 0.98, [])
    """
    names = {f.name for f in dataclasses.fields(DesignerSettings)}
    fields = [(name, raw) for name, raw in params.items() if name in names]
    settings = base or DesignerSettings()
    try:
        return settings_from_dict(dict(fields), settings), []
    except ValueError:
        pass
    errors: dict[str, str] = {}
    while fields:
        errors, refused = {}, []
        for name, raw in fields:
            try:
                settings = settings_from_dict({name: raw}, settings)
            except ValueError as exc:
                errors[name] = str(exc)
                refused.append((name, raw))
        if len(refused) == len(fields):  # no progress: these fields are invalid
            break
        fields = refused
    return settings, list(errors.values())


def settings_to_json(settings: DesignerSettings) -> str:
    """The designer's JSON config: the settings plus the schedule's ``to_dict()``.

    ``superconv schedule --config FILE`` and :func:`settings_from_json` both read it.

    Example:
        >>> json.loads(settings_to_json(DesignerSettings()))["schedule"]["kind"]
        'onecycle'
    """
    return json.dumps(
        {"format": CONFIG_FORMAT, "version": 1, "settings": settings.to_dict(), "schedule": settings.schedule().to_dict()},
        indent=2,
    )


def settings_from_json(text: str | bytes) -> DesignerSettings:
    """Settings from a JSON config (:func:`settings_to_json`) or a bare 1cycle ``to_dict()``.

    A bare schedule has no epochs or dataset size: its step budget becomes one epoch of
    ``total_steps`` samples at batch size 1, which gives the same number of steps.

    Example:
        >>> settings_from_json('{"kind": "onecycle", "max_lr": 0.2, "total_steps": 500}').total_steps
        500
        >>> settings_from_json("{oops")
        Traceback (most recent call last):
        ...
        ValueError: the config is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
    """
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"the config is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the config must be a JSON object; received {type(data).__name__}: {data!r:.80}")
    if "settings" in data:
        return settings_from_dict(data["settings"])
    if "kind" in data:
        if data["kind"] != "onecycle":
            raise ValueError(
                f"the designer edits 1cycle schedules; received kind={data['kind']!r} "
                "(add baselines in the Compare tab)"
            )
        sched = schedule_from_dict(data)
        assert isinstance(sched, OneCycle)
        values: dict[str, Any] = {
            "max_lr": sched.max_lr, "div_factor": sched.div_factor, "pct_start": sched.pct_start,
            "anneal": sched.anneal, "three_phase": sched.three_phase, "base_momentum": sched.base_momentum,
            "max_momentum": sched.max_momentum, "convention": sched.convention,
            "epochs": 1, "num_samples": sched.total_steps, "batch_size": 1,
        }
        if sched.convention == "fastai":
            values["div_final"] = sched.div_factor * sched.final_div_factor
        else:
            values["final_div_factor"] = sched.final_div_factor
        return settings_from_dict(values)
    raise ValueError(
        f"the config needs a 'settings' object (designer export) or a 'kind' (schedule); received keys {sorted(data)}"
    )


def schedule_csv(schedule: Any, steps_per_epoch: int | None = None) -> str:
    """The whole curve as CSV: ``step,epoch,lr,momentum`` (epoch = step / steps_per_epoch).

    Example:
        >>> print(schedule_csv(OneCycle(max_lr=1.0, total_steps=4, pct_start=0.5, anneal="linear"), 2))
        step,epoch,lr,momentum
        0,0.0,0.04,0.95
        1,0.5,1.0,0.85
        2,1.0,0.5000020000000001,0.8999999999999999
        3,1.5,4.000000000004e-06,0.95
        <BLANKLINE>
    """
    steps, lr, mom = schedule.curves()
    epoch = steps / steps_per_epoch if steps_per_epoch else steps.astype(np.float64)
    buf = io.StringIO()
    buf.write("step,epoch,lr,momentum\n")
    table = np.column_stack([steps, epoch, lr, mom])
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows([int(r[0]), repr(float(r[1])), repr(float(r[2])), repr(float(r[3]))] for r in table)
    return buf.getvalue()


def _num(value: float) -> str:
    """A float as Python source that evaluates back to the same float."""
    return repr(float(value))


def keras_snippet(settings: DesignerSettings, optimizer: str = "sgd") -> str:
    """Copy-paste Keras code building this schedule with superconv's optimizers.

    The snippet defines ``schedule``, ``optimizer`` and ``EPOCHS``/``BATCH_SIZE`` and shows the
    ``compile``/``fit`` lines as comments (they need your model and data).

    Example:
        >>> "superconv.keras.one_cycle_optimizer(\\"sgd\\", schedule)" in keras_snippet(DesignerSettings())
        True
    """
    s = settings
    if s.convention == "fastai":
        build = (
            f"schedule = superconv.OneCycle.fastai(\n"
            f"    {_num(s.max_lr)}, total_steps, div={_num(s.div_factor)}, div_final={_num(s.div_final)},\n"
            f"    pct_start={_num(s.pct_start)}, moms=({_num(s.max_momentum)}, {_num(s.base_momentum)}, {_num(s.max_momentum)}),\n"
            f")"
        )
    else:
        build = (
            f"schedule = superconv.OneCycle(\n"
            f"    max_lr={_num(s.max_lr)}, total_steps=total_steps, pct_start={_num(s.pct_start)},\n"
            f"    div_factor={_num(s.div_factor)}, final_div_factor={_num(s.final_div_factor)}, anneal={s.anneal!r},\n"
            f"    three_phase={s.three_phase}, base_momentum={_num(s.base_momentum)}, max_momentum={_num(s.max_momentum)},\n"
            f")"
        )
    return (
        "import superconv\n"
        "import superconv.keras\n"
        "\n"
        f"EPOCHS, NUM_SAMPLES, BATCH_SIZE = {s.epochs}, {s.num_samples}, {s.batch_size}\n"
        f"total_steps = superconv.total_steps_for(NUM_SAMPLES, BATCH_SIZE, EPOCHS)  # {s.total_steps} (one step per batch)\n"
        f"{build}\n"
        f'optimizer = superconv.keras.one_cycle_optimizer("{optimizer}", schedule)  # momentum cycles too\n'
        "\n"
        '# model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])\n'
        "# model.fit(x_train, y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,\n"
        "#           callbacks=[superconv.keras.ScheduleGuard(schedule)])  # refuses to step past total_steps\n"
    )


def pytorch_snippet(settings: DesignerSettings) -> str:
    """The equivalent ``torch.optim.lr_scheduler.OneCycleLR`` call (expects your ``model``).

    With the fastai convention the numbers are translated (``final_div_factor = div_final / div``);
    PyTorch's warm-up then ends one step earlier than fastai's, as the comment says.

    Example:
        >>> "final_div_factor=10000.0" in pytorch_snippet(DesignerSettings())
        True
    """
    s = settings
    sched = s.schedule()
    note = ""
    if s.convention == "fastai":
        note = (
            "# fastai convention translated: final_div_factor = div_final / div_factor.\n"
            "# PyTorch ends the warm-up at step pct_start*total_steps - 1, fastai at pct_start*total_steps.\n"
        )
    return (
        "import torch\n"
        "\n"
        f"EPOCHS, STEPS_PER_EPOCH = {s.epochs}, {s.steps_per_epoch}  # len(train_loader) = ceil({s.num_samples} / {s.batch_size})\n"
        f"{note}"
        f"optimizer = torch.optim.SGD(model.parameters(), lr={_num(s.max_lr)}, momentum={_num(s.max_momentum)})\n"
        "scheduler = torch.optim.lr_scheduler.OneCycleLR(\n"
        f"    optimizer, max_lr={_num(s.max_lr)}, total_steps=EPOCHS * STEPS_PER_EPOCH, pct_start={_num(s.pct_start)},\n"
        f"    anneal_strategy={s.anneal!r}, cycle_momentum=True, base_momentum={_num(s.base_momentum)}, "
        f"max_momentum={_num(s.max_momentum)},\n"
        f"    div_factor={_num(sched.div_factor)}, final_div_factor={_num(sched.final_div_factor)}, "
        f"three_phase={s.three_phase},\n"
        ")\n"
        "# call scheduler.step() after every optimizer.step(): once per batch, not per epoch\n"
    )


def fastai_snippet(settings: DesignerSettings) -> str:
    """The fastai ``fit_one_cycle`` call for the fastai convention (expects your ``learn``).

    Example:
        >>> print(fastai_snippet(DesignerSettings(convention="fastai", epochs=5)))
        learn.fit_one_cycle(5, lr_max=0.1, div=25.0, div_final=100000.0, pct_start=0.3, moms=(0.95, 0.85, 0.95))
        <BLANKLINE>
    """
    s = settings
    return (
        f"learn.fit_one_cycle({s.epochs}, lr_max={_num(s.max_lr)}, div={_num(s.div_factor)}, "
        f"div_final={_num(s.div_final)}, pct_start={_num(s.pct_start)}, "
        f"moms=({_num(s.max_momentum)}, {_num(s.base_momentum)}, {_num(s.max_momentum)}))\n"
    )


def applied_peak(schedule: OneCycle) -> tuple[int, float]:
    """``(step, lr)`` of the highest LR a 1cycle schedule applies on its integer steps.

    ``max_lr`` is reached exactly only when the warm-up ends on a whole step; otherwise the highest
    applied LR sits on one of the steps around the warm-up's end, a little below ``max_lr``.

    Args:
        schedule: A :class:`superconv.schedules.OneCycle`.

    Example:
        >>> applied_peak(OneCycle(max_lr=0.1, total_steps=1000))  # warm-up ends at step 0.3 * 1000 - 1
        (299, 0.1)
        >>> step, lr = applied_peak(OneCycle(max_lr=0.3, total_steps=145, pct_start=0.25, div_factor=10,
        ...                                  final_div_factor=1000, anneal="linear"))
        >>> step, round(lr, 6)
        (35, 0.298085)
    """
    end = schedule.phase_boundaries()[0]
    steps = np.arange(max(0, end - 2), min(schedule.total_steps, end + 3))
    lrs = schedule.lr(steps)
    k = int(np.argmax(lrs))
    return int(steps[k]), float(lrs[k])


def max_lr_grid(extra: Sequence[float] = (), low_exp: int = -6, high_exp: int = 1) -> list[float]:
    """Log-spaced choices for a max-LR slider: 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 per decade.

    Values in ``extra`` (e.g. a shared link's or the LR finder's max_lr) are inserted in order.

    Example:
        >>> g = max_lr_grid(extra=[0.0347], low_exp=-2, high_exp=-1)
        >>> g[:4], g[-1], 0.0347 in g
        ([0.01, 0.012, 0.015, 0.02], 0.1, True)
    """
    mantissas = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
    grid = {float(f"{m}e{e}") for e in range(low_exp, high_exp) for m in mantissas}
    grid.add(float(f"1e{high_exp}"))
    grid.update(float(v) for v in extra)
    return sorted(grid)


BASELINES = {
    "constant": "Constant LR and momentum (the usual default)",
    "step": "Step decay: the LR drops by a factor at fractions of the run (the paper's PC-LR)",
    "cyclic": "Triangular cyclical LR (CLR), momentum cycling inversely",
}


def baseline_schedule(kind: str, total_steps: int, **params: Any) -> tuple[str, Schedule]:
    """A baseline to compare against, labelled by its parameters.

    Args:
        kind: ``"constant"`` (``lr``, ``momentum``), ``"step"`` (``lr``, ``boundaries`` as a list or a
            comma-separated string of fractions, ``factor``, ``momentum``) or ``"cyclic"``
            (``base_lr``, ``max_lr``, ``cycles``: full triangles over the run, ``base_momentum``,
            ``max_momentum``).
        total_steps: Steps covered (the designer passes its current step budget).
        **params: The kind's parameters.

    Returns:
        ``(label, schedule)``.

    Example:
        >>> label, s = baseline_schedule("cyclic", 1000, base_lr=0.01, max_lr=0.1, cycles=2)
        >>> label, s.step_size
        ('CLR 0.01-0.1 x2', 250)
        >>> baseline_schedule("step", 100, lr=0.1, boundaries="0.5, 1.5")
        Traceback (most recent call last):
        ...
        ValueError: boundaries must be increasing fractions in (0, 1); received boundaries=[0.5, 1.5]
    """
    if kind == "constant":
        sched: Schedule = Constant(params.get("lr", 0.01), total_steps, params.get("momentum", 0.9))
        return f"constant {sched.lr_value:g}", sched
    if kind == "step":
        bounds = params.get("boundaries", (0.5, 0.75))
        if isinstance(bounds, str):
            try:
                bounds = [float(b) for b in bounds.replace(";", ",").split(",") if b.strip()]
            except ValueError:
                raise ValueError(f"boundaries must be comma-separated fractions; received boundaries={bounds!r}") from None
        sched = StepDecay(params.get("lr", 0.1), total_steps, tuple(bounds), params.get("factor", 0.1),
                          params.get("momentum", 0.9))
        return f"step {sched.lr_value:g} x{sched.factor:g} at {', '.join(f'{b:g}' for b in sched.boundaries)}", sched
    if kind == "cyclic":
        cycles = params.get("cycles", 4)
        if isinstance(cycles, bool) or not isinstance(cycles, (int, float)) or cycles < 1 or cycles != int(cycles):
            raise ValueError(f"cycles must be an integer >= 1; received cycles={cycles!r}")
        step_size = max(1, round(total_steps / (2 * int(cycles))))
        sched = CyclicLR(params.get("base_lr", 0.001), params.get("max_lr", 0.1), total_steps, step_size,
                         params.get("base_momentum", 0.85), params.get("max_momentum", 0.95))
        return f"CLR {sched.base_lr:g}-{sched.max_lr:g} x{int(cycles)}", sched
    raise ValueError(f"kind must be one of {list(BASELINES)}; received kind={kind!r}")
