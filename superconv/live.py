"""Live views of runs in the store: incremental metric polling and the planned schedule of a run.

Pure helpers for the dashboard's live charts (no Streamlit, no TensorFlow). A :class:`LiveMetrics`
keeps each run's per-batch frame and asks the store only for the steps it has not seen yet, so a
chart refreshed a few times a second costs one small query per running run.

Example:
    >>> import os, tempfile
    >>> from superconv.store import BatchRow, RunStore
    >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
    >>> rid = store.create_run({"epochs": 2}, name="a")
    >>> live = LiveMetrics()
    >>> store.add_batches(rid, [BatchRow(0, 0, 2.0, 0.1, 0.9)])
    1
    >>> len(live.batches(store, rid))
    1
    >>> store.add_batches(rid, [BatchRow(1, 0, 1.5, 0.1, 0.9), BatchRow(2, 1, 1.2, 0.1, 0.9)])
    2
    >>> live.batches(store, rid)["loss"].tolist()
    [2.0, 1.5, 1.2]
"""

from __future__ import annotations

import threading
from typing import Any, Mapping

import pandas as pd

from superconv.config import load_run_config
from superconv.demo import epochs_to_target


def startup_note(max_jobs: int) -> str:
    """What a run does before its first batch, for a page that shows runs waiting on it.

    Example:
        >>> startup_note(3).split(":")[0]
        'Before its first batch a run starts a worker process and loads TensorFlow and its data'
    """
    return (f"Before its first batch a run starts a worker process and loads TensorFlow and its data: about 10 to "
            f"30 s on a small CPU, more when several start at once. At most {int(max_jobs)} run(s) train at once "
            "(SUPERCONV_MAX_JOBS); the others wait as queued.")
from superconv.schedules import Schedule, schedule_from_dict


class LiveMetrics:
    """Per-run cache of per-batch metrics, extended with only the new steps on each poll (thread-safe)."""

    def __init__(self) -> None:
        self._frames: dict[tuple[str, int], pd.DataFrame] = {}
        self._lock = threading.Lock()

    def batches(self, store: Any, run_id: int) -> pd.DataFrame:
        """The run's per-batch frame (``step, epoch, loss, lr, momentum``), fetching new steps only."""
        key = (str(store.path), int(run_id))
        with self._lock:
            cached = self._frames.get(key)
        since = int(cached["step"].iloc[-1]) if cached is not None and len(cached) else None
        new = store.batch_metrics(run_id, since_step=since)
        if cached is None or not len(cached):
            frame = new
        elif len(new):
            frame = pd.concat([cached, new], ignore_index=True)
        else:
            frame = cached
        with self._lock:
            self._frames[key] = frame
        return frame

    def forget(self, store: Any, run_id: int) -> None:
        """Drop a run's cached frame (after deleting the run)."""
        with self._lock:
            self._frames.pop((str(store.path), int(run_id)), None)


_SHARED_LIVE = LiveMetrics()


def shared_live() -> LiveMetrics:
    """The process-wide :class:`LiveMetrics`: every page and session of a server reads through one cache,
    so a run's frame is fetched once and ``forget`` (on delete) reaches every page.

    Example:
        >>> shared_live() is shared_live()
        True
    """
    return _SHARED_LIVE


def steps_per_epoch_seen(batches: pd.DataFrame) -> int | None:
    """Steps in the first epoch, once the run has moved past it (None before).

    Example:
        >>> steps_per_epoch_seen(pd.DataFrame({"step": [0, 1, 2, 3], "epoch": [0, 0, 1, 1]}))
        2
        >>> steps_per_epoch_seen(pd.DataFrame({"step": [0, 1], "epoch": [0, 0]})) is None
        True
    """
    if not len(batches) or batches["epoch"].isna().all():
        return None
    epochs = batches["epoch"].dropna().astype(int)
    first = int(epochs.min())
    if int(epochs.max()) == first:
        return None
    return int((epochs == first).sum())


def planned_schedule(config: Mapping[str, Any], batches: pd.DataFrame | None = None, *,
                     total_steps: int | None = None) -> Schedule | None:
    """The schedule a run follows, stretched to the run's length.

    The length is ``total_steps`` when given, else the config's own (``RunConfig.run_length``, as the
    engine will train it), else ``epochs`` times the steps of the first epoch once it is complete (the
    engine stretches every schedule to the run's exact step count).

    Returns:
        The schedule, or None while the length is unknown or the config has no valid schedule.

    Example:
        >>> planned_schedule({"epochs": 3, "batch_size": 64, "schedule": {"kind": "constant", "lr": 0.1}}).total_steps
        69
        >>> cfg = {"epochs": 3, "schedule": {"kind": "constant", "lr": 0.1}, "csv_path": "gone.csv", "dataset": "csv"}
        >>> b = pd.DataFrame({"step": [0, 1, 2], "epoch": [0, 0, 1]})
        >>> planned_schedule(cfg, b).total_steps
        6
        >>> planned_schedule(cfg, b.iloc[:2]) is None
        True
    """
    if total_steps is None:
        try:
            total_steps = load_run_config(dict(config)).run_length()[2]
        except ValueError:  # e.g. a CSV that is gone: read the length off the first epoch
            pass
    if total_steps is None:
        per_epoch = steps_per_epoch_seen(batches) if batches is not None else None
        epochs = config.get("epochs")
        if per_epoch is None or not epochs:
            return None
        total_steps = int(per_epoch) * int(epochs)
    try:
        return schedule_from_dict({**dict(config.get("schedule") or {}), "total_steps": int(total_steps)})
    except (ValueError, TypeError):
        return None


