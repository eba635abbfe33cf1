"""The app's link to Ray: connecting once, each run's resources, the dataset's one copy.

- ``connect(address)``: ``ray.init`` once per process, at ``$CIFAR_RAY_ADDRESS`` or a Ray
  of this machine's own; for a cluster, this package's code travels to the workers.
- ``resources()``: the CPUs and GPUs one run asks for (``$CIFAR_RAY_CPUS``,
  ``$CIFAR_RAY_GPUS``); ``start_timeout()``: how long a run waits for a worker with them.
- ``dataset_ref(data)``: the dataset's arrays in Ray's object store, put once per process
  and dataset, so a sweep of twelve runs ships 180 MB once, not twelve times.
No TensorFlow here, and Ray only when a function is called (the default install has none).
"""

import os
import threading
from pathlib import Path

from cifar_core.training import backends, ray_worker

#: Datasets kept in the object store per process (each is put once).
KEPT_DATASETS = 2

_connect_lock = threading.Lock()
_datasets_lock = threading.Lock()
_datasets = {}  # (id(data), Ray job id) -> (data, ObjectRef); data kept so its id stays its


def import_ray():
    """The ``ray`` module, imported now."""
    import ray  # Only the Ray backend needs it; requirements-cluster.txt installs it.

    return ray


def _number_setting(name, default):
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {raw!r}")
    return value


def resources():
    """(CPUs, GPUs) each run asks Ray for: ``$CIFAR_RAY_CPUS`` (default 1, at least 1) and
    ``$CIFAR_RAY_GPUS`` (default 0; fractions share a GPU)."""
    cpus = _number_setting("CIFAR_RAY_CPUS", 1)
    if cpus < 1:
        raise ValueError(f"CIFAR_RAY_CPUS must be at least 1, got {cpus}")
    return cpus, _number_setting("CIFAR_RAY_GPUS", 0)


def start_timeout():
    """Seconds a run may wait for a worker with its resources: ``$CIFAR_RAY_START_SECONDS``
    (default 600) before it fails with a message saying what it asked for."""
    return _number_setting("CIFAR_RAY_START_SECONDS", 600)


def connect(address=None):
    """Connect this process to Ray once; returns the ``ray`` module.

    ``address`` (default ``$CIFAR_RAY_ADDRESS``): "" or "local" starts a Ray of this
    machine's own (the command line's ``--backend ray``); anything else is
    ``ray.init``'s address ("auto", "ray://head:10001"), and then this package's code
    travels to the workers (``py_modules``), which need only the same Python packages.
    A process already connected (a test's own ``ray.init``) stays as it is.
    """
    ray = import_ray()
    with _connect_lock:
        if ray.is_initialized():
            return ray
        address = backends.ray_address() if address is None else address.strip()
        if address in ("", "local"):
            # "local" starts a new Ray even where another one of this machine is running.
            ray.init(address="local", include_dashboard=False, log_to_driver=False)
        else:
            package = Path(__file__).resolve().parent.parent
            ray.init(address=address, log_to_driver=False,
                     runtime_env={"py_modules": [str(package)], "excludes": ["__pycache__"]})
    return ray


def dataset_fields(data):
    """The arrays a worker trains on, as a dict (what goes to the object store)."""
    return {name: getattr(data, name) for name in ray_worker.DATASET_FIELDS}


def dataset_ref(data):
    """The object-store reference of ``data``'s arrays, put once per process and dataset."""
    ray = import_ray()
    key = (id(data), ray.get_runtime_context().get_job_id())
    with _datasets_lock:
        if key not in _datasets:
            while len(_datasets) >= KEPT_DATASETS:
                del _datasets[next(iter(_datasets))]  # the oldest
            _datasets[key] = (data, ray.put(dataset_fields(data)))
        return _datasets[key][1]


def worker_class():
    """``ray_worker.TrainingWorker`` as a Ray actor class."""
    return import_ray().remote(ray_worker.TrainingWorker)
