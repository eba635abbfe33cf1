"""What every model of ours is, without TensorFlow: names, input, output, precisions.

Configs and the command line check architecture names against this at once, before the
seconds-long TensorFlow import; ``architectures`` builds exactly these (it asserts so).
"""

#: Architecture names, in the order the app lists them (``architectures.ARCHITECTURES``).
ARCHITECTURE_NAMES = ("seed", "fast", "fast-small", "tiny")
#: One RGB image as every model takes it: raw 0-255 values, rescaled inside the model.
IMAGE_SHAPE = (32, 32, 3)
#: CIFAR-10's classes, in the order of ``data.CLASS_NAMES``: the width of every model's output.
NUM_CLASSES = 10
#: Keras class names of the convolution-like layers every page explores (by type, any name).
CONVOLUTION_CLASS_NAMES = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
#: Compute precisions a model can be built in (weights stay float32 either way).
PRECISIONS = ("float32", "mixed_bfloat16")
