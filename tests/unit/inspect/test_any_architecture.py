"""Layers, Classify and Evaluate's core on models of any shape (tests/unit/inspect/any_models).

Convolutions are found by type; the convolution by hand matches the model for strided,
dilated, 'valid', depthwise and separable first layers; receptive fields follow the graph
(the widest residual path); Grad-CAM follows a residual block to its activated output; the
untrained copy is a re-initialised clone; a model without convolutions still predicts.
"""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.inspect import (
    activations,
    convolution,
    feature_visualisation,
    inference,
    kernels,
    receptive_fields,
    top_activations,
)
from cifar_core.models import architectures, saving, untrained
from tests.unit.inspect import any_models

CLASS_NAMES = [f"class {number}" for number in range(10)]


@pytest.fixture(scope="module")
def models():
    return {name: build(seed=3) for name, build in any_models.BUILDERS.items()}


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 256, (32, 32, 3)).astype(np.uint8)


def test_convolutions_are_found_by_type_whatever_their_names(models):
    kinds = {name: [type(models[name].get_layer(layer)).__name__
                    for layer in architectures.conv_layer_names(models[name])]
             for name in models}
    assert kinds["sequential"] == ["Conv2D", "Conv2D"]
    assert kinds["mobile"] == ["DepthwiseConv2D", "SeparableConv2D"]
    assert kinds["residual"].count("Conv2D") == 5  # the strided 1x1 shortcut included
    assert kinds["perceptron"] == []
    assert "conv1" not in architectures.conv_layer_names(models["sequential"])


