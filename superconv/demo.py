"""The super-convergence class demo: presets as data, race configurations and the results table.

A *race* trains the same model on the same data with the same seeds and epoch budget under
several schedules (1cycle at a high peak LR against tuned constant and step-decay baselines) and
compares validation accuracy per epoch. This module is pure (numpy, pandas; no TensorFlow, no
Streamlit): the dashboard's demo page, ``superconv demo`` and the tests share it.

Run names encode the schedule label and the seed (``"1cycle · seed 0"``) so a race can be read
back from the run store by group (:func:`race_from_store`).

Example:
    >>> configs = race_configs("tiny", seeds=2)
    >>> [c["name"] for c in configs[:2]]
    ['1cycle · seed 0', '1cycle · seed 1']
    >>> parse_run_name("constant · seed 3")
    ('constant', 3)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from superconv.config import load_run_config

SEED_SEPARATOR = " · seed "


@dataclasses.dataclass(frozen=True)
class RaceSchedule:
    """One lane of a race: a label, a schedule template and why its LR was chosen.

    ``schedule`` is a schedule's ``to_dict()`` without ``total_steps``; :func:`race_configs`
    fills in a nominal count that the engine replaces by the run's exact number of batches.
    """

    label: str
    schedule: dict
    note: str = ""


@dataclasses.dataclass(frozen=True)
class DemoPreset:
    """Everything that defines a class-demo race (all lanes share data, model, seed and budget)."""

    name: str
    description: str
    dataset: str
    model: str
    optimizer: str
    batch_size: int
    epochs: int
    weight_decay: float
    target_accuracy: float
    schedules: tuple[RaceSchedule, ...]
    how_tuned: str = ""
    measured: str = ""
    val_fraction: float = 0.2
    width: int | None = None
    nesterov: bool = False

    @property
    def labels(self) -> list[str]:
        """Schedule labels in race order (1cycle first).

        Example:
            >>> PRESETS["tiny"].labels
            ['1cycle', 'constant', 'step decay']
        """
        return [s.label for s in self.schedules]


# The default preset (``DEFAULT_PRESET``) is the class demo; ``tiny`` exists for tests and for a quick
# look at the dashboard (a few seconds of training). Edit presets here, in one place.
PRESETS: dict[str, DemoPreset] = {
    "digits": DemoPreset(
        name="digits",
        description="8x8 handwritten digits (offline), MLP 2x256 with BatchNorm, SGD (Nesterov), batch 512, 30 epochs",
        dataset="digits",
        model="mlp",
        optimizer="sgd",
        batch_size=512,
        epochs=30,
        weight_decay=0.0,
        target_accuracy=0.98,
        val_fraction=0.3,
        width=256,
        nesterov=True,
        schedules=(
            RaceSchedule("1cycle", {"kind": "onecycle", "max_lr": 1.0, "pct_start": 0.1, "div_factor": 10.0,
                                    "final_div_factor": 1e4, "anneal": "cos", "base_momentum": 0.85,
                                    "max_momentum": 0.95},
                         "peak LR 1.0 after a 10% warm-up from 0.1, momentum cycled 0.95 -> 0.85 -> 0.95"),
            RaceSchedule("constant", {"kind": "constant", "lr": 0.3, "momentum": 0.9},
                         "LR 0.3, the best of 0.1 / 0.3 / 1.0, momentum 0.9"),
            RaceSchedule("step decay", {"kind": "step", "lr": 0.3, "boundaries": [0.5, 0.75], "factor": 0.1,
                                        "momentum": 0.9},
                         "LR 0.3 (best of 0.3 / 1.0), divided by 10 at 50% and 75% of the run, momentum 0.9"),
        ),
        how_tuned=("every lane's LR is the best of a grid, by one rule: fewest epochs until the mean validation "
                   "accuracy over seeds 0-2 reaches 98%, then the highest final accuracy. Constant: 0.1 / 0.3 / 1.0; "
                   "step decay: 0.3 / 1.0; 1cycle: peak 0.5 / 1.0 / 2.0 with a 30% warm-up and three shorter "
                   "warm-ups (benchmarks/demo_grid.py). Same model, data split per seed, batch size, momentum "
                   "and epoch budget for every lane; no weight decay."),
        measured=("over seeds 0-2 (`superconv demo --seeds 3`) 1cycle reaches 98% in 8 epochs, the best baseline "
                  "in 12, and ends as accurate: 1.5x fewer epochs, not the 2x and more reported on larger problems. "
                  "Digits is easy, and a tuned constant LR with BatchNorm is already quick (README, Class demo)."),
    ),
    "tiny": DemoPreset(
        name="tiny",
        description="a few seconds on CPU: digits, small MLP, 3 epochs (for tests and a first look)",
        dataset="digits",
        model="mlp",
        optimizer="sgd",
        batch_size=128,
        epochs=3,
        weight_decay=0.0,
        target_accuracy=0.5,
        schedules=(
            RaceSchedule("1cycle", {"kind": "onecycle", "max_lr": 0.5, "pct_start": 0.3}, "peak LR 0.5"),
            RaceSchedule("constant", {"kind": "constant", "lr": 0.05, "momentum": 0.9}, "LR 0.05"),
            RaceSchedule("step decay", {"kind": "step", "lr": 0.1, "boundaries": [0.5, 0.75], "factor": 0.1,
                                        "momentum": 0.9}, "LR 0.1, /10 at 50% and 75%"),
        ),
        how_tuned="not tuned: a smoke test of the race machinery",
    ),
}
DEFAULT_PRESET = "digits"

# Steps per epoch used for the nominal total_steps written into a race's schedules; the engine
# rescales every schedule to the run's exact step count (``with_total_steps``), so only the shape
# (fractions of the run) matters here.
NOMINAL_STEPS_PER_EPOCH = 100


def get_preset(preset: str | DemoPreset) -> DemoPreset:
    """Return the preset named ``preset`` (or ``preset`` itself when it is a :class:`DemoPreset`).

    Args:
        preset: A key of :data:`PRESETS` or a :class:`DemoPreset`.

    Returns:
        The :class:`DemoPreset`.

    Raises:
        ValueError: ``preset must be one of ['digits', 'tiny']; received preset=...`` for an unknown name.

    Example:
        >>> get_preset("tiny").epochs
        3
        >>> get_preset("nope")
        Traceback (most recent call last):
        ...
        ValueError: preset must be one of ['digits', 'tiny']; received preset='nope'
    """
    if isinstance(preset, DemoPreset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}; received preset={preset!r}")
    return PRESETS[preset]


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be an integer >= 1; received seeds={seeds!r}")
        return list(range(int(seeds)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise ValueError(f"seeds must be a count >= 1 or a non-empty list of integers; received seeds={seeds!r}")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"seeds must be integers >= 0; received seeds={list(seeds)!r}")
        out.append(int(s))
    if len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct; received seeds={out!r}")
    return out


def run_name(label: str, seed: int) -> str:
    """The run name of one lane and seed, e.g. ``"1cycle · seed 0"`` (inverse of :func:`parse_run_name`).

    Args:
        label: The lane's schedule label.
        seed: The seed (converted with ``int``).

    Returns:
        ``label`` and the seed joined by :data:`SEED_SEPARATOR`.

    Example:
        >>> run_name("step decay", 2)
        'step decay · seed 2'
    """
    return f"{label}{SEED_SEPARATOR}{int(seed)}"


def parse_run_name(name: str) -> tuple[str, int | None]:
    """Split a race run name into ``(label, seed)``; a name without a seed gives ``(name, None)``.

    Args:
        name: A run name (converted with ``str``); only a run of digits after the last
            :data:`SEED_SEPARATOR` counts as a seed.

    Returns:
        ``(label, seed)``, or ``(name, None)`` when the name ends in no seed.

    Example:
        >>> parse_run_name("1cycle · seed 12")
        ('1cycle', 12)
        >>> parse_run_name("my run")
        ('my run', None)
    """
    label, sep, seed = str(name).rpartition(SEED_SEPARATOR)
    if sep and seed.isdigit():
        return label, int(seed)
    return str(name), None


def race_configs(preset: str | DemoPreset, seeds: int | Sequence[int] = 1, *,
                 epochs: int | None = None) -> list[dict[str, Any]]:
    """Run configurations of a race: every schedule of ``preset`` for every seed.

    Args:
        preset: A preset name from :data:`PRESETS` or a :class:`DemoPreset`.
        seeds: A count K (seeds 0..K-1) or an explicit list of seeds.
        epochs: Override the preset's epoch budget (same for every lane).

    Returns:
        One dict per run in :class:`superconv.config.RunConfig` form (``RunConfig.model_validate``
        accepts it), ordered by schedule then seed, named with :func:`run_name`.

    Raises:
        ValueError: for an unknown preset, bad seeds or a bad epoch count, or a lane whose run config
            is invalid (e.g. too few epochs for its warm-up), naming the lane.

    Example:
        >>> cfgs = race_configs("tiny", seeds=[4], epochs=2)
        >>> [(c["name"], c["epochs"], c["seed"], c["schedule"]["kind"]) for c in cfgs]
        [('1cycle · seed 4', 2, 4, 'onecycle'), ('constant · seed 4', 2, 4, 'constant'), ('step decay · seed 4', 2, 4, 'step')]
    """
    p = get_preset(preset)
    n_epochs = p.epochs if epochs is None else epochs
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, (int, np.integer)) or n_epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1; received epochs={n_epochs!r}")
    seed_list = _seed_list(seeds)
    configs = []
    for lane in p.schedules:
        schedule = dict(lane.schedule, total_steps=int(n_epochs) * NOMINAL_STEPS_PER_EPOCH)
        first = len(configs)
        for seed in seed_list:
            configs.append({
                "name": run_name(lane.label, seed),
                "dataset": p.dataset,
                "model": p.model,
                "optimizer": p.optimizer,
                "schedule": schedule,
                "epochs": int(n_epochs),
                "batch_size": p.batch_size,
                "weight_decay": p.weight_decay,
                "seed": seed,
                "val_fraction": p.val_fraction,
                "width": p.width,
                "nesterov": p.nesterov,
            })
        try:  # the seed changes no size, so one config per lane checks them all
            load_run_config(configs[first])
        except ValueError as exc:
            raise ValueError(f"the {lane.label} lane of preset {p.name!r} cannot run {n_epochs} epoch(s): {exc}") from None
    return configs


@dataclasses.dataclass(frozen=True)
class RaceRun:
    """One finished (or running) run of a race: its lane label, seed, status and epoch metrics.

    ``epochs`` needs columns ``val_acc`` and ``seconds`` in epoch order (the store's
    ``epoch_metrics`` frame has them).
    """

    label: str
    seed: int
    epochs: pd.DataFrame
    status: str = "finished"


RESULT_COLUMNS = ["schedule", "seeds", "status", "epochs_done", "val_acc_by_epoch", "best_val_acc",
                  "final_val_acc", "final_val_acc_std", "epochs_to_target", "wall_seconds"]


def epochs_to_target(val_acc: Sequence[float], target: float) -> int | None:
    """Number of epochs until validation accuracy first reaches ``target`` (None if never).

    A mean over seeds can land a rounding error below the target (0.9 and 0.96 average to
    0.92999...), so values within 1e-9 of the target count as reaching it.

    Args:
        val_acc: Validation accuracy after each epoch, in epoch order.
        target: Target accuracy in (0, 1].

    Returns:
        The 1-based count of epochs until the first epoch at or above the target, or None.

    Raises:
        ValueError: ``target must be an accuracy in (0, 1]; received target=...``.

    Example:
        >>> epochs_to_target([0.5, 0.8, 0.96, 0.94], 0.95)
        3
        >>> epochs_to_target([0.5, 0.8], 0.95) is None
        True
    """
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0.0 < target <= 1.0:
        raise ValueError(f"target must be an accuracy in (0, 1]; received target={target!r}")
    hits = np.flatnonzero(np.asarray(val_acc, dtype=np.float64) >= target - 1e-9)
    return int(hits[0]) + 1 if hits.size else None


def _status_summary(statuses: list[str]) -> str:
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in counts.items())


def results_table(runs: Iterable[RaceRun], *, target: float) -> pd.DataFrame:
    """Per schedule: mean validation accuracy per epoch over seeds, best, final, epochs to target, time.

    The mean curve covers the epochs that every seed of the lane has completed (a seed still running
    or stopped early shortens it, it never biases it). ``best_val_acc`` is the best epoch of the mean
    curve, ``final_val_acc`` its last epoch (``final_val_acc_std`` the spread over seeds there),
    ``epochs_to_target`` the first epoch (1-based count) where the mean curve reaches ``target``
    (None if it never does) and ``wall_seconds`` the mean over seeds of the summed epoch times.

    Args:
        runs: Race runs, any order; lanes keep the order of their first appearance.
        target: Target validation accuracy in (0, 1].

    Returns:
        DataFrame with columns :data:`RESULT_COLUMNS`, one row per schedule; ``status`` counts the
        lane's statuses (e.g. ``"2 finished, 1 running"``), ``epochs_done`` is the mean curve's length
        and the accuracies are rounded to 6 decimals (NaN for a lane with no complete epoch).

    Raises:
        ValueError: ``target must be in (0, 1]; received target=...``.

    Example:
        >>> f = lambda accs: pd.DataFrame({"val_acc": accs, "seconds": [1.0] * len(accs)})
        >>> t = results_table([RaceRun("a", 0, f([0.5, 0.9, 0.95])), RaceRun("a", 1, f([0.7, 0.9, 0.97])),
        ...                    RaceRun("b", 0, f([0.6, 0.7]), "diverged")], target=0.9)
        >>> t[["schedule", "epochs_done", "best_val_acc", "epochs_to_target", "status"]].values.tolist()
        [['a', 3, 0.96, 2, '2 finished'], ['b', 2, 0.7, None, '1 diverged']]
    """
    t = float(target)
    if not 0.0 < t <= 1.0:
        raise ValueError(f"target must be in (0, 1]; received target={target!r}")
    lanes: dict[str, list[RaceRun]] = {}
    for run in runs:
        lanes.setdefault(run.label, []).append(run)
    rows = []
    for label, lane in lanes.items():
        lane = sorted(lane, key=lambda r: r.seed)
        curves = [np.asarray(r.epochs["val_acc"], dtype=np.float64) if len(r.epochs) else np.zeros(0)
                  for r in lane]
        n = min(len(c) for c in curves)
        stacked = np.stack([c[:n] for c in curves]) if n else np.zeros((len(curves), 0))
        mean = stacked.mean(axis=0) if n else np.zeros(0)
        seconds = [float(np.nansum(np.asarray(r.epochs["seconds"], dtype=np.float64))) if len(r.epochs) else 0.0
                   for r in lane]
        rows.append({
            "schedule": label,
            "seeds": len(lane),
            "status": _status_summary([r.status for r in lane]),
            "epochs_done": n,
            "val_acc_by_epoch": [round(float(v), 6) for v in mean],
            "best_val_acc": round(float(np.max(mean)), 6) if n else math.nan,
            "final_val_acc": round(float(mean[-1]), 6) if n else math.nan,
            "final_val_acc_std": round(float(stacked[:, -1].std()), 6) if n else math.nan,
            "epochs_to_target": epochs_to_target(mean, t) if n else None,
            "wall_seconds": round(float(np.mean(seconds)), 3),
        })
    table = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    table["epochs_to_target"] = pd.Series([r["epochs_to_target"] for r in rows], dtype=object)
    return table


def race_summary(table: pd.DataFrame, *, onecycle: str = "1cycle") -> dict[str, Any]:
    """Compare the 1cycle lane with the best baseline: epochs to target ratio and final accuracy.

    The best baseline is the one reaching the target in the fewest epochs (ties and lanes that never
    reach it are ordered by final accuracy).

    Args:
        table: A :func:`results_table` (at least the columns ``schedule``, ``epochs_to_target`` and
            ``final_val_acc``; ``epochs_done`` is read when no baseline reaches the target).
        onecycle: The schedule label of the 1cycle lane.

    Returns:
        ``{"onecycle_epochs", "best_baseline", "baseline_epochs", "epoch_ratio", "final_delta",
        "claim_holds"}``; ``epoch_ratio`` is 1cycle's epochs over the baseline's (None when either
        lane never reaches the target), ``final_delta`` is 1cycle's final accuracy minus the baseline's,
        and ``claim_holds`` is True when 1cycle needs at most half the
        epochs of the best baseline and ends at least as accurate. When no baseline reaches the target,
        its count is only known to exceed its ``epochs_done``, so the claim then needs 1cycle to reach
        the target within half of those.

    Raises:
        ValueError: ``onecycle must name a schedule of the table; received onecycle=...``, or
            ``the table has no baseline schedule to compare with``.

    Example:
        >>> t = pd.DataFrame({"schedule": ["1cycle", "constant", "step decay"], "epochs_to_target": [4, 12, 9],
        ...                   "final_val_acc": [0.97, 0.96, 0.965]})
        >>> s = race_summary(t)
        >>> s["best_baseline"], s["epoch_ratio"], s["claim_holds"]
        ('step decay', 0.444444, True)
    """
    if onecycle not in set(table["schedule"]):
        raise ValueError(f"onecycle must name a schedule of the table; received onecycle={onecycle!r}")
    one = table[table["schedule"] == onecycle].iloc[0]
    base = table[table["schedule"] != onecycle]
    if base.empty:
        raise ValueError("the table has no baseline schedule to compare with")

    def rank(row: pd.Series) -> tuple[float, float]:
        e = row["epochs_to_target"]
        return (math.inf if e is None or pd.isna(e) else float(e), -float(row["final_val_acc"]))

    best = min((row for _, row in base.iterrows()), key=rank)
    e1, eb = one["epochs_to_target"], best["epochs_to_target"]
    e1 = None if e1 is None or pd.isna(e1) else int(e1)
    eb = None if eb is None or pd.isna(eb) else int(eb)
    ratio = round(e1 / eb, 6) if e1 is not None and eb is not None else None
    delta = round(float(one["final_val_acc"]) - float(best["final_val_acc"]), 6)
    # A baseline that never reaches the target needs more than the epochs it ran: compare with those.
    bound = eb if eb is not None else best.get("epochs_done")
    faster = e1 is not None and bound is not None and not pd.isna(bound) and e1 * 2 <= int(bound)
    return {"onecycle_epochs": e1, "best_baseline": best["schedule"], "baseline_epochs": eb,
            "epoch_ratio": ratio, "final_delta": delta, "claim_holds": bool(faster and delta >= 0)}


def race_from_store(store: Any, group: str) -> list[RaceRun]:
    """Read a race's runs (``group``) back from a :class:`superconv.store.RunStore`.

    Runs come in submission order (so lanes keep the preset's order); lane labels and seeds come
    from the run names (:func:`parse_run_name`). A run whose name carries no seed keeps its whole
    name as the label and takes the config's ``seed`` (0 if absent).

    Args:
        store: A :class:`superconv.store.RunStore` (or anything with its ``list_runs``, ``get_runs``
            and ``epoch_metrics``).
        group: The race's group, as the runs were created with.

    Returns:
        One :class:`RaceRun` per run of the group (its status and epoch metrics as stored now);
        ``[]`` for an unknown group.

    Example:
        >>> import os, tempfile
        >>> from superconv.store import EpochRow, RunStore
        >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
        >>> ids = [store.create_run(cfg, group="race") for cfg in race_configs("tiny", seeds=2)]
        >>> store.add_epoch(ids[0], EpochRow(0, 1.0, 0.5, 1.1, 0.6, 2.0))
        >>> store.set_status(ids[0], "running")
        >>> [(r.label, r.seed, r.status, len(r.epochs)) for r in race_from_store(store, "race")[:3]]
        [('1cycle', 0, 'running', 1), ('1cycle', 1, 'queued', 0), ('constant', 0, 'queued', 0)]
    """
    runs = store.list_runs(group=group).sort_values("id")  # submission order: lanes as in the preset
    out = []
    # get_runs leaves out a run deleted (from Train & Compare, another browser) since the list was read
    for run_id, run in store.get_runs(runs["id"]).items():
        label, seed = parse_run_name(run.get("name") or run["config"].get("name", ""))
        out.append(RaceRun(label=label, seed=int(run["config"].get("seed", 0)) if seed is None else seed,
                           epochs=store.epoch_metrics(run_id), status=str(run["status"])))
    return out


def table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows of a results table (NaN -> None).

    Args:
        table: Any DataFrame, e.g. a :func:`results_table`.

    Returns:
        One dict per row; float NaN becomes None and numpy scalars become Python numbers.

    Example:
        >>> table_records(pd.DataFrame({"schedule": ["a"], "best_val_acc": [float("nan")]}))
        [{'schedule': 'a', 'best_val_acc': None}]
    """
    records = []
    for row in table.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif isinstance(v, np.generic):
                v = v.item()
            clean[k] = v
        records.append(clean)
    return records


def preset_summary(preset: str | DemoPreset) -> Mapping[str, Any]:
    """A JSON-ready description of a preset (for the page and ``superconv demo --json``).

    Args:
        preset: A preset name from :data:`PRESETS` or a :class:`DemoPreset`.

    Returns:
        The preset's name, description, data/model/optimizer settings, ``target_accuracy``,
        ``how_tuned``, ``measured`` and ``lanes`` (one ``{"label", "schedule", "note"}`` per schedule).

    Raises:
        ValueError: for an unknown preset name, as :func:`get_preset`.

    Example:
        >>> preset_summary("tiny")["lanes"][0]["label"]
        '1cycle'
    """
    p = get_preset(preset)
    return {"name": p.name, "description": p.description, "dataset": p.dataset, "model": p.model,
            "optimizer": p.optimizer, "batch_size": p.batch_size, "epochs": p.epochs,
            "weight_decay": p.weight_decay, "target_accuracy": p.target_accuracy, "how_tuned": p.how_tuned,
            "measured": p.measured,
            "lanes": [{"label": s.label, "schedule": dict(s.schedule), "note": s.note} for s in p.schedules]}
