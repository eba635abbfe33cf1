"""A designed network as a plain diagram: one box per layer, top to bottom, as Graphviz DOT.

The Train page's designer redraws it on every edit with ``st.graphviz_chart`` (rendered in
the browser, no Graphviz install). Each box says the layer, what it does and the shape it
outputs, so the image shrinking and the channels growing can be read off the chain.
"""

#: Box fills by the kind of layer: light colours (dark text stays readable) that differ in
#: lightness as well as hue, matching the Models page's graph diagrams.
FILLS = {"conv": "#ffd8a8", "pool": "#c5e8c5", "dense": "#bcd6f5", "logits": "#bcd6f5"}

INPUT_LABEL = "input image\n32 x 32 x 3 (0-255)"


def _quoted(text):
    """A DOT string: quotes and backslashes escaped, line breaks as DOT's centred ``\\n``."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def _fill(name):
    for prefix, colour in FILLS.items():
        if name.startswith(prefix):
            return colour
    return "#ffffff"


def design_dot(rows, title="The designed network"):
    """DOT text of ``rows`` (``design.LayerRow``s, in order) as a vertical chain of boxes."""
    lines = ["digraph design {", f"  label={_quoted(title)}; labelloc=t; fontsize=16;",
             "  rankdir=TB; node [shape=box, style=\"rounded,filled\", fontname=Helvetica, "
             "fontsize=11];",
             f"  input [label={_quoted(INPUT_LABEL)}, fillcolor=\"#e8e8e8\"];"]
    previous = "input"
    for index, row in enumerate(rows):
        shape = " x ".join(str(size) for size in row.output_shape)
        label = f"{row.name}: {row.description}\n{shape}"
        if row.parameters:
            label += f", {row.parameters:,} parameters"
        node = f"layer{index}"
        lines.append(f"  {node} [label={_quoted(label)}, fillcolor={_quoted(_fill(row.name))}];")
        lines.append(f"  {previous} -> {node};")
        previous = node
    lines.append("}")
    return "\n".join(lines)
