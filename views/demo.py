"""Class demo: super-convergence in one click.

A race of 1cycle at a high peak LR against tuned constant and step-decay baselines: same data, model,
seeds and epoch budget. Thin page over superconv.demo (presets, race configs, results table) and
superconv.plots_training; training runs in worker processes, the store keeps the race (group
``demo-...``), so switching pages or opening a second browser shows the same race.

The preset shown first is the class demo; ``?preset=tiny`` in the URL (or the environment
variable ``SUPERCONV_DEMO_PRESET=tiny``) picks the few-second preset, ``?epochs=N``
(``SUPERCONV_DEMO_EPOCHS``) overrides the epoch budget.
"""

from __future__ import annotations

import os
import time
import uuid

import streamlit as st

from superconv.demo import (
    DEFAULT_PRESET,
    PRESETS,
    get_preset,
    parse_run_name,
    race_configs,
    race_from_store,
    race_summary,
    results_table,
)
from superconv.jobs import shared_manager
from superconv.live import epochs_to_target_text, planned_schedule, shared_live, startup_note
from superconv.plots_training import batch_figure, gap_figure, race_figure, run_colors, schedules_figure
from superconv.schedules import schedule_from_dict
from superconv.store import ACTIVE_STATUSES, RunStore

REFRESH_S = float(os.environ.get("SUPERCONV_REFRESH_S", "0.5"))
GROUP_PREFIX = "demo-"


store = RunStore()
manager = shared_manager(store.path)  # one per server: the job cap holds across pages
live = shared_live()  # one cache for every page: a delete elsewhere is seen here


def latest_race_group() -> str | None:
    """The most recent demo race in the store (what every session shows by default)."""
    runs = store.list_runs(kind="train")
    groups = [g for g in runs["group"] if isinstance(g, str) and g.startswith(GROUP_PREFIX)]
    return groups[0] if groups else None  # list_runs is newest first


def race_preset(group: str) -> str | None:
    """Preset name encoded in a race group ``demo-<preset>-<stamp>``."""
    rest = group[len(GROUP_PREFIX):]
    for name in sorted(PRESETS, key=len, reverse=True):
        if rest.startswith(name + "-"):
            return name
    return None


st.title("Super-convergence in one click")

group = st.session_state.get("demo_group") or latest_race_group()
# Preset shown: the URL's, the environment's, else the one of the race on screen, else the class demo.
asked = st.query_params.get("preset") or os.environ.get("SUPERCONV_DEMO_PRESET")
requested = asked or (race_preset(group) if group else None) or DEFAULT_PRESET
names = list(PRESETS)
c = st.columns([2, 1, 1])
preset_name = c[0].selectbox("preset", names, index=names.index(requested) if requested in names else 0,
                             format_func=lambda n: f"{n}: {PRESETS[n].description}", key="demo_preset")
if asked and asked not in names:
    st.warning(f"preset must be one of {names}; received preset={asked!r}; using {preset_name}")
preset = get_preset(preset_name)
epochs_text_in = st.query_params.get("epochs") or os.environ.get("SUPERCONV_DEMO_EPOCHS")
try:
    epochs_default = int(epochs_text_in) if epochs_text_in else preset.epochs
    if not 1 <= epochs_default <= 1000:
        raise ValueError
except ValueError:
    st.warning(f"epochs must be an integer in 1..1000; received epochs={epochs_text_in!r}; using {preset.epochs}")
    epochs_default = preset.epochs
epochs = int(c[1].number_input("epochs (every lane)", 1, 1000, epochs_default, key=f"demo_epochs_{preset_name}"))
seeds = int(c[2].number_input("seeds", 1, 5, 1, key="demo_seeds",
                              help="each schedule runs once per seed; the table averages over seeds"))
try:  # e.g. too few epochs for 1cycle's warm-up: say so now rather than store runs that fail
    race_configs(preset, seeds=seeds, epochs=epochs)
    race_error = None
