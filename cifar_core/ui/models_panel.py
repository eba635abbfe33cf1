"""The Models page's catalogue and one model up close: card, diagram, layers, files.

Every model the app offers (shipped, trained here, imported) in one table with a link
into Layers; the chosen one's card, a diagram of its graph and its layer table; for an
imported model the accuracy of each input scaling tried, with a way to choose another;
downloads (the file as stored, or TensorFlow Lite converted on a button in the
background); and, for imported models only, delete with a confirmation.
"""

from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from cifar_core.models import catalog, graph_diagram, model_facts
from cifar_core.ui import task_panel
from cifar_core.ui.model_picker import model as load_model

LAYERS_PAGE = "pages/layers.py"


def catalogue_table(entries):
    """Every model in one table: name, source, architecture, accuracy, a Layers link."""
    rows = [{"model": entry.key, "source": entry.source, "architecture": entry.architecture,
             "test accuracy": entry.test_accuracy,
             "layers": f"layers?{urlencode({'model': entry.key})}"} for entry in entries]
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "test accuracy": st.column_config.ProgressColumn(
            "test accuracy", format="percent", min_value=0.0, max_value=1.0),
        "layers": st.column_config.LinkColumn("open", display_text="Open in Layers"),
    })


def layers_link(entry, container=st):
    """A link that opens ``entry`` on the Layers page (``layers?model=<key>``)."""
    label = f"Open {entry.key} in Layers"
    try:
        container.page_link(LAYERS_PAGE, label=label, icon=":material/layers:",
                            query_params={"model": entry.key},
                            help="Follow an image through every layer of this network.")
    except StreamlitAPIException:  # the page runs outside app.py's navigation (tests)
        container.markdown(f"[{label}](layers?{urlencode({'model': entry.key})})")


def model_card(entry, model):
    """The card (source, architecture, parameters, accuracy, scaling, date) as a table."""
    rows = model_facts.card_rows(entry, parameters=model.count_params())
    st.table(pd.DataFrame(rows, columns=["fact", "value"]).set_index("fact"))


def graph_section(entry, model, layer_table):
    """The graph as boxes and arrows (nested blocks already flattened) and its layers."""
    st.header("Its graph")
    shapes = dict(zip(layer_table["layer"], layer_table["output shape"])) \
        if len(layer_table) else {}
    dot = graph_diagram.model_dot(model.get_config(), details=shapes)
    convolutions = sum(kind in graph_diagram.CONVOLUTIONS for kind in layer_table.get("type", ()))
    diagram, table = st.columns([2, 3])
    diagram.graphviz_chart(dot, alt=f"Diagram of {entry.key}: {len(layer_table)} layers from "
                           f"the input image to the probabilities, {convolutions} of them "
                           "convolutions")
    table.caption(f"Every layer of {entry.key}: {len(layer_table)} layers, "
                  f"{convolutions} convolution-like (Conv2D, depthwise, separable).")
    table.dataframe(layer_table, hide_index=True)


def scaling_section(entry):
    """An imported model's input scaling: each candidate's accuracy; choose another."""
    card = model_facts.model_card(entry)
    candidates = model_facts.scaling_candidates(card)
    st.header("Its input scaling")
    current = card.get("scaling")
    st.markdown(f"The model is fed **{model_facts.scaling_words(current)}**. A model gives "
                "nonsense when its inputs are scaled differently from its training, so each "
                "way people scale CIFAR-10 was tried on labelled test images.")
    if not candidates:
        st.info("No scalings were scored (the dataset was missing when it was imported), "
                "so pixels / 255 was assumed. Choose another below if it was trained on "
                "another scale.", icon=":material/info:")
    else:
        st.dataframe(pd.DataFrame([{"scaling": model_facts.scaling_words(name),
                                    "accuracy": accuracy} for name, accuracy in candidates]),
                     hide_index=True, column_config={"accuracy": st.column_config.ProgressColumn(
                         f"accuracy on {card.get('scaling_sample') or 'the'} test images",
                         format="percent", min_value=0.0, max_value=1.0)})
    options = list(model_facts.SCALINGS)
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.selectbox("Scaling to use", options, format_func=model_facts.scaling_words,
                            index=options.index(current) if current in options else 0,
                            key=f"scaling_{entry.key}")
    state_key = f"scaling_task_{entry.key}"
    right.button("Use this scaling", key=f"set_scaling_{entry.key}", icon=":material/tune:",
                 disabled=chosen == current, on_click=_start_scaling,
                 args=(entry, chosen, state_key))
    task_key = st.session_state.get(state_key)
    task = None if task_key is None else task_panel.server_tasks().get(task_key)
    if task is None:
        return
    snapshot = task.snapshot()
    if snapshot.state == "failed":
        st.error(f"Could not change the scaling of {entry.key}: "
                 f"{snapshot.error.partition(': ')[2] or snapshot.error}",
                 icon=":material/error:")
    elif snapshot.state != "finished":
        task_panel.task_result(task, progress_text="Measuring the test accuracy again",
                               failure_text="", retry_key=f"scaling_retry_{entry.key}",
                               unit="steps")
    elif st.session_state.get(f"{state_key}_shown") != task_key:
        # The card and model above were read before the change ended: read them again.
        st.session_state[f"{state_key}_shown"] = task_key
        st.rerun()
    else:
        st.success(f"{entry.key} is now fed {model_facts.scaling_words(current)}.",
                   icon=":material/check_circle:")


