"""Lesson links into models of any shape: convolution-like layers read from config.json."""

import pytest

from cifar_core.teaching import model_files
from tests.unit.inspect import any_models


@pytest.mark.parametrize("name", ["mobile", "dilated", "standardised", "residual"])
def test_conv_layers_and_output_sizes_match_the_model(tmp_path, name):
    from cifar_core.models import architectures, saving

    model = any_models.BUILDERS[name](seed=0)
    path = saving.save_model(model, tmp_path / f"{name}.keras")
    layers = model_files.conv_layers(path)
    assert [layer.name for layer in layers] == architectures.conv_layer_names(model)
    first = layers[0]
    assert model_files.output_size(first) == model.get_layer(first.name).output.shape[1]


def test_a_dilated_valid_convolution_spans_its_dilated_kernel():
    layer = model_files.LayerInfo("conv2d", "Conv2D", 4, (3, 3), (1, 1), "valid", (2, 2))
    assert model_files.output_size(layer) == 28  # 32 - 5 + 1
    depthwise = model_files.LayerInfo("depthwise_conv2d", "DepthwiseConv2D", None, (3, 3),
                                      (2, 2), "same")
    assert depthwise.is_conv and model_files.output_size(depthwise) == 16
