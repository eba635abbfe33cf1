"""Designed networks in plain Python: validation messages, shapes, parameters, JSON."""

import json

import pytest

from cifar_core.models import design, design_templates
from tests.fresh_python import run_and_list_frameworks


def definition(*blocks, **fields):
    return {"blocks": list(blocks), **fields}


def conv(filters=8, **settings):
    return {"type": "convolution", "filters": filters, **settings}


@pytest.mark.parametrize("blocks, message", [
    # The spatial size reaching zero, by pooling or by a valid convolution.
    ([{"type": "max_pooling", "pool_size": 4}] + [{"type": "max_pooling"}] * 4
     + [{"type": "global_pooling"}],
     "block 5 (max pooling 2x2): the image is already 1 x 1, too small for a 2 x 2 window"),
    ([conv(kernel_size=11, padding="valid")] * 4 + [{"type": "flatten"}],  # 32, 22, 12, 2
     "block 4 (convolution 8 11x11, stride 1, valid, relu): the image is only 2 x 2, "
     "smaller than the 11 x 11 kernel"),
    # Nothing left to classify: still feature maps at the end, or no blocks at all.
    ([conv()], "nothing to classify yet: the blocks end in 32 x 32 x 8 feature maps"),
    ([], "nothing to classify yet: the blocks end in 32 x 32 x 3 feature maps"),
    # Dense before flatten / global pooling; convolution or pooling after flattening.
    ([conv(), {"type": "dense", "units": 64}],
     "block 2 (dense 64, relu): the features are still 32 x 32 x 8 maps; add a flatten"),
    ([{"type": "flatten"}, conv()],
     "block 2 (convolution 8 3x3, stride 1, same, relu): needs feature maps, but the features "
     "are already flat after block 1"),
    ([{"type": "global_pooling", "mode": "max"}, {"type": "average_pooling"}],
     "block 2 (average pooling 2x2): needs feature maps, but the features are already flat "
     "after block 1"),
])
def test_impossible_stacks_are_named_by_block(blocks, message):
    analysis = design.analyse(definition(*blocks))
    assert analysis.problem.startswith(message)
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        design.layer_table(definition(*blocks))


def test_too_many_parameters_is_a_problem_not_a_crash():
    huge = definition(conv(1024), {"type": "flatten"}, {"type": "dense", "units": 8192})
    problem = design.analyse(huge).problem
    assert problem.startswith("the network has ") and "more than the 50,000,000" in problem


@pytest.mark.parametrize("bad, words", [
    (definition(conv(0)), "block 1 (convolution): filters = 0; must be a whole number from 1"),
    (definition(conv(2.5)), "filters = 2.5"),
    (definition(conv(True)), "filters = True"),
    (definition(conv(kernel_size=12)), "kernel_size = 12"),
    (definition(conv(padding="full")), "padding = 'full'; choose one of ['same', 'valid']"),
    (definition(conv(activation="softmax2")), "activation = 'softmax2'"),
    (definition({"type": "dropout", "rate": 1.5}), "block 1 (dropout): rate = 1.5"),
    (definition({"type": "dropout", "rate": float("nan")}), "rate = nan"),
    (definition({"type": "dense", "units": "many"}), "units = 'many'"),
    (definition({"type": "transformer"}), "block 1: unknown type 'transformer'"),
    (definition({"filters": 3}), "block 1: unknown type None"),
    (definition("conv"), "block 1: must be an object"),
    (definition(conv(colour="red")), "block 1 (convolution): unknown settings ['colour']"),
    ({"blocks": "conv"}, "blocks = 'conv': must be a list"),
    ({"layers": []}, "unknown design fields ['layers']"),
    ([1, 2], "a design must be a JSON object"),
    (definition(name=""), "name = ''"),
    (definition(format="keras"), "format = 'keras'"),
    (definition(version=2), "version = 2"),
    (definition(*[{"type": "dropout"}] * 61), "61 blocks: at most 60"),
])
def test_bad_values_raise_value_error_naming_them(bad, words):
    with pytest.raises(ValueError) as error:
        design.validate(bad)
    assert words in str(error.value)


