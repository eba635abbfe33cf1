"""What the Class leaderboard costs per rerun, against the Train page's run history table.

    python bench/bench_leaderboard.py                # 60 runs of 10 epochs (a class of 30)
    python bench/bench_leaderboard.py --runs 200 --epochs 30

Writes ``--runs`` run folders (config, status, history.csv, a placeholder model file) into
a temporary runs directory, as a class leaves them, then times on the same files:

- the baseline: the Train page's history table (``runs.list_runs`` +
  ``run_history.runs_table``), which every Train page rerun builds today;
- the leaderboard's table (``list_runs`` + ``leaderboard.standings`` + ``table``), with
  its per-file history cache cold (first view after new epochs) and warm (a rerun);
- the model catalogue with a class model pinned (every model chooser asks it per rerun),
  against the same catalogue without a pin (alternated, best of three), and the one read
  the pin adds;
- the whole leaderboard page script (AppTest rerun: wall and CPU milliseconds).

It prints each median and its ratio to the baseline measured in this run. Target: the
board's warm rerun costs at most 2x the Train page's history table, the pin adds at most
10% to the catalogue. No TensorFlow, no dataset.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_ms, timed_reruns  # noqa: E402

#: The warm board may cost at most this many times the Train page's history table.
TARGET_BOARD_RATIO = 2.0
#: The pin may add at most this share to the catalogue's listing.
TARGET_PIN_SHARE = 0.10


def write_runs(directory, count, epochs):
    """``count`` finished runs of ``epochs`` epochs each, with names and two sweeps."""
    from cifar_core.training import runs, train_config

    for index in range(count):
        config = train_config.preset("demo", epochs=epochs, student=f"Student {index % 30}",
                                     sweep=f"sweep-{index % 2}" if index % 5 == 0 else "")
        run = runs.start_run(config, directory, owner=f"{index % 30:032x}")
        for epoch in range(1, epochs + 1):
            run.record_epoch(epoch, {"loss": 1.0 / epoch, "accuracy": 0.5,
                                     "val_loss": 1.0 / epoch,
                                     "val_accuracy": (index % 17) / 20 + epoch / 1000}, 3.0)
        (run.path / "model.keras").write_bytes(b"placeholder")
        run.finish("finished", test_accuracy=0.5)
    return sorted(path.name for path in Path(directory).iterdir()
                  if not path.name.startswith("."))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=15)
    arguments = parser.parse_args()

    from cifar_core.models import catalog
    from cifar_core.training import class_model, leaderboard, run_history, runs

    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary) / "runs"
        models = Path(temporary) / "no-models"
        os.environ["CIFAR_RUNS_DIR"] = str(directory)
        os.environ["CIFAR_MODELS_DIR"] = str(models)
        started = time.perf_counter()
        ids = write_runs(directory, arguments.runs, arguments.epochs)
        print(f"{len(ids)} runs of {arguments.epochs} epochs written in "
              f"{time.perf_counter() - started:.1f} s")

        def history_table():
            return run_history.runs_table(runs.list_runs(directory))

        def board():
            places = leaderboard.standings(runs.list_runs(directory))
            return leaderboard.table(places, pinned_id=ids[0], tab_token="0" * 32)

        def cold_board():
            leaderboard._history_summary.cache_clear()
            return board()

        repeats = arguments.repeats
        baseline = median_ms(history_table, repeats)
        warm = median_ms(board, repeats)
        cold = median_ms(cold_board, repeats)
        def listing():
            return catalog.available_models(models, directory)

        # Alternate without and with the pin: on a shared machine the load drifts.
        without_pin, with_pin = [], []
        for _ in range(3):
            class_model.unpin(directory)
            without_pin.append(median_ms(listing, repeats))
            class_model.pin(ids[0], directory)
            with_pin.append(median_ms(listing, repeats))
        without_pin, with_pin = min(without_pin), min(with_pin)
        assert listing()[0].key == ids[0]
        pin_read = median_ms(lambda: class_model.pinned_id(directory), repeats * 10)
        page = Path(__file__).resolve().parent.parent / "pages" / "leaderboard.py"
        script, script_cpu, round_trip = timed_reruns(page, {}, lambda app, turn: None,
                                                      min(repeats, 8))

    print(f"Train page history table (baseline): {baseline:8.1f} ms")
    print(f"leaderboard table, warm:             {warm:8.1f} ms  "
          f"{warm / baseline:.2f}x baseline (target <= {TARGET_BOARD_RATIO:.0f}x)")
    print(f"leaderboard table, cold cache:       {cold:8.1f} ms  {cold / baseline:.2f}x baseline")
    print(f"catalogue without a pin:             {without_pin:8.1f} ms")
    print(f"catalogue with the class model:      {with_pin:8.1f} ms  "
          f"{with_pin / without_pin - 1:+.1%} (target <= +{TARGET_PIN_SHARE:.0%})")
    print(f"reading the pin (the work it adds):  {pin_read:8.3f} ms  "
          f"{pin_read / without_pin:.1%} of the catalogue")
    print(f"leaderboard page rerun:              {script:8.1f} ms script, {script_cpu:.1f} ms "
          f"CPU, {round_trip:.1f} ms AppTest round trip; {script / baseline:.2f}x baseline")


if __name__ == "__main__":
    main()
