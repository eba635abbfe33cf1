"""The Models page in a real browser: upload a student's Keras file, then open it in Layers.

The upload goes through Streamlit's own uploader (Playwright's ``set_input_files``), the
import runs in the background with its progress bar, and the new model is at once in the
catalogue and in the Layers page's chooser.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script


@pytest.fixture(scope="module")
def models_url(start_app, tmp_path_factory):
    from cifar_core.models import architectures, saving

    directory = tmp_path_factory.mktemp("e2e-models")
    model = architectures.build_model("tiny", seed=1)
    path = saving.save_model(model, directory / "tiny.keras")
    saving.write_model_card(path, architecture="tiny", recipe="untrained", epochs=0,
                            test_accuracy=None, parameters=model.count_params())
    return start_app(CIFAR_MODELS_DIR=directory).url + "/models"


@pytest.fixture(scope="module")
def student_file(tmp_path_factory):
    """The seed notebook's way, in small: a Sequential with default names, fed X / 255."""
    from cifar_core.backend import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPooling2D(), keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    path = tmp_path_factory.mktemp("e2e-upload") / "notebook_cnn.keras"
    model.save(path)
    return path.read_bytes()


def test_upload_a_model_and_open_it_in_layers(models_url, student_file, page):
    page.goto(models_url)
    page.get_by_text("Bring your own model", exact=True).wait_for()
    wait_for_script(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": "notebook_cnn.keras", "mimeType": "application/octet-stream",
         "buffer": student_file})
    page.get_by_text("notebook_cnn.keras").first.wait_for()
    wait_for_script(page)
    page.get_by_role("button", name="Import").click()
    page.get_by_text(re.compile(r"Imported notebook_cnn")).wait_for(timeout=240_000)
    wait_for_script(page)

    # The new model's card, then the link into Layers.
    page.goto(f"{models_url}?model=notebook_cnn")
    page.get_by_text("Its input scaling", exact=True).wait_for(timeout=120_000)
    wait_for_script(page)
    expect(page.get_by_text("imported from a file")).to_be_visible()
    page.get_by_role("link", name="Open notebook_cnn in Layers").click()
    # A busy 2-core machine: the first Layers view of a new model builds its extractors.
    page.get_by_text("The image flowing through the network").wait_for(timeout=240_000)
    wait_for_script(page)
    assert re.search(r"/layers\?(.*&)?model=notebook_cnn(&|$)", page.url)
    expect(page.get_by_text("One layer in detail")).to_be_visible()


def test_a_bad_file_gets_one_message(models_url, page):
    page.goto(models_url)
    page.get_by_text("Bring your own model", exact=True).wait_for()
    wait_for_script(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": "junk.h5", "mimeType": "application/octet-stream", "buffer": b"\x00" * 512})
    page.get_by_text("junk.h5").first.wait_for()
    wait_for_script(page)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text(re.compile(r"^Not imported\. junk\.h5: "))).to_be_visible()
