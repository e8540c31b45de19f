"""The class-demo library: presets, race configurations and the results-table maths (pure, fast)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from superconv import schedule_from_dict
from superconv.demo import (
    DEFAULT_PRESET,
    PRESETS,
    RESULT_COLUMNS,
    RaceRun,
    epochs_to_target,
    get_preset,
    parse_run_name,
    race_configs,
    race_from_store,
    race_summary,
    results_table,
    run_name,
    table_records,
)
from superconv.store import EpochRow, RunStore


def frame(val_acc, seconds=1.0):
    n = len(val_acc)
    return pd.DataFrame({"epoch": list(range(n)), "train_loss": [1.0] * n, "train_acc": [0.9] * n,
                         "val_loss": [1.0] * n, "val_acc": list(val_acc), "seconds": [seconds] * n})


# ----------------------------------------------------------------------------- presets and configs
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_lane_is_a_valid_schedule_and_1cycle_comes_first(name):
    p = PRESETS[name]
    assert p.labels[0] == "1cycle" and len(set(p.labels)) == len(p.labels) >= 3
    kinds = {lane.label: schedule_from_dict(dict(lane.schedule, total_steps=1000)).kind for lane in p.schedules}
    assert kinds["1cycle"] == "onecycle" and {"constant", "step"} <= set(kinds.values())
    assert 0 < p.target_accuracy <= 1 and p.epochs >= 1 and p.batch_size >= 1


def test_default_preset_is_honest_about_its_baselines():
    p = get_preset(DEFAULT_PRESET)
    assert p.how_tuned and all(lane.note for lane in p.schedules)
    onecycle = schedule_from_dict(dict(p.schedules[0].schedule, total_steps=1000))
    # super-convergence: the 1cycle peak is well above every baseline's LR
    assert all(onecycle.max_lr > schedule_from_dict(dict(l.schedule, total_steps=1000)).max_lr
               for l in p.schedules[1:])


def test_race_configs_share_everything_but_the_schedule():
    cfgs = race_configs("tiny", seeds=3)
    p = PRESETS["tiny"]
    assert len(cfgs) == 3 * len(p.schedules)
    assert [c["name"] for c in cfgs[:4]] == ["1cycle · seed 0", "1cycle · seed 1", "1cycle · seed 2", "constant · seed 0"]
    shared = {(c["dataset"], c["model"], c["optimizer"], c["epochs"], c["batch_size"], c["weight_decay"]) for c in cfgs}
    assert shared == {(p.dataset, p.model, p.optimizer, p.epochs, p.batch_size, p.weight_decay)}
    for c in cfgs:  # every schedule is complete and valid
        assert schedule_from_dict(c["schedule"]).total_steps == c["schedule"]["total_steps"]


def test_race_configs_validate_as_run_configs():
    config = pytest.importorskip("superconv.config")
    for c in race_configs("tiny", seeds=[0, 5], epochs=2):
        rc = config.RunConfig.model_validate(c)
        assert rc.epochs == 2 and rc.seed in (0, 5)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"preset": "nope"}, "preset must be one of ['digits', 'tiny']; received preset='nope'"),
    ({"preset": "tiny", "seeds": 0}, "seeds must be an integer >= 1; received seeds=0"),
    ({"preset": "tiny", "seeds": [1, 1]}, "seeds must be distinct; received seeds=[1, 1]"),
    ({"preset": "tiny", "seeds": [-1]}, "seeds must be integers >= 0; received seeds=[-1]"),
    ({"preset": "tiny", "seeds": []}, "seeds must be a count >= 1 or a non-empty list of integers; received seeds=[]"),
    ({"preset": "tiny", "epochs": 0}, "epochs must be an integer >= 1; received epochs=0"),
])
def test_race_configs_reject_bad_input_naming_the_field(kwargs, message):
    with pytest.raises(ValueError) as err:
        race_configs(**kwargs)
    assert str(err.value) == message


def test_run_names_round_trip():
    for label in ["1cycle", "step decay", "a · seed b"]:
        assert parse_run_name(run_name(label, 7)) == (label, 7)
    assert parse_run_name("1cycle · seed x") == ("1cycle · seed x", None)


# ----------------------------------------------------------------------------- results table maths
def test_epochs_to_target_is_a_one_based_count():
    assert epochs_to_target([0.95], 0.95) == 1
    assert epochs_to_target([0.1, 0.2, 0.94999], 0.95) is None
    assert epochs_to_target([], 0.5) is None


def test_results_table_means_over_seeds_per_epoch():
    runs = [
        RaceRun("1cycle", 0, frame([0.50, 0.90, 0.96, 0.98], seconds=2.0)),
        RaceRun("1cycle", 1, frame([0.60, 0.96, 0.94, 0.96], seconds=4.0)),
        RaceRun("constant", 1, frame([0.70, 0.80, 0.85, 0.90])),
        RaceRun("constant", 0, frame([0.50, 0.80, 0.95, 0.92])),
    ]
    t = results_table(runs, target=0.93)
    assert list(t.columns) == RESULT_COLUMNS
    one, const = t.iloc[0], t.iloc[1]
    assert one["schedule"] == "1cycle" and const["schedule"] == "constant"
    assert one["val_acc_by_epoch"] == pytest.approx([0.55, 0.93, 0.95, 0.97])
    assert one["best_val_acc"] == pytest.approx(0.97) and one["final_val_acc"] == pytest.approx(0.97)
    assert one["final_val_acc_std"] == pytest.approx(0.01)
    assert one["epochs_to_target"] == 2  # the mean reaches 0.93 at epoch 2 (0.9 and 0.96)
    assert one["wall_seconds"] == pytest.approx((8.0 + 16.0) / 2)
    assert const["val_acc_by_epoch"] == pytest.approx([0.6, 0.8, 0.9, 0.91])
    # seed 0 alone touches 0.95 at epoch 3, but the mean over seeds never reaches 0.93
    assert const["epochs_to_target"] is None
    assert const["best_val_acc"] == pytest.approx(0.91) and const["seeds"] == 2


def test_results_table_truncates_to_epochs_every_seed_completed():
    runs = [RaceRun("a", 0, frame([0.5, 0.6, 0.9])), RaceRun("a", 1, frame([0.7, 0.8]), status="running"),
            RaceRun("b", 0, frame([]), status="queued")]
    t = results_table(runs, target=0.85)
    a, b = t.iloc[0], t.iloc[1]
    assert a["epochs_done"] == 2 and a["val_acc_by_epoch"] == pytest.approx([0.6, 0.7])
    assert a["epochs_to_target"] is None  # seed 0 alone reached 0.9, the mean over both did not yet
    assert a["status"] == "1 finished, 1 running"
    assert b["epochs_done"] == 0 and b["val_acc_by_epoch"] == [] and math.isnan(b["best_val_acc"])
    assert b["epochs_to_target"] is None and b["wall_seconds"] == 0.0


def test_results_table_rejects_a_bad_target():
    with pytest.raises(ValueError, match=r"target must be in \(0, 1\]; received target=1.5"):
        results_table([], target=1.5)


def test_table_records_are_json_ready():
    import json

    t = results_table([RaceRun("a", 0, frame([0.5, 0.9])), RaceRun("b", 0, frame([]))], target=0.8)
    records = table_records(t)
    text = json.dumps(records)
    assert json.loads(text)[0]["val_acc_by_epoch"] == [0.5, 0.9]
    assert records[0]["epochs_to_target"] == 2 and records[1]["best_val_acc"] is None


def summary_table(e1, eb, f1, fb):
    return pd.DataFrame({"schedule": ["1cycle", "constant", "step decay"],
                         "epochs_to_target": pd.Series([e1, eb, None], dtype=object),
                         "final_val_acc": [f1, fb, 0.5], "epochs_done": [10, 10, 10]})


@pytest.mark.parametrize(("e1", "eb", "f1", "fb", "holds", "ratio"), [
    (5, 10, 0.97, 0.97, True, 0.5),     # exactly half, equally accurate
    (6, 10, 0.98, 0.97, False, 0.6),    # faster but not twice as fast
    (4, 10, 0.96, 0.97, False, 0.4),    # fast but ends less accurate
    (5, None, 0.97, 0.90, True, None),  # no baseline reaches it in 10 epochs, 1cycle within 5
    (6, None, 0.97, 0.90, False, None),  # no baseline reaches it in 10; 6 > 10 / 2 proves nothing
    (None, 10, 0.99, 0.97, False, None),
])
def test_race_summary_checks_the_claim(e1, eb, f1, fb, holds, ratio):
    s = race_summary(summary_table(e1, eb, f1, fb))
    assert s["best_baseline"] == "constant" and s["claim_holds"] is holds and s["epoch_ratio"] == ratio
    assert s["final_delta"] == pytest.approx(f1 - fb)


def test_race_summary_picks_the_fastest_baseline():
    t = pd.DataFrame({"schedule": ["1cycle", "constant", "step decay"],
                      "epochs_to_target": pd.Series([3, 12, 7], dtype=object), "final_val_acc": [0.97, 0.98, 0.96]})
    s = race_summary(t)
    assert (s["best_baseline"], s["baseline_epochs"], s["claim_holds"]) == ("step decay", 7, True)
    with pytest.raises(ValueError, match="onecycle must name a schedule of the table; received onecycle='x'"):
        race_summary(t, onecycle="x")


@pytest.mark.parametrize("target", [0, 1.5, float("nan"), True, "0.9"])
def test_epochs_to_target_refuses_a_target_that_is_no_accuracy(target):
    with pytest.raises(ValueError, match=r"^target must be an accuracy in \(0, 1\]; received target="):
        epochs_to_target([0.5, 0.9], target)


class _DeletedWhileListing(RunStore):
    """A real store in which another browser deletes one run right after the race's runs are listed."""

    victim: int | None = None

    def list_runs(self, *args, **kwargs):
        runs = super().list_runs(*args, **kwargs)
        if self.victim is not None:
            self.delete_run(self.victim)
            self.victim = None
        return runs


def test_race_from_store_leaves_out_a_run_deleted_while_it_reads(tmp_path):
    store = _DeletedWhileListing(tmp_path / "runs.sqlite")
    ids = [store.create_run(cfg, group="race") for cfg in race_configs("tiny", seeds=1)]
    store.add_epoch(ids[2], EpochRow(0, 1.0, 0.5, 1.1, 0.6, 2.0))
    store.victim = ids[0]
    race = race_from_store(store, "race")
    assert [(r.label, len(r.epochs)) for r in race] == [("constant", 0), ("step decay", 1)]
