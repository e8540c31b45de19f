"""Pure Plotly figure builders (no Streamlit, no TensorFlow).

Schedule figures: the LR on top and the momentum below against the optimizer step, phase
boundaries marked, epochs on the top axis and in the hover, an optional log-scale LR axis, and
an overlay of several schedules. Long schedules are cut to a few thousand points per trace
before plotting (:func:`schedule_points`), always keeping the first and last step, the phase
boundaries and the LR peak, with exact schedule values at every kept step. Trace data are numpy
arrays, which Plotly sends as compact typed arrays (validating plain lists of a few thousand points
costs ~0.2 s per figure); :func:`trace_array` reads a trace's values back from a figure's JSON.

Example:
    >>> from superconv import OneCycle
    >>> fig = schedule_figure(OneCycle(max_lr=0.1, total_steps=100))
    >>> [t.name for t in fig.data], len(fig.data[0].x)
    (['lr', 'momentum'], 100)
    >>> spec = json.loads(fig.to_json())
    >>> trace_array(spec["data"][0]["y"])[:2].round(6).tolist()
    [0.004, 0.004281]
"""

from __future__ import annotations

import base64
import json
from typing import Any, Iterable, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

__all__ = [
    "MAX_POINTS",
    "MAX_PHASE_MARKERS",
    "decimation_indices",
    "schedule_points",
    "schedule_figure",
    "overlay_figure",
    "trace_array",
]

MAX_POINTS = 4000
"""Default budget of points per trace."""
MAX_PHASE_MARKERS = 24
"""Phase boundaries beyond this many (a cyclic schedule with many cycles) are not drawn as lines."""
_SCHEDULE_COLORS = qualitative.Plotly + qualitative.D3


def trace_array(values: Any) -> np.ndarray:
    """A trace's ``x``/``y``/``customdata`` from figure JSON: a list or a ``{"dtype", "bdata"}`` typed array.

    Example:
        >>> trace_array([1, 2.5]).tolist(), trace_array({"dtype": "i1", "bdata": "AQI="}).tolist()
        ([1.0, 2.5], [1, 2])
    """
    if isinstance(values, dict) and "bdata" in values:
        arr = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        return arr.reshape(values["shape"]) if "shape" in values and isinstance(values["shape"], list) else arr
    return np.asarray(values, dtype=np.float64)


