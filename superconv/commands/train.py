"""Train one run in the foreground from a JSON config; its metrics go to the run store.

The config is a RunConfig as JSON, e.g.
{"dataset": "digits", "model": "cnn", "optimizer": "sgd", "epochs": 10, "batch_size": 64,
 "weight_decay": 5e-4, "seed": 0, "schedule": {"kind": "onecycle", "max_lr": 0.5}}
(the schedule's total_steps is set to the run's exact length). The run appears in the
dashboard when both use the same store (--store, $SUPERCONV_STORE or $SUPERCONV_HOME).
Ctrl-C or SIGTERM (``kill``, ``timeout``) cancels the run within one batch and keeps its metrics.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, required=True, help="run config JSON file (RunConfig fields)")
    p.add_argument("--store", type=Path, help="run store file (default: $SUPERCONV_STORE, $SUPERCONV_HOME/runs.sqlite)")
    p.add_argument("--name", help="run name (overrides the config's name)")
    p.add_argument("--group", default="", help="group label tying runs together (e.g. a comparison)")
    p.add_argument("--json", action="store_true", help="print the final line as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


class Progress:
    """A one-line progress bar on stderr, redrawn at most every 0.1 s."""

    def __init__(self, stream: Any = sys.stderr, enabled: bool = True, width: int = 30):
        self.stream, self.enabled, self.width = stream, enabled, width
        self.total = 0
        self.epochs = 0
        self._last = 0.0

    def start(self, info: dict[str, Any], epochs: int) -> None:
        self.total, self.epochs = int(info["total_steps"]), epochs
        self.line(f"training on {info['device']}: {info['num_train']} samples, {self.total} steps")

    def batch(self, rows: list[Any]) -> None:
        if not self.enabled or not rows:
            return
        r = rows[-1]
        done = r.step + 1
        if time.monotonic() - self._last < 0.1 and done < self.total:  # the last step is always drawn
            return
        self._last = time.monotonic()
        filled = int(self.width * done / max(1, self.total))
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] step {done}/{self.total} "
                          f"epoch {r.epoch + 1}/{self.epochs} loss {r.loss:.4f} lr {r.lr:.3g} mom {r.momentum:.3f} ")
        self.stream.flush()

    def epoch(self, row: Any) -> None:
        self.line(f"epoch {row.epoch + 1}/{self.epochs}: train_loss {_fmt(row.train_loss)} "
                  f"train_acc {_fmt(row.train_acc)} val_loss {_fmt(row.val_loss)} val_acc {_fmt(row.val_acc)} "
                  f"({row.seconds:.1f} s)")

    def line(self, text: str) -> None:
        if self.enabled:
            self.stream.write("\r" + text.ljust(self.width + 70) + "\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    from superconv.config import load_run_config
    from superconv.store import MetricsWriter, RunStore

    cfg = load_run_config(args.config)            # ValueError -> exit 2, names the field and value
    if args.name is not None:
        cfg = cfg.model_copy(update={"name": args.name})
    store = RunStore(args.store)
    run_id = store.create_run(cfg.model_dump(), name=cfg.name, kind="train", group=args.group, status="queued")
    store.set_status(run_id, "running", pid=os.getpid())

    stop = threading.Event()
    # Ctrl-C, and SIGTERM (``timeout``, ``kill``, a container stop), end the run within one batch as
    # 'cancelled', its metrics kept; nothing is left 'running' in the store.
    previous = {sig: signal.signal(sig, lambda signum, frame: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    progress = Progress(enabled=not args.no_progress)
    writer = MetricsWriter(store, run_id)  # SQLite writes off the training thread
    try:
        from superconv.training import enable_determinism, train_run

        enable_determinism()

        def on_start(info: dict[str, Any]) -> None:
            store.set_status(run_id, "running", device=info["device"])
            progress.start(info, cfg.epochs)

        def on_batch(rows: list[Any]) -> None:
            writer.add_batches(rows)
            progress.batch(rows)

        def on_epoch(row: Any) -> None:
            writer.add_epoch(row)
            progress.epoch(row)

        result = train_run(cfg, on_batch=on_batch, on_epoch=on_epoch, on_start=on_start,
                           should_stop=lambda: stop.is_set() or store.cancel_requested(run_id))
        writer.close()
    except BaseException as exc:  # never leave the run 'running' in the store
        store.set_status(run_id, "failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with contextlib.suppress(Exception):  # closed above unless training raised; its error is reported
            writer.close()
    store.set_status(run_id, result.status, error=result.error, device=result.device, final=result.final)

    f = result.final
    summary = {"run_id": run_id, "status": result.status, "epochs_done": result.epochs_done,
               "epochs": cfg.epochs, "train_loss": f.get("train_loss"), "train_acc": f.get("train_acc"),
               "val_loss": f.get("val_loss"), "val_acc": f.get("val_acc"), "steps": f.get("steps"),
               "seconds": round(float(f.get("seconds", 0.0)), 3), "device": result.device,
               "store": str(store.path), "error": result.error}
    if args.json:
        print(json.dumps({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in summary.items()}))
    else:
        metrics = " ".join(f"{k} {_fmt(summary[k])}" for k in ("train_loss", "train_acc", "val_loss", "val_acc")
                           if summary[k] is not None)
        print(f"run {run_id} {result.status}: epochs {result.epochs_done}/{cfg.epochs} {metrics} "
              f"in {summary['seconds']:.1f} s on {result.device}"
              + (f" ({result.error})" if result.error else "") + f"; store {store.path}")
    return 0 if result.status == "finished" else 1
