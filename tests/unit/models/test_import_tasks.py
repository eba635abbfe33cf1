"""Importing in the background: the upload ends in the catalogue or is refused and removed."""

import io
import json

import numpy as np

from cifar_core import background, data
from cifar_core.backend import keras
from cifar_core.inspect import evaluation
from cifar_core.models import catalog, import_tasks, model_uploads


def saved_upload(tmp_path, model=None, data_bytes=None, name="student.keras"):
    """A model file as the Models page saves an upload: in its private temporary folder."""
    if data_bytes is None:
        source = tmp_path / "made" / name
        source.parent.mkdir(exist_ok=True)
        model.save(source)
        data_bytes = source.read_bytes()
    return model_uploads.save_upload(io.BytesIO(data_bytes), name, len(data_bytes),
                                     directory=tmp_path)


def student_model():
    return keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(2, 3),
                             keras.layers.Flatten(), keras.layers.Dense(10)])


def tiny_dataset():
    generator = np.random.default_rng(0)
    images = generator.integers(0, 256, (60, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(60) % 10
    return data.Cifar10(images[:40], labels[:40], images[40:], labels[40:], source="test")


def finished(task):
    assert task.join(120)
    return task.snapshot()


def test_a_good_upload_is_imported_and_its_temporary_copy_removed(tmp_path):
    models = tmp_path / "models"
    path = saved_upload(tmp_path, student_model())
    task = import_tasks.import_task(path, "mine", dataset=tiny_dataset(),
                                    models_directory=models, original_name="my cnn.keras")
    task.start()
    assert finished(task).state == "finished"
    entry = task.result
    assert entry.key == "mine" and entry.source == "imported"
    assert [item.key for item in catalog.imported_models(models)] == ["mine"]
    card = json.loads(entry.path.with_suffix(".json").read_text())
    assert card["original_file"] == "my cnn.keras" and card["output"] == "logits"
    assert not path.parent.exists()


def test_a_refused_upload_fails_with_its_name_and_leaves_nothing(tmp_path):
    models = tmp_path / "models"
    path = saved_upload(tmp_path, data_bytes=b"PK\x03\x04 not really a zip", name="bad.keras")
    task = import_tasks.import_task(path, models_directory=models, original_name="bad.keras")
    task.start()
    snapshot = finished(task)
    assert snapshot.state == "failed" and snapshot.error.startswith("ModelError: bad.keras")
    assert catalog.imported_models(models) == [] and not path.parent.exists()


def test_the_scaling_task_stores_the_choice_and_leaves_the_file_alone(tmp_path):
    models = tmp_path / "models"
    task = import_tasks.import_task(saved_upload(tmp_path, student_model()),
                                    models_directory=models).start()
    assert finished(task).state == "finished"
    entry = task.result
    before = entry.path.stat().st_mtime_ns
    content = entry.path.read_bytes()
    old_key = evaluation.cache_key(entry.path, [0, 1], "x")
    scaling = import_tasks.scaling_task(entry, "-1..1").start()
    assert finished(scaling).state == "finished"
    assert json.loads(entry.path.with_suffix(".json").read_text())["scaling"] == "-1..1"
    assert entry.path.stat().st_mtime_ns == before and entry.path.read_bytes() == content
    # Results cached for the old scaling are not read back: the scaling is in their keys.
    assert evaluation.cache_key(entry.path, [0, 1], "x") != old_key
    refused = import_tasks.scaling_task(entry, "sideways").start()
    snapshot = finished(refused)
    assert snapshot.state == "failed" and "sideways" in snapshot.error


def test_a_stopped_import_adds_nothing_and_removes_the_upload(tmp_path, monkeypatch):
    models = tmp_path / "models"
    path = saved_upload(tmp_path, student_model())
    task = import_tasks.import_task(path, models_directory=models)

    def stopped(stage, completed, total):  # what a progress report does once Stop is pressed
        raise background.Stopped(f"stopped at {completed} of {total}")

    monkeypatch.setattr(task, "_progress", stopped)
    task.start()
    assert finished(task).state == "stopped"
    assert catalog.imported_models(models) == [] and not path.parent.exists()