except ValueError as exc:
    race_error = str(exc)
    st.error(race_error)

lanes = {lane.label: schedule_from_dict(dict(lane.schedule, total_steps=1000)) for lane in preset.schedules}
colors = run_colors(list(lanes))

st.markdown(
    f"""
**The race.** The same {preset.model.upper()} on the same data (`{preset.dataset}`), same seeds, same
{epochs}-epoch budget, batch size {preset.batch_size}, {preset.optimizer.upper()} with weight decay
{preset.weight_decay:g}. Only the learning-rate schedule differs:
"""
    + "\n".join(f"- **{lane.label}**: {lane.note}" for lane in preset.schedules)
    + f"\n\n*How the baselines were chosen:* {preset.how_tuned}"
    + (f"\n\n*What we measured:* {preset.measured}" if preset.measured else "")
)
st.plotly_chart(schedules_figure(lanes, colors=colors), key="demo_schedules")
measured_note = " (what we measured over three seeds is above)" if preset.measured else ""
with st.expander("What to watch", expanded=True):
    st.markdown(
        f"""
1. **The LR peak.** 1cycle warms up to a learning rate several times higher than the baselines can use.
   The loss keeps falling, if noisily, while the LR climbs: the warm-up and the falling momentum keep
   training from blowing up.
2. **The regularizing noise.** Around the peak the per-batch loss is noisy and the gap between training
   and validation loss stays small: large steps keep the weights out of sharp minima (regularization by
   the learning rate itself, which is why 1cycle pairs with less weight decay and dropout).
3. **The late annihilation.** In the last phase the LR falls far below its starting value: the loss drops
   sharply and validation accuracy climbs to its best. Compare where each lane's star lands on the accuracy
   chart, and the results table{measured_note}.
"""
    )


def start_race() -> None:
    """Button callback: submit every lane of a new race (runs before the script, so the page that
    follows already shows the new race and a disabled Start button). Reads the widgets' current
    values, which may be newer than the last script run's."""
    ss = st.session_state
    preset = get_preset(ss["demo_preset"])
    seeds, epochs = int(ss["demo_seeds"]), int(ss[f"demo_epochs_{preset.name}"])
    try:
        configs = race_configs(preset, seeds=seeds, epochs=epochs)
    except ValueError:  # the page, rerun with these values, shows the error
        return
    group = f"{GROUP_PREFIX}{preset.name}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    for config in configs:
        manager.submit(config, kind="train", group=group)
    ss["demo_group"] = group
    st.toast(f"Race started: {len(preset.schedules) * seeds} runs")


race_runs = store.list_runs(kind="train", group=group) if group else None
race_active = bool(race_runs is not None and race_runs["status"].isin(ACTIVE_STATUSES).any())
b = st.columns([1, 1, 3])
# One race at a time: a second one would queue behind this one's lanes (the server-wide job cap).
b[0].button("Start the race", type="primary", key="demo_start", on_click=start_race,
            disabled=race_active or race_error is not None,
            help="Stop the race on screen to start another" if race_active else race_error)

if group is None:
    st.info("Press **Start the race**: every schedule trains at once and the charts fill in live.")
    st.stop()

race_preset_name = race_preset(group) or preset.name
race_target = get_preset(race_preset_name).target_accuracy
if b[1].button("Stop the race", key="demo_stop", disabled=not race_active):
    for run_id in race_runs.loc[race_runs["status"].isin(ACTIVE_STATUSES), "id"]:
        manager.cancel(int(run_id))
    st.rerun()
b[2].caption(f"race `{group}` ({race_preset_name}), target accuracy {race_target:.0%}")


