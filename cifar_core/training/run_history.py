"""Past runs as the Train page shows them: table rows, comparable curves, durations.

Reads ``runs.RunRecord``s (small JSON and CSV files) and turns them into
DataFrames that ``st.dataframe`` and ``plots.training_curves_figure`` show directly.
"""

import numpy as np
import pandas as pd

from cifar_core.display import pictures, text
from cifar_core.training import recipes

#: Width in pixels of one filter in the filter-evolution mosaic (big enough for a projector).
FILTER_PIXELS = 80


def percent(fraction):
    """0.2834 -> 28.3 (one decimal, as the table shows it); None stays None."""
    return None if fraction is None else round(100 * float(fraction), 1)


def runs_table(records):
    """One row per run for the history table (RunRecords from ``runs.list_runs``)."""
    rows = []
    for record in records:
        status, config = record.status, record.config
        end = status.get("finished") or status.get("updated")
        started = status.get("started")
        rows.append({
            "run": record.id, "model": config.get("model"), "recipe": recipes.recipe_of(config),
            "epochs": f"{int(status.get('epoch', 0))} of {config.get('epochs')}",
            "duration": text.duration_text(end - started) if end and started else "-",
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


def filter_mosaic(record, epoch, *, columns=8):
    """conv1's filters of a run after ``epoch`` (0 = before training) as one RGB mosaic.

    Each filter is stretched to its own range (``pictures.rgb_filter_images``).
    """
    if epoch not in record.filter_epochs():
        raise ValueError(f"run {record.id} has no filter snapshot for epoch {epoch!r}")
    kernel = np.load(record.path / "filters" / f"epoch_{epoch:03d}.npy")  # (kh, kw, 3, filters)
    tiles = pictures.rgb_filter_images(kernel)  # (filters, kh, kw, 3) uint8
    return pictures.mosaic(tiles, columns=min(columns, len(tiles)), gap=4,
                        scale=max(1, FILTER_PIXELS // tiles.shape[1]))
