"""The Classify page's heat maps: each method's own controls, the map, the sanity check.

Beside Grad-CAM and saliency the page offers occlusion (patch size and stride), SmoothGrad
(noisy samples) and Integrated Gradients (steps), all kept in the URL. A map that pushes
few images through the model (the defaults: 49 to 66, well under a second) is computed
while the page runs and kept in memory; a bigger one (occlusion with stride 1, hundreds
of steps) runs as a background ``Task`` with progress and Stop, shared by every tab that
asks for the same map. The sanity check (Adebayo et al., 2018) shows the map of the same
network with its weights redrawn at random, and how alike the two are.
"""

import hashlib
from pathlib import Path

import streamlit as st

from cifar_core import background
from cifar_core.data import CLASS_NAMES, photos
from cifar_core.display import pictures
from cifar_core.inspect import attributions, sanity_check
from cifar_core.models import architectures
from cifar_core.ui import task_panel
from cifar_core.ui.picture_display import show_picture
from cifar_core.ui.url_state import url_state

#: From this many images through the model (forward and backward passes), a map is
#: computed in the background: about half a second for the fast network here.
BACKGROUND_FROM = 400
PATCH_SIZES = (2, 4, 6, 8, 12, 16)
STRIDES = (1, 2, 4, 8, 16)
SAMPLE_COUNTS = (5, 10, 25, 50, 100)
STEP_COUNTS = (8, 16, 32, 64, 128, 256)
HELP = {
    "Occlusion": "A grey square hides part of the image: red where hiding it lowers the "
                 "class's probability most. No gradients involved.",
    "SmoothGrad": "Saliency averaged over noisy copies of the image: less speckle.",
    "Integrated Gradients": "Gradients summed along the way from a black image to yours; "
                            "the attributions add up to the change in the class's score.",
}


def _flag(text):
    return text == "true"


def _flag_text(value):
    return "true" if value else "false"


def method_controls(container, method):
    """The controls of ``method`` (only its own are shown), as its options dict."""
    if method in HELP:
        container.caption(HELP[method])
    if method == "Occlusion":
        patch = container.select_slider(
            "Patch size (pixels)", PATCH_SIZES, key="patch",
            on_change=url_state("patch", 8, options=PATCH_SIZES, cast=int))
        strides = tuple(stride for stride in STRIDES if stride <= patch)
        stride = container.select_slider(
            "Stride (pixels)", strides, key="stride", help="How far the patch moves each "
            "step; stride 1 tries every position (computed in the background).",
            on_change=url_state("stride", min(4, patch), options=strides, cast=int))
        return {"patch": patch, "stride": stride}
    if method == "SmoothGrad":
        return {"samples": container.select_slider(
            "Noisy samples", SAMPLE_COUNTS, key="samples",
            on_change=url_state("samples", 25, options=SAMPLE_COUNTS, cast=int))}
    if method == "Integrated Gradients":
        return {"steps": container.select_slider(
            "Steps from black to the image", STEP_COUNTS, key="steps",
            on_change=url_state("steps", 32, options=STEP_COUNTS, cast=int))}
    return {}


def sanity_toggle(container):
    """The "sanity check" toggle, kept in the URL; whether it is on."""
    return container.toggle(
        "Sanity check", key="sanity",
        help="Adebayo et al. (2018): a map that explains the model must change when the "
             "model's weights are redrawn at random. Shows both maps and how alike they are.",
        on_change=url_state("sanity", False, cast=_flag, to_text=_flag_text))


def layer_options(model, method, options, position):
    """``options`` completed with the model's own choices (the Grad-CAM layer), or None
    after a warning where the method cannot explain this model."""
    if method != "Grad-CAM":
        return options
    conv_names = architectures.conv_layer_names(model)
    if not conv_names:
        st.warning(f"Grad-CAM needs a convolution layer and model {model.name!r} has none; "
                   "choose another heat map.", icon=":material/warning:")
        return None
    layer = st.selectbox("Grad-CAM layer", conv_names[::-1], key=f"layer_{position}",
                         help="Later layers see whole objects; earlier ones see edges and "
                         "colours, at finer resolution.")
    return {**options, "layer_name": layer}


