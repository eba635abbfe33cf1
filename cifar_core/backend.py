"""The one place that imports Keras, after setting TensorFlow's CPU options.

Every module of ours that needs Keras writes ``from cifar_core.backend import keras``
so that these settings are in force before TensorFlow is first imported:
- oneDNN kernels: TensorFlow leaves them off on AMD CPUs without AVX-512, where they
  train the seed CNN about 1.3x faster (measured; see README's benchmark table);
- a thread cap, so a training job cannot starve the web server on a 2-core machine;
- TensorFlow's C++ log chatter off.
Set the variables yourself before starting Python to override any of them, or set
``CIFAR_TF_DEFAULTS=1`` to leave TensorFlow's own defaults alone (the benchmarks' baseline:
the notebook as a user runs it).
"""

import os
from pathlib import Path

#: Whether TensorFlow keeps its own CPU defaults (no oneDNN switch, no thread cap).
TENSORFLOW_DEFAULTS = os.environ.get("CIFAR_TF_DEFAULTS") == "1"

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if not TENSORFLOW_DEFAULTS:
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

#: Threads TensorFlow may use inside one op and across ops; 0 means TensorFlow's default.
INTRA_OP_THREADS = 0 if TENSORFLOW_DEFAULTS else int(os.environ.get("CIFAR_TF_INTRA_THREADS", "0"))
INTER_OP_THREADS = 0 if TENSORFLOW_DEFAULTS else int(os.environ.get("CIFAR_TF_INTER_THREADS", "2"))

try:
    if INTRA_OP_THREADS:
        tf.config.threading.set_intra_op_parallelism_threads(INTRA_OP_THREADS)
    if INTER_OP_THREADS:
        tf.config.threading.set_inter_op_parallelism_threads(INTER_OP_THREADS)
except RuntimeError:
    # TensorFlow was initialised before us (another import path); its settings stand.
    pass


#: Where Linux lists the CPU's feature flags.
CPUINFO = Path("/proc/cpuinfo")


def cpu_features(names=("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile",
                         "amx_bf16")):
    """Which of the named CPU feature flags this machine has (Linux), in the given order."""
    try:
        flags = set(CPUINFO.read_text(encoding="utf-8", errors="replace").split())
    except OSError:  # not Linux
        return []
    return [name for name in names if name in flags]


def onednn_enabled():
    """Whether TensorFlow runs its oneDNN kernels in this process (None if it cannot say):
    by default on Intel CPUs with AVX512-VNNI, BF16 or AMX, off elsewhere."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:  # a TensorFlow build without this probe
        return None
    return bool(_pywrap_util_port.IsMklEnabled())


def bfloat16_is_native():
    """Whether bfloat16 compute runs on hardware made for it: a GPU, or a CPU with
    AVX512-BF16 or AMX (Linux's /proc/cpuinfo flags).

    Elsewhere TensorFlow emulates bfloat16 and trains slower than in float32, so the
    "auto" precision of our presets picks float32 there.
    """
    if tf.config.list_physical_devices("GPU"):
        return True
    return bool(set(cpu_features()) & {"avx512_bf16", "amx_bf16"})


__all__ = ["keras", "tf", "bfloat16_is_native", "cpu_features", "onednn_enabled"]
