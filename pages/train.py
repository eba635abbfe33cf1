"""Train: start a run in the background, watch it learn live, compare and manage past runs."""

import streamlit as st

from cifar_core import ui
from cifar_core.display import plots
from cifar_core.models import architectures, design
from cifar_core.training import job_registry, recipes, run_history, runs, train_config
from cifar_core.ui import (
    design_panel,
    job_panel,
    leaderboard_panel,
    resume_panel,
    sweep_panel,
    training_histograms_panel,
)

data = ui.dataset()
registry = job_panel.server_jobs()
registry.attach(data)  # runs queued before a restart start once the dataset is here
me = ui.tab_id()  # this browser tab
st.title("Train a CNN")
st.caption("Training runs in the background on the server: leave this page or refresh it, "
           "the run goes on and this page shows it again.")

job_id = st.session_state.get("train_job") or ui.query_value("job", None)
named = registry.get(job_id) is not None or registry.queued(job_id) is not None
if not named:
    job_id = next((job.id for job in registry.running()), None)  # watch the server's run
if job_id is not None:
    if named and registry.controls(job_id, me, owner_connected=ui.tab_connected):
        st.session_state.train_job = job_id
        ui.set_query(job=job_id)
    st.header("Current run")
    job_panel.job_section(job_id, named, me)  # waiting in the queue, training, or done
else:
    job_panel.queue_section(me, header=st.header)  # runs restored from disk, about to start


# --- a new run ---------------------------------------------------------------------------
def load_preset():
    for name, value in recipes.form_values(st.session_state.preset).items():
        if name not in train_config.LABEL_FIELDS:  # a recipe keeps the student's name
            st.session_state[f"field_{name}"] = value


with st.expander("New run", expanded=not registry.running(), icon=":material/play_arrow:"):
    keep_preset = ui.url_state("preset", train_config.DEFAULT_PRESET,
                               options=list(train_config.PRESETS))
    st.selectbox("Recipe", list(train_config.PRESETS), key="preset",
                 on_change=lambda: (keep_preset(), load_preset()),
                 help="\n".join(f"- {train_config.describe(name)}"
                                for name in train_config.PRESETS))
    if "field_model" not in st.session_state:
        load_preset()
    if "field_student" not in st.session_state:  # the name outlives the form (other pages)
        st.session_state.field_student = st.session_state.get("student_name", "")
    if len(registry.running()) >= registry.max_jobs:
        st.info(f"Every training slot is taken: a run you start now waits in the queue "
                f"({len(registry.queue())} ahead of it) and starts by itself when its turn "
                "comes.", icon=":material/hourglass_top:")
    with st.form("new_run", border=False):
        fields = {"student": st.text_input("Your name (shown on the class leaderboard)",
                                           key="field_student",
                                           max_chars=train_config.LABEL_LENGTH,
                                           help="Any name or nickname; no account needed.")}
        notes = {"student": st.empty()}
        columns = st.columns(3)

        def field(column, name, widget, label, **options):
            fields[name] = getattr(columns[column], widget)(label, key=f"field_{name}", **options)
            notes[name] = columns[column].empty()  # room for an error right under the field

        field(0, "model", "selectbox", "Model",
              options=[*architectures.ARCHITECTURES, design.DESIGNED],
              help="designed: the network under Design a network, below")
        field(0, "epochs", "number_input", "Epochs", step=1)
        field(1, "batch_size", "number_input", "Batch size", step=1)
        field(1, "optimizer", "selectbox", "Optimizer", options=train_config.OPTIMIZERS,
              help="nesterov-l2: airbench's SGD, the fast recipe's; that recipe's faster "
                   "batch-norm shifts, frozen scales and weight averaging come with the fast "
                   "preset only, and another optimizer trains without them.")
        field(2, "learning_rate", "number_input", "Learning rate", format="%.4f", step=0.001)
        field(2, "train_size", "number_input", f"Training images (0 = all {len(data.x_train):,})",
              step=1000)
        field(0, "augment", "toggle", "Augment (flips and shifts)",
              help=train_config.augment_help(st.session_state.preset))
        start = st.form_submit_button("Start training", type="primary",
                                      icon=":material/model_training:")
    if start:
        config, errors = recipes.config_from_form(st.session_state.preset, fields,
                                                  design=design_panel.current_design())
        for name, message in errors.items():
            notes.get(name, st).error(message, icon=":material/error:")
        st.session_state.student_name = fields["student"]
        if config is not None:
            try:
                [queued] = registry.submit(config, data, owner=me)  # starts now if a slot is free
            except job_registry.TrainerBusy as full:  # QueueFull: this tab's limit
                st.warning(str(full), icon=":material/hourglass_top:")
            else:
                st.session_state.train_job = queued
                ui.set_query(job=queued)
                st.rerun()

