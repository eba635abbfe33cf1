"""Peak activations over a set of images, the top images per filter, the disk cache, the task."""

import numpy as np
import pytest

from cifar_core import background, data
from cifar_core.display import pictures
from cifar_core.inspect import activations, top_activations
from cifar_core.models import saving


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(23, 32, 32, 3), dtype=np.uint8)


def test_peaks_are_the_spatial_maxima_of_every_stage(tiny_model, images):
    peaks = top_activations.peak_activations(tiny_model, images, batch_size=10)
    outputs = activations.extractor(tiny_model)(images)
    assert list(peaks) == activations.stage_layer_names(tiny_model)
    for name, table in peaks.items():
        assert table.shape == (23, outputs[name].shape[-1])
        np.testing.assert_allclose(table, outputs[name].max(axis=(1, 2)), rtol=1e-5, atol=1e-6)


def test_peak_positions_point_at_the_peaks(tiny_model, images):
    peaks = top_activations.peak_activations(tiny_model, images, ["conv2"])["conv2"]
    positions = top_activations.peak_positions(tiny_model, "conv2", images[:5], 9)
    maps = activations.extractor(tiny_model)(images[:5])["conv2"]  # (5, 16, 16, 32)
    rows, columns = np.divmod(positions, 16)
    np.testing.assert_allclose(maps[np.arange(5), rows, columns, 9], peaks[:5, 9], rtol=1e-5)


def test_peak_boxes_and_framed_images(tiny_model, images):
    boxes = top_activations.peak_boxes(tiny_model, "conv2", [0, 16 * 5 + 5, 16 * 16 - 1])
    assert boxes == [(0, 0, 4, 4), (7, 7, 14, 14), (27, 27, 31, 31)]
    framed = top_activations.framed_images(images[:3], boxes, scale=3)
    assert framed.shape == (3, 96, 96, 3)
    assert (framed[1, 7 * 3, 7 * 3] == (255, 220, 0)).all()
    assert (framed[1, 8 * 3 + 1, 8 * 3 + 1] == images[1, 8, 8]).all()  # inside stays the image


def test_progress_is_reported_per_batch(tiny_model, images):
    calls = []
    top_activations.peak_activations(tiny_model, images, ["conv2"], batch_size=10,
                                     progress=lambda *call: calls.append(call))
    assert calls == [("peak activations", 10, 23), ("peak activations", 20, 23),
                     ("peak activations", 23, 23)]
    with pytest.raises(ValueError, match="batch_size"):
        top_activations.peak_activations(tiny_model, images, batch_size=0)


def test_top_images_sorted_by_peak():
    peaks = np.array([[1.0, 5.0], [3.0, 4.0], [2.0, 6.0]], np.float32)
    indices, values = top_activations.top_images(peaks, 0, count=2)
    assert indices.tolist() == [1, 2] and values.tolist() == [3.0, 2.0]
    with pytest.raises(ValueError, match="filter 2 out of range 0..1"):
        top_activations.top_images(peaks, 2)


def test_top_images_picture_frames_the_best_images_first(tiny_model, images):
    peaks = top_activations.peak_activations(tiny_model, images, ["conv2"])["conv2"]
    labels = np.arange(len(images)) % 10
    picture = top_activations.top_images_picture(tiny_model, "conv2", peaks, 4, images, labels,
                                                 data.CLASS_NAMES, count=3, columns=2)
    best = int(np.argmax(peaks[:, 4]))
    [position] = top_activations.peak_positions(tiny_model, "conv2", images[best:best + 1], 4)
    [box] = top_activations.peak_boxes(tiny_model, "conv2", [position])
    expected = pictures.labelled_mosaic(
        top_activations.framed_images(images[best:best + 1], [box]),
        [f"{data.CLASS_NAMES[labels[best]]} {peaks[best, 4]:.2f}"], 1, scale=1)
    assert picture.shape == (2 * (96 + 16) + 4, 2 * 96 + 4, 3)  # 3 tiles in 2 columns
    np.testing.assert_array_equal(picture[:96 + 16, :96], expected)  # the best one, top left


def test_disk_cache_round_trip_and_invalidation(tiny_model, images, tmp_path):
    path = saving.save_model(tiny_model, tmp_path / "tiny.keras")
    first = top_activations.load_or_compute(tiny_model, path, images)
    cached = top_activations.cache_path(path, images)
    assert cached.exists()
    calls = []
    again = top_activations.load_or_compute(tiny_model, path, images,
                                            progress=lambda *call: calls.append(call))
    assert calls == []  # Read from disk, not recomputed.
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert top_activations.cache_path(path, images[:5]) != cached
    saving.save_model(tiny_model, path)  # A retrained model file gets a new key.
    assert top_activations.cache_path(path, images) != cached


def test_a_damaged_cache_file_is_recomputed(tiny_model, images, tmp_path):
    path = saving.save_model(tiny_model, tmp_path / "tiny.keras")
    cached = top_activations.cache_path(path, images)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(b"PK\x03\x04 half a zip file")
    peaks = top_activations.load_or_compute(tiny_model, path, images)
    assert peaks["conv1"].shape == (23, 16)
    calls = []
    again = top_activations.load_or_compute(tiny_model, path, images,
                                            progress=lambda *call: calls.append(call))
    assert calls == []  # the damaged file was replaced by a good one
    np.testing.assert_array_equal(again["conv1"], peaks["conv1"])
    assert not list(cached.parent.glob(".tmp-*"))


def test_job_runs_in_the_background(tiny_model, images, tmp_path):
    path = saving.save_model(tiny_model, tmp_path / "tiny.keras")
    task = top_activations.peak_task(tiny_model, path, images)
    assert task.snapshot().state == "waiting"
    assert task.start().join(timeout=60)
    assert task.snapshot() == background.TaskSnapshot("finished", 23, 23)
    assert task.result["conv1"].shape == (23, 16)


def test_job_reports_failures(tmp_path, images, tiny_model):
    task = top_activations.peak_task(tiny_model, tmp_path / "missing.keras", images).start()
    assert task.join(timeout=60)
    snapshot = task.snapshot()
    assert snapshot.state == "failed" and "missing.keras" in snapshot.error
