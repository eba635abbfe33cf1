"""The model diagram: layers and connections read from configs, written as DOT."""

import re

import pytest

from cifar_core.models import graph_diagram
from cifar_core.models.graph_diagram import GraphLayer


def tensor(name):
    """How Keras 3 writes an input tensor in a functional config."""
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None, 8, 8, 4], "dtype": "float32",
                       "keras_history": [name, 0, 0]}}


def layer(name, kind, *inputs, node_inputs=None):
    nodes = [] if not inputs else [{"args": [list(map(tensor, inputs)) if len(inputs) > 1
                                             else tensor(inputs[0])], "kwargs": {}}]
    return {"class_name": kind, "name": name, "config": {"name": name},
            "inbound_nodes": nodes if node_inputs is None else node_inputs}


RESIDUAL = {"name": "residual", "layers": [
    layer("input_layer", "InputLayer"),
    layer("rescaling", "Rescaling", "input_layer"),
    layer("conv2d", "Conv2D", "rescaling"),
    layer("conv2d_1", "Conv2D", "conv2d"),
    layer("add", "Add", "conv2d", "conv2d_1"),
    layer("pool", "GlobalAveragePooling2D", "add"),
    layer("probabilities", "Dense", "pool"),
]}


def edges(dot):
    return set(re.findall(r'"([^"]+)" -> "([^"]+)";', dot))


def test_functional_config_gives_every_connection_once():
    layers = graph_diagram.graph_layers(RESIDUAL)
    assert [item.name for item in layers] == ["input_layer", "rescaling", "conv2d", "conv2d_1",
                                              "add", "pool", "probabilities"]
    by_name = {item.name: item for item in layers}
    assert by_name["add"].inputs == ("conv2d", "conv2d_1")
    assert by_name["input_layer"].inputs == ()
    assert by_name["conv2d"].group == "convolution" and by_name["pool"].group == "pooling"
    assert by_name["probabilities"].group == "dense" and by_name["add"].group == "other"


def test_shared_layer_called_twice_gets_both_inputs():
    config = {"layers": [layer("a", "InputLayer"), layer("b", "InputLayer"),
                         layer("shared", "Dense", node_inputs=[
                             {"args": [tensor("a")], "kwargs": {}},
                             {"args": [tensor("b")], "kwargs": {}}])]}
    assert graph_diagram.graph_layers(config)[-1].inputs == ("a", "b")


def test_sequential_config_chains_layers_in_order():
    config = {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"name": "input_layer"}},
        {"class_name": "Conv2D", "config": {"name": "conv2d"}},
        {"class_name": "Flatten", "config": {"name": "flatten"}},
        {"class_name": "Dense", "config": {"name": "dense"}}]}
    dot = graph_diagram.model_dot(config)
    assert edges(dot) == {("input_layer", "conv2d"), ("conv2d", "flatten"), ("flatten", "dense")}


def test_dot_has_one_box_per_layer_with_its_details():
    dot = graph_diagram.model_dot(RESIDUAL, details={"conv2d": "8 x 8 x 4"}, title="my net")
    assert dot.startswith("digraph model {") and dot.rstrip().endswith("}")
    assert '"conv2d" [label="conv2d (Conv2D)\\n8 x 8 x 4"' in dot
    assert edges(dot) == {("input_layer", "rescaling"), ("rescaling", "conv2d"),
                          ("conv2d", "conv2d_1"), ("conv2d", "add"), ("conv2d_1", "add"),
                          ("add", "pool"), ("pool", "probabilities")}
    assert 'label="my net"' in dot
    assert graph_diagram.KIND_COLOURS["convolution"] in dot


def test_names_with_quotes_are_escaped():
    dot = graph_diagram.dot_source([GraphLayer('odd "name"\\', "Dense")])
    assert '"odd \\"name\\"\\\\"' in dot


@pytest.mark.parametrize("config", [None, {}, {"layers": []}, {"layers": "conv"},
                                    {"layers": ["conv"]}, {"layers": [{"class_name": "Dense"}]}])
def test_bad_configs_raise_value_error(config):
    with pytest.raises(ValueError):
        graph_diagram.graph_layers(config)


def test_input_from_an_unknown_layer_is_refused():
    with pytest.raises(ValueError, match="'ghost'"):
        graph_diagram.dot_source([GraphLayer("dense", "Dense", ("ghost",))])
    with pytest.raises(ValueError, match="unique"):
        graph_diagram.dot_source([GraphLayer("a", "Dense"), GraphLayer("a", "Dense")])


def test_a_real_keras_model_config(tiny_model):
    """Our tiny architecture's own config: a chain from the input to probabilities."""
    layers = graph_diagram.graph_layers(tiny_model.get_config())
    names = [item.name for item in tiny_model.layers]
    assert [item.name for item in layers] == names
    for previous, item in zip(layers, layers[1:]):
        assert item.inputs == (previous.name,)


def test_a_residual_keras_model_config():
    from cifar_core.backend import keras

    inputs = keras.Input((8, 8, 3))
    first = keras.layers.Conv2D(4, 3, padding="same", name="first")(inputs)
    second = keras.layers.Conv2D(4, 3, strides=1, padding="same", name="second")(first)
    joined = keras.layers.Add(name="joined")([first, second])
    model = keras.Model(inputs, keras.layers.GlobalMaxPooling2D(name="pool")(joined))
    dot = graph_diagram.model_dot(model.get_config())
    assert {("first", "joined"), ("second", "joined"), ("first", "second")} <= edges(dot)
