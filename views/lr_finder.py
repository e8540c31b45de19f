"""LR Finder: run an LR range test in the background and read a max_lr for 1cycle off the curve.

Thin page: widgets -> superconv.lr_finder.job_configs -> superconv.jobs (kind "lr_find", one
worker process per curve) -> run store -> superconv.lr_finder (smoothing, bands, rules) ->
superconv.plots_lr figure. The training happens in the worker processes: no TensorFlow here.

The test on screen is the session's, else the latest in the store: a reload or a second browser shows it.

Hand-off: "Use as max_lr" stores the chosen LR in ``st.session_state["designer_max_lr"]`` and
switches to the Schedule Designer, which starts from it.
"""

from __future__ import annotations

import dataclasses
import os
import uuid

import pandas as pd
import streamlit as st

from superconv.data import DATASETS
from superconv.designer_state import DesignerSettings, settings_from_dict
from superconv.jobs import shared_manager
from superconv.lr_finder import MIN_CURVE_POINTS, MODES, aggregate_curves, job_configs, result_from_rows
from superconv.models import MODELS
from superconv.plots_lr import lr_finder_figure
from superconv.store import ACTIVE_STATUSES, RunStore

REFRESH_S = float(os.environ.get("SUPERCONV_REFRESH_S", "0.5"))
HANDOFF_KEY = "designer_max_lr"  # read (and consumed) by views/designer.py
DESIGNER_STATE_KEY = "designer_settings"  # the designer's last valid settings (views/designer.py STATE_KEY)
DESIGNER_PAGE = "views/designer.py"
OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop"]
GROUP_PREFIX = "lrfind-"  # the run group of every test started here (a reload shows the latest one)
ss = st.session_state


