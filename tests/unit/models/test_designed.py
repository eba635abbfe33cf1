"""Designed networks in Keras: the plain-Python table equals the model, the contract layout."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import architectures, design, design_templates, designed, saving

MIXED = {"blocks": [
    {"type": "convolution", "filters": 6, "kernel_size": 5, "stride": 2, "padding": "valid",
     "activation": "gelu"},
    {"type": "batch_norm"},
    {"type": "convolution", "filters": 4, "stride": 3, "activation": "tanh"},
    {"type": "average_pooling", "pool_size": 2},
    {"type": "dropout", "rate": 0.3},
    {"type": "flatten"},
    {"type": "batch_norm"},
    {"type": "dense", "units": 7, "activation": "linear"}]}
NO_CONVOLUTION = {"name": "dense-only", "blocks": [
    {"type": "flatten"}, {"type": "dense", "units": 16}, {"type": "dropout", "rate": 0.1}]}
GLOBAL_MAX = {"blocks": [{"type": "convolution", "filters": 5, "kernel_size": 1},
                         {"type": "max_pooling", "pool_size": 3},
                         {"type": "global_pooling", "mode": "max"}]}
DESIGNS = {**{name: design_templates.template(name)
              for name in design_templates.TEMPLATE_NAMES},
           "mixed": MIXED, "no-convolution": NO_CONVOLUTION, "global-max": GLOBAL_MAX}


def summary_numbers(model):
    """What ``model.summary()`` prints per layer: name -> (output shape, parameters)."""
    return {layer.name: (tuple(layer.output.shape[1:]), layer.count_params())
            for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_plain_python_table_equals_keras_summary(name):
    rows = design.layer_table(DESIGNS[name])
    model = designed.build_designed(DESIGNS[name], seed=0)
    assert summary_numbers(model) == {row.name: (row.output_shape, row.parameters)
                                      for row in rows}
    assert [layer.name for layer in model.layers[1:]] == [row.name for row in rows]
    trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    assert trainable == sum(row.trainable for row in rows)
    assert model.count_params() == sum(row.parameters for row in rows)


@pytest.mark.parametrize("name, builder", [("seed", architectures.build_seed),
                                           ("tiny", architectures.build_tiny)])
def test_templates_match_our_architectures_layer_for_layer(name, builder):
    ours = [(tuple(layer.output.shape[1:]), layer.count_params())
            for layer in builder().layers if layer.count_params() or "pool" in layer.name]
    template = designed.build_designed(design_templates.template(name))
    theirs = [(tuple(layer.output.shape[1:]), layer.count_params())
              for layer in template.layers if layer.count_params() or "pool" in layer.name]
    assert ours == theirs


def test_the_model_has_the_contract_layout():
    model = designed.build_designed(DESIGNS["mixed"], precision="mixed_bfloat16", seed=1)
    assert model.name == design.DESIGNED and saving.layout_problem(model) is None
    assert model.input.dtype == "float32" and tuple(model.input_shape) == (None, 32, 32, 3)
    assert isinstance(model.get_layer("rescaling"), keras.layers.Rescaling)
    assert isinstance(model.layers[-1], keras.layers.Activation)
    assert model.layers[-1].name == "probabilities"
    assert model.layers[-1].dtype_policy.name == "float32"
    assert model.get_layer("conv1").compute_dtype == "bfloat16"
    probabilities = model(np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)))
    np.testing.assert_allclose(np.sum(probabilities, axis=1), 1, rtol=1e-5)


def test_seed_fixes_the_initial_weights():
    first = designed.build_designed(GLOBAL_MAX, seed=3).get_weights()
    second = designed.build_designed(GLOBAL_MAX, seed=3).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_an_impossible_design_or_precision_is_a_value_error():
    with pytest.raises(ValueError, match="block 2"):
        designed.build_designed({"blocks": [{"type": "flatten"}, {"type": "max_pooling"}]})
    with pytest.raises(ValueError, match="precision 'float16'"):
        designed.build_designed(GLOBAL_MAX, precision="float16")


def test_saved_in_float32_and_loaded_by_saving(tmp_path):
    model = designed.build_designed(DESIGNS["mixed"], precision="mixed_bfloat16", seed=2)
    path = saving.save_model(model, tmp_path / "designed.keras")
    loaded = saving.load_model(path)
    assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"}
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    images = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded(images), model(images), atol=2e-2)
    assert architectures.conv_layer_names(loaded) == ["conv1", "conv2"]
