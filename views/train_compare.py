"""Train & Compare: start training runs, watch them live on shared charts, compare them.

Thin page: widgets -> superconv.config / superconv.jobs -> superconv.live -> superconv.plots_training.
Training runs in worker processes started by the job manager; the run store is the single source
of truth, so another page, a reload or a second browser shows the same runs. No TensorFlow here.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import streamlit as st

from superconv.config import OPTIMIZER_NAMES, load_run_config
from superconv.data import DATASETS
from superconv.designer_state import settings_from_dict
from superconv.jobs import shared_manager
from superconv.live import (epochs_to_target_text, planned_schedule, run_label, runs_overview, shared_live,
                            startup_note)
from superconv.models import MODELS
from superconv.plots_training import batch_figure, epoch_figure, gap_figure, run_colors_by_id
from superconv.store import ACTIVE_STATUSES, RunStore
from superconv.uploads import save_csv_upload

REFRESH_S = float(os.environ.get("SUPERCONV_REFRESH_S", "0.5"))  # live charts: a few updates per second
MAX_POINTS = 1500  # decimation budget per trace
STOPPED_STATUSES = ("cancelled", "failed", "interrupted", "diverged")  # ended before their plan did
TABLE_REFRESH_S = 2.0  # the runs table reads every run's metrics: refreshed less often than the charts
DESIGNER_STATE_KEY = "designer_settings"  # the Schedule Designer's current settings (DesignerSettings.to_dict())
DESIGNER_SAVED_KEY = "designer_saved"  # the designer's saved schedules: name -> schedule.to_dict()


store = RunStore()
manager = shared_manager(store.path)  # one per server: the job cap holds across pages
live = shared_live()  # one cache for every page: a delete elsewhere is seen here

st.title("Train & Compare")
st.caption("Start runs with any schedule, watch them train live, overlay them and compare. Runs live in the "
           f"run store (`{store.path}`) and keep going when you switch pages.")

# --------------------------------------------------------------------------- new run
SCHEDULE_CHOICES = ["1cycle", "constant", "step decay", "triangular (CLR)"]


def designer_schedules() -> dict[str, dict]:
    """Schedules handed over by the Schedule Designer (its current one and the ones saved there)."""
    out = {}
    state = st.session_state.get(DESIGNER_STATE_KEY)
    if isinstance(state, dict):
        try:
            out["designer: current"] = settings_from_dict(state).schedule().to_dict()
        except ValueError:
            pass
    for name, sched in (st.session_state.get(DESIGNER_SAVED_KEY) or {}).items():
        if isinstance(sched, dict) and sched.get("kind"):
            out[f"designer: {name}"] = dict(sched)
    return out


designer = designer_schedules()
SCHEDULE_CHOICES = [*designer, *SCHEDULE_CHOICES]


def schedule_inputs(choice: str) -> dict:
    """Widgets for the chosen schedule; returns its to_dict() without total_steps."""
    if choice in designer:
        sched = {k: v for k, v in designer[choice].items() if k != "total_steps"}
        shown = {k: v for k, v in sched.items() if k != "kind"}
        if sched.get("convention") == "fastai":  # in fastai's own terms, as the designer shows them
            shown["div_final"] = shown.pop("final_div_factor") * shown["div_factor"]
        st.caption("From the Schedule Designer (stretched to this run's length): "
                   + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()))
        return sched
    c = st.columns(4)
    if choice == "1cycle":
        return {"kind": "onecycle",
                "max_lr": c[0].number_input("max LR", 1e-6, 100.0, 0.5, format="%.4g", key="tc_max_lr"),
                "pct_start": c[1].number_input("warm-up fraction", 0.01, 0.99, 0.3, key="tc_pct_start"),
                "div_factor": c[2].number_input("div factor (start = max/div)", 1.0, 1e6, 25.0, key="tc_div"),
                "final_div_factor": c[3].number_input("final div factor", 1.0, 1e8, 1e4, format="%g", key="tc_fdiv"),
                "anneal": c[0].selectbox("anneal", ["cos", "linear"], key="tc_anneal"),
                "base_momentum": c[1].number_input("momentum at peak", 0.0, 0.999, 0.85, key="tc_bmom"),
                "max_momentum": c[2].number_input("momentum at ends", 0.0, 0.999, 0.95, key="tc_mmom")}
    if choice == "constant":
        return {"kind": "constant", "lr": c[0].number_input("LR", 1e-6, 100.0, 0.05, format="%.4g", key="tc_lr"),
                "momentum": c[1].number_input("momentum", 0.0, 0.999, 0.9, key="tc_mom")}
    if choice == "step decay":
        text = c[2].text_input("drops at (fractions of the run)", "0.5, 0.75", key="tc_bounds")
        try:
            bounds = [float(b) for b in text.replace(";", ",").split(",") if b.strip()]
        except ValueError:
            bounds = text  # the config validation names the field and the value
        return {"kind": "step", "lr": c[0].number_input("LR", 1e-6, 100.0, 0.1, format="%.4g", key="tc_step_lr"),
                "factor": c[1].number_input("factor at each drop", 0.001, 1.0, 0.1, key="tc_factor"),
                "boundaries": bounds,
                "momentum": c[3].number_input("momentum", 0.0, 0.999, 0.9, key="tc_step_mom")}
    return {"kind": "cyclic",
            "base_lr": c[0].number_input("base LR", 1e-6, 100.0, 0.01, format="%.4g", key="tc_base_lr"),
            "max_lr": c[1].number_input("max LR", 1e-6, 100.0, 0.1, format="%.4g", key="tc_clr_max"),
            "step_size": int(c[2].number_input("half cycle (steps)", 1, 1_000_000, 100, key="tc_step_size")),
            "base_momentum": c[3].number_input("momentum at peak", 0.0, 0.999, 0.85, key="tc_clr_bmom"),
            "max_momentum": c[0].number_input("momentum at trough", 0.0, 0.999, 0.95, key="tc_clr_mmom")}


with st.expander("Start a run", expanded=True):
    a = st.columns(4)
    dataset = a[0].selectbox("dataset", list(DATASETS), key="tc_dataset", help="digits works offline")
    model = a[1].selectbox("model", list(MODELS), key="tc_model", format_func=lambda m: f"{m}: {MODELS[m]}")
    optimizer = a[2].selectbox("optimizer", list(OPTIMIZER_NAMES), key="tc_optimizer")
    name = a[3].text_input("name (optional)", key="tc_name")
    b = st.columns(4)
    epochs = int(b[0].number_input("epochs", 1, 1000, 10, key="tc_epochs"))
    batch_size = int(b[1].number_input("batch size", 1, 65536, 64, key="tc_batch"))
    weight_decay = b[2].number_input("weight decay", 0.0, 1.0, 1e-4, format="%g", key="tc_wd")
    seed = int(b[3].number_input("seed", 0, 2**31 - 1, 0, key="tc_seed"))
    g = st.columns(4)
    mixed_precision = g[0].checkbox("mixed precision (float16)", key="tc_mixed",
                                    help="GPU only: on a CPU the run ignores it and records that it did")
    jit_compile = g[1].checkbox("XLA (jit_compile)", key="tc_xla", help="compile the train step with XLA")
    csv_path = None
    if dataset == "csv":
        upload = st.file_uploader("CSV file (a 'label' column and numeric features)", type="csv", key="tc_csv")
        if upload is not None:
            try:  # sanitized name inside the uploads directory, validated; nothing kept when invalid
                csv_path = str(save_csv_upload(upload.name, upload.getvalue()))
            except ValueError as exc:
                st.error(str(exc))
    choice = st.radio("schedule", SCHEDULE_CHOICES, horizontal=True, key="tc_schedule")
    schedule = schedule_inputs(choice)
    if st.button("Start run", type="primary", key="tc_start"):
        raw = {"name": name or "", "dataset": dataset, "model": model, "optimizer": optimizer, "schedule": schedule,
               "epochs": epochs, "batch_size": batch_size, "weight_decay": float(weight_decay), "seed": seed,
               "mixed_precision": mixed_precision, "jit_compile": jit_compile}
        if csv_path:
            raw["csv_path"] = csv_path
        try:
            config = load_run_config(raw)
        except ValueError as exc:
            st.error(str(exc))
        else:
            if not config.name:
                peak = schedule.get("max_lr", schedule.get("lr", ""))
                config.name = choice if choice in designer else f"{choice} {peak}".strip()
            run_id = manager.submit(config, kind="train")
            overlay = [i for i in st.session_state.get("tc_overlay", []) if i != run_id]
            st.session_state["tc_overlay"] = [run_id, *overlay]
            st.toast(f"Run #{run_id} started")

# --------------------------------------------------------------------------- all runs
target = st.number_input("target validation accuracy (for 'epochs to target')", 0.01, 1.0, 0.95, key="tc_target")
table = runs_overview(store, target=target)
ids = table["id"].tolist()
labels = {int(r["id"]): run_label({"id": r["id"], "name": r["name"], "config": {}}) for _, r in table.iterrows()}
active_ids = table.loc[table["status"].isin(ACTIVE_STATUSES), "id"].tolist()

# The overlay defaults to what is running plus the latest runs, so a second browser sees the same picture.
if "tc_overlay" not in st.session_state:
    st.session_state["tc_overlay"] = list(dict.fromkeys(active_ids + ids[:4]))
st.session_state["tc_overlay"] = [i for i in st.session_state["tc_overlay"] if i in labels]
if "tc_picked" in st.session_state:  # a run picked here may have been deleted from another browser
    st.session_state["tc_picked"] = [i for i in st.session_state["tc_picked"] if i in labels]
# Labels without the status: the selection is kept by label, and a status change (running -> cancelled)
# would drop the run from the charts.
overlay = st.multiselect("runs on the charts", ids, format_func=lambda i: labels[i], key="tc_overlay")


def live_panel(run_ids: list[int], target: float) -> None:
    """Charts of the overlaid runs, refreshed from the store while any of them is active."""
    records = store.get_runs(run_ids)  # a run deleted from another browser leaves the charts
    names = {i: run_label(r) for i, r in records.items()}
    colors = run_colors_by_id(names)
    still_active = [i for i, r in records.items() if r["status"] in ACTIVE_STATUSES]
    if still_active:
        cols = st.columns(min(len(still_active), 4))
        for k, i in enumerate(still_active):
            with cols[k % len(cols)]:
                done = len(store.epoch_metrics(i))
                st.caption(f"{names[i]}: {records[i]['status']}, epoch {done}/{records[i]['config'].get('epochs')}")
                if st.button("Cancel", key=f"tc_cancel_{i}"):
                    try:
                        manager.cancel(i)
                    except KeyError:  # deleted from another browser meanwhile
                        pass
                    st.rerun()
    # A run started, finished, was cancelled or deleted: one full rerun so the table and buttons catch up.
    signature = tuple((i, r["status"]) for i, r in records.items())
    if st.session_state.get("tc_signature") not in (None, signature):
        st.session_state["tc_signature"] = signature
        st.rerun()
    st.session_state["tc_signature"] = signature
    batches = {names[i]: live.batches(store, i) for i in records}
    if any(batches[names[i]].empty for i in still_active):  # a run still starting: say what it waits for
        st.caption(startup_note(manager.max_concurrent))
    epochs = {names[i]: store.epoch_metrics(i) for i in records}
    planned = {}
    for i, r in records.items():
        if r["status"] in STOPPED_STATUSES:  # its plan would stretch the shared step axis past what it ran
            continue
        sched = planned_schedule(r["config"], batches[names[i]], total_steps=(r.get("final") or {}).get("total_steps"))
        if sched is not None:
            planned[names[i]] = sched
    smooth = st.session_state.get("tc_smooth", 0.98)
    st.plotly_chart(batch_figure(batches, planned=planned, beta=smooth, max_points=MAX_POINTS, colors=colors,
                                 show_raw=st.session_state.get("tc_raw", True),
                                 log_loss=st.session_state.get("tc_log", False)), key="tc_batch_chart")
    st.plotly_chart(epoch_figure(epochs, target=target, colors=colors), key="tc_epoch_chart")
    st.plotly_chart(gap_figure(epochs, colors=colors), key="tc_gap_chart")


if overlay:
    c = st.columns(3)
    c[0].slider("loss smoothing (EMA beta)", 0.0, 0.995, 0.98, key="tc_smooth")
    c[1].toggle("raw per-batch loss", True, key="tc_raw")
    c[2].toggle("log loss axis", False, key="tc_log")
    any_active = any(i in active_ids for i in overlay)
    st.fragment(run_every=REFRESH_S if any_active else None)(live_panel)(list(overlay), float(target))
else:
    st.info("No runs on the charts yet: start one above, or pick runs from the list.")

def overlay_picked() -> None:
    st.session_state["tc_overlay"] = list(st.session_state.get("tc_picked", []))


def cancel_picked(active: list[int]) -> None:
    for i in st.session_state.get("tc_picked", []):
        if i in active:
            try:
                manager.cancel(i)
            except KeyError:  # deleted from another browser meanwhile: nothing left to cancel
                pass


def delete_picked(active: list[int]) -> None:
    picked = list(st.session_state.get("tc_picked", []))
    busy = [i for i in picked if i in active]
    for i in picked:
        if i not in busy:
            try:
                store.delete_run(i)
            except KeyError:  # another browser deleted it first: the end is the same
                pass
            live.forget(store, i)
    if busy:
        st.session_state["tc_busy_msg"] = "Cancel these runs before deleting them: " + ", ".join(labels[i] for i in busy)
    st.session_state["tc_picked"] = busy
    st.session_state["tc_overlay"] = [i for i in st.session_state.get("tc_overlay", []) if i in busy or i not in picked]


st.subheader("All runs")
if table.empty:
    st.caption("The store has no training runs yet.")
else:
    def table_panel() -> None:
        """The runs table; while runs train it re-reads the store (epochs done, accuracies) every few seconds."""
        now = runs_overview(store, target=target)
        show = now.drop(columns=["error"]).copy()
        show["epochs_to_target"] = epochs_to_target_text(show["epochs_to_target"],
                                                         show["status"].isin(ACTIVE_STATUSES))
        st.dataframe(show, hide_index=True, key="tc_table", column_config={
            "best_val_acc": st.column_config.NumberColumn("best val acc", format="%.4f"),
            "final_val_acc": st.column_config.NumberColumn("final val acc", format="%.4f"),
            "epochs_to_target": st.column_config.TextColumn(f"epochs to {target:.0%}"),
            "train_seconds": st.column_config.NumberColumn("time (s)", format="%.1f"),
            "peak_lr": st.column_config.NumberColumn("peak LR", format="%.4g"),
            "epochs_done": st.column_config.NumberColumn("epochs done"),
            "batch_size": st.column_config.NumberColumn("batch size"),
            "created_at": st.column_config.TextColumn("created"),
        })
        failed = now[now["error"].notna() & (now["error"] != "")]
        for _, r in failed.iterrows():
            st.caption(f"{labels.get(int(r['id']), r['name'])} {r['status']}: {r['error']}")

    # A fragment re-runs with the arguments of its first call: it reads the store itself.
    st.fragment(run_every=max(REFRESH_S, TABLE_REFRESH_S) if active_ids else None)(table_panel)()
    d = st.columns([2, 1, 1, 1])
    picked = d[0].multiselect("selected runs", ids, format_func=lambda i: labels[i], key="tc_picked")
    d[1].button("Overlay", key="tc_overlay_btn", disabled=not picked, on_click=overlay_picked)
    d[2].button("Cancel", key="tc_cancel_btn", disabled=not picked, on_click=cancel_picked, args=(active_ids,))
    d[3].button("Delete", key="tc_delete_btn", disabled=not picked, on_click=delete_picked, args=(active_ids,))
    if st.session_state.get("tc_busy_msg"):
        st.warning(st.session_state.pop("tc_busy_msg"))
    e = st.columns(2)
    e[0].download_button("Export the table (CSV)", table.to_csv(index=False).encode(), file_name="runs.csv",
                         mime="text/csv", key="tc_table_csv")
    if len(picked) == 1:
        with tempfile.TemporaryDirectory() as tmp:
            run_csv = store.export_csv(picked[0], Path(tmp) / "run.csv").read_bytes()
        e[1].download_button(f"Export {labels[picked[0]]} per-batch metrics (CSV)", run_csv,
                             file_name=f"run_{picked[0]}.csv", mime="text/csv", key="tc_run_csv")
        with st.expander("Configuration of the selected run"):
            st.code(json.dumps(store.get_run(picked[0])["config"], indent=2), language="json")
