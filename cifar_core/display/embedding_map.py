"""The embedding map as a Plotly figure: one dot per test image, placed by its features.

Built for 10,000 dots: WebGL traces (``Scattergl``), one per class so the legend toggles
a class on and off, with that class's mistakes in a second trace of the same legend group
drawn as crosses (and a little larger), so mistakes stand out in every colour and in
greyscale. Hovering a dot names the image, its label, the model's answer and confidence;
each dot carries its test-image index as ``customdata``, which a click reports to the page.
No I/O and no Streamlit here.
"""

import numpy as np
import plotly.colors
import plotly.graph_objects as go

#: Ten colours told apart by most colour-blind viewers too (Tableau 10).
CLASS_COLOURS = plotly.colors.qualitative.T10
#: What the dots can be coloured by.
COLOUR_BY = {"true": "true class", "predicted": "predicted class"}


def embedding_figure(coordinates, labels, probabilities, class_names, *, colour_by="true",
                     selected=None, title="The test images by their features",
                     axis_titles=("", ""), height=640):
    """Scatter of ``coordinates`` float (N, 2), coloured by true or predicted class.

    ``labels`` int (N,) are the true classes, ``probabilities`` float (N, C) the model's
    answers; ``selected`` (an image index or None) is ringed in black. The zoom is kept
    across reruns while the ``title`` stays the same (give each projection its own).
    """
    coordinates = np.asarray(coordinates, dtype=np.float32)
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities)
    count, classes = len(coordinates), len(class_names)
    if coordinates.shape != (count, 2):
        raise ValueError(f"coordinates must have shape (N, 2), got {coordinates.shape}")
    if labels.shape != (count,) or probabilities.shape != (count, classes):
        raise ValueError(f"expected labels ({count},) and probabilities ({count}, {classes}), "
                         f"got {labels.shape} and {probabilities.shape}")
    if colour_by not in COLOUR_BY:
        raise ValueError(f"colour_by must be one of {', '.join(COLOUR_BY)}, got {colour_by!r}")
    predictions = probabilities.argmax(axis=1)
    confidences = probabilities.max(axis=1)
    groups = labels if colour_by == "true" else predictions
    other = predictions if colour_by == "true" else labels  # the class the hover adds
    other_word = "predicted" if colour_by == "true" else "true class"
    names = np.asarray(class_names, dtype=object)
    traces = []
    for class_index, class_name in enumerate(class_names):
        members = groups == class_index
        parts = [np.flatnonzero(members & (labels == predictions)),  # hits, then mistakes
                 np.flatnonzero(members & (labels != predictions))]
        # Plotly leaves empty traces out of the legend: the class's entry goes on its
        # mistakes where it has no hits (an untrained model's classes, say).
        legend_on = 0 if len(parts[0]) else 1
        for mistakes, chosen in enumerate(parts):
            # Plain dicts of NumPy arrays: Plotly validates them once, in go.Figure, and
            # sends them as binary; Python lists would be checked item by item (seconds).
            traces.append(dict(
                type="scattergl", x=coordinates[chosen, 0], y=coordinates[chosen, 1],
                mode="markers", name=class_name, legendgroup=class_name,
                showlegend=mistakes == legend_on,
                marker=dict(color=CLASS_COLOURS[class_index % len(CLASS_COLOURS)],
                            symbol="x" if mistakes else "circle", size=7 if mistakes else 5,
                            opacity=0.9 if mistakes else 0.6),
                # [index, confidence %] per dot, (n, 2): a click reports the index.
                customdata=np.stack([chosen, 100 * confidences[chosen]],
                                    axis=1).astype(np.float32),
                text=names[other[chosen]],
                hovertemplate=(f"test #%{{customdata[0]}}<br>{COLOUR_BY[colour_by]}: "
                               f"{class_name}<br>{other_word}: %{{text}}<br>"
                               f"confidence: %{{customdata[1]:.0f}}%"
                               + ("<br><b>a mistake</b>" if mistakes else "")
                               + "<extra></extra>")))
    if selected is not None:
        if not 0 <= selected < count:
            raise ValueError(f"selected must lie in 0..{count - 1}, got {selected!r}")
        traces.append(dict(
            type="scatter", x=coordinates[selected:selected + 1, 0],
            y=coordinates[selected:selected + 1, 1], mode="markers", name="chosen image",
            showlegend=False, customdata=[[selected, 0]], hoverinfo="skip",
            marker=dict(symbol="circle-open", size=18, color="black", line=dict(width=3))))
    figure = go.Figure(data=traces)
    figure.update_layout(
        height=height, margin=dict(t=60, b=10, l=10, r=10), hovermode="closest",
        clickmode="event+select", plot_bgcolor="white", dragmode="zoom",
        title=dict(text=title, x=0, xanchor="left"),
        legend=dict(title=COLOUR_BY[colour_by].capitalize(), itemsizing="constant"),
        uirevision=title,  # keep the zoom while a click reruns the page
        xaxis=dict(title=axis_titles[0], showticklabels=False, zeroline=False,
                   showgrid=False),
        yaxis=dict(title=axis_titles[1], showticklabels=False, zeroline=False,
                   showgrid=False))
    return figure


def clicked_index(points):
    """The test-image index of the first clicked dot in a Streamlit selection, or None."""
    for point in points or ():
        data = point.get("customdata")
        if isinstance(data, dict):  # a row of a binary array arrives as {"0": index, ...}
            data = data.get("0", data.get(0))
        elif isinstance(data, (list, tuple)):
            data = data[0] if data else None
        try:
            return int(data)
        except (TypeError, ValueError):
            continue
    return None
