"""AppTest for the Models page: the catalogue, uploads good and bad, scaling, files, delete.

Models are untrained and tiny: the shipped one is our ``tiny`` architecture saved to a
temporary models folder; uploads are small Keras models a student might save (a
Sequential with default names, a Dense-only one), every kind of the import zoo
(tests/unit/models/zoo.py) and the zoo's files that must be refused.
"""

import json
import re

import pytest

from tests.app.page_helpers import check_ok, page_alone
from tests.app.polling import run_until

TIMEOUT = 120


@pytest.fixture
def models_folder(tmp_path, monkeypatch):
    """A models folder holding an untrained ``tiny`` as the one shipped model."""
    from cifar_core.models import architectures, saving

    directory = tmp_path / "models"
    directory.mkdir()
    model = architectures.build_model("tiny", seed=1)
    path = saving.save_model(model, directory / "tiny.keras")
    saving.write_model_card(path, architecture="tiny", recipe="untrained", epochs=0,
                            test_accuracy=0.1, parameters=model.count_params(),
                            date="2026-11-29T10:00:00Z")
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(directory))
    return directory


def student_model(kind="sequential"):
    """A model as a student saves it in Keras: default layer names, no scaling layer."""
    from cifar_core.backend import keras

    keras.utils.set_random_seed(0)
    body = {
        "sequential": [keras.layers.Conv2D(4, 3, activation="relu"),
                       keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                       keras.layers.Dense(10, activation="softmax")],
        "dense": [keras.layers.Flatten(), keras.layers.Dense(10)],
    }[kind]
    return keras.Sequential([keras.Input((32, 32, 3)), *body])


def model_bytes(tmp_path, kind="sequential", name="student.keras"):
    path = tmp_path / "made" / name
    path.parent.mkdir(exist_ok=True)
    student_model(kind).save(path)
    return path.read_bytes()


def models_page():
    """The Models page script on its own, not yet run."""
    return page_alone("models", TIMEOUT)


def catalogue(app):
    """(model, source) of each row of the page's first table."""
    frame = app.dataframe[0].value
    return list(zip(frame["model"], frame["source"]))


def button(app, label):
    return next(item for item in app.button if item.label.startswith(label))


def upload(app, name, data):
    app.file_uploader[0].set_value((name, data, "application/octet-stream")).run()
    button(app, "Import").click().run()
    return run_until(app, lambda a: a.success or a.error or a.exception, seconds=180)


def page_showing_upload(tmp_path, stem):
    """The page after a student model uploaded as ``<stem>.keras`` is imported and chosen."""
    app = models_page()
    app.run()
    upload(app, f"{stem}.keras", model_bytes(tmp_path))
    app.query_params["model"] = stem
    return app.run()


def imported_cards(directory):
    return sorted(path.name for path in (directory / "imported").glob("*.json")) \
        if (directory / "imported").exists() else []


def test_the_catalogue_lists_shipped_and_imported_models(real_cifar_path, models_folder,
                                                         tmp_path):
    from cifar_core.models import importing

    source = tmp_path / "notebook.keras"
    source.write_bytes(model_bytes(tmp_path))
    importing.import_model(source, "notebook", models_directory=models_folder)
    app = models_page()
    app.query_params["model"] = "notebook"
    app.run()
    check_ok(app)
    assert catalogue(app) == [("tiny", "shipped"), ("notebook", "imported")]
    links = list(app.dataframe[0].value["layers"])
    assert links == ["layers?model=tiny", "layers?model=notebook"]
    card = app.table[0].value["value"]
    assert card["source"] == "imported from a file" and card["file"] == "notebook.keras"
    assert card["input scaling"].startswith("pixels / 255 (0 to 1)")  # no dataset: assumed
    headers = [header.value for header in app.header]
    assert headers == ["Every model in the app", "Bring your own model", "One model up close",
                       "Its graph", "Its input scaling", "Take it with you", "Remove it"]
    dot = app.get("graphviz_chart")[0].proto.spec
    # The flattened graph: the wrapper's scaling layer, the student's layers (Keras' default
    # names, numbered by how many layers this process made before), probabilities.
    from cifar_core.backend import keras

    conv, pool, flatten, _ = [layer.name for layer in keras.models.load_model(source).layers]
    assert f'"rescaling" -> "{conv}"' in dot and f'"{pool}" -> "{flatten}"' in dot
    assert "Open notebook in Layers" in " ".join(m.value for m in app.markdown)