@pytest.mark.parametrize("name", any_models.WITH_CONVOLUTIONS)
def test_convolution_by_hand_matches_the_model_at_corners_and_centre(models, image, name):
    model = models[name]
    first = convolution.first_convolution(model)
    rows, columns, filters = model.get_layer(first).output.shape[1:]
    for row, column in ((0, 0), (rows - 1, columns - 1), (rows // 2, columns // 3)):
        for filter_index in range(filters):
            step = convolution.explain(model, image, row, column, filter_index)
            assert step.layer == first
            assert step.matches, (name, row, column, filter_index, step.difference)


def test_convolution_step_knows_the_layer_settings(models, image):
    dilated = convolution.explain(models["dilated"], image, 0, 0, 1)
    assert (dilated.dilation, dilated.span, dilated.activation_name) == (2, 5, "linear")
    assert not dilated.inside[0].any() and dilated.inside[1:, 1:].all()  # 'same' pads 2
    strided = convolution.explain(models["standardised"], image, 14, 14, 0)
    assert (strided.stride, strided.top, strided.activation_name) == (2, 28, "gelu")
    assert strided.inside.all()  # 'valid': never over the border
    depthwise = convolution.explain(models["mobile"], image, 5, 5, 3)  # channel 1, copy 1
    assert depthwise.kind == "depthwise"
    assert np.abs(depthwise.kernel[:, :, [0, 2]]).max() == 0
    assert "Depthwise" in depthwise.arithmetic()
    separable = convolution.explain(models["separable"], image, 5, 5, 2)
    assert separable.kind == "separable" and separable.activation_name == "relu"


def test_patch_picture_outlines_a_dilated_span_with_its_padding(models, image):
    step = convolution.explain(models["dilated"], image, 31, 31, 0)
    picture, padding = convolution.patch_picture(image, step, scale=2)
    assert padding == 2
    assert picture.shape == ((32 + 2 * padding) * 2, (32 + 2 * padding) * 2, 3)


def test_explain_without_convolution_says_so(models, image):
    assert convolution.first_convolution(models["perceptron"]) is None
    with pytest.raises(ValueError, match="not a conv layer"):
        convolution.explain(models["perceptron"], image, 0, 0, 0)


def test_separable_filter_kernel_is_depthwise_mixed_by_pointwise(models):
    model = models["separable"]
    name = convolution.first_convolution(model)
    weights = kernels.layer_weights(model, name)
    kernel, _ = kernels.filter_kernel(model, name, 4)
    depthwise, pointwise = weights["depthwise"], weights["pointwise"]  # (3,3,3,2), (6, 6)
    expected = sum(depthwise[:, :, 1, copy] * pointwise[1 * 2 + copy, 4] for copy in range(2))
    np.testing.assert_allclose(kernel[:, :, 1], expected, rtol=1e-6)
    with pytest.raises(ValueError, match="filter must be an integer in 0..5"):
        kernels.filter_kernel(model, name, 6)


def test_filter_pictures_fit_each_kind(models):
    model = models["mobile"]
    depthwise, separable = architectures.conv_layer_names(model)
    (only,) = kernels.filters_pictures(model, depthwise, 3)
    assert "depthwise" in only[1] and "input channel 1" in only[1]
    steps = kernels.filters_pictures(model, separable, 7)
    assert [caption.split(" of ")[0] for _, caption, _ in steps] == ["Step 1", "Step 2"]
    assert "12 depthwise maps (rows) into 8 filters" in steps[1][1]
    sequential = models["sequential"]
    (rgb,) = kernels.filters_pictures(sequential, architectures.conv_layer_names(sequential)[0], 0)
    assert "RGB patches" in rgb[1]
    with pytest.raises(ValueError, match="not a convolution"):
        kernels.filters_pictures(sequential, "rescaling", 0)


def test_receptive_fields_follow_the_graph_and_take_the_widest_path(models):
    residual = models["residual"]
    names = architectures.conv_layer_names(residual)
    fields = receptive_fields.receptive_fields(residual)
    # stem 3x3 /2: 3, jump 2; branch 3x3: 7; block 2's 3x3 /2: 11, jump 4; then 3x3: 19.
    assert [fields[name] for name in names] == [(3, 2), (7, 2), (11, 4), (7, 4), (19, 4)]
    add_layers = [layer.name for layer in residual.layers
                  if isinstance(layer, keras.layers.Add)]
    assert fields[add_layers[-1]] == (19, 4)  # not the 1x1 shortcut's 7
    dilated = receptive_fields.receptive_fields(models["dilated"])
    assert [dilated[name] for name in architectures.conv_layer_names(models["dilated"])] == [
        (5, 1), (7, 2)]


def test_activated_output_follows_residual_blocks(models):
    residual = models["residual"]
    stem, branch, strided, shortcut, last = architectures.conv_layer_names(residual)
    layer_type = {layer.name: type(layer).__name__ for layer in residual.layers}
    assert layer_type[inference.activated_output(residual, stem)] == "ReLU"
    assert inference.activated_output(residual, branch) != branch  # BN, Add, ReLU after it
    assert layer_type[inference.activated_output(residual, last)] == "Activation"
    assert inference.activated_output(residual, shortcut) == \
        inference.activated_output(residual, last)
    assert inference.activated_output(residual, strided) == strided  # feeds one conv only
    assert [layer_type[name] for name in inference.activation_chain(residual, branch)] == [
        "Conv2D", "BatchNormalization", "Add", "ReLU"]


@pytest.mark.parametrize("name", ["residual", "mobile", "standardised"])
def test_grad_cam_on_every_convolution(models, image, name):
    model = models[name]
    for layer in architectures.conv_layer_names(model):
        heat = inference.grad_cam(model, image, 3, layer)
        assert heat.shape == (32, 32) and 0 <= heat.min() and heat.max() <= 1
    saliency = inference.saliency(model, image, 3)
    assert saliency.shape == (32, 32) and saliency.max() == pytest.approx(1.0)


def test_untrained_copy_is_a_reinitialised_clone(models, image):
    model = any_models.standardised_dilated(seed=5)
    copy = untrained.untrained_copy(model, seed=0)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    conv = architectures.conv_layer_names(model)[0]
    assert not np.allclose(copy.get_layer(conv).kernel.numpy(),
                           model.get_layer(conv).kernel.numpy())
    scaled = [keras.Model(network.input, network.get_layer("rescaling").output)(image[None])
              for network in (model, copy)]
    np.testing.assert_array_equal(*scaled)  # the input scaling is data, not learnt
    again = untrained.untrained_copy(model, seed=0)
    np.testing.assert_array_equal(again.get_layer(conv).kernel.numpy(),
                                  copy.get_layer(conv).kernel.numpy())
    with pytest.raises(ValueError, match="expected a Keras model"):
        untrained.untrained_copy("seed")


@pytest.mark.parametrize("name", ["residual", "mobile"])
def test_top_activations_on_any_model(models, name):
    model = models[name]
    images = np.random.default_rng(1).integers(0, 256, (12, 32, 32, 3)).astype(np.uint8)
    peaks = top_activations.peak_activations(model, images)
    assert set(peaks) == set(activations.stage_layer_names(model))
    for layer in architectures.conv_layer_names(model):
        picture = top_activations.top_images_picture(model, layer, peaks[layer], 1, images,
                                                     np.zeros(12, int), CLASS_NAMES, count=4)
        assert picture.ndim == 3 and picture.dtype == np.uint8


def test_feature_visualisation_scores_depthwise_and_separable(models):
    model = models["mobile"]
    images = np.random.default_rng(2).integers(0, 256, (2, 32, 32, 3)).astype(np.float32)
    for layer in architectures.conv_layer_names(model):
        filters = model.get_layer(layer).output.shape[-1]
        plain = feature_visualisation.filter_scores(model, layer)(images)
        climbing = feature_visualisation.filter_scores(model, layer, for_climbing=True)(images)
        assert plain.shape == climbing.shape == (2, filters)


def test_model_without_convolution_still_predicts_and_has_a_layer_table(models, image):
    model = models["perceptron"]
    assert activations.stage_layer_names(model) == []
    outputs = activations.extractor(model)(image)
    assert set(outputs) == {"probabilities"}
    strip, shown = activations.overview_strip(image, outputs, [])
    assert shown == [] and strip.ndim == 3
    assert list(activations.layer_table(model)["type"])[-1] == "Dense"
    probabilities = inference.predict(model, image)
    assert probabilities.shape == (1, 10)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="no convolution layer"):
        feature_visualisation.conv_layers(model)


def test_untrained_copy_keeps_an_adapted_normalization():
    images = keras.Input((32, 32, 3))
    normalization = keras.layers.Normalization(name="rescaling")
    normalization.adapt(np.random.default_rng(3).uniform(0, 255, (64, 32, 32, 3)))
    x = keras.layers.Conv2D(2, 3)(normalization(images))
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(images, keras.layers.Dense(10, activation="softmax",
                                                   name="probabilities")(x))
    copy = untrained.untrained_copy(model)
    assert [layer.name for layer in copy.layers[1:]] == [layer.name for layer in model.layers[1:]]
    for original, fresh in zip(model.get_layer("rescaling").get_weights(),
                               copy.get_layer("rescaling").get_weights()):
        np.testing.assert_array_equal(original, fresh)


def test_a_stopped_top_activation_pass_writes_nothing_and_can_start_again(tmp_path):
    model = any_models.residual(seed=2)
    path = saving.save_model(model, tmp_path / "residual.keras")
    images = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3)).astype(np.uint8)
    task = top_activations.peak_task(model, path, images)
    task.start()
    task.stop()  # before the first batch's report: tracing alone takes far longer
    task.join(60)
    assert task.snapshot().state == "stopped"
    assert not top_activations.cache_path(path, images).exists()
    task.start()  # "Start again"
    task.join(60)
    assert task.snapshot().state == "finished"
    assert set(task.result) == set(activations.stage_layer_names(model))
    assert top_activations.cache_path(path, images).exists()


