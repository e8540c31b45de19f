"""Bad input on every path a slider cannot guard: designer links and JSON import (AppTest), run configs
(``superconv train`` and JobManager), and the CLI flags of schedule / train / lr-find / demo.

Every bad value must give a clear error naming the field, never a traceback, and leave nothing
half-written (no run in the store for an invalid config)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from superconv.cli import main
from superconv.config import load_run_config
from superconv.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
W = "designer_w_"

BAD_FLOATS = ["nan", "inf", "-1", "1e400", "", "abc"]
BAD_INTS = ["nan", "inf", "-1", "99999999999999", "", "2.5", "abc"]
FLOAT_FIELDS = ["max_lr", "div_factor", "final_div_factor", "div_final", "pct_start", "base_momentum", "max_momentum"]
INT_FIELDS = ["epochs", "num_samples", "batch_size"]
# Each field meets two bad values; every bad value is used.
QUERY_CASES = [(f, BAD_FLOATS[(2 * i + k) % len(BAD_FLOATS)]) for i, f in enumerate(FLOAT_FIELDS) for k in (0, 1)] + \
              [(f, BAD_INTS[(2 * i + k) % len(BAD_INTS)]) for i, f in enumerate(INT_FIELDS) for k in (0, 1, 2)]


def _designer(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def _errors(at: AppTest) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


@pytest.mark.parametrize("field, value", QUERY_CASES)
def test_designer_link_with_a_bad_value_names_the_field(field, value):
    at = _designer({field: value, "epochs": "3"} if field != "epochs" else {field: value})
    errors = _errors(at)
    assert len(errors) == 1 and f"{field}" in errors[0] and "link" in errors[0], errors
    assert at.get("plotly_chart"), "the designer falls back to valid settings and still draws"


def test_designer_link_with_extreme_but_valid_values_renders():
    at = _designer({"max_lr": "1000", "div_factor": "1e300", "final_div_factor": "1e300", "pct_start": "0.999",
                    "epochs": "1", "num_samples": "10000000", "batch_size": "1"})
    assert _errors(at) == [] and at.get("plotly_chart")
    # past the designer's cap a peak LR has nothing to show but overflow: refused by name, the rest applies
    at = _designer({"max_lr": "1e300", "epochs": "3"})
    assert [e for e in _errors(at) if "max_lr must be <= 1000; received max_lr=1e+300" in e]
    assert at.session_state["designer_settings"]["epochs"] == 3 and at.get("plotly_chart")


BAD_IMPORTS = [
    ('{"settings": {"max_lr": NaN}}', "max_lr"),
    ('{"settings": {"max_lr": Infinity}}', "max_lr"),
    ('{"settings": {"pct_start": -1}}', "pct_start"),
    ('{"settings": {"epochs": 1e300}}', "epochs"),
    ('{"settings": {"epochs": 100000000000}}', "total_steps"),
    ('{"settings": {"batch_size": ""}}', "batch_size"),
    ('{"settings": {"batch_size": true}}', "batch_size"),
    ('{"settings": {"div_factor": [1, 2]}}', "div_factor"),
    ('{"settings": {"max_momentum": "high"}}', "max_momentum"),
    ('{"settings": {"three_phase": 3}}', "three_phase"),
    ('{"kind": "onecycle", "max_lr": 0.1, "total_steps": -5}', "total_steps"),
    ('{"kind": "onecycle", "max_lr": 0.1, "total_steps": 1e15}', "total_steps"),
    ('{"settings": "everything"}', "settings"),
    ("[1, 2, 3]", "JSON object"),
]


def test_designer_json_import_refuses_each_bad_field_and_keeps_the_settings():
    at = _designer()
    before = at.select_slider(key=W + "max_lr").value
    for text, field in BAD_IMPORTS:
        at.text_area(key=W + "import_text").input(text).run()
        at.button(key=W + "import_go").click().run()
        errors = _errors(at)
        assert len(errors) == 1 and "Could not load the pasted text" in errors[0] and field in errors[0], (text, errors)
        assert at.select_slider(key=W + "max_lr").value == before
    # A file that is not JSON at all (binary, not UTF-8), and an empty file.
    for name, data, message in (("x.json", b"\x89PNG\x00\xff\xfe", "not valid JSON"), ("e.json", b"", "empty")):
        at.get("file_uploader")[0].set_value((name, data, "application/json")).run()
        errors = _errors(at)
        assert len(errors) == 1 and message in errors[0], errors
        at.get("file_uploader")[0].set_value(None).run()
    assert at.get("plotly_chart")


# --------------------------------------------------------------------------- run configs
BAD_RUN_CONFIGS = [
    ({"epochs": 0}, "epochs"), ({"epochs": 10**9}, "epochs"), ({"epochs": 2.5}, "epochs"), ({"epochs": ""}, "epochs"),
    ({"epochs": True}, "epochs"), ({"batch_size": -1}, "batch_size"), ({"batch_size": None}, "batch_size"),
    ({"batch_size": "many"}, "batch_size"), ({"weight_decay": float("nan")}, "weight_decay"),
    ({"weight_decay": float("inf")}, "weight_decay"), ({"weight_decay": 2}, "weight_decay"),
    ({"seed": -1}, "seed"), ({"seed": 2**40}, "seed"), ({"val_fraction": 1.0}, "val_fraction"),
    ({"val_fraction": float("nan")}, "val_fraction"), ({"max_samples": 0}, "max_samples"),
    ({"width": 0}, "width"), ({"width": 10**6}, "width"), ({"model": "cnn", "dataset": "digits", "width": 4096}, "width=4096"),
    ({"model": "resnet"}, "model='resnet' needs images"),
    ({"model": "resnet", "dataset": "cifar10", "width": 2048}, "width"),
    ({"schedule": {"kind": "onecycle", "max_lr": float("nan")}}, "max_lr"),
    ({"schedule": {"kind": "onecycle", "max_lr": -1}}, "max_lr"),
    ({"schedule": {"kind": "onecycle", "max_lr": 0.1, "pct_start": float("inf")}}, "pct_start"),
    ({"schedule": {"kind": "constant", "lr": ""}}, "lr"), ({"schedule": "fast"}, "schedule"),
    ({"schedule": {"kind": "step", "lr": 0.1, "factor": 0}}, "factor"),
    ({"dataset": "csv"}, "csv_path"), ({"optimizer": 3}, "optimizer"), ({"epochs_": 3}, "epochs_"),
]


@pytest.mark.parametrize("bad, field", BAD_RUN_CONFIGS, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD_RUN_CONFIGS)])
def test_superconv_train_refuses_a_bad_config_and_stores_nothing(tmp_path, capsys, bad, field):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"dataset": "spirals", "epochs": 1, **bad}))   # NaN/Infinity as JSON allows
    store = tmp_path / "runs.sqlite"
    assert main(["train", "--config", str(config), "--store", str(store), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("superconv train: error: ") and field in err and "Traceback" not in err
    assert not store.exists() or RunStore(store).list_runs().empty


def test_jobmanager_refuses_bad_configs_before_storing(tmp_path):
    from superconv.jobs import JobManager

    jm = JobManager(tmp_path / "runs.sqlite", max_concurrent=1)
    try:
        for bad, field in BAD_RUN_CONFIGS:
            with pytest.raises(ValueError, match=field.replace("_", ".?")):
                jm.submit({"dataset": "spirals", "epochs": 1, **bad})
        assert jm.store.list_runs().empty and jm.active() == []
    finally:
        jm.shutdown()


def test_unreadable_or_non_json_config_files(tmp_path, capsys):
    for content, message in ((b"\xff\xfe\x00garbage", "not valid JSON"), (b"", "not valid JSON"),
                             (b"[1, 2]", "must be a JSON object"), (b'{"epochs": 1e999}', "epochs")):
        path = tmp_path / "c.json"
        path.write_bytes(content)
        assert main(["train", "--config", str(path), "--store", str(tmp_path / "s.sqlite")]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err
    with pytest.raises(ValueError, match="cannot be read"):
        load_run_config(tmp_path / "missing.json")
    assert not (tmp_path / "s.sqlite").exists()


# --------------------------------------------------------------------------- CLI flags
CLI_CASES = [
    (["schedule", "--max-lr", "nan", "--total-steps", "100"], "--max-lr=nan"),
    (["schedule", "--max-lr", "inf", "--total-steps", "100"], "--max-lr=inf"),
    (["schedule", "--max-lr", "-1", "--total-steps", "100"], "--max-lr=-1.0"),
    (["schedule", "--max-lr", "", "--total-steps", "100"], "max-lr"),
    (["schedule", "--max-lr", "0.1", "--total-steps", "abc"], "total-steps"),
    (["schedule", "--max-lr", "0.1", "--total-steps", "1e3"], "total-steps"),
    (["schedule", "--max-lr", "0.1", "--total-steps", "-1"], "--total-steps=-1"),
    (["schedule", "--max-lr", "0.1", "--total-steps", "100000000000000000"], "total_steps"),
    (["schedule", "--max-lr", "0.1", "--epochs", "100000000", "--samples", "1000000000", "--batch-size", "1"],
     "total_steps"),
    (["schedule", "--max-lr", "0.1", "--epochs", "3", "--samples", "100", "--batch-size", "0"], "--batch-size=0"),
    (["schedule", "--max-lr", "0.1", "--total-steps", "100", "--pct-start", "nan"], "--pct-start=nan"),
    (["schedule", "--max-lr", "0.1", "--total-steps", "100", "--div-factor", "1e999"], "--div-factor=inf"),
    (["schedule", "--max-lr", "0.1", "--total-steps", "100", "--base-momentum", "2"], "--base-momentum=2.0"),
    (["train", "--config", ""], "config"),
    (["lr-find", "--start-lr", "nan"], "--start-lr=nan"),
    (["lr-find", "--end-lr", "inf"], "--end-lr=inf"),
    (["lr-find", "--num-iter", "-1"], "--num-iter=-1"),
    (["lr-find", "--num-iter", "1000000000000"], "num-iter"),
    (["lr-find", "--num-iter", "ten"], "num-iter"),
    (["lr-find", "--momentum", "nan"], "momentum"),
    (["lr-find", "--momentum", "1.5"], "momentum"),
    (["lr-find", "--beta", "inf"], "beta"),
    (["lr-find", "--diverge-th", "-1"], "diverge-th"),
    (["lr-find", "--weight-decay", "inf"], "weight-decay"),
    (["lr-find", "--batch-size", "0"], "batch-size"),
    (["lr-find", "--batch-size", "99999999999"], "batch-size"),
    (["lr-find", "--seeds", "-1"], "seeds"),
    (["lr-find", "--max-samples", "0"], "max-samples"),
    (["lr-find", "--dataset", ""], "dataset"),
    (["demo", "--epochs", "0"], "epochs"),
    (["demo", "--epochs", "nan"], "epochs"),
    (["demo", "--seeds", "-1"], "seeds"),
    (["demo", "--seeds", "100000"], "seeds"),
    (["demo", "--target", "nan"], "target"),
    (["demo", "--target", "inf"], "target"),
    (["demo", "--jobs", "0"], "jobs"),
    (["demo", "--timeout", "nan"], "timeout"),
    (["demo", "--timeout", "-1"], "timeout"),
    (["demo", "--preset", ""], "preset"),
    (["runs", "--limit", "-1"], "limit"),
]


@pytest.mark.parametrize("argv, field", CLI_CASES, ids=[" ".join(a)[:60] for a, _ in CLI_CASES])
def test_cli_flag_errors_exit_2_naming_the_flag(argv, field, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own type/choice errors
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2, captured
    assert field in captured.err and "Traceback" not in captured.err + captured.out
    assert captured.out == ""


def test_huge_schedule_in_a_real_process_has_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "superconv", "schedule", "--max-lr", "0.1", "--total-steps",
                           "100000000000", "--csv", str(tmp_path / "c.csv")], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and "total_steps must be <=" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "c.csv").exists()
