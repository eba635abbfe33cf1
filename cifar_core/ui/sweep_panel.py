"""The Train page's "Sweeps": launch a grid over one or two recipe fields, watch it, compare.

The form picks one or two fields (``training.sweeps.SWEEP_FIELDS``), takes the values as
typed ("0.01, 0.03, 0.1"), says how many runs that makes and about how long they train,
and "Launch sweep" queues them through the server's job registry as one submission. The
view shows a sweep chosen from those on disk (the one this tab just launched first): its
runs' states, final accuracy against the swept values (lines, or a heat map for two
fields) and the runs' curves overlaid, redrawn every few seconds until every run ends.
"""

import re

import streamlit as st

from cifar_core.display import plots, sweep_plots, text
from cifar_core.training import job_registry, recipes, sweep_results, sweeps, train_config
from cifar_core.ui import design_panel

#: Session-state key of the sweep this tab launched last (the view shows it first).
LAUNCHED_KEY = "sweep_launched"
#: The second field's "no second field" choice.
NO_FIELD = "(none)"
#: Seconds between redraws of a sweep that still has runs queued or training.
POLL_SECONDS = 2.0
_PERCENT_COLUMNS = ("best validation accuracy", "final validation accuracy", "test accuracy")


def _label(name):
    return NO_FIELD if name == NO_FIELD else sweeps.SWEEP_FIELDS[name].label


def _plain(message):
    """``message`` with Markdown's special characters escaped: a typed value shows as typed."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~$:])", r"\\\1", message)


def current_recipe():
    """The Train page's recipe as its New run form last held it, or None while it has none.

    Reads the page's session state (the preset under "preset", the fields, the student's
    name among them, under "field_<name>", as the form submitted them last or the preset
    loaded them), so the sweep starts from what the student sees; a bad field gives None.
    """
    preset = st.session_state.get("preset")
    if preset not in train_config.PRESETS:
        return None
    fields = {name: st.session_state[f"field_{name}"] for name in recipes.FORM_FIELDS
              if f"field_{name}" in st.session_state}
    config, _ = recipes.config_from_form(preset, fields, design=design_panel.current_design())
    return config


def sweep_section(registry, data, me, base_config):
    """The "Sweeps" section: the launch form on top of ``base_config``, then the view.

    ``registry`` is the server's ``JobRegistry`` (``submit`` queues the runs), ``data`` the
    dataset, ``me`` this tab's token (the owner of what it launches), ``base_config`` the
    recipe the Train page's form holds (None: nothing to sweep yet, only the view).
    """
    st.header("Sweeps: one recipe, several values")
    st.caption("Train the same recipe with a few values of one or two of its fields (learning "
               "rate, batch size, ...) and compare where each one ends. The runs wait in the "
               "training queue and train one after another.")
    if base_config is None:
        st.info("Choose a recipe under New run to sweep it.", icon=":material/tune:")
    else:
        _launch_form(registry, data, me, base_config)
    _sweep_view(registry, me)


def _values_input(column, number, name, base_config):
    """The text box for one field's values; returns (values, problem)."""
    typed = column.text_input(
        f"Values of {_label(name)}", value=sweeps.suggested_text(name, base_config),
        key=f"sweep_values_{number}_{name}",
        help="Separated by commas, for example 0.01, 0.03, 0.1"
             + (" (all = every training image)" if name == "train_size" else "")
             + (" (off, on)" if name == "augment" else ""))
    try:
        return sweeps.parse_values(name, typed, base_config), None
    except ValueError as problem:
        return None, str(problem)


