"""The compiled extension: what build_info() reports, and the error an op raises when it is missing."""

from __future__ import annotations

import os

import pytest
import torch

import fastvid
from fastvid import _ext, ops


def test_build_info_contents():
    info = fastvid.build_info()
    assert set(info) == {"cpu_isa", "openmp", "cuda", "cuda_archs", "torch"}
    assert info["cpu_isa"] in ("avx2", "baseline")
    assert isinstance(info["openmp"], bool) and isinstance(info["cuda"], bool)
    assert info["torch"] == torch.__version__
    assert isinstance(info["cuda_archs"], list) and all(a.isdigit() for a in info["cuda_archs"])
    assert bool(info["cuda_archs"]) == info["cuda"]
    # setup.py always builds with OpenMP (the parallel_for of the CPU kernels needs it).
    assert info["openmp"] is True
    # The raw string of the op is the source of the dict.
    raw = torch.ops.fastvid.build_info()
    assert raw.startswith("cpu_isa=") and ";openmp=" in raw and ";cuda=" in raw


def test_build_info_isa_follows_the_cpu(monkeypatch):
    monkeypatch.delenv("FASTVID_CPU_ISA", raising=False)
    flags = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    if flags:
        has = all(f" {flag}" in flags for flag in ("avx2", "fma", "f16c"))
        assert fastvid.build_info()["cpu_isa"] == ("avx2" if has else "baseline")
    monkeypatch.setenv("FASTVID_CPU_ISA", "baseline")
    assert fastvid.build_info()["cpu_isa"] == "baseline"


def test_missing_extension_raises_runtime_error_naming_the_cause(monkeypatch):
    cause = ImportError("libc10.so: cannot open shared object file: No such file or directory")
    monkeypatch.setattr(_ext, "_LOAD_ERROR", cause)
    assert not fastvid.has_ops()
    with pytest.raises(RuntimeError) as info:
        ops.clip_transform(torch.zeros(3, 1, 4, 4, dtype=torch.uint8))
    msg = str(info.value)
    assert "fastvid._C" in msg and "could not be loaded" in msg
    assert "ImportError: libc10.so: cannot open shared object file" in msg
    assert "pip install --no-build-isolation" in msg and torch.__version__ in msg
    assert info.value.__cause__ is cause
    with pytest.raises(RuntimeError, match="could not be loaded"):
        fastvid.build_info()
    with pytest.raises(RuntimeError, match="could not be loaded"):
        fastvid.assert_has_ops()


def test_extension_loaded():
    assert fastvid.has_ops()
    fastvid.assert_has_ops()
    assert hasattr(torch.ops.fastvid, "clip_transform")


def test_avx2_kernel_build_uses_ymm_and_fma():
    # The AVX2 variant of the CPU kernel is compiled under a target pragma (no -march flag): check the
    # machine code really is 256-bit with FMA, and the portable variant is not.
    import importlib
    import platform
    import shutil
    import subprocess

    if platform.machine() not in ("x86_64", "AMD64") or shutil.which("objdump") is None:
        pytest.skip("needs x86-64 and objdump")
    lib = importlib.import_module("fastvid._C").__file__
    asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", lib], capture_output=True, text=True).stdout
    funcs: dict[str, list[str]] = {"cpu_avx2": [], "cpu_baseline": []}
    current = None
    for line in asm.splitlines():
        if line.endswith(">:"):
            current = next((ns for ns in funcs if f"fastvid::{ns}::" in line), None)
        elif current is not None:
            funcs[current].append(line)
    avx2, base = "\n".join(funcs["cpu_avx2"]), "\n".join(funcs["cpu_baseline"])
    assert avx2 and base
    assert avx2.count("ymm") > 100 and "vfmadd" in avx2 and "vpermps" in avx2
    assert "ymm" not in base and "vfmadd" not in base
