"""The embedding map in a real browser: hover a dot, click it, follow it to the Layers page.

An untrained tiny model stands in for a shipped one (its evaluation and PCA map of the
10,000 test images take seconds in the background). The dot clicked is the map's
rightmost one, which no other dot hides; whichever image the click selects, the test
follows that image to the Layers page and checks the page shows it.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script

#: Finds the embedding map's Plotly chart, scrolls it to the middle of the window and
#: returns the viewport position of its rightmost dot (null until the map is drawn).
RIGHTMOST_DOT = """() => {
    const chart = [...document.querySelectorAll('.js-plotly-plot')].find(
        element => String(element.layout?.title?.text || '').includes("features"));
    if (!chart || !chart._fullLayout?.xaxis?.l2p) return null;
    const layout = chart._fullLayout;
    let best = null;
    for (const trace of chart._fullData) {
        if (!trace.type.startsWith('scatter') || !trace.x) continue;
        for (let i = 0; i < trace.x.length; i++) {
            if (!best || trace.x[i] > best.x) best = {x: trace.x[i], y: trace.y[i]};
        }
    }
    if (!best) return null;
    chart.scrollIntoView({block: 'center'});
    const box = chart.getBoundingClientRect();
    return {left: box.left + layout.xaxis._offset + layout.xaxis.l2p(best.x),
            top: box.top + layout.yaxis._offset + layout.yaxis.l2p(best.y)};
}"""


@pytest.fixture(scope="module")
def evaluate_url(start_app, tmp_path_factory):
    from cifar_core.models import architectures, saving

    directory = tmp_path_factory.mktemp("e2e-embedding-models")
    model = architectures.build_model("tiny", seed=2)
    path = saving.save_model(model, directory / "tiny.keras")
    saving.write_model_card(path, architecture="tiny", recipe="untrained", epochs=0,
                            test_accuracy=None, parameters=model.count_params())
    return start_app(CIFAR_MODELS_DIR=directory).url + "/evaluate"


def rightmost_dot(page):
    """Viewport coordinates of the map's rightmost dot, once the map is drawn."""
    page.wait_for_function(RIGHTMOST_DOT, timeout=240_000)
    dot = page.evaluate(RIGHTMOST_DOT)
    assert 0 < dot["top"] < page.viewport_size["height"], dot
    return dot


def test_a_click_on_the_map_leads_to_that_image_in_layers(evaluate_url, page):
    page.goto(f"{evaluate_url}?projection=pca&colour_by=true")
    page.get_by_role("heading", name="Where the test images live").wait_for(timeout=240_000)
    page.get_by_text("Click a dot to see its image here.").wait_for(timeout=240_000)
    wait_for_script(page)
    dot = rightmost_dot(page)

    # Hovering names the image, its classes and the confidence.
    page.mouse.move(dot["left"], dot["top"])
    expect(page.locator(".hoverlayer .hovertext").first).to_contain_text(re.compile(r"test #\d+"))

    # A click shows the image below the map with its link to Layers.
    page.mouse.click(dot["left"], dot["top"])
    link = page.get_by_role("link", name=re.compile(r"Open test image #\d+ in Layers"))
    link.wait_for(timeout=60_000)
    wait_for_script(page)
    index = re.search(r"#(\d+)", link.inner_text()).group(1)
    expect(page.get_by_text(f"Test image #{index}").first).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(rf"^Test image {index}: a \w+"))).to_be_visible()

    link.click()  # the page link switches page in the same tab
    page.get_by_text("The image flowing through the network").wait_for(timeout=120_000)
    wait_for_script(page)
    assert re.search(rf"[?&]index={index}(&|$)", page.url) and "model=tiny" in page.url, page.url
    expect(page.get_by_text(re.compile(rf"^test #{index}: \w+\."))).to_be_visible()
