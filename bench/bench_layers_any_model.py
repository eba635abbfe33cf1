"""Layers page on networks that are not ours: does a rerun stay as quick as on our seed CNN?

Issue 15's target: the Layers page reruns within the same 300 ms on an imported model as
on ours. Measured in the same run: the whole page script (Streamlit included) after
choosing another layer, for our ``seed`` model (the baseline) and for networks in the
layout every page gets (default layer names, a residual network with strided
convolutions, depthwise and separable convolutions). Weights do not change the speed, so
untrained models are timed. Needs the real dataset (the page shows its images).

    python bench/bench_layers_any_model.py [--repeats 10]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.timing import dataset_error, timed_reruns  # noqa: E402
from cifar_core.backend import keras  # noqa: E402
from cifar_core.models import architectures, saving  # noqa: E402
from tests.unit.inspect import any_models  # noqa: E402

TARGET_MS = 300.0
layers = keras.layers


def notebook_sequential():
    """The seed notebook's CNN as a student writes it: default names, /255 in front."""
    images = keras.Input((32, 32, 3))
    x = layers.Rescaling(1.0 / 255, name="rescaling")(images)
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Dropout(0.2)(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dense(512, activation="relu")(x)
    logits = layers.Dense(10)(x)
    return keras.Model(images, layers.Activation("softmax", name="probabilities")(logits),
                       name="sequential")


MODELS = {"seed (ours, baseline)": lambda: architectures.build_model("seed", seed=0),
          "notebook, default names": notebook_sequential,
          "residual": any_models.residual, "depthwise + separable": any_models.separable_depthwise}


def rerun_ms(name, build, directory, repeats):
    """Median page-script ms (wall, CPU) of reruns switching between the last two convs."""
    model = build()
    stem = name.split(" ")[0].replace(",", "")
    path = saving.save_model(model, directory / f"{stem}.keras")
    saving.write_model_card(path, architecture=model.name, recipe="untrained", epochs=0,
                            test_accuracy=None, parameters=model.count_params())
    conv_names = architectures.conv_layer_names(model)
    first, second = conv_names[-2], conv_names[-1]

    def switch_layer(app, turn):
        app.selectbox(key="layer").set_value(first if turn % 2 == 0 else second)

    script, cpu, _ = timed_reruns(PROJECT_ROOT / "pages" / "layers.py",
                                  {"model": stem, "split": "test", "index": "7",
                                   "layer": second}, switch_layer, repeats)
    return script, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    arguments = parser.parse_args()
    if dataset_error() is not None:
        print("CIFAR-10 not found (set CIFAR10_PATH): the page needs it; nothing measured.")
        return
    print(f"Layers page rerun after choosing another layer, median of {arguments.repeats}")
    with tempfile.TemporaryDirectory(prefix="bench-any-model-") as folder:
        os.environ["CIFAR_MODELS_DIR"] = folder
        baseline = None
        for name, build in MODELS.items():
            script, cpu = rerun_ms(name, build, Path(folder), arguments.repeats)
            baseline = baseline or script
            print(f"  {name:<26} {script:7.1f} ms (CPU {cpu:6.1f} ms)  x{script / baseline:4.2f} "
                  f"of seed  target {TARGET_MS:.0f} ms: "
                  f"{'met' if script <= TARGET_MS else 'MISSED'} ({script / TARGET_MS:.2f})")


if __name__ == "__main__":
    main()
