"""``superconv demo``: the class-demo race headless, results as JSON."""

from __future__ import annotations

import json

import pytest

from superconv.cli import main
from superconv.demo import race_from_store
from superconv.store import RunStore


def test_demo_cli_rejects_bad_arguments_naming_them(capsys):
    assert main(["demo", "--seeds", "0"]) == 2
    assert "superconv demo: error: --seeds must be an integer >= 1; received --seeds=0" in capsys.readouterr().err
    assert main(["demo", "--epochs", "0"]) == 2
    assert "--epochs must be an integer in [1, 10000]; received --epochs=0" in capsys.readouterr().err
    assert main(["demo", "--epochs", "100000000"]) == 2
    assert "--epochs must be an integer in [1, 10000]; received --epochs=100000000" in capsys.readouterr().err


def test_demo_cli_refuses_a_budget_too_short_before_storing(tmp_path, capsys):
    path = tmp_path / "race.sqlite"
    assert main(["demo", "--epochs", "2", "--store", str(path)]) == 2
    assert capsys.readouterr().err.startswith(
        "superconv demo: error: the 1cycle lane of preset 'digits' cannot run 2 epoch(s): the schedule does not fit "
        "this run of 6 optimizer steps (epochs=2 x 3 per epoch, from 1258 training samples and batch_size=512)")
    assert not path.exists() or RunStore(path).list_runs().empty
    assert main(["demo", "--target", "1.5"]) == 2
    assert "--target must be in (0, 1]; received --target=1.5" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_cli_tiny_race_prints_the_results_table(tmp_path, capsys):
    path = tmp_path / "race.sqlite"
    assert main(["demo", "--preset", "tiny", "--epochs", "2", "--seeds", "2", "--json",
                 "--store", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["preset"]["name"] == "tiny" and out["epochs"] == 2 and out["seeds"] == 2
    results = {r["schedule"]: r for r in out["results"]}
    assert list(results) == ["1cycle", "constant", "step decay"]
    store = RunStore(path)
    race = race_from_store(store, out["group"])
    assert len(race) == 6 and {r.status for r in race} == {"finished"}
    for label, r in results.items():
        curves = [run.epochs["val_acc"].tolist() for run in race if run.label == label]
        mean = [sum(v) / len(v) for v in zip(*curves)]
        assert r["seeds"] == 2 and r["epochs_done"] == 2
        assert r["val_acc_by_epoch"] == pytest.approx(mean, abs=1e-6)
        assert r["best_val_acc"] == pytest.approx(max(mean), abs=1e-6)
        assert r["wall_seconds"] > 0
    assert set(out["summary"]) >= {"best_baseline", "epoch_ratio", "claim_holds"}
