"""Importing a user's model: the file kept untouched, the card, the catalogue, the wrapper."""

import hashlib
import json

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import catalog, importing, input_scaling, model_checks, saving
from tests.unit.models import zoo

IMAGES = np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3)).astype(np.float32)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("file_format", ["keras", "h5"])
@pytest.mark.parametrize("kind", list(zoo.KINDS))
def test_every_zoo_kind_imports_and_loads_in_the_apps_layout(tmp_path, kind, file_format):
    user_model = zoo.build(kind)
    source = zoo.save(user_model, tmp_path, f"my {kind}!", file_format)
    entry = importing.import_model(source, models_directory=tmp_path / "models")

    # The file is kept byte for byte, under imported/, with a card; the catalogue lists it.
    assert entry.path == tmp_path / "models" / "imported" / f"my-{kind}.{file_format}"
    assert digest(entry.path) == digest(source)
    assert entry.source == "imported" and entry.key == f"my-{kind}"
    assert entry in catalog.available_models(tmp_path / "models", tmp_path / "runs")
    card = catalog.model_card(entry)
    assert card["original_file"] == source.name and card["format"] == file_format
    assert card["output"] == zoo.OUTPUTS[kind]
    assert card["parameters"] == user_model.count_params()
    assert card["test_accuracy"] is None and "assumed 0-1" in card["scaling_note"] \
        or card["scaling"] == "0-255"

    # Loaded, it is the app's layout: flat, raw pixels in, probabilities out.
    wrapped = importing.load_imported(entry.path)
    assert saving.layout_problem(wrapped) is None
    assert not any(isinstance(layer, keras.Model) for layer in wrapped.layers)
    own = kind == "residual_strided"
    expected = np.asarray(user_model.predict(IMAGES if own else IMAGES / 255, verbose=0))
    if zoo.OUTPUTS[kind] == "logits":
        expected = np.asarray(keras.ops.softmax(expected))
    np.testing.assert_allclose(wrapped.predict(IMAGES, verbose=0), expected, rtol=1e-4,
                               atol=1e-5)


def test_the_clone_of_a_wrapped_model_rebuilds(tmp_path):
    """Pages make the untrained copy with clone_model: it must work on the wrapper."""
    entry = zoo.import_into(tmp_path, "nested_block", "h5")
    wrapped = importing.load_imported(entry.path)
    clone = keras.models.clone_model(wrapped)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in wrapped.layers]


def test_scaling_is_inferred_and_the_full_test_accuracy_stored(tmp_path):
    dataset = zoo.brightness_dataset(train=500, test=300)
    statistics = input_scaling.channel_statistics(dataset.x_train)
    model = zoo.brightness_classifier("standardised", statistics)
    source = zoo.save(model, tmp_path, "bright", "keras")
    quick = importing.import_model(source, dataset=dataset, models_directory=tmp_path)
    assert catalog.model_card(quick)["test_accuracy_on"] == "sample of 300 test images"
    assert quick.label == ("bright (Functional, 100.0% test, imported, accuracy on a sample "
                           "of 300 test images)")
    importing.delete_imported(quick)
    entry = importing.import_model(source, dataset=dataset, models_directory=tmp_path,
                                   evaluate=True)
    card = catalog.model_card(entry)
    assert card["scaling"] == "standardised" and card["output"] == "logits"
    assert card["test_accuracy"] == 1.0 and card["test_accuracy_on"] == "test set (300 images)"
    assert card["scaling_accuracies"]["standardised"] == 1.0
    assert card["scaling_accuracies"]["0-1"] < 1.0
    assert entry.test_accuracy == 1.0
    assert entry.label == "bright (Functional, 100.0% test, imported)"
    wrapped = importing.load_imported(entry.path)
    assert isinstance(wrapped.get_layer("rescaling"), keras.layers.Normalization)
    predicted = np.argmax(wrapped.predict(dataset.x_test.astype(np.float32), verbose=0), axis=1)
    assert np.mean(predicted == dataset.y_test) == 1.0

    # A wrong choice by hand is stored, and the card's accuracy follows it.
    wrong = importing.set_scaling(entry, "0-1")
    card = catalog.model_card(wrong)
    assert card["scaling"] == "0-1" and card["scaling_note"] == "chosen by hand"
    assert card["test_accuracy"] == card["scaling_accuracies"]["0-1"] < 1.0
    assert "sample" in card["test_accuracy_on"]
    assert isinstance(importing.load_imported(entry.path).get_layer("rescaling"),
                      keras.layers.Rescaling)
    right = importing.set_scaling(entry, "standardised", dataset=dataset)
    assert right.test_accuracy == 1.0


