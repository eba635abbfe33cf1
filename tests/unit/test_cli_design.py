"""``python -m cifar_core train --design FILE``: a designed network from the command line."""

import json

import pytest

from cifar_core import cli, data
from cifar_core.models import design, design_templates
from cifar_core.training import runs


@pytest.mark.parametrize("content, words", [
    ("{not json", "--design"),
    (json.dumps({"blocks": [{"type": "flatten"}, {"type": "max_pooling"}]}),
     "block 2 (max pooling 2x2): needs feature maps"),
    (None, "cannot read --design"),
])
def test_bad_design_files_exit_2_with_one_line(content, words, tmp_path, capsys):
    path = tmp_path / "design.json"
    if content is not None:
        path.write_text(content)
    assert cli.main(["train", "--preset", "demo", "--design", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and words in error and str(path) in error


def test_model_and_design_together_are_refused(tmp_path, capsys):
    path = tmp_path / "design.json"
    path.write_text(design.to_json(design_templates.template("tiny")))
    assert cli.main(["train", "--model", "tiny", "--design", str(path)]) == 2
    assert "give --model or --design, not both" in capsys.readouterr().err


def test_train_a_design_on_tiny_archive(tiny_archive, tmp_path, monkeypatch, capsys):
    archive, _ = tiny_archive
    real_load = data.load_cifar10
    monkeypatch.setattr(data, "load_cifar10", lambda path=None, progress=None: real_load(
        path, progress=progress, expected_counts=None, download=False))
    path = tmp_path / "design.json"
    path.write_text(design.to_json(design_templates.template("tiny")))
    argv = ["train", "--preset", "demo", "--design", str(path), "--epochs", "1",
            "--batch-size", "20", "--data", str(archive), "--runs-dir", str(tmp_path / "runs")]
    assert cli.main(argv) == 0
    assert "test accuracy:" in capsys.readouterr().out
    (record,) = runs.list_runs(tmp_path / "runs")
    assert record.config["model"] == "designed"
    assert record.config["design"] == design.validate(design_templates.template("tiny"))
    assert cli.main(["evaluate", str(record.path), "--data", str(archive)]) == 0
    assert "test accuracy:" in capsys.readouterr().out