def test_defaults_are_filled_and_whole_floats_accepted():
    normalised = design.validate(definition(conv(16.0), {"type": "global_pooling"}))
    assert normalised["blocks"][0] == {"type": "convolution", "filters": 16, "kernel_size": 3,
                                       "stride": 1, "padding": "same", "activation": "relu"}
    assert normalised["blocks"][1] == {"type": "global_pooling", "mode": "average"}
    assert normalised["name"] == "my-network" and normalised["format"] == design.FORMAT


def test_shapes_and_parameters_follow_keras_rules():
    rows = design.layer_table(definition(
        conv(8, kernel_size=5, stride=2, padding="valid"),  # (32 - 5) // 2 + 1 = 14
        {"type": "batch_norm"}, conv(4, stride=3),  # same: ceil(14 / 3) = 5
        {"type": "average_pooling", "pool_size": 2},  # 5 // 2 = 2
        {"type": "flatten"}, {"type": "dropout", "rate": 0.5}, {"type": "dense", "units": 7}))
    by_name = {row.name: row for row in rows}
    assert [row.name for row in rows] == ["rescaling", "conv1", "batchnorm1", "conv2", "pool1",
                                          "flatten", "dropout1", "dense1", "logits",
                                          "probabilities"]
    assert by_name["conv1"].output_shape == (14, 14, 8)
    assert by_name["conv1"].parameters == 5 * 5 * 3 * 8 + 8
    assert by_name["batchnorm1"].parameters == 32 and by_name["batchnorm1"].trainable == 16
    assert by_name["conv2"].output_shape == (5, 5, 4)
    assert by_name["pool1"].output_shape == (2, 2, 4)
    assert by_name["flatten"].output_shape == (16,)
    assert by_name["dense1"].parameters == 16 * 7 + 7
    assert by_name["logits"].parameters == 7 * 10 + 10
    assert by_name["probabilities"].output_shape == (10,)
    assert [row.block for row in rows] == [None, 1, 2, 3, 4, 5, 6, 7, None, None]


def test_seed_and_tiny_templates_have_the_architectures_parameter_counts():
    assert design.analyse(design_templates.template("seed")).parameters == 2_915_114
    assert design.analyse(design_templates.template("tiny")).parameters == 5_418
    for name in design_templates.TEMPLATE_NAMES:
        assert design.analyse(design_templates.template(name)).problem is None
    with pytest.raises(ValueError, match="unknown template 'resnet'"):
        design_templates.template("resnet")


def test_templates_are_fresh_copies():
    first = design_templates.template("tiny")
    first["blocks"][0]["filters"] = 99
    assert design_templates.template("tiny")["blocks"][0]["filters"] == 16


def test_json_round_trip():
    original = design_templates.template("small-vgg")
    text = design.to_json(original)
    assert json.loads(text)["format"] == design.FORMAT
    assert design.from_json(text) == design.validate(original)
    assert design.from_json(text.encode()) == design.validate(original)


@pytest.mark.parametrize("text, words", [
    ("{\"blocks\": [", "this file is not valid JSON (line 1)"),
    (b"\xff\xfe\x00", "not UTF-8 text"),
    ("", "this file is not valid JSON"),
    ("[]", "a design must be a JSON object"),
    ("{\"blocks\": [{\"type\": \"max_pooling\", \"pool_size\": 8}, "
     "{\"type\": \"max_pooling\", \"pool_size\": 8}]}", "block 2 (max pooling 8x8)"),
])
def test_bad_json_is_one_clear_value_error(text, words):
    with pytest.raises(ValueError) as error:
        design.from_json(text)
    assert words in str(error.value)


def test_unknown_block_type_for_new_block():
    assert design.new_block("dropout") == {"type": "dropout", "rate": 0.2}
    with pytest.raises(ValueError, match="unknown block type 'lstm'"):
        design.new_block("lstm")


def test_design_needs_no_tensorflow():
    _, frameworks = run_and_list_frameworks(
        "from cifar_core.models import design, design_templates\n"
        "from cifar_core.training import train_config\n"
        "train_config.TrainConfig(model='designed', design=design_templates.template('seed'))")
    assert frameworks == "[]"
