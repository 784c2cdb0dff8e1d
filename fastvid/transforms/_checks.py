"""Argument checks shared by fastvid's transforms: every bad argument fails at construction with a
ValueError / TypeError that names the class, the argument, what was expected and what came."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

# The kernel normalizes at most this many channels (csrc/ops/clip_transform.h: kMaxChannels).
MAX_CHANNELS = 4

INTERPOLATIONS = ("bilinear",)


def number(owner: str, name: str, value):
    """A real number (not a bool), returned as it came (an int stays an int)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__} {value!r}")
    return value


def integer(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def positive_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def positive_size(owner: str, name: str, value) -> int:
    """A positive int, or a float with an integral value (sizes read from a YAML or JSON config, e.g.
    256.0, which PyTorchVideo's scales take)."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        if not math.isfinite(value) or value != int(value):
            raise TypeError(f"{owner}: {name} must be a positive int, got {type(value).__name__} {value!r}")
        value = int(value)
    return positive_int(owner, name, value)


def size_pair(owner: str, name: str, value) -> tuple[int, int]:
    """An int (square) or a (height, width) pair of positive ints, as torchvision's crops take (floats with
    an integral value too, as :func:`positive_size`)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = positive_size(owner, name, value)
        return v, v
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) in (1, 2):
        items = [positive_size(owner, name, v) for v in value]
        return (items[0], items[0]) if len(items) == 1 else (items[0], items[1])
    raise TypeError(f"{owner}: {name} must be an int or a (height, width) pair of ints, got {value!r}")


def probability(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number in [0, 1], got {type(value).__name__} {value!r}")
    if not 0.0 <= float(value) <= 1.0:  # NaN fails too
        raise ValueError(f"{owner}: {name} must be in [0, 1], got {value!r}")
    return float(value)


def _float_tuple(owner: str, name: str, value) -> tuple[float, ...]:
    if isinstance(value, torch.Tensor):
        value = value.flatten().tolist()
    elif hasattr(value, "__array__") and not isinstance(value, (Sequence, numbers.Real)):  # a NumPy array
        try:
            value = torch.as_tensor(value).flatten().tolist()
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{owner}: {name} must be a sequence of numbers (one per channel), got {value!r}") from None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{owner}: {name} must be a sequence of numbers (one per channel), got {value!r}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{owner}: {name} must hold numbers, got {value!r}")
        if not math.isfinite(float(v)):
            raise ValueError(f"{owner}: {name} must hold finite numbers, got {value!r}")
        out.append(float(v))
    if not 1 <= len(out) <= MAX_CHANNELS:
        raise ValueError(
            f"{owner}: {name} must have one value per channel (1 to {MAX_CHANNELS} values), got {len(out)}: {value!r}"
        )
    return tuple(out)


def mean_std(owner: str, mean, std) -> tuple[tuple[float, ...], tuple[float, ...]]:
    m = _float_tuple(owner, "mean", mean)
    s = _float_tuple(owner, "std", std)
    if len(m) != len(s):
        raise ValueError(
            f"{owner}: mean and std must have the same length (one value per channel), got {len(m)} and {len(s)}"
        )
    if any(v == 0.0 for v in s):
        raise ValueError(f"{owner}: std must not contain 0 (the clip is divided by it), got {std!r}")
    return m, s


def interpolation(owner: str, value) -> str:
    if value not in INTERPOLATIONS:
        raise ValueError(
            f"{owner}: interpolation must be one of {INTERPOLATIONS} (the fused kernel resizes bilinearly, "
            f"align_corners=False, as PyTorchVideo's default), got {value!r}"
        )
    return value


def backend(owner: str, value) -> str:
    if value != "pytorch":
        raise ValueError(
            f'{owner}: backend must be "pytorch" (torch.nn.functional.interpolate\'s bilinear, which the fused '
            f"kernel reproduces); PyTorchVideo's \"opencv\" backend is not supported, got {value!r}"
        )
    return value


def generator(owner: str, value) -> torch.Generator | None:
    if value is None:
        return None
    if not isinstance(value, torch.Generator):
        raise TypeError(f"{owner}: generator must be a torch.Generator or None, got {type(value).__name__}")
    if value.device.type != "cpu":
        raise ValueError(
            f"{owner}: generator must be a CPU torch.Generator (draws happen on the CPU), got {value.device}"
        )
    return value


def float_range(owner: str, name: str, value, *, positive: bool) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise TypeError(f"{owner}: {name} must be a (min, max) pair of numbers, got {value!r}")
    lo, hi = value
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{owner}: {name} must be a (min, max) pair of numbers, got {value!r}")
        if not math.isfinite(float(v)) or (positive and not float(v) > 0):
            raise ValueError(f"{owner}: {name} values must be finite{' and > 0' if positive else ''}, got {value!r}")
    return float(lo), float(hi)
