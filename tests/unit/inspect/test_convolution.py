"""The hand-computed convolution equals the model's own output, borders included."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.inspect import convolution
from cifar_core.models import architectures

layers = keras.layers


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(1).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)


def odd_model(stride, padding, kernel_size, dilation=1):
    """A named mock on (9, 9, 3) whose conv1 has the given geometry, then a second conv."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((9, 9, 3))
    x = layers.Rescaling(1 / 255, name="rescaling")(inputs)
    x = layers.Conv2D(5, kernel_size, strides=stride, padding=padding, dilation_rate=dilation,
                      activation="relu", bias_initializer="random_normal", name="conv1")(x)
    x = layers.Conv2D(3, 3, padding="same", activation="gelu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"odd_{stride}_{padding}_{kernel_size}_{dilation}")


CORNERS_AND_MIDDLE = [(0, 0), (0, 31), (31, 0), (31, 31), (15, 16), (1, 30)]


@pytest.mark.parametrize("row, column", CORNERS_AND_MIDDLE)
@pytest.mark.parametrize("filter_index", [0, 7, 15])
def test_conv1_step_matches_the_model(tiny_model, image, row, column, filter_index):
    step = convolution.explain(tiny_model, image, row, column, filter_index)
    assert step.matches, (step.activation, step.model_value)
    assert step.patch.shape == step.kernel.shape == step.products.shape == (3, 3, 3)
    assert step.activation_name == "relu"
    assert step.activation == max(step.pre_activation, 0.0)
    assert step.pre_activation == pytest.approx(step.products.sum() + step.bias)
    assert (step.top, step.left) == (row - 1, column - 1)  # 'same' pads one pixel each side


def test_the_patch_is_the_rescaled_image_with_zero_padding(tiny_model, image):
    step = convolution.explain(tiny_model, image, 0, 5, 0)
    assert not step.inside[0].any() and step.inside[1:].all()
    assert (step.patch[0] == 0).all()
    np.testing.assert_allclose(step.patch[1:], image[0:2, 4:7] / 255, rtol=1e-6)
    assert 0 <= step.patch.min() and step.patch.max() <= 1


def test_deeper_conv_layer_matches(tiny_model, image):
    for row, column in [(0, 0), (15, 15), (7, 3)]:
        step = convolution.explain(tiny_model, image, row, column, 20, layer="conv2")
        assert step.patch.shape == (3, 3, 16) and step.matches


@pytest.mark.parametrize("stride, padding, kernel_size, dilation", [
    (2, "same", 3, 1), (2, "same", 2, 1), (1, "same", 2, 1), (1, "valid", 2, 1),
    (2, "valid", 3, 1), (1, "same", 3, 2), (3, "same", 4, 1),
])
def test_strides_paddings_and_dilations(stride, padding, kernel_size, dilation):
    model = odd_model(stride, padding, kernel_size, dilation)
    image = np.random.default_rng(2).integers(0, 256, size=(9, 9, 3), dtype=np.uint8)
    size = model.get_layer("conv1").output.shape[1]
    for row in {0, size // 2, size - 1}:
        for column in {0, size - 1}:
            for layer in ("conv1", "conv2"):
                step = convolution.explain(model, image, row, column, 2, layer=layer)
                assert step.matches, (stride, padding, kernel_size, row, column, layer)


def test_fast_model_conv1_is_a_linear_2x2_valid_convolution(image):
    model = architectures.build_model("fast", seed=0)
    step = convolution.explain(model, image, 30, 30, 5)
    assert step.patch.shape == (2, 2, 3) and step.activation_name == "linear"
    assert (step.top, step.left) == (30, 30) and step.inside.all() and step.matches


@pytest.mark.parametrize("arguments, message", [
    ((32, 0, 0), "row must be an integer in 0..31"),
    ((0, -1, 0), "column must be an integer in 0..31"),
    ((0, 0, 16), "filter must be an integer in 0..15"),
    ((0.5, 0, 0), "row must be an integer"),
])
def test_bad_positions_raise_value_error(tiny_model, image, arguments, message):
    with pytest.raises(ValueError, match=message):
        convolution.explain(tiny_model, image, *arguments)


def test_only_conv_layers_can_be_explained(tiny_model, image):
    with pytest.raises(ValueError, match="'pool1' is not a conv layer"):
        convolution.explain(tiny_model, image, 0, 0, 0, layer="pool1")


def test_the_figure_shows_every_number_and_marks_padding(tiny_model, image):
    from cifar_core.display import plots

    step = convolution.explain(tiny_model, image, 0, 0, 3)
    figure = plots.convolution_figure(step.patch, step.kernel, step.products, inside=step.inside)
    assert len(figure.data) == 3  # patch, kernel, products: one heat map each
    assert [note.text for note in figure.layout.annotations][:3] == [
        "input patch (0-1): red", "input patch (0-1): green", "input patch (0-1): blue"]
    patch_text = np.asarray(figure.data[0].text)
    assert (patch_text == "pad").sum() == 5 * 3  # top row and left column, three channels
    assert f"{step.kernel[1, 1, 0]:.3f}" in np.asarray(figure.data[1].text)


def test_patch_picture_frames_the_padding_and_outlines_the_patch(tiny_model, image):
    corner = convolution.explain(tiny_model, image, 0, 0, 0)
    picture, padding = convolution.patch_picture(image, corner, scale=4)
    assert padding == 1 and picture.shape == (34 * 4, 34 * 4, 3)
    assert (picture[0, 0] == (255, 220, 0)).all()  # the outline starts in the black frame
    middle = convolution.explain(tiny_model, image, 10, 20, 0)
    picture, padding = convolution.patch_picture(image, middle, scale=4)
    assert padding == 0 and picture.shape == (128, 128, 3)
    assert (picture[9 * 4, 19 * 4] == (255, 220, 0)).all()


def test_arithmetic_sentence(tiny_model, image):
    step = convolution.explain(tiny_model, image, 5, 5, 1)
    sentence = step.arithmetic()
    assert sentence.startswith("Sum of the 27 products = ")
    assert f"relu({step.pre_activation:.6f}) = **{step.activation:.6f}**" in sentence
