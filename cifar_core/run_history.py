"""Past runs as the Train page shows them: table rows, comparable curves, recipe names.

Reads ``runs.RunRecord``s (small JSON and CSV files, no TensorFlow) and turns them into
DataFrames that ``st.dataframe`` and ``plots.training_curves_figure`` show directly.
"""

import pandas as pd

from cifar_core import training

#: Fields the Train page's form may change on top of a preset (all TrainConfig fields).
FORM_FIELDS = ("model", "epochs", "batch_size", "optimizer", "learning_rate", "augment",
               "train_size")


def duration_text(seconds):
    """142.0 -> "2 min 22 s": durations and ETAs as a teacher reads them aloud."""
    if seconds is None:
        return "-"
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def percent(fraction):
    """0.2834 -> 28.3 (one decimal, as the table shows it); None stays None."""
    return None if fraction is None else round(100 * float(fraction), 1)


def recipe_of(config):
    """The preset a run's config (a dict) came from: "demo", "fast (changed)" or "custom".

    The Train page's form changes only ``FORM_FIELDS``, so the other fields identify the
    preset it started from.
    """
    for name, preset in training.PRESETS.items():
        fields = preset.to_dict()
        if all(config.get(key) == value for key, value in fields.items()
               if key not in FORM_FIELDS):
            same = all(config.get(key) == fields[key] for key in FORM_FIELDS)
            return name if same else f"{name} (changed)"
    return "custom"


def runs_table(records):
    """One row per run for the history table (RunRecords from ``runs.list_runs``)."""
    rows = []
    for record in records:
        status, config = record.status, record.config
        end = status.get("finished") or status.get("updated")
        started = status.get("started")
        rows.append({
            "run": record.id, "model": config.get("model"), "recipe": recipe_of(config),
            "epochs": f"{int(status.get('epoch', 0))} of {config.get('epochs')}",
            "duration": duration_text(end - started) if end and started else "-",
            "train accuracy %": percent(status.get("accuracy")),
            "validation accuracy %": percent(status.get("val_accuracy")),
            "test accuracy %": percent(status.get("test_accuracy")), "status": record.state,
        })
    return pd.DataFrame(rows, columns=["run", "model", "recipe", "epochs", "duration",
                                       "train accuracy %", "validation accuracy %",
                                       "test accuracy %", "status"])


def runs_curves(records):
    """Per-epoch curves of several runs as the DataFrame ``plots.training_curves_figure`` draws."""
    rows = []
    for record in records:
        for row in record.history():
            for split, prefix in (("train", ""), ("validation", "val_")):
                if f"{prefix}loss" in row:
                    rows.append((record.id, split, row["epoch"], row[f"{prefix}loss"],
                                 row.get(f"{prefix}accuracy")))
    return pd.DataFrame(rows, columns=["run", "split", "epoch", "loss", "accuracy"])
