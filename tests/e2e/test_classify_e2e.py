"""The Classify page in a real browser: upload a generated picture and a broken file,
then hand the picture to the Layers page."""

import io

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script

UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'


@pytest.fixture(scope="module")
def classify_url(start_app, tiny_model_path):
    """An app whose model list holds the tiny test model (the project may ship none)."""
    return start_app(CIFAR_MODELS_DIR=tiny_model_path.parent).url + "/classify"


def gradient_png():
    """A 120 x 80 picture that is no dataset image: colour gradients."""
    rows, columns = np.mgrid[0:80, 0:120]
    pixels = np.stack([columns * 2, rows * 3, 255 - columns * 2], axis=-1)  # (80, 120, 3)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_shows_ten_probabilities_then_opens_in_layers(classify_url, page):
    page.goto(f"{classify_url}?k=10")
    page.wait_for_selector(UPLOAD_INPUT, state="attached")
    page.set_input_files(UPLOAD_INPUT, [
        {"name": "gradient.png", "mimeType": "image/png", "buffer": gradient_png()},
        {"name": "broken.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff not really"},
    ])
    page.wait_for_selector(".js-plotly-plot")
    wait_for_script(page)

    bars = page.evaluate("document.querySelector('.js-plotly-plot').data[0]")
    assert len(bars["y"]) == 10
    assert sum(bars["x"]) == pytest.approx(1.0, abs=1e-3)
    expect(page.get_by_text("broken.jpg: ")).to_be_visible()
    expect(page.get_by_text(
        "From your picture to what the model sees: gradient.png")).to_be_visible()
    expect(page.get_by_text("Your picture, 120 x 80")).to_be_visible()

    # The upload travels to the Layers page through session state (no URL holds the bytes).
    page.get_by_role("button", name="Open this image in the Layers page").click()
    page.wait_for_url("**/layers**")
    page.get_by_text("gradient.png").first.wait_for()
    wait_for_script(page)
