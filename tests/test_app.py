"""The dashboard frame: navigation over PAGES, the device sidebar, and the server config."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from superconv.device import probe_device

ROOT = Path(__file__).resolve().parents[1]


def listed_pages() -> list[tuple[str, str, str]]:
    tree = ast.parse((ROOT / "app.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "PAGES":
            return ast.literal_eval(node.value)
    raise AssertionError("app.py has no PAGES list")


def test_app_is_frame_only_with_wide_layout():
    source = (ROOT / "app.py").read_text()
    assert 'layout="wide"' in source and "st.navigation(" in source
    assert "tensorflow" not in source and "keras" not in source


def test_sidebar_shows_the_compute_device():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    captions = [c.value for c in at.sidebar.caption]
    assert probe_device().summary() in captions


@pytest.mark.parametrize("page", listed_pages(), ids=lambda p: p[0])
def test_every_page_exists_and_explains_itself(page):
    path, _title, _icon = page
    assert (ROOT / path).is_file()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value.strip(), f"{path} has no st.title"
    texts = [e.value for e in [*at.markdown, *at.caption] if isinstance(e.value, str)]
    assert any(len(t) >= 150 for t in texts), f"{path} needs a paragraph a student can follow"


def test_streamlit_config_is_locked_down():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] <= 50
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["headless"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "minimal"
    assert config["global"]["developmentMode"] is False
