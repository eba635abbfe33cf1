import json

from cifar_core.models import catalog
from cifar_core.training import runs


def write_card(directory, name, **card):
    (directory / f"{name}.keras").write_bytes(b"not read by the catalog")
    (directory / f"{name}.json").write_text(json.dumps(card))


def test_shipped_models_need_a_card(tmp_path):
    write_card(tmp_path, "seed", architecture="seed", test_accuracy=0.7123)
    (tmp_path / "orphan.keras").write_bytes(b"")
    (tmp_path / "broken.keras").write_bytes(b"")
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "listed.keras").write_bytes(b"")
    (tmp_path / "listed.json").write_text("[]")  # JSON, but not a card
    entries = catalog.shipped_models(tmp_path)
    assert [entry.key for entry in entries] == ["seed"]
    assert entries[0].label == "seed (seed, 71.2% test)" and entries[0].source == "shipped"


def make_run(runs_directory, name, state, *, with_model=True, accuracy=None):
    folder = runs_directory / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model": "tiny"}))
    status = {"state": state, "started": len(list(runs_directory.iterdir()))}
    if accuracy is not None:
        status["test_accuracy"] = accuracy
    (folder / "status.json").write_text(json.dumps(status))
    if with_model:
        (folder / "model.keras").write_bytes(b"")


def test_runs_with_a_model_follow_shipped_models(tmp_path):
    models_directory, runs_directory = tmp_path / "models", tmp_path / "runs"
    models_directory.mkdir()
    write_card(models_directory, "fast", architecture="fast", test_accuracy=0.9)
    make_run(runs_directory, "old", "finished", accuracy=0.5)
    make_run(runs_directory, "cut", "stopped")
    make_run(runs_directory, "busy", "running")
    make_run(runs_directory, "broke", "failed")
    make_run(runs_directory, "empty", "finished", with_model=False)
    entries = catalog.available_models(models_directory, runs_directory)
    assert [entry.key for entry in entries] == ["fast", "cut", "old"]
    assert entries[1].label == "run cut (tiny, stopped early)"
    assert entries[2].test_accuracy == 0.5 and entries[2].architecture == "tiny"
    assert entries[2].source == "run" and entries[0].source == "shipped"
    assert runs.list_runs(runs_directory)  # the catalog reads runs through runs.py


def test_models_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path))
    write_card(tmp_path, "tiny", architecture="tiny")
    assert [entry.key for entry in catalog.available_models()] == ["tiny"]
