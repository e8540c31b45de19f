"""LR Finder page under Streamlit's AppTest: real range tests in worker processes, the chart and the
suggestions read back against the run store, and the hand-off of max_lr to the Schedule Designer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from superconv.lr_finder import aggregate_curves, lr_sequence, result_from_rows
from superconv.plots import trace_array
from superconv.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "views/lr_finder.py"


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def traces(at: AppTest) -> dict[str, dict]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return {t["name"]: t for t in spec["data"]}


def test_page_renders_and_rejects_bad_input_without_submitting():
    at = open_page()
    assert [t.value for t in at.title] == ["LR range test"]
    assert any("press Run range test" in i.value for i in at.info)
    at.text_input(key="lrf_wd").set_value("0, abc")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["weight decay must be numbers separated by commas; received weight decay='0, abc'"]
    at.text_input(key="lrf_wd").set_value("0, 1e-4")
    at.text_input(key="lrf_bs_sweep").set_value("32, 64")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["sweep either weight decay or batch size, not both"]
    at.text_input(key="lrf_bs_sweep").set_value("")
    at.selectbox(key="lrf_dataset").set_value("spirals")  # the page's default model is the CNN
    at.button[0].click().run()
    assert [e.value for e in at.error] == [
        "model='cnn' needs images (height, width, channels) but dataset='spirals' gives vectors of shape (2,): "
        "use model='mlp'"]
    assert RunStore().list_runs().empty


@pytest.mark.slow
def test_range_test_chart_suggestions_and_handoff_to_designer():
    at = open_page()
    at.selectbox(key="lrf_model").set_value("mlp")
    at.number_input(key="lrf_num_iter").set_value(30)
    at.number_input(key="lrf_start").set_value(1e-4)
    at.number_input(key="lrf_end").set_value(3.0)
    at.number_input(key="lrf_seeds").set_value(2)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception
    run_ids = list(at.session_state["lrf_runs"])
    store = RunStore()
    runs = store.list_runs(kind="lr_find")
    assert sorted(runs["id"].tolist()) == sorted(run_ids) and len(run_ids) == 2
    configs = [store.get_run(i)["config"] for i in run_ids]
    assert [c["seed"] for c in configs] == [0, 1]
    assert configs[0]["model"] == "mlp" and configs[0]["lr_find"]["num_iter"] == 30

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        at.run()  # run_every fragments do not fire by themselves in AppTest: rerun to poll
        assert not at.exception
        if any(r.key == "lrf_pick" for r in at.radio):
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"range test did not finish: {[store.get_run(i)['status'] for i in run_ids]}")
    assert [store.get_run(i)["status"] for i in run_ids] == ["finished", "finished"]
    assert at.get("progress")[0].proto.value == 100

    # the chart shows the store's curves: mean of the two smoothed curves on the exact LR grid
    results = []
    for i in run_ids:
        df = store.batch_metrics(i)
        results.append(result_from_rows(store.get_run(i)["config"], df["lr"].to_numpy(), df["loss"].to_numpy()))
    band = aggregate_curves(results)
    n = band.lrs.size
    assert n >= 10
    np.testing.assert_allclose(band.lrs, lr_sequence(1e-4, 3.0, 30)[:n], rtol=1e-12)
    tr = traces(at)
    np.testing.assert_allclose(trace_array(tr["smoothed loss"]["x"]), band.lrs, rtol=1e-12)
    np.testing.assert_allclose(trace_array(tr["smoothed loss"]["y"]), band.mean, rtol=1e-12)
    np.testing.assert_allclose(trace_array(tr["smoothed loss band"]["y"]), band.low, rtol=1e-12)
    json_spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert json_spec["layout"]["xaxis"]["type"] == "log"

    # every rule is shown with its LR, marked on the chart at that LR
    expected = band.suggestions()
    assert [s.rule for s in expected] == ["steepest", "minimum/10", "valley", "slide"]
    pick = at.radio(key="lrf_pick")
    assert pick.options == [f"{s.rule}: {s.lr:.3g}" for s in expected] + ["custom"]
    assert pick.value == f"minimum/10: {expected[1].lr:.3g}"  # preselected for 1cycle's max_lr
    assert any(f"Chosen max_lr: {expected[1].lr:.3g}" in m.value for m in at.markdown)
    for s in expected:
        assert trace_array(tr[s.rule]["x"])[0] == pytest.approx(s.lr, rel=1e-12)
    table = at.dataframe[0].value
    assert table["rule"].tolist() == [s.rule for s in expected]
    np.testing.assert_allclose(table["suggested LR"].to_numpy(), [s.lr for s in expected], rtol=1e-12)

    # hand-off: the chosen rule's LR goes to the designer, which consumes the key
    valley = next(s for s in expected if s.rule == "valley")
    shown = f"{valley.lr:.3g}"  # the page works with the value as displayed, not the grid's float
    pick.set_value(f"valley: {shown}").run()
    assert any(f"Chosen max_lr: {shown}" in m.value for m in at.markdown)
    assert any(f"{float(shown) / 3:.3g} to {float(shown) / 10:.3g}" in m.value for m in at.markdown)
    at.button(key="lrf_use").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Schedule Designer"]
    assert "designer_max_lr" not in at.session_state  # consumed by the designer
    assert at.session_state["designer_settings"]["max_lr"] == float(shown)
    assert at.query_params["max_lr"] == repr(float(shown))  # the share link reads e.g. 0.0215



def _stored_curve(store: RunStore, config: dict, n: int, status: str, final: dict | None = None,
                  group: str = "lrf-test") -> int:
    """An lr_find run in the store with n batches of a loss that falls, then climbs (no training)."""
    from superconv.store import BatchRow

    lrs = lr_sequence(1e-5, 10.0, config["lr_find"]["num_iter"])[:n]
    losses = 2.0 - np.log10(lrs / 1e-5) / 3 + np.maximum(0.0, np.log10(lrs / 0.3)) * 4
    run_id = store.create_run(config, kind="lr_find", group=group)
    store.add_batches(run_id, [BatchRow(i, 0, float(l), float(r), 0.9) for i, (r, l) in enumerate(zip(lrs, losses))])
    store.set_status(run_id, status, final=final)
    return run_id


def test_a_stopped_test_counts_its_batches_and_preselects_no_pick():
    from superconv.lr_finder import job_configs

    store = RunStore()
    (a, b), (c,) = job_configs(seeds=[0, 1], num_iter=100), job_configs(seeds=[2], num_iter=100)
    stopped = [_stored_curve(store, a, 40, "cancelled"), _stored_curve(store, b, 3, "cancelled")]
    at = open_page()
    at.session_state["lrf_runs"] = stopped
    at.run()
    assert not at.exception
    # the bar counts the batches done (40 + 3), not the planned 2 x 100
    assert at.get("progress")[0].proto.text == "43 / 200 batches · 2 curve(s): cancelled, cancelled"
    assert at.get("progress")[0].proto.value == 21
    partial = aggregate_curves([result_from_rows(a, *_rows(store, stopped[0])), result_from_rows(b, *_rows(store, stopped[1]))])
    assert partial.lrs.size == 3  # cut to the shortest curve: too short for the rules
    assert [w.value for w in at.warning] == [
        "The curve is too short for the rules (3 points; they need 10): run more batches or lower the start LR."]
    assert not any(r.key == "lrf_pick" for r in at.radio)  # nothing to pick from, and nothing handed over
    assert not [b for b in at.button if b.key == "lrf_use"]
    assert any(i.value == "Nothing to hand to the Schedule Designer: run a longer test." for i in at.info)
    assert any("Curves ended by: cancelled." in c.value for c in at.caption)

    # one finished curve and one stopped one: the band uses the finished curve, a pick is preselected
    done = _stored_curve(store, c, 80, "finished", final={"stop_reason": "diverged"})
    at.session_state["lrf_runs"] = [stopped[0], done]
    at.run()
    assert at.get("progress")[0].proto.text == "140 / 200 batches · 2 curve(s): cancelled, finished"
    assert at.radio(key="lrf_pick").value.startswith("minimum/10: ")
    assert any("Curves ended by: cancelled, diverged." in c.value for c in at.caption)

    # only the stopped 40-batch curve: suggestions with a warning, no preselected pick, no hand-off yet
    at = open_page()  # a new session: no earlier pick
    at.session_state["lrf_runs"] = [stopped[0]]
    at.run()
    lrs = lr_sequence(1e-5, 10.0, 100)
    assert [w.value for w in at.warning] == [
        f"The test did not run to its end (cancelled): the curve stops at LR {lrs[39]:.3g}, and the rules read only "
        "that part, so no pick is preselected. Check any pick against the curve, or run the test again."]
    assert at.radio(key="lrf_pick").value is None
    assert any("Pick a max_lr above" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "lrf_use"]


def _rows(store: RunStore, run_id: int) -> tuple[np.ndarray, np.ndarray]:
    df = store.batch_metrics(run_id)
    return df["lr"].to_numpy(float), df["loss"].to_numpy(float)


def test_a_new_session_shows_the_latest_test_in_the_store():
    from superconv.lr_finder import job_configs

    store = RunStore()
    (old,) = job_configs(seeds=[0], num_iter=100)
    _stored_curve(store, old, 60, "finished", final={"stop_reason": "diverged"}, group="lrfind-older")
    a, b = job_configs(seeds=[0, 1], num_iter=100)
    latest = [_stored_curve(store, cfg, 50, "finished", final={"stop_reason": "diverged"}, group="lrfind-latest")
              for cfg in (a, b)]
    at = open_page()  # e.g. a reload: nothing in the session
    assert at.session_state["lrf_runs"] == latest and at.session_state["lrf_group"] == "lrfind-latest"
    assert at.get("progress")[0].proto.text == "200 / 200 batches · 2 curve(s): finished, finished"
    assert any(c.value.startswith("Range test `lrfind-latest`") for c in at.caption)
    assert at.radio(key="lrf_pick").value.startswith("minimum/10: ")