def _launch_form(registry, data, me, base_config):
    """Fields, values, the count and time of the runs, and "Launch sweep"."""
    st.caption(f"On top of the recipe above: {recipes.recipe_of(base_config.to_dict())}, "
               f"{base_config.model} model, {base_config.epochs} epoch(s).")
    names = list(sweeps.SWEEP_FIELDS)
    left, right = st.columns(2)
    first = left.selectbox("Field to sweep", names, format_func=_label, key="sweep_field_1")
    second = right.selectbox("Second field (optional)",
                             [NO_FIELD] + [name for name in names if name != first],
                             format_func=_label, key="sweep_field_2")
    axes, problems = {}, []
    for number, (column, name) in enumerate(((left, first), (right, second)), start=1):
        if name == NO_FIELD:
            continue
        values, problem = _values_input(column, number, name, base_config)
        if problem:
            problems.append(problem)
        else:
            axes[name] = values
    configs = None
    if not problems:
        try:
            configs = sweeps.grid(base_config, axes, sweep_id="preview")
        except ValueError as problem:
            problems.append(str(problem))
    for problem in problems:
        st.error(_plain(problem), icon=":material/error:")
    if configs is not None:
        seconds = sweeps.estimated_seconds(configs, len(data.x_train))
        length = ("training time unknown (this recipe's speed was never measured)"
                  if seconds is None else f"about {text.duration_text(seconds)} of training in all")
        st.info(f"{len(configs)} runs, {length}; they join the queue as one submission.",
                icon=":material/schedule:")
    if st.button("Launch sweep", type="primary", icon=":material/rocket_launch:",
                 disabled=configs is None, key="sweep_launch"):
        _launch(registry, data, me, base_config, axes)


def _launch(registry, data, me, base_config, axes):
    configs = sweeps.grid(base_config, axes)
    try:
        sweeps.launch(registry, configs, data, owner=me)
    except job_registry.TrainerBusy as busy:  # QueueFull: this tab has enough waiting
        st.warning(str(busy), icon=":material/hourglass_top:")
        return
    st.session_state[LAUNCHED_KEY] = configs[0].sweep
    st.success(f"Sweep launched: {len(configs)} runs queued. Follow them below.",
               icon=":material/check_circle:")


def _sweep_name(sweep_id):
    """The chooser's line for a sweep: its id, its fields and its size."""
    plan = sweeps.read_plan(sweep_id) or {}
    fields = [name for name in plan.get("fields") or () if name in sweeps.SWEEP_FIELDS]
    if not fields:
        return sweep_id
    return f"{sweep_id} · {' x '.join(map(_label, fields))} · {len(plan.get('points', []))} runs"


def _sweep_view(registry, me):
    """Choose a sweep on disk and show it, live while runs are queued or training."""
    st.subheader("A sweep's results")
    ids = sweep_results.sweep_ids()
    if not ids:
        st.info("No sweeps yet: launch one above.", icon=":material/info:")
        return
    launched = st.session_state.get(LAUNCHED_KEY)
    chosen = st.selectbox("Sweep", ids, index=ids.index(launched) if launched in ids else 0,
                          format_func=_sweep_name)
    results = sweep_results.read_sweep(chosen, registry=registry)
    if results.settled:
        show_sweep(chosen, registry, me, results)
    else:
        _live_sweep(chosen, registry, me)


@st.fragment(run_every=POLL_SECONDS)
def _live_sweep(sweep_id, registry, me):
    if show_sweep(sweep_id, registry, me):
        st.rerun()  # The whole page: the run history gains the runs and polling stops.


def _cancel(registry, job_ids, me):
    for job_id in job_ids:
        try:
            registry.cancel(job_id, me)
        except ValueError:  # taken over by another tab meanwhile: theirs to cancel now
            pass


def _queue_line(sweep_id, results, registry, me):
    """Where the sweep's next waiting run stands in the queue; Cancel for its owner."""
    frame = results.frame
    waiting = [job for job, state in zip(frame["job"], frame["state"], strict=True)
               if state == "queued"]
    if not waiting:
        return
    place = registry.position(waiting[0])
    if place is not None:
        number, seconds = place
        when = "" if seconds is None else f"; it starts in about {text.duration_text(seconds)}"
        st.caption(f"{len(waiting)} of its runs wait in the queue. The next one is number "
                   f"{number} in line{when}.")
    mine = [job for job in waiting if registry.owner(job) == me]
    if mine:
        st.button(f"Cancel its {len(mine)} waiting run(s)", icon=":material/cancel:",
                  on_click=_cancel, args=(registry, mine, me), key=f"sweep_cancel_{sweep_id}")


