"""Evaluate: test accuracy, confusion matrix and the mistakes, each linked to the Layers page."""

import pandas as pd
import streamlit as st

from cifar_core import ui
from cifar_core.display import plots
from cifar_core.inspect import evaluation
from cifar_core.models import catalog
from cifar_core.ui import embedding_panel, image_gallery, label_issues_panel, task_panel
from cifar_core.ui.shared_cache import figure as shared_figure

GALLERY_SIZE = image_gallery.GALLERY_SIZE  # images per gallery: three rows of eight

data = ui.dataset()
names = data.class_names
images, labels = data.split("test")
classes = list(range(len(names)))

st.title("How good is the model?")
st.caption(f"Every number here comes from the {len(labels):,} test images, which no model saw "
           "while training. Click any image to see what the model's layers made of it.")


def evaluate(entry):
    """The model's test-set evaluation: from the disk cache, or computed once in the background."""
    try:
        found = evaluation.load_cached(entry.path, labels, data.source)
        key = evaluation.cache_key(entry.path, labels, data.source)
    except OSError as error:
        st.error(f"The model file of **{entry.label}** cannot be read: {error}")
        st.stop()
    if found is not None:
        return found
    task = task_panel.server_tasks().start(
        ("evaluation", key),
        lambda: evaluation.evaluation_task(entry.path, images, labels, data.source))
    result = task_panel.task_result(
        task, progress_text=f"Evaluating {entry.label} on the test images",
        failure_text=f"**{entry.label}** could not be evaluated.", retry_key=f"retry_{entry.key}")
    if result is None:
        st.stop()
    return result  # Finished, but no cache folder was writable.


def gallery(indices, probabilities, model_key, empty_message):
    """The first images of ``indices`` as a grid: true -> predicted class and confidence."""
    image_gallery.gallery(images, labels, names, indices, probabilities, model_key, empty_message)


# --- which models ----------------------------------------------------------------------
pickers = st.columns(2)
with pickers[0]:
    entry = ui.model_picker("Model", key="model")
others = {other.key: other for other in catalog.available_models() if other.key != entry.key}
compare_key = pickers[1].selectbox(
    "Compare with (optional)", [""] + list(others), key="compare",
    format_func=lambda key: others[key].label if key else "no second model",
    on_change=ui.url_state("compare", "", options=[""] + list(others),
                           to_text=lambda key: key or None))  # no "compare=" in the URL
result = evaluate(entry)
second = evaluate(others[compare_key]) if compare_key else None

confusion = result.confusion(len(names))
mistakes = int(len(labels) - confusion.trace())
metrics = st.columns(3)
metrics[0].metric("Test accuracy", f"{result.accuracy:.1%}",
                  delta=f"{result.accuracy - second.accuracy:+.1%} vs {compare_key}"
                  if second else None)
metrics[1].metric("Mistakes", f"{mistakes:,} of {len(labels):,}")
if second:
    metrics[2].metric(f"Test accuracy of {compare_key}", f"{second.accuracy:.1%}")

# --- confusion matrix, per-class table, chosen cell -----------------------------------
st.header("Which classes does it confuse?")
matrix_area, table_area = st.columns([3, 2])
cell_row = st.columns([1, 1, 2])
default_true, default_predicted = evaluation.most_confused(confusion)
true_class = cell_row[0].selectbox(
    "True class", classes, key="true", format_func=names.__getitem__,
    on_change=ui.url_state("true", default_true, options=classes, cast=int))
predicted_class = cell_row[1].selectbox(
    "Predicted as", classes, key="predicted", format_func=names.__getitem__,
    on_change=ui.url_state("predicted", default_predicted, options=classes, cast=int))


def choose_clicked_cell():
    """A click on the matrix selects one cell marker; its x and y are the class names."""
    points = st.session_state.matrix.selection.points
    if points and points[0].get("y") in names and points[0].get("x") in names:
        st.session_state.true = names.index(points[0]["y"])
        st.session_state.predicted = names.index(points[0]["x"])
        ui.set_query(true=st.session_state.true, predicted=st.session_state.predicted)


with matrix_area:
    st.caption("Rows: the true class. Columns: the model's answer. Click a cell to see its images.")
    st.plotly_chart(shared_figure(plots.confusion_matrix_figure, confusion, names,
                                  selected=(true_class, predicted_class)),
                    key="matrix", on_select=choose_clicked_cell, selection_mode="points",
                    config={"displayModeBar": False})
report = evaluation.class_report(confusion, names)
table_area.dataframe(report, column_config={
    column: st.column_config.NumberColumn(column, format="percent")
    for column in ("precision", "recall", "f1")})
table_area.caption("**Precision**: of the images it called this class, how many were. "
                   "**Recall**: of this class's images, how many it found.")

cell = evaluation.cell_indices(labels, result.probabilities, true_class, predicted_class)
verb = "recognised as" if true_class == predicted_class else "taken for"
cell_row[2].markdown(f"**{len(cell):,}** test images of **{names[true_class]}** {verb} "
                     f"**{names[predicted_class]}**, the most confident first.")
gallery(cell, result.probabilities, entry.key, "No test image falls in this cell.")

st.header("The worst mistakes over the whole test set")
st.caption("The highest loss: images where the model gave the true class the least probability.")
gallery(evaluation.top_losses(labels, result.probabilities, GALLERY_SIZE), result.probabilities,
        entry.key, "No test images.")

embedding_panel.embedding_section(entry, images, labels, result.probabilities, names)

# --- two models side by side ---------------------------------------------------------
if second:
    st.header(f"{entry.key} against {compare_key}")
    accuracies = pd.DataFrame({entry.key: report["recall"],
                               compare_key: evaluation.class_report(second.confusion(len(names)),
                                                                    names)["recall"]})
    st.plotly_chart(plots.class_accuracy_figure(accuracies), config={"displayModeBar": False})
    st.caption("Captions and links show the model that got the image wrong.")
    first_only, second_only = st.tabs([f"{entry.key} right, {compare_key} wrong",
                                       f"{compare_key} right, {entry.key} wrong"])
    with first_only:
        gallery(evaluation.right_and_wrong(labels, result.probabilities, second.probabilities),
                second.probabilities, compare_key, "No such image.")
    with second_only:
        gallery(evaluation.right_and_wrong(labels, second.probabilities, result.probabilities),
                result.probabilities, entry.key, "No such image.")

# --- which labels look wrong -----------------------------------------------------------
label_issues_panel.label_issues_section(images, labels, names, result.probabilities, entry.key)
