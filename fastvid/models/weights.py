"""Initializing a model from a checkpoint, for fine-tuning: PyTorchVideo's published ``.pyth`` files, plain
state dicts, fastvid-train (Lightning) checkpoints, DDP-wrapped state dicts and torchvision-style
``{"model": ...}`` files.

Everything must fit exactly (same keys, same shapes), except the model's output layer: when the checkpoint
was trained for another number of classes, that layer keeps its fresh initialization and the report says
so. Nothing is downloaded unless the source is an http(s) URL (through
:func:`torch.hub.load_state_dict_from_url`, into torch.hub's cache; ``file://`` URLs are read in place).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import pickle
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn as nn

__all__ = ["PYTORCHVIDEO_CHECKPOINTS", "LoadedWeights", "fit_prefixes", "load_pretrained", "output_layer", "read_state_dict"]

_ZOO = "https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo"
# The Kinetics-400 checkpoints of PyTorchVideo's hub (pytorchvideo/models/hub/*.py), by fastvid model name:
# each loads into fastvid.models.create_model(name, num_classes=400) (the MViTs with num_frames=16 / 32) as it
# does into PyTorchVideo's hub model.
PYTORCHVIDEO_CHECKPOINTS = {
    "slow_r50": f"{_ZOO}/kinetics/SLOW_8x8_R50.pyth",
    "c2d_r50": f"{_ZOO}/kinetics/C2D_8x8_R50.pyth",
    "i3d_r50": f"{_ZOO}/kinetics/I3D_8x8_R50.pyth",
    "x3d_xs": f"{_ZOO}/kinetics/X3D_XS.pyth",
    "x3d_s": f"{_ZOO}/kinetics/X3D_S.pyth",
    "x3d_m": f"{_ZOO}/kinetics/X3D_M.pyth",
    "x3d_l": f"{_ZOO}/kinetics/X3D_L.pyth",
    "csn_r101": f"{_ZOO}/kinetics/CSN_32x2_R101.pyth",
    "r2plus1d_r50": f"{_ZOO}/kinetics/R2PLUS1D_16x4_R50.pyth",
    "mvit_base_16x4": f"{_ZOO}/kinetics/MVIT_B_16x4.pyth",
    "mvit_base_32x3": f"{_ZOO}/kinetics/MVIT_B_32x3_f294077834.pyth",
}
_URL_SCHEMES = ("http://", "https://", "file://")
# Where the weights sit inside the usual checkpoint files: PyTorchVideo / PySlowFast, Lightning, torchvision's
# reference scripts.
_WRAPPER_KEYS = ("model_state", "state_dict", "model")
# Prefixes that wrappers add to every key: DDP (module.), fastvid-train's LightningModule (model.).
_KEY_PREFIXES = ("module.", "model.")
_LIST_AT_MOST = 8
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class LoadedWeights:
    """What :func:`load_pretrained` did.

    Attributes:
        source: the path or URL read.
        loaded: how many tensors of the model were set from the checkpoint.
        kept_at_init: the output layer's tensors left at their initialization because the checkpoint's
            have another shape (it was trained for ``checkpoint_classes`` classes); empty otherwise.
        checkpoint_classes: the output size of the checkpoint's output layer, when it differs.
    """

    source: str
    loaded: int
    kept_at_init: tuple[str, ...] = ()
    checkpoint_classes: int | None = None

    def __str__(self) -> str:
        text = f"{self.loaded} tensors from {self.source}"
        if self.kept_at_init:
            text += (f"; the output layer ({', '.join(self.kept_at_init)}) keeps its initialization: the checkpoint "
                     f"has {self.checkpoint_classes} classes")
        return text


def _is_url(source: str) -> bool:
    return source.startswith(_URL_SCHEMES)


def read_state_dict(source, *, weights_only: bool = True, strip_prefixes: bool = True,
                    progress: bool = True) -> dict[str, torch.Tensor]:
    """Reads the model weights held by a checkpoint file, a URL or an already loaded checkpoint.

    Unwraps ``{"model_state": ...}`` (PyTorchVideo / PySlowFast ``.pyth``), ``{"state_dict": ...}``
    (Lightning, fastvid-train) and ``{"model": ...}`` (torchvision's reference scripts), and removes the
    ``module.`` (DDP) and ``model.`` (fastvid-train's LightningModule) prefixes that every key carries.

    Args:
        source: a path, a ``file://`` URL, an ``http(s)://`` URL (downloaded once into torch.hub's cache), or
            a mapping (a state dict or a checkpoint dict).
        weights_only: passed to :func:`torch.load`: True (the default) refuses pickled Python objects other
            than tensors, plain containers and ``argparse.Namespace`` (the arguments torchvision's reference
            scripts save). Pass False only for a file from a source you trust.
        strip_prefixes: False keeps the keys as stored (:func:`load_pretrained` strips a prefix only when
            the model's own keys do not carry it).
        progress: show a progress bar while an http(s) checkpoint downloads.

    Raises:
        FileNotFoundError: no file at the path.
        ConnectionError: an http(s) checkpoint could not be downloaded (the message names the URL, and the HTTP
            status when the server answered).
        ValueError: the file is not a PyTorch checkpoint, holds no state dict, or (``weights_only=True``)
            holds other Python objects.
    """
    if isinstance(source, Mapping):
        checkpoint, name = source, "the given mapping"
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        checkpoint = _load_file(name, weights_only, progress)
    else:
        raise TypeError(f"read_state_dict: source must be a path, a URL or a mapping, got {type(source).__name__}")

    state = checkpoint
    while isinstance(state, Mapping) and state and not _is_state_dict(state):
        inner = next((state[k] for k in _WRAPPER_KEYS if isinstance(state.get(k), Mapping)), None)
        if inner is None:
            keys = ", ".join(repr(k) for k in list(state)[:_LIST_AT_MOST])
            raise ValueError(
                f"read_state_dict: {name} holds no state dict (its top-level keys: {keys}; expected tensors, or one "
                f"of {', '.join(repr(k) for k in _WRAPPER_KEYS)} holding them)"
            )
        state = inner
    if not isinstance(state, Mapping) or not state:
        raise ValueError(f"read_state_dict: {name} holds no tensors")
    state = {str(k): v for k, v in state.items()}
    return fit_prefixes(state) if strip_prefixes else state


def _load_file(name: str, weights_only: bool, progress: bool = True):
    """torch.load of a path or URL, with every failure turned into one clear exception."""
    try:
        if name.startswith("file://"):
            # read in place: torch.hub's cache keys files by name alone (every run's last.ckpt is one entry)
            name = urllib.request.url2pathname(urllib.parse.urlparse(name).path)
        if _is_url(name):
            load = functools.partial(torch.hub.load_state_dict_from_url, name, progress=bool(progress))
        elif os.path.isfile(name):
            load = functools.partial(torch.load, name)
        else:
            raise FileNotFoundError(f"read_state_dict: no checkpoint file at {name}")
        safe = getattr(torch.serialization, "safe_globals", None)
        if safe is None and weights_only and hasattr(torch.serialization, "add_safe_globals"):
            # torch 2.4 has no safe_globals() context manager (2.5+): allow Namespace process-wide instead
            torch.serialization.add_safe_globals([argparse.Namespace])
        with safe([argparse.Namespace]) if safe is not None and weights_only else contextlib.nullcontext():
            return load(map_location="cpu", weights_only=weights_only)
    except FileNotFoundError:
        raise
    except urllib.error.HTTPError as e:  # (the server answered: a wrong address, a refused download)
        raise ConnectionError(f"read_state_dict: cannot download {name}: HTTP {e.code} {e.reason}") from e
    except urllib.error.URLError as e:  # (no answer: no network, an unknown host)
        raise ConnectionError(
            f"read_state_dict: cannot download {name} ({getattr(e, 'reason', e)}); on a machine without network, "
            "download it elsewhere and give the local file's path instead"
        ) from e
    except pickle.UnpicklingError as e:
        text = _ANSI.sub("", str(e))
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
        if found is None:  # not a refused object: a damaged or foreign file
            # (torch's message opens with advice to retry with weights_only=False, which cannot help here; the
            # unpickler's own finding follows "WeightsUnpickler error:")
            detail = re.search(r"WeightsUnpickler error:\s*(\S[^\n]*)", text)
            detail = f"unpickler: {detail.group(1).strip()}" if detail else _first_line(text)
            raise ValueError(f"read_state_dict: {name} is not a readable PyTorch checkpoint ({detail})") from None
        what = f"it pickles {found.group(1)}"
        raise ValueError(
            f"read_state_dict: {name} holds Python objects besides tensors, which weights_only=True refuses "
            f"({what}). If you trust where it comes from, read it with fastvid.models.read_state_dict(path, "
            "weights_only=False) and pass the result on."
        ) from None
    except (EOFError, RuntimeError, KeyError, ValueError, OSError, AttributeError, IndexError) as e:
        # an empty, truncated or foreign file: torch.load's own errors say little about what went wrong
        raise ValueError(
            f"read_state_dict: {name} is not a readable PyTorch checkpoint ({type(e).__name__}: "
            f"{_first_line(_ANSI.sub('', str(e)))})"
        ) from None


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else "no message"


def fit_prefixes(state: dict[str, torch.Tensor], model_keys=None) -> dict[str, torch.Tensor]:
    """Removes the ``module.`` / ``model.`` prefixes that wrappers put before every key (in any nesting).
    With ``model_keys`` (the model's state_dict keys), as many are removed as makes the most keys match the
    model's (a model whose own keys start with ``model.`` keeps them); all of them when none match."""
    candidates = [state]
    while True:
        prefix = next((p for p in _KEY_PREFIXES if all(k.startswith(p) for k in candidates[-1])), None)
        if prefix is None:
            break
        candidates.append({k[len(prefix):]: v for k, v in candidates[-1].items()})
    if model_keys is None:
        return candidates[-1]
    own = set(model_keys)
    overlaps = [len(own.intersection(c)) for c in candidates]
    best = max(overlaps)
    return candidates[overlaps.index(best)] if best > 0 else candidates[-1]


def _is_state_dict(mapping: Mapping) -> bool:
    return bool(mapping) and all(isinstance(v, torch.Tensor) for v in mapping.values())


def output_layer(model: nn.Module) -> str | None:
    """The name of the model's output layer: the last ``nn.Linear`` or convolution registered (the head's
    projection in every fastvid and torchvision video model); None if it has none."""
    last = None
    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            last = name
    return last


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_AT_MOST])
    return shown + (f", ... ({len(items)} in all)" if len(items) > _LIST_AT_MOST else "")


def load_pretrained(model: nn.Module, source, *, weights_only: bool = True, progress: bool = True) -> LoadedWeights:
    """Initializes ``model`` from a checkpoint for fine-tuning (in place; returns what it did).

    Every parameter and buffer of the model must be in the checkpoint with the same shape and the
    checkpoint must hold nothing else, except the model's output layer (see :func:`output_layer`): when the
    checkpoint's has another shape (trained for another number of classes), the model's keeps its
    initialization. So a Kinetics-400 checkpoint fine-tunes a 101-class model, and a checkpoint of another
    architecture or configuration is refused with the keys that differ.

    Args:
        model: the model to fill (e.g. ``fastvid.models.create_model("slow_r50", num_classes=101)``).
        source: see :func:`read_state_dict` (a path, URL, state dict or checkpoint dict). PyTorchVideo's
            hub checkpoints for fastvid's model names are listed in :data:`PYTORCHVIDEO_CHECKPOINTS`.
        weights_only, progress: see :func:`read_state_dict`.

    Raises:
        ValueError: the checkpoint does not fit the model (missing, unexpected or differently shaped tensors
            outside the output layer), or see :func:`read_state_dict`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"load_pretrained: model must be an nn.Module, got {type(model).__name__}")
    state = read_state_dict(source, weights_only=weights_only, strip_prefixes=False, progress=progress)
    name = "the given mapping" if isinstance(source, Mapping) else os.fspath(source)
    own = model.state_dict()
    state = fit_prefixes(state, own)
    head = output_layer(model)
    head_keys = {k for k in own if head is not None and k.rsplit(".", 1)[0] == head}

    # (BatchNorm's num_batches_tracked is absent from checkpoints older than torch 0.4.1; BatchNorm fills it in
    # itself, as load_state_dict(strict=True) allows)
    missing = [k for k in own if k not in state and not k.endswith(".num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    mismatched = [k for k in own if k in state and _shape(state[k]) != _shape(own[k])]
    keep = [k for k in mismatched if k in head_keys]
    # The output layer is replaced as a whole: all its tensors differ (another class count), or none.
    if keep and len(keep) != sum(1 for k in head_keys if k in state):
        keep = []
    wrong = [k for k in mismatched if k not in keep]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} of the model's tensors are not in it ({_listing(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} of its tensors are not in the model ({_listing(unexpected)})")
        if wrong:
            shapes = [f"{k}: checkpoint {_shape(state[k])}, model {_shape(own[k])}" for k in wrong]
            parts.append(f"{len(wrong)} differ in shape ({_listing(shapes)})")
        raise ValueError(
            f"load_pretrained: the checkpoint {name} does not fit this model: " + "; ".join(parts) + ". Was it "
            "made for another model or configuration? (PyTorchVideo's slow_r50 checkpoint, for instance, needs "
            "fastvid's 'slow_r50' model, not 'resnet50', whose stem differs)"
        )
    checkpoint_classes = None
    if keep:
        weight = f"{head}.weight"
        checkpoint_classes = int(state[weight].shape[0]) if weight in state else None
        state = {k: v for k, v in state.items() if k not in keep}
    model.load_state_dict(state, strict=not keep)
    return LoadedWeights(source=name, loaded=len(state), kept_at_init=tuple(keep), checkpoint_classes=checkpoint_classes)
