"""Class demo page under AppTest: a tiny race trained by real workers, its table read from the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from superconv.demo import PRESETS, race_from_store, results_table
from superconv.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "views" / "demo.py")


def test_demo_page_explains_the_race_before_it_starts(monkeypatch):
    monkeypatch.setenv("SUPERCONV_DEMO_PRESET", "tiny")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="demo_preset").value == "tiny"
    text = " ".join(m.value for m in at.markdown)
    assert "The LR peak" in text and "late annihilation" in text and "How the baselines were chosen" in text
    assert "results table." in text and "is above" not in text  # tiny has no measured paragraph to point to
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [t["name"] for t in spec["data"]] == PRESETS["tiny"].labels
    assert any("Start the race" in i.value for i in at.info)


def test_class_demo_preset_states_what_was_measured(monkeypatch):
    monkeypatch.delenv("SUPERCONV_DEMO_PRESET", raising=False)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception and at.selectbox(key="demo_preset").value == "digits"
    text = " ".join(m.value for m in at.markdown)
    assert "*What we measured:* " + PRESETS["digits"].measured in text
    assert "in 8 epochs, the best baseline in 12" in text
    assert "results table (what we measured over three seeds is above)." in text


@pytest.mark.slow
def test_demo_race_renders_the_results_table(monkeypatch):
    monkeypatch.setenv("SUPERCONV_DEMO_PRESET", "tiny")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.number_input(key="demo_epochs_tiny").set_value(2)
    at.button(key="demo_start").click().run()
    store = RunStore()
    group = at.session_state["demo_group"]
    runs = store.list_runs(group=group)
    assert sorted(runs["name"]) == ["1cycle · seed 0", "constant · seed 0", "step decay · seed 0"]
    # one race at a time: Start is disabled while this one runs (a second race would queue behind it)
    assert at.button(key="demo_start").disabled and not at.button(key="demo_stop").disabled
    for run_id in runs["id"]:
        assert store.wait_for(int(run_id), timeout=180) == "finished"
    at.run()
    at.run()
    assert not at.exception
    assert not at.button(key="demo_start").disabled and at.button(key="demo_stop").disabled
    expected = results_table(race_from_store(store, group), target=PRESETS["tiny"].target_accuracy)
    shown = at.dataframe[0].value
    assert shown["schedule"].tolist() == ["1cycle", "constant", "step decay"]
    assert shown["epochs_done"].tolist() == [2, 2, 2]
    assert shown["best_val_acc"].tolist() == pytest.approx(expected["best_val_acc"].tolist())
    assert shown["final_val_acc"].tolist() == pytest.approx(expected["final_val_acc"].tolist())
    # epochs to the target as text: a count, or "not reached" once the race is over (never a bare None)
    assert shown["epochs_to_target"].tolist() == [
        "not reached" if pd.isna(e) else str(int(e)) for e in expected["epochs_to_target"]]
    race = [json.loads(c.proto.spec) for c in at.get("plotly_chart")][1]
    curves = {t["name"]: t["y"] for t in race["data"] if "reaches" not in t["name"]}
    assert curves["1cycle"] == pytest.approx(expected.iloc[0]["val_acc_by_epoch"])
    assert race["layout"]["xaxis"]["range"] == [0.5, 2.5]  # the budget's track
    assert any("Results" == h.value for h in at.subheader)

    # a new session (another browser, or back from another page) shows the same race
    again = AppTest.from_file(PAGE, default_timeout=60).run()
    assert again.dataframe[0].value["best_val_acc"].tolist() == pytest.approx(
        expected["best_val_acc"].tolist())


def test_demo_page_warns_about_a_bad_epochs_parameter(monkeypatch):
    monkeypatch.setenv("SUPERCONV_DEMO_EPOCHS", "many")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        f"epochs must be an integer in 1..1000; received epochs='many'; using {PRESETS['digits'].epochs}"]
    assert at.number_input(key="demo_epochs_digits").value == PRESETS["digits"].epochs


def test_demo_page_warns_about_an_unknown_preset_in_the_link():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = "cifar"
    at.run()
    assert not at.exception
    names = list(PRESETS)
    assert [w.value for w in at.warning] == [f"preset must be one of {names}; received preset='cifar'; using {names[0]}"]
    assert at.selectbox(key="demo_preset").value == names[0]


def test_demo_and_train_compare_pages_never_import_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "for page in ('views/demo.py', 'views/train_compare.py'):\n"
        "    at = AppTest.from_file(page, default_timeout=60).run()\n"
        "    assert not at.exception, at.exception\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={**os.environ, "SUPERCONV_HOME": str(tmp_path)})
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr


def test_demo_page_refuses_a_budget_too_short_for_the_warm_up(monkeypatch):
    # digits, batch 512: 3 steps an epoch; 1cycle's 10% warm-up needs more than 1 step, so 4 epochs at least
    monkeypatch.delenv("SUPERCONV_DEMO_PRESET", raising=False)
    monkeypatch.delenv("SUPERCONV_DEMO_EPOCHS", raising=False)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    before = len(RunStore().list_runs())
    at.number_input(key="demo_epochs_digits").set_value(3).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "the 1cycle lane of preset 'digits' cannot run 3 epoch(s): the schedule does not fit this run of 9 "
        "optimizer steps (epochs=3 x 3 per epoch, from 1258 training samples and batch_size=512): "
        "pct_start * total_steps must be > 1 so the warm-up has at least one step; received pct_start=0.1, "
        "total_steps=9; use more epochs or a smaller batch_size"]
    assert at.button(key="demo_start").disabled
    assert len(RunStore().list_runs()) == before and "demo_group" not in at.session_state
    at.number_input(key="demo_epochs_digits").set_value(4).run()
    assert not at.error and not at.button(key="demo_start").disabled


def test_a_stopped_race_gets_no_verdict():
    from superconv.demo import race_configs

    store = RunStore()
    group = "demo-tiny-20261123-120000-abcdef"
    for cfg in race_configs("tiny", seeds=1, epochs=2):
        run_id = store.create_run(cfg, name=cfg["name"], kind="train", group=group)
        store.set_status(run_id, "cancelled")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["demo_group"] = group
    at.run()
    assert not at.exception and not at.warning and not at.success
    assert [i.value for i in at.info] == [
        "The race was stopped before its end (cancelled): no verdict. Start a new race to compare the schedules."]
    assert at.dataframe[0].value["epochs_done"].tolist() == [0, 0, 0]