@pytest.mark.parametrize("name", ["mobile", "residual"])
def test_feature_visualisation_climbs_any_convolution(models, name):
    model = models[name]
    settings = feature_visualisation.Settings(steps=3)
    for layer in architectures.conv_layer_names(model)[-2:]:
        climb = feature_visualisation.filter_scores(model, layer, for_climbing=True)
        pictures_made = feature_visualisation.synthesise(climb, [0, 1], settings)
        assert pictures_made.shape == (2, 32, 32, 3) and pictures_made.dtype == np.uint8


# --- imported files, wrapped into the layout (layers shared with the user's own graph) ----

@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """{zoo kind: the imported model as pages get it}, through ``importing`` and ``wrap``."""
    from cifar_core.models import importing
    from tests.unit.models import zoo

    directory = tmp_path_factory.mktemp("imported-models")
    return {kind: importing.load_imported(zoo.import_into(directory, kind).path)
            for kind in zoo.KINDS}


def test_wrapped_layers_are_read_in_the_wrapper_graph(imported):
    from cifar_core.models import layer_graph

    model = imported["nested_block"]
    conv = architectures.conv_layer_names(model)[0]
    assert len(model.get_layer(conv)._inbound_nodes) >= 2  # the user's graphs and the wrapper's
    with pytest.raises(ValueError, match="not connected"):
        keras.Model(model.input, model.get_layer(conv).output)  # what layer.output would do
    sub_model = keras.Model(model.input, layer_graph.output_of(model, conv))
    assert sub_model.output.shape[1:] == model.get_layer(conv).output.shape[1:]


def test_every_imported_kind_through_the_layers_core(imported, image):
    for kind, model in imported.items():
        outputs = activations.extractor(model)(image)
        assert outputs["probabilities"].sum() == pytest.approx(1.0, abs=1e-5)
        first = convolution.first_convolution(model)
        if kind == "dense_only":
            assert first is None and len(activations.layer_table(model)) >= 3
            continue
        rows, columns, filters = outputs[first].shape[1:]
        for row, column in ((0, 0), (rows - 1, columns - 1)):
            step = convolution.explain(model, image, row, column, filters - 1)
            assert step.matches, (kind, row, column, step.difference)
        fields = receptive_fields.receptive_fields(model)
        for layer in architectures.conv_layer_names(model):
            assert fields[layer][0] >= 1
            assert inference.grad_cam(model, image, 0, layer).shape == (32, 32)
            assert kernels.filters_pictures(model, layer, 0)
        copy = untrained.untrained_copy(model)
        assert activations.extractor(copy)(image)[first].shape == outputs[first].shape
        assert inference.saliency(model, image, 0).shape == (32, 32)
