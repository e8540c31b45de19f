"""The class demo in a real Chromium against `streamlit run app.py`: a live race, page switch, screenshot.

The page takes ``?preset=tiny&epochs=N`` (documented in views/demo.py) so the race lasts seconds.
"""

from __future__ import annotations

import math

import pytest
from browser_support import browser_page, chromium, streamlit_server  # noqa: F401 - pytest fixtures

from superconv.data import load_dataset
from superconv.demo import PRESETS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EPOCHS = 40

# Length of a named trace in any Plotly chart of the page (-1 when no chart has it yet).
TRACE_LEN = """(name) => {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    for (const t of (gd.data || [])) { if (t.name === name) return Array.from(t.y).length; }
  }
  return -1;
}"""
RACE_Y = """(name) => {
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const title = gd.layout && gd.layout.title && gd.layout.title.text;
    if (!title || !title.includes('Validation accuracy per epoch')) continue;  // Streamlit wraps it in <b>
    for (const t of (gd.data || [])) { if (t.name === name) return Array.from(t.y); }
  }
  return null;
}"""


def test_demo_race_grows_live_and_survives_a_page_switch(browser_page, streamlit_server, tmp_path):
    page = browser_page
    preset = PRESETS["tiny"]
    total_steps = EPOCHS * math.ceil(load_dataset("digits").num_train / preset.batch_size)
    page.goto(f"{streamlit_server}/demo?preset=tiny&epochs={EPOCHS}")  # the first request to this server
    page.get_by_role("button", name="Start the race").click()

    # the 1cycle loss trace fills in while the workers train: record the lengths the browser sees
    lengths: list[int] = []
    for _ in range(600):
        n = page.evaluate(TRACE_LEN, "1cycle loss (smoothed)")
        if n > 0 and (not lengths or n != lengths[-1]):
            lengths.append(n)
        if n == total_steps:
            break
        page.wait_for_timeout(200)
    assert lengths and lengths[-1] == total_steps, lengths
    assert len(lengths) >= 2 and lengths == sorted(lengths), f"no live growth seen: {lengths}"

    page.get_by_text("Results", exact=True).wait_for(timeout=60_000)
    race = page.evaluate(RACE_Y, "1cycle")
    assert race is not None and len(race) == EPOCHS and all(0 <= v <= 1 for v in race)
    page.get_by_role("button", name="Stop the race").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "demo_race.png"))

    # switch to Train & Compare: the race's runs are in the shared store
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Train & Compare").click()
    page.get_by_role("heading", name="Train & Compare").wait_for()
    page.get_by_text("1cycle · seed 0").first.wait_for()

    # and back: the same race, complete, without starting anything
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name="Class demo").click()
    page.get_by_role("heading", name="Super-convergence in one click").wait_for()
    page.get_by_text("Results", exact=True).wait_for()
    page.wait_for_function("(n) => { for (const gd of document.querySelectorAll('.js-plotly-plot'))"
                           " for (const t of (gd.data || [])) if (t.name === '1cycle loss (smoothed)')"
                           " return Array.from(t.y).length === n; return false; }", arg=total_steps)
    assert page.evaluate(RACE_Y, "1cycle") == pytest.approx(race)
    page.get_by_text("a smoke test of the race machinery").wait_for()  # the race's preset, not the default
    page.get_by_text("Results", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "demo_results.png"))
    print(f"screenshots in {tmp_path}; live lengths seen: {lengths}")
