"""A subpackage's public names, each imported from its module on first use.

Subpackages mix modules that need TensorFlow (seconds to import) with modules that do not
(run folders, configs, the model catalogue). Re-exporting every name eagerly would make
``from cifar_core.training import runs`` import TensorFlow; with ``lazy_exports`` a name
costs its module's import only when it is used (PEP 562's module ``__getattr__``).
"""

import importlib


def lazy_exports(package, modules_and_names):
    """``(__getattr__, __dir__, __all__)`` for ``package`` from {module: [public names]}."""
    where = {name: module for module, names in modules_and_names.items() for name in names}

    def __getattr__(name):  # noqa: N807 - the name PEP 562 looks up
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{where[name]}"), name)

    def __dir__():  # noqa: N807
        return sorted(set(where) | set(modules_and_names))

    return __getattr__, __dir__, sorted(where)
