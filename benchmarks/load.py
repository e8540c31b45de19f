"""Bounded local load test: N dashboard sessions (Streamlit AppTest, one process each) while training jobs run.

Each session opens the app (the Schedule Designer page) and reruns it R times with a new peak LR,
like a student dragging the slider; meanwhile J training jobs run through one JobManager capped at
C concurrent workers, and a poller reads the run store every 50 ms to check that no more than C
runs are ever ``running`` at once. Loopback only (no sockets at all: AppTest runs the page script
in the session's process), bounded by N, R, J and a deadline. Prints the figures; exit status 1 on any error.

    python benchmarks/load.py                 # 20 sessions x 5 reruns, 3 jobs, cap 2
    python benchmarks/load.py --clients 4 --reruns 2 --json
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JOB = {"dataset": "digits", "model": "mlp", "epochs": 8, "batch_size": 32, "schedule": {"kind": "onecycle", "max_lr": 0.5}}
LRS = [0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0]


def _session(index: int, reruns: int) -> tuple[float | None, list[float], list[str]]:
    """One dashboard session in its own process (AppTest's runtime is a process-wide singleton, so
    sessions in threads of one process tear each other's runtime down)."""
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from streamlit.testing.v1 import AppTest

    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        t0 = time.perf_counter()
        at.run()
        first = time.perf_counter() - t0
        local, problems = [], [e.value for e in at.exception]
        for r in range(reruns):
            try:
                slider = at.select_slider(key="designer_w_max_lr")
            except KeyError:
                problems.append(f"rerun {r}: no max_lr slider; titles {[t.value for t in at.title]}, "
                                f"exceptions {[str(e.value)[:200] for e in at.exception]}, "
                                f"errors {[str(e.value)[:200] for e in at.error]}")
                break
            slider.set_value(LRS[(index + r) % len(LRS)])
            t0 = time.perf_counter()
            at.run()
            local.append(time.perf_counter() - t0)
            problems += [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]
        return first, local, [f"session {index}: {p}" for p in problems]
    except Exception as exc:  # noqa: BLE001 - every failure is counted
        return None, [], [f"session {index}: {type(exc).__name__}: {exc}"]


def run_load(clients: int = 20, reruns: int = 5, jobs: int = 3, cap: int = 2, deadline: float = 600.0,
             store_dir: str | None = None, job: dict | None = None) -> dict:
    """Run the load test and return its figures (see the module docstring)."""
    import numpy as np

    from superconv.jobs import JobManager

    home = Path(store_dir or tempfile.mkdtemp(prefix="superconv-load-"))
    os.environ["SUPERCONV_HOME"] = str(home)
    manager = JobManager(home / "runs.sqlite", max_concurrent=cap)
    max_running, polls, stop = [0], [0], threading.Event()

    def poll() -> None:
        while not stop.is_set():
            running = int((manager.store.list_runs()["status"] == "running").sum())
            max_running[0] = max(max_running[0], running)
            polls[0] += 1
            time.sleep(0.05)

    started = time.perf_counter()
    times: list[float] = []
    errors: list[str] = []
    times_first: list[float] = []
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        ids = [manager.submit({**(job or JOB), "seed": i}, name=f"load {i}") for i in range(jobs)]
        with concurrent.futures.ProcessPoolExecutor(max_workers=clients) as pool:
            futures = [pool.submit(_session, i, reruns) for i in range(clients)]
            done, pending = concurrent.futures.wait(futures, timeout=max(1.0, deadline - (time.perf_counter() - started)))
            for f in done:
                first, local, problems = f.result()
                times_first += [first] if first is not None else []
                times += local
                errors += problems
            if pending:
                errors.append(f"{len(pending)} session(s) still running at the deadline")
                for f in pending:
                    f.cancel()
        sessions_done = time.perf_counter() - started
        statuses = [manager.wait(i, timeout=max(1.0, deadline - (time.perf_counter() - started))) for i in ids]
    finally:
        stop.set()
        poller.join(timeout=5)
        manager.shutdown()
    errors += [f"job {i} ended {s}" for i, s in zip(ids, statuses) if s != "finished"]
    arr = np.array(times) if times else np.array([np.nan])
    return {
        "clients": clients, "reruns_per_client": reruns, "jobs": jobs, "cap": cap,
        "reruns_timed": len(times), "errors": errors, "job_statuses": statuses,
        "max_running_seen": max_running[0], "store_polls": polls[0],
        "rerun_p50_s": float(np.percentile(arr, 50)), "rerun_p95_s": float(np.percentile(arr, 95)),
        "first_run_p50_s": float(np.percentile(times_first, 50)) if times_first else None,
        "sessions_wall_s": round(sessions_done, 1), "total_wall_s": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--reruns", type=int, default=5)
    p.add_argument("--jobs", type=int, default=3)
    p.add_argument("--cap", type=int, default=2)
    p.add_argument("--deadline", type=float, default=600.0, help="seconds before the test gives up")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "missing ScriptRunContext" from session threads
    res = run_load(args.clients, args.reruns, args.jobs, args.cap, args.deadline)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"{res['clients']} sessions x {res['reruns_per_client']} reruns of the designer while {res['jobs']} "
              f"jobs train (cap {res['cap']}) on {res['machine']}")
        print(f"  rerun p50 {res['rerun_p50_s'] * 1000:.0f} ms, p95 {res['rerun_p95_s'] * 1000:.0f} ms "
              f"({res['reruns_timed']} reruns); first run p50 {res['first_run_p50_s']:.2f} s")
        print(f"  max running jobs seen {res['max_running_seen']} (cap {res['cap']}, {res['store_polls']} store polls); "
              f"jobs {res['job_statuses']}; sessions done in {res['sessions_wall_s']} s, all in {res['total_wall_s']} s")
        print(f"  errors: {len(res['errors'])}" + "".join(f"\n    {e}" for e in res["errors"][:10]))
    return 1 if res["errors"] or res["max_running_seen"] > res["cap"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