@st.cache_resource(max_entries=32, show_spinner=False)
def _computed_now(key, _model, _image, _trained=None):
    """A small map (or sanity check) computed in the script, kept per ``task_key``."""
    _, kind, _, _, _, class_index, method, options = key
    return _work(kind, _model, _image, class_index, method, dict(options), _trained)()


def _work(kind, model, image, class_index, method, options, trained=None):
    """The work of one map: ``work(progress=None)`` for a ``Task`` or a direct call. A
    sanity check is given the ``trained`` map the page shows, so only its other half runs."""
    if kind == "sanity":
        return lambda progress=None: sanity_check.sanity_check(
            method, model, image, class_index, progress=progress, trained=trained, **options)
    return lambda progress=None: attributions.heat_map(method, model, image, class_index,
                                                       progress=progress, **options)


def task_key(kind, path, image, class_index, method, options):
    """The key of one map's work: the model file as it is now, the image's bytes, and
    every choice (a tab asking for the same map shares the work)."""
    path = Path(path)
    return ("attribution", kind, str(path), path.stat().st_mtime_ns,
            hashlib.sha1(image.tobytes()).hexdigest(), int(class_index), method,
            tuple(sorted(options.items())))


def result(kind, model, path, image, class_index, method, options, *, position,
           trained=None):
    """``kind`` "map" (a heat map (32, 32) in 0..1) or "sanity" (a ``SanityCheck``, given
    the ``trained`` map); None while it is computed in the background (its progress
    shown), or after a failure."""
    size = attributions.work_size(method, **options)
    key = task_key(kind, path, image, class_index, method, options)
    what = "The sanity check" if kind == "sanity" else f"The {method} map"
    if size < BACKGROUND_FROM:
        try:
            return _computed_now(key, model, image, trained)
        except ValueError as error:
            st.error(f"{what} could not be computed: {error}", icon=":material/error:")
            return None
    task = task_panel.server_tasks().start(key, lambda: background.Task(
        _work(kind, model, image, class_index, method, options, trained), size,
        f"{method} map"))
    return task_panel.task_result(
        task, progress_text=f"{what} for {CLASS_NAMES[class_index]}",
        failure_text=f"{what} could not be computed:", retry_key=f"retry_{kind}_{position}")


def _overlay(image, heat):
    """The heat map (32, 32) over the image, both 256 x 256."""
    return pictures.heat_map_overlay(pictures.upscale(image, 8),
                                     photos.map_to_original(heat, (256, 256)))


def sanity_row(model, label, path, image, class_index, method, options, *, position,
               trained=None):
    """The trained map (``trained``: the one the page shows, else computed) beside the
    randomised-weights map, and their rank correlation."""
    st.subheader(f"Sanity check: {label} with random weights")
    check = result("sanity", model, path, image, class_index, method, options,
                   position=position, trained=trained)
    if check is None:
        return
    trained, randomised, numbers = st.columns([3, 3, 4])
    class_name = CLASS_NAMES[class_index]
    show_picture(trained, _overlay(image, check.trained), f"{method}, trained weights",
                 alt=f"{method} heat map of {label} for {class_name}, trained weights")
    show_picture(randomised, _overlay(image, check.randomised), f"{method}, random weights",
                 alt=f"{method} heat map of {label} for {class_name} with its weights "
                 "redrawn at random")
    correlation = "undefined" if check.correlation != check.correlation \
        else f"{check.correlation:+.2f}"  # NaN: a flat map has no ranks
    numbers.metric("Spearman rank correlation", correlation,
                   help="1: the same ranking of pixels; 0: unrelated; -1: reversed.")
    numbers.write(check.verdict)
