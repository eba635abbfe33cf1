"""The class model: the teacher's pin on disk, and the catalogue listing the pinned run first."""

import json

import pytest

from cifar_core.models import catalog
from cifar_core.training import class_model, runs, train_config

HOSTILE_NAME = "<img src=x onerror=alert(1)>**bold**"


def make_run(directory, *, student="", state="finished", with_model=True, started=None):
    """A run folder as training leaves it, without training: config, status, a model file
    (placeholder bytes: nothing here loads it)."""
    run = runs.start_run(train_config.TrainConfig(model="tiny", epochs=1, student=student),
                         directory)
    if with_model:
        (run.path / "model.keras").write_bytes(b"not loaded by these tests")
    if state != "running":
        run.finish(state)
    if started is not None:
        run.update(started=started)
    return runs.read_run(run.path)


def test_pin_read_unpin(tmp_path):
    record = make_run(tmp_path, student="Ada")
    assert class_model.pinned_id(tmp_path) is None and class_model.pinned_run(tmp_path) is None
    assert class_model.pin(record.id, tmp_path).id == record.id
    assert json.loads((tmp_path / ".class_model.json").read_text())["run"] == record.id
    assert class_model.pinned_run(tmp_path).id == record.id
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] \
        == [".class_model.json"]  # written atomically: no temporary file left behind
    assert [run.id for run in runs.list_runs(tmp_path)] == [record.id]  # the pin is no run
    assert class_model.unpin(tmp_path) is True
    assert class_model.pinned_id(tmp_path) is None
    assert class_model.unpin(tmp_path) is False  # nothing pinned: fine


def test_pinning_another_run_replaces_the_pin(tmp_path):
    first, second = make_run(tmp_path), make_run(tmp_path)
    class_model.pin(first.id, tmp_path)
    class_model.pin(second.id, tmp_path)
    assert class_model.pinned_id(tmp_path) == second.id


@pytest.mark.parametrize("state, with_model", [("running", True), ("failed", True),
                                               ("interrupted", True), ("finished", False)])
def test_only_a_finished_or_stopped_run_with_a_model_can_be_pinned(tmp_path, state, with_model):
    record = make_run(tmp_path, state=state, with_model=with_model)
    with pytest.raises(ValueError, match=record.id):
        class_model.pin(record.id, tmp_path)
    assert class_model.pinned_id(tmp_path) is None


@pytest.mark.parametrize("run_id", ["", ".", "..", "../outside", ".queue", "a/b", "a\\b", None, 3])
def test_bad_run_ids_are_refused(tmp_path, run_id):
    with pytest.raises(ValueError, match="not a run id"):
        class_model.pin(run_id, tmp_path)


def test_pinning_a_missing_run_names_it(tmp_path):
    with pytest.raises(ValueError, match="no run 'gone'"):
        class_model.pin("gone", tmp_path)


@pytest.mark.parametrize("content", ["{not json", "[]", '{"run": "../x"}', '{"run": 7}', "{}"])
def test_a_damaged_pin_is_no_pin(tmp_path, content):
    (tmp_path / ".class_model.json").write_text(content)
    assert class_model.pinned_id(tmp_path) is None and class_model.pinned_run(tmp_path) is None


def test_a_pinned_run_deleted_unpins(tmp_path):
    record = make_run(tmp_path)
    class_model.pin(record.id, tmp_path)
    runs.delete_run(record.id, tmp_path)  # by any path: the CLI, by hand, another tab
    assert class_model.pinned_run(tmp_path) is None
    assert not (tmp_path / ".class_model.json").exists()


def test_forget_unpins_only_the_pinned_run(tmp_path):
    pinned, other = make_run(tmp_path), make_run(tmp_path)
    class_model.pin(pinned.id, tmp_path)
    class_model.forget(other.id, tmp_path)
    assert class_model.pinned_id(tmp_path) == pinned.id
    class_model.forget(pinned.id, tmp_path)
    assert class_model.pinned_id(tmp_path) is None


@pytest.mark.parametrize("student, plain", [
    ("Ada Lovelace", True), ("Zoë O'Brien-Smith", True), ("José", True), ("李雷 2", True),
    ("Jr., Sam.", True), ("", False), ("   ", False), (HOSTILE_NAME, False), ("**me**", False),
    ("_me_", False), ("[x](http://y)", False), (":red[me]", False), ("$x^2$", False),
    ("a & b", False), ("a`b", False), ("# me", False), ("me|you", False), ("~me~", False),
])
def test_label_names_are_plain_words_or_the_run_id(tmp_path, student, plain):
    record = make_run(tmp_path, student=student)
    assert class_model.label_name(record) == (student.strip() if plain else record.id)


def test_the_catalogue_lists_the_class_model_first(tmp_path):
    models_directory, runs_directory = tmp_path / "models", tmp_path / "runs"
    models_directory.mkdir()
    (models_directory / "seed.keras").write_bytes(b"")
    (models_directory / "seed.json").write_text(json.dumps({"architecture": "seed"}))
    older = make_run(runs_directory, student="Ada", started=1.0)
    newer = make_run(runs_directory, student="Bo", started=2.0)
    keys = [entry.key for entry in catalog.available_models(models_directory, runs_directory)]
    assert keys == ["seed", newer.id, older.id]  # no pin: as before
    class_model.pin(older.id, runs_directory)
    entries = catalog.available_models(models_directory, runs_directory)
    assert [entry.key for entry in entries] == [older.id, "seed", newer.id]  # once, first
    assert entries[0].label == "class model: Ada (tiny)" and entries[0].source == "run"
    assert entries[2].label == f"run {newer.id} (tiny)"


def test_a_name_markdown_would_change_is_not_in_any_label(tmp_path):
    runs_directory = tmp_path / "runs"
    record = make_run(runs_directory, student=HOSTILE_NAME)
    class_model.pin(record.id, runs_directory)
    entries = catalog.available_models(tmp_path / "no-models", runs_directory)
    assert entries[0].label == f"class model: {record.id} (tiny)"
    assert not any("<" in entry.label or "*" in entry.label for entry in entries)


def test_a_pinned_run_training_again_is_not_offered_until_it_ends(tmp_path):
    runs_directory = tmp_path / "runs"
    record = make_run(runs_directory)
    class_model.pin(record.id, runs_directory)
    status = dict(record.status, state="running")  # resumed ("train N more epochs")
    (record.path / "status.json").write_text(json.dumps(status))
    assert catalog.available_models(tmp_path / "no-models", runs_directory) == []
    assert class_model.pinned_id(runs_directory) == record.id  # the pin stays
    assert not class_model.usable(class_model.pinned_run(runs_directory))
