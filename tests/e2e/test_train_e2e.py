"""The Train page in a real browser on the real dataset: a quick run, live curve, refresh, Stop."""

import re
import time

from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script

#: Number of points Plotly drew in the live chart's first trace (training loss).
CURVE_POINTS = """() => {
    const plot = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
    return plot && plot.calcdata && plot.calcdata[0] ? plot.calcdata[0].length : 0;
}"""


def curve_points(page):
    return page.evaluate(CURVE_POINTS)


def wait_until(condition, seconds=180):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the page never got there"
        time.sleep(0.5)


def test_quick_run_grows_its_curve_survives_a_refresh_and_stops(app_url, page):
    page.goto(f"{app_url}/train?preset=demo")
    wait_for_script(page)
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("30")  # long enough that Stop, not the end, finishes it
    page.get_by_role("button", name="Start training").click()

    page.get_by_text("images/s").wait_for(timeout=180_000)
    page.wait_for_url(re.compile(r"job=\w+"))
    wait_until(lambda: curve_points(page) > 0)
    first = curve_points(page)
    wait_until(lambda: curve_points(page) > first)  # the fragment redraws as it learns

    # A refresh is a new session: the link re-attaches it and it takes the job over.
    page.reload()
    stop = page.get_by_role("button", name=re.compile(r"^Stop \(keeps"))  # not the toolbar's Stop
    stop.wait_for(timeout=60_000)
    run_name = page.locator("code").filter(has_text=re.compile(r"^\d{8}-\d{6}-tiny-")).first
    name = run_name.inner_text()
    stop.click()

    page.get_by_text("Run stopped").wait_for(timeout=180_000)
    wait_for_script(page)
    expect(page.get_by_role("heading", name=f"Run {name}")).to_be_visible()
    expect(page.get_by_text("tensorboard --logdir").first).to_be_visible()
    expect(page.get_by_text("Filters of conv1 after epoch")).to_be_visible()
