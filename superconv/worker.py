"""Worker process: runs one job of the run store, then exits.

``python -m superconv.worker --run-id N [--store PATH] [--threads T]``

The worker reads run ``N`` (status ``queued``), marks it ``running`` with its own pid, dispatches on
the run's ``kind`` through :data:`JOB_KINDS` and writes every metric to the store, which is the
single source of truth the dashboard polls. It imports TensorFlow; the process that submits jobs
(the Streamlit server) never has to.

Cancel: SIGTERM sets an event that the job polls after every batch; the store's cancel flag
(:meth:`RunStore.request_cancel`) is polled too (at most every 0.25 s), so either way the run stops
within one batch and ends ``cancelled`` with its metrics so far. SIGINT ends it ``interrupted``.

Adding a job kind: map the kind to ``"module:function"`` in :data:`JOB_KINDS` (or call
:func:`register_kind`). The function is called as ``fn(run_id, store, should_stop)`` with the
run already ``running``; it writes its metrics (e.g. ``store.add_batches``) and may set the final
status itself. If it returns while the run is still ``running`` the worker marks it ``finished``;
if it raises, ``failed`` with the error.

Example:
    >>> "train" in JOB_KINDS and "lr_find" in JOB_KINDS
    True
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import time
import traceback
from typing import Callable

from superconv.store import MetricsWriter, RunStore

JOB_KINDS: dict[str, str] = {
    "train": "superconv.worker:run_train_job",
    "lr_find": "superconv.lr_range_test:lr_find_job",
}


def register_kind(kind: str, target: str) -> None:
    """Register a job kind handled by ``target`` (``"module:function"``), see the module docstring.

    Example:
        >>> register_kind("train", "superconv.worker:run_train_job")
    """
    if ":" not in target:
        raise ValueError(f"target must look like 'module:function'; received target={target!r}")
    JOB_KINDS[str(kind)] = target


def resolve_kind(kind: str) -> Callable[..., object]:
    """The function that runs jobs of ``kind``."""
    if kind not in JOB_KINDS:
        raise ValueError(f"kind must be one of {sorted(JOB_KINDS)}; received kind={kind!r}")
    module, _, name = JOB_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def run_train_job(run_id: int, store: RunStore, should_stop: Callable[[], bool]) -> None:
    """Job kind ``train``: :func:`superconv.training.train_run` with its metrics written to ``store``."""
    from superconv.training import train_run

    run = store.get_run(run_id)
    with MetricsWriter(store, run_id) as writer:  # SQLite writes off the training thread
        result = train_run(
            run["config"],
            on_batch=writer.add_batches,
            on_epoch=writer.add_epoch,
            should_stop=should_stop,
            on_start=lambda info: store.set_status(run_id, "running", device=info["device"]),
        )
    store.set_status(run_id, result.status, error=result.error, device=result.device, final=result.final)


# Set by SIGTERM (installed first thing in main, before TensorFlow is imported).
TERMINATE = threading.Event()


class StopSignal:
    """``should_stop`` for a job: a SIGTERM-set event, or the store's cancel flag (polled sparingly)."""

    def __init__(self, store: RunStore, run_id: int, poll_seconds: float = 0.25,
                 event: threading.Event | None = None):
        self.event = event if event is not None else threading.Event()
        self.store, self.run_id, self.poll_seconds = store, run_id, poll_seconds
        self._next_poll = 0.0

    def __call__(self) -> bool:
        if self.event.is_set():
            return True
        now = time.monotonic()
        if now >= self._next_poll:
            self._next_poll = now + self.poll_seconds
            if self.store.cancel_requested(self.run_id):
                self.event.set()
        return self.event.is_set()


def run_job(run_id: int, store: RunStore) -> int:
    """Run job ``run_id`` in this process; returns the exit status (0 unless the store is unusable)."""
    run = store.get_run(run_id)
    if run["status"] != "queued":
        return 0  # cancelled (or taken) before this worker started
    stop = StopSignal(store, run_id, event=TERMINATE)
    if stop():  # cancelled while this process was starting
        store.set_status(run_id, "cancelled")
        return 0
    store.set_status(run_id, "running", pid=os.getpid())
    try:
        resolve_kind(run["kind"])(run_id, store, stop)
    except KeyboardInterrupt:
        store.set_status(run_id, "interrupted", error="interrupted (SIGINT)")
        return 130
    except Exception as exc:  # noqa: BLE001 - record any failure with the run
        traceback.print_exc()
        store.set_status(run_id, "failed", error=f"{type(exc).__name__}: {exc}")
        return 0
    if store.status(run_id) == "running":
        store.set_status(run_id, "cancelled" if stop.event.is_set() else "finished")
    return 0


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: TERMINATE.set())
    parser = argparse.ArgumentParser(prog="python -m superconv.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--run-id", type=int, required=True)
    parser.add_argument("--store", help="run store path (default: superconv.store.default_store_path())")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow CPU threads (0: TF's default)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, args.threads)))
    from superconv.training import enable_determinism

    enable_determinism()
    return run_job(args.run_id, RunStore(args.store))


if __name__ == "__main__":  # pragma: no cover - exercised through subprocess tests
    sys.exit(main())
