"""Designer settings: share-link and JSON round trips, errors naming the field, and snippets that really run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from superconv import OneCycle, schedule_from_dict
from superconv.designer_state import (
    MAX_TOTAL_STEPS,
    DesignerSettings,
    baseline_schedule,
    fastai_snippet,
    keras_snippet,
    max_lr_grid,
    pytorch_snippet,
    schedule_csv,
    settings_from_json,
    settings_from_query_params,
    settings_to_json,
)

ODD = DesignerSettings(max_lr=0.0347, div_factor=10.0, final_div_factor=300.0, pct_start=0.2, anneal="linear",
                       three_phase=True, base_momentum=0.8, max_momentum=0.97, epochs=7, num_samples=1000,
                       batch_size=96)
FASTAI = DesignerSettings(convention="fastai", max_lr=0.02, div_factor=20.0, div_final=5e4, pct_start=0.25,
                          base_momentum=0.8, max_momentum=0.9, epochs=3, num_samples=640, batch_size=64)


@pytest.mark.parametrize("settings", [DesignerSettings(), ODD, FASTAI], ids=["default", "odd", "fastai"])
def test_query_params_and_json_round_trip(settings):
    params = settings.to_query_params()
    assert all(isinstance(v, str) for v in params.values())
    assert settings_from_query_params(params) == settings
    assert settings_from_query_params({k: [v] for k, v in params.items()}) == settings  # list-valued mapping
    assert settings_from_json(settings_to_json(settings)) == settings
    exported = json.loads(settings_to_json(settings))
    assert schedule_from_dict(exported["schedule"]) == settings.schedule()


def test_settings_describe_the_expected_schedule():
    assert ODD.total_steps == 7 * 11
    assert ODD.schedule() == OneCycle(max_lr=0.0347, total_steps=77, pct_start=0.2, div_factor=10.0,
                                      final_div_factor=300.0, anneal="linear", three_phase=True,
                                      base_momentum=0.8, max_momentum=0.97)
    fa = FASTAI.schedule()
    assert fa == OneCycle.fastai(0.02, 30, div=20.0, div_final=5e4, pct_start=0.25, moms=(0.9, 0.8, 0.9))
    assert fa.min_lr == pytest.approx(0.02 / 5e4)  # fastai: final = max / div_final
    assert DesignerSettings(max_lr=0.02, div_factor=20.0, final_div_factor=5e4).schedule().min_lr == \
        pytest.approx(0.02 / 20 / 5e4)  # PyTorch: final = max / div / final_div


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pct_start": "1.3"}, "pct_start must be in (0, 1); received pct_start=1.3"),
        ({"max_lr": "abc"}, "max_lr must be a finite number; received max_lr='abc'"),
        ({"max_lr": "nan"}, "max_lr must be a finite number; received max_lr='nan'"),
        ({"max_lr": "-1"}, "max_lr must be > 0; received max_lr=-1.0"),
        ({"max_lr": "1e308"}, "max_lr must be <= 1000; received max_lr=1e+308"),
        ({"batch_size": "0"}, "batch_size must be an integer >= 1; received batch_size=0"),
        ({"epochs": "2.5"}, "epochs must be an integer >= 1; received epochs='2.5'"),
        ({"three_phase": "maybe"}, "three_phase must be true or false; received three_phase='maybe'"),
        ({"anneal": "cosine"}, "anneal must be one of ['cos', 'linear']; received anneal='cosine'"),
        ({"convention": "keras"}, "convention must be one of ['pytorch', 'fastai']; received convention='keras'"),
        ({"base_momentum": "0.99"}, "base_momentum must be <= max_momentum; received base_momentum=0.99, max_momentum=0.95"),
        ({"div_factor": "0.5"}, "div_factor must be >= 1; received div_factor=0.5"),
        ({"convention": "fastai", "three_phase": "true"}, "three_phase=True is a PyTorch option"),
        ({"convention": "fastai", "anneal": "linear"}, "fastai's fit_one_cycle anneals with cosine only"),
        ({"three_phase": "1", "pct_start": "0.6"}, "three_phase needs pct_start <"),
        ({"epochs": "1000", "num_samples": "10000000", "batch_size": "1"},
         f"total_steps must be <= {MAX_TOTAL_STEPS}; received total_steps=10000000000"),
        ({"max_lr": ["0.1", "0.2"]}, "max_lr must be given once; received max_lr=['0.1', '0.2']"),
    ],
)
def test_bad_query_params_name_the_field(params, message):
    with pytest.raises(ValueError) as info:
        settings_from_query_params(params)
    assert message in str(info.value)


def test_unrelated_query_params_are_ignored_but_unknown_json_fields_are_not():
    assert settings_from_query_params({"utm_source": "mail", "max_lr": "0.5"}).max_lr == 0.5
    with pytest.raises(ValueError, match="unknown field 'maxlr'"):
        settings_from_json('{"settings": {"maxlr": 0.5}}')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "the config is not valid JSON: Expecting property name"),
        ("[1, 2]", "the config must be a JSON object; received list"),
        ('{"settings": {"batch_size": 0}}', "batch_size must be an integer >= 1; received batch_size=0"),
        ('{"settings": {"max_lr": "fast"}}', "max_lr must be a finite number; received max_lr='fast'"),
        ('{"settings": {"pct_start": true}}', "pct_start must be a finite number; received pct_start=True"),
        ('{"kind": "step", "lr": 0.1, "total_steps": 10}', "the designer edits 1cycle schedules; received kind='step'"),
        ('{"kind": "onecycle", "max_lr": 0.1, "total_steps": 10, "pct_start": 2}', "pct_start must be in (0, 1)"),
        ('{"hello": 1}', "the config needs a 'settings' object"),
        (b"\xff\xfe\x00", "the config is not valid JSON"),
    ],
)
def test_bad_json_configs_name_the_problem(text, message):
    with pytest.raises(ValueError) as info:
        settings_from_json(text)
    assert message in str(info.value)


@pytest.mark.parametrize("schedule", [OneCycle(0.3, 1234, pct_start=0.2, three_phase=True), OneCycle.fastai(0.01, 500)])
def test_bare_schedule_json_imports_with_the_same_steps(schedule):
    assert settings_from_json(json.dumps(schedule.to_dict())).schedule() == schedule


def test_csv_has_every_step_with_exact_values():
    s = ODD.schedule()
    lines = schedule_csv(s, ODD.steps_per_epoch).splitlines()
    assert lines[0] == "step,epoch,lr,momentum" and len(lines) == 1 + s.total_steps
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_array_equal(table[:, 0], np.arange(77))
    np.testing.assert_array_equal(table[:, 1], np.arange(77) / 11)
    np.testing.assert_array_equal(table[:, 2], s.lr(np.arange(77)))
    np.testing.assert_array_equal(table[:, 3], s.momentum(np.arange(77)))


def test_baselines_and_grid():
    label, s = baseline_schedule("step", 1000, lr=0.2, boundaries="0.3, 0.8", factor=0.5, momentum=0.85)
    assert label == "step 0.2 x0.5 at 0.3, 0.8" and s.lr([0, 300, 800]).tolist() == [0.2, 0.1, 0.05]
    label, s = baseline_schedule("constant", 10, lr=0.05, momentum=0.9)
    assert label == "constant 0.05" and s.lr([0, 9]).tolist() == [0.05, 0.05]
    with pytest.raises(ValueError, match="cycles must be an integer >= 1; received cycles=0"):
        baseline_schedule("cyclic", 100, base_lr=0.01, max_lr=0.1, cycles=0)
    with pytest.raises(ValueError, match="lr must be > 0; received lr=0.0"):
        baseline_schedule("constant", 100, lr=0.0)
    with pytest.raises(ValueError, match="kind must be one of"):
        baseline_schedule("cosine", 100)
    grid = max_lr_grid()
    assert grid[0] == 1e-6 and grid[-1] == 10.0 and 0.1 in grid and 3e-4 in grid
    assert np.all(np.diff(np.log10(grid)) < 0.13)  # fine enough for a slider


def _run_python(code: str, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("settings", [ODD, FASTAI], ids=["pytorch", "fastai"])
def test_keras_snippet_executes_and_builds_the_schedule(settings):
    check = textwrap.dedent(f"""
        import json
        from superconv import schedule_from_dict
        assert type(optimizer).__name__ == "ScheduledSGD", type(optimizer)
        assert schedule == schedule_from_dict(json.loads({json.dumps(json.dumps(settings.schedule().to_dict()))}))
        assert total_steps == {settings.total_steps}
        print("OK")
    """)
    out = _run_python(keras_snippet(settings) + check)
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stderr[-3000:]


@pytest.mark.slow
def test_keras_snippet_trains_with_the_commented_lines():
    """Uncomment the snippet's compile/fit lines on tiny data: the guard passes and the LR lands on the last step."""
    snippet = keras_snippet(ODD)
    body = "\n".join(line[2:] if line.startswith(("# model.", "#  ")) else line for line in snippet.splitlines())
    prelude = textwrap.dedent("""
        import numpy as np, keras
        keras.utils.set_random_seed(0)
        x_train = np.random.default_rng(0).normal(size=(1000, 4)).astype("float32")
        y_train = (x_train[:, 0] > 0).astype("int32")
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    """)
    check = textwrap.dedent("""
        assert int(optimizer.iterations.numpy()) == total_steps
        assert abs(float(optimizer.applied_lr.numpy()) - float(schedule.lr(total_steps - 1))) < 1e-9
        print("OK")
    """)
    out = _run_python(prelude + body + "\n" + check)
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stderr[-3000:]


