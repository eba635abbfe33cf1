"""Predictions for a few images, and where the model looked (Grad-CAM, saliency).

Pages classify one or a handful of uploads at a time. ``model.predict`` costs about
50 ms of fixed overhead per call on these CPUs, so each model gets one ``tf.function``
around ``model(images, training=False)`` (traced once, about 1-4 ms an image after).
The Grad-CAM and saliency functions are traced once per model and layer, likewise.
Compiled functions live in a ``WeakKeyDictionary`` so they disappear with their model.
"""

import weakref

import numpy as np
import pandas as pd

from cifar_core.backend import keras, tf
from cifar_core.models import architectures, contract, layer_graph

#: What a model takes: a batch of raw 0-255 RGB images, 32x32.
IMAGE_SHAPE = contract.IMAGE_SHAPE

_BATCH_SPEC = tf.TensorSpec((None,) + IMAGE_SHAPE, tf.float32)
_IMAGE_SPEC = tf.TensorSpec((1,) + IMAGE_SHAPE, tf.float32)
_CLASS_SPEC = tf.TensorSpec((), tf.int32)

# model -> {key: compiled function}; entries vanish when the model is garbage-collected.
_COMPILED = weakref.WeakKeyDictionary()


def compiled(model, key, build):
    """The function ``build(model)`` made for ``model`` under ``key``, built once."""
    functions = _COMPILED.setdefault(model, {})
    if key not in functions:
        functions[key] = build(model)
    return functions[key]


def as_batch(images):
    """Images uint8 (32, 32, 3) or (N, 32, 32, 3) as a float32 batch (N, 32, 32, 3)."""
    images = np.asarray(images)
    if images.shape == IMAGE_SHAPE:
        images = images[None]  # (32, 32, 3) -> (1, 32, 32, 3)
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE or len(images) == 0:
        raise ValueError(f"expected images of shape (N, 32, 32, 3) or (32, 32, 3), "
                         f"got {images.shape}")
    return images.astype(np.float32)


def _build_predict(model):
    # A weak reference: a closure holding the model itself would keep the model (the
    # WeakKeyDictionary's key) alive for ever, and every evicted model with it.
    model_reference = weakref.ref(model)
    return tf.function(lambda batch: model_reference()(batch, training=False),
                       input_signature=[_BATCH_SPEC])


def predict(model, images):
    """Class probabilities float32 (N, 10) for uint8 images (N, 32, 32, 3) or one (32, 32, 3)."""
    forward = compiled(model, "predict", _build_predict)
    return forward(tf.constant(as_batch(images))).numpy()


def top_k(probabilities, k, class_names):
    """The ``k`` likeliest classes of one image as [(class name, probability), ...], best first."""
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()  # (1, 10) -> (10,)
    if len(probabilities) != len(class_names):
        raise ValueError(f"{len(probabilities)} probabilities for {len(class_names)} class names")
    if not 1 <= k <= len(class_names):
        raise ValueError(f"k must be between 1 and {len(class_names)}, got {k!r}")
    order = np.argsort(-probabilities, kind="stable")[:k]
    return [(class_names[index], float(probabilities[index])) for index in order]


def results_table(names, probabilities, class_names):
    """One row per image: file, top class, confidence (0-1), for display and CSV download."""
    probabilities = np.asarray(probabilities)
    if len(names) != len(probabilities):
        raise ValueError(f"{len(names)} names for {len(probabilities)} rows of probabilities")
    best = probabilities.argmax(axis=1)
    return pd.DataFrame({
        "file": list(names),
        "top class": [class_names[index] for index in best],
        "confidence": probabilities[np.arange(len(best)), best].astype(float),
    })


def class_scores(model, layer_names=()):
    """A function (images) -> (outputs of ``layer_names``, class scores before the softmax).

    Grad-CAM, saliency, the attributions and feature visualisation differentiate the
    class's logit, not its probability: a confident softmax has almost no gradient left.
    A model ending in a softmax ``Activation`` gives its input (the logits); one ending in
    a softmax ``Dense`` has its logits recomputed; any other last layer's output is taken
    as the scores themselves.
    """
    last = model.layers[-1]
    softmax = (getattr(last, "activation", None) is keras.activations.softmax
               or isinstance(last, keras.layers.Softmax))
    dense_softmax = softmax and isinstance(last, keras.layers.Dense)
    head = layer_graph.input_of(model, last) if softmax else layer_graph.output_of(model, last)
    features_model = keras.Model(
        model.inputs, [layer_graph.output_of(model, name) for name in layer_names] + [head])

    def scores(images):
        results = features_model(images, training=False)
        if not isinstance(results, (list, tuple)):
            results = [results]  # Keras returns a lone output bare, not in a list
        *outputs, last_output = results
        if dense_softmax:
            last_output = tf.matmul(last_output, last.kernel)  # (N, features) -> (N, 10)
            if last.use_bias:
                last_output = last_output + last.bias
        return outputs, last_output

    return scores


