"""Pure Plotly figure builders for training runs (no Streamlit, no TensorFlow).

Inputs are pandas frames as the run store returns them: per-batch rows ``step, loss, lr, momentum``
and per-epoch rows ``epoch, train_loss, train_acc, val_loss, val_acc``, keyed by a run label. Every
run keeps one colour across figures and its traces share a legend group (one click hides a run).
Trace data are plain lists (not base64 typed arrays) so a chart's data reads the same in tests,
in the page's JSON and in the browser. Long curves are decimated after smoothing.

Example:
    >>> import pandas as pd
    >>> b = pd.DataFrame({"step": [0, 1, 2], "loss": [2.0, 1.5, 1.4], "lr": [0.1] * 3, "momentum": [0.9] * 3})
    >>> fig = batch_figure({"run 1": b})
    >>> [t.name for t in fig.data]
    ['run 1 loss', 'run 1 loss (smoothed)', 'run 1 lr', 'run 1 momentum']
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from superconv.plots import schedule_points
from superconv.schedules import Schedule
from superconv.smoothing import decimate, ema

PALETTE = qualitative.Plotly + qualitative.D3


def run_colors(labels: Sequence[str]) -> dict[str, str]:
    """A stable colour per label, in order (cycling through a 20-colour palette).

    Example:
        >>> run_colors(["a", "b"])
        {'a': '#636EFA', 'b': '#EF553B'}
    """
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}


def run_colors_by_id(labels: Mapping[int, str]) -> dict[str, str]:
    """A colour per run that stays the run's own while runs are added to or taken off a chart.

    Run ``n`` takes the palette's ``n``-th colour (cycling through the 20 colours), so a teacher can say
    "the blue one" while new runs start; when two overlaid runs' ids share a colour, the later id takes
    the next free one.

    Args:
        labels: run id -> the label its traces carry.

    Returns:
        label -> colour.

    Example:
        >>> run_colors_by_id({7: "#7 1cycle", 3: "#3 constant"})
        {'#3 constant': '#00CC96', '#7 1cycle': '#FF6692'}
        >>> run_colors_by_id({1: "#1", 21: "#21"})  # 21 would share #1's colour
        {'#1': '#636EFA', '#21': '#EF553B'}
    """
    taken: set[str] = set()
    colors = {}
    for run_id in sorted(labels):
        k = (int(run_id) - 1) % len(PALETTE)
        if len(taken) < len(PALETTE):
            while PALETTE[k] in taken:
                k = (k + 1) % len(PALETTE)
        colors[labels[run_id]] = PALETTE[k]
        taken.add(PALETTE[k])
    return colors


def _epoch_ticks(fig: go.Figure, runs: Mapping[str, pd.DataFrame]) -> None:
    """One tick per whole epoch on short runs (Plotly would label 1, 1.5, 2 ... otherwise)."""
    longest = max((len(frame) for frame in runs.values()), default=0)
    fig.update_xaxes(title_text="epoch", dtick=1 if longest <= 15 else None)


def _lst(a: Any) -> list:
    return np.asarray(a, dtype=np.float64).tolist()


def _nan_to_none(a: Any) -> list:
    return [None if not np.isfinite(v) else v for v in np.asarray(a, dtype=np.float64).tolist()]


def batch_figure(
    runs: Mapping[str, pd.DataFrame],
    *,
    planned: Mapping[str, Schedule] | None = None,
    beta: float = 0.98,
    max_points: int = 2000,
    show_raw: bool = True,
    log_loss: bool = False,
    colors: Mapping[str, str] | None = None,
    height: int = 640,
) -> go.Figure:
    """Per-batch loss (raw and EMA-smoothed) above the learning rate and momentum, shared step axis.

    Args:
        runs: label -> frame with ``step, loss, lr, momentum`` (the applied values read back from
            the optimizer). Empty frames are allowed (a queued run).
        planned: label -> the schedule the run follows; drawn dotted over its whole length so the
            applied curve can be checked against it and the rest of the run is visible.
        beta: EMA factor of the smoothed loss (:func:`superconv.smoothing.ema`).
        max_points: Decimation budget per trace.
        show_raw: Draw the raw per-batch loss (faint) under the smoothed one.
        log_loss: Log scale for the loss axis.
        colors: label -> colour (default :func:`run_colors`).
        height: Figure height in pixels.

    Returns:
        A 3-row figure; traces per run: ``"<label> loss"`` (if ``show_raw``),
        ``"<label> loss (smoothed)"``, ``"<label> lr"``, ``"<label> momentum"`` and, with ``planned``,
        ``"<label> lr planned"`` and ``"<label> momentum planned"``.

    Example:
        >>> from superconv import OneCycle
        >>> b = pd.DataFrame({"step": [0, 1], "loss": [2.0, 1.0], "lr": [0.004, 0.1], "momentum": [0.95, 0.85]})
        >>> fig = batch_figure({"a": b}, planned={"a": OneCycle(0.1, total_steps=10)}, show_raw=False)
        >>> [t.name for t in fig.data][-2:], len(fig.data[-2].y)
        (['a lr planned', 'a momentum planned'], 10)
    """
    colors = dict(colors or run_colors(list(runs)))
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.5, 0.25, 0.25],
                        subplot_titles=("Training loss per batch", "Learning rate (applied vs planned)",
                                        "Momentum (applied vs planned)"))
    for label, frame in runs.items():
        color = colors.get(label, PALETTE[0])
        steps = np.asarray(frame["step"], dtype=np.int64) if len(frame) else np.zeros(0, dtype=np.int64)
        loss = np.asarray(frame["loss"], dtype=np.float64) if len(frame) else np.zeros(0)
        idx = decimate(len(steps), max_points)
        x = steps[idx].tolist()
        common = dict(legendgroup=label, line=dict(color=color))
        if show_raw:
            fig.add_trace(go.Scatter(x=x, y=_nan_to_none(loss[idx]), name=f"{label} loss", mode="lines",
                                     opacity=0.3, showlegend=False, legendgroup=label,
                                     line=dict(color=color, width=1)), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=_nan_to_none(ema(loss, beta)[idx]), name=f"{label} loss (smoothed)",
                                 mode="lines", **common), row=1, col=1)
        for row, col_name in ((2, "lr"), (3, "momentum")):
            values = np.asarray(frame[col_name], dtype=np.float64) if len(frame) else np.zeros(0)
            fig.add_trace(go.Scatter(x=x, y=_nan_to_none(values[idx]), name=f"{label} {col_name}", mode="lines",
                                     showlegend=False, **common), row=row, col=1)
        schedule = (planned or {}).get(label)
        if schedule is not None:
            p_steps, p_lr, p_mom = schedule.curves()
            p_idx = decimate(len(p_steps), max_points)
            for row, name, values in ((2, "lr", p_lr), (3, "momentum", p_mom)):
                fig.add_trace(go.Scatter(x=p_steps[p_idx].tolist(), y=_lst(values[p_idx]), name=f"{label} {name} planned",
                                         mode="lines", showlegend=False, legendgroup=label,
                                         line=dict(color=color, dash="dot", width=1)), row=row, col=1)
    if not any(len(frame) for frame in runs.values()):  # nothing measured yet: no made-up axes
        if planned:
            _waiting(fig, "waiting for the first batch", [(1, 1)], fix_x=False)
        else:
            _waiting(fig, "waiting for the first batch", [(1, 1), (2, 1), (3, 1)])
    fig.update_yaxes(title_text="loss", type="log" if log_loss else "linear", row=1, col=1)
    fig.update_yaxes(title_text="lr", row=2, col=1)
    fig.update_yaxes(title_text="momentum", row=3, col=1)
    fig.update_xaxes(title_text="step (batch)", row=3, col=1)
    fig.update_layout(height=height, margin=dict(l=60, r=20, t=40, b=40), hovermode="x unified",
                      legend=dict(orientation="h", y=-0.12))
    return fig


def _waiting(fig: go.Figure, text: str, panels: Sequence[tuple[int, int]], fix_x: bool = True) -> None:
    """Mark empty panels (no measured point yet): a note in the middle, no tick labels on a made-up range.

    ``fix_x=False`` leaves the step axis alone (shared with panels that already show a planned curve).
    """
    for row, col in panels:
        if fix_x:
            fig.update_xaxes(showticklabels=False, range=[0, 1], row=row, col=col)
        fig.update_yaxes(showticklabels=False, range=[0, 1], row=row, col=col)
        xref, yref = fig.get_subplot(row, col).xaxis.plotly_name, fig.get_subplot(row, col).yaxis.plotly_name
        fig.add_annotation(text=text, xref=f"{xref.replace('axis', '')} domain", yref=f"{yref.replace('axis', '')} domain",
                           x=0.5, y=0.5, showarrow=False, font=dict(color="gray"))


def _epoch_x(frame: pd.DataFrame) -> list[int]:
    # Epochs counted from 1 ("after one pass over the data"), whatever the store's numbering.
    return list(range(1, len(frame) + 1))


def epoch_figure(
    runs: Mapping[str, pd.DataFrame],
    *,
    target: float | None = None,
    colors: Mapping[str, str] | None = None,
    height: int = 380,
) -> go.Figure:
    """Validation loss and validation accuracy per epoch, side by side (train curves dashed).

    Args:
        runs: label -> frame with ``train_loss, train_acc, val_loss, val_acc`` in epoch order.
        target: Draw this accuracy as a horizontal line on the accuracy panel.
        colors: label -> colour.
        height: Figure height in pixels.

    Example:
        >>> e = pd.DataFrame({"epoch": [0, 1], "train_loss": [1.0, 0.5], "train_acc": [0.6, 0.8],
        ...                   "val_loss": [1.1, 0.7], "val_acc": [0.55, 0.75]})
        >>> fig = epoch_figure({"a": e}, target=0.7)
        >>> [(t.name, t.x, t.y) for t in fig.data if t.name == "a val acc"]
        [('a val acc', (1, 2), (0.55, 0.75))]
    """
    colors = dict(colors or run_colors(list(runs)))
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("Loss per epoch (validation solid, training dashed)",
                                        "Accuracy per epoch (validation solid, training dashed)"))
    for label, frame in runs.items():
        color = colors.get(label, PALETTE[0])
        x = _epoch_x(frame)
        for col, metric in ((1, "loss"), (2, "acc")):
            fig.add_trace(go.Scatter(x=x, y=_nan_to_none(frame[f"val_{metric}"]) if len(frame) else [],
                                     name=f"{label} val {metric}", mode="lines+markers", legendgroup=label,
                                     showlegend=col == 1, line=dict(color=color)), row=1, col=col)
            fig.add_trace(go.Scatter(x=x, y=_nan_to_none(frame[f"train_{metric}"]) if len(frame) else [],
                                     name=f"{label} train {metric}", mode="lines", legendgroup=label,
                                     showlegend=False, line=dict(color=color, dash="dash", width=1)), row=1, col=col)
    if target is not None:
        fig.add_hline(y=float(target), line=dict(color="gray", dash="dot"), row=1, col=2,
                      annotation_text=f"target {float(target):.0%}", annotation_position="bottom right")
    if not any(len(frame) for frame in runs.values()):
        _waiting(fig, "waiting for the first epoch", [(1, 1), (1, 2)])
    _epoch_ticks(fig, runs)
    fig.update_yaxes(title_text="loss", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", row=1, col=2)
    fig.update_layout(height=height, margin=dict(l=60, r=20, t=40, b=40), legend=dict(orientation="h", y=-0.2))
    return fig


def gap_figure(
    runs: Mapping[str, pd.DataFrame],
    *,
    colors: Mapping[str, str] | None = None,
    height: int = 320,
) -> go.Figure:
    """The generalization gap per epoch: validation minus training loss, training minus validation accuracy.

    A large learning rate regularizes: with 1cycle the gap stays small while the LR is high and
    the training loss catches up during the final annihilation.

    Example:
        >>> e = pd.DataFrame({"train_loss": [1.0, 0.5], "train_acc": [0.6, 0.9], "val_loss": [1.1, 0.7],
        ...                   "val_acc": [0.55, 0.8]})
        >>> [[round(v, 3) for v in t.y] for t in gap_figure({"a": e}).data]
        [[0.1, 0.2], [0.05, 0.1]]
    """
    colors = dict(colors or run_colors(list(runs)))
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("Loss gap (validation - training)", "Accuracy gap (training - validation)"))
    for label, frame in runs.items():
        color = colors.get(label, PALETTE[0])
        x = _epoch_x(frame)
        if len(frame):
            loss_gap = np.asarray(frame["val_loss"], dtype=np.float64) - np.asarray(frame["train_loss"], dtype=np.float64)
            acc_gap = np.asarray(frame["train_acc"], dtype=np.float64) - np.asarray(frame["val_acc"], dtype=np.float64)
        else:
            loss_gap = acc_gap = np.zeros(0)
        fig.add_trace(go.Scatter(x=x, y=_nan_to_none(loss_gap), name=f"{label} loss gap", mode="lines+markers",
                                 legendgroup=label, line=dict(color=color)), row=1, col=1)
        fig.add_trace(go.Scatter(x=x, y=_nan_to_none(acc_gap), name=f"{label} accuracy gap", mode="lines+markers",
                                 legendgroup=label, showlegend=False, line=dict(color=color)), row=1, col=2)
    fig.add_hline(y=0.0, line=dict(color="gray", width=1))
    if not any(len(frame) for frame in runs.values()):
        _waiting(fig, "waiting for the first epoch", [(1, 1), (1, 2)])
    _epoch_ticks(fig, runs)
    fig.update_layout(height=height, margin=dict(l=60, r=20, t=40, b=40), legend=dict(orientation="h", y=-0.25))
    return fig


def race_figure(
    table: pd.DataFrame,
    *,
    target: float | None = None,
    colors: Mapping[str, str] | None = None,
    epochs: int | None = None,
    height: int = 460,
    font_size: int = 18,
) -> go.Figure:
    """The class-demo chart: mean validation accuracy per epoch for each schedule, big and readable.

    Args:
        table: A results table from :func:`superconv.demo.results_table` (uses ``schedule``,
            ``val_acc_by_epoch``, ``epochs_to_target``).
        target: Target accuracy line; each schedule's first epoch at the target gets a marker.
        colors: schedule -> colour.
        epochs: The race's epoch budget: the x axis spans it from the start, so the lines grow along
            a fixed track (and an empty chart shows epochs 1..N and accuracy 0..1, not Plotly's -1..6).
        height: Figure height in pixels.
        font_size: Base font size (projector friendly).

    Example:
        >>> t = pd.DataFrame({"schedule": ["1cycle"], "val_acc_by_epoch": [[0.5, 0.96]], "epochs_to_target": [2]})
        >>> fig = race_figure(t, target=0.95, epochs=5)
        >>> [(tr.name, tr.y) for tr in fig.data]
        [('1cycle', (0.5, 0.96)), ('1cycle reaches 95%', (0.96,))]
        >>> fig.layout.xaxis.range
        (0.5, 5.5)
    """
    labels = list(table["schedule"])
    colors = dict(colors or run_colors(labels))
    fig = go.Figure()
    for _, row in table.iterrows():
        label = row["schedule"]
        acc = list(row["val_acc_by_epoch"])
        x = list(range(1, len(acc) + 1))
        fig.add_trace(go.Scatter(x=x, y=_nan_to_none(acc), name=label, mode="lines+markers",
                                 line=dict(color=colors.get(label, PALETTE[0]), width=4), marker=dict(size=8)))
        hit = row.get("epochs_to_target")
        if target is not None and hit is not None and not pd.isna(hit) and int(hit) <= len(acc):
            fig.add_trace(go.Scatter(x=[int(hit)], y=[acc[int(hit) - 1]], name=f"{label} reaches {float(target):.0%}",
                                     mode="markers", showlegend=False,
                                     marker=dict(color=colors.get(label, PALETTE[0]), size=18, symbol="star")))
    if target is not None:
        fig.add_hline(y=float(target), line=dict(color="gray", dash="dot", width=2),
                      annotation_text=f"target {float(target):.0%}", annotation_position="bottom right")
    fig.update_layout(height=height, font=dict(size=font_size), margin=dict(l=70, r=20, t=50, b=50),
                      title="Validation accuracy per epoch (mean over seeds)",
                      xaxis_title="epoch", yaxis_title="validation accuracy", legend=dict(orientation="h", y=-0.2))
    if epochs:
        fig.update_xaxes(range=[0.5, int(epochs) + 0.5], dtick=1 if int(epochs) <= 15 else None)
    if not any(not pd.isna(a) for acc in table["val_acc_by_epoch"] for a in acc):
        fig.update_yaxes(range=[0, 1])  # nothing measured yet
    return fig


def schedules_figure(
    schedules: Mapping[str, Schedule],
    *,
    colors: Mapping[str, str] | None = None,
    height: int = 300,
    font_size: int = 16,
    max_points: int = 2000,
) -> go.Figure:
    """The learning rates of a race's lanes over the run, on one axis (x in % of the run).

    Example:
        >>> from superconv import Constant, OneCycle
        >>> fig = schedules_figure({"1cycle": OneCycle(1.0, 100), "constant": Constant(0.1, 100)})
        >>> [t.name for t in fig.data], max(fig.data[0].y)
        (['1cycle', 'constant'], 1.0)
    """
    colors = dict(colors or run_colors(list(schedules)))
    fig = go.Figure()
    for label, sched in schedules.items():
        steps, lr, _ = schedule_points(sched, max_points)  # exact at the peak and at every phase edge
        fig.add_trace(go.Scatter(x=_lst(100.0 * steps / max(sched.total_steps - 1, 1)), y=_lst(lr), name=label,
                                 mode="lines", line=dict(color=colors.get(label, PALETTE[0]), width=3)))
    fig.update_layout(height=height, font=dict(size=font_size), margin=dict(l=70, r=20, t=50, b=50),
                      title="Learning rate over the run", xaxis_title="% of training",
                      yaxis_title="learning rate", legend=dict(orientation="h", y=-0.3))
    return fig
