"""AppTest for the Train page's "Design a network": templates, editing, the live table, training."""

import json

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cifar_core.models import catalog, design, design_templates
from cifar_core.storage import PROJECT_ROOT
from cifar_core.training import runs
from tests.app.polling import run_until

PAGE = str(PROJECT_ROOT / "pages" / "train.py")
TIMEOUT = 60


def open_page():
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.query_params["preset"] = "demo"
    app.query_params["design"] = "true"  # the designer opens on request (a toggle)
    return app.run()


def button(app, label, nth=0):
    return [item for item in app.button if item.label == label][nth]


def layer_table(app):
    """The designer's live table, its parameter counts as numbers."""
    table = app.table[0].value
    return table.assign(Parameters=[int(count.replace(",", "")) for count in table["Parameters"]])


def errors(app):
    return [element.value for element in app.error]


def test_the_designer_starts_on_the_tiny_template_with_its_summary(tiny_dataset):
    app = open_page()
    assert not app.exception
    assert "Design a network" in [header.value for header in app.header]
    table = layer_table(app)
    assert list(table["Layer"]) == ["rescaling", "conv1", "pool1", "conv2", "pool2", "pool3",
                                    "logits", "probabilities"]
    assert list(table["Output shape"])[1] == "(None, 32, 32, 16)"
    assert int(table["Parameters"].sum()) == 5418  # the tiny architecture's own count
    assert any("5,418 parameters" in element.value for element in app.success)
    assert app.get("graphviz_chart")  # the diagram is drawn
    assert not errors(app)


def test_a_template_replaces_the_blocks(tiny_dataset):
    app = open_page()
    app.selectbox(key="design_template").set_value("seed").run()
    button(app, "Start from this template").click().run()
    assert not app.exception
    assert int(layer_table(app)["Parameters"].sum()) == 2_915_114  # the seed notebook's CNN
    assert len(app.session_state["design_blocks"]) == 18
    assert app.text_input(key="design_name").value == "seed"


def test_add_reorder_and_delete_blocks(tiny_dataset):
    app = open_page()
    app.selectbox(key="design_new_type").set_value("dense").run()
    button(app, "Add block").click().run()  # dense after global pooling: possible
    kinds = [block["type"] for block in app.session_state["design_blocks"]]
    assert kinds[-1] == "dense" and len(kinds) == 6
    assert "dense1" in list(layer_table(app)["Layer"])
    button(app, "Up", nth=5).click().run()  # dense moved before global pooling: impossible
    kinds = [block["type"] for block in app.session_state["design_blocks"]]
    assert kinds[-2:] == ["dense", "global_pooling"]
    [message] = errors(app)
    assert "block 5 (dense 128, relu)" in message and "flatten or global pooling" in message
    assert not any(item.label == "Download design (JSON)" for item in app.get("download_button"))
    button(app, "Delete", nth=4).click().run()  # the dense block goes again
    kinds = [block["type"] for block in app.session_state["design_blocks"]]
    assert kinds == ["convolution", "max_pooling", "convolution", "max_pooling",
                     "global_pooling"]
    assert not errors(app)


def test_editing_a_field_updates_the_table_and_an_impossible_stack_names_its_block(
        tiny_dataset):
    app = open_page()
    first = app.session_state["design_blocks"][0]["id"]
    app.number_input(key=f"design_{first}_filters").set_value(8).run()
    table = layer_table(app)
    assert list(table["Output shape"])[1] == "(None, 32, 32, 8)"
    assert table["Parameters"][1] == 3 * 3 * 3 * 8 + 8
    pool = app.session_state["design_blocks"][1]["id"]
    app.number_input(key=f"design_{pool}_pool_size").set_value(8).run()  # 32 -> 4
    second_pool = app.session_state["design_blocks"][3]["id"]
    app.number_input(key=f"design_{second_pool}_pool_size").set_value(8).run()  # 4 < 8
    [message] = errors(app)
    assert "block 4 (max pooling 8x8): the image is already 4 x 4" in message
    assert list(layer_table(app)["Layer"]) == ["rescaling", "conv1", "pool1", "conv2"]


class SessionState(dict):
    """A stand-in for st.session_state: a dict also read and written as attributes."""

    __getattr__, __setattr__ = dict.__getitem__, dict.__setitem__


