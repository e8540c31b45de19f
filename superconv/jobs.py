"""Background job manager: training runs in worker subprocesses, never in the Streamlit script thread.

Why subprocesses (``python -m superconv.worker``) rather than threads:

- the server process never imports TensorFlow (cold start stays fast; pages that don't train
  stay light), and TensorFlow's process-wide state (op determinism, thread pools, GPU memory,
  the mixed-precision policy) is private to each run;
- a crash, an out-of-memory kill or a hung op in one run cannot take the dashboard down, and
  cancel is a signal (SIGTERM, honoured within one batch), with SIGKILL as the last resort;
- two runs train truly in parallel (no GIL contention in the Python callback loop);
- the run store (SQLite, WAL) is the single source of truth: workers write, every browser
  session reads; nothing but run ids crosses the process boundary.

The cost is ~2-4 s of TensorFlow import per run, small next to a training run.

One ``JobManager`` per server process and store (:func:`shared_manager`) serves every page and browser session:
it is thread-safe, caps concurrent workers (the rest wait ``queued``, first in first out), and on
start marks runs left ``running``/``queued`` by a dead process as ``interrupted``.

Example:
    >>> import tempfile, os
    >>> jm = JobManager(os.path.join(tempfile.mkdtemp(), "runs.sqlite"), max_concurrent=1)
    >>> jm.active()
    []
    >>> jm.shutdown()
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from superconv.store import TERMINAL_STATUSES, RunStore

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


class JobManager:
    """Run jobs in worker subprocesses with at most ``max_concurrent`` at a time.

    Args:
        store_path: Run store file (default :func:`superconv.store.default_store_path`).
        max_concurrent: Workers running at once; further jobs are queued.
        threads_per_job: TensorFlow CPU threads per worker; default ``max(1, cpus // max_concurrent)``
            so concurrent runs don't oversubscribe the cores.
        poll_seconds: How often the supervisor thread checks workers and the queue.
    """

    def __init__(self, store_path: str | os.PathLike[str] | None = None, max_concurrent: int = 2, *,
                 threads_per_job: int | None = None, poll_seconds: float = 0.1):
        if int(max_concurrent) < 1:
            raise ValueError(f"max_concurrent must be an integer >= 1; received max_concurrent={max_concurrent!r}")
        self.store = RunStore(store_path)
        self.store_path = self.store.path
        self.max_concurrent = int(max_concurrent)
        cpus = os.cpu_count() or 1
        self.threads_per_job = int(threads_per_job or max(1, cpus // self.max_concurrent))
        self.poll_seconds = float(poll_seconds)
        self.log_dir = self.store_path.parent / "logs"
        self.interrupted_on_start = self.store.mark_interrupted()
        self._lock = threading.RLock()
        self._queue: collections.deque[int] = collections.deque()
        self._procs: dict[int, subprocess.Popen] = {}
        self._cancelled: set[int] = set()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._supervise, name="superconv-jobs", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public API
    def submit(self, config: Any, *, kind: str = "train", group: str = "", name: str | None = None) -> int:
        """Queue a job and return its run id (it starts as soon as a slot is free).

        ``config`` is a :class:`~superconv.config.RunConfig` or dict for ``kind="train"`` (validated:
        ValueError names the field), or any JSON-ready dict for other kinds.
        """
        from superconv.worker import JOB_KINDS

        if kind not in JOB_KINDS:
            raise ValueError(f"kind must be one of {sorted(JOB_KINDS)}; received kind={kind!r}")
        if kind == "train":
            from superconv.config import load_run_config

            data = load_run_config(config).model_dump()
        elif hasattr(config, "model_dump"):
            data = config.model_dump()
        elif isinstance(config, dict):
            data = dict(config)
        else:
            raise ValueError(f"config must be a dict; received {type(config).__name__}")
        with self._lock:
            if self._closed:
                raise RuntimeError("this JobManager was shut down")
            run_id = self.store.create_run(data, name=name if name is not None else str(data.get("name", "")),
                                           kind=kind, group=group)
            self._queue.append(run_id)
        self._wake.set()
        return run_id

    def cancel(self, run_id: int) -> None:
        """Cancel a queued or running job (a running one stops within one batch, keeping its metrics)."""
        run_id = int(run_id)
        self.store.request_cancel(run_id)
        with self._lock:
            self._cancelled.add(run_id)
            if run_id in self._queue:
                self._queue.remove(run_id)
            proc = self._procs.get(run_id)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        self._wake.set()

    def active(self) -> list[int]:
        """Ids of this manager's jobs that are running or queued (running first)."""
        with self._lock:
            return list(self._procs) + list(self._queue)

    def running(self) -> list[int]:
        """Ids of jobs whose worker is running."""
        with self._lock:
            return list(self._procs)

    def queued(self) -> list[int]:
        """Ids of jobs waiting for a slot, in start order."""
        with self._lock:
            return list(self._queue)

    def wait(self, run_id: int, timeout: float | None = None) -> str:
        """Block until the job has ended; return its final status (TimeoutError after ``timeout`` s)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = int(run_id) in self._procs or int(run_id) in self._queue
            status = self.store.status(run_id)
            if status in TERMINAL_STATUSES and not pending:
                return status
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {status!r} after {timeout} s")
            time.sleep(0.05)

    def shutdown(self, *, cancel: bool = True, timeout: float = 15.0) -> None:
        """Stop the supervisor. With ``cancel`` (default) queued jobs are cancelled and running workers
        are sent SIGTERM (SIGKILL after ``timeout`` s); without it, this waits for them to finish."""
        with self._lock:
            self._closed = True
            queued, self._queue = list(self._queue), collections.deque()
            procs = dict(self._procs)
        for rid in queued:
            self.store.request_cancel(rid)
        if cancel:
            for rid, proc in procs.items():
                self.store.request_cancel(rid)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for rid, proc in procs.items():
            try:
                proc.wait(timeout=None if not cancel else max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._wake.set()
        self._thread.join(timeout=5)
        for rid, proc in procs.items():
            self._finish(rid, proc)

    def log_path(self, run_id: int) -> Path:
        """The worker's stdout/stderr log of a run."""
        return self.log_dir / f"run-{int(run_id)}.log"

    # ------------------------------------------------------------------ supervisor
    def _start(self, run_id: int) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p)
        cmd = [sys.executable, "-m", "superconv.worker", "--run-id", str(run_id), "--store", str(self.store_path),
               "--threads", str(self.threads_per_job)]
        with open(self.log_path(run_id), "ab") as log:
            self._procs[run_id] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                                   stdin=subprocess.DEVNULL, env=env)

    def _finish(self, run_id: int, proc: subprocess.Popen) -> None:
        """After a worker exits: a run it left unfinished is recorded as such (never left 'running')."""
        try:
            status = self.store.status(run_id)
        except KeyError:
            return
        if status in TERMINAL_STATUSES:
            return
        code = proc.returncode
        if run_id in self._cancelled or self.store.cancel_requested(run_id):
            self.store.set_status(run_id, "cancelled")
            return
        if code is not None and code < 0:
            why = f"the worker was killed by signal {-code} ({signal.Signals(-code).name})"
            if -code == signal.SIGKILL:
                why += " (the kernel's out-of-memory killer sends SIGKILL when a run needs more memory than the machine has)"
        else:
            why = f"the worker exited with code {code} before the run finished"
        self.store.set_status(run_id, "interrupted" if code is not None and code < 0 else "failed",
                              error=f"{why}; log: {self.log_path(run_id)}{_tail(self.log_path(run_id))}")

    def _supervise(self) -> None:
        while True:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            with self._lock:
                for rid, proc in list(self._procs.items()):
                    if proc.poll() is not None:
                        del self._procs[rid]
                        self._finish(rid, proc)
                if self._closed:
                    return
                while self._queue and len(self._procs) < self.max_concurrent:
                    rid = self._queue.popleft()
                    if self.store.status(rid) != "queued":  # cancelled meanwhile
                        continue
                    try:
                        self._start(rid)
                    except OSError as exc:
                        self.store.set_status(rid, "failed", error=f"could not start a worker: {exc}")


_SHARED: dict[Path, JobManager] = {}
_SHARED_LOCK = threading.Lock()


def shared_manager(store_path: str | os.PathLike[str] | None = None) -> JobManager:
    """The process-wide JobManager for a store: every page and browser session of a server shares it,
    so the cap on concurrent workers (env ``SUPERCONV_MAX_JOBS``, default 3: a class-demo race trains its
    three lanes at once) holds for the whole server.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "runs.sqlite")
        >>> shared_manager(path) is shared_manager(path)
        True
        >>> shared_manager(path).shutdown()
    """
    path = RunStore(store_path).path.resolve()
    with _SHARED_LOCK:
        manager = _SHARED.get(path)
        if manager is None or manager._closed:
            manager = JobManager(path, max_concurrent=int(os.environ.get("SUPERCONV_MAX_JOBS", "3")))
            _SHARED[path] = manager
        return manager


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return ("\n" + "\n".join(text)) if text else ""
