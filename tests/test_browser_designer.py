"""The Schedule Designer in a real Chromium against `streamlit run app.py`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from browser_support import browser_page, chromium, streamlit_server, wait_until_idle  # noqa: F401 - pytest fixtures

from superconv.designer_state import DesignerSettings

pytestmark = pytest.mark.browser

CHART_DATA = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  return gd._fullData.slice(0, 2).map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y)}));
}"""


def wait_for_chart(page) -> None:
    page.wait_for_function("() => { const gd = document.querySelector('.js-plotly-plot');"
                           " return gd && gd._fullData && gd._fullData.length >= 2; }")


def chart_data(page) -> list[dict]:
    return page.evaluate(CHART_DATA)


def test_moving_the_peak_lr_slider_redraws_the_chart(browser_page, streamlit_server, tmp_path):
    page = browser_page
    settings = DesignerSettings(epochs=2, num_samples=1000, batch_size=50)  # 40 steps
    query = "&".join(f"{k}={v}" for k, v in settings.to_query_params().items())
    page.goto(f"{streamlit_server}/?{query}")
    wait_for_chart(page)
    wait_until_idle(page)
    before = chart_data(page)
    assert [t["name"] for t in before] == ["lr", "momentum"]
    steps = np.arange(40)
    np.testing.assert_allclose(before[0]["x"], steps)
    np.testing.assert_allclose(before[0]["y"], settings.schedule().lr(steps), rtol=1e-12)
    assert "Compute device" in page.inner_text("[data-testid=stSidebar]")

    slider = page.get_by_role("slider", name="Peak learning rate (max_lr, log scale)")
    slider.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # 0.1 -> 0.12 -> 0.15 -> 0.2 on the log grid
    page.wait_for_function(
        "() => { const gd = document.querySelector('.js-plotly-plot');"
        " return gd && gd._fullData && Math.max(...gd._fullData[0].y) > 0.15; }"
    )
    wait_until_idle(page)
    after = chart_data(page)
    assert after[0]["y"] != before[0]["y"]
    moved = DesignerSettings(max_lr=0.2, epochs=2, num_samples=1000, batch_size=50)
    np.testing.assert_allclose(after[0]["y"], moved.schedule().lr(steps), rtol=1e-12)
    assert "max_lr=0.2" in page.url  # the share link follows the controls
    page.set_viewport_size({"width": 1400, "height": 2400})  # Streamlit scrolls inside its own container
    wait_until_idle(page)
    assert page.get_by_role("slider", name="Peak learning rate (max_lr, log scale)").get_attribute("aria-valuetext") == "0.2"
    shot = tmp_path / "designer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(json.dumps({"screenshot": str(shot)}))


def test_a_shared_link_with_a_bad_value_shows_the_error(browser_page, streamlit_server):
    page = browser_page
    page.goto(f"{streamlit_server}/?pct_start=1.3")
    page.get_by_text("pct_start must be in (0, 1); received pct_start=1.3").wait_for()
    wait_for_chart(page)  # the designer still works, from the defaults
    assert "Traceback" not in page.inner_text("body")


def test_the_lr_finder_hand_off_leaves_the_designer_settings_in_the_address(browser_page, tmp_path):
    from browser_support import start_streamlit, stop, wait_healthy
    from test_page_lr_finder import _stored_curve

    from superconv.lr_finder import aggregate_curves, job_configs, result_from_rows
    from superconv.store import RunStore

    store = RunStore(tmp_path / "runs.sqlite")  # the server's store: $SUPERCONV_HOME/runs.sqlite
    (config,) = job_configs(seeds=[0], num_iter=100)
    run_id = _stored_curve(store, config, 100, "finished", group="lrfind-browser")
    rows = store.batch_metrics(run_id)
    curve = result_from_rows(store.get_run(run_id)["config"], rows["lr"], rows["loss"])
    minimum_10 = next(s for s in aggregate_curves([curve]).suggestions() if s.rule == "minimum/10")
    server, url = start_streamlit(tmp_path, log_path=tmp_path / "streamlit.log")
    try:
        wait_healthy(url, server)
        page = browser_page
        page.goto(f"{url}/?max_lr=0.3&epochs=5&num_samples=1797&batch_size=64")
        wait_for_chart(page)
        page.get_by_role("link", name="LR Finder").click()
        use = page.get_by_role("button", name="Use as max_lr in the Schedule Designer")
        use.wait_for(timeout=60_000)
        use.click()
        page.wait_for_url("**/?max_lr=*", timeout=30_000)  # the designer's address, not the LR finder's
        wait_for_chart(page)
        params = dict(p.split("=") for p in page.url.split("?", 1)[1].split("&"))
        assert float(params["max_lr"]) == float(f"{minimum_10.lr:.3g}")  # the preselected pick, as shown
        assert (params["epochs"], params["num_samples"], params["batch_size"]) == ("5", "1797", "64")  # kept
    finally:
        stop(server)