def run_label(record: Mapping[str, Any]) -> str:
    """Chart label of a run: ``"#id name"`` (or ``"#id <schedule kind>"`` without a name).

    Example:
        >>> run_label({"id": 3, "name": "fast", "config": {}})
        '#3 fast'
        >>> run_label({"id": 4, "name": "", "config": {"schedule": {"kind": "onecycle"}}})
        '#4 onecycle'
    """
    name = record.get("name") or (record.get("config") or {}).get("schedule", {}).get("kind", "run")
    return f"#{record['id']} {name}"


OVERVIEW_COLUMNS = ["id", "name", "status", "dataset", "model", "optimizer", "schedule", "peak_lr", "epochs",
                    "batch_size", "epochs_done", "best_val_acc", "final_val_acc", "epochs_to_target",
                    "train_seconds", "created_at", "error"]


def runs_overview(store: Any, *, target: float, kind: str = "train", group: str | None = None) -> pd.DataFrame:
    """One row per run of the store: status, schedule, best and final validation accuracy, epochs to
    ``target`` accuracy (1-based count, None if not reached) and training time (sum of epoch times).

    Example:
        >>> import os, tempfile
        >>> from superconv.store import EpochRow, RunStore
        >>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
        >>> rid = store.create_run({"epochs": 2, "schedule": {"kind": "constant", "lr": 0.1}}, name="c")
        >>> store.add_epoch(rid, EpochRow(0, 1.0, 0.6, 1.1, 0.55, 2.0))
        >>> store.add_epoch(rid, EpochRow(1, 0.5, 0.9, 0.6, 0.91, 2.5))
        >>> runs_overview(store, target=0.9)[["name", "best_val_acc", "epochs_to_target", "train_seconds"]].values.tolist()
        [['c', 0.91, 2, 4.5]]
    """
    runs = store.list_runs(kind=kind, group=group)
    rows = []
    for _, r in runs.iterrows():
        cfg = r["config"] or {}
        sched = cfg.get("schedule") or {}
        epochs = store.epoch_metrics(int(r["id"]))
        acc = epochs["val_acc"].to_numpy(dtype=float) if len(epochs) else []
        peak = sched.get("max_lr", sched.get("lr"))
        rows.append({
            "id": int(r["id"]), "name": r["name"], "status": r["status"], "dataset": cfg.get("dataset"),
            "model": cfg.get("model"), "optimizer": cfg.get("optimizer"), "schedule": sched.get("kind"),
            "peak_lr": None if peak is None else float(peak), "epochs": cfg.get("epochs"),
            "batch_size": cfg.get("batch_size"), "epochs_done": len(epochs),
            "best_val_acc": float(pd.Series(acc).max()) if len(acc) else None,
            "final_val_acc": float(acc[-1]) if len(acc) else None,
            "epochs_to_target": epochs_to_target(acc, target) if len(acc) else None,
            "train_seconds": round(float(epochs["seconds"].sum()), 3) if len(epochs) else 0.0,
            "created_at": r["created_at"], "error": r["error"],
        })
    table = pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)
    table["epochs_to_target"] = pd.Series([r["epochs_to_target"] for r in rows], dtype=object)
    return table


def epochs_to_target_text(epochs: pd.Series, active: pd.Series | bool) -> pd.Series:
    """Epochs-to-target counts as table text: the count, ``"not yet"`` while the run still trains, or
    ``"not reached"`` once it has ended without reaching the target (instead of a bare ``None``).

    Args:
        epochs: epochs to the target per row (an integer, or None/NaN when not reached).
        active: per row (or for all rows) whether the run is still queued or training.

    Example:
        >>> epochs_to_target_text(pd.Series([3, None, None], dtype=object), pd.Series([False, True, False])).tolist()
        ['3', 'not yet', 'not reached']
    """
    active = pd.Series(active, index=epochs.index) if isinstance(active, bool) else active
    return pd.Series([str(int(e)) if not pd.isna(e) else "not yet" if a else "not reached"
                      for e, a in zip(epochs, active)], index=epochs.index, dtype=object)