def test_pytorch_snippet_matches_the_schedule_step_for_step():
    torch = pytest.importorskip("torch", reason="torch is not installed: PyTorch snippet not checked")
    for settings in (ODD, DesignerSettings(max_lr=0.5, pct_start=0.4, epochs=3, num_samples=1000, batch_size=64)):
        namespace = {"model": torch.nn.Linear(2, 1)}
        exec(pytorch_snippet(settings), namespace)  # noqa: S102 - the test runs the generated code
        opt, sched = namespace["optimizer"], namespace["scheduler"]
        lrs, moms = [], []
        for _ in range(settings.total_steps):
            lrs.append(opt.param_groups[0]["lr"])
            moms.append(opt.param_groups[0]["momentum"])
            opt.step()
            sched.step()
        steps = np.arange(settings.total_steps)
        np.testing.assert_allclose(lrs, settings.schedule().lr(steps), rtol=1e-9)
        np.testing.assert_allclose(moms, settings.schedule().momentum(steps), rtol=1e-9)


def test_pytorch_snippet_for_fastai_keeps_start_and_final_lr():
    torch = pytest.importorskip("torch", reason="torch is not installed: PyTorch snippet not checked")
    namespace = {"model": torch.nn.Linear(2, 1)}
    code = pytorch_snippet(FASTAI)
    assert "final_div_factor = div_final / div_factor" in code
    exec(code, namespace)  # noqa: S102
    opt, sched, lrs = namespace["optimizer"], namespace["scheduler"], []
    for _ in range(FASTAI.total_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    fa = FASTAI.schedule()
    assert lrs[0] == pytest.approx(fa.initial_lr) and lrs[-1] == pytest.approx(fa.min_lr)
    assert max(lrs) == pytest.approx(FASTAI.max_lr, rel=5e-3)  # PyTorch peaks between two steps here


def test_fastai_snippet_uses_fastai_names():
    assert fastai_snippet(FASTAI) == (
        "learn.fit_one_cycle(3, lr_max=0.02, div=20.0, div_final=50000.0, pct_start=0.25, moms=(0.9, 0.8, 0.9))\n"
    )


def test_a_share_link_applies_whole_when_its_fields_are_only_valid_together():
    from superconv.designer_state import settings_from_link

    # the designer's own link for a momentum range above the defaults and a 10-step budget
    link = {"base_momentum": "0.96", "max_momentum": "0.98", "epochs": "1", "num_samples": "100", "batch_size": "10"}
    settings, errors = settings_from_link(link)
    assert errors == [] and settings.to_query_params() == {**DesignerSettings().to_query_params(), **link}
    assert (settings.total_steps, settings.base_momentum, settings.max_momentum) == (10, 0.96, 0.98)
    # with one bad field the rest still applies, the pair included, whatever the order
    settings, errors = settings_from_link({"base_momentum": "0.96", "pct_start": "7", "max_momentum": "0.98"})
    assert (settings.base_momentum, settings.max_momentum, settings.pct_start) == (0.96, 0.98, 0.3)
    assert errors == ["pct_start must be in (0, 1); received pct_start=7.0"]
    settings, errors = settings_from_link({"base_momentum": "0.99", "max_momentum": "0.98"})
    assert (settings.base_momentum, settings.max_momentum) == (0.85, 0.98)
    assert errors == ["base_momentum must be <= max_momentum; received base_momentum=0.99, max_momentum=0.98"]
