"""Schedule Designer: shape a 1cycle schedule, compare it with baselines, export it.

Thin UI: widgets -> superconv.designer_state (validation, links, exports) -> superconv.plots -> chart.
Never imports TensorFlow.

Hand-off from other pages: set ``st.session_state["designer_max_lr"] = <float>`` (e.g. the LR
finder's suggestion) and switch to this page; the designer starts from that max_lr and consumes
the key. Opening the app with ``?max_lr=...`` (any designer field, see
``DesignerSettings.to_query_params``) starts a new session from those settings.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

import streamlit as st

from superconv.designer_state import (
    BASELINES,
    DesignerSettings,
    applied_peak,
    baseline_schedule,
    fastai_snippet,
    keras_snippet,
    max_lr_grid,
    pytorch_snippet,
    schedule_csv,
    settings_from_dict,
    settings_from_json,
    settings_from_link,
    settings_to_json,
)
from superconv.plots import overlay_figure, schedule_figure
from superconv.schedules import schedule_from_dict

HANDOFF_KEY = "designer_max_lr"  # documented hand-off: another page sets it, the designer consumes it
STATE_KEY = "designer_settings"  # last valid settings (survives page switches, which drop widget state)
SAVED_KEY = "designer_saved"  # name -> schedule.to_dict() for the overlay
W = "designer_w_"  # widget key prefix

ss = st.session_state


def _widget_values(settings: DesignerSettings) -> dict[str, object]:
    return {
        "convention": settings.convention,
        "max_lr": settings.max_lr,
        "div_factor": settings.div_factor,
        "final_div_factor": settings.final_div_factor,
        "div_final": settings.div_final,
        "pct_start": settings.pct_start,
        "moms": (settings.base_momentum, settings.max_momentum),
        "anneal": settings.anneal,
        "three_phase": settings.three_phase,
        "epochs": settings.epochs,
        "num_samples": settings.num_samples,
        "batch_size": settings.batch_size,
    }


def _apply(settings: DesignerSettings) -> None:
    """Put validated settings into the widgets (only before they render, or from a callback)."""
    ss[STATE_KEY] = settings.to_dict()
    for name, value in _widget_values(settings).items():
        ss[W + name] = value


def _current() -> DesignerSettings:
    return settings_from_dict(ss[STATE_KEY]) if STATE_KEY in ss else DesignerSettings()


def _settings_from_widgets() -> DesignerSettings:
    fastai = ss[W + "convention"] == "fastai"
    base, peak = ss[W + "moms"]
    return DesignerSettings(
        max_lr=ss[W + "max_lr"],
        div_factor=ss[W + "div_factor"],
        final_div_factor=ss[W + "final_div_factor"],
        div_final=ss[W + "div_final"],
        pct_start=ss[W + "pct_start"],
        anneal="cos" if fastai else ss[W + "anneal"],
        three_phase=False if fastai else ss[W + "three_phase"],
        base_momentum=base,
        max_momentum=peak,
        convention=ss[W + "convention"],
        epochs=int(ss[W + "epochs"]),
        num_samples=int(ss[W + "num_samples"]),
        batch_size=int(ss[W + "batch_size"]),
    )


def _load_config(text: str | bytes | None, source: str) -> None:
    """Callback: apply an imported JSON config, or keep the error to show next to the input."""
    if not text:
        ss["designer_import_msg"] = ("error", f"Nothing to load: {source} is empty.")
        return
    try:
        settings = settings_from_json(text)
    except ValueError as exc:
        ss["designer_import_msg"] = ("error", f"Could not load the {source}: {exc}")
        return
    _apply(settings)
    ss["designer_import_msg"] = ("success", f"Loaded the {source}: {settings.total_steps:,} steps, max_lr={settings.max_lr:g}.")


def _on_upload() -> None:
    upload = ss.get(W + "import_file")
    if upload is not None:
        _load_config(upload.getvalue(), "uploaded file")


def _on_paste() -> None:
    _load_config(ss.get(W + "import_text", ""), "pasted text")


def _show_in_overlay(name: str) -> None:
    names = list(ss.get(W + "compare_names", []))
    ss[W + "compare_names"] = names if name in names else [*names, name]


def _save_current(settings: DesignerSettings) -> None:
    name = (ss.get(W + "save_name") or "").strip() or f"1cycle {settings.max_lr:g}"
    ss.setdefault(SAVED_KEY, {})[name] = settings.schedule().to_dict()
    _show_in_overlay(name)
    ss["designer_compare_msg"] = ("success", f"Saved {name!r}.")


def _forget_saved() -> None:
    ss[SAVED_KEY] = {}
    ss[W + "compare_names"] = []


def _add_baseline(total_steps: int) -> None:
    kind = ss[W + "baseline_kind"]
    lr = ss.get(W + f"bl_lr_{kind}")
    params = {
        "constant": {"lr": lr, "momentum": ss.get(W + "bl_mom")},
        "step": {"lr": lr, "boundaries": ss.get(W + "bl_bounds"), "factor": ss.get(W + "bl_factor"),
                 "momentum": ss.get(W + "bl_mom")},
        "cyclic": {"base_lr": ss.get(W + "bl_base_lr"), "max_lr": lr, "cycles": ss.get(W + "bl_cycles")},
    }[kind]
    try:
        label, sched = baseline_schedule(kind, total_steps, **params)
    except ValueError as exc:
        ss["designer_compare_msg"] = ("error", f"Baseline not added: {exc}")
        return
    ss.setdefault(SAVED_KEY, {})[label] = sched.to_dict()
    _show_in_overlay(label)
    ss["designer_compare_msg"] = ("success", f"Added {label!r}.")


def _show_msg(key: str) -> None:
    msg = ss.pop(key, None)
    if msg:
        (st.error if msg[0] == "error" else st.success)(msg[1])


def import_section() -> None:
    """Load a JSON config (a file or pasted text); also offered when the current settings are invalid."""
    st.markdown("Load a JSON config exported here (or a schedule's `to_dict()` JSON). Invalid values are "
                "refused with the field's name; the current settings stay.")
    st.file_uploader("JSON config file", type=["json"], key=W + "import_file", on_change=_on_upload)
    st.text_area("…or paste JSON", key=W + "import_text", height=120)
    st.button("Load pasted JSON", key=W + "import_go", on_click=_on_paste)
    _show_msg("designer_import_msg")


# ------------------------------------------------------------------ state: link, hand-off, page switches
url_error = None
if STATE_KEY not in ss:
    # First run of this browser session: a shared link's query parameters set the schedule. (Later
    # reruns ignore the URL: it only mirrors the controls, and can lag behind them mid-drag.)
    link_settings, link_errors = settings_from_link(st.query_params.to_dict())
    _apply(link_settings)  # every valid field of the link; the bad ones are reported below
    url_error = "; ".join(link_errors) or None
elif any(W + name not in ss for name in _widget_values(DesignerSettings())):
    _apply(_current())  # back from another page: widgets lost their state, restore it
handoff_error = None
if HANDOFF_KEY in ss:
    try:
        _apply(dataclasses.replace(_current(), max_lr=float(ss.pop(HANDOFF_KEY))))
    except (TypeError, ValueError) as exc:
        handoff_error = f"Could not start from the LR finder's max_lr: {exc}"

# ------------------------------------------------------------------ page
st.title("Schedule Designer")
st.markdown(
    "The **1cycle policy** (Smith & Topin) warms the learning rate up from `max_lr / div_factor` to a high "
    "peak `max_lr`, then anneals it far below where it started, while the momentum moves the other way "
    "(high when the LR is low). Pick the peak with the LR finder, set how long the warm-up lasts and how far "
    "the LR falls, and give the step budget of your run: the schedule counts **optimizer steps (batches)**, "
    "not epochs. The chart updates on every change; save schedules to compare them with classic baselines, "
    "share the page's link, or export the schedule as JSON, CSV or ready-to-paste Keras / PyTorch code."
)
if url_error:
    st.error(f"Part of the link is invalid and was left out (the rest of the link is applied): {url_error}")
if handoff_error:
    st.error(handoff_error)

controls, preview = st.columns([2, 3], gap="medium")  # controls wide enough for two inputs a row at 1024 px

with controls:
    st.radio(
        "Convention", ["pytorch", "fastai"], key=W + "convention", horizontal=True,
        format_func={"pytorch": "PyTorch OneCycleLR", "fastai": "fastai fit_one_cycle"}.get,
        help="They differ in the final LR: PyTorch ends at max_lr / div_factor / final_div_factor, "
             "fastai at max_lr / div_final.",
    )
    fastai = ss[W + "convention"] == "fastai"
    if fastai:
        st.caption("fastai: final LR tends to **max_lr / div_final** (the last step ends a little above it); cosine "
                   "in both phases; the LR peaks at step pct_start·N.")
    else:
        st.caption("PyTorch: final LR = **max_lr / div_factor / final_div_factor**; warm-up ends at step pct_start·N − 1.")
    st.select_slider(
        "Peak learning rate (max_lr, log scale)", options=max_lr_grid(extra=[ss[W + "max_lr"]]),
        key=W + "max_lr", format_func=lambda v: f"{v:g}",
        help="The highest LR of the cycle. The LR finder suggests it; super-convergence uses a large one.",
    )
    # Two inputs a row: three in this third of the page cut labels mid-word and values ("100" for 100000) on a
    # 1024-pixel projector.
    c1, c2 = st.columns(2)
    c1.number_input("div_factor", min_value=1.0, step=5.0, key=W + "div_factor", format="%g",
                    help="Start LR = max_lr / div_factor (fastai's div).")
    (c2 if not fastai else c1).number_input(
        "final_div_factor", min_value=1.0, step=1e3, key=W + "final_div_factor", format="%g", disabled=fastai,
        help="PyTorch: final LR = start LR / final_div_factor = max_lr / div_factor / final_div_factor.")
    (c2 if fastai else c1).number_input("div_final", min_value=1.0, step=1e4, key=W + "div_final", format="%g",
                                        disabled=not fastai, help="fastai: final LR = max_lr / div_final.")
    # Open interval (0, 1): the ends would leave no warm-up or no anneal (a link may hold a finer value).
    st.slider("Warm-up fraction (pct_start)", min(0.01, ss[W + "pct_start"]), max(0.99, ss[W + "pct_start"]),
              step=0.01, key=W + "pct_start",
              help="Fraction of the steps spent raising the LR to max_lr.")
    st.slider("Momentum range (base at the LR peak, max at start and end)", 0.0, max(0.99, ss[W + "moms"][1]),
              step=0.01, key=W + "moms", help="Momentum (Adam: beta_1) cycles opposite to the LR.")
    c1, c2 = st.columns(2)
    c1.radio("Annealing", ["cos", "linear"], key=W + "anneal", format_func={"cos": "cosine", "linear": "linear"}.get,
             disabled=fastai, help="Shape of both phases (fastai: cosine only).")
    c2.radio("Phases", [False, True], key=W + "three_phase", disabled=fastai,
             format_func=lambda v: "three-phase" if v else "two-phase",
             help="Three-phase: up, back down to the start LR, then a short annihilation to the final LR "
                  "(Smith's original with linear annealing). PyTorch only.")
    st.markdown("**Step budget**")
    st.number_input("Dataset size", min_value=1, step=1000, key=W + "num_samples", help="Training samples per epoch.")
    c1, c2 = st.columns(2)
    c1.number_input("Epochs", min_value=1, step=1, key=W + "epochs")
    c2.number_input("Batch size", min_value=1, step=16, key=W + "batch_size")
    if fastai and (ss[W + "anneal"] != "cos" or ss[W + "three_phase"]):
        st.caption("Annealing and phases are PyTorch options; fastai uses a two-phase cosine.")
    try:
        settings = _settings_from_widgets()
        error = None
    except ValueError as exc:
        settings, error = None, str(exc)
    if not error:
        st.caption(f"= **{settings.total_steps:,} optimizer steps** ({settings.steps_per_epoch:,} per epoch, "
                   "the last short batch included).")

with preview:
    log_lr = st.toggle("Log-scale LR axis", key=W + "log_lr", help="The final anneal is only visible on a log axis.")
    if settings is not None:
        sched = settings.schedule()
        st.plotly_chart(schedule_figure(sched, log_lr=log_lr, steps_per_epoch=settings.steps_per_epoch),
                        key="designer_chart", config={"displaylogo": False})
        # Two metrics a row: four in the preview column cut values such as 1.47e-06 short at 1280 px and below.
        m1, m2 = st.columns(2)
        m3, m4 = st.columns(2)
        m1.metric("Start LR", f"{sched.initial_lr:.3g}")
        # What the chart shows: the highest LR applied on a whole step (max_lr itself only when the warm-up
        # ends on one), and the LR of the last step (fastai's approaches max_lr / div_final without reaching it).
        peak_step, peak_lr = applied_peak(sched)
        m2.metric("Peak LR", f"{peak_lr:.3g}", f"at step {peak_step:,}", delta_color="off", delta_arrow="off")
        m3.metric("Final LR", f"{float(sched.lr(sched.total_steps - 1)):.3g}")
        m4.metric("Steps", f"{sched.total_steps:,}")
        ss[STATE_KEY] = settings.to_dict()
        params = settings.to_query_params()
        if st.query_params.to_dict() != params:
            st.query_params.from_dict(params)
    else:  # in the preview column, where the chart would be: visible without scrolling
        st.error(f"Invalid schedule: {error}")
        st.info("Fix the setting named in the error to see the schedule, or import a valid config below.")

if settings is None:
    with st.expander("Import a config", expanded=True):
        import_section()
    st.stop()

compare, export, load = st.tabs(["Compare", "Export & share", "Import"])

with compare:
    st.markdown("Save the current schedule under a name, add baselines, and compare them on one chart.")
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    c1.text_input("Name", key=W + "save_name", placeholder=f"1cycle {settings.max_lr:g}")
    c2.button("Save current schedule", key=W + "save", on_click=_save_current, args=(settings,))
    with st.expander("Add a baseline (same step budget)"):
        kind = st.selectbox("Baseline", list(BASELINES), key=W + "baseline_kind", format_func=BASELINES.get)
        c1, c2, c3 = st.columns(3)
        # One LR field per kind (own key), so each kind starts from its own default: max_lr / 10 for a
        # constant LR, max_lr for step decay and the top of the cycle.
        c1.number_input("Max LR" if kind == "cyclic" else "LR", min_value=0.0,
                        value=settings.max_lr / 10 if kind == "constant" else settings.max_lr,
                        format="%g", key=W + f"bl_lr_{kind}")
        if kind == "constant":
            c2.number_input("Momentum", 0.0, 0.999, 0.9, step=0.01, key=W + "bl_mom")
        elif kind == "step":
            c2.text_input("Boundaries (fractions)", "0.5, 0.75", key=W + "bl_bounds")
            c3.number_input("Factor", 0.0, 1.0, 0.1, step=0.05, key=W + "bl_factor")
            st.number_input("Momentum", 0.0, 0.999, 0.9, step=0.01, key=W + "bl_mom")
        else:
            c2.number_input("Base LR", min_value=0.0, value=settings.max_lr / 10, format="%g", key=W + "bl_base_lr")
            c3.number_input("Cycles", min_value=1, value=4, step=1, key=W + "bl_cycles")
        st.button("Add baseline", key=W + "add_baseline", on_click=_add_baseline, args=(settings.total_steps,))
    _show_msg("designer_compare_msg")
    saved = ss.get(SAVED_KEY, {})
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    if W + "compare_names" not in ss:
        ss[W + "compare_names"] = list(saved)  # back from another page: show every saved schedule
    shown = c1.multiselect("Schedules to compare", list(saved), key=W + "compare_names")
    include_current = c2.checkbox("Include the current schedule", value=True, key=W + "compare_current")
    curves = {name: schedule_from_dict(saved[name]) for name in shown if name in saved}
    if include_current:
        curves = {"current": sched, **curves}
    if len(curves) >= 2:
        st.plotly_chart(overlay_figure(curves, log_lr=log_lr), key="designer_overlay", config={"displaylogo": False})
        lengths = {name: c.total_steps for name, c in curves.items()}
        if len(set(lengths.values())) > 1:  # a schedule saved before the step budget changed keeps its own length
            st.caption("These schedules differ in length: " + ", ".join(f"{n} {t:,} steps" for n, t in lengths.items())
                       + ". Each keeps the step budget it was saved with.")
    else:
        st.caption("Save a schedule or add a baseline to compare.")
    if saved:
        st.button("Forget saved schedules", key=W + "clear_saved", on_click=_forget_saved)

with export:
    st.markdown(
        "**Share**: the page's address already holds these settings; copy it from the address bar, or "
        "append this query to the dashboard's address:"
    )
    st.code("?" + urlencode(settings.to_query_params()), language=None)
    c1, c2 = st.columns(2)
    c1.download_button("Download JSON config", settings_to_json(settings), file_name="onecycle.json",
                       mime="application/json", key=W + "dl_json", on_click="ignore")
    c2.download_button("Download CSV of the curve", lambda: schedule_csv(sched, settings.steps_per_epoch),
                       file_name="onecycle.csv", mime="text/csv", key=W + "dl_csv", on_click="ignore")
    st.caption("The JSON config also works with `superconv schedule --config onecycle.json`.")
    st.markdown("**Keras** (superconv's optimizers cycle the momentum under compiled `fit`)")
    st.code(keras_snippet(settings), language="python")
    st.markdown("**PyTorch**")
    st.code(pytorch_snippet(settings), language="python")
    if fastai:
        st.markdown("**fastai**")
        st.code(fastai_snippet(settings), language="python")

with load:
    import_section()
