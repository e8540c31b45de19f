"""Plotly figure for the LR range test: loss vs LR on a log axis, suggestions marked (no TF, no Streamlit).

One smoothed curve per group (a group = one weight decay or batch size; with several seeds its
mean and a min-max band), the raw per-batch losses faintly behind, one marker trace per
suggestion rule (named after the rule) and an optional vertical line at the LR the user picked.
The y axis is cut just above the start of the curves so the blow-up at the end does not squash
the part that matters; the trace data keep every value.

Example:
    >>> from superconv.lr_finder import RangeTestResult, aggregate_curves
    >>> r = RangeTestResult([1e-3, 1e-2, 1e-1, 1.0], [2.3, 2.0, 1.2, 9.0], beta=0.0)
    >>> fig = lr_finder_figure([aggregate_curves([r])], r.suggestions(skip_start=0, skip_end=0), raw=[r])
    >>> [t.name for t in fig.data]
    ['raw loss', 'smoothed loss', 'steepest', 'minimum/10', 'valley']
    >>> fig.layout.xaxis.type
    'log'
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

__all__ = ["RULE_SYMBOLS", "lr_finder_figure"]

_COLORS = qualitative.Plotly + qualitative.D3
RULE_SYMBOLS = {"steepest": "triangle-down", "minimum/10": "circle", "valley": "diamond", "slide": "square"}
_RULE_COLORS = {"steepest": "#d62728", "minimum/10": "#2ca02c", "valley": "#9467bd", "slide": "#ff7f0e"}


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def label_positions(lrs: Sequence[float]) -> list[str]:
    """Text positions for suggestion markers that keep their labels apart and inside the chart.

    In LR order, labels alternate above and below their markers (two suggestions a few percent apart
    no longer print over each other); the lowest LR's label extends right and the highest's left, so
    neither is cut at the chart's edge.

    Args:
        lrs: The suggested LRs, in the order their markers are drawn.

    Returns:
        A Plotly ``textposition`` per LR, in the same order.

    Example:
        >>> label_positions([0.07, 0.059, 1e-3])
        ['top left', 'bottom center', 'top right']
    """
    order = sorted(range(len(lrs)), key=lambda i: lrs[i])
    positions = [""] * len(lrs)
    for rank, i in enumerate(order):
        vertical = "top" if rank % 2 == 0 else "bottom"
        horizontal = "right" if rank == 0 else "left" if rank == len(lrs) - 1 else "center"
        positions[i] = f"{vertical} {horizontal}"
    return positions


def lr_finder_figure(bands: Sequence[Any], suggestions: Sequence[Any] = (), *, raw: Sequence[Any] = (),
                     chosen_lr: float | None = None, log_x: bool = True, clip_y: bool = True) -> go.Figure:
    """Loss vs LR for one or more range-test groups.

    Args:
        bands: :class:`superconv.lr_finder.CurveBand` objects (one per group, in legend order). The
            mean is drawn as ``"smoothed loss"`` for a single unlabelled group, else under the group
            label; a group of several seeds also gets a shaded min-max band (``label + " band"``).
        suggestions: :class:`superconv.lr_finder.Suggestion` objects, one marker trace each, named
            after the rule, placed at ``(lr, loss)`` (the curve's loss at the suggested LR).
        raw: :class:`superconv.lr_finder.RangeTestResult` objects whose raw per-batch losses are
            drawn faintly (``"raw loss"``, one legend entry for all).
        chosen_lr: Draw a dashed vertical line there (the LR handed to the designer).
        log_x: Log LR axis (the usual view of an exponential sweep).
        clip_y: Cut the y axis a little above the highest loss before each curve's minimum.

    Returns:
        The figure.
    """
    fig = go.Figure()
    for i, r in enumerate(raw):
        fig.add_trace(go.Scatter(
            x=np.asarray(r.lrs), y=np.asarray(r.losses), name="raw loss", legendgroup="raw", showlegend=i == 0,
            mode="lines", line={"color": "rgba(120,120,120,0.35)", "width": 1},
            hovertemplate="LR %{x:.3~g}<br>raw loss %{y:.4~g}<extra></extra>"))
    single = len(bands) == 1 and not getattr(bands[0], "label", "")
    y_hi, y_lo = -np.inf, np.inf
    for i, band in enumerate(bands):
        color = _COLORS[i % len(_COLORS)]
        label = "smoothed loss" if single else (band.label or f"group {i + 1}")
        lrs, mean = np.asarray(band.lrs), np.asarray(band.mean)
        if band.n_curves > 1:
            fig.add_trace(go.Scatter(x=lrs, y=np.asarray(band.high), mode="lines", line={"width": 0},
                                     legendgroup=label, showlegend=False, hoverinfo="skip", name=f"{label} high"))
            fig.add_trace(go.Scatter(x=lrs, y=np.asarray(band.low), mode="lines", line={"width": 0},
                                     fill="tonexty", fillcolor=_rgba(color, 0.2), legendgroup=label,
                                     name=f"{label} band", hoverinfo="skip", showlegend=False))
        seeds = f" (mean of {band.n_curves} seeds)" if band.n_curves > 1 else ""
        fig.add_trace(go.Scatter(
            x=lrs, y=mean, name=label, legendgroup=label, mode="lines", line={"color": color, "width": 2.5},
            hovertemplate=f"{label}{seeds}<br>LR %{{x:.3~g}}<br>loss %{{y:.4~g}}<extra></extra>"))
        if mean.size:
            upto = int(np.argmin(mean)) + 1
            y_hi = max(y_hi, float(np.max(np.asarray(band.high)[:upto])))
            y_lo = min(y_lo, float(np.min(np.asarray(band.low))))
    for s, position in zip(suggestions, label_positions([s.lr for s in suggestions])):
        fig.add_trace(go.Scatter(
            x=[s.lr], y=[s.loss], name=s.rule, mode="markers+text", text=[f"{s.rule} {s.lr:.3g}"],
            textposition=position,
            marker={"size": 12, "symbol": RULE_SYMBOLS.get(s.rule, "x"), "color": _RULE_COLORS.get(s.rule, "black"),
                    "line": {"width": 1, "color": "white"}},
            hovertemplate=f"{s.rule}: LR %{{x:.3~g}}<br>{s.description}<extra></extra>"))
    if chosen_lr is not None:
        fig.add_vline(x=float(chosen_lr), line_dash="dash", line_color="black",
                      annotation_text=f"max_lr {chosen_lr:.3g}", annotation_position="top left")
    fig.update_xaxes(title_text="learning rate", type="log" if log_x else "linear",
                     exponentformat="power" if log_x else "none")
    fig.update_yaxes(title_text="loss")
    if clip_y and np.isfinite(y_hi) and np.isfinite(y_lo) and y_hi > y_lo:
        pad = 0.08 * (y_hi - y_lo)
        fig.update_yaxes(range=[y_lo - pad, y_hi + 3 * pad])
    fig.update_layout(height=460, margin={"l": 60, "r": 20, "t": 30, "b": 50}, hovermode="closest",
                      legend={"orientation": "h", "y": 1.1}, uirevision="lr_finder")
    return fig
