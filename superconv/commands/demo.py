"""Run the super-convergence class demo headless: 1cycle against tuned baselines, same model, seeds and budget.

Every lane of the preset is trained for every seed (one after the other in this process, or in
worker processes with --jobs N), recorded in the run store under one group like the dashboard's
demo page, then the results table is printed:
per schedule, mean validation accuracy per epoch over the seeds, best and final accuracy, the
epochs needed to reach the preset's target accuracy, and the mean training time.
Ctrl-C, SIGTERM or --timeout stops the race: the run in progress keeps its metrics, the rest are
cancelled, and the table of what ran is printed without a verdict.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import uuid
from pathlib import Path

from superconv.demo import (
    DEFAULT_PRESET,
    PRESETS,
    get_preset,
    preset_summary,
    race_configs,
    race_from_store,
    race_summary,
    results_table,
    run_name,
    table_records,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS),
                   help=f"race preset (default {DEFAULT_PRESET})")
    p.add_argument("--epochs", type=int, help="epoch budget of every lane (default: the preset's)")
    p.add_argument("--seeds", type=int, default=1, help="seeds per schedule, 0..K-1 (default 1)")
    p.add_argument("--target", type=float, help="target validation accuracy (default: the preset's)")
    p.add_argument("--jobs", type=int, default=1,
                   help="runs trained at the same time in worker processes; 1 (default) trains them one after "
                        "the other in this process, so wall times are not shared between runs")
    p.add_argument("--store", type=Path, help="run store file (default: $SUPERCONV_STORE or the user data dir)")
    p.add_argument("--timeout", type=float, default=None, help="with --jobs > 1: give up waiting for a run after this many seconds")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def _check_args(args: argparse.Namespace) -> None:
    if args.seeds is None or args.seeds < 1:
        raise ValueError(f"--seeds must be an integer >= 1; received --seeds={args.seeds}")
    if args.epochs is not None and not 1 <= args.epochs <= 10_000:  # RunConfig's range, spelled as the flag
        raise ValueError(f"--epochs must be an integer in [1, 10000]; received --epochs={args.epochs}")
    if args.seeds > 100:
        raise ValueError(f"--seeds must be <= 100; received --seeds={args.seeds}")
    if args.timeout is not None and not (args.timeout > 0 and args.timeout != float("inf")):
        raise ValueError(f"--timeout must be a finite number of seconds > 0; received --timeout={args.timeout}")
    if args.timeout is not None and args.jobs == 1:
        raise ValueError(f"--timeout applies to runs in worker processes: use it with --jobs 2 or more; "
                         f"received --timeout={args.timeout} with --jobs=1")
    if args.jobs < 1:
        raise ValueError(f"--jobs must be an integer >= 1; received --jobs={args.jobs}")
    if args.target is not None and not 0 < args.target <= 1:
        raise ValueError(f"--target must be in (0, 1]; received --target={args.target}")


def format_table(records: list[dict], target: float) -> str:
    """Human-readable results table.

    Example:
        >>> print(format_table([{"schedule": "1cycle", "seeds": 1, "status": "1 finished", "best_val_acc": 0.9,
        ...                      "final_val_acc": 0.9, "epochs_to_target": None, "wall_seconds": 1.0,
        ...                      "epochs_done": 2}], 0.95))
        schedule     epochs  best val acc  final val acc  epochs to 95%  time (s)  status
        1cycle            2        0.9000         0.9000              -       1.0  1 finished
    """
    head = (f"{'schedule':<12} {'epochs':>6} {'best val acc':>13} {'final val acc':>14} "
            f"{'epochs to ' + format(target, '.0%'):>14} {'time (s)':>9}  status")
    lines = [head]
    for r in records:
        def acc(v):
            return "-" if v is None else f"{v:.4f}"
        hit = "-" if r["epochs_to_target"] is None else str(r["epochs_to_target"])
        lines.append(f"{r['schedule']:<12} {r['epochs_done']:>6} {acc(r['best_val_acc']):>13} "
                     f"{acc(r['final_val_acc']):>14} {hit:>14} {r['wall_seconds']:>9.1f}  {r['status']}")
    return "\n".join(lines)


def _progress(store, run_id: int, i: int, n: int, quiet: bool) -> None:
    if not quiet:
        rec = store.get_run(run_id)
        print(f"[{i}/{n}] {rec['name']}: {rec['status']}", file=sys.stderr, flush=True)


def _run_in_process(store, configs: list[dict], group: str, *, quiet: bool) -> tuple[list[int], str | None]:
    """One run after the other in this process (one TensorFlow import; times are not shared).

    Returns the run ids and why the race stopped early (None when every run ended by itself).
    """
    from superconv.config import load_run_config
    from superconv.worker import TERMINATE, run_job

    ids = [store.create_run(load_run_config(cfg).model_dump(), kind="train", group=group) for cfg in configs]
    for i, run_id in enumerate(ids, 1):
        code = run_job(run_id, store)  # SIGTERM sets TERMINATE: the run ends 'cancelled' within one batch
        _progress(store, run_id, i, len(ids), quiet)
        if code == 130 or TERMINATE.is_set():  # Ctrl-C ends the run 'interrupted': the rest are cancelled
            for rest in ids[i:]:
                store.request_cancel(rest)
            return ids, "interrupted (Ctrl-C)" if code == 130 else "terminated (SIGTERM)"
    return ids, None


def _run_in_workers(store, configs: list[dict], group: str, *, jobs: int, timeout: float | None,
                    quiet: bool) -> tuple[list[int], str | None]:
    """Runs in worker processes, ``jobs`` at a time (as the dashboard does).

    Returns the run ids and why the race stopped early (None when every run ended by itself); the
    manager's shutdown cancels whatever is still queued or running then.
    """
    from superconv.jobs import JobManager
    from superconv.worker import TERMINATE

    manager = JobManager(store_path=store.path, max_concurrent=jobs)
    ids: list[int] = []
    stopped = None
    try:
        ids = [manager.submit(cfg, kind="train", group=group) for cfg in configs]
        for i, run_id in enumerate(ids, 1):
            deadline = None if timeout is None else time.monotonic() + timeout
            while stopped is None:  # short waits, so that SIGTERM is seen within a fraction of a second
                try:
                    manager.wait(run_id, timeout=0.25)
                    break
                except TimeoutError:
                    if TERMINATE.is_set():
                        stopped = "terminated (SIGTERM)"
                    elif deadline is not None and time.monotonic() > deadline:
                        stopped = (f"--timeout: run {run_id} still {store.status(run_id)!r} after "
                                   f"{timeout:g} s")
            if stopped:
                break
            _progress(store, run_id, i, len(ids), quiet)
    except KeyboardInterrupt:
        stopped = "interrupted (Ctrl-C)"
    finally:
        manager.shutdown()
    return ids, stopped


def run(args: argparse.Namespace) -> int:
    _check_args(args)
    preset = get_preset(args.preset)
    target = preset.target_accuracy if args.target is None else args.target
    configs = race_configs(preset, seeds=args.seeds, epochs=args.epochs)

    from superconv.store import RunStore

    store = RunStore(args.store)
    group = f"demo-{preset.name}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    from superconv.worker import TERMINATE

    TERMINATE.clear()  # a race earlier in this process (a test, a notebook) may have been stopped
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: TERMINATE.set())
    try:
        if args.jobs == 1:
            ids, stopped = _run_in_process(store, configs, group, quiet=args.json)
        else:
            ids, stopped = _run_in_workers(store, configs, group, jobs=args.jobs, timeout=args.timeout,
                                           quiet=args.json)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if stopped:
        print(f"superconv demo: the race was stopped: {stopped}; the runs not finished are cancelled",
              file=sys.stderr)
    race = race_from_store(store, group)
    broken = [(r.label, r.seed, r.status) for r in race if r.status in ("failed", "interrupted", "cancelled")]
    for label, seed, status in broken:
        err = next((store.get_run(i)["error"] for i in ids if store.get_run(i)["name"] == run_name(label, seed)), None)
        print(f"superconv demo: {run_name(label, seed)} {status}: {err}", file=sys.stderr)
    table = results_table(race, target=target)
    records = table_records(table)
    # A lane that failed or was stopped leaves no fair comparison: no summary then (null in the JSON).
    summary = race_summary(table) if not broken and "1cycle" in set(table["schedule"]) and len(table) > 1 else None
    if args.json:
        print(json.dumps({"preset": preset_summary(preset), "epochs": configs[0]["epochs"], "seeds": args.seeds,
                          "target_accuracy": target, "store": str(store.path), "group": group,
                          "total_seconds": round(time.monotonic() - started, 1), "results": records,
                          "summary": summary}, indent=2))
        return _exit_code(stopped, broken)
    print(f"preset {preset.name}: {preset.description}")
    print(f"{configs[0]['epochs']} epochs, {args.seeds} seed(s), target {target:.0%}; runs stored in group {group}")
    print(format_table(records, target))
    if summary is not None:
        ratio = "n/a" if summary["epoch_ratio"] is None else f"{summary['epoch_ratio']:.2f}"
        print(f"1cycle vs best baseline ({summary['best_baseline']}): epochs-to-target ratio {ratio}, "
              f"final accuracy difference {summary['final_delta']:+.4f}")
    return _exit_code(stopped, broken)


def _exit_code(stopped: str | None, broken: list) -> int:
    """130 after Ctrl-C and 143 after SIGTERM (as the shell reports them), 1 when a run did not finish."""
    if stopped and stopped.startswith("interrupted"):
        return 130
    if stopped and stopped.startswith("terminated"):
        return 143
    return 1 if broken or stopped else 0
