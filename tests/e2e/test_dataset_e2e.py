"""The Dataset page in a real browser on the real dataset: filter to one class; select an
image in the grid by mouse and by keyboard."""

import re

from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script

#: The grid (cifar_core/ui/tile_grid.py) and its tiles, inside the component's shadow root:
#: Playwright's CSS selectors pierce it.
GRID = '[role="group"][aria-label^="Grid of CIFAR-10 images"]'
TILES = f"{GRID} button"


def tile_captions(page):
    return page.locator(TILES).all_inner_texts()


def open_dataset(page, url):
    """Open the Dataset page at ``url`` and wait until it has settled: the grid drawn, then
    the rerun that brings the charts below it done."""
    page.goto(url)
    page.wait_for_selector(TILES)
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(4)
    wait_for_script(page)


def test_filter_to_one_class_shows_only_that_class(app_url, page):
    open_dataset(page, f"{app_url}/dataset")
    expect(page.locator('[data-testid="stSidebarNav"]').get_by_text("Dataset")).to_be_visible()

    page.get_by_label("Classes (none = all)").click()
    page.keyboard.type("frog")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_text("5,000 train images match").wait_for()
    wait_for_script(page)

    tiles = tile_captions(page)
    assert len(tiles) == 64 and all(tile.startswith("frog #") for tile in tiles), tiles
    assert re.search(r"classes=6(&|$)", page.url)

    # The link reproduces the view in a fresh tab.
    other = page.context.new_page()
    open_dataset(other, page.url)
    assert tile_captions(other) == tiles


#: Run in the page before Streamlit: notes the time when every tile's picture of the grid
#: has loaded, looking on every animation frame.
NOTE_WHEN_GRID_DRAWN = """(() => {
  const drawn = () => [...document.querySelectorAll("*")].some(host => {
    const images = [...(host.shadowRoot?.querySelectorAll(".tile-grid img") ?? [])];
    return images.length > 0 && images.every(image => image.complete && image.naturalWidth > 0);
  });
  const look = () => drawn() ? (window.gridDrawnAt = performance.now())
                             : requestAnimationFrame(look);
  requestAnimationFrame(look);
})();"""


def test_grid_pictures_are_drawn_before_the_browser_fetches_plotly(app_url, page):
    """The grid is not a Plotly chart, and the charts below it (whose Plotly.js takes the
    browser up to a second to load) come only once its pictures are painted; then they do."""
    page.add_init_script(NOTE_WHEN_GRID_DRAWN)
    page.goto(f"{app_url}/dataset?split=test&grid=4")
    expect(page.locator('[data-testid="stPlotlyChart"]')).to_have_count(4)
    expect(page.locator('[data-testid="stCode"]')).to_have_count(1)
    drawn, plotly_fetched = page.evaluate("""() => [window.gridDrawnAt,
        performance.getEntriesByType("resource")
            .find(entry => entry.name.includes("/PlotlyChart.")).startTime]""")
    assert drawn is not None and drawn < plotly_fetched, (drawn, plotly_fetched)


def test_clicking_a_tile_opens_its_detail_view(app_url, page):
    open_dataset(page, f"{app_url}/dataset?split=test&grid=4")
    tiles = page.locator(TILES)
    expect(tiles).to_have_count(16)
    expect(tiles.nth(0)).to_have_attribute("aria-current", "true")  # the first is chosen
    tiles.nth(6).click()  # row 2, column 3
    page.wait_for_url(re.compile(r"index=6(&|$)"))
    wait_for_script(page)
    expect(page.get_by_text("#6: ").first).to_be_visible()  # the zoomed image's caption
    expect(tiles.nth(6)).to_have_attribute("aria-current", "true")
    expect(tiles.nth(0)).not_to_have_attribute("aria-current", "true")


def test_a_tile_is_chosen_with_the_keyboard(app_url, page):
    open_dataset(page, f"{app_url}/dataset?split=test&grid=4")
    tiles = page.locator(TILES)
    expect(tiles).to_have_count(16)
    tile = page.get_by_role("button", name=re.compile(r"^\w+ #9$"))  # named by its caption
    tile.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"index=9(&|$)"))
    wait_for_script(page)
    expect(page.get_by_text("#9: ").first).to_be_visible()
    expect(tiles.nth(9)).to_have_attribute("aria-current", "true")
    expect(tiles.nth(9)).to_be_focused()  # the rerun keeps the focus where it was
    outline = tiles.nth(9).evaluate("tile => getComputedStyle(tile).outlineStyle")
    assert outline == "solid"  # the focus ring shows

    page.keyboard.press("Tab")  # the next tile
    expect(tiles.nth(10)).to_be_focused()
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"index=10(&|$)"))
    expect(page.get_by_text("#10: ").first).to_be_visible()
    expect(tiles.nth(10)).to_have_attribute("aria-current", "true")
