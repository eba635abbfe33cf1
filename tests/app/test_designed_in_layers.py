"""A network designed on the Train page, trained for a few batches, opened in Layers.

The run is trained on tiny random data into the test's $CIFAR_RUNS_DIR, so the model
chooser lists it as ``run <id>``; the page itself shows it on the real dataset (skips
where that is absent).
"""

import numpy as np
from streamlit.testing.v1 import AppTest

from cifar_core import data
from cifar_core.models import catalog
from cifar_core.storage import PROJECT_ROOT

TIMEOUT = 120
SMALL = {"name": "small", "blocks": [
    {"type": "convolution", "filters": 6, "kernel_size": 5, "stride": 1, "padding": "valid"},
    {"type": "max_pooling"}, {"type": "convolution", "filters": 8, "stride": 2},
    {"type": "batch_norm"}, {"type": "global_pooling", "mode": "max"}]}
DENSE_ONLY = {"name": "dense-only", "blocks": [{"type": "flatten"},
                                               {"type": "dense", "units": 8}]}


def train_design(definition):
    """A finished run of ``definition``: two batches of 20 random images; its catalogue key."""
    from cifar_core.training import recording, train_config

    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, size=(60, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(60, dtype=np.int64) % 10
    tiny = data.Cifar10(images[:40], labels[:40], images[40:], labels[40:], source="tiny")
    config = train_config.preset("demo", model="designed", design=definition, epochs=1,
                                 batch_size=20, train_size=None, validation_size=0)
    run, _ = recording.train_run(config, tiny)
    [entry] = [entry for entry in catalog.run_models() if entry.key == run.path.name]
    return entry


def open_layers(model_key):
    app = AppTest.from_file(str(PROJECT_ROOT / "pages" / "layers.py"), default_timeout=TIMEOUT)
    app.query_params.update(model=model_key, split="test", index="3")
    return app.run()


def captions(app):
    return " ".join(image.caption for element in app.get("image") for image in element.proto.imgs)


def test_a_designed_run_opens_in_layers(real_cifar_path):
    entry = train_design(SMALL)
    assert entry.architecture == "designed"
    app = open_layers(entry.key)
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]
    assert app.selectbox(key="layer").options == ["conv1", "conv2"]
    assert "feature maps of conv1" in captions(app)
    assert "test #3: " in captions(app)
    app.selectbox(key="layer").set_value("conv2").run()
    assert not app.exception and "feature maps of conv2" in captions(app)
    shape = next(metric.value for metric in app.metric if metric.label == "Output shape")
    assert "7" in shape and "8" in shape  # (32 - 5 + 1) = 28 -> pool 14 -> stride 2: 7 x 7 x 8


def test_a_designed_run_without_convolutions_says_so_in_layers(real_cifar_path):
    entry = train_design(DENSE_ONLY)
    app = open_layers(entry.key)
    assert not app.exception, app.exception
    assert any("nothing convolutional to show" in info.value for info in app.info)
