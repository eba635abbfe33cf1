"""The pages' model loader on imported entries: wrapped, cached once per server, and
reloaded when the card's input scaling changes (AppTest, no dataset needed)."""

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 90


def loader_script():
    """A page that picks a model and shows what the shared loader gives for it."""
    import streamlit as st

    from cifar_core import ui

    entry = ui.model_picker()
    model = ui.model(entry.path)
    st.write(f"source={entry.source}")
    st.write(f"layers={','.join(layer.name for layer in model.layers)}")
    st.write(f"rescaling={type(model.get_layer('rescaling')).__name__}"
             f"/{model.get_layer('rescaling').get_config().get('offset')}")
    st.write(f"id={id(model)}")


def texts(app):
    return {item.value.split("=")[0]: item.value.split("=", 1)[1] for item in app.markdown}


@pytest.fixture
def imported_entry(tmp_path, monkeypatch):
    from tests.unit.models import zoo

    monkeypatch.setenv("CIFAR_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("CIFAR_RUNS_DIR", str(tmp_path / "runs"))
    return zoo.import_into(tmp_path / "models", "nested_block", "h5")


def test_an_imported_model_loads_wrapped_and_follows_its_scaling(imported_entry):
    from cifar_core.models import importing

    app = AppTest.from_function(loader_script, default_timeout=TIMEOUT)
    app.query_params["model"] = imported_entry.key
    app.run()
    assert not app.exception, app.exception
    shown = texts(app)
    assert shown["source"] == "imported"
    names = shown["layers"].split(",")
    assert names[1] == "rescaling" and names[-1] == "probabilities" and "block" not in names
    assert shown["rescaling"] == "Rescaling/0.0"  # 0-1, assumed without a dataset
    first_id = shown["id"]
    app.run()
    assert texts(app)["id"] == first_id  # cached: not loaded again on a rerun

    importing.set_scaling(imported_entry, "-1..1")
    app.run()
    shown = texts(app)
    assert shown["rescaling"] == "Rescaling/-1.0" and shown["id"] != first_id