def test_a_design_is_uploaded_and_bad_json_is_one_message(tiny_dataset):
    app = open_page()
    uploader = app.get("file_uploader")[0]
    assert uploader.proto.label == "Upload a design (JSON)"
    definition = design_templates.template("small-vgg")
    definition["name"] = "shared-vgg"
    # AppTest cannot upload files: call the panel's upload callback as the widget would.
    from cifar_core.ui import design_panel

    class Uploaded:
        def __init__(self, name, content):
            self.name, self._content = name, content

        def getvalue(self):
            return self._content

    with pytest.MonkeyPatch.context() as patch:
        state = SessionState(design_upload=Uploaded("vgg.json",
                                                    design.to_json(definition).encode()))
        patch.setattr(st, "session_state", state)
        design_panel._upload()
        assert [block["type"] for block in state["design_blocks"]] == \
            [block["type"] for block in definition["blocks"]]
        assert state["design_name"] == "shared-vgg" and "design_upload_error" not in state
        state["design_upload"] = Uploaded("broken.json", b"{\"blocks\": [")
        design_panel._upload()
        assert state["design_upload_error"].startswith("broken.json was not loaded: this file "
                                                       "is not valid JSON")
        state["design_upload"] = Uploaded("impossible.json", json.dumps(
            {"blocks": [{"type": "max_pooling", "pool_size": 8}] * 3}).encode())
        design_panel._upload()
        assert "block 2 (max pooling 8x8): the image is already 4 x 4" in \
            state["design_upload_error"]
        assert state["design_name"] == "shared-vgg"  # a refused file changes nothing


def test_the_download_is_the_design_as_json(tiny_dataset):
    app = open_page()
    [download] = [item for item in app.get("download_button")
                  if item.proto.label == "Download design (JSON)"]
    assert download.proto.label == "Download design (JSON)"
    from cifar_core.ui import design_panel

    definition = design_panel.design.validate(design_templates.template("tiny"))
    assert design.from_json(design.to_json(definition)) == definition


def test_training_the_design_makes_a_run_with_its_definition(tiny_dataset):
    app = open_page()
    button(app, "Train this design").click().run()
    assert app.selectbox(key="field_model").value == "designed"
    app.number_input(key="field_epochs").set_value(1)
    app.number_input(key="field_batch_size").set_value(20)
    app.number_input(key="field_train_size").set_value(0)
    button(app, "Start training").click().run()
    assert not app.exception and app.session_state["train_job"]
    run_until(app, lambda app: any("Run finished" in element.value for element in app.success))
    [record] = runs.list_runs()
    assert record.config["model"] == "designed"
    assert record.config["design"] == design.validate(design_templates.template("tiny"))
    entry = next(entry for entry in catalog.run_models() if entry.key == record.id)
    assert entry.architecture == "designed"  # every model chooser offers it


def test_choosing_designed_with_an_impossible_design_says_so(tiny_dataset):
    app = open_page()
    button(app, "Train this design").click().run()
    pool = app.session_state["design_blocks"][1]["id"]
    app.number_input(key=f"design_{pool}_pool_size").set_value(8).run()
    second_pool = app.session_state["design_blocks"][3]["id"]
    app.number_input(key=f"design_{second_pool}_pool_size").set_value(8).run()
    button(app, "Start training").click().run()
    assert not app.exception
    assert "train_job" not in app.session_state
    assert any("design a possible network first" in message for message in errors(app))


def test_too_many_blocks_is_a_message_and_add_is_disabled(tiny_dataset):
    app = open_page()
    blocks = app.session_state["design_blocks"]
    app.session_state["design_blocks"] = blocks + [
        {"id": 10_000 + number, "type": "dropout", "rate": 0.1}
        for number in range(design.MAX_BLOCKS + 1 - len(blocks))]
    app.run()
    assert not app.exception
    assert any(f"{design.MAX_BLOCKS + 1} blocks: at most {design.MAX_BLOCKS}" in message
               for message in errors(app))
    assert button(app, "Add block").disabled
    button(app, "Delete").click().run()  # 60 blocks: possible, but full
    assert not errors(app) and button(app, "Add block").disabled
    button(app, "Delete").click().run()
    assert not button(app, "Add block").disabled


def test_the_download_name_is_a_safe_file_name():
    from cifar_core.ui import design_panel

    assert design_panel._file_name("../my net/v2") == "my-net-v2"
    assert design_panel._file_name("...") == "design"


def test_the_designer_is_closed_until_asked_for_and_the_toggle_keeps_it_in_the_url(tiny_dataset):
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.query_params["preset"] = "demo"
    app.run()
    assert not app.exception and not app.table  # no designer table: a light Train page
    app.toggle(key="design").set_value(True).run()
    assert list(layer_table(app)["Layer"])[-1] == "probabilities"
    assert app.query_params["design"] == "true"
