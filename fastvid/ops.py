"""Typed Python wrappers over fastvid's compiled ops (``torch.ops.fastvid.*``).

Every op has a pure-PyTorch twin in :mod:`fastvid.reference` with the same arguments, and a fake
(meta) implementation registered here so that the ops work under ``torch.compile``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from fastvid._ext import assert_has_ops, has_ops

__all__ = ["clip_transform"]

_LAYOUTS = ("CTHW", "THWC")


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _int_tuple(name: str, value, length: int) -> list[int] | None:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, (str, bytes)):
        raise TypeError(f"clip_transform: {name} must be a sequence of {length} ints, got {value!r}")
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"clip_transform: {name} must be a sequence of {length} ints, got {value!r}") from None
    if len(items) != length:
        raise ValueError(f"clip_transform: {name} must have {length} values, got {len(items)}: {items!r}")
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int) and not (hasattr(v, "__index__")):
            raise TypeError(f"clip_transform: {name} must hold ints, got {items!r}")
        v = int(v.__index__())
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise ValueError(f"clip_transform: {name} values must fit in int64, got {items!r}")
        out.append(v)
    return out


def _float_list(name: str, value) -> list[float] | None:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        value = value.flatten().tolist()
    if isinstance(value, (int, float, str, bytes)):
        raise TypeError(f"clip_transform: {name} must be a sequence with one value per channel, got {value!r}")
    try:
        return [float(v) for v in value]
    except (TypeError, ValueError):
        raise TypeError(f"clip_transform: {name} must be a sequence of numbers, got {value!r}") from None


def _frame_tensor(frame_indices) -> torch.Tensor | None:
    if frame_indices is None or isinstance(frame_indices, torch.Tensor):
        return frame_indices
    try:
        items = list(frame_indices)
    except TypeError:
        items = None
    if items is None or isinstance(frame_indices, (str, bytes)) or any(
        isinstance(v, bool) or not hasattr(v, "__index__") for v in items
    ):
        raise TypeError(
            f"clip_transform: frame_indices must be a 1-D tensor or a sequence of ints, got {frame_indices!r}"
        )
    values = [int(v.__index__()) for v in items]
    if any(not _INT64_MIN <= v <= _INT64_MAX for v in values):
        raise ValueError(f"clip_transform: frame_indices values must fit in int64, got {values!r}")
    return torch.tensor(values, dtype=torch.long)


def _scale_value(scale) -> float | None:
    if scale is None:
        return None
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) and not hasattr(scale, "__float__"):
        raise TypeError(f"clip_transform: scale must be a number or None, got {scale!r}")
    try:
        return float(scale)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"clip_transform: scale must be a number or None, got {scale!r}") from None


def clip_transform(
    video: torch.Tensor,
    *,
    layout: str = "CTHW",
    frame_indices: torch.Tensor | Sequence[int] | None = None,
    size: Sequence[int] | None = None,
    crop: Sequence[int] | None = None,
    flip: bool = False,
    scale: float | None = 1.0 / 255.0,
    mean: Sequence[float] | None = (0.45, 0.45, 0.45),
    std: Sequence[float] | None = (0.225, 0.225, 0.225),
    antialias: bool = False,
    out_dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Temporal subsample, resize, crop, flip and normalize a clip in one pass.

    Args:
        video: uint8 or float32 clip, (C, T, H, W) or (T, H, W, C) as ``layout`` says, any strides
            (read in place: a permuted or sliced view costs no copy).
        layout: "CTHW" (PyTorchVideo's) or "THWC" (decoded frames).
        frame_indices: the frames to keep, in order (repeats allowed); None keeps all.
        size: (new_h, new_w) of the resized frame that the crop is taken from; None: no resize.
        crop: (top, left, height, width) in resized coordinates; None: the whole resized frame.
        flip: flip the crop horizontally.
        scale, mean, std: out = (v * scale - mean[c]) / std[c] (None: 1, 0, 1). With all three None
            and ``out_dtype=torch.uint8``, the resized values are rounded and clamped to 0..255.
        antialias: as ``F.interpolate(antialias=True)`` (torchvision v2's Resize default) when
            downscaling; plain bilinear (PyTorchVideo's) when False.
        out_dtype: float32, bfloat16, float16, or uint8 (see above).

    Returns:
        A contiguous (C, T', height, width) tensor on the video's device.

    Raises:
        ValueError / TypeError naming the argument for bad input; RuntimeError if the compiled
        extension is missing.
    """
    assert_has_ops()
    if not isinstance(video, torch.Tensor):
        raise TypeError(f"clip_transform: video must be a torch.Tensor, got {type(video).__name__}")
    if layout not in _LAYOUTS:
        raise ValueError(f'clip_transform: layout must be "CTHW" or "THWC", got {layout!r}')
    if not isinstance(out_dtype, torch.dtype):
        raise TypeError(f"clip_transform: out_dtype must be a torch.dtype, got {out_dtype!r}")
    return torch.ops.fastvid.clip_transform(
        video,
        layout,
        _frame_tensor(frame_indices),
        _int_tuple("size", size, 2),
        _int_tuple("crop", crop, 4),
        bool(flip),
        _scale_value(scale),
        _float_list("mean", mean),
        _float_list("std", std),
        bool(antialias),
        out_dtype,
    )


def _clip_transform_out_shape(video, layout, frame_indices, size, crop):
    if layout == "THWC":
        t, h, w, c = video.shape
    else:
        c, t, h, w = video.shape
    if frame_indices is not None:
        t = frame_indices.shape[0]
    if size is not None:
        h, w = size
    if crop is not None:
        h, w = crop[2], crop[3]
    return (c, t, h, w)


if has_ops():

    @torch.library.register_fake("fastvid::clip_transform")
    def _clip_transform_fake(video, layout, frame_indices, size, crop, flip, scale, mean, std, antialias, out_dtype):
        shape = _clip_transform_out_shape(video, layout, frame_indices, size, crop)
        return video.new_empty(shape, dtype=out_dtype)
