"""The Evaluate page's "Where the test images live": the embedding map, a click, Layers.

The map of a model is computed once in the background (``inspect.embedding``) and then
read from the disk cache: PCA starts by itself (a feature pass, seconds), t-SNE on a
button (about a minute of both cores). Plotly's hover cannot show a picture, so hovering
names the image and the model's answer, and a click (a Streamlit selection event) shows
the image large below the map with a link that opens it in the Layers page. A click does
not leave the page by itself: a class explores the map by clicking dot after dot, and
the link is one more click (or the Tab key) away.
"""

from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from cifar_core.display import embedding_map, pictures
from cifar_core.inspect import embedding, model_cache
from cifar_core.models import saving
from cifar_core.ui import shared_cache, task_panel
from cifar_core.ui.model_picker import model as load_model
from cifar_core.ui.picture_display import show_picture
from cifar_core.ui.url_state import url_state

CHART_KEY = "embedding_map"
#: Session-state key of the test image last clicked on the map.
CHOSEN_KEY = "embedding_chosen"
#: The Layers page, as st.navigation knows it (app.py).
LAYERS_PAGE = "pages/layers.py"
PIXELS = 6  # the clicked image is shown 6 x 6 pixels per pixel: 192 x 192


def task_key(entry, images, method):
    """The server-wide task of one model file, image set and projection."""
    return ("embedding", str(entry.path), entry.path.stat().st_mtime_ns, method,
            model_cache.images_key(images))


def _start(entry, model, images, method):
    return task_panel.server_tasks().start(
        task_key(entry, images, method),
        lambda: embedding.embedding_task(model, entry.path, images, method))


def _map(entry, model, images, method):
    """The finished map's arrays, or None after drawing its progress, failure or button."""
    tasks = task_panel.server_tasks()
    task = tasks.get(task_key(entry, images, method))
    if task is None and (method == "pca" or embedding.cache_path(entry.path, images,
                                                                 method).exists()):
        task = _start(entry, model, images, method)  # PCA, or a cached map: at once
    elif task is None:
        st.button(f"Compute the t-SNE map ({len(images):,} test images, about a minute, "
                  "once per model)", key="embedding_start", icon=":material/scatter_plot:",
                  on_click=_start, args=(entry, model, images, method))
        return None
    return task_panel.task_result(
        task, progress_text=f"Mapping the test images of {entry.label} "
        f"({embedding.METHODS[method]})", failure_text="The map could not be computed:",
        retry_key="embedding_retry", unit="steps")


def _choose_clicked_point():
    """A click on the map selects one dot; its customdata starts with the image index."""
    index = embedding_map.clicked_index(st.session_state[CHART_KEY].selection.points)
    if index is not None:
        st.session_state[CHOSEN_KEY] = index


def chosen_image(entry, images, labels, probabilities, class_names, index):
    """The clicked test image, large, what the model made of it, and the link to Layers."""
    predicted = int(probabilities[index].argmax())
    true_name, predicted_name = class_names[labels[index]], class_names[predicted]
    verdict = "right" if predicted == labels[index] else "wrong"
    picture_column, text_column = st.columns([1, 3])
    show_picture(picture_column, pictures.upscale(images[index], PIXELS),
                 f"test #{index}: {true_name}",
                 alt=f"Test image {index}: a {true_name}, predicted {predicted_name}")
    text_column.markdown(f"**Test image #{index}**: a **{true_name}**. {entry.key} says "
                         f"**{predicted_name}** ({probabilities[index, predicted]:.0%}), "
                         f"{verdict}.")
    query = {"model": entry.key, "split": "test", "index": str(index)}
    label = f"Open test image #{index} in Layers"
    try:
        text_column.page_link(LAYERS_PAGE, label=label, icon=":material/layers:",
                              query_params=query,
                              help="Follow this image through every layer of the network.")
    except StreamlitAPIException:  # the section runs outside app.py's navigation
        text_column.markdown(f"[{label}](layers?{urlencode(query)})")


@st.fragment
def embedding_section(entry, images, labels, probabilities, class_names, *, model=None):
    """The section: method and colour choices, the map (or its progress), the clicked image.

    ``probabilities`` float (N, C) are the model's answers on ``images`` (the page's
    evaluation); ``model`` is loaded from ``entry.path`` unless given. A fragment: a click
    on the map or another choice reruns this section only, not the whole page.
    """
    st.header("Where the test images live")
    st.caption("Each dot is one test image, placed by what the network's last hidden layer "
               "made of it: images the network sees as alike sit close together. Crosses are "
               "mistakes. Hover a dot to name it, click it to see it; click a class in the "
               "legend to hide it.")
    methods, colours = list(embedding.METHODS), list(embedding_map.COLOUR_BY)
    controls = st.columns([1, 1, 2])
    method = controls[0].radio(
        "Map", methods, key="projection", format_func=embedding.METHODS.get, horizontal=True,
        on_change=url_state("projection", "pca", options=methods),
        help="PCA: the two directions in which the features vary most (straight distances). "
             "t-SNE: keeps each image next to its nearest neighbours, so clusters show.")
    colour_by = controls[1].radio(
        "Colour by", colours, key="colour_by", horizontal=True,
        format_func=lambda value: embedding_map.COLOUR_BY[value],
        on_change=url_state("colour_by", "true", options=colours))
    if model is None:
        try:
            model = load_model(entry.path)
        except (saving.ModelError, OSError) as error:
            st.error(f"Could not load the model {entry.label}: {error}", icon=":material/error:")
            return
    try:
        embedding.penultimate_layer(model)
    except ValueError as error:
        st.info(f"No map for {entry.label}: {error}.", icon=":material/info:")
        return
    result = _map(entry, model, images, method)
    if result is None:
        return
    chosen = st.session_state.get(CHOSEN_KEY)
    chosen = chosen if chosen is not None and 0 <= chosen < len(images) else None
    explained = result.get("explained")
    axes = (("", "") if explained is None else
            tuple(f"axis {number + 1}: {share:.0%} of the variance"
                  for number, share in enumerate(explained)))
    figure = shared_cache.figure(  # 10,000 dots: ~0.2 s to build, once per server
        embedding_map.embedding_figure,
        result["coordinates"], labels, probabilities, class_names, colour_by=colour_by,
        selected=chosen, axis_titles=axes,
        title=f"{len(images):,} test images by {entry.key}'s features "
              f"({embedding.METHODS[method]})")
    st.plotly_chart(figure, key=CHART_KEY, on_select=_choose_clicked_point,
                    selection_mode="points", config={"displaylogo": False},
                    alt=f"Scatter plot of {len(images):,} test images placed by "
                        f"{entry.key}'s features ({embedding.METHODS[method]}), one colour per "
                        f"{embedding_map.COLOUR_BY[colour_by]}, crosses for mistakes")
    if chosen is None:
        st.caption("Click a dot to see its image here.")
    else:
        chosen_image(entry, images, labels, probabilities, class_names, chosen)
