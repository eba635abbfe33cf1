"""Layers page benchmark: feature maps of one image, one page interaction, top images.

Targets (issue 4), all warm unless said:
- every conv/pool activation of one image: 20 ms or less;
- one page interaction (the work the page does on a rerun): under 300 ms;
- peak activations of every layer over the 10,000 test images, first time: under 15 s.
Baselines are measured in the same run: ``model.predict`` on the one image (what a page
would naively call), the guide's extractor called eagerly, and ``model.predict`` over
the test images. Weights do not change the speed, so untrained models are timed.

    python bench/bench_layers.py [--repeats 20] [--architectures seed fast tiny]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.timing import median_ms, test_images_or_random, timed_reruns  # noqa: E402
from cifar_core.backend import keras  # noqa: E402
from cifar_core.display import pictures, plots
from cifar_core.inspect import activations, convolution, top_activations
from cifar_core.models import architectures, saving  # noqa: E402

TARGETS_MS = {"activations": 20.0, "interaction": 300.0, "top images": 15000.0}


def once_ms(function):
    """Wall-clock ms of one call; also prints the CPU time (the load-independent cost)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    function()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"    (one call: {wall:.1f} s wall, {cpu:.1f} s CPU over all threads)")
    return wall * 1000


def interaction(model, untrained, image, layer):
    """What pages/layers.py computes on a rerun, without Streamlit's own drawing."""
    outputs = activations.extractor(model)(image)
    activations.overview_strip(image, outputs, activations.stage_layer_names(model))
    activations.feature_map_mosaic(outputs[layer][0])
    activations.layer_facts(model, layer)
    kernel, _ = activations.kernel_and_bias(model, layer)
    (activations.filter_mosaic(kernel, 0) if kernel.shape[2] != 3
     else pictures.rgb_filter_images(kernel))
    step = convolution.explain(model, image, 12, 12, 0)
    plots.convolution_figure(step.patch, step.kernel, step.products, inside=step.inside).to_json()
    activations.feature_map_mosaic(activations.extractor(untrained)(image)[layer][0],
                                   tile_pixels=64)


def page_rerun_ms(architecture, repeats):
    """Medians (script ms, script CPU ms, AppTest round trip ms) of reruns of pages/layers.py.

    Each rerun switches the detailed layer (conv3 <-> conv4), which reruns the whole page
    (the convolution step is a fragment and reruns alone). The script time holds
    everything the server does for the page (widgets, PNG-encoding every picture, the
    Plotly figure); the round trip adds AppTest's own polling. Needs the real dataset.
    """
    import os
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench-layers-") as folder:  # removed afterwards
        directory = Path(folder)
        model = architectures.build_model(architecture, seed=0)
        saving.write_model_card(saving.save_model(model, directory / f"{architecture}.keras"),
                                architecture=architecture, recipe="untrained", epochs=0,
                                test_accuracy=None, parameters=model.count_params())
        os.environ["CIFAR_MODELS_DIR"] = str(directory)

        def switch_layer(app, turn):
            app.selectbox(key="layer").set_value("conv4" if turn % 2 == 0 else "conv3")

        return timed_reruns(PROJECT_ROOT / "pages" / "layers.py",
                            {"model": architecture, "split": "test", "index": "7",
                             "layer": "conv3"},
                            switch_layer, repeats)


def report(name, ours, baseline, baseline_name, target):
    print(f"{name:<34} {ours:10.1f} ms  {baseline_name} {baseline:10.1f} ms  "
          f"speed-up x{baseline / ours:5.1f}  target {target:.0f} ms: "
          f"{'met' if ours <= target else 'MISSED'} ({ours / target:.2f} of target)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--architectures", nargs="+", default=["seed", "fast", "tiny"])
    parser.add_argument("--top", default="seed",
                        help="architecture timed over the test set ('none' skips it)")
    arguments = parser.parse_args()

    test_images, source = test_images_or_random()
    image = test_images[7]
    print(f"Layers benchmark, median of {arguments.repeats} warm runs; images: {source}")
    for architecture in arguments.architectures:
        model = architectures.build_model(architecture, seed=0)
        untrained = architectures.build_model(architecture, seed=1)
        names = activations.stage_layer_names(model)
        eager = keras.Model(model.input, [model.get_layer(name).output for name in names])
        batch = image[None].astype(np.float32)
        predict = median_ms(lambda: model.predict(batch, verbose=0), arguments.repeats)
        eager_ms = median_ms(lambda: [o.numpy() for o in eager(batch, training=False)],
                             arguments.repeats)
        ours = median_ms(lambda: activations.extractor(model)(image), arguments.repeats)
        layer = architectures.conv_layer_names(model)[-1]
        page = median_ms(lambda: interaction(model, untrained, image, layer), arguments.repeats)
        print(f"\n{architecture}: {len(names)} conv/pool layers, "
              f"{model.count_params():,} parameters")
        report("  all activations, one image", ours, predict, "predict", TARGETS_MS["activations"])
        report("  (same, vs eager extractor call)", ours, eager_ms, "eager  ",
               TARGETS_MS["activations"])
        report(f"  page interaction (layer {layer})", page, predict, "predict",
               TARGETS_MS["interaction"])

    if source.startswith("real"):
        script, script_cpu, round_trip = page_rerun_ms("seed", arguments.repeats)
        seed_model = architectures.build_model("seed", seed=0)
        predict = median_ms(lambda: seed_model.predict(test_images[:1].astype(np.float32),
                                                       verbose=0), arguments.repeats)
        print("\nseed, whole page rerun after choosing another layer (server side):")
        report("  page script, Streamlit included", script, predict, "predict",
               TARGETS_MS["interaction"])
        print(f"    (CPU time of the script, all threads: {script_cpu:.0f} ms; AppTest round trip, "
              f"its polling included: {round_trip:.0f} ms)")

    if arguments.top == "none":
        return
    model = architectures.build_model(arguments.top, seed=0)
    forward = once_ms(lambda: model.predict(test_images, batch_size=top_activations.BATCH_SIZE,
                                            verbose=0))
    peaks = once_ms(lambda: top_activations.peak_activations(model, test_images))
    print(f"\ntop images, {arguments.top}, {len(test_images):,} images, "
          f"first time (trace included):")
    report("  peak activations of every layer", peaks, forward, "predict", TARGETS_MS["top images"])


if __name__ == "__main__":
    main()
