"""Real-browser test support: a live ``streamlit run app.py`` server and a headless Chromium page.

Use from a test module (pytest finds fixtures imported into it)::

    from browser_support import browser_page, streamlit_server  # noqa: F401

    @pytest.mark.browser
    def test_something(browser_page, streamlit_server):
        browser_page.goto(streamlit_server + "/lr_finder")

``streamlit_server`` starts the app headless on a free port with ``SUPERCONV_HOME`` pointing at a
temporary directory (module scope: one server per test module) and yields its base URL.
``browser_page`` is a fresh Playwright page of Debian's Chromium (``/usr/bin/chromium``); tests are
skipped with the reason when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SUPERCONV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> float:
    """Poll ``url/_stcore/health`` until it answers ``ok``; return the seconds it took."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"streamlit at {url} was not healthy after {timeout:.0f} s")


def start_streamlit(home: Path, port: int | None = None, log_path: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` headless; return the process and its base URL (not yet waited for)."""
    port = port or free_port()
    env = {**os.environ, "SUPERCONV_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("SUPERCONV_STORE", None)
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen) -> None:
    """Terminate the server (kill it if it does not stop within 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def wait_until_idle(page) -> None:
    """Wait until the app's script run has finished (Streamlit's running indicator is gone)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    page.wait_for_timeout(300)


@pytest.fixture(scope="module")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a live dashboard started for this test module."""
    home = tmp_path_factory.mktemp("superconv_browser_home")
    log_path = home / "streamlit.log"
    proc, url = start_streamlit(home, log_path=log_path)
    try:
        try:
            wait_healthy(url, proc)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(f"{exc}; server log:\n{log_path.read_text(errors='replace')[-3000:]}")
        yield url
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """A headless Chromium (Debian's) driven by Playwright; skips when either is missing."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium) -> Iterator[object]:
    """A fresh page (1400x1000 viewport) in its own browser context."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()