def _table(results):
    """The frame as the page shows it: values as written, accuracies in percent."""
    table = results.frame.drop(columns=["run label", "job"]).copy()
    for label in results.labels:
        table[label] = [sweep_plots.value_text(value) for value in table[label]]
    for column in _PERCENT_COLUMNS:
        table[column] = [None if value is None or value != value else round(100 * value, 1)
                         for value in table[column]]
    return table


@st.cache_resource(max_entries=32, show_spinner=False)
def _figures(sweep_id, fingerprint, metric, kind, _results):
    """(accuracy chart or None, curves or None) of a sweep in one state, built once.

    Shared by every tab watching the sweep and kept while nothing changes (``fingerprint``:
    the frame's every cell), so a redraw every few seconds costs no Plotly figure
    building (about 0.2 s for 12 runs' curves). Streamlit only reads the figures.
    """
    frame = _results.frame
    done = frame.assign(**{metric: frame[metric].where(frame["state"] == "finished")})
    accuracy = None
    labels = _results.labels
    if done[metric].notna().any() and labels:
        if len(labels) == 1:
            accuracy = sweep_plots.accuracy_figure(done, labels[0], metric=metric)
        elif kind == "lines":
            accuracy = sweep_plots.accuracy_figure(done, labels[0], lines=labels[1],
                                                   metric=metric)
        else:
            accuracy = sweep_plots.accuracy_heatmap(done, *labels, metric=metric)
    curves = sweep_results.sweep_curves(_results)
    if curves.empty:
        return accuracy, None
    return accuracy, plots.training_curves_figure(
        curves, height=360 + 30 * curves["run"].nunique(),  # room for the long legend
        title="The sweep's runs, epoch by epoch (solid: training, dashed: validation)")


def show_sweep(sweep_id, registry, me, results=None):
    """One sweep's states, table, accuracy chart and curves; True once every run has ended.

    ``results`` (default: read now) is the sweep as ``sweep_results.read_sweep`` gives it.
    """
    if results is None:
        results = sweep_results.read_sweep(sweep_id, registry=registry)
    frame = results.frame
    states = frame["state"].value_counts()
    finished = int(states.get("finished", 0))
    summary = " · ".join(f"{count} {state}" for state, count in states.items())
    st.progress(finished / max(len(frame), 1),
                text=f"{finished} of {len(frame)} runs finished ({summary})")
    _queue_line(sweep_id, results, registry, me)
    percent = st.column_config.NumberColumn(format="%.1f %%")
    st.dataframe(_table(results), hide_index=True,
                 column_config={column: percent for column in _PERCENT_COLUMNS})
    metric = sweep_plots.DEFAULT_METRIC
    if not frame[metric].notna().any() and frame["test accuracy"].notna().any():
        metric = "test accuracy"  # runs trained without validation images
    kind = "lines"
    if frame[metric].where(frame["state"] == "finished").notna().any() \
            and len(results.fields) == 2:
        kind = st.radio("Chart", ["lines", "heat map"], horizontal=True,
                        key=f"sweep_chart_{sweep_id}")
    fingerprint = tuple(results.frame.astype(str).itertuples(index=False, name=None))
    accuracy, curves = _figures(sweep_id, fingerprint, metric, kind, results)
    if accuracy is not None:
        st.plotly_chart(accuracy, key=f"sweep_accuracy_{sweep_id}")
    elif not results.fields:
        st.info("Its runs differ in no field a sweep varies: there is nothing to plot their "
                "accuracy against.", icon=":material/info:")
    else:
        st.info("The accuracy chart appears as soon as a run of this sweep finishes.",
                icon=":material/hourglass_top:")
    if curves is not None:
        st.plotly_chart(curves, key=f"sweep_curves_{sweep_id}")
    return results.settled
