"""A model's graph as a plain diagram: its layers and connections, written as Graphviz DOT.

The Models page draws every model (ours, a training run, an imported one) as boxes and
arrows, so a student sees a residual connection or a nested block (flattened into plain
layers) at a glance. This module reads only the model's config, the nested dicts of
``model.get_config()``, never TensorFlow or NumPy: the drawing is text, and the page hands
it to ``st.graphviz_chart``.
"""

from dataclasses import dataclass

from cifar_core.models import contract

#: Box colours by what a layer does: light fills (dark text stays readable on each) that
#: differ in lightness as well as hue, so the groups stay apart without colour vision too.
KIND_COLOURS = {
    "input": "#e8e8e8",
    "convolution": "#ffd8a8",
    "pooling": "#c5e8c5",
    "dense": "#bcd6f5",
    "other": "#ffffff",
}
CONVOLUTIONS = set(contract.CONVOLUTION_CLASS_NAMES)
POOLINGS = {"MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D", "GlobalAveragePooling2D"}
DENSE = {"Dense"}


@dataclass(frozen=True)
class GraphLayer:
    """One layer of the graph: its name, Keras class and the layers feeding it."""

    name: str
    kind: str
    inputs: tuple[str, ...] = ()

    @property
    def group(self):
        """Which box colour it gets: input, convolution, pooling, dense or other."""
        if self.kind == "InputLayer":
            return "input"
        if self.kind in CONVOLUTIONS:
            return "convolution"
        if self.kind in POOLINGS:
            return "pooling"
        return "dense" if self.kind in DENSE else "other"


def _history_names(value):
    """Names of the layers whose outputs appear in one inbound node's arguments.

    Keras 3 writes each input tensor as ``{"class_name": "__keras_tensor__", "config":
    {"keras_history": [layer_name, node_index, tensor_index], ...}}``, nested in lists
    (an ``Add`` of two tensors) and keyword arguments; every such history is an edge.
    """
    if isinstance(value, dict):
        history = value.get("config", {}).get("keras_history") \
            if isinstance(value.get("config"), dict) else None
        if isinstance(history, (list, tuple)) and history and isinstance(history[0], str):
            return [history[0]]
        return [name for item in value.values() for name in _history_names(item)]
    if isinstance(value, (list, tuple)):
        return [name for item in value for name in _history_names(item)]
    return []


def _layer_name(layer_config):
    name = layer_config.get("name") or layer_config.get("config", {}).get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a layer of the model config has no name: {layer_config!r:.200}")
    return name


def graph_layers(model_config):
    """The layers of a functional or Sequential model config (``model.get_config()``).

    A functional config connects layers through their ``inbound_nodes``; a Sequential one
    chains them in order. Layers appear in the config's order, each with the names of the
    layers feeding it (once each, in order). Raises ValueError for a config that lists no
    layers.
    """
    layers = model_config.get("layers") if isinstance(model_config, dict) else None
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"not a model config with a list of layers: {model_config!r:.200}")
    functional = any("inbound_nodes" in layer for layer in layers if isinstance(layer, dict))
    result, previous = [], None
    for layer in layers:
        if not isinstance(layer, dict):
            raise ValueError(f"a layer of the model config is not a dict: {layer!r:.200}")
        name, kind = _layer_name(layer), str(layer.get("class_name", "?"))
        if functional:
            inputs = dict.fromkeys(_history_names(layer.get("inbound_nodes", [])))
        else:
            inputs = {} if previous is None else {previous: None}
        result.append(GraphLayer(name, kind, tuple(inputs)))
        previous = name
    return result


def _quoted(text):
    """``text`` as a DOT string: double quotes and backslashes escaped, newlines as \\n."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def dot_source(layers, *, details=None, title=None):
    """The graph as DOT: one box per layer (name, class, ``details[name]`` such as the output
    shape), an arrow from each input to the layer it feeds, top to bottom.

    ``layers`` is a list of ``GraphLayer``; an input naming a layer not in the list raises
    ValueError (a config that does not hold together). ``title`` labels the whole graph.
    """
    names = {layer.name for layer in layers}
    if len(names) != len(layers):
        raise ValueError("layer names in the graph must be unique")
    details = details or {}
    # Compact boxes and gaps: a 30-layer network stays about as tall as a page or two.
    lines = ["digraph model {", "  rankdir=TB; nodesep=0.2; ranksep=0.18;",
             '  bgcolor="transparent";',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, '
             'height=0.3, margin="0.1,0.03", color="#444444", fontcolor="#14161c"];',
             '  edge [color="#555555", arrowsize=0.6];']
    if title:
        lines.append(f"  label={_quoted(title)}; labelloc=t; fontname=\"Helvetica\";")
    for layer in layers:
        label = f"{layer.name} ({layer.kind})"
        if details.get(layer.name):
            label += f"\n{details[layer.name]}"
        lines.append(f"  {_quoted(layer.name)} [label={_quoted(label)}, "
                     f"fillcolor=\"{KIND_COLOURS[layer.group]}\"];")
    for layer in layers:
        for source in layer.inputs:
            if source not in names:
                raise ValueError(f"layer {layer.name!r} takes its input from {source!r}, "
                                 "which is not a layer of the graph")
            lines.append(f"  {_quoted(source)} -> {_quoted(layer.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def model_dot(model_config, *, details=None, title=None):
    """``dot_source(graph_layers(model_config), ...)``: a config straight to DOT."""
    return dot_source(graph_layers(model_config), details=details, title=title)
