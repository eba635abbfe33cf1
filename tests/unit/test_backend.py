"""The backend: whether bfloat16 runs on hardware made for it."""


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
