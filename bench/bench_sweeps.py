"""What the sweep view costs each time it redraws, against the Train page's run history table.

    python bench/bench_sweeps.py                 # 60 runs on disk, a 12-run sweep among them
    python bench/bench_sweeps.py --runs 200 --epochs 30

Writes ``--runs`` run folders (config, status, history.csv) into a temporary runs
directory, 12 of them one sweep (4 learning rates x 3 batch sizes, with its plan), then
times on the same files:

- the baseline: the Train page's history table (``runs.list_runs`` +
  ``run_history.runs_table``), which every Train page rerun builds today;
- the sweep chooser (``sweep_results.sweep_ids``), every rerun of the section;
- the view's redraw, which a tab repeats every ``sweep_panel.POLL_SECONDS`` while the sweep
  trains: ``read_sweep`` and the fingerprint under which the panel keeps its figures
  (nothing changed since the last redraw: the usual case), and the same with the
  figures rebuilt (an epoch ended): the accuracy chart and the curves.

It prints each median and its ratio to the baseline measured in this run. Target: the
usual redraw costs at most 2x the history table. No TensorFlow, no dataset.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_ms  # noqa: E402

#: One redraw of the sweep view may cost at most this many times the history table.
TARGET_REDRAW_RATIO = 2.0


def write_runs(directory, count, epochs):
    """``count`` finished runs of ``epochs`` epochs; the newest 12 are one planned sweep."""
    from cifar_core.training import runs, sweeps, train_config

    base = train_config.preset("minute", epochs=epochs)
    sweep = sweeps.grid(base, {"learning_rate": [0.05, 0.1, 0.2, 0.4],
                               "batch_size": [128, 256, 512]}, sweep_id="sweep-bench")
    others = [train_config.preset("demo", epochs=epochs, seed=number)
              for number in range(max(count - len(sweep), 0))]
    sweeps._write_plan(sweep, directory, jobs=[f"job-{number}" for number in range(len(sweep))])
    for number, config in enumerate(others + sweep):
        run = runs.start_run(config, directory, name=f"run-{number:04d}")
        for epoch in range(1, epochs + 1):
            accuracy = 0.1 + 0.8 * epoch / epochs * (1 - number / (2 * count))
            run.record_epoch(epoch, {"loss": 2.0 - accuracy, "accuracy": accuracy,
                                     "val_loss": 2.1 - accuracy, "val_accuracy": accuracy - 0.02,
                                     "learning_rate": config.learning_rate}, seconds=30.0)
        run.finish("finished", test_accuracy=accuracy)
    return sweep[0].sweep


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="run folders on disk")
    parser.add_argument("--epochs", type=int, default=10, help="epochs in each history")
    parser.add_argument("--repeats", type=int, default=15)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        os.environ["CIFAR_RUNS_DIR"] = directory
        from cifar_core.display import plots, sweep_plots
        from cifar_core.training import run_history, runs, sweep_results

        started = time.perf_counter()
        sweep_id = write_runs(Path(directory), options.runs, options.epochs)
        print(f"{options.runs} runs of {options.epochs} epochs written in "
              f"{time.perf_counter() - started:.1f} s")

        def history_table():
            run_history.runs_table(runs.list_runs())

        def redraw():
            results = sweep_results.read_sweep(sweep_id)
            tuple(results.frame.astype(str).itertuples(index=False, name=None))
            return results

        def rebuilt():
            results = redraw()
            x, y = results.labels
            sweep_plots.accuracy_figure(results.frame, x, lines=y)
            plots.training_curves_figure(sweep_results.sweep_curves(results))

        baseline = median_ms(history_table, options.repeats)
        usual = "redraw, figures kept"
        timings = {"sweep chooser (sweep_ids)": median_ms(sweep_results.sweep_ids,
                                                          options.repeats),
                   usual: median_ms(redraw, options.repeats),
                   "redraw after an epoch (rebuilt)": median_ms(rebuilt, options.repeats)}
        print(f"{'history table (baseline)':34s} {baseline:8.1f} ms")
        for name, milliseconds in timings.items():
            print(f"{name:34s} {milliseconds:8.1f} ms  {milliseconds / baseline:5.2f}x baseline")
        ratio = timings[usual] / baseline
        verdict = "meets" if ratio <= TARGET_REDRAW_RATIO else "misses"
        print(f"redraw / history table: {ratio:.2f}x ({verdict} the target of "
              f"{TARGET_REDRAW_RATIO:.0f}x)")


if __name__ == "__main__":
    main()
