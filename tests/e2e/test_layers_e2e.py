"""The Layers page in a real browser on the real dataset: link in, change views, link out.

Untrained copies of the tiny and seed architectures stand in for shipped models, so the
walk does not depend on which trained models exist.
"""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script


@pytest.fixture(scope="module")
def layers_url(start_app, tmp_path_factory):
    from cifar_core.models import architectures, saving

    directory = tmp_path_factory.mktemp("e2e-layers-models")
    for architecture in ("tiny", "seed"):
        model = architectures.build_model(architecture, seed=1)
        path = saving.save_model(model, directory / f"{architecture}.keras")
        saving.write_model_card(path, architecture=architecture, recipe="untrained", epochs=0,
                                test_accuracy=None, parameters=model.count_params())
    return start_app(CIFAR_MODELS_DIR=directory).url + "/layers"


def open_view(page, url):
    page.goto(url)
    page.get_by_text("The image flowing through the network").wait_for()
    wait_for_script(page)


def test_walk_the_layers_page(layers_url, page, tmp_path):
    open_view(page, f"{layers_url}?model=tiny&split=test&index=7&layer=conv2&filter=3")
    expect(page.get_by_text(re.compile(r"^test #7: \w+\. Each tile shows"))).to_be_visible()
    expect(page.get_by_text("All 32 feature maps of conv2")).to_be_visible()
    expect(page.get_by_text(
        "Filter 3 of conv2: one 3 x 3 slice per input channel (16)")).to_be_visible()

    # The convolution by hand, at the top-left corner where the padding shows.
    row = page.get_by_label("Row (0-31)")
    row.fill("0")
    row.press("Enter")
    page.get_by_text("The model's own activation at row 0, column 12, filter 0").wait_for()
    wait_for_script(page)
    assert re.search(r"[?&]row=0(&|$)", page.url)
    expect(page.get_by_text("black = zero padding")).to_be_visible()

    # Top-activating test images: computed once in the background, with a progress bar.
    page.get_by_role("button", name=re.compile("Find them")).click()
    page.get_by_text("Highest peak activation first").wait_for(timeout=180_000)
    expect(page.get_by_text("Test images that excite conv2 filter 3 most")).to_be_visible()

    # The URL reproduces the view in a fresh tab.
    other = page.context.new_page()
    open_view(other, page.url)
    expect(other.get_by_text(
        "The model's own activation at row 0, column 12, filter 0")).to_be_visible()
    expect(other.get_by_text("All 32 feature maps of conv2")).to_be_visible()

    # An uploaded photo goes through the same network.
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 160, 40)).save(buffer, format="PNG")
    page.get_by_role("radio", name="upload").click()
    page.locator('input[type="file"]').set_input_files(
        {"name": "green.png", "mimeType": "image/png", "buffer": buffer.getvalue()})
    page.get_by_text(re.compile(r"^green\.png \(shrunk to 32 x 32\)")).wait_for()
    wait_for_script(page)
    expect(page.get_by_text("The convolution, step by step (conv1)")).to_be_visible()
