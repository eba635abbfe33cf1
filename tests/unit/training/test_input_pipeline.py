"""The input pipeline: augmentation without interpolation, passes, shuffles, flips."""

import numpy as np
import pytest

from cifar_core.training import input_pipeline


def test_augment_batch_flips_and_shifts_without_interpolation():
    images = np.random.default_rng(1).integers(0, 256, (16, 32, 32, 3)).astype("float32")
    augmented = np.asarray(input_pipeline.augment_batch(images))
    assert augmented.shape == images.shape
    # Every output pixel value comes from the input image (integer shifts, reflect padding).
    for original, changed in zip(images, augmented):
        assert np.isin(changed, original).all()
    center_match = [np.array_equal(a[2:-2, 2:-2], b[2:-2, 2:-2]) for a, b in zip(images, augmented)]
    assert not all(center_match)


def half_bright_images(count):
    """Images dark on the left and bright on the right, image i at brightness 100 + i: a
    mirror image is bright on the left, whatever 2-pixel shift augmentation adds."""
    images = np.zeros((count, 32, 32, 3), np.uint8)
    images[:, :, 16:] = (100 + np.arange(count, dtype=np.uint8))[:, None, None, None]
    return images


def mirrored_per_pass(flip, count=24, epochs=4, batch_size=5):
    """{image number: [mirrored in pass 0, pass 1, ...]} as make_dataset delivers them."""
    dataset = input_pipeline.make_dataset(half_bright_images(count), np.zeros(count, np.int64),
                                    batch_size, shuffle=True, augment=True, seed=3,
                                    epochs=epochs, flip=flip)
    seen = {index: [] for index in range(count)}
    batches = list(dataset.as_numpy_iterator())
    assert len(batches) == epochs * -(-count // batch_size)  # each pass batched on its own
    for images, _ in batches:
        for image in images:
            seen[int(image.max()) - 100].append(bool(image[:, :8].mean() > image[:, -8:].mean()))
    assert all(len(passes) == epochs for passes in seen.values())
    return seen


def test_alternating_flip_mirrors_each_image_in_every_other_pass():
    seen = mirrored_per_pass("alternating")
    for passes in seen.values():
        assert passes == [passes[0], not passes[0]] * 2
    assert 0 < sum(passes[0] for passes in seen.values()) < len(seen)  # the first pass: random


def test_random_flip_mirrors_some_images_in_every_pass_and_does_not_alternate():
    seen = mirrored_per_pass("random")
    for epoch in range(4):
        assert 0 < sum(passes[epoch] for passes in seen.values()) < len(seen)
    assert any(passes[1] == passes[0] or passes[2] == passes[1] for passes in seen.values())


def test_each_pass_is_shuffled_anew_and_reproducibly():
    images = half_bright_images(20)

    def orders(seed):
        dataset = input_pipeline.make_dataset(images, np.zeros(20, np.int64), 20, shuffle=True,
                                              seed=seed, epochs=3)
        return [tuple(batch.max(axis=(1, 2, 3)).astype(int))
                for batch, _ in dataset.as_numpy_iterator()]

    first = orders(1)
    assert len(set(first)) == 3  # three different orders
    assert all(sorted(order) == list(range(100, 120)) for order in first)  # each a permutation
    assert orders(1) == first
    assert orders(2) != first
    with pytest.raises(ValueError, match="'sideways'"):
        input_pipeline.make_dataset(images, np.zeros(20, np.int64), 4, flip="sideways")