def test_a_user_override_at_import(tmp_path):
    source = zoo.save(zoo.build("dense_only"), tmp_path, "dense", "keras")
    entry = importing.import_model(source, scaling="-1..1", models_directory=tmp_path)
    card = catalog.model_card(entry)
    assert card["scaling"] == "-1..1" and card["scaling_note"] == "chosen by hand"
    with pytest.raises(ValueError, match="unknown input scaling"):
        importing.import_model(source, scaling="0-100", models_directory=tmp_path)
    with pytest.raises(ValueError, match="standardised"):
        importing.import_model(source, scaling="standardised", models_directory=tmp_path)
    assert [e.key for e in catalog.imported_models(tmp_path)] == ["dense"]
    with pytest.raises(ValueError, match="unknown input scaling"):
        importing.set_scaling(entry, "upside-down")


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "etc-passwd"), ("/abs/path", "abs-path"), ("..", "imported-model"),
    ("a b\\c:d", "a-b-c-d"), ("", None), ("x" * 80, "x" * importing.MAX_NAME_LENGTH),
    (".hidden", "hidden"),
])
def test_names_are_sanitised_and_stay_in_the_folder(tmp_path, name, expected):
    source = zoo.save(zoo.build("dense_only"), tmp_path, "plain", "h5")
    entry = importing.import_model(source, name, models_directory=tmp_path / "models")
    assert entry.key == (expected or "plain")
    assert entry.path.parent == tmp_path / "models" / "imported"
    assert sorted(p.name for p in (tmp_path / "models" / "imported").iterdir()) == \
        sorted([f"{entry.key}.h5", f"{entry.key}.json"])


def test_names_never_clash_with_shipped_or_imported_models(tmp_path, tiny_model_path):
    models_directory = tiny_model_path.parent
    source = zoo.save(zoo.build("dense_only"), tmp_path, "tiny", "keras")
    first = importing.import_model(source, models_directory=models_directory)
    second = importing.import_model(source, models_directory=models_directory)
    assert (first.key, second.key) == ("tiny-2", "tiny-3")
    keys = [entry.key for entry in catalog.available_models(models_directory, tmp_path / "r")]
    assert keys == ["tiny", "tiny-2", "tiny-3"]
    for entry in (first, second):
        importing.delete_imported(entry)
    assert catalog.imported_models(models_directory) == []
    assert tiny_model_path.exists()


def test_delete_refuses_other_models(tmp_path, tiny_model_path):
    shipped = catalog.shipped_models(tiny_model_path.parent)[0]
    with pytest.raises(ValueError, match="not an imported model"):
        importing.delete_imported(shipped)
    with pytest.raises(ValueError, match="not an imported model"):
        importing.set_scaling(shipped, "0-1")
    assert tiny_model_path.exists()


def test_only_whole_entries_are_listed(tmp_path):
    folder = catalog.imported_dir(tmp_path)
    folder.mkdir(parents=True)
    (folder / "orphan.keras").write_bytes(b"an import that never got its card")
    (folder / "gone.json").write_text(json.dumps({"source": "imported", "file": "gone.keras"}))
    (folder / "escape.json").write_text(json.dumps({"source": "imported",
                                                    "file": "../../seed.keras"}))
    (folder / "broken.json").write_text("{")
    assert catalog.imported_models(tmp_path) == []


def test_a_refused_file_leaves_nothing(tmp_path, monkeypatch):
    source = zoo.save(zoo.build("dense_only"), tmp_path, "dense", "keras")

    def fails(*arguments, **keywords):
        raise model_checks.ModelError("dense.keras: refused for the test")

    monkeypatch.setattr(importing.wrapping, "wrap", fails)
    with pytest.raises(model_checks.ModelError):
        importing.import_model(source, models_directory=tmp_path / "models")
    assert list((tmp_path / "models" / "imported").iterdir()) == []


def test_loading_an_imported_file_that_was_swapped_is_refused(tmp_path):
    entry = zoo.import_into(tmp_path, "dense_only", "h5")
    zoo.bad_100_classes(entry.path)  # someone replaced the file behind the card
    with pytest.raises(model_checks.ModelError, match="100"):
        importing.load_imported(entry.path)


def test_open_model_works_in_place_without_copying(tmp_path):
    source = zoo.save(zoo.build("sequential_default"), tmp_path, "mine", "keras")
    opened = importing.open_model(source)
    assert opened.choice.scaling == "0-1" and opened.architecture == "Sequential"
    assert saving.layout_problem(opened.wrapped) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.keras"]


def test_a_keras2_style_legacy_h5_file(tmp_path):
    """Keras 2 wrote ``batch_input_shape``, dtypes as strings and no modules in model_config."""
    import h5py

    user_model = zoo.build("sequential_default")
    path = zoo.save(user_model, tmp_path, "keras2", "h5")
    with h5py.File(path, "r+") as file:
        config = json.loads(file.attrs["model_config"])
        config["config"].pop("dtype", None)
        for layer in config["config"]["layers"]:
            settings = layer["config"]
            settings["dtype"] = "float32"
            if "batch_shape" in settings:
                settings["batch_input_shape"] = settings.pop("batch_shape")
            for key in ("kernel_initializer", "bias_initializer"):
                if isinstance(settings.get(key), dict):
                    settings[key] = {"class_name": settings[key]["class_name"],
                                     "config": settings[key]["config"]}
        file.attrs["model_config"] = json.dumps(config)
        file.attrs["keras_version"] = "2.15.0"
    opened = importing.open_model(path)
    np.testing.assert_allclose(opened.wrapped.predict(IMAGES, verbose=0),
                               user_model.predict(IMAGES / 255, verbose=0), rtol=1e-4, atol=1e-6)