def _start_scaling(entry, scaling, state_key):
    """Button callback: the server-wide task storing ``scaling`` (and measuring again)."""
    from cifar_core.models import import_tasks
    from cifar_core.ui.model_upload_panel import dataset_if_present

    dataset = dataset_if_present()
    key = ("scaling", str(entry.path), scaling, entry.path.stat().st_mtime_ns)
    task = task_panel.server_tasks().start(
        key, lambda: import_tasks.scaling_task(entry, scaling, dataset=dataset))
    task.start()  # again, where an earlier try failed or was stopped
    st.session_state[state_key] = key


def _tflite_task(model, name):
    from cifar_core.models import tflite_export  # TensorFlow: imported on the button only

    return tflite_export.tflite_task(model, name)


def downloads_section(entry, model):
    """The file as stored, and TensorFlow Lite converted once asked for (seconds)."""
    st.header("Take it with you")
    left, right = st.columns(2)
    path = entry.path
    left.download_button(f"Download {path.name} ({path.stat().st_size / 2**20:.1f} MB)",
                         data=path.read_bytes, file_name=f"{entry.key}{path.suffix}",
                         mime="application/octet-stream", icon=":material/download:",
                         key=f"download_{entry.key}", on_click="ignore")
    key = ("tflite", str(path), path.stat().st_mtime_ns)
    tasks = task_panel.server_tasks()
    task = tasks.get(key)
    with right:
        st.caption("TensorFlow Lite, for a phone app: takes raw pixel values 0-255 as "
                   "float32 and gives the ten class probabilities.")
        if task is None:
            st.button("Convert to TensorFlow Lite", icon=":material/smartphone:",
                      key=f"tflite_{entry.key}", on_click=tasks.start,
                      args=(key, lambda: _tflite_task(model, entry.key)))
            return
        tflite = task_panel.task_result(task, progress_text="Converting to TensorFlow Lite",
                                        failure_text="Could not convert the model:",
                                        retry_key=f"tflite_retry_{entry.key}", unit="steps")
        if tflite is not None:
            st.download_button(f"Download {entry.key}.tflite ({len(tflite) / 2**20:.1f} MB)",
                               data=tflite, file_name=f"{entry.key}.tflite",
                               mime="application/octet-stream", icon=":material/download:",
                               key=f"download_tflite_{entry.key}", on_click="ignore")


def delete_section(entry):
    """Delete an imported model after a confirmation; ours and runs are not deleted here."""
    if entry.source != "imported":
        return
    st.header("Remove it")
    sure = st.checkbox(f"Yes, delete the imported model {entry.key} from this app",
                       key=f"confirm_delete_{entry.key}")
    if st.button(f"Delete {entry.key}", type="primary", disabled=not sure,
                 icon=":material/delete:", key=f"delete_{entry.key}"):
        from cifar_core.models import importing

        try:
            importing.delete_imported(entry)
        except (ValueError, OSError) as error:
            st.error(f"Could not delete {entry.key}: {error}", icon=":material/error:")
            return
        st.session_state.pop(f"confirm_delete_{entry.key}", None)
        st.toast(f"Deleted {entry.key}.", icon=":material/delete:")
        st.rerun()


def model_section(entry):
    """Everything about one catalogue entry, or one clear error where it cannot load."""
    from cifar_core.inspect import activations  # TensorFlow: imported with the model
    from cifar_core.models import saving

    try:
        model = load_model(entry.path)
    except (saving.ModelError, OSError) as error:
        st.error(f"Could not load the model {entry.label}: {error}", icon=":material/error:")
        delete_section(entry)
        return
    left, right = st.columns([2, 1])
    with left:
        model_card(entry, model)
    layers_link(entry, right)
    graph_section(entry, model, activations.layer_table(model))
    if entry.source == "imported":
        scaling_section(entry)
    downloads_section(entry, model)
    delete_section(entry)


def entries():
    """The catalogue now (re-read every run: an import or delete shows at once)."""
    return catalog.available_models()