def parse_floats(text: str, field: str) -> list[float]:
    """Comma-separated numbers; ValueError names the field."""
    try:
        values = [float(part) for part in str(text).replace(";", ",").split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{field} must be numbers separated by commas; received {field}={text!r}") from None
    if not values:
        raise ValueError(f"{field} needs at least one value; received {field}={text!r}")
    return values


store = RunStore()
manager = shared_manager(store.path)  # one per server: the job cap holds across pages

st.title("LR range test")
st.caption("Train a fresh model for a few hundred batches while the learning rate grows, and watch the loss. "
           "The best max_lr for 1cycle sits where the loss still falls fast, before it blows up (Smith). "
           "Test under the conditions of the real run: same model, batch size and weight decay.")

# --------------------------------------------------------------------------- settings
with st.form("lrf_form"):
    c1, c2, c3, c4 = st.columns(4)
    dataset = c1.selectbox("Dataset", [d for d in DATASETS if d != "csv"], key="lrf_dataset",
                           help="digits, spirals, blobs and shapes work offline")
    model = c2.selectbox("Model", list(MODELS), index=list(MODELS).index("cnn"), key="lrf_model")
    optimizer = c3.selectbox("Optimizer", OPTIMIZERS, key="lrf_optimizer",
                             help="momentum (or Adam's beta_1) is held constant during the test")
    batch_size = c4.number_input("Batch size", min_value=1, max_value=4096, value=64, step=1, key="lrf_batch")
    c1, c2, c3, c4 = st.columns(4)
    start_lr = c1.number_input("Start LR", min_value=1e-9, max_value=1e3, value=1e-5, format="%.1e", key="lrf_start")
    end_lr = c2.number_input("End LR", min_value=1e-8, max_value=1e4, value=10.0, format="%.1e", key="lrf_end")
    num_iter = c3.number_input("Batches (num_iter)", min_value=10, max_value=5000, value=100, step=10,
                               key="lrf_num_iter")
    mode = c4.radio("LR growth", list(MODES), horizontal=True, key="lrf_mode",
                    help="exp: evenly spaced on a log axis (the usual choice); linear: Smith's original")
    c1, c2, c3 = st.columns(3)
    wd_text = c1.text_input("Weight decay(s)", value="0", key="lrf_wd",
                            help="several values, comma-separated, give one curve each (e.g. 0, 1e-4, 5e-4)")
    bs_text = c2.text_input("Sweep batch sizes (optional)", value="", key="lrf_bs_sweep",
                            help="comma-separated batch sizes: one curve each (instead of a weight-decay sweep)")
    seeds = c3.number_input("Repeats (seeds)", min_value=1, max_value=8, value=1, step=1, key="lrf_seeds",
                            help="several seeds give a mean curve with a min-max band")
    submitted = st.form_submit_button("Run range test", type="primary")

if submitted:
    try:
        wds = parse_floats(wd_text, "weight decay")
        sweep_over, values = None, []
        if bs_text.strip():
            values = [int(v) if float(v).is_integer() else v for v in parse_floats(bs_text, "batch sizes")]
            if any(not isinstance(v, int) or v < 1 for v in values):
                raise ValueError(f"batch sizes must be integers >= 1; received batch sizes={bs_text!r}")
            if len(wds) > 1:
                raise ValueError("sweep either weight decay or batch size, not both")
            sweep_over = "batch_size"
        elif len(wds) > 1:
            sweep_over, values = "weight_decay", wds
        configs = job_configs(seeds=list(range(int(seeds))), sweep_over=sweep_over, values=values, dataset=dataset,
                              model=model, optimizer=optimizer, batch_size=int(batch_size), weight_decay=wds[0],
                              start_lr=float(start_lr), end_lr=float(end_lr), num_iter=int(num_iter), mode=mode)
    except ValueError as exc:
        st.error(str(exc))
    else:
        group = f"{GROUP_PREFIX}{uuid.uuid4().hex[:8]}"
        ss["lrf_runs"] = [manager.submit(cfg, kind="lr_find", group=group, name=cfg["lr_find"]["label"] or "lr_find")
                          for cfg in configs]
        ss["lrf_group"] = group
        ss.pop("lrf_pick", None)


# --------------------------------------------------------------------------- results
def load_runs(run_ids: list[int]) -> tuple[list, list[dict]]:
    """(results, run records) for the current test, from the store."""
    results, records = [], []
    for run_id, rec in store.get_runs(run_ids).items():  # a run deleted meanwhile is left out
        df = store.batch_metrics(run_id)
        records.append(rec)
        # A test that did not finish ended by its status (cancelled, failed, interrupted), not by a rule.
        reason = (rec.get("final") or {}).get("stop_reason") or (
            rec["status"] if rec["status"] in ("cancelled", "failed", "interrupted") else "")
        results.append(result_from_rows(rec["config"], df["lr"].to_numpy(float), df["loss"].to_numpy(float), reason))
    return results, records


def bands_of(results: list, records: list[dict]) -> tuple[list, dict[str, list[str]]]:
    """One band per label, and for each band built from stopped curves the statuses that stopped them.

    Where some curves of a label finished, the band uses only those (a cancelled repeat would cut it short).
    """
    groups: dict[str, list] = {}
    for r, rec in zip(results, records):
        if r.num_iter_done:
            groups.setdefault(r.label, []).append((r, rec["status"]))
    bands, stopped = [], {}
    for label, pairs in groups.items():
        finished = [r for r, status in pairs if status == "finished"]
        bands.append(aggregate_curves(finished or [r for r, _ in pairs], label=label))
        if not finished:
            stopped[label] = sorted({status for _, status in pairs})
    return bands, stopped


def render_progress(results: list, records: list[dict]) -> bool:
    """Progress bar and statuses; returns True while some curve is still queued or running."""
    active = any(rec["status"] in ACTIVE_STATUSES for rec in records)
    total = sum(int(rec["config"]["lr_find"]["num_iter"]) for rec in records) or 1
    # A finished curve counts in full (it ended by a rule, e.g. diverged); a stopped one by what it did.
    done = sum(int(rec["config"]["lr_find"]["num_iter"]) if rec["status"] == "finished" else r.num_iter_done
               for r, rec in zip(results, records))
    statuses = ", ".join(f"{rec['status']}" for rec in records)
    st.progress(min(done / total, 1.0), text=f"{done} / {total} batches · {len(records)} curve(s): {statuses}")
    for rec in records:
        if rec["status"] == "failed":
            st.error(f"Run #{rec['id']} failed: {rec.get('error')}")
    return active


def render_chart(bands: list, results: list, suggestions: list, chosen: float | None, key: str) -> None:
    fig = lr_finder_figure(bands, suggestions, raw=results if len(results) <= 12 else (), chosen_lr=chosen)
    st.plotly_chart(fig, key=key, width="stretch")


if "lrf_runs" not in ss:  # a new session (reload, second browser): show the latest test in the store
    tests = store.list_runs(kind="lr_find")
    groups = [g for g in tests["group"] if isinstance(g, str) and g.startswith(GROUP_PREFIX)]
    if groups:  # list_runs is newest first
        ss["lrf_group"] = groups[0]
        ss["lrf_runs"] = sorted(int(i) for i in tests.loc[tests["group"] == groups[0], "id"])
run_ids = [int(i) for i in ss.get("lrf_runs", [])]
if run_ids:
    st.caption(f"Range test `{ss.get('lrf_group', '')}`: its curves stay in the run store, so a reload or another "
               "browser shows it until a new test starts.")
if not run_ids:
    st.info("Choose the settings and press Run range test. A 100-batch test of the small CNN on digits takes "
            "a few seconds on a CPU.")
    st.stop()

results, records = load_runs(run_ids)
if any(rec["status"] in ACTIVE_STATUSES for rec in records):

    @st.fragment(run_every=REFRESH_S)
    def live_view() -> None:
        res, recs = load_runs(run_ids)
        still_active = render_progress(res, recs)
        if st.button("Cancel", key="lrf_cancel"):
            for rec in recs:
                if rec["status"] in ACTIVE_STATUSES:
                    manager.cancel(int(rec["id"]))
        render_chart(bands_of(res, recs)[0], res, [], None, key=f"lrf_live_{sum(r.num_iter_done for r in res)}")
        if not still_active:
            st.rerun()  # the full page shows the suggestions and the hand-off

    live_view()
    st.stop()

render_progress(results, records)
bands, stopped_by = bands_of(results, records)
if not bands:
    st.warning("The range test recorded no batches (cancelled or failed before the first batch).")
    st.stop()

labels = [b.label for b in bands]
focus = st.selectbox("Suggestions for", labels, key="lrf_focus",
                     format_func=lambda s: s or "all curves") if len(bands) > 1 else labels[0]
band = bands[labels.index(focus)]
# Fewer points than MIN_CURVE_POINTS and the rules read noise (e.g. a repeat cancelled after 3 batches cuts the
# band there).
suggestions = band.suggestions() if band.lrs.size >= MIN_CURVE_POINTS else []
stop_reasons = sorted({r.stop_reason for r in results})

options = [f"{s.rule}: {s.lr:.3g}" for s in suggestions]
# minimum/10 preselected: on digits it trains 1cycle as well as any pick, while the (lag-free) steepest
# point can sit too low for max_lr (benchmarks/lr_finder_lag.py --train-epochs 5)
first = next((i for i, s in enumerate(suggestions) if s.rule == "minimum/10"), 0)
stopped = stopped_by.get(band.label, [])
if stopped and suggestions:  # a partial curve: its minimum may just be where the test was stopped
    st.warning(f"The test did not run to its end ({', '.join(stopped)}): the curve stops at LR "
               f"{band.lrs[-1]:.3g}, and the rules read only that part, so no pick is preselected. Check any "
               "pick against the curve, or run the test again.")
pick = st.radio("Max LR for 1cycle", options + ["custom"], index=None if stopped else first, key="lrf_pick",
                horizontal=True,
                help="No rule is right every time: all are shown, minimum/10 preselected. Check the pick against "
                     "the curve: a max_lr where the loss still falls clearly, before the minimum.") \
    if options else None  # no rule could read the curve: nothing to hand over
if pick is None:
    chosen = None
elif pick == "custom":
    chosen = float(st.number_input("Custom max_lr", min_value=1e-8, max_value=1e3,
                                   value=float(suggestions[first].lr) if suggestions else 0.1, format="%.3e",
                                   key="lrf_custom"))
else:
    # The value as shown (3 significant digits): the range test's LR grid carries no more precision, and
    # the designer's slider and share link then read 0.1, not 0.09999999999999995.
    chosen = float(f"{suggestions[options.index(pick)].lr:.3g}")

render_chart(bands, results, suggestions, chosen, key=f"lrf_final_{'_'.join(map(str, run_ids))}")

table = pd.DataFrame([{"rule": s.rule, "suggested LR": s.lr, "what it reads off the curve": s.description}
                      for s in suggestions])
st.dataframe(table, hide_index=True, key="lrf_table", column_config={  # 3 significant digits, as the picker
    "suggested LR": st.column_config.NumberColumn("suggested LR", format="%.3g")})
if not suggestions:
    st.warning(f"The curve is too short for the rules ({band.lrs.size} points; they need {MIN_CURVE_POINTS}): "
               "run more batches or lower the start LR.")
st.caption(f"Curves ended by: {', '.join(stop_reasons)}. 'diverged' is the normal end of a range test: the "
           "running average of the loss passed 5x its best. The drawn curves are smoothed forward and backward, "
           "so they do not trail the raw losses and the rules mark where the curve really falls.")

if chosen is None:
    st.info("Pick a max_lr above to hand it to the Schedule Designer." if suggestions else
            "Nothing to hand to the Schedule Designer: run a longer test.")
    st.stop()
st.markdown(
    f"**Chosen max_lr: {chosen:.3g}.** In 1cycle the LR starts at max_lr / div_factor. Smith takes the "
    f"minimum LR about 3 to 10 times below the maximum: div_factor 3 to 10 gives an initial LR of "
    f"{chosen / 3:.3g} to {chosen / 10:.3g}; PyTorch's default div_factor 25 starts at {chosen / 25:.3g}."
)
if st.button("Use as max_lr in the Schedule Designer", type="primary", key="lrf_use"):
    ss[HANDOFF_KEY] = chosen
    # The designer's address after the switch: its current settings with this max_lr (without it the
    # browser kept this page's address until the next click).
    try:
        base = settings_from_dict(ss[DESIGNER_STATE_KEY]) if DESIGNER_STATE_KEY in ss else DesignerSettings()
        link = dataclasses.replace(base, max_lr=chosen).to_query_params()
    except (TypeError, ValueError):  # the designer reports a max_lr it cannot take
        link = None
    st.switch_page(DESIGNER_PAGE, query_params=link)
