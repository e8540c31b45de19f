"""Schedule Designer speed: server time of a rerun with a 1M-step schedule, and the app's cold start.

Run from the repository root::

    python benchmarks/designer.py

Prints, measured in this run:

* the page's own work for a 1,000,000-step schedule (settings -> schedule -> decimated figure ->
  JSON), next to the naive way (evaluate every step, plot every point) as a ratio;
* the server-side time of a full AppTest rerun of the designer after moving the max_lr slider with a
  1M-step budget (median of several reruns);
* the cold start of ``streamlit run app.py``: seconds until ``/_stcore/health`` answers, and until a
  first page render (first AppTest run in a fresh process, i.e. the imports and the first script run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from browser_support import start_streamlit, stop, wait_healthy  # noqa: E402

MILLION = {"epochs": "100", "num_samples": "1280000", "batch_size": "128"}


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def page_work() -> tuple[float, float]:
    import numpy as np
    import plotly.graph_objects as go

    from superconv.designer_state import settings_from_query_params
    from superconv.plots import schedule_figure

    settings = settings_from_query_params(MILLION)
    assert settings.total_steps == 1_000_000

    def decimated() -> None:
        fig = schedule_figure(settings.schedule(), steps_per_epoch=settings.steps_per_epoch)
        fig.to_json()

    def naive() -> None:
        steps, lr, mom = settings.schedule().curves()
        fig = go.Figure([go.Scatter(x=steps, y=lr), go.Scatter(x=steps, y=mom)])
        fig.to_json()
        np.asarray(lr).sum()

    return best_of(decimated), best_of(naive, repeat=2)


def apptest_rerun() -> float:
    code = f"""
import json, statistics, time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=120)
for k, v in {MILLION!r}.items():
    at.query_params[k] = v
at.run()
times = []
for value in [0.2, 0.3, 0.5, 0.3, 0.2, 0.1, 0.2]:
    t = time.perf_counter()
    at.select_slider(key="designer_w_max_lr").set_value(value).run()
    times.append(time.perf_counter() - t)
    assert not at.exception
print(json.dumps(statistics.median(times)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_render() -> float:
    code = f"""
import time
t = time.perf_counter()
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=120).run()
assert not at.exception and at.get("plotly_chart")
print(time.perf_counter() - t)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_start() -> float:
    with tempfile.TemporaryDirectory() as home:
        t = time.perf_counter()
        proc, url = start_streamlit(Path(home))
        try:
            wait_healthy(url, proc)
            return time.perf_counter() - t
        finally:
            stop(proc)


def main() -> None:
    # No options: --help says what it measures rather than starting the benchmark (and a server).
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    fast, naive = page_work()
    print(f"1,000,000-step schedule, page work (schedule + decimated figure + JSON): {fast * 1e3:.1f} ms; "
          f"every point plotted: {naive * 1e3:.0f} ms; ratio {naive / fast:.0f}x")
    print(f"AppTest rerun after moving max_lr, 1M-step budget (server side, median of 7): "
          f"{apptest_rerun() * 1e3:.0f} ms")
    print(f"cold start, `streamlit run app.py` to /_stcore/health ok: {cold_start():.2f} s")
    print(f"first render in a fresh process (imports + first script run of app.py, AppTest): {first_render():.2f} s")


if __name__ == "__main__":
    main()
