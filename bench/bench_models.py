"""Models page benchmark: a rerun of the page, the diagram, TensorFlow Lite, an import.

Targets (issue 15), measured against baselines in the same run:
- a rerun of the Models page on a model's card (card, diagram, layer table): under 300 ms,
  the same budget as the Layers page; baseline: ``activations.layer_table`` alone;
- the graph's DOT text: a small share of that (baseline: ``model.get_config()``);
- TensorFlow Lite export of the seed network: seconds, so on a button (baseline: saving the
  same model as ``.keras``);
- importing an 11 MB file (the seed notebook's network as a student saves it: a Sequential
  with default names, fed X / 255) including scaling inference: 5 s or less (baseline:
  ``keras.models.load_model`` of the same file).
Weights do not change the speed, so untrained models are timed.

    python bench/bench_models.py [--repeats 10]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.timing import median_ms, timed_reruns  # noqa: E402
from cifar_core import data  # noqa: E402
from cifar_core.backend import keras  # noqa: E402
from cifar_core.inspect import activations  # noqa: E402
from cifar_core.models import (  # noqa: E402
    architectures,
    graph_diagram,
    importing,
    saving,
    tflite_export,
)

TARGETS_MS = {"rerun": 300.0, "import": 5000.0}


def notebook_model():
    """The seed notebook's CNN as Keras' Sequential API names it (2.9 M weights, 11 MB)."""
    layers = keras.layers
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(512, activation="relu"), layers.Dropout(0.5),
        layers.Dense(10, activation="softmax")])


def once_ms(function):
    started, cpu_started = time.perf_counter(), time.process_time()
    result = function()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"    (one call: {wall:.2f} s wall, {cpu:.2f} s CPU over all threads)")
    return wall * 1000, result


def report(name, measured, baseline_name, baseline, target=None):
    line = f"{name}: {measured:,.1f} ms; {baseline_name} {baseline:,.1f} ms " \
           f"(ratio {measured / baseline:.2f})"
    if target is not None:
        line += f"; target {target:,.0f} ms (ratio {measured / target:.2f})"
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-models-"))
    os.environ["CIFAR_MODELS_DIR"] = str(work / "models")
    (work / "models").mkdir()
    seed = architectures.build_model("seed", seed=0)
    path = saving.save_model(seed, work / "models" / "seed.keras")
    saving.write_model_card(path, architecture="seed", recipe="untrained", epochs=0,
                            test_accuracy=None, parameters=seed.count_params())

    print("Models page, seed network's card (warm reruns):")
    table_ms = median_ms(lambda: activations.layer_table(seed), arguments.repeats)
    script_ms, cpu_ms, _ = timed_reruns(PROJECT_ROOT / "pages" / "models.py",
                                        {"model": "seed"}, lambda app, turn: None,
                                        arguments.repeats)
    report("  page rerun (script)", script_ms, "layer table alone", table_ms,
           TARGETS_MS["rerun"])
    print(f"    (script CPU {cpu_ms:.1f} ms)")
    config_ms = median_ms(seed.get_config, arguments.repeats)
    dot_ms = median_ms(lambda: graph_diagram.model_dot(seed.get_config()), arguments.repeats)
    report("  graph DOT", dot_ms, "get_config", config_ms)

    print("TensorFlow Lite export of the seed network (once):")
    save_ms = median_ms(lambda: seed.save(work / "copy.keras"), 3, warmup=1)
    export_ms, tflite = once_ms(lambda: tflite_export.to_tflite(seed))
    report("  to_tflite", export_ms, ".keras save", save_ms)
    print(f"    ({len(tflite) / 2**20:.1f} MB)")

    print("Importing the notebook's network as a student saves it (first time, cold):")
    student = work / "notebook.keras"
    notebook_model().save(student)
    print(f"    (file: {student.stat().st_size / 2**20:.1f} MB)")
    try:
        dataset = data.load_cifar10(download=False)
    except data.DatasetError as error:
        dataset = None
        print(f"    (no dataset, scaling assumed: {error})")
    load_ms, _ = once_ms(lambda: keras.models.load_model(student, compile=False))
    import_ms, entry = once_ms(lambda: importing.import_model(
        student, "notebook", dataset=dataset, models_directory=work / "models"))
    report("  import_model", import_ms, "keras load_model", load_ms, TARGETS_MS["import"])
    again_ms, _ = once_ms(lambda: importing.import_model(
        student, "notebook", dataset=dataset, models_directory=work / "models"))
    report("  import_model again (statistics cached)", again_ms, "keras load_model", load_ms,
           TARGETS_MS["import"])
    print(f"    (scaling chosen: {importing.read_card(entry.path)['scaling']})")


if __name__ == "__main__":
    main()
