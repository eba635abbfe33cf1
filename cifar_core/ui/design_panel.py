"""The Train page's "Design a network": blocks to add, reorder, edit and delete, live.

The design lives in this browser tab's session state (``design_blocks``: the blocks, each
with an ``id`` that keys its widgets, so a block keeps its widgets when it moves). Every
rerun redraws the layer table (``design.analyse``, plain Python: instant) and the
diagram; an impossible stack shows the message naming its block instead. The design can
be started from a template, downloaded as JSON and uploaded again (validated).
``current_design`` hands the page the definition to train, or None while it is impossible.
"""

import itertools
import re

import pandas as pd
import streamlit as st

from cifar_core.display import design_diagram
from cifar_core.models import design, design_templates

DEFAULT_TEMPLATE = "tiny"
_ids = itertools.count(1)  # widget keys of blocks: unique for the server's lifetime


def _with_ids(blocks):
    return [{"id": next(_ids), **block} for block in blocks]


def _load(definition):
    """Replace the tab's design with ``definition`` (new block ids: new widgets)."""
    st.session_state.design_blocks = _with_ids(definition["blocks"])
    st.session_state.design_name = definition.get("name", "my-network")


def _ensure_design():
    if "design_blocks" not in st.session_state:
        _load(design_templates.template(DEFAULT_TEMPLATE))


def current_definition():
    """The tab's design as a definition (possibly impossible; fields are always valid)."""
    _ensure_design()
    blocks = [{key: value for key, value in block.items() if key != "id"}
              for block in st.session_state.design_blocks]
    return {"format": design.FORMAT, "version": design.VERSION,
            "name": st.session_state.get("design_name") or "my-network", "blocks": blocks}


def current_design():
    """The tab's design, validated, to train; None while it is impossible."""
    try:
        return design.validate(current_definition())
    except ValueError:
        return None


# --- callbacks: run before the rerun, so the blocks drawn are already the new ones ---------
def _use_template():
    _load(design_templates.template(st.session_state.design_template))


def _add_block():
    st.session_state.design_blocks.append(
        {"id": next(_ids), **design.new_block(st.session_state.design_new_type)})


def _move(index, step):
    blocks = st.session_state.design_blocks
    other = index + step
    if 0 <= index < len(blocks) and 0 <= other < len(blocks):
        blocks[index], blocks[other] = blocks[other], blocks[index]


def _delete(index):
    blocks = st.session_state.design_blocks
    if 0 <= index < len(blocks):
        del blocks[index]


def _upload():
    uploaded = st.session_state.get("design_upload")
    st.session_state.pop("design_upload_error", None)
    if uploaded is None:
        return
    try:
        _load(design.from_json(uploaded.getvalue()))
    except ValueError as error:
        st.session_state.design_upload_error = f"{uploaded.name} was not loaded: {error}"


def _file_name(name):
    """The design's name as a safe file name: letters, digits, dots, dashes, underscores."""
    return re.sub(r"[^\w.-]+", "-", name).strip(".-") or "design"


def _train_it():
    st.session_state.field_model = design.DESIGNED  # the New run form's Model


# --- drawing -------------------------------------------------------------------------------
def _field_widget(column, block, name, field):
    """One setting's widget, tied to the block's id; writes the value back into the block."""
    key = f"design_{block['id']}_{name}"
    st.session_state.setdefault(key, block[name])
    label = name.replace("_", " ").capitalize()
    if field.choices:
        value = column.selectbox(label, field.choices, key=key)
    elif isinstance(field.default, int):
        value = column.number_input(label, min_value=field.low, max_value=field.high, step=1,
                                    key=key)
    else:
        value = column.number_input(label, min_value=field.low, max_value=field.high,
                                    step=0.05, format="%.2f", key=key)
    block[name] = value


