"""A designed network as a training config: validated without Keras, trained, recorded."""

import dataclasses
import json
import threading

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import catalog, design, design_templates, saving
from cifar_core.training import recipes, recording, runs, train_config

CONVOLUTIONAL = {"name": "small", "blocks": [
    {"type": "convolution", "filters": 4, "stride": 2},
    {"type": "batch_norm"}, {"type": "global_pooling"}]}
NO_CONVOLUTION = {"name": "dense-only", "blocks": [{"type": "flatten"},
                                                   {"type": "dense", "units": 8}]}


def designed_config(definition, **fields):
    return train_config.preset("demo", model="designed", design=definition, epochs=1,
                               batch_size=20, train_size=None, validation_size=20, **fields)


def test_config_validates_its_design_and_stores_it_normalised():
    config = designed_config(CONVOLUTIONAL)
    assert config.design == design.validate(CONVOLUTIONAL)
    assert config.design["blocks"][0]["kernel_size"] == 3  # defaults filled in
    assert train_config.TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert hash(config) == hash(designed_config(CONVOLUTIONAL))  # hashable despite the dict


@pytest.mark.parametrize("fields, words", [
    ({"model": "designed"}, "TrainConfig.design: a designed model needs its design"),
    ({"model": "tiny", "design": CONVOLUTIONAL}, "only a 'designed' model has a design"),
    ({"model": "designed", "design": {"blocks": [{"type": "dense", "units": 4}]}},
     "TrainConfig.design: block 1 (dense 4, relu): the features are still 32 x 32 x 3 maps"),
    ({"model": "designed", "design": "seed"}, "a design must be a JSON object"),
    ({"model": "vgg"}, "TrainConfig.model = 'vgg'"),
])
def test_bad_designs_are_value_errors_naming_the_field(fields, words):
    with pytest.raises(ValueError) as error:
        train_config.TrainConfig(**fields)
    assert words in str(error.value)


def test_the_form_trains_the_design_only_when_there_is_one():
    fields = recipes.form_values("demo") | {"model": "designed"}
    config, errors = recipes.config_from_form("demo", fields, design=CONVOLUTIONAL)
    assert errors == {} and config.model == "designed" and config.design["name"] == "small"
    assert recipes.recipe_of(config.to_dict()) == "demo (changed)"
    assert recipes.config_from_form("demo", fields) == (
        None, {"model": "design a possible network first (Design a network)"})
    impossible = {"blocks": [{"type": "flatten"}, {"type": "max_pooling"}]}
    config, errors = recipes.config_from_form("demo", fields, design=impossible)
    assert config is None and errors["model"].startswith("block 2 (max pooling 2x2)")
    tiny = recipes.form_values("demo")  # another model ignores the design
    assert recipes.config_from_form("demo", tiny, design=CONVOLUTIONAL)[0].design is None


@pytest.mark.parametrize("definition, filters", [(CONVOLUTIONAL, True), (NO_CONVOLUTION, False)])
def test_a_designed_run_trains_saves_and_is_listed(definition, filters, tiny_data, tmp_path):
    config = designed_config(definition)
    run, result = recording.train_run(config, tiny_data, runs_directory=tmp_path)
    record = runs.read_run(run.path)
    assert record.state == "finished"
    assert record.config["design"] == design.validate(definition)  # rebuildable from config.json
    assert len(record.history()) == 1
    # The first convolution's filters each epoch, found by type; none without a convolution.
    assert record.filter_epochs() == ([0, 1] if filters else [])
    loaded = saving.load_model(record.model_path)
    assert saving.layout_problem(loaded) is None and loaded.name == "designed"
    images = tiny_data.x_test[:5].astype("float32")
    np.testing.assert_allclose(loaded(images), result.model(images), atol=1e-5)
    [entry] = catalog.run_models(tmp_path)
    assert entry.architecture == "designed" and entry.path == record.model_path


def test_a_stopped_designed_run_keeps_its_model_and_is_listed_as_stopped(tiny_data, tmp_path):
    stop = threading.Event()

    class StopAfterTwoBatches(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                stop.set()

    config = dataclasses.replace(designed_config(CONVOLUTIONAL), epochs=3)
    run, _ = recording.train_run(config, tiny_data, runs_directory=tmp_path, stop_event=stop,
                                 callbacks=[StopAfterTwoBatches()])
    record = runs.read_run(run.path)
    assert record.state == "stopped" and len(record.history()) == 1  # ended in epoch 1
    assert saving.layout_problem(saving.load_model(record.model_path)) is None
    [entry] = catalog.run_models(tmp_path)
    assert "stopped early" in entry.label


def test_first_conv_kernel_is_found_by_type():
    from cifar_core.models import designed

    model = designed.build_designed(CONVOLUTIONAL)
    kernel = recording.first_conv_kernel(model)
    assert kernel.shape == (3, 3, 3, 4) and kernel.dtype == np.float32
    assert recording.first_conv_kernel(designed.build_designed(NO_CONVOLUTION)) is None


def test_seed_template_config_validates():
    config = train_config.preset("seed-fast", model="designed",
                                 design=design_templates.template("seed"))
    assert config.design["name"] == "seed" and len(config.design["blocks"]) == 18
