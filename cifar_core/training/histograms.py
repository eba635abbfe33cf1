"""Per-epoch histograms of a run's weights and activations: the files and reading them back.

The run recorder (``recording.HistogramRecorder``, the TensorFlow side) summarises, before
training and after every epoch, each weight of each layer (kernel, bias, batch norm's
gamma/beta/moving statistics) and each layer's output on a fixed batch of test images as
a histogram of ``BINS`` bins spanning that array's own range at that epoch. One epoch is one
small file, ``histograms/epoch_NNN.npz`` in the run folder (tens of kB), holding:

    kinds            (H,) str     "weights" or "activations"
    layers           (H,) str     the layer's name (conv1, batchnorm2, ...)
    names            (H,) str     "conv1/kernel", "conv1/bias", ... or the layer name
    counts           (H, BINS) int32   finite values per bin
    edges            (H, BINS + 1) float64   bin edges, from the minimum to the maximum
    totals           (H,) int64   values summarised, non-finite ones (NaN, inf) included
    sums, sums_of_squares (H,) float64   of the finite values (mean and spread)
    ranges           (H, 2) float64   the finite values' minimum and maximum (NaN if none)
    images           ()  int64    how many test images the activations came from

This module is NumPy only (no TensorFlow), so the Train page reads runs cheaply; a run
recorded before histograms existed simply has no such files (``epochs`` is empty).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cifar_core import storage
from cifar_core.display import histogram_plots

#: Bins per histogram: fine enough to see a shape, small enough that an epoch is tens of kB.
BINS = 40
#: Test images whose activations are summarised: the first ones of the test split, fixed so
#: that epochs compare (the same images as the start of the validation subset).
IMAGE_COUNT = 256
KINDS = ("weights", "activations")
FOLDER = "histograms"
#: The key ``storage.save_arrays`` tags each file with; a file of another format reads as none.
FORMAT = "histograms-v1"
_FIELDS = ("kinds", "layers", "names", "counts", "edges", "totals", "sums", "sums_of_squares",
           "ranges")


@dataclass(frozen=True)
class Histogram:
    """One array's histogram at one epoch."""

    kind: str  # "weights" or "activations"
    layer: str
    name: str  # "conv1/kernel" for a weight, the layer's name for its activations
    counts: np.ndarray  # (bins,) int32, finite values only
    edges: np.ndarray  # (bins + 1,) float64
    total: int  # every value, non-finite ones included
    sum: float
    sum_of_squares: float
    low: float  # the smallest finite value (NaN if none); the edges may reach further
    high: float

    @property
    def finite(self):
        """How many values were finite (the counts add up to this)."""
        return int(self.counts.sum())

    @property
    def mean(self):
        return self.sum / self.finite if self.finite else float("nan")

    @property
    def std(self):
        if not self.finite:
            return float("nan")
        return float(np.sqrt(max(0.0, self.sum_of_squares / self.finite - self.mean ** 2)))

    @property
    def density(self):
        """Counts per unit of value, each bin divided by its width and the finite count.

        Bins differ in width from epoch to epoch (each spans its own range), so densities,
        not counts, are what compare across epochs (each integrates to 1).
        """
        widths = np.diff(self.edges)
        return self.counts / max(1, self.finite) / np.where(widths > 0, widths, 1.0)


def summarise(values, bins=BINS):
    """The histogram fields of one array in NumPy: the reference the recorder is tested on.

    Returns ``(counts, edges, total, sum, sum_of_squares, low, high)`` as the file has them:
    bins span the finite values' range; a constant array (a zero bias) gets the range
    value +- 0.5, as ``np.histogram`` does; an array with no finite value gets 0..1.
    """
    if int(bins) < 1:
        raise ValueError(f"bins must be at least 1, not {bins!r}")
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    start, stop = (low - 0.5, high + 0.5) if high <= low else (low, high)
    counts, edges = np.histogram(finite, bins=int(bins), range=(start, stop))
    if not finite.size:
        low = high = float("nan")
    return (counts.astype(np.int32), edges, values.size, float(finite.sum()),
            float(np.square(finite).sum()), low, high)


def epoch_path(run_path, epoch):
    """Where the histograms after ``epoch`` (0 = before training) are stored."""
    return Path(run_path) / FOLDER / f"epoch_{int(epoch):03d}.npz"


def save_epoch(run_path, epoch, histograms, *, images):
    """Write one epoch's histograms (a list of ``Histogram``) atomically."""
    if not histograms:
        raise ValueError(f"no histograms to save for epoch {epoch!r}")
    bins = {len(histogram.counts) for histogram in histograms}
    if len(bins) != 1:
        raise ValueError(f"histograms of one epoch must share a bin count, got {sorted(bins)}")
    kinds = {histogram.kind for histogram in histograms} - set(KINDS)
    if kinds:
        raise ValueError(f"unknown histogram kind(s) {sorted(kinds)}; use {KINDS}")
    arrays = {
        "kinds": np.array([h.kind for h in histograms]),
        "layers": np.array([h.layer for h in histograms]),
        "names": np.array([h.name for h in histograms]),
        "counts": np.stack([h.counts for h in histograms]).astype(np.int32),  # (H, bins)
        "edges": np.stack([h.edges for h in histograms]).astype(np.float64),  # (H, bins + 1)
        "totals": np.array([h.total for h in histograms], dtype=np.int64),
        "sums": np.array([h.sum for h in histograms], dtype=np.float64),
        "sums_of_squares": np.array([h.sum_of_squares for h in histograms], dtype=np.float64),
        "ranges": np.array([(h.low, h.high) for h in histograms], dtype=np.float64),  # (H, 2)
        "images": np.array(int(images), dtype=np.int64),
    }
    storage.save_arrays(epoch_path(run_path, epoch), arrays, key=FORMAT)