def epochs_text(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def race_panel(group: str, target: float) -> None:
    """Live race charts and the results table, read from the store."""
    runs = store.list_runs(kind="train", group=group).sort_values("id")
    active = runs["status"].isin(ACTIVE_STATUSES).any()
    signature = tuple(zip(runs["id"], runs["status"]))
    if not active and st.session_state.get("demo_signature") not in (None, signature):
        st.session_state["demo_signature"] = signature
        st.rerun()  # the race is over: one full rerun to settle the buttons
    st.session_state["demo_signature"] = signature
    table = results_table(race_from_store(store, group), target=target)
    budget = max((int(c.get("epochs", 0)) for c in runs["config"]), default=0) or None
    st.plotly_chart(race_figure(table, target=target, colors=colors, epochs=budget), key="demo_race_chart")
    # Loss and LR of the first seed of each lane (the other seeds look alike; the table averages them).
    first = {}
    for _, r in runs.iterrows():
        label, seed = parse_run_name(r["name"])
        if label not in first:
            first[label] = r
    batches = {label: live.batches(store, int(r["id"])) for label, r in first.items()}
    planned = {}
    records = store.get_runs(int(r["id"]) for r in first.values())  # a lane deleted meanwhile is left out
    for label, r in first.items():
        if int(r["id"]) not in records:
            continue
        final = records[int(r["id"])].get("final") or {}
        sched = planned_schedule(r["config"], batches[label], total_steps=final.get("total_steps"))
        if sched is not None:
            planned[label] = sched
    st.plotly_chart(batch_figure(batches, planned=planned, colors=colors, max_points=1200, height=700),
                    key="demo_batch_chart")
    st.plotly_chart(gap_figure({label: store.epoch_metrics(int(r["id"])) for label, r in first.items()},
                               colors=colors), key="demo_gap_chart")
    done = ", ".join(f"{r['name']}: {r['status']}" for _, r in runs.iterrows())
    st.caption(done)
    if active and not any(len(b) for b in batches.values()):  # nothing measured yet: say why
        st.caption(startup_note(manager.max_concurrent))
    st.subheader("Results" if not active else "Results so far")
    view = table[["schedule", "seeds", "epochs_done", "best_val_acc", "final_val_acc", "epochs_to_target",
                  "wall_seconds", "status"]].copy()
    view["epochs_to_target"] = epochs_to_target_text(view["epochs_to_target"], bool(active))
    st.dataframe(view, hide_index=True, key="demo_table", column_config={
        "best_val_acc": st.column_config.NumberColumn("best val acc", format="%.4f"),
        "final_val_acc": st.column_config.NumberColumn("final val acc", format="%.4f"),
        "epochs_to_target": st.column_config.TextColumn(f"epochs to {target:.0%}"),
        "wall_seconds": st.column_config.NumberColumn("time per run (s)", format="%.1f"),
        "epochs_done": st.column_config.NumberColumn("epochs"),
    })
    stopped = runs[~runs["status"].isin(ACTIVE_STATUSES + ("finished", "diverged"))]
    if not active and len(stopped):  # cancelled, failed or interrupted lanes: no fair comparison to make
        st.info(f"The race was stopped before its end ({', '.join(sorted(set(stopped['status'])))}): no verdict. "
                "Start a new race to compare the schedules.")
    elif not active and "1cycle" in set(table["schedule"]) and len(table) > 1:
        s = race_summary(table)
        if s["onecycle_epochs"] is None:
            st.warning(f"1cycle did not reach {target:.0%} in this race.")
        elif s["baseline_epochs"] is None:
            st.success(f"1cycle reached {target:.0%} in {epochs_text(s['onecycle_epochs'])}; no baseline reached it "
                       "within the budget.")
        else:
            st.success(f"1cycle reached {target:.0%} in {epochs_text(s['onecycle_epochs'])}, the best baseline "
                       f"({s['best_baseline']}) in {epochs_text(s['baseline_epochs'])}; final accuracy difference "
                       f"{s['final_delta']:+.4f}.")


st.fragment(run_every=REFRESH_S if race_active else None)(race_panel)(group, race_target)
