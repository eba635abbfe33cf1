"""The Layers page's "What a filter wants to see": synthesised pictures, checked honestly.

Three parts, each computed once per model file in a server-wide background task (with
progress and Stop) and read back from the disk cache afterwards: the chosen filter's
picture beside the test image that excites it most, the whole layer's grid (its first
``GRID_FILTERS`` filters), and one picture per class output. Every picture comes with
its score on the objective and the best test image's score on the same objective.
"""

import numpy as np
import streamlit as st

from cifar_core import ui
from cifar_core.display import pictures
from cifar_core.inspect import feature_visualisation, feature_visualisation_results, kernels
from cifar_core.ui import task_panel

HEADER = "What a filter wants to see"
EXPLANATION = (
    "Each picture is synthesised: starting from faint noise, the image is changed step by "
    "step (gradient ascent) to make one filter's mean activation, or one class's score "
    "before the softmax, as high as possible. It is built from smooth waves (Fourier space) "
    "in natural colour mixes and shifted a pixel at random every step, so it shows patterns "
    "a person can read rather than pixel noise. The honest check: the synthesised image "
    "should excite its filter more than the best of the test images does.")
PROGRESS_TEXT = "Checking the test images, then gradient ascent"


def _start(key, model, model_path, layer, targets, images, settings):
    """The server-wide task for these pictures, started if new (a button callback)."""
    return task_panel.server_tasks().start(key, lambda: feature_visualisation_results.
                                           visualise_task(model, model_path, layer, targets,
                                                          images, settings))


def _result(model, model_path, layer, targets, images, *, button, name):
    """The finished result, or None after drawing a start button or the task's progress."""
    settings = feature_visualisation.Settings()
    key = ("feature visualisation", str(model_path), model_path.stat().st_mtime_ns,
           layer, tuple(int(target) for target in targets), settings.key())
    arguments = (key, model, model_path, layer, targets, images, settings)
    task = task_panel.server_tasks().get(key)
    if task is None and feature_visualisation_results.cache_path(
            model_path, layer, targets, images, settings).exists():
        task = _start(*arguments)  # reading the disk cache is quick
    elif task is None:
        st.button(button, key=f"fv_start_{name}", icon=":material/auto_awesome:",
                  on_click=_start, args=arguments)
        return None
    return task_panel.task_result(task, progress_text=PROGRESS_TEXT,
                                  failure_text="Could not synthesise the pictures:",
                                  retry_key=f"fv_retry_{name}", unit="steps")


def _verdict(values, best_values, what):
    """One sentence: how many synthesised images beat the best test image."""
    wins = int(np.sum(values > best_values))
    return (f"The synthesised image beats the best test image for {wins} of {len(values)} "
            f"{what}.")


def _one_filter(model, model_path, layer, filter_index, images, labels, class_names):
    result = _result(model, model_path, layer, [filter_index], images, name="filter",
                     button=f"Synthesise what {layer} filter {filter_index} wants to see "
                     "(a few seconds)")
    if result is None:
        return
    value, best_value = float(result["values"][0]), float(result["best_values"][0])
    best_index = int(result["best_indices"][0])
    best_class = class_names[labels[best_index]]
    left, right = st.columns(2)
    ui.show_picture(left, pictures.upscale(result["images"][0], 8),
                    f"Synthesised for {layer} filter {filter_index}: mean activation "
                    f"{value:.3f}",
                    alt=f"The image synthesised to excite {layer} filter {filter_index} most")
    ui.show_picture(right, pictures.upscale(images[best_index], 8),
                    f"Best test image (test #{best_index}, {best_class}): mean activation "
                    f"{best_value:.3f}",
                    alt=f"Test image {best_index}, a {best_class}, the one that excites {layer} "
                    f"filter {filter_index} most on average")
    if value > best_value:
        st.success(f"The synthesised image excites {layer} filter {filter_index} "
                   f"{value / best_value:.1f}x as much as the best of {len(images):,} test "
                   f"images ({value:.3f} against {best_value:.3f})."
                   if round(best_value, 3) > 0 else  # a ratio to "0.000" reads as nonsense
                   f"The synthesised image excites {layer} filter {filter_index} "
                   f"({value:.3f}); no test image does ({best_value:.3f}).",
                   icon=":material/check_circle:")
    else:
        st.warning(f"Honestly: the synthesised image ({value:.3f}) does not beat the best test "
                   f"image ({best_value:.3f}) for {layer} filter {filter_index}. The smooth waves "
                   "and jitter that keep the picture readable also keep it from copying "
                   "every pixel-level pattern, so on the first layers a photo can win.",
                   icon=":material/warning:")


def _layer_grid(model, model_path, layer, images):
    filters = feature_visualisation_results.grid_filters(model, layer)
    count = kernels.filter_count(model, layer)
    which = (f"all {count} filters" if len(filters) == count
             else f"the first {len(filters)} of its {count} filters")
    if not st.toggle(f"Show the whole layer's grid ({which})", key="fv_grid"):
        return
    result = _result(model, model_path, layer, filters, images, name="grid",
                     button=f"Synthesise {layer}'s grid ({which}, all at once)")
    if result is None:
        return
    captions = [f"{target}: {value:.2f}/{best:.2f}" for target, value, best in
                zip(result["targets"], result["values"], result["best_values"])]
    ui.show_picture(st, pictures.labelled_mosaic(result["images"], captions, 8),
                    f"What {which} of {layer} want to see. Under each: filter, its mean "
                    "activation on the synthesised image / on the best test image. "
                    + _verdict(result["values"], result["best_values"], "filters"),
                    alt=f"A grid of {len(filters)} images synthesised for the filters of {layer}")


def _classes(model, model_path, images, class_names):
    classes = np.arange(len(class_names))
    result = _result(model, model_path, None, classes, images, name="classes",
                     button=f"Synthesise what each of the {len(classes)} classes looks like "
                     "to the network")
    if result is None:
        return
    captions = [f"{class_names[target]} {value:.1f}" for target, value in
                zip(result["targets"], result["values"])]
    ui.show_picture(st, pictures.labelled_mosaic(result["images"], captions, 5),
                    "What each class output wants to see, with the class's score before the "
                    "softmax (its logit). " + _verdict(result["values"], result["best_values"],
                                                       "classes"),
                    alt=f"{len(classes)} images synthesised to maximise each class's score")
    st.dataframe({"class": [class_names[target] for target in result["targets"]],
                  "synthesised image's score": result["values"].astype(float),
                  "best test image's score": result["best_values"].astype(float),
                  "best test image": [f"test #{index}" for index in result["best_indices"]]},
                 hide_index=True)


def feature_visualisation_section(model, model_path, layer, filter_index, images, labels,
                                  class_names):
    """The section: the chosen filter, the layer's grid, the classes (``images``: test set)."""
    st.header(HEADER)
    st.caption(EXPLANATION)
    try:
        feature_visualisation.check_filters(model, layer, [filter_index])
    except ValueError as error:
        st.info(f"No filter pictures for this model: {error}.", icon=":material/info:")
    else:
        _one_filter(model, model_path, layer, filter_index, images, labels, class_names)
        _layer_grid(model, model_path, layer, images)
    st.subheader("What each class wants to see")
    _classes(model, model_path, images, class_names)
