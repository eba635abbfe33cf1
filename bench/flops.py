"""FLOPs of a training step and the CPU's peaks, for throughput benchmarks to print.

A convolution or dense layer's forward pass costs 2 FLOPs per multiply-add; a training
step about three times its forward pass (the backward pass computes the gradients of both
the inputs and the weights). Peaks: each core retires two AVX-512 FMAs a cycle on float32
(2 x 16 lanes x 2 FLOPs = 64 FLOPs per cycle) and, with AMX, 1,024 bfloat16 FLOPs a cycle in
its tile unit (Intel's figure for Sapphire Rapids and later), at the clock /proc/cpuinfo
reports.
"""

import os
from pathlib import Path

FP32_FLOPS_PER_CYCLE = 64  # 2 AVX-512 FMA units x 16 float32 lanes x 2 FLOPs
AMX_BF16_FLOPS_PER_CYCLE = 1024  # one AMX tile unit (TMUL), bfloat16


def forward_flops(model):
    """Forward FLOPs of one image through ``model``'s convolutions and dense layers."""
    from cifar_core.backend import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, filters = layer.output.shape
            kernel_height, kernel_width, inputs, _ = layer.kernel.shape
            total += 2 * height * width * kernel_height * kernel_width * inputs * filters
        elif isinstance(layer, keras.layers.Dense):
            inputs, outputs = layer.kernel.shape
            total += 2 * inputs * outputs
    return total


def training_flops(model):
    """FLOPs of one image's training step: forward plus a backward pass twice as costly."""
    return 3 * forward_flops(model)


def clock_hz(cpuinfo=Path("/proc/cpuinfo")):
    """The cores' clock as /proc/cpuinfo reports it (the highest "cpu MHz"), or None."""
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    speeds = [float(line.split(":")[1]) for line in lines if line.startswith("cpu MHz")]
    return max(speeds) * 1e6 if speeds else None


def peaks(cores=None):
    """(float32 FMA peak, bfloat16 AMX peak) in FLOP/s for ``cores`` (default: all usable),
    or (None, None) where the clock is unknown."""
    cores = cores or len(os.sched_getaffinity(0))
    hertz = clock_hz()
    if hertz is None:
        return None, None
    return cores * hertz * FP32_FLOPS_PER_CYCLE, cores * hertz * AMX_BF16_FLOPS_PER_CYCLE


def describe(images_per_second, model):
    """"123 GFLOP/s: 38% of the float32 peak, 2.4% of the bfloat16 AMX peak" for a line."""
    achieved = images_per_second * training_flops(model)
    fp32, amx = peaks()
    text = f"{achieved / 1e9:5.0f} GFLOP/s"
    if fp32:
        text += f" ({achieved / fp32:4.0%} of fp32 peak, {achieved / amx:5.1%} of bf16-AMX peak)"
    return text
