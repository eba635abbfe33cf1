"""The Dataset page's "What augmentation does": one image as training shows it, epoch by epoch.

The views come from the trainer's own pipeline (``input_pipeline.augmented_views``, which
calls ``augment_batch``), so they are what the network really sees. That needs
TensorFlow, whose import takes seconds, and the Dataset page is the app's first page: the
section imports the pipeline only once a visitor presses "Show augmentations", so the
page's first paint never waits for it. After that the views cost a few milliseconds.
"""

import streamlit as st

from cifar_core.training import augmentation_choices
from cifar_core.ui.picture_display import show_picture
from cifar_core.ui.url_state import url_state

VIEWS = 12  # epochs shown: two rows of six
COLUMNS = 6
SCALE = 4  # 32 x 32 images shown at 128 x 128


def _show():
    st.session_state.augment_shown = True


def _new_draws():
    st.session_state.augment_draw = st.session_state.get("augment_draw", 0) + 1


def augmentation_section(image, description):
    """Header, recipe chooser and, once asked for, ``VIEWS`` augmented views of ``image``.

    ``image`` uint8 (32, 32, 3); ``description`` names it for captions and alt text
    ("train image 7, a horse").
    """
    st.header("What augmentation does")
    choices = augmentation_choices.augmentation_choices()
    names = list(choices)
    name = st.radio(
        "Recipe", names, key="augment", horizontal=True,
        format_func=lambda name: choices[name].label,
        help="Recipes that augment alike are listed together.",
        on_change=url_state("augment", names[0], options=names))
    choice = choices[name]
    st.caption(choice.description + " A new variant of every image each epoch makes the "
               "network learn the object, not its exact pixels or which way it faces.")
    if choice.flip is None:
        st.info(f"Nothing to show: {choice.recipes} train on every image exactly as it is.")
        return
    if not st.session_state.get("augment_shown"):
        st.button("Show augmentations", icon=":material/flip:", on_click=_show,
                  help="The first time loads TensorFlow, which takes a few seconds.")
        return
    st.button("New draws", icon=":material/casino:", on_click=_new_draws,
              help="Draw other flips and shifts.")
    with st.spinner("Loading the training pipeline…"):
        from cifar_core.display import pictures  # Pillow: not at the page's start-up.
        from cifar_core.training import input_pipeline  # TensorFlow: only once asked for.

        views = input_pipeline.augmented_views(image, VIEWS, flip=choice.flip,
                                               seed=st.session_state.get("augment_draw", 0))
    original, grid = st.columns([1, COLUMNS])  # the original beside six tiles a row
    show_picture(original, pictures.upscale(image, SCALE), f"{description}: the original",
                 alt=f"{description}, as stored, enlarged {SCALE} times")
    epochs = [f"epoch {epoch}" for epoch in range(1, VIEWS + 1)]
    show_picture(grid, pictures.labelled_mosaic(views, epochs, COLUMNS, scale=SCALE),
                 f"What {choice.recipes} show the network in {VIEWS} epochs",
                 alt=f"{VIEWS} augmented versions of {description}, one per epoch: the "
                     "same picture mirrored left-right or not and shifted by up to 2 pixels")
