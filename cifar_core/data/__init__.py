"""CIFAR-10 on disk and in memory: find, download, parse, cache, browse. NumPy only.

- ``cifar10``: the search order (a path, ``$CIFAR10_PATH``, Keras' cache, ours, a download)
  and the loader's API, re-exported here: ``load_cifar10``, ``find_cifar10``,
  ``download_cifar10``, ``cache_dir``, ``Cifar10``, ``CLASS_NAMES``, ``DatasetError``.
- ``sources``: reading an archive or an extracted folder, python or binary version.
- ``batches``: the restricted unpickler and one batch file's parsing.
- ``decoded_cache``: parsed arrays as memory-mappable ``.npy`` files, checked, atomic.
- ``download``: an HTTP download with its MD5 checked, written atomically.
- ``browse``: which images a grid page shows, class counts, ``/ 255`` normalisation.
- ``photos``: safe decoding of uploaded photos and their way down to 32 x 32.

No TensorFlow is imported here or below (a test checks), so the Home and Dataset pages
come up without it.
"""

from cifar_core.data.cifar10 import (
                                     CLASS_NAMES,
                                     Cifar10,
                                     DatasetError,
                                     cache_dir,
                                     download_cifar10,
                                     find_cifar10,
                                     load_cifar10,
                                     progress_printer,
)

__all__ = ["CLASS_NAMES", "Cifar10", "DatasetError", "cache_dir", "download_cifar10",
           "find_cifar10", "load_cifar10", "progress_printer"]