sweep_panel.sweep_section(registry, data, me, sweep_panel.current_recipe())  # 1-2 fields' grid

st.header("Design a network")
# Drawn only when asked for: its hundred widgets made every Train rerun of a class slow
# (bench/bench_classroom.py); the New run form trains the design either way.
if st.toggle("Open the designer", key="design", on_change=ui.url_flag("design"),
             help="Build a CNN from blocks, then train it as the model \"designed\"."):
    design_panel.design_section()

# --- past runs -----------------------------------------------------------------------------
st.header("Run history")
runs.mark_interrupted()  # A run whose server was killed shows as interrupted, not running.
records = runs.list_runs()
if not records:
    st.info("No runs yet: start one above, or run `python -m cifar_core train --preset demo`."
            if job_id is None
            else "The run above is listed here once it has saved its first files.")
    st.stop()
ids = [record.id for record in records]
linked = [ids.index(name) for name in ui.query_value("runs", "").split(",") if name in ids]
table = run_history.runs_table(records)
percent = st.column_config.NumberColumn(format="%.1f %%")
chosen = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="multi-row",
                      key="history", selection_default={"selection": {"rows": linked}},
                      column_config={name: percent for name in table if name.endswith("%")})
# The selection outlives a deleted run: drop rows that no longer exist.
selected = [row for row in chosen.selection.rows if row < len(records)]
rows = selected or linked or [0]
ui.set_query(runs=",".join(ids[row] for row in rows) if selected else None)
curves = run_history.runs_curves([records[row] for row in rows])
if not curves.empty:
    st.caption("Select rows to compare runs: solid lines are training, dashed validation.")
    st.plotly_chart(plots.training_curves_figure(curves), key="compare")

record = records[rows[0]]
st.subheader(f"Run `{record.id}`")
resume_panel.resume_section(record, registry, data, me)  # resume, or train more epochs
epochs, epoch = record.filter_epochs(), None
if epochs:
    epoch = st.select_slider("Filters of conv1 after epoch", epochs, value=epochs[-1],
                             key=f"epoch_{record.id}",
                             help="Epoch 0 is the random start: watch noise turn into edge "
                                  "and colour detectors. It also picks the histograms below.")
    st.image(run_history.filter_mosaic(record, epoch),
             caption="The filters of conv1, each stretched to its own range",
             alt=f"The conv1 filters of run {record.id} after epoch {epoch}")
training_histograms_panel.histogram_section(record, epoch)  # shares the epoch slider
st.markdown("Open this run in TensorBoard:")
st.code(f"tensorboard --logdir {record.path / 'tensorboard'}", language="bash")

download, remove = st.columns(2)
if record.model_path is not None:
    download.download_button("Download model.keras", data=record.model_path.read_bytes,
                             file_name=f"{record.id}.keras", on_click="ignore",
                             icon=":material/download:")
# Own runs only, or any run for the teacher (unlocked on the Class leaderboard page).
leaderboard_panel.delete_control(record, me, container=remove,
                                 after_delete=lambda: ui.set_query(runs=None))