def epochs(run_path):
    """Epoch numbers that have a histogram file, in order (empty for older runs)."""
    folder = Path(run_path) / FOLDER
    found = (path.stem.split("_")[-1] for path in folder.glob("epoch_*.npz"))
    return sorted(int(number) for number in found if number.isdigit())


@dataclass(frozen=True)
class EpochHistograms:
    """Every histogram recorded after one epoch."""

    epoch: int
    images: int  # test images behind the activations
    histograms: tuple

    def layers(self):
        """Layer names in the model's order (the recorder's order), each once."""
        return list(dict.fromkeys(histogram.layer for histogram in self.histograms))

    def of_layer(self, layer):
        """The layer's histograms: its weights first, then its activations."""
        return [histogram for histogram in self.histograms if histogram.layer == layer]


def load_epoch(run_path, epoch):
    """The histograms after ``epoch``, or None if that file is missing or unreadable."""
    arrays = storage.load_arrays(epoch_path(run_path, epoch), key=FORMAT)
    if arrays is None or any(field not in arrays for field in _FIELDS):
        return None
    count = len(arrays["names"])
    if any(len(arrays[field]) != count for field in _FIELDS):
        return None
    histograms = tuple(
        Histogram(str(arrays["kinds"][index]), str(arrays["layers"][index]),
                  str(arrays["names"][index]), arrays["counts"][index], arrays["edges"][index],
                  int(arrays["totals"][index]), float(arrays["sums"][index]),
                  float(arrays["sums_of_squares"][index]), *map(float, arrays["ranges"][index]))
        for index in range(count))
    return EpochHistograms(int(epoch), int(arrays.get("images", 0)), histograms)


def weights_unchanged(current, baseline, layer):
    """Whether ``layer`` has weights and each one's histogram is the same in both epochs
    (a frozen layer, such as the fast nets' whitening conv1)."""
    if baseline is None:
        return False
    earlier = {h.name: h for h in baseline.of_layer(layer) if h.kind == "weights"}
    now = [h for h in current.of_layer(layer) if h.kind == "weights"]
    return bool(now) and all(
        h.name in earlier and np.array_equal(h.counts, earlier[h.name].counts)
        and np.array_equal(h.edges, earlier[h.name].edges) for h in now)


def first_changed_layer(current, baseline):
    """The first layer whose weights moved between the epochs (the view's starting layer),
    else the first layer."""
    layers = current.layers()
    moved = [layer for layer in layers if any(h.kind == "weights" for h in current.of_layer(layer))
             and not weights_unchanged(current, baseline, layer)]
    return (moved or layers)[0]


def panel_title(histogram):
    """What a chart panel says it shows: "conv1/kernel" (a weight), "conv1 output"."""
    return histogram.name if histogram.kind == "weights" else f"{histogram.layer} output"


def comparison_panels(current, baseline, layer):
    """Panels of ``layer``'s histograms in ``current`` (an EpochHistograms), each over the
    same histogram in ``baseline`` (another epoch, or None), as densities."""
    earlier = {} if baseline is None else {h.name: h for h in baseline.of_layer(layer)}
    panels = []
    for histogram in current.of_layer(layer):
        before = earlier.get(histogram.name)
        panels.append(histogram_plots.HistogramPanel(
            panel_title(histogram), histogram.edges, histogram.density,
            None if before is None else before.edges, None if before is None else before.density))
    if not panels:
        raise ValueError(f"epoch {current.epoch} has no histograms of layer {layer!r}")
    return panels


def spread_panels(run_path, layer, chosen_epochs=None):
    """``layer``'s statistics epoch by epoch (``histogram_plots.SpreadPanel`` each);
    unreadable epoch files are skipped."""
    series = {}
    for epoch in chosen_epochs if chosen_epochs is not None else epochs(run_path):
        loaded = load_epoch(run_path, epoch)
        for histogram in loaded.of_layer(layer) if loaded is not None else ():
            series.setdefault(histogram.name, []).append((epoch, histogram))
    panels = []
    for points in series.values():
        finite = [(epoch, h) for epoch, h in points if h.finite]  # all NaN: no statistics
        if finite:
            panels.append(histogram_plots.SpreadPanel(
                panel_title(finite[0][1]), tuple(epoch for epoch, _ in finite),
                tuple(h.mean for _, h in finite), tuple(h.std for _, h in finite),
                tuple(h.low for _, h in finite), tuple(h.high for _, h in finite)))
    return panels