def test_a_good_upload_is_imported_and_listed(real_cifar_path, models_folder, tmp_path):
    app = models_page()
    app.run()
    check_ok(app)
    assert catalogue(app) == [("tiny", "shipped")]
    app.text_input[0].input("my_cnn")
    data = model_bytes(tmp_path)
    upload(app, "my cnn.keras", data)
    check_ok(app)
    assert "Imported **my_cnn**" in app.success[0].value
    assert catalogue(app) == [("tiny", "shipped"), ("my_cnn", "imported")]
    assert any(option.startswith("my_cnn (") for option in app.selectbox(key="model").options)
    assert app.query_params["model"] == ["my_cnn"] or app.query_params["model"] == "my_cnn"
    assert app.table[0].value["value"]["file"] == "my cnn.keras"  # shown up close at once
    card = json.loads((models_folder / "imported" / "my_cnn.json").read_text())
    assert card["original_file"] == "my cnn.keras" and card["scaling_sample"] == 1000
    assert set(card["scaling_accuracies"]) == {"0-1", "0-255", "-1..1", "standardised"}
    # The user's bytes are kept as they are.
    assert (models_folder / "imported" / "my_cnn.keras").read_bytes() == data


def test_a_legacy_h5_upload_is_kept_and_offered_as_it_is(real_cifar_path, models_folder,
                                                         tmp_path):
    from tests.unit.models import zoo

    data = zoo.save(zoo.build("sequential_default"), tmp_path, "legacy", "h5").read_bytes()
    app = models_page()
    app.run()
    upload(app, "legacy.h5", data)
    check_ok(app)
    assert ("legacy", "imported") in catalogue(app)
    assert (models_folder / "imported" / "legacy.h5").read_bytes() == data
    app.query_params["model"] = "legacy"
    app.run()
    check_ok(app)
    labels = [item.proto.label for item in app.get("download_button")]
    assert labels[0].startswith("Download legacy.h5")


def test_a_stopped_import_says_nothing_was_added(real_cifar_path, models_folder):
    from cifar_core import background
    from cifar_core.ui import task_panel

    def work(progress):
        while True:
            progress("importing", 0, 1)

    key = ("import", "a stopped upload")
    task = task_panel.server_tasks().start(key, lambda: background.Task(work, 1, "test"))
    task.stop()
    assert task.join(10)
    app = models_page()
    app.session_state["model_import_key"] = key
    app.run()
    check_ok(app)
    assert [info.value for info in app.info] == ["The import was stopped; nothing was added."]
    assert catalogue(app) == [("tiny", "shipped")]


def bad_file(tmp_path, name):
    """The bytes of one file the importer must refuse (the import zoo's writers)."""
    from tests.unit.models import zoo

    path = tmp_path / "bad" / name
    path.parent.mkdir(exist_ok=True)
    writers = {
        "lambda_code.h5": lambda: zoo.bad_lambda_h5(path, tmp_path / "ran.txt"),
        "lambda.keras": lambda: zoo.bad_lambda_keras(path),
        "custom_layer.keras": lambda: zoo.bad_custom_layer(path),
        "two_inputs.keras": lambda: zoo.bad_two_inputs(path),
        "input_224.keras": lambda: zoo.bad_input_224(path),
        "hundred_classes.keras": lambda: zoo.bad_100_classes(path),
        "truncated.keras": lambda: zoo.bad_truncated(path, zoo.save(
            zoo.build("sequential_default"), path.parent, "whole")),
        "random.keras": lambda: zoo.bad_random_bytes(path),
        "not_a_model.keras": lambda: zoo.bad_zip_not_model(path),
        "not_a_model.h5": lambda: zoo.bad_h5_not_model(path),
    }
    return writers[name]().read_bytes()


