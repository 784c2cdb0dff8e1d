"""Loads fastvid's compiled extension (fastvid._C) and says what it holds.

The ops live in ``torch.ops.fastvid``. Importing fastvid never fails because of the extension; calling
an op without it raises :class:`RuntimeError` naming the cause (there is no silent Python fallback).
"""

from __future__ import annotations

import importlib

import torch

_LOAD_ERROR: BaseException | None = None
try:
    importlib.import_module("fastvid._C")
except (ImportError, OSError) as exc:  # not built, or built against another torch
    _LOAD_ERROR = exc


def has_ops() -> bool:
    """True when the compiled ops are loaded."""
    return _LOAD_ERROR is None


def assert_has_ops() -> None:
    """Raises RuntimeError with the cause when the compiled extension could not be loaded."""
    if _LOAD_ERROR is not None:
        raise RuntimeError(
            "fastvid's compiled extension (fastvid._C) could not be loaded: "
            f"{type(_LOAD_ERROR).__name__}: {_LOAD_ERROR}. Build it against the torch you run "
            f"(torch {torch.__version__}) with `pip install --no-build-isolation .` from the source "
            "tree; an extension built for another torch version does not load."
        ) from _LOAD_ERROR


def build_info() -> dict:
    """What the extension was compiled with.

    Returns a dict with ``cpu_isa`` (the CPU kernel variant this machine runs: "avx2" or "baseline";
    both are compiled in and chosen at run time), ``openmp`` (bool), ``cuda`` (bool), ``cuda_archs``
    (list of "sm" numbers, empty without CUDA) and ``torch`` (the torch version it runs with).
    """
    assert_has_ops()
    fields = dict(item.split("=", 1) for item in torch.ops.fastvid.build_info().split(";"))
    return {
        "cpu_isa": fields["cpu_isa"],
        "openmp": fields["openmp"] == "1",
        "cuda": fields["cuda"] == "1",
        "cuda_archs": [a for a in fields["cuda_archs"].split(",") if a] if fields["cuda_archs"] else [],
        "torch": torch.__version__,
    }
