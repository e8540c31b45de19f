"""The Schedule Designer page under Streamlit's AppTest: every control drives the chart's data."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from superconv.designer_state import DesignerSettings, settings_to_json
from superconv.plots import trace_array
from superconv.schedules import OneCycle

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
W = "designer_w_"


def run_app(query: dict[str, str] | None = None, session: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    return at.run()


def chart(at: AppTest, index: int = 0) -> list[dict]:
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    return [{"name": t["name"], "x": trace_array(t["x"]), "y": trace_array(t["y"])} for t in spec["data"]]


def chart_layout(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)["layout"]


def assert_chart_shows(at: AppTest, settings: DesignerSettings) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    lr, mom = chart(at)[:2]
    assert (lr["name"], mom["name"]) == ("lr", "momentum")
    sched = settings.schedule()
    steps = lr["x"].astype(np.int64)
    assert steps[0] == 0 and steps[-1] == settings.total_steps - 1
    if settings.total_steps <= 4000:
        np.testing.assert_array_equal(steps, np.arange(settings.total_steps))
    np.testing.assert_array_equal(lr["y"], sched.lr(steps))
    np.testing.assert_array_equal(mom["y"], sched.momentum(steps))


def test_default_page_renders_the_default_schedule_and_writes_the_link():
    at = run_app()
    assert at.title[0].value == "Schedule Designer"
    assert "1cycle policy" in at.markdown[0].value
    assert_chart_shows(at, DesignerSettings())
    assert dict(at.query_params) == DesignerSettings().to_query_params()


@pytest.mark.parametrize(
    ("widget", "key", "value", "expected"),
    [
        ("select_slider", "max_lr", 0.3, {"max_lr": 0.3}),
        ("number_input", "div_factor", 10.0, {"div_factor": 10.0}),
        ("number_input", "final_div_factor", 100.0, {"final_div_factor": 100.0}),
        ("slider", "pct_start", 0.25, {"pct_start": 0.25}),
        ("slider", "moms", (0.8, 0.9), {"base_momentum": 0.8, "max_momentum": 0.9}),
        ("radio", "anneal", "linear", {"anneal": "linear"}),
        ("radio", "three_phase", True, {"three_phase": True}),
        ("number_input", "epochs", 3, {"epochs": 3}),
        ("number_input", "num_samples", 1797, {"num_samples": 1797}),
        ("number_input", "batch_size", 32, {"batch_size": 32}),
    ],
)
def test_each_control_changes_the_chart_to_the_expected_schedule(widget, key, value, expected):
    at = run_app()
    getattr(at, widget)(key=W + key).set_value(value).run()
    settings = DesignerSettings(**expected)
    assert_chart_shows(at, settings)
    assert dict(at.query_params) == settings.to_query_params()


def test_fastai_convention_uses_div_final_and_shows_the_fastai_snippet():
    at = run_app()
    at.radio(key=W + "convention").set_value("fastai").run()
    at.number_input(key=W + "div_final").set_value(1e3).run()
    settings = DesignerSettings(convention="fastai", div_final=1e3)
    assert_chart_shows(at, settings)
    assert at.radio(key=W + "anneal").disabled and at.radio(key=W + "three_phase").disabled
    assert "max_lr / div_final" in " ".join(c.value for c in at.caption)
    codes = [c.value for c in at.code]
    assert any(c.startswith("learn.fit_one_cycle(10, lr_max=0.1, div=25.0, div_final=1000.0") for c in codes)
    assert any("superconv.OneCycle.fastai(" in c for c in codes)


def test_step_budget_and_log_toggle():
    at = run_app()
    at.number_input(key=W + "epochs").set_value(5).run()
    at.number_input(key=W + "num_samples").set_value(1000).run()
    at.number_input(key=W + "batch_size").set_value(64).run()
    assert "= **80 optimizer steps** (16 per epoch" in " ".join(c.value for c in at.caption)
    assert_chart_shows(at, DesignerSettings(epochs=5, num_samples=1000, batch_size=64))
    assert chart_layout(at)["yaxis"]["type"] == "linear"
    at.toggle(key=W + "log_lr").set_value(True).run()
    assert chart_layout(at)["yaxis"]["type"] == "log"


def test_a_million_steps_preview_is_decimated_with_exact_values():
    at = run_app(query={"epochs": "100", "num_samples": "1280000", "batch_size": "128"})
    settings = DesignerSettings(epochs=100, num_samples=1_280_000, batch_size=128)
    assert settings.total_steps == 1_000_000
    assert_chart_shows(at, settings)
    assert len(chart(at)[0]["x"]) <= 4010
    assert chart(at)[0]["y"].max() == 0.1


def test_query_params_restore_a_schedule():
    settings = DesignerSettings(max_lr=0.0347, div_factor=10.0, final_div_factor=300.0, pct_start=0.2,
                                anneal="linear", three_phase=True, base_momentum=0.8, max_momentum=0.97,
                                epochs=7, num_samples=1000, batch_size=96)
    at = run_app(query=settings.to_query_params())
    assert_chart_shows(at, settings)
    assert at.select_slider(key=W + "max_lr").value == 0.0347
    assert at.slider(key=W + "moms").value == (0.8, 0.97)
    assert at.radio(key=W + "three_phase").value is True


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"pct_start": "1.3"}, "pct_start must be in (0, 1); received pct_start=1.3"),
        ({"max_lr": "abc"}, "max_lr must be a finite number; received max_lr='abc'"),
        ({"batch_size": "0"}, "batch_size must be an integer >= 1; received batch_size=0"),
    ],
)
def test_bad_query_params_show_the_error_and_the_defaults(query, message):
    at = run_app(query=query)
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value and "link" in at.error[0].value
    lr = chart(at)[0]
    np.testing.assert_array_equal(lr["y"], DesignerSettings().schedule().lr(lr["x"].astype(int)))


def test_invalid_combination_of_controls_shows_an_error_instead_of_crashing():
    at = run_app()
    at.radio(key=W + "three_phase").set_value(True).run()
    at.slider(key=W + "pct_start").set_value(0.6).run()
    assert not at.exception
    assert len(at.error) == 1 and "three_phase needs pct_start <" in at.error[0].value
    assert "pct_start=0.6" in at.error[0].value
    assert not at.get("plotly_chart")
    at.slider(key=W + "pct_start").set_value(0.4).run()
    assert_chart_shows(at, DesignerSettings(three_phase=True, pct_start=0.4))


def test_json_import_applies_a_config_and_refuses_a_bad_one():
    at = run_app()
    at.text_area(key=W + "import_text").input("{not json").run()
    at.button(key=W + "import_go").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "Could not load the pasted text: the config is not valid JSON" in at.error[0].value
    assert_chart_shows(at.run(), DesignerSettings())  # the message shows once; the settings stayed

    at.text_area(key=W + "import_text").input('{"settings": {"max_lr": 0.2, "batch_size": 0}}').run()
    at.button(key=W + "import_go").click().run()
    assert "batch_size must be an integer >= 1; received batch_size=0" in at.error[0].value

    good = DesignerSettings(max_lr=0.45, pct_start=0.15, epochs=4, num_samples=640, batch_size=32, anneal="linear")
    at.text_area(key=W + "import_text").input(settings_to_json(good)).run()
    at.button(key=W + "import_go").click().run()
    assert "Loaded the pasted text" in at.success[0].value
    assert_chart_shows(at, good)
    assert at.select_slider(key=W + "max_lr").value == 0.45


def test_handoff_from_the_lr_finder_sets_max_lr_once():
    at = run_app(session={"designer_max_lr": 0.0316})
    assert_chart_shows(at, DesignerSettings(max_lr=0.0316))
    assert "designer_max_lr" not in at.session_state
    at.slider(key=W + "pct_start").set_value(0.4).run()  # later changes are kept
    assert_chart_shows(at, DesignerSettings(max_lr=0.0316, pct_start=0.4))


def test_save_and_overlay_with_a_baseline():
    at = run_app()
    at.text_input(key=W + "save_name").input("fast").run()
    at.button(key=W + "save").click().run()
    at.selectbox(key=W + "baseline_kind").set_value("cyclic").run()
    at.number_input(key=W + "bl_lr_cyclic").set_value(0.2).run()
    at.number_input(key=W + "bl_base_lr").set_value(0.02).run()
    at.number_input(key=W + "bl_cycles").set_value(2).run()
    at.button(key=W + "add_baseline").click().run()
    assert not at.exception and not at.error
    at.select_slider(key=W + "max_lr").set_value(0.5).run()
    traces = chart(at, 1)
    assert [t["name"] for t in traces] == ["current", "current (momentum)", "fast", "fast (momentum)",
                                           "CLR 0.02-0.2 x2", "CLR 0.02-0.2 x2 (momentum)"]
    fast = DesignerSettings().schedule()
    current = DesignerSettings(max_lr=0.5).schedule()
    np.testing.assert_array_equal(traces[0]["y"], current.lr(traces[0]["x"].astype(int)))
    np.testing.assert_array_equal(traces[2]["y"], fast.lr(traces[2]["x"].astype(int)))
    clr = traces[4]["y"]
    assert clr.max() == 0.2 and clr.min() == 0.02
    assert not [c for c in at.caption if "differ in length" in c.value]
    # a longer step budget: the saved schedules keep theirs, and the page says so
    at.number_input(key=W + "epochs").set_value(20).run()
    steps = DesignerSettings(epochs=20).total_steps
    assert [c.value for c in at.caption if "differ in length" in c.value] == [
        f"These schedules differ in length: current {steps:,} steps, fast {fast.total_steps:,} steps, "
        f"CLR 0.02-0.2 x2 {fast.total_steps:,} steps. Each keeps the step budget it was saved with."]


def test_exports_are_offered():
    at = run_app(query={"max_lr": "0.2", "epochs": "2", "num_samples": "100", "batch_size": "10"})
    codes = [c.value for c in at.code]
    assert "?max_lr=0.2&div_factor=25.0" in codes[0]
    assert any("superconv.keras.one_cycle_optimizer(\"sgd\", schedule)" in c and "ScheduleGuard" in c for c in codes)
    assert any("torch.optim.lr_scheduler.OneCycleLR(" in c and "total_steps=EPOCHS * STEPS_PER_EPOCH" in c for c in codes)
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download JSON config", "Download CSV of the curve"]


def test_designer_never_imports_tensorflow():
    code = textwrap.dedent(f"""
        import sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({APP!r}, default_timeout=60).run()
        at.select_slider(key="{W}max_lr").set_value(0.3).run()
        assert not at.exception and len(at.get("plotly_chart")) == 1
        print(sorted(m for m in ("tensorflow", "keras", "torch") if m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_settings_survive_a_trip_to_another_page():
    at = run_app()
    at.select_slider(key=W + "max_lr").set_value(0.5).run()
    at.slider(key=W + "pct_start").set_value(0.2).run()
    at.switch_page("views/lr_finder.py").run()
    assert not at.exception
    at.switch_page("views/designer.py").run()
    assert_chart_shows(at, DesignerSettings(max_lr=0.5, pct_start=0.2))
    assert at.select_slider(key=W + "max_lr").value == 0.5


def test_each_baseline_kind_starts_from_its_own_lr():
    at = run_app()  # max_lr 0.1: constant starts at 0.01, step decay and the cycle's top at 0.1
    at.button(key=W + "add_baseline").click().run()
    at.selectbox(key=W + "baseline_kind").set_value("step").run()
    assert at.number_input(key=W + "bl_lr_step").value == 0.1
    at.button(key=W + "add_baseline").click().run()
    at.selectbox(key=W + "baseline_kind").set_value("cyclic").run()
    assert (at.number_input(key=W + "bl_lr_cyclic").value, at.number_input(key=W + "bl_base_lr").value) == (0.1, 0.01)
    at.button(key=W + "add_baseline").click().run()
    assert not at.exception and not at.error
    saved = at.session_state["designer_saved"]
    assert {name: (d["kind"], d.get("lr", d.get("max_lr"))) for name, d in saved.items()} == {
        "constant 0.01": ("constant", 0.01), "step 0.1 x0.1 at 0.5, 0.75": ("step", 0.1),
        "CLR 0.01-0.1 x4": ("cyclic", 0.1)}


def test_metrics_show_the_lr_the_chart_applies():
    # warm-up end 0.25 * 145 - 1 = 35.25 is not a whole step: max_lr 0.3 is never applied
    at = run_app(query={"max_lr": "0.3", "div_factor": "10", "final_div_factor": "1000", "pct_start": "0.25",
                        "anneal": "linear", "epochs": "5", "num_samples": "1797", "batch_size": "64"})
    sched = DesignerSettings(max_lr=0.3, div_factor=10, final_div_factor=1000, pct_start=0.25, anneal="linear",
                             epochs=5, num_samples=1797, batch_size=64).schedule()
    lr = sched.lr(np.arange(sched.total_steps))
    metrics = {m.label: (m.value, m.proto.delta) for m in at.metric}
    assert metrics["Peak LR"] == (f"{lr.max():.3g}", f"at step {int(lr.argmax())}") == ("0.298", "at step 35")
    # fastai: the last step ends above lr_max / div_final, and the metric says what the chart shows
    at = run_app(query={"convention": "fastai", "max_lr": "0.15", "pct_start": "0.4", "epochs": "10",
                        "num_samples": "25000", "batch_size": "64"})
    fast = OneCycle.fastai(0.15, 3910, pct_start=0.4)
    lr = fast.lr(np.arange(3910))
    metrics = {m.label: (m.value, m.proto.delta) for m in at.metric}
    assert metrics["Peak LR"] == ("0.15", "at step 1,564") and int(lr.argmax()) == 1564
    assert metrics["Final LR"][0] == f"{lr[-1]:.3g}" == "1.57e-06" and fast.min_lr == 1.5e-06


def test_invalid_settings_keep_the_import_at_hand():
    at = run_app()
    at.number_input(key=W + "num_samples").set_value(2).run()  # 2 steps: a 30% warm-up has no step
    at.number_input(key=W + "batch_size").set_value(1).run()
    at.number_input(key=W + "epochs").set_value(1).run()
    assert [e.value for e in at.error] == [
        "Invalid schedule: pct_start * total_steps must be > 1 so the warm-up has at least one step; "
        "received pct_start=0.3, total_steps=2"]
    at.text_area(key=W + "import_text").input(settings_to_json(DesignerSettings(max_lr=0.2))).run()
    at.button(key=W + "import_go").click().run()
    assert not at.exception and not at.error
    assert_chart_shows(at, DesignerSettings(max_lr=0.2))


def test_a_link_with_one_bad_field_keeps_its_other_fields():
    at = run_app(query={"max_lr": "0.3", "pct_start": "0", "epochs": "4"})
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Part of the link is invalid and was left out (the rest of the link is applied): "
        "pct_start must be in (0, 1); received pct_start=0.0"]
    lr = chart(at)[0]
    expected = DesignerSettings(max_lr=0.3, epochs=4).schedule()
    assert lr["x"].max() == expected.total_steps - 1
    np.testing.assert_array_equal(lr["y"], expected.lr(lr["x"].astype(int)))