#: Each refused file and a word its message must hold (besides the file's name).
BAD_FILES = {"lambda_code.h5": "Lambda", "lambda.keras": "Lambda",
             "custom_layer.keras": "Doubling", "two_inputs.keras": "input",
             "input_224.keras": "224", "hundred_classes.keras": "100", "truncated.keras": "",
             "random.keras": "", "not_a_model.keras": "", "not_a_model.h5": ""}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_upload_gets_one_message_and_nothing_is_listed(real_cifar_path, models_folder,
                                                                tmp_path, name):
    data = bad_file(tmp_path, name)
    app = models_page()
    app.run()
    upload(app, name, data)
    assert not app.exception, app.exception
    assert len(app.error) == 1 and not app.success
    message = app.error[0].value
    assert message.startswith(f"Not imported. {name}: ") and BAD_FILES[name] in message
    assert "Traceback" not in message and "Try again" not in [b.label for b in app.button]
    assert catalogue(app) == [("tiny", "shipped")] and imported_cards(models_folder) == []
    assert not (tmp_path / "ran.txt").exists()  # the Lambda's code never ran


@pytest.mark.parametrize("kind", ["sequential_default", "standardised_logits",
                                  "residual_strided", "separable_depthwise", "nested_block",
                                  "dense_only"])
def test_every_kind_of_imported_model_has_its_card_and_graph(real_cifar_path, models_folder,
                                                             kind):
    from tests.unit.models import zoo

    zoo.import_into(models_folder, kind)
    app = models_page()
    app.query_params["model"] = kind
    app.run()
    check_ok(app)
    card = app.table[0].value["value"]
    assert card["source"] == "imported from a file"
    assert ("output" in card) == (zoo.OUTPUTS[kind] == "logits")
    dot = app.get("graphviz_chart")[0].proto.spec
    assert re.search(r'"rescaling" -> "[^"]+";', dot) and '-> "probabilities";' in dot
    assert '"block"' not in dot  # a nested block is drawn as its own layers
    layer_table = next(frame.value for frame in app.dataframe if "layer" in frame.value.columns)
    convolutions = layer_table["type"].isin(["Conv2D", "DepthwiseConv2D", "SeparableConv2D"])
    caption = next(c.value for c in app.caption if c.value.startswith("Every layer"))
    assert f"{convolutions.sum()} convolution-like" in caption
    assert convolutions.sum() == 0 if kind == "dense_only" else convolutions.sum() > 0


def test_a_file_over_the_limit_is_refused_before_import(real_cifar_path, models_folder,
                                                        tmp_path, monkeypatch):
    from cifar_core.models import model_uploads

    app = models_page()
    app.run()
    assert {kind.lstrip(".") for kind in app.file_uploader[0].allowed_type} == {"keras", "h5"}
    monkeypatch.setattr(model_uploads, "MAX_MODEL_BYTES", 1000)
    app.file_uploader[0].set_value(("big.keras", model_bytes(tmp_path), "application/zip"))
    app.run()
    button(app, "Import").click().run()
    assert not app.exception, app.exception
    assert [error.value for error in app.error] == [
        f"Not imported. big.keras: the file is larger than the {1000 / 2**20:g} MB limit "
        "for model files."]
    assert imported_cards(models_folder) == [] and "model_import_key" not in app.session_state


