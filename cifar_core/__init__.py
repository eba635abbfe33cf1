"""Everything in the CIFAR-10 CNN Explorer that is not UI.

Importing the package is cheap: no TensorFlow. Modules that need Keras import it
through ``cifar_core.backend``; ``cifar_core.data`` needs only NumPy so the Home and
Dataset pages come up without TensorFlow's multi-second import.
"""
