"""The Evaluate page in a real browser: evaluate once, click the matrix, follow an image to Layers.

An untrained tiny model stands in for a shipped one, so the walk does not depend on which
trained models exist; its evaluation over the 10,000 test images runs in the background.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script

CELL_SENTENCE = re.compile(r"test images of \w+ (taken for|recognised as) \w+")


@pytest.fixture(scope="module")
def evaluate_url(start_app, tmp_path_factory):
    from cifar_core.models import architectures, saving

    directory = tmp_path_factory.mktemp("e2e-evaluate-models")
    model = architectures.build_model("tiny", seed=1)
    path = saving.save_model(model, directory / "tiny.keras")
    saving.write_model_card(path, architecture="tiny", recipe="untrained", epochs=0,
                            test_accuracy=None, parameters=model.count_params())
    return start_app(CIFAR_MODELS_DIR=directory).url + "/evaluate"


def click_cell(page, true_class, predicted_class):
    """Click the centre of one cell of the 10 x 10 confusion matrix."""
    plot_area = page.locator(".js-plotly-plot .nsewdrag").first
    plot_area.scroll_into_view_if_needed()
    box = plot_area.bounding_box()
    page.mouse.click(box["x"] + (predicted_class + 0.5) / 10 * box["width"],
                     box["y"] + (true_class + 0.5) / 10 * box["height"])


def test_matrix_click_and_a_gallery_link_to_layers(evaluate_url, page):
    page.goto(f"{evaluate_url}?true=3&predicted=5")
    page.get_by_text("The worst mistakes over the whole test set").wait_for(timeout=240_000)
    wait_for_script(page)
    expect(page.get_by_text("Test accuracy")).to_be_visible()
    assert page.get_by_text(CELL_SENTENCE).first.inner_text().endswith(
        "of cat taken for dog, the most confident first.")

    # Clicking a cell of the matrix chooses it: selectors, sentence and URL follow.
    click_cell(page, 1, 9)
    page.get_by_text(re.compile("of automobile taken for truck")).wait_for()
    wait_for_script(page)
    assert re.search(r"[?&]true=1(&|$)", page.url) and re.search(r"[?&]predicted=9(&|$)", page.url)

    # Every gallery image links to the Layers page for that test image and this model.
    link = page.locator('[data-testid="stImage"] a').first
    href = link.get_attribute("href")
    match = re.fullmatch(r"layers\?model=tiny&split=test&index=(\d+)", href)
    assert match, href
    with page.context.expect_page() as opened:  # the link opens a new tab
        link.click()
    layers = opened.value
    layers.get_by_text("The image flowing through the network").wait_for(timeout=120_000)
    wait_for_script(layers)
    expect(layers.get_by_text(re.compile(rf"^test #{match.group(1)}: \w+\."))).to_be_visible()