def test_override_the_scaling(real_cifar_path, models_folder, tmp_path):
    app = page_showing_upload(tmp_path, "student")
    check_ok(app)
    table = next(frame.value for frame in app.dataframe if "scaling" in frame.value.columns)
    # The candidates' accuracies, best first.
    assert len(table) == 4 and table["accuracy"].is_monotonic_decreasing
    card_path = models_folder / "imported" / "student.json"
    inferred = json.loads(card_path.read_text())["scaling"]
    assert button(app, "Use this scaling").disabled  # the scaling in use is chosen
    chosen = "0-255" if inferred != "0-255" else "-1..1"
    app.selectbox(key="scaling_student").set_value(chosen).run()
    button(app, "Use this scaling").click().run()
    run_until(app, lambda a: any("is now fed" in s.value for s in a.success), seconds=180)
    check_ok(app)
    card = json.loads(card_path.read_text())
    assert card["scaling"] == chosen and card["scaling_note"] == "chosen by hand"
    words = {"0-255": "raw pixel values", "-1..1": "pixels / 127.5 - 1"}[chosen]
    assert app.table[0].value["value"]["input scaling"].startswith(words)
    assert card["test_accuracy_on"] == "test set (10,000 images)"


def test_delete_an_imported_model_after_confirming(real_cifar_path, models_folder, tmp_path):
    app = page_showing_upload(tmp_path, "gone")
    delete = button(app, "Delete gone")
    assert delete.disabled  # not before the confirmation
    app.checkbox(key="confirm_delete_gone").check().run()
    button(app, "Delete gone").click().run()
    check_ok(app)
    assert catalogue(app) == [("tiny", "shipped")]
    assert not (models_folder / "imported" / "gone.keras").exists()
    assert imported_cards(models_folder) == []


def test_shipped_models_cannot_be_deleted_here(real_cifar_path, models_folder):
    app = models_page()
    app.run()
    check_ok(app)
    assert not [b for b in app.button if b.label.startswith("Delete")]
    assert "Remove it" not in [header.value for header in app.header]


def test_tflite_export_on_a_button(real_cifar_path, models_folder):
    app = models_page()
    app.run()
    assert not app.get("download_button") or len(app.get("download_button")) == 1
    button(app, "Convert to TensorFlow Lite").click().run()
    run_until(app, lambda a: len(a.get("download_button")) == 2, seconds=180)
    check_ok(app)
    labels = [item.proto.label for item in app.get("download_button")]
    assert labels[0].startswith("Download tiny.keras") and labels[1].startswith(
        "Download tiny.tflite")


def test_a_stopped_conversion_offers_to_start_again(real_cifar_path, models_folder):
    import threading

    from cifar_core import background
    from cifar_core.ui import task_panel

    path = models_folder / "tiny.keras"
    release = threading.Event()

    def work(progress):
        while True:
            progress("converting", 0, 1)
            release.wait(0.05)

    task = task_panel.server_tasks().start(("tflite", str(path), path.stat().st_mtime_ns),
                                           lambda: background.Task(work, 1, "test"))
    task.stop()
    assert task.join(10)
    app = models_page()
    app.run()
    check_ok(app)
    assert any("stopped at 0 of 1 steps" in info.value for info in app.info)
    assert [b for b in app.button if b.label == "Start again"]


def test_a_model_without_convolutions(real_cifar_path, models_folder, tmp_path):
    app = models_page()
    app.run()
    upload(app, "flat.keras", model_bytes(tmp_path, "dense", "flat.keras"))
    app.query_params["model"] = "flat"
    app.run()
    check_ok(app)
    card = app.table[0].value["value"]
    assert card["output"].startswith("logits")  # a softmax was added for the app
    dot = app.get("graphviz_chart")[0].proto.spec
    assert "Conv2D" not in dot
    assert re.search(r'"rescaling" -> "flatten(_\d+)?";', dot)
    assert re.search(r'"dense(_\d+)?" -> "probabilities";', dot)


def test_without_the_dataset_the_page_works_and_says_what_was_assumed(
        models_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "empty-cache"))
    app = models_page()
    app.run()
    check_ok(app)
    assert catalogue(app) == [("tiny", "shipped")]
    upload(app, "offline.keras", model_bytes(tmp_path))
    check_ok(app)
    assert "Imported **offline**" in app.success[0].value
    assert "pixels / 255 (0-1) was assumed" in app.warning[0].value
    card = json.loads((models_folder / "imported" / "offline.json").read_text())
    assert card["scaling"] == "0-1" and card["test_accuracy"] is None
