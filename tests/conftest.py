"""Shared test set-up: quiet TensorFlow, isolate the data directory and the run store."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PYTHONHASHSEED", "0")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own SUPERCONV_HOME (run store, caches) so nothing leaks between tests."""
    home = tmp_path_factory.mktemp("superconv_home")
    monkeypatch.setenv("SUPERCONV_HOME", str(home))
    monkeypatch.delenv("SUPERCONV_STORE", raising=False)
