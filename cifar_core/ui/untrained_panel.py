"""Layers: trained versus untrained, the same architecture with fresh random weights.

The untrained network is ``untrained.untrained_copy`` of the loaded model (a re-initialised
``clone_model``), so it works for any architecture: ours, designed or imported. It is built
once per model file and kept for the server (``st.cache_resource``).
"""

import numpy as np
import streamlit as st

from cifar_core.inspect import activations, convolution, kernels
from cifar_core.models import untrained
from cifar_core.ui.picture_display import show_picture


@st.cache_resource(show_spinner="Building an untrained copy of the network...", max_entries=8)
def untrained_model(path_text, modification_time, model_id, _model):
    """The re-initialised copy (seed 0) of the model loaded from ``path_text``.

    ``model_id`` (the loaded model's id) is part of the key: an imported model is loaded
    anew, wrapped with another input scaling, when its card changes and its file does not.
    """
    return untrained.untrained_copy(_model, seed=0)


def trained_versus_untrained(model, model_path, image, image_caption, layer, class_names, *,
                             per_map, by_mean):
    """Two columns: ``layer``'s feature maps and the first convolution's filters, each side."""
    st.header("Trained versus untrained")
    st.caption("The same image through the same architecture with fresh random weights (seed "
               "0), the kind training starts from. The feature maps show what training "
               "changed; first-layer filters often move only subtly in a few epochs.")
    untrained_network = untrained_model(str(model_path), model_path.stat().st_mtime_ns,
                                        id(model), model)
    first = convolution.first_convolution(model)
    sides = st.columns(2)
    for side, name, network in ((sides[0], "trained", model),
                                (sides[1], "untrained", untrained_network)):
        result = activations.extractor(network)(image)
        picture, _ = activations.feature_map_mosaic(result[layer][0], per_map=per_map,
                                                    sort_by_mean=by_mean, tile_pixels=64)
        chance = result["probabilities"][0]
        show_picture(side, picture, f"{layer}, {name}: says "
                     f"{class_names[int(np.argmax(chance))]} ({chance.max():.0%})",
                     alt=f"The {layer} feature maps of the {name} network for {image_caption}")
        picture, count = kernels.first_filters_picture(network, first)
        show_picture(side, picture, f"{first} filters, {name}",
                     alt=f"The {count} {first} filters of the {name} network")
