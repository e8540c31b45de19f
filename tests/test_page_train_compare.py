"""Train & Compare page under Streamlit's AppTest: a real run in a worker process, read back from the store."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from superconv.demo import epochs_to_target
from superconv.store import BatchRow, EpochRow, RunStore

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "train_compare.py")


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def trace(specs: list[dict], name: str) -> dict | None:
    for spec in specs:
        for t in spec["data"]:
            if t.get("name") == name:
                return t
    return None


def test_page_renders_without_runs_and_rejects_bad_input():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("No runs on the charts yet" in i.value for i in at.info)
    # step decay with unreadable drop points: the config error names the field, nothing is stored
    at.radio(key="tc_schedule").set_value("step decay").run()
    at.text_input(key="tc_bounds").set_value("0.75, 0.5").run()
    at.button(key="tc_start").click().run()
    assert [e.value for e in at.error] == [
        "schedule is invalid: boundaries must be increasing fractions in (0, 1); received boundaries=[0.75, 0.5]"]
    # a CNN on 2-D points: refused on the page, before a run is stored, with the way out
    at.radio(key="tc_schedule").set_value("constant").run()
    at.selectbox(key="tc_dataset").set_value("spirals").run()
    at.selectbox(key="tc_model").set_value("cnn").run()
    at.button(key="tc_start").click().run()
    assert [e.value for e in at.error] == [
        "model='cnn' needs images (height, width, channels) but dataset='spirals' gives vectors of shape (2,): "
        "use model='mlp'"]
    assert RunStore().list_runs().empty


@pytest.mark.slow
def test_start_run_shows_growing_live_traces_then_cancel():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.number_input(key="tc_epochs").set_value(40)
    at.number_input(key="tc_batch").set_value(8)
    at.number_input(key="tc_max_lr").set_value(0.3)
    at.text_input(key="tc_name").set_value("live test")
    at.button(key="tc_start").click().run()
    assert not at.exception
    store = RunStore()
    runs = store.list_runs()
    assert runs["name"].tolist() == ["live test"] and runs["kind"].tolist() == ["train"]
    run_id = int(runs["id"].iloc[0])
    cfg = store.get_run(run_id)["config"]
    assert (cfg["epochs"], cfg["batch_size"], cfg["schedule"]["kind"], cfg["schedule"]["max_lr"]) == (40, 8, "onecycle", 0.3)
    assert at.session_state["tc_overlay"] == [run_id]
    # before its first batch the run says what it waits for (a worker process loading TensorFlow)
    assert any(c.value.startswith("Before its first batch a run starts a worker process") for c in at.caption)

    lengths = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        at.run()  # run_every fragments do not fire by themselves in AppTest: rerun to poll
        t = trace(chart_specs(at), "#%d live test loss (smoothed)" % run_id)
        assert t is not None
        n = len(t["y"])
        if n and (not lengths or n > lengths[-1]):
            lengths.append(n)
        if len(lengths) >= 3:
            break
        time.sleep(0.3)
    assert len(lengths) >= 3, f"the loss trace did not grow: {lengths}"
    specs = chart_specs(at)
    # the chart shows what the store holds: applied LR read back from the optimizer, per batch
    stored = store.batch_metrics(run_id)
    lr = trace(specs, f"#{run_id} live test lr")
    assert len(lr["x"]) <= len(stored) and lr["y"][0] == pytest.approx(stored["lr"].iloc[0])
    assert stored["lr"].iloc[0] == pytest.approx(0.3 / 25, rel=1e-4)  # 1cycle starts at max_lr / div_factor

    assert trace(specs, f"#{run_id} live test lr planned") is not None  # the whole plan while it runs
    at.button(key=f"tc_cancel_{run_id}").click().run()
    assert store.wait_for(run_id, timeout=60) == "cancelled"
    at.run()
    assert at.multiselect(key="tc_overlay").value == [run_id]  # still on the charts once its status changed
    # stopped: no plan stretching the shared step axis past what it ran
    assert trace(chart_specs(at), f"#{run_id} live test lr planned") is None
    table = at.dataframe[0].value
    row = table[table["id"] == run_id].iloc[0]
    assert row["status"] == "cancelled" and row["epochs_done"] < 40


@pytest.mark.slow
def test_runs_persist_across_sessions_and_can_be_deleted_and_exported():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.number_input(key="tc_epochs").set_value(2)
    at.radio(key="tc_schedule").set_value("constant").run()
    at.number_input(key="tc_lr").set_value(0.05)
    at.checkbox(key="tc_mixed").check()
    at.checkbox(key="tc_xla").check()
    at.button(key="tc_start").click().run()
    store = RunStore()
    run_id = int(store.list_runs()["id"].iloc[0])
    assert store.wait_for(run_id, timeout=120) == "finished"
    # the GPU options are recorded with the run; on a CPU mixed precision is recorded as not applied
    run = store.get_run(run_id)
    assert (run["config"]["mixed_precision"], run["config"]["jit_compile"]) == (True, True)
    assert run["final"]["jit_compile"] is True
    assert run["final"]["mixed_precision_applied"] is (run["device"] != "CPU")

    # a second session (another browser) sees the run on its charts and in its table
    other = AppTest.from_file(PAGE, default_timeout=60).run()
    assert other.session_state["tc_overlay"] == [run_id]
    epochs = store.epoch_metrics(run_id)
    acc = trace(chart_specs(other), f"#{run_id} constant 0.05 val acc")
    assert acc["y"] == pytest.approx(epochs["val_acc"].tolist())
    row = other.dataframe[0].value.iloc[0]
    assert row["best_val_acc"] == pytest.approx(epochs["val_acc"].max())
    reached = epochs_to_target(epochs["val_acc"].to_numpy(), 0.95)  # the page's default target
    assert row["epochs_to_target"] == ("not reached" if reached is None else str(reached))
    assert row["status"] == "finished" and row["epochs_done"] == 2

    other.multiselect(key="tc_picked").set_value([run_id]).run()
    labels = [b.label for b in other.get("download_button")]
    assert any(l.startswith("Export #") for l in labels)
    other.button(key="tc_delete_btn").click().run()
    assert store.list_runs().empty
    assert any("No runs on the charts yet" in i.value for i in other.info)


def test_schedule_from_the_designer_is_offered_and_used():
    from superconv.designer_state import DesignerSettings

    settings = DesignerSettings(max_lr=0.2, pct_start=0.25, epochs=3, num_samples=1000, batch_size=50)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["designer_settings"] = settings.to_dict()
    at.session_state["designer_saved"] = {"gentle": {"kind": "constant", "lr": 0.01, "total_steps": 60, "momentum": 0.9}}
    at.run()
    assert at.radio(key="tc_schedule").options[:2] == ["designer: current", "designer: gentle"]
    at.radio(key="tc_schedule").set_value("designer: current").run()
    at.number_input(key="tc_epochs").set_value(1)
    at.button(key="tc_start").click().run()
    store = RunStore()
    run = store.get_run(int(store.list_runs()["id"].iloc[0]))
    store.request_cancel(run["id"])  # the schedule hand-off is what this test checks, not training
    expected = {k: v for k, v in settings.schedule().to_dict().items() if k != "total_steps"}
    assert run["name"] == "designer: current"
    assert {k: run["config"]["schedule"][k] for k in expected} == expected


def test_a_fastai_schedule_from_the_designer_is_shown_in_fastai_terms():
    from superconv.designer_state import DesignerSettings

    settings = DesignerSettings(convention="fastai", max_lr=0.2, div_final=1e5)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["designer_settings"] = settings.to_dict()
    at.run()
    at.radio(key="tc_schedule").set_value("designer: current").run()
    caption = next(c.value for c in at.caption if c.value.startswith("From the Schedule Designer"))
    assert "div_final=100000" in caption and "final_div_factor" not in caption and "convention=fastai" in caption


def _finished_run(store: RunStore, name: str, accs: list[float]) -> int:
    """A finished run as a worker leaves it: config, per-batch and per-epoch rows."""
    config = {"dataset": "digits", "model": "mlp", "epochs": len(accs), "batch_size": 64,
              "schedule": {"kind": "constant", "lr": 0.05}}
    run_id = store.create_run(config, name=name)
    store.set_status(run_id, "running")
    for epoch, acc in enumerate(accs):
        store.add_batches(run_id, [BatchRow(epoch, epoch, 1.0 - acc, 0.05, 0.9)])
        store.add_epoch(run_id, EpochRow(epoch, 1.0 - acc, acc, 1.1 - acc, acc - 0.05, 0.1))
    store.set_status(run_id, "finished")
    return run_id


def test_a_run_deleted_from_another_browser_leaves_this_page_without_an_error():
    store = RunStore()
    gone = _finished_run(store, "gone", [0.6, 0.8])
    kept = _finished_run(store, "kept", [0.5, 0.7])
    here = AppTest.from_file(PAGE, default_timeout=60).run()
    there = AppTest.from_file(PAGE, default_timeout=60).run()
    assert sorted(here.session_state["tc_overlay"]) == [gone, kept]
    here.multiselect(key="tc_picked").set_value([gone]).run()
    there.multiselect(key="tc_picked").set_value([gone]).run()
    there.button(key="tc_delete_btn").click().run()
    assert store.list_runs()["id"].tolist() == [kept]

    # this browser still holds the deleted run in its pick and on its charts: Delete ends the same way
    here.button(key="tc_delete_btn").click().run()
    assert not here.exception
    assert here.session_state["tc_picked"] == [] and here.session_state["tc_overlay"] == [kept]
    specs = chart_specs(here)
    assert trace(specs, f"#{gone} gone val acc") is None
    assert trace(specs, f"#{kept} kept val acc")["y"] == pytest.approx([0.45, 0.65])
    assert store.list_runs()["id"].tolist() == [kept]

    # a pick of a run deleted elsewhere is dropped on the next rerun; Cancel on it does nothing
    there.multiselect(key="tc_picked").set_value([kept]).run()
    store.delete_run(kept)
    there.button(key="tc_cancel_btn").click().run()
    assert not there.exception
    assert there.session_state["tc_picked"] == [] and store.list_runs().empty
