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

