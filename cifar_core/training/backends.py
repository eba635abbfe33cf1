"""Where training runs execute: a child process, a thread of the app, or a Ray cluster.

``$CIFAR_RAY_ADDRESS`` set (``auto`` for the cluster this machine belongs to,
``ray://head:10001`` for a remote head, ``local`` for a Ray started by the app itself):
each run trains as a Ray actor on whichever worker has its CPUs and GPUs
(``ray_jobs.RayTrainingJob``). Otherwise ``$CIFAR_TRAINING_BACKEND`` decides: "process"
(the default) trains each run in a child process at a lower CPU priority
(``process_jobs.ProcessTrainingJob``), so page reruns stay quick while it trains;
"thread" trains in a thread of the app's own process (``jobs.TrainingJob``, as before).
All job classes have the same interface, so the job registry, the queue and sweeps take
any of them from ``job_factory()``.

Nothing here imports Ray or TensorFlow: the setting is read cheaply, and the job class's
module is imported only when asked for.
"""

import os

#: The backends, by name.
BACKENDS = ("process", "thread", "ray")
#: Other names accepted for a backend: "local" was the thread backend's first name.
ALIASES = {"local": "thread"}
#: Where the app finds its Ray cluster; unset or empty: train on this machine.
ADDRESS_VARIABLE = "CIFAR_RAY_ADDRESS"
#: Which local backend trains when no Ray address is set: "process" (default) or "thread".
BACKEND_VARIABLE = "CIFAR_TRAINING_BACKEND"
#: Backends ``$CIFAR_TRAINING_BACKEND`` may name (Ray is chosen by its address).
LOCAL_BACKENDS = ("process", "thread")


def ray_address():
    """``$CIFAR_RAY_ADDRESS`` without surrounding spaces ("" when unset)."""
    return os.environ.get(ADDRESS_VARIABLE, "").strip()


def backend_name():
    """"ray" when ``$CIFAR_RAY_ADDRESS`` is set, else ``$CIFAR_TRAINING_BACKEND`` ("process"
    when unset or empty; "thread" allowed); ValueError naming any other value."""
    if ray_address():
        return "ray"
    setting = os.environ.get(BACKEND_VARIABLE, "").strip().lower() or "process"
    name = ALIASES.get(setting, setting)
    if name not in LOCAL_BACKENDS:
        raise ValueError(f"{BACKEND_VARIABLE} must be one of {LOCAL_BACKENDS}, not "
                         f"{os.environ[BACKEND_VARIABLE]!r} (Ray is chosen by setting "
                         f"{ADDRESS_VARIABLE})")
    return name


def job_factory(name=None):
    """The job class of backend ``name`` (default: ``backend_name()``).

    Called as ``factory(config, data, runs_dir, *, job_id, owner, resume, on_done,
    callbacks)``, it returns a job with ``id``, ``config``, ``owner``, ``start()``,
    ``stop()``, ``join(timeout)``, ``snapshot()`` and ``stop_requested``.
    """
    name = backend_name() if name is None else ALIASES.get(name, name)
    if name == "thread":
        from cifar_core.training import jobs

        return jobs.TrainingJob
    if name == "process":
        from cifar_core.training import process_jobs

        return process_jobs.ProcessTrainingJob
    if name == "ray":
        from cifar_core.training import ray_jobs

        return ray_jobs.RayTrainingJob
    raise ValueError(f"backend must be one of {BACKENDS}, not {name!r}")