#: Layers that only rescale or gate a convolution's output element by element.
_ELEMENTWISE = (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.Dropout,
                keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.PReLU, keras.layers.ELU,
                keras.layers.LayerNormalization)


def activation_chain(model, conv_name):
    """Names from ``conv_name`` to its activated output: the layers that follow it alone.

    Follows the graph (not the order of ``model.layers``, which a residual network
    interleaves) while the output feeds exactly one layer that is element-wise (batch
    norm, an activation, dropout) or the residual ``Add`` closing a block.
    """
    layer = layer_graph.find_layer(model, conv_name)
    consumers = layer_graph.consumers(model)
    chain = [layer.name]
    while True:
        following = consumers.get(id(layer_graph.output_of(model, layer)), [])
        if len(following) != 1 or not isinstance(following[0], _ELEMENTWISE + (
                keras.layers.Add,)):
            return chain
        layer = following[0]
        chain.append(layer.name)


def activated_output(model, conv_name):
    """Name of the layer whose output is ``conv_name``'s maps once activated (or itself).

    Grad-CAM needs feature maps whose sign means "feature present": in the fast network
    a convolution's raw output is shifted by batch norm and passed through GELU after it;
    the last convolution of a ResNet block gives the block's activated output
    (``activation_chain``).
    """
    return activation_chain(model, conv_name)[-1]


def _build_grad_cam(model, layer_name):
    scores = class_scores(model, [activated_output(model, layer_name)])

    @tf.function(input_signature=[_IMAGE_SPEC, _CLASS_SPEC])
    def grad_cam_map(image, class_index):
        with tf.GradientTape() as tape:
            (feature_maps,), logits = scores(image)  # (1, h, w, c), (1, 10)
            class_score = logits[0, class_index]
        gradients = tape.gradient(class_score, feature_maps)  # (1, h, w, c)
        weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # (1, 1, 1, c)
        heat = tf.nn.relu(tf.reduce_sum(weights * feature_maps, axis=-1))  # (1, h, w)
        return heat[0]

    return grad_cam_map


def check_class(class_index):
    if int(class_index) != class_index or not 0 <= class_index < contract.NUM_CLASSES:
        raise ValueError(f"class_index must be an integer 0-9, got {class_index!r}")
    return int(class_index)


def _normalised(heat, size=IMAGE_SHAPE[:2]):
    """A float32 heat map resized (bilinear) to ``size`` and scaled to 0..1 (all 0 if flat)."""
    heat = tf.image.resize(heat[..., None], size, method="bilinear")[..., 0].numpy()  # (H, W)
    heat = np.maximum(heat, 0.0)
    top = heat.max()
    return (heat / top if top > 0 else np.zeros_like(heat)).astype(np.float32)


def grad_cam(model, image, class_index, layer_name=None):
    """Grad-CAM heat map float32 (32, 32) in 0..1: where ``layer_name`` saw ``class_index``.

    The layer defaults to the last convolution. Its feature maps are weighted by the mean
    gradient of the class's logit and summed; only the positive part is kept.
    """
    if layer_name is None:
        layer_name = architectures.conv_layer_names(model)[-1]
    if layer_name not in architectures.conv_layer_names(model):
        raise ValueError(f"layer_name must be one of {architectures.conv_layer_names(model)}, "
                         f"got {layer_name!r}")
    grad_cam_map = compiled(model, ("grad_cam", layer_name),
                             lambda model: _build_grad_cam(model, layer_name))
    heat = grad_cam_map(tf.constant(as_batch(image)[:1]), tf.constant(check_class(class_index)))
    return _normalised(heat)


def _build_saliency(model):
    scores = class_scores(model)

    @tf.function(input_signature=[_IMAGE_SPEC, _CLASS_SPEC])
    def saliency_map(image, class_index):
        with tf.GradientTape() as tape:
            tape.watch(image)
            _, logits = scores(image)
            class_score = logits[0, class_index]
        gradients = tape.gradient(class_score, image)  # (1, 32, 32, 3)
        return tf.reduce_max(tf.abs(gradients[0]), axis=-1)  # (32, 32)

    return saliency_map


def saliency(model, image, class_index):
    """Saliency map float32 (32, 32) in 0..1: how much each pixel sways the class's logit."""
    saliency_map = compiled(model, "saliency", _build_saliency)
    heat = saliency_map(tf.constant(as_batch(image)[:1]), tf.constant(check_class(class_index)))
    return _normalised(heat)

