"""The backend: whether bfloat16 runs on hardware made for it; TensorFlow's CPU options."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("flags, gpus, expected", [
    ("fpu avx512f avx512_bf16 amx_tile", [], True),
    ("fpu avx2 amx_bf16", [], True),
    ("fpu avx2 avx512f avx512bw", [], False),  # AVX-512 without BF16 emulates it
    ("fpu avx2", ["GPU:0"], True),
])
def test_bfloat16_is_native_reads_the_cpu_flags(monkeypatch, tmp_path, flags, gpus, expected):
    from cifar_core import backend

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    monkeypatch.setattr(backend, "CPUINFO", cpuinfo)
    monkeypatch.setattr(backend.tf.config, "list_physical_devices", lambda kind=None: gpus)
    assert backend.bfloat16_is_native() is expected


def test_bfloat16_is_not_native_where_the_cpu_flags_are_unknown(monkeypatch, tmp_path):
    from cifar_core import backend

    monkeypatch.setattr(backend, "CPUINFO", tmp_path / "missing")  # macOS, Windows
    monkeypatch.setattr(backend.tf.config, "list_physical_devices", lambda kind=None: [])
    assert backend.bfloat16_is_native() is False


def test_cpu_features_lists_the_flags_present_in_order(monkeypatch, tmp_path):
    from cifar_core import backend

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu amx_bf16 avx2 avx512f\n")
    monkeypatch.setattr(backend, "CPUINFO", cpuinfo)
    assert backend.cpu_features() == ["avx2", "avx512f", "amx_bf16"]
    monkeypatch.setattr(backend, "CPUINFO", tmp_path / "missing")
    assert backend.cpu_features() == []


@pytest.mark.parametrize("defaults, expected", [
    ("1", "None 0 0"),  # the notebook as a user runs it: TensorFlow's own choices
    ("", "'1' 0 2"),  # ours: oneDNN on, two inter-op threads
])
def test_tensorflow_defaults_leave_the_cpu_options_alone(defaults, expected):
    """CIFAR_TF_DEFAULTS=1 is the benchmarks' honest baseline: no option of ours is set."""
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("TF_ENABLE_ONEDNN_OPTS", "CIFAR_TF_INTER_THREADS",
                                   "CIFAR_TF_INTRA_THREADS")}
    environment["CIFAR_TF_DEFAULTS"] = defaults
    completed = subprocess.run(
        [sys.executable, "-c", "import os\nfrom cifar_core import backend\n"
         "print(repr(os.environ.get('TF_ENABLE_ONEDNN_OPTS')), backend.INTRA_OP_THREADS, "
         "backend.INTER_OP_THREADS)"],
        env=environment, capture_output=True, text=True, timeout=120, check=True)
    assert completed.stdout.strip().splitlines()[-1] == expected
