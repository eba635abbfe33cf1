"""What a filter wants to see: the input that excites a filter or a class most.

Feature visualisation (activation maximisation, as Lucid and tf-keras-vis do it): start from
faint noise and climb the gradient of one objective with respect to the *image*. Left alone,
the climb finds high-frequency patterns no person reads as anything, so the image is
regularised the way Lucid does:
- it is parameterised in Fourier space, each frequency scaled by 1 / frequency, so a step
  changes broad shapes as easily as fine detail instead of mostly pixel noise;
- its colours are decorrelated: the three channels are mixed by the square root of
  ImageNet's colour covariance (Lucid's matrix), then squashed by a sigmoid into 0..255,
  the raw pixel range our models take (their first layer rescales by 1 / 255);
- every step sees it shifted by a random jitter (a pixel by default, reflect padding), so
  only patterns that excite the filter wherever they sit survive.
The defaults (128 Adam steps of 0.2, 1 / frequency) won most often against the best test
image in a sweep on the shipped models; a steeper decay helps conv1's flat-colour filters
but blurs deeper layers' and the classes' pictures.

The objective is a filter's activation map averaged over positions (the layer's own output,
what the Layers page shows) or a class's score before the softmax (its logit; a confident
softmax leaves almost no gradient). A ReLU filter that is silent on the start image has no
gradient, so the climb adds a tenth of its pre-activation (``filter_scores``). A whole
batch is optimised at once, one image per filter, so a layer's grid costs about as much as
one picture. Each image's start and the jitter depend only on the settings' seed and its
filter, so one filter alone and the same filter in its layer's grid give the same picture.

Honesty check: the same objective is measured on the final image (rounded to uint8, what
is shown) and on every test image; the best test image's value is reported beside it.
"""

import dataclasses

import numpy as np

from cifar_core.backend import keras, tf
from cifar_core.inspect import inference, kernels
from cifar_core.models import architectures, layer_graph

#: The cache folder's name for synthesised images and the test images' scores.
CACHE_KIND = "feature-visualisation"
#: Lucid's square root of ImageNet's colour correlation, columns scaled to norm <= 1.
_COLOUR_CORRELATION = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]],
                               np.float32)
_COLOUR_MIX = _COLOUR_CORRELATION / np.max(np.linalg.norm(_COLOUR_CORRELATION, axis=0))
#: Images per forward pass over the test images.
BATCH_SIZE = 500


@dataclasses.dataclass(frozen=True)
class Settings:
    """How an image is synthesised; each setting is part of the cache key."""

    steps: int = 128  # gradient-ascent steps
    learning_rate: float = 0.2  # Adam's step size in the Fourier parameters
    jitter: int = 1  # random shift of up to this many pixels each step
    decay: float = 1.0  # the spectrum's 1 / frequency ** decay scaling
    seed: int = 0  # the start images and the jitter sequence

    def __post_init__(self):
        if int(self.steps) != self.steps or self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if int(self.jitter) != self.jitter or not 0 <= self.jitter <= 8:
            raise ValueError(f"jitter must be an integer 0..8 pixels, got {self.jitter!r}")
        if not 0 <= self.decay <= 2:
            raise ValueError(f"decay must be in 0..2, got {self.decay!r}")

    def key(self):
        """The settings as text, for cache file names."""
        return (f"steps={self.steps},lr={self.learning_rate},jitter={self.jitter},"
                f"decay={self.decay},seed={self.seed}")


# --- objectives: images -> (N, channels) scores ------------------------------------------

def conv_layers(model):
    """The model's conv layer names; ValueError if it has none (nothing to visualise)."""
    names = architectures.conv_layer_names(model)
    if not names:
        raise ValueError(f"model {model.name!r} has no convolution layer: there is no filter "
                         "to visualise")
    return names


def check_filters(model, layer, filters):
    """``filters`` as an int array after checking the layer and every index; else ValueError."""
    names = conv_layers(model)
    if layer not in names:
        raise ValueError(f"{layer!r} is not a conv layer of model {model.name!r}; "
                         f"choose one of {names}")
    count = layer_graph.output_of(model, layer).shape[-1]
    filters = np.asarray(filters).reshape(-1)  # one index or many -> (N,)
    if filters.size == 0 or not np.issubdtype(filters.dtype, np.integer):
        raise ValueError(f"filters must be one or more integers, got {filters!r}")
    bad = filters[(filters < 0) | (filters >= count)]
    if bad.size:
        raise ValueError(f"filter {int(bad[0])} out of range 0..{count - 1} of {layer}")
    return filters.astype(np.int64)


def filter_scores(model, layer, *, for_climbing=False):
    """A function images (N, 32, 32, 3) in 0..255 -> (N, filters): each map's mean.

    With ``for_climbing`` a conv layer with its own nonlinearity (the seed's ReLU) scores
    ``activation + 0.1 * pre-activation``: a filter silent everywhere on the start image
    has no ReLU gradient, and this leak lets the climb find where it fires. Reported
    numbers always use the plain activation.
    """
    conv_layers(model)
    conv = model.get_layer(layer)
    linear = getattr(conv, "activation", None) in (None, keras.activations.linear)
    if not for_climbing or linear:
        layer_model = keras.Model(model.input, layer_graph.output_of(model, conv))
        return lambda images: tf.reduce_mean(layer_model(images, training=False), axis=(1, 2))
    inputs_model = keras.Model(model.input, layer_graph.input_of(model, conv))

    def scores(images):
        pre = kernels.pre_activation(conv, inputs_model(images, training=False))  # (N,h,w,C)
        return tf.reduce_mean(conv.activation(pre) + 0.1 * pre, axis=(1, 2))  # (N, C)

    return scores


