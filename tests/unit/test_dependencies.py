"""The package's dependency rules, read from the code itself.

- Streamlit is imported only by ``cifar_core/ui/`` (plus ``app.py`` and ``pages/``).
- TensorFlow and Keras are imported only by ``cifar_core/backend.py``; pages never touch them.
- The data layer, run folders, configs, the model catalogue, storage, the display
  helpers and the lessons (``teaching``) import no TensorFlow at all, so the Home, Dataset
  and Lessons pages, the run history and ``--help`` answer without its seconds-long import
  (checked in a fresh interpreter).
"""

import ast
import subprocess
import sys

import pytest

from cifar_core.storage import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "cifar_core"
#: Modules that must import neither TensorFlow nor Keras, directly or through others.
WITHOUT_TENSORFLOW = [
    "cifar_core", "cifar_core.storage", "cifar_core.background", "cifar_core.exports",
    "cifar_core.cli", "cifar_core.cli_progress",
    "cifar_core.data", "cifar_core.data.cifar10", "cifar_core.data.sources",
    "cifar_core.data.batches", "cifar_core.data.decoded_cache", "cifar_core.data.download",
    "cifar_core.data.browse", "cifar_core.data.photos",
    "cifar_core.models", "cifar_core.models.contract", "cifar_core.models.catalog",
    "cifar_core.training", "cifar_core.training.train_config", "cifar_core.training.runs",
    "cifar_core.training.recipes", "cifar_core.training.run_history",
    "cifar_core.training.augmentation_choices", "cifar_core.inspect.label_issues",
    "cifar_core.ui.augmentation_panel", "cifar_core.training.histograms",
    "cifar_core.display.histogram_plots", "cifar_core.display.embedding_map",
    "cifar_core.models.design", "cifar_core.models.design_templates",
    "cifar_core.models.model_checks", "cifar_core.models.input_scaling",
    "cifar_core.models.graph_diagram", "cifar_core.models.model_facts",
    "cifar_core.models.model_uploads", "cifar_core.models.import_tasks",
    "cifar_core.ui.models_panel", "cifar_core.ui.model_upload_panel",
    "cifar_core.display.design_diagram", "cifar_core.ui.design_panel",
    "cifar_core.inspect", "cifar_core.inspect.model_cache", "cifar_core.display.pictures",
    "cifar_core.display.plots", "cifar_core.display.text", "cifar_core.ui",
    "cifar_core.teaching", "cifar_core.teaching.lessons", "cifar_core.teaching.views",
    "cifar_core.teaching.page_parameters", "cifar_core.teaching.model_files",
    "cifar_core.training.run_queue", "cifar_core.training.job_registry",
    "cifar_core.training.job_state", "cifar_core.training.ray_jobs",
    "cifar_core.training.checkpoints", "cifar_core.training.resuming", "cifar_core.ui.resume_panel",
    "cifar_core.training.sweeps", "cifar_core.training.sweep_results",
    "cifar_core.display.sweep_plots", "cifar_core.ui.sweep_panel",
    "cifar_core.training.leaderboard", "cifar_core.training.class_model",
    "cifar_core.training.permissions", "cifar_core.ui.leaderboard_panel",
    "cifar_core.training.backends", "cifar_core.training.ray_cluster",
    "cifar_core.training.ray_worker", "cifar_core.training.process_jobs",
    "cifar_core.training.run_mirror", "cifar_core.training.run_control",
    "cifar_core.training.start_estimates",
    "cifar_core.training.process_child", "cifar_core.ui.shared_cache", "cifar_core.ui.tab_identity",
    "cifar_core.ui.tile_grid",
]


def imported_modules(path):
    """Top-level names of every module ``path`` imports, at any depth of its code."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(*folders):
    return sorted(path for folder in folders for path in folder.rglob("*.py"))


def test_the_rule_reader_sees_nested_imports(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text("import os\n\ndef later():\n    from streamlit import runtime\n"
                      "    import tensorflow.keras as tfk\n")
    assert imported_modules(module) == {"os", "streamlit", "tensorflow"}


@pytest.mark.parametrize("path", python_files(PACKAGE),
                         ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_streamlit_only_in_the_ui_subpackage(path):
    if path.is_relative_to(PACKAGE / "ui"):
        return
    assert "streamlit" not in imported_modules(path), \
        f"{path.relative_to(PROJECT_ROOT)} imports Streamlit; UI code belongs in cifar_core/ui/"


@pytest.mark.parametrize("path", python_files(PACKAGE, PROJECT_ROOT / "pages")
                         + [PROJECT_ROOT / "app.py"],
                         ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_tensorflow_and_keras_only_through_the_backend(path):
    if path == PACKAGE / "backend.py":
        return
    found = imported_modules(path) & {"tensorflow", "keras", "tf_keras"}
    assert not found, (f"{path.relative_to(PROJECT_ROOT)} imports {sorted(found)}; "
                       "write `from cifar_core.backend import keras, tf`")


def loaded_after_importing(names, candidates):
    """Which of ``candidates`` a fresh interpreter has loaded after importing ``names``
    (this test process may have TensorFlow and Streamlit loaded already)."""
    code = ("import importlib, sys\n"
            f"for name in {list(names)!r}:\n"
            "    importlib.import_module(name)\n"
            f"print(sorted(name for name in {list(candidates)!r} if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_light_modules_import_no_tensorflow_in_a_fresh_interpreter():
    assert loaded_after_importing(WITHOUT_TENSORFLOW, ["tensorflow", "keras"]) == "[]"


def test_no_module_outside_ui_pulls_in_streamlit():
    """Every non-UI module, TensorFlow ones included, imports without Streamlit."""
    names = [".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
             for path in python_files(PACKAGE)
             if not path.is_relative_to(PACKAGE / "ui") and path.name != "__main__.py"]
    names = [name.removesuffix(".__init__") for name in names]
    assert "cifar_core.inspect.inference" in names  # TensorFlow modules are among them
    assert loaded_after_importing(names, ["streamlit"]) == "[]"


@pytest.mark.parametrize("package", ["data", "models", "training", "inspect", "teaching"])
def test_every_public_name_of_a_subpackage_resolves(package):
    import importlib

    module = importlib.import_module(f"cifar_core.{package}")
    for name in module.__all__:
        assert getattr(module, name) is not None, f"cifar_core.{package}.{name}"
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018 - the attribute access is the test
