"""The Dataset page in a real browser on the real dataset: filter to one class."""

import re

from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script

GRID = '[role="figure"][aria-label^="Grid of CIFAR-10 images"]'


def test_filter_to_one_class_shows_only_that_class(app_url, page):
    page.goto(f"{app_url}/dataset")
    page.wait_for_selector(GRID)
    expect(page.locator('[data-testid="stSidebarNav"]').get_by_text("Dataset")).to_be_visible()

    page.get_by_label("Classes (none = all)").click()
    page.keyboard.type("frog")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_text("5,000 train images match").wait_for()
    wait_for_script(page)

    alt = page.locator(GRID).get_attribute("aria-label")
    tiles = alt.removeprefix("Grid of CIFAR-10 images: ").split(", ")
    assert len(tiles) == 64 and all(tile.startswith("frog #") for tile in tiles)
    assert re.search(r"classes=6(&|$)", page.url)

    # The link reproduces the view in a fresh tab.
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_selector(GRID)
    assert other.locator(GRID).get_attribute("aria-label") == alt


def test_clicking_a_tile_opens_its_detail_view(app_url, page):
    page.goto(f"{app_url}/dataset?split=test&grid=4")
    grid = page.locator('[data-testid="stPlotlyChart"]').first
    grid.locator(".js-plotly-plot").wait_for()
    wait_for_script(page)
    box = grid.locator(".js-plotly-plot").bounding_box()
    # Tiles are 96 px images plus a 16 px caption, 4 px apart: click row 2, column 3.
    page.mouse.move(box["x"] + 2 * 100 + 48, box["y"] + 116 + 48)
    page.mouse.click(box["x"] + 2 * 100 + 48, box["y"] + 116 + 48)
    page.wait_for_url(re.compile(r"index=6(&|$)"))
    wait_for_script(page)
    expect(page.get_by_text("#6: ").first).to_be_visible()  # the zoomed image's caption
