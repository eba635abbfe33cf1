"""Galleries of test images, each a link to the Layers page (the Evaluate page's views).

Every tile is the 32 x 32 image shown three times larger as a PNG (crisp pixels, encoded
once per server: a gallery has 24 tiles and a class reruns it in every tab), with a
caption and alt text the caller writes, and links to the Layers page on that image, so a
click shows what the model's layers made of it.
"""

from urllib.parse import urlencode

import streamlit as st

from cifar_core.display import pictures
from cifar_core.ui import shared_cache

GALLERY_SIZE = 24  # images per gallery: three rows of eight
GALLERY_COLUMNS = 8


def layers_link(model_key, index, split="test"):
    """A link relative to this page, so it also works under a server.baseUrlPath."""
    return "layers?" + urlencode({"model": model_key, "split": split, "index": int(index)})


def prediction_caption(true_name, predicted_name, confidence):
    """"cat → dog 87%" for a mistake, "cat ✓ 87%" for a right answer."""
    if true_name == predicted_name:
        return f"{true_name} ✓ {confidence:.0%}"
    return f"{true_name} → {predicted_name} {confidence:.0%}"


def gallery(images, labels, names, indices, probabilities, model_key, empty_message, *,
            caption=None, alt=None, size=GALLERY_SIZE):
    """The first ``size`` of ``indices`` as a grid of linked images, ``GALLERY_COLUMNS`` a row.

    ``images`` uint8 (N, 32, 32, 3), ``labels`` int (N,), ``probabilities`` float (N, C):
    the test set and the model's answers. ``caption(index)`` and ``alt(index)`` write each
    tile's text; by default true class -> predicted class and confidence.
    """
    if len(indices) == 0:
        st.info(empty_message)
        return

    def default_caption(index):
        predicted = int(probabilities[index].argmax())
        return prediction_caption(names[labels[index]], names[predicted],
                                  probabilities[index, predicted])

    def default_alt(index):
        predicted_name = names[int(probabilities[index].argmax())]
        return f"Test image {index}: a {names[labels[index]]}, predicted {predicted_name}"

    caption, alt = caption or default_caption, alt or default_alt
    for position, index in enumerate(indices[:size]):
        if position % GALLERY_COLUMNS == 0:
            row = st.columns(GALLERY_COLUMNS)  # a fresh row keeps rows aligned as captions wrap
        row[position % GALLERY_COLUMNS].image(
            shared_cache.png(pictures.upscale(images[index], 3)), caption=caption(index),
            link=layers_link(model_key, index), alt=alt(index),
            width=3 * 32, output_format="PNG")  # shown at its own size in PNG: crisp pixels
