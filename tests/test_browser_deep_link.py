"""Deep links open pages inside the app, even as the very first request to a fresh server.

Regression test: with the page scripts in a folder named ``pages/``, Streamlit's older folder-based
navigation served a first request to ``/demo`` by running that script alone (no page config, no
device sidebar, file names as page titles) until ``/`` had been loaded once.
"""

from __future__ import annotations

import numpy as np
import pytest
from browser_support import browser_page, chromium, start_streamlit, stop, wait_healthy, wait_until_idle  # noqa: F401

from superconv.designer_state import DesignerSettings

pytestmark = pytest.mark.browser

PEAK = """() => { const gd = document.querySelector('.js-plotly-plot');
  return gd && gd._fullData && gd._fullData.length ? Math.max(...gd._fullData[0].y) : null; }"""


def sidebar_links(page) -> list[str]:
    """The page titles in the sidebar navigation once the script run has finished (icons dropped)."""
    page.locator("[data-testid=stSidebarNav] a").first.wait_for()
    wait_until_idle(page)
    texts = page.locator("[data-testid=stSidebarNav] a").all_inner_texts()
    return [text.strip().split("\n")[-1] for text in texts]


def test_a_deep_link_as_the_first_request_gets_the_app_frame(browser_page, tmp_path):
    proc, url = start_streamlit(tmp_path / "home", log_path=tmp_path / "streamlit.log")
    try:
        wait_healthy(url, proc)
        page = browser_page
        outside = []  # an offline classroom: the app must not need anything but its own server
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(url) else None)
        page.goto(f"{url}/demo?preset=tiny")  # nothing has loaded `/` on this server
        assert sidebar_links(page) == ["Schedule Designer", "LR Finder", "Train & Compare", "Class demo"]
        icon = page.eval_on_selector("link[rel~=icon]", "e => e.href")
        assert icon.startswith(url) and page.request.get(icon).headers["content-type"] == "image/png"
        assert outside == []
        assert "Compute device" in page.inner_text("[data-testid=stSidebar]")
        page.get_by_role("heading", name="Super-convergence in one click").wait_for()
        assert "does not seem to exist" not in page.inner_text("body")

        # a second visitor opens a shared designer link (the designer is the landing page, at `/`)
        second = page.context.new_page()
        settings = DesignerSettings(max_lr=0.5, epochs=2, num_samples=1000, batch_size=50)  # 40 steps
        second.goto(f"{url}/?" + "&".join(f"{k}={v}" for k, v in settings.to_query_params().items()))
        assert sidebar_links(second) == ["Schedule Designer", "LR Finder", "Train & Compare", "Class demo"]
        second.wait_for_function(f"() => ({PEAK})() !== null")
        assert second.evaluate(PEAK) == pytest.approx(settings.schedule().lr(np.arange(40)).max()) == 0.5
        assert "does not seem to exist" not in second.inner_text("body")
    finally:
        stop(proc)
