"""Accessibility in a real browser: axe-core finds no critical or serious WCAG violation on
any page, and the main flows work with the keyboard alone.

axe-core comes from npm (``.ci/run`` installs it; ``AXE_CORE_PATH`` points elsewhere): the
tests skip where it is missing, never download it. An untrained tiny model and one short
finished run stand in for trained ones, so every page has something to show.
"""

import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.e2e.browser import AXE_CORE, axe_violations, tab_to, wait_for_script

#: Each page with the URL that opens it and a text that shows it has finished drawing.
PAGES = {
    "home": ("", "The way through"),
    "models": ("models?model=tiny", "Take it with you"),
    "dataset": ("dataset?index=3", "Images per class"),
    "layers": ("layers?model=tiny&split=test&index=7", "Trained versus untrained"),
    "train": ("train", "Run history"),
    "leaderboard": ("leaderboard", "Pin or delete a run"),
    "classify": ("classify", "What the model thinks, and where it looked"),
    "evaluate": ("evaluate", "The worst mistakes over the whole test set"),
}


@pytest.fixture(scope="module")
def app(start_app, tmp_path_factory):
    """An app with the tiny model and one finished run of it."""
    if not AXE_CORE.exists():
        pytest.skip(f"axe-core not found at {AXE_CORE} (npm install axe-core, see .ci/run)")
    from cifar_core import data
    from cifar_core.models import architectures, saving
    from cifar_core.training import recording, train_config

    models = tmp_path_factory.mktemp("a11y-models")
    model = architectures.build_model("tiny", seed=1)
    path = saving.save_model(model, models / "tiny.keras")
    saving.write_model_card(path, architecture="tiny", recipe="untrained", epochs=0,
                            test_accuracy=None, parameters=model.count_params())
    runs = tmp_path_factory.mktemp("a11y-runs")
    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, (80, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(80) % 10
    tiny = data.Cifar10(images[:64], labels[:64], images[64:], labels[64:], source="test")
    config = train_config.TrainConfig(model="tiny", epochs=1, batch_size=32, validation_size=16)
    recording.train_run(config, tiny, runs_directory=runs)
    return start_app(CIFAR_MODELS_DIR=models, CIFAR_RUNS_DIR=runs).url


def png_bytes():
    """A small picture to upload: a blue-to-red gradient."""
    picture = np.zeros((40, 60, 3), np.uint8)
    picture[..., 0] = np.linspace(0, 255, 60, dtype=np.uint8)
    picture[..., 2] = 255 - picture[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def open_page(page, app, name):
    link, ready = PAGES[name]
    page.goto(f"{app}/{link}")
    if name == "classify":
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": "gradient.png", "mimeType": "image/png", "buffer": png_bytes()})
    page.get_by_text(ready).first.wait_for(timeout=240_000)
    wait_for_script(page)


@pytest.mark.parametrize("name", list(PAGES))
def test_no_critical_or_serious_violations(app, page, name):
    open_page(page, app, name)
    violations = axe_violations(page)
    assert not violations, "\n".join(f"{rule}: {text}: {nodes}" for rule, text, nodes in violations)


def test_every_picture_has_alternative_text_saying_what_it_shows(app, page):
    open_page(page, app, "layers")
    pictures = page.locator('[data-testid="stImageContainer"] img')
    pictures.nth(7).wait_for()  # overview, maps, filters, patch, trained and untrained x 2
    alts = pictures.evaluate_all("images => images.map(image => image.getAttribute('alt'))")
    assert len(alts) == 8 and all(alts), alts
    assert "Mosaic of the 16 feature maps of conv1 for test #7" in " ".join(alts)


def test_choose_an_image_and_a_layer_by_keyboard(app, page):
    open_page(page, app, "layers")
    tab_to(page, "the image index", "e => (e.getAttribute('aria-label') || '').startsWith('Index')")
    page.keyboard.press("Control+A")
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"^test #12: \w+\. Each tile shows"))).to_be_visible()
    wait_for_script(page)

    tab_to(page, "the conv layer", "e => e.getAttribute('role') === 'combobox' && "
           "e.closest('[data-testid=\"stSelectbox\"]')?.innerText.includes('Conv layer')")
    page.keyboard.press("ArrowDown")  # opens the list
    page.keyboard.press("ArrowDown")  # conv2
    page.keyboard.press("Enter")
    expect(page.get_by_text("All 32 feature maps of conv2")).to_be_visible()
    wait_for_script(page)

    tab_to(page, "the filter number", "e => (e.getAttribute('aria-label') || '')"
           ".startsWith('Filter')")
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"^Filter 5 of conv2"))).to_be_visible()
    assert re.search(r"[?&]index=12(&|$)", page.url) and "layer=conv2" in page.url


def test_upload_a_file_by_keyboard(app, page):
    page.goto(f"{app}/classify")
    wait_for_script(page)
    page.wait_for_timeout(1500)  # a page still settling can swap the button under the focus
    for attempt in range(3):  # Enter on a button replaced by a late rerun opens nothing
        tab_to(page, "the upload button", "e => e.tagName === 'BUTTON' && "
               "e.closest('[data-testid=\"stFileUploader\"]') !== null")
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Enter")
            break
        except PlaywrightTimeout:
            assert attempt < 2, "Enter on the focused upload button never opened a file chooser"
    chooser.value.set_files({"name": "gradient.png", "mimeType": "image/png",
                             "buffer": png_bytes()})
    page.get_by_text("What the model thinks, and where it looked").wait_for(timeout=120_000)
    expect(page.get_by_text("From your picture to what the model sees: gradient.png")) \
        .to_be_visible()


def test_start_and_stop_a_run_by_keyboard(app, page):
    page.goto(f"{app}/train?preset=demo")
    # The first visit may load the dataset in the background and rerun when it is in: wait
    # for the form itself before tabbing, or the rerun takes the focus back to the top.
    page.get_by_label("Epochs", exact=True).wait_for(timeout=120_000)
    wait_for_script(page)
    tab_to(page, "the Epochs field", "e => (e.getAttribute('aria-label') || '')"
           ".startsWith('Epochs')")
    page.keyboard.press("Control+A")
    page.keyboard.type("30")  # long enough that Stop, not the end, finishes it
    # Tab on to the form's button (Enter in a form field would submit the form at once).
    tab_to(page, "the Start button", "e => e.tagName === 'BUTTON' && "
           "e.innerText.includes('Start training')")
    page.keyboard.press("Enter")
    page.get_by_text("images/s").wait_for(timeout=180_000)
    tab_to(page, "the Stop button", "e => e.tagName === 'BUTTON' && "
           "e.innerText.includes('Stop (keeps')")
    page.keyboard.press("Enter")
    page.get_by_text("Run stopped").wait_for(timeout=180_000)
    expect(page.get_by_text(re.compile(r"^Epoch \d+ of 30 "))).to_be_visible()  # typed epochs
