"""The Train page's "What training changed": a run's weight and activation histograms.

Under the filter evolution of a run, sharing its epoch slider: for a chosen layer, its
weights' and its outputs' histograms after that epoch over the first recorded epoch's (in
grey), and their range, mean and spread epoch by epoch. The run recorder wrote the files
(``training.histograms``); a run recorded before them gets a note, not an error.
"""

import streamlit as st

from cifar_core.display import histogram_plots
from cifar_core.training import histograms

NO_HISTOGRAMS = ("This run has no weight and activation histograms: it was recorded before "
                 "the app kept them. Train a new run to see what training changes.")


def _nearest(available, epoch):
    """``epoch`` if it has histograms, else the latest one before it (or the first)."""
    earlier = [number for number in available if number <= epoch]
    return earlier[-1] if earlier else available[0]


def _epoch_name(epoch):
    return "before training" if epoch == 0 else f"after epoch {epoch}"


def histogram_section(record, epoch=None):
    """Draw the section for ``record`` (a ``runs.RunRecord``) at ``epoch``.

    ``epoch`` comes from the page's filter-evolution slider; None (a run with no filter
    snapshots) gives the section a slider of its own.
    """
    st.markdown("#### What training changed")
    available = histograms.epochs(record.path)
    if not available:
        st.info(NO_HISTOGRAMS, icon=":material/info:")
        return
    if epoch is None:
        epoch = st.select_slider("Histograms after epoch", available, value=available[-1],
                                 key=f"histogram_epoch_{record.id}")
    elif epoch not in available:
        shown = _nearest(available, epoch)
        st.caption(f"Epoch {epoch} has no histograms; showing {_epoch_name(shown)}.")
        epoch = shown
    current = histograms.load_epoch(record.path, epoch)
    if current is None:
        st.warning(f"The histograms {_epoch_name(epoch)} could not be read (a damaged file).",
                   icon=":material/warning:")
        return
    first = available[0]
    first_histograms = current if epoch == first else histograms.load_epoch(record.path, first)
    baseline = None if epoch == first else first_histograms
    # Start on the first layer that training changed by the end (not the fast nets' fixed
    # whitening conv1, whose histograms never move).
    last_histograms = histograms.load_epoch(record.path, available[-1]) or current
    start = histograms.first_changed_layer(last_histograms, first_histograms)
    layers = current.layers()
    layer = st.selectbox("Layer", layers, key=f"histogram_layer_{record.id}",
                         index=layers.index(start) if start in layers else 0,
                         help="Every layer with weights or an output worth a histogram, in "
                              "the network's order; it starts on the first whose weights "
                              "training changed.")
    log_heights = st.toggle("Logarithmic heights", key=f"histogram_log_{record.id}",
                            help="A ReLU layer outputs many exact zeros: their spike hides "
                                 "the rest of the histogram on a linear scale.")
    panels = histograms.comparison_panels(current, baseline, layer)
    st.plotly_chart(histogram_plots.histograms_figure(
        panels, current_name=_epoch_name(epoch),
        baseline_name=None if baseline is None else _epoch_name(first),
        title=f"{layer}: values {_epoch_name(epoch)}"
              + ("" if baseline is None else f" (grey: {_epoch_name(first)})"),
        log_y=log_heights), key=f"histograms_{record.id}")
    images = (f"its outputs on the first {current.images} test images (fixed, so epochs "
              "compare)" if current.images else "no outputs (the run had no test images)")
    if histograms.weights_unchanged(current, baseline, layer):
        st.caption(f"The weights of {layer} did not change: they are fixed, not trained "
                   "(a fixed layer's outputs change only if the layers before it learn).")
    st.caption(f"Weights: every value of the layer's kernel, bias and normalisation; "
               f"activations: {images}. Heights are densities, so histograms of different "
               f"ranges compare.")
    spread = histograms.spread_panels(record.path, layer)
    if len(available) > 1 and spread:
        st.plotly_chart(histogram_plots.spread_figure(
            spread, title=f"{layer}: range, mean and spread over epochs", epoch=epoch),
            key=f"histogram_spread_{record.id}")