def class_scores(model):
    """A function images (N, 32, 32, 3) in 0..255 -> (N, classes): scores before the softmax."""
    scores = inference.class_scores(model)
    return lambda images: scores(images)[1]


# --- the image's parameterisation --------------------------------------------------------

def _spectrum_scale(side, decay):
    """(side, side // 2 + 1): 1 / frequency ** decay, as Lucid scales its Fourier image."""
    frequencies = np.sqrt(np.fft.fftfreq(side)[:, None] ** 2
                          + np.fft.rfftfreq(side)[None, :] ** 2)
    return (side / np.maximum(frequencies, 1.0 / side) ** decay).astype(np.float32)


def _images_from_spectrum(spectrum, scale):
    """Fourier parameters (N, 3, side, side // 2 + 1, 2) -> images (N, side, side, 3) 0..255."""
    complex_spectrum = tf.complex(spectrum[..., 0] * scale, spectrum[..., 1] * scale)
    side = spectrum.shape[2]
    planes = tf.signal.irfft2d(complex_spectrum, fft_length=[side, side])  # (N, 3, side, side)
    decorrelated = tf.transpose(planes, (0, 2, 3, 1)) / 4.0  # -> (N, side, side, 3)
    mixed = tf.tensordot(decorrelated, tf.constant(_COLOUR_MIX.T), axes=1)
    return tf.sigmoid(mixed) * 255.0


def _start_spectra(targets, side, seed):
    """Faint noise per image, drawn from (seed, target): the same start alone or in a grid."""
    shape = (3, side, side // 2 + 1, 2)
    return np.stack([np.random.default_rng([seed, int(target)]).normal(0, 0.01, shape)
                     for target in targets]).astype(np.float32)


def _jitter_offsets(settings):
    """(steps, 2) random shifts in 0..2 * jitter, the same for every image of a run."""
    rng = np.random.default_rng([settings.seed, 1])
    return rng.integers(0, 2 * settings.jitter + 1, size=(settings.steps, 2)).astype(np.int32)


def synthesise(scores, targets, settings=Settings(), *, side=32, progress=None):
    """Images that maximise ``scores(images)[i, targets[i]]``: uint8 (N, side, side, 3).

    ``scores`` is ``filter_scores`` or ``class_scores``; ``progress(stage, step, steps)`` is
    called after every step, so a background task can stop between two steps.
    """
    targets = np.asarray(targets, np.int64).reshape(-1)
    if targets.size == 0:
        raise ValueError("targets must name at least one filter or class")
    spectrum = tf.Variable(_start_spectra(targets, side, settings.seed))
    first_moment = tf.Variable(tf.zeros_like(spectrum))
    second_moment = tf.Variable(tf.zeros_like(spectrum))
    scale = tf.constant(_spectrum_scale(side, settings.decay))
    picks = tf.constant(np.stack([np.arange(targets.size), targets], axis=1))  # (N, 2)
    jitter, beta1, beta2 = settings.jitter, 0.9, 0.999

    @tf.function
    def step(offset, count):
        with tf.GradientTape() as tape:
            images = _images_from_spectrum(spectrum, scale)
            if jitter:
                padded = tf.pad(images, [[0, 0], [jitter, jitter], [jitter, jitter], [0, 0]],
                                mode="REFLECT")
                images = padded[:, offset[0]:offset[0] + side, offset[1]:offset[1] + side]
            objective = tf.reduce_sum(tf.gather_nd(scores(images), picks))
        gradient = -tape.gradient(objective, spectrum)  # ascent: Adam minimises the negative
        first_moment.assign(beta1 * first_moment + (1 - beta1) * gradient)
        second_moment.assign(beta2 * second_moment + (1 - beta2) * gradient ** 2)
        corrected = (first_moment / (1 - beta1 ** count)) / (
            tf.sqrt(second_moment / (1 - beta2 ** count)) + 1e-8)
        spectrum.assign_sub(settings.learning_rate * corrected)

    for index, offset in enumerate(_jitter_offsets(settings)):
        step(tf.constant(offset), tf.constant(index + 1, tf.float32))
        if progress is not None:
            progress("gradient ascent", index + 1, settings.steps)
    images = _images_from_spectrum(spectrum, scale).numpy()
    return np.clip(np.round(images), 0, 255).astype(np.uint8)


def measure(scores, images, targets):
    """``scores`` of each image for its own target: float32 (N,)."""
    values = scores(tf.constant(images, tf.float32)).numpy()  # (N, channels)
    return values[np.arange(len(values)), np.asarray(targets)].astype(np.float32)


def best_test_scores(scores, images, *, batch_size=BATCH_SIZE, progress=None):
    """For every channel: (index of the image that scores highest, its score) over ``images``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    forward = tf.function(scores)
    best_values, best_indices = None, None
    for start in range(0, len(images), batch_size):
        values = forward(tf.constant(images[start:start + batch_size], tf.float32)).numpy()
        batch_best = values.argmax(axis=0)  # (batch, channels) -> (channels,)
        batch_values = values[batch_best, np.arange(values.shape[1])]
        if best_values is None:
            best_values, best_indices = batch_values, batch_best + start
        else:
            better = batch_values > best_values
            best_values = np.where(better, batch_values, best_values)
            best_indices = np.where(better, batch_best + start, best_indices)
        if progress is not None:
            progress("test images", min(start + batch_size, len(images)), len(images))
    return best_indices.astype(np.int64), best_values.astype(np.float32)
