"""The command line: one-line errors for bad arguments, a real train and evaluate on tiny data."""

import json
import subprocess
import sys

import pytest

from cifar_core import cli, data
from cifar_core.training import runs
from tests.fresh_python import cli_help_and_frameworks


@pytest.mark.parametrize("argv, words", [
    ([], "error:"), (["fly"], "error:"), (["train", "--epochs", "0"], "--epochs"),
    (["train", "--epochs", "many"], "--epochs"), (["train", "--batch-size", "-5"], "--batch-size"),
    (["evaluate"], "error:"), (["evaluate", "run", "--tta", "3"], "--tta"),
    # Names are choices the parser knows (no TensorFlow needed to refuse them).
    (["train", "--preset", "nope"], "'nope'"), (["train", "--model", "vgg"], "'vgg'"),
    (["train", "--flip", "upside-down"], "'upside-down'"),
    (["train", "--optimizer", "rmsprop"], "'rmsprop'"),
])
def test_usage_errors_exit_2_with_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "error:" in error and words in error


@pytest.mark.parametrize("argv, code, words", [
    (["train", "--preset", "demo", "--learning-rate", "-1"], 2, "learning_rate"),
    (["train", "--preset", "demo", "--save", "model.h5"], 2, "--save"),
    (["evaluate", "missing.keras"], 1, "no model file"),
    # airbench's fields need its optimizer: the reason names the field and the optimizer.
    (["train", "--preset", "fast", "--optimizer", "adam", "--lookahead"], 2,
     "only the 'nesterov-l2'"),
    (["train", "--preset", "fast", "--ema"], 2, "averages weights with lookahead"),
    (["train", "--preset", "demo", "--lookahead"], 2, "lookahead"),
    (["train", "--preset", "fast", "--whitening-bias-epochs", "-1"], 2,
     "whitening_bias_epochs"),
])
def test_bad_values_exit_nonzero_with_one_line(argv, code, words, capsys):
    assert cli.main(argv) == code
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and words in error


def test_help_names_every_preset_and_architecture(capsys):
    """The help's choices come from the code: every preset (with what it is for) and every
    architecture that can be built."""
    from cifar_core.models import architectures
    from cifar_core.training import train_config

    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for name in list(train_config.PRESETS) + list(architectures.ARCHITECTURES):
        assert f"{name}," in help_text or f"{name} " in help_text, name
    for name in train_config.PRESETS:
        assert train_config.describe(name) in help_text


def test_help_answers_without_tensorflow():
    """``--help`` and usage errors must not wait seconds for TensorFlow to import."""
    _, frameworks = cli_help_and_frameworks("train")
    assert frameworks == "[]"


def test_module_entry_point_reports_one_line():
    completed = subprocess.run([sys.executable, "-m", "cifar_core", "train", "--epochs", "0"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "--epochs" in completed.stderr


def test_train_then_evaluate_on_tiny_archive(tiny_archive, tmp_path, monkeypatch, capsys):
    archive, _ = tiny_archive
    real_load = data.load_cifar10
    monkeypatch.setattr(data, "load_cifar10", lambda path=None, progress=None: real_load(
        path, progress=progress, expected_counts=None, download=False))
    saved = tmp_path / "models" / "tiny.keras"
    argv = ["train", "--preset", "demo", "--epochs", "1", "--batch-size", "20",
            "--augment", "--flip", "alternating", "--data", str(archive),
            "--runs-dir", str(tmp_path / "runs"), "--save", str(saved)]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert "test accuracy:" in captured.out
    assert "\r" in captured.err or "epoch 1/1" in captured.err
    assert "CIFAR-10 parse: " in captured.err  # the dataset's first load shows its progress
    (record,) = runs.list_runs(tmp_path / "runs")
    assert record.state == "finished" and record.model_path is not None
    assert record.config["flip"] == "alternating" and record.config["augment"] is True
    card = json.loads(saved.with_suffix(".json").read_text())
    assert card["architecture"] == "tiny" and card["epochs"] == 1
    assert card["recipe"].startswith("python -m cifar_core train --preset demo")

    assert cli.main(["evaluate", str(record.path), "--data", str(archive)]) == 0
    plain = capsys.readouterr().out
    assert "test accuracy:" in plain and "test-time augmentation" not in plain
    assert cli.main(["evaluate", str(record.path), "--data", str(archive), "--tta"]) == 0
    assert "test-time augmentation: mirror images and 1-pixel translations" \
        in capsys.readouterr().out