def decimation_indices(values: np.ndarray, max_points: int, keep: Iterable[int] = ()) -> np.ndarray:
    """Indices of at most about ``max_points`` points of ``values`` that keep its shape.

    Splits the curve into ``max_points // 2`` buckets and keeps each bucket's minimum and
    maximum (so spikes and cycles survive), plus the first and last point, the global maximum
    and every index in ``keep`` (phase boundaries).

    Args:
        values: 1-D array.
        max_points: Budget (>= 4); ``keep`` indices come on top of it.
        keep: Indices that must be kept.

    Returns:
        Sorted unique int64 indices; ``arange(len(values))`` when it already fits.

    Example:
        >>> y = np.zeros(1000); y[123] = 5.0
        >>> idx = decimation_indices(y, 10, keep=[500])
        >>> [int(i) for i in idx if i in (0, 123, 500, 999)]
        [0, 123, 500, 999]
        >>> len(idx) <= 10 + 1
        True
    """
    if not isinstance(max_points, (int, np.integer)) or max_points < 4:
        raise ValueError(f"max_points must be an integer >= 4; received max_points={max_points!r}")
    values = np.asarray(values)
    n = values.shape[0]
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    extra = np.asarray(list(keep), dtype=np.int64)
    extra = extra[(extra >= 0) & (extra < n)]
    buckets = max(1, (max_points - 3) // 2)
    size = -(-n // buckets)  # ceil: every point falls in a bucket
    padded = np.full(buckets * size, np.nan)
    padded[:n] = values
    table = padded.reshape(buckets, size)
    offsets = np.arange(buckets, dtype=np.int64) * size
    filled = ~np.all(np.isnan(table), axis=1)
    lo = np.nanargmin(table[filled], axis=1) + offsets[filled]
    hi = np.nanargmax(table[filled], axis=1) + offsets[filled]
    idx = np.concatenate([[0, n - 1, int(np.argmax(values))], lo, hi, extra])
    return np.unique(idx)


def schedule_points(schedule: Any, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, LR and momentum to plot: every step of a short schedule, a faithful subset of a long one.

    Schedules are smooth between their phase boundaries, so a long one is evaluated only at an
    even grid of steps plus the first and last step and both sides of every phase boundary
    (where the peak and the jumps are): the cost does not depend on ``total_steps``, and every
    value is the schedule's exact value at that step. A schedule with more phase boundaries than
    the budget allows (a cyclic LR with many short cycles) is evaluated in full and cut with
    :func:`decimation_indices`, which keeps each bucket's extremes.

    Example:
        >>> from superconv import OneCycle
        >>> s = OneCycle(max_lr=0.1, total_steps=1_000_000)
        >>> steps, lr, mom = schedule_points(s, max_points=1000)
        >>> len(steps) <= 1004, int(steps[0]), int(steps[-1]), float(lr.max()) == 0.1
        (True, 0, 999999, True)
    """
    n = int(schedule.total_steps)
    if n <= max_points:
        steps = np.arange(n, dtype=np.int64)
        return steps, schedule.lr(steps), schedule.momentum(steps)
    bounds = np.asarray(schedule.phase_boundaries(), dtype=np.int64)
    if 4 * len(bounds) <= max_points // 2:
        edges = np.concatenate([bounds, bounds + 1])
        grid = np.round(np.linspace(0, n - 1, max_points - len(edges))).astype(np.int64)
        steps = np.unique(np.concatenate([grid, edges[(edges >= 0) & (edges < n)], [0, n - 1]]))
        return steps, schedule.lr(steps), schedule.momentum(steps)
    all_steps, lr, mom = schedule.curves()  # too many boundaries to keep them all: keep the extremes
    idx = np.union1d(decimation_indices(lr, max_points // 2), decimation_indices(mom, max_points // 2))
    return all_steps[idx], lr[idx], mom[idx]


def _epoch_ticks(total_steps: int, steps_per_epoch: int, max_ticks: int = 12) -> tuple[list[int], list[str]]:
    epochs = max(1, total_steps // steps_per_epoch)
    every = max(1, int(np.ceil(epochs / max_ticks)))
    ticks = list(range(0, epochs + 1, every))
    # "epoch 0", then bare numbers: a label per tick would crowd the axis at ten or more epochs
    return [e * steps_per_epoch for e in ticks], [f"epoch {e}" if i == 0 else str(e) for i, e in enumerate(ticks)]


def _phase_label(schedule: Any, i: int) -> str:
    labels = {2: ["end of warm-up"], 3: ["peak", "end of cool-down"]}
    n_phases = len(schedule.phase_boundaries()) + 1
    if getattr(schedule, "kind", "") == "onecycle":
        return labels.get(n_phases, [""] * n_phases)[i]
    return ""


def schedule_figure(
    schedule: Any,
    *,
    log_lr: bool = False,
    steps_per_epoch: int | None = None,
    max_points: int = MAX_POINTS,
    title: str | None = None,
) -> go.Figure:
    """LR (top) and momentum (bottom) against the step, phase boundaries marked.

    Args:
        schedule: Any superconv schedule.
        log_lr: Log scale for the LR axis (the final anneal is visible only on a log axis).
        steps_per_epoch: When given, epochs label the top axis and appear in the hover.
        max_points: Points per trace (see :func:`schedule_points`).
        title: Optional figure title.

    Returns:
        A figure whose ``data[0]`` is the LR trace and ``data[1]`` the momentum trace;
        ``x`` are steps, ``y`` the exact schedule values there, ``customdata`` the epochs.

    Example:
        >>> from superconv import OneCycle
        >>> fig = schedule_figure(OneCycle(max_lr=0.1, total_steps=10, pct_start=0.5), log_lr=True)
        >>> fig.layout.yaxis.type, fig.data[0].y[:2].round(4).tolist()
        ('log', [0.004, 0.0181])
    """
    steps, lr, mom = schedule_points(schedule, max_points)
    spe = int(steps_per_epoch) if steps_per_epoch else None
    epochs = (steps / spe) if spe else None
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.62, 0.38])
    hover_epoch = "<br>epoch %{customdata:.2f}" if spe else ""
    common: dict[str, Any] = {"x": steps, "mode": "lines"}
    if epochs is not None:
        common["customdata"] = np.round(epochs, 4)
    fig.add_trace(
        go.Scatter(y=lr, name="lr", line={"color": "#1f77b4", "width": 2},
                   hovertemplate="step %{x:,}" + hover_epoch + "<br>LR %{y:.4~g}<extra></extra>", **common),
        row=1, col=1,
    )
    fig.add_trace(
        go.Scatter(y=mom, name="momentum", line={"color": "#d62728", "width": 2},
                   hovertemplate="step %{x:,}" + hover_epoch + "<br>momentum %{y:.4~g}<extra></extra>", **common),
        row=2, col=1,
    )
    bounds = schedule.phase_boundaries()
    if len(bounds) <= MAX_PHASE_MARKERS:
        for i, b in enumerate(bounds):
            label = _phase_label(schedule, i)
            for row in (1, 2):
                fig.add_vline(x=b, line={"dash": "dot", "color": "gray", "width": 1}, row=row, col=1)
            if label:
                # inside the LR panel, right of the marker: above it sit the epoch tick labels
                fig.add_annotation(x=b, y=1.0, yref="y domain", xref="x", text=f"{label} (step {b:,})",
                                   showarrow=False, yanchor="top", xanchor="left", xshift=4,
                                   font={"size": 11, "color": "gray"})
    fig.update_yaxes(title_text="learning rate", type="log" if log_lr else "linear", row=1, col=1,
                     exponentformat="power" if log_lr else "none")
    fig.update_yaxes(title_text="momentum", row=2, col=1)
    fig.update_xaxes(title_text="optimizer step (batch)", row=2, col=1)
    if spe:
        tickvals, ticktext = _epoch_ticks(int(schedule.total_steps), spe)
        fig.update_xaxes(row=1, col=1, side="top", showticklabels=True, tickvals=tickvals, ticktext=ticktext)
    fig.update_layout(
        height=520, margin={"l": 60, "r": 20, "t": 60 if title else 40, "b": 50}, showlegend=False,
        hovermode="x", title=title, uirevision="schedule",
    )
    return fig


def overlay_figure(
    schedules: Mapping[str, Any],
    *,
    log_lr: bool = False,
    max_points: int = MAX_POINTS // 2,
) -> go.Figure:
    """Several schedules on one chart: LR traces on top, momentum traces below, one colour each.

    Args:
        schedules: Label -> schedule, in legend order.
        log_lr: Log scale for the LR axis.
        max_points: Points per trace.

    Returns:
        A figure with, per label, an LR trace named ``label`` and a momentum trace named
        ``label + " (momentum)"`` in the same legend group.

    Example:
        >>> from superconv import OneCycle, Constant
        >>> fig = overlay_figure({"1cycle": OneCycle(0.1, 50), "constant": Constant(0.05, 50)})
        >>> [t.name for t in fig.data]
        ['1cycle', '1cycle (momentum)', 'constant', 'constant (momentum)']
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.62, 0.38])
    for i, (label, schedule) in enumerate(schedules.items()):
        color = _SCHEDULE_COLORS[i % len(_SCHEDULE_COLORS)]
        steps, lr, mom = schedule_points(schedule, max_points)
        x = steps
        fig.add_trace(
            go.Scatter(x=x, y=lr, name=label, legendgroup=label, mode="lines", line={"color": color},
                       hovertemplate=f"{label}<br>step %{{x:,}}<br>LR %{{y:.4~g}}<extra></extra>"),
            row=1, col=1,
        )
        fig.add_trace(
            go.Scatter(x=x, y=mom, name=f"{label} (momentum)", legendgroup=label, showlegend=False,
                       mode="lines", line={"color": color, "dash": "dot"},
                       hovertemplate=f"{label}<br>step %{{x:,}}<br>momentum %{{y:.4~g}}<extra></extra>"),
            row=2, col=1,
        )
    fig.update_yaxes(title_text="learning rate", type="log" if log_lr else "linear", row=1, col=1,
                     exponentformat="power" if log_lr else "none")
    fig.update_yaxes(title_text="momentum", row=2, col=1)
    fig.update_xaxes(title_text="optimizer step (batch)", row=2, col=1)
    fig.update_layout(height=520, margin={"l": 60, "r": 20, "t": 30, "b": 50}, hovermode="x unified",
                      legend={"orientation": "h", "y": 1.08}, uirevision="overlay")
    return fig