def _block_row(index, block, count):
    """One block: its number and kind with Up, Down and Delete, then its settings."""
    label, fields = design.BLOCK_TYPES[block["type"]]
    with st.container(border=True):
        title, up, down, delete = st.columns([6, 1, 1, 1.2], vertical_alignment="center")
        title.markdown(f"**{index + 1}. {label}**")
        up.button("Up", key=f"design_up_{block['id']}", on_click=_move, args=(index, -1),
                  disabled=index == 0, help=f"Move block {index + 1} up", width="stretch")
        down.button("Down", key=f"design_down_{block['id']}", on_click=_move, args=(index, 1),
                    disabled=index == count - 1, help=f"Move block {index + 1} down",
                    width="stretch")
        delete.button("Delete", key=f"design_delete_{block['id']}", on_click=_delete,
                      args=(index,), help=f"Delete block {index + 1}", width="stretch")
        if fields:
            for column, (name, field) in zip(st.columns(5), fields.items()):
                _field_widget(column, block, name, field)


def layer_dataframe(rows):
    """The live table: each layer's name, block, what it does, output shape, parameters."""
    return pd.DataFrame({
        "Layer": [row.name for row in rows],
        "Block": ["" if row.block is None else str(row.block) for row in rows],  # stem, head: ""
        "What it does": [row.description for row in rows],
        "Output shape": [str((None,) + row.output_shape) for row in rows],
        "Parameters": [f"{row.parameters:,}" for row in rows]})


def design_section():
    """Templates, the blocks, the live layer table and diagram, download and upload."""
    _ensure_design()
    st.caption("Build a CNN from blocks. Every network starts by scaling the pixels to 0-1 "
               "and ends in 10 class scores and their softmax; the table below updates as "
               "you edit, like Keras' model.summary().")
    st.session_state.setdefault("design_template", DEFAULT_TEMPLATE)
    template, add = st.columns(2, vertical_alignment="bottom")
    template.selectbox("Template", design_templates.TEMPLATE_NAMES, key="design_template",
                       help="\n".join(f"- {name}: {purpose}" for name, purpose
                                      in design_templates.TEMPLATE_PURPOSES.items()))
    template.button("Start from this template", on_click=_use_template,
                    icon=":material/restart_alt:",
                    help="Replaces the blocks below with the template's")
    add.selectbox("New block", list(design.BLOCK_TYPES), key="design_new_type",
                  format_func=lambda kind: design.BLOCK_TYPES[kind][0])
    add.button("Add block", on_click=_add_block, icon=":material/add:",
               disabled=len(st.session_state.design_blocks) >= design.MAX_BLOCKS,
               help=f"Adds the block at the end, before the 10-class output (at most "
                    f"{design.MAX_BLOCKS} blocks)")
    st.text_input("Name", key="design_name", max_chars=design.MAX_NAME_LENGTH)

    blocks = st.session_state.design_blocks
    if not blocks:
        st.info("No blocks yet: add some, or start from a template.", icon=":material/info:")
    for index, block in enumerate(list(blocks)):
        _block_row(index, block, len(blocks))

    definition = current_definition()
    try:
        analysis = design.analyse(definition)
    except ValueError as error:  # too many blocks: said like an impossible stack
        analysis = design.Analysis((), str(error))
    if analysis.problem:
        st.error(f"This network cannot be built: {analysis.problem}.", icon=":material/error:")
    else:
        st.success(f"{len(analysis.rows)} layers, {analysis.parameters:,} parameters "
                   f"({analysis.trainable:,} trainable).", icon=":material/check_circle:")
    table, diagram = st.tabs(["Layer table", "Diagram"])
    # A static table: every row visible at once (projector mode), nothing to scroll or sort.
    table.table(layer_dataframe(analysis.rows), hide_index=True)
    diagram.graphviz_chart(design_diagram.design_dot(analysis.rows, title=definition["name"]))

    download, upload, train = st.columns(3, vertical_alignment="bottom")
    if not analysis.problem:
        download.download_button("Download design (JSON)", data=design.to_json(definition),
                                 file_name=f"{_file_name(definition['name'])}.json",
                                 mime="application/json", on_click="ignore",
                                 icon=":material/download:")
        train.button("Train this design", on_click=_train_it, icon=":material/model_training:",
                     help="Chooses it as the Model of New run, above; start it there")
    upload.file_uploader("Upload a design (JSON)", type=["json"], key="design_upload",
                         on_change=_upload)
    if "design_upload_error" in st.session_state:
        st.error(st.session_state.design_upload_error, icon=":material/error:")
