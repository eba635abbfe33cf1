"""The designed network's diagram: one box per layer in order, shapes and parameters, DOT-safe."""

from cifar_core.display import design_diagram
from cifar_core.models import design, design_templates


def test_a_chain_of_boxes_from_the_input_to_the_probabilities():
    rows = design.layer_table(design_templates.template("tiny"))
    dot = design_diagram.design_dot(rows, title="tiny")
    assert dot.startswith("digraph design {") and dot.endswith("}")
    assert 'label="tiny"' in dot
    edges = [line.strip() for line in dot.splitlines() if "->" in line]
    assert edges[0] == "input -> layer0;" and len(edges) == len(rows)
    assert edges[-1] == f"layer{len(rows) - 2} -> layer{len(rows) - 1};"
    assert 'conv1: convolution 16 3x3, stride 1, same, relu\\n32 x 32 x 16, 448 parameters' in dot
    assert 'pool3: global average pooling\\n32"' in dot  # no parameters: none written
    assert dot.count('fillcolor="#ffd8a8"') == 2  # the two convolutions share a colour


def test_quotes_and_backslashes_in_the_title_cannot_break_the_dot():
    dot = design_diagram.design_dot([], title='my "net" \\ two')
    assert 'label="my \\"net\\" \\\\ two"' in dot
    assert dot.count("->") == 0 and "input [label=" in dot
