"""The Models page's card: facts read from the JSON beside each kind of model."""

import json

from cifar_core.models import model_facts
from cifar_core.models.catalog import ModelEntry


def entry(path, source, architecture="seed", accuracy=None):
    return ModelEntry(path.stem, path.stem, path, architecture, source, accuracy)


def test_shipped_card(tmp_path):
    path = tmp_path / "seed.keras"
    path.with_suffix(".json").write_text(json.dumps({
        "architecture": "seed", "test_accuracy": 0.7205, "date": "2026-11-25T22:20:39Z",
        "parameters": 2915114}))
    rows = dict(model_facts.card_rows(entry(path, "shipped", accuracy=0.7205)))
    assert rows == {"source": "shipped with the app", "architecture": "seed",
                    "parameters": "2,915,114", "test accuracy": "72.05%",
                    "input scaling": model_facts.BUILT_IN_SCALING,
                    "date": "2026-11-25 22:20 UTC"}
    # The loaded model's own count wins over the card's.
    assert dict(model_facts.card_rows(entry(path, "shipped"), parameters=12))["parameters"] == "12"


def test_run_card_reads_config_and_status(tmp_path):
    folder = tmp_path / "20261129-101500-demo"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model": "tiny"}))
    (folder / "status.json").write_text(json.dumps({"state": "finished", "started": 0,
                                                    "finished": 1795945776.0,
                                                    "test_accuracy": 0.3}))
    rows = dict(model_facts.card_rows(entry(folder / "model.keras", "run", "tiny")))
    assert rows["source"].startswith("trained here") and rows["test accuracy"] == "30.00%"
    assert rows["date"] == "2026-11-29 09:49 UTC" and rows["parameters"] == "unknown"


def test_imported_card_shows_scaling_and_candidates(tmp_path):
    path = tmp_path / "imported" / "notebook.h5"
    path.parent.mkdir()
    card = {"scaling": "0-1", "scaling_accuracies": {"0-255": 0.1, "0-1": 0.58,
                                                     "-1..1": 0.41, "standardised": None},
            "scaling_note": "best of 4", "output": "logits", "summary": "5 layers",
            "date": "2026-11-29T10:00:00Z", "original_file": "my_cnn.h5"}
    path.with_suffix(".json").write_text(json.dumps(card))
    imported = entry(path, "imported", "sequential")
    rows = model_facts.card_rows(imported)
    assert rows[1] == ("file", "my_cnn.h5")
    assert dict(rows)["input scaling"] == "pixels / 255 (0 to 1) (best of 4)"
    assert dict(rows)["layers"] == "5 layers" and dict(rows)["output"].startswith("logits")
    assert dict(rows)["test accuracy"] == "not measured"
    candidates = model_facts.scaling_candidates(model_facts.model_card(imported))
    assert candidates == [("0-1", 0.58), ("-1..1", 0.41), ("0-255", 0.1),
                          ("standardised", None)]


def test_missing_or_broken_cards_give_unknowns(tmp_path):
    path = tmp_path / "lost.keras"
    rows = dict(model_facts.card_rows(entry(path, "imported")))
    assert rows["date"] == "unknown" and rows["input scaling"] == "not recorded"
    path.with_suffix(".json").write_text("[1, 2]")
    assert model_facts.model_card(entry(path, "imported")) == {}
    path.with_suffix(".json").write_text("{broken")
    assert model_facts.model_card(entry(path, "imported")) == {}
    assert model_facts.scaling_candidates({"scaling_accuracies": [1]}) == []
