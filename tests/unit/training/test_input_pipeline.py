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


# --- augmented_views: one image as training shows it, pass by pass ---------------------

def reference_views(image):
    """{(mirrored, dy, dx): view} for every flip and shift of up to 2 pixels, in NumPy:
    the window of the reflect-padded image (TensorFlow's REFLECT is NumPy's "reflect")."""
    views = {}
    for mirrored in (False, True):
        source = image[:, ::-1] if mirrored else image
        padded = np.pad(source, ((2, 2), (2, 2), (0, 0)), mode="reflect")  # (36, 36, 3)
        for top in range(5):
            for left in range(5):
                views[(mirrored, top - 2, left - 2)] = padded[top:top + 32, left:left + 32]
    return views


def which_views(image, views):
    """(mirrored, dy, dx) of each view; fails for a view no flip-and-shift makes."""
    reference = reference_views(image)
    found = []
    for view in views:
        matches = [key for key, candidate in reference.items() if np.array_equal(view, candidate)]
        assert len(matches) == 1, "a view that is not the image flipped and shifted <= 2 px"
        found.append(matches[0])
    return found


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(5).integers(0, 256, (32, 32, 3)).astype(np.uint8)


def test_augmented_views_are_the_image_mirrored_or_not_and_shifted_at_most_2_pixels(image):
    views = input_pipeline.augmented_views(image, 64, seed=1)
    assert views.shape == (64, 32, 32, 3) and views.dtype == np.uint8
    found = which_views(image, views)
    assert 0 < sum(mirrored for mirrored, _, _ in found) < 64  # flips at random
    assert len({(dy, dx) for _, dy, dx in found}) > 10  # many of the 25 shifts
    assert all(abs(dy) <= 2 and abs(dx) <= 2 for _, dy, dx in found)


def test_alternating_views_are_mirrored_in_every_other_pass(image):
    found = which_views(image, input_pipeline.augmented_views(image, 8, flip="alternating",
                                                              seed=2))
    mirrored = [flag for flag, _, _ in found]
    assert mirrored == [mirrored[0], not mirrored[0]] * 4


def test_same_seed_same_views_other_seed_other_views(image):
    first = input_pipeline.augmented_views(image, 12, seed=7)
    input_pipeline.augmented_views(image, 12, seed=8)  # draws in between change nothing
    np.testing.assert_array_equal(input_pipeline.augmented_views(image, 12, seed=7), first)
    assert not np.array_equal(input_pipeline.augmented_views(image, 12, seed=8), first)


@pytest.mark.parametrize(("arguments", "options", "message"), [
    ((np.zeros((32, 32), np.uint8), 4), {}, r"image must be \(32, 32, 3\)"),
    ((np.zeros((32, 32, 3), np.uint8), 0), {}, "count must be"),
    ((np.zeros((32, 32, 3), np.uint8), 2.5), {}, "count must be"),
    ((np.zeros((32, 32, 3), np.uint8), 4), {"flip": "sideways"}, "'sideways'"),
    ((np.zeros((32, 32, 3), np.uint8), 4), {"seed": -1}, "seed must be"),
])
def test_augmented_views_refuse_bad_arguments(arguments, options, message):
    with pytest.raises(ValueError, match=message):
        input_pipeline.augmented_views(*arguments, **options)
