"""``python -m cifar_core import|evaluate`` on model files made elsewhere."""

import numpy as np
import pytest

from cifar_core import cli, data
from cifar_core.models import catalog, input_scaling
from tests.fresh_python import cli_help_and_frameworks
from tests.unit.models import zoo


@pytest.fixture
def tiny_data(tiny_archive, monkeypatch):
    """The CLI reads the tiny archive (20 test images) whatever it asks for."""
    archive, arrays = tiny_archive
    real_load = data.load_cifar10
    monkeypatch.setattr(data, "load_cifar10", lambda path=None, progress=None, download=True:
                        real_load(archive, progress=progress, expected_counts=None,
                                  download=False))
    return archive, real_load(archive, expected_counts=None, download=False)


def test_import_adds_the_file_to_the_catalogue(tmp_path, monkeypatch, capsys, tiny_data):
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path / "models"))
    source = zoo.save(zoo.build("separable_depthwise"), tmp_path, "student", "h5")
    assert cli.main(["import", str(source), "--name", "my net"]) == 0
    out = capsys.readouterr().out
    assert "imported: my-net" in out and "output: logits" in out
    assert "test accuracy: 0." in out and "(test set (20 images))" in out
    (entry,) = catalog.imported_models()
    assert entry.key == "my-net" and entry.path.suffix == ".h5"


def test_import_without_the_dataset_assumes_0_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path / "models"))
    source = zoo.save(zoo.build("dense_only"), tmp_path, "dense", "keras")
    assert cli.main(["import", str(source), "--no-data", "--scaling=-1..1"]) == 0
    out = capsys.readouterr().out
    assert "input scaling: -1..1 (chosen by hand)" in out and "test accuracy" not in out
    assert [entry.key for entry in catalog.imported_models()] == ["dense"]


@pytest.mark.parametrize("command", ["import", "evaluate"])
def test_a_bad_file_exits_1_with_one_line_naming_it(tmp_path, monkeypatch, capsys, command):
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path / "models"))
    marker = tmp_path / "ran"
    path = zoo.bad_lambda_h5(tmp_path / "evil.h5", marker)
    assert cli.main([command, str(path), "--no-data"] if command == "import"
                    else [command, str(path)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "evil.h5: layer 'lambda" in error
    assert "is a Lambda layer" in error
    assert not marker.exists() and not (tmp_path / "models" / "imported").exists()


def test_evaluate_infers_the_scaling_of_a_foreign_file(tmp_path, capsys, tiny_data):
    _, dataset = tiny_data
    statistics = input_scaling.channel_statistics(dataset.x_train)
    model = zoo.brightness_classifier("-1..1", statistics)
    path = zoo.save(model, tmp_path, "bright", "keras")
    expected = np.mean(np.argmax(model.predict(dataset.x_test / 127.5 - 1, verbose=0), axis=1)
                       == dataset.y_test)
    assert cli.main(["evaluate", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"test accuracy: {expected:.4f}" in out
    assert cli.main(["evaluate", str(path), "--scaling", "0-255"]) == 0
    assert "input scaling: 0-255 (chosen by hand)" in capsys.readouterr().out


def test_evaluate_still_reads_our_own_files(tiny_model_path, capsys, tiny_data):
    assert cli.main(["evaluate", str(tiny_model_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("test accuracy: ") and "input scaling" not in out


def test_import_help_answers_without_tensorflow():
    output, frameworks = cli_help_and_frameworks("import")
    assert "--scaling" in output
    assert frameworks == "[]"
