"""Where tests find the app and the real dataset (a plain module: tests and bench import it)."""

import os
from pathlib import Path

from cifar_core.storage import PROJECT_ROOT

#: The app's entry point, absolute: AppTest resolves relative paths against the caller.
APP_PATH = str(PROJECT_ROOT / "app.py")
DEFAULT_REAL_ARCHIVE = PROJECT_ROOT.parent / "shared" / "datasets" / "cifar-10-python.tar.gz"


def real_dataset_path():
    """The real CIFAR-10 source named by $CIFAR10_PATH (or the shared copy), if it exists."""
    candidate = os.environ.get("CIFAR10_PATH") or str(DEFAULT_REAL_ARCHIVE)
    path = Path(candidate).expanduser()
    if not path.is_absolute():
        path = (PROJECT_ROOT / path).resolve()
    return path if path.exists() else None
