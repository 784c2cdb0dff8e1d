"""Shared by the model tests that compare with PyTorchVideo 0.1.5's builders: its modules loaded from source,
state_dict layout helpers, and one same-seed / same-weights equality check.

PyTorchVideo's model modules are used when they import, or when FASTVID_PTV_SRC names unpacked source trees
(``pip download pytorchvideo==0.1.5 fvcore --no-deps`` and unpack; a ``:``-separated list of the folders holding
``pytorchvideo/`` and ``fvcore/``): they are then loaded without running the package ``__init__``\\ s, which
import transforms that no longer work.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import os
import sys
import types

import pytest
import torch
import torch.nn as nn


def pytorchvideo_modules(*names: str) -> list[types.ModuleType]:
    """PyTorchVideo's modules ``names`` (e.g. "pytorchvideo.models.x3d"), or a skip."""
    try:
        return [importlib.import_module(n) for n in names]
    except Exception as exc:  # noqa: BLE001 - not installed, or it no longer imports with this torchvision
        reason = f"pytorchvideo.models does not import here: {type(exc).__name__}: {exc}"
    roots = [r for r in os.environ.get("FASTVID_PTV_SRC", "").split(os.pathsep) if r]
    if not roots:
        pytest.skip(reason + " (set FASTVID_PTV_SRC to its unpacked sources to compare)")
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] in ("pytorchvideo", "fvcore")}

    def package(name: str) -> types.ModuleType:
        for root in roots:
            path = os.path.join(root, *name.split("."))
            if os.path.isdir(path):
                module = types.ModuleType(name)
                module.__path__ = [path]
                sys.modules[name] = module
                return module
        raise FileNotFoundError(f"{name} is in none of FASTVID_PTV_SRC={roots}")

    try:
        if importlib.util.find_spec("fvcore") is None:
            fvcore_nn = (package("fvcore"), package("fvcore.nn"))[1]
            init = importlib.import_module("fvcore.nn.weight_init")
            fvcore_nn.c2_msra_fill, fvcore_nn.c2_xavier_fill = init.c2_msra_fill, init.c2_xavier_fill
        layers = (package("pytorchvideo"), package("pytorchvideo.layers"), package("pytorchvideo.models"))[1]
        encoding = importlib.import_module("pytorchvideo.layers.positional_encoding")
        layers.SpatioTemporalClsPositionalEncoding = encoding.SpatioTemporalClsPositionalEncoding
        layers.MultiScaleBlock = importlib.import_module("pytorchvideo.layers.attention").MultiScaleBlock
        return [importlib.import_module(n) for n in names]
    except Exception as exc:  # noqa: BLE001
        for key in [k for k in sys.modules if k.split(".")[0] in ("pytorchvideo", "fvcore")]:
            del sys.modules[key]
        sys.modules.update(saved)
        pytest.skip(f"PyTorchVideo's sources in FASTVID_PTV_SRC do not load: {type(exc).__name__}: {exc}")


EMPTY = inspect.Parameter.empty  # a parameter without a default
KW = inspect.Parameter.KEYWORD_ONLY
POS = inspect.Parameter.POSITIONAL_OR_KEYWORD


def assert_signature(fn, want: dict, kind) -> None:
    """``fn`` takes exactly the parameters of ``want`` (name: default, in order), all of ``kind``."""
    params = inspect.signature(fn).parameters
    assert list(params) == list(want)
    for name, default in want.items():
        assert params[name].kind is kind, name
        assert params[name].default == default, name


def bn_keys(prefix: str, c: int) -> list[tuple[str, tuple]]:
    """The state_dict entries of a BatchNorm of ``c`` channels at ``prefix``."""
    return [(f"{prefix}.{n}", (c,)) for n in ("weight", "bias", "running_mean", "running_var")] + [
        (f"{prefix}.num_batches_tracked", ())
    ]


def params_of(entries) -> int:
    """Parameters (not buffers) in a list of (key, shape) state_dict entries."""
    return sum(
        math.prod(shape)
        for key, shape in entries
        if not key.endswith(("running_mean", "running_var", "num_batches_tracked"))
    )


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def same_model(ours_fn, theirs_fn, shapes, *, grads: bool = False, boxes: torch.Tensor | None = None) -> None:
    """Same seed -> the same state_dict (keys, order, shapes, values: construction and init draw alike); the
    same random weights -> bit-identical outputs in eval and train mode (dropout drawn alike), the same running
    statistics afterwards and, with ``grads``, the same gradients for the inputs and every parameter.

    ``shapes`` is one input shape (a tensor is passed), or a list of shapes (a list of tensors is passed, as
    multi-pathway models take; the caller's list must come out of both models the same way). ``boxes`` is
    passed after the input (detection heads)."""
    torch.manual_seed(0)
    ours = ours_fn()
    torch.manual_seed(0)
    theirs = theirs_fn()
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert a[key].shape == b[key].shape and torch.equal(a[key], b[key]), key
    g = torch.Generator().manual_seed(1)
    weights = {
        k: v.clone() if not v.is_floating_point()
        else torch.rand(v.shape, generator=g) + 0.5 if k.endswith("running_var")
        else torch.randn(v.shape, generator=g) * 0.2
        for k, v in a.items()
    }
    ours.load_state_dict(weights)
    theirs.load_state_dict(weights)
    multi = isinstance(shapes, list)
    xs = [torch.randn(*shape, generator=g) for shape in (shapes if multi else [shapes])]
    extra = () if boxes is None else (boxes,)
    for train in (False, True):
        ours.train(train)
        theirs.train(train)
        xa = [x.clone().requires_grad_(grads) for x in xs]
        xb = [x.clone().requires_grad_(grads) for x in xs]
        in_a, in_b = (list(xa), list(xb)) if multi else (xa[0], xb[0])
        torch.manual_seed(5)
        out_a = ours(in_a, *extra)
        torch.manual_seed(5)
        out_b = theirs(in_b, *extra)
        assert torch.equal(out_a, out_b), f"train={train}: max diff {(out_a - out_b).abs().max().item()}"
        if multi:
            assert all(torch.equal(p, q) for p, q in zip(in_a, in_b))  # both wrote the stems' outputs back
        for key, value in theirs.state_dict().items():
            assert torch.equal(ours.state_dict()[key], value), key
        if grads and train:
            w = torch.randn(out_a.shape, generator=g)
            (out_a * w).sum().backward()
            (out_b * w).sum().backward()
            for p, q in zip(xa, xb):
                assert torch.equal(p.grad, q.grad)
            for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
                assert torch.equal(p.grad, q.grad), name
