"""Everything in the CIFAR-10 CNN Explorer that is not UI, and the UI helpers apart.

The rooms (each subpackage's ``__init__`` lists its modules and public names):

- ``data/``      CIFAR-10 found, downloaded, parsed, cached and browsed; uploaded photos.
                 NumPy only: never TensorFlow.
- ``models/``    what every model is (``contract``), the architectures, how the fast nets
                 start, ``.keras`` files and cards, the catalogue of available models.
- ``training/``  the config and presets, ``train()``, the input pipeline, run folders,
                 background jobs and their registry, the Train page's recipes and history.
- ``inspect/``   activations, receptive fields, the convolution by hand, top-activating
                 images, predictions with Grad-CAM and saliency, test-set evaluation.
- ``display/``   arrays into pictures and Plotly figures, durations into words.
- ``teaching/``  lessons for a class: their files, steps and deep links, checked.
- ``ui/``        the only place that imports Streamlit: URL state, cached loaders, pickers,
                 task and job panels, the lesson panel, projector mode.

Foundations beside them: ``backend`` (the one module that imports TensorFlow/Keras, after
setting its CPU options), ``storage`` (atomic writes, checked caches, the project root),
``background`` (tasks in daemon threads and their snapshots), ``exports`` (lazy
re-exports) and ``cli`` (``python -m cifar_core``). Importing the package is cheap: no
TensorFlow until a module that needs it is used.
"""
