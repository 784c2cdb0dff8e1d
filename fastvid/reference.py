"""Pure-PyTorch reference implementations: the oracle that fastvid's kernels are tested against.

Each function computes step by step, the way the PyTorchVideo tutorial pipeline does, with nothing
fused and nothing clever. They are slow on purpose; never use them for training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["clip_transform", "uniform_temporal_subsample_indices", "short_side_scale_size", "uniform_crop_box"]


def uniform_temporal_subsample_indices(num_frames: int, num_samples: int) -> torch.Tensor:
    """The frames UniformTemporalSubsample(num_samples) keeps of num_frames (PyTorchVideo's rule).

    ``clamp(linspace(0, T - 1, n), 0, T - 1).long()`` in float32; frames repeat when n > T.
    """
    if num_frames <= 0 or num_samples <= 0:
        raise ValueError(
            f"uniform_temporal_subsample_indices: num_frames and num_samples must be positive, "
            f"got {num_frames} and {num_samples}"
        )
    idx = torch.linspace(0, num_frames - 1, num_samples)
    return torch.clamp(idx, 0, num_frames - 1).long()


def short_side_scale_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(new_h, new_w) with the short side scaled to ``size`` (PyTorchVideo's ShortSideScale rule)."""
    if height <= 0 or width <= 0 or size <= 0:
        raise ValueError(
            f"short_side_scale_size: height, width and size must be positive, got {height}, {width}, {size}"
        )
    if width < height:
        return int(float(height) / width * size), size
    return size, int(float(width) / height * size)


def uniform_crop_box(
    height: int, width: int, size: int, aug_index: int, *, owner: str = "uniform_crop_box"
) -> tuple[int, int, int, int]:
    """(top, left, size, size) of PyTorchVideo's uniform crop (UniformCropVideo): centred at
    ceil((H - s) / 2), ceil((W - s) / 2); aug_index 0 / 2 moves it to the start / end of the longer side
    (H when H > W, else W). ``owner`` names the caller in the errors."""
    if isinstance(aug_index, bool) or aug_index not in (0, 1, 2):
        raise ValueError(f"{owner}: aug_index must be 0, 1 or 2, got {aug_index!r}")
    if size > height or size > width:
        raise ValueError(f"{owner}: size {size} is larger than the {height}x{width} frame")
    top = int(math.ceil((height - size) / 2))
    left = int(math.ceil((width - size) / 2))
    if height > width:
        top = {0: 0, 1: top, 2: height - size}[int(aug_index)]
    else:
        left = {0: 0, 1: left, 2: width - size}[int(aug_index)]
    return top, left, size, size


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
    """Reference of :func:`fastvid.ops.clip_transform`, step by step as the tutorial pipeline computes.

    index_select the kept frames -> float32 -> multiply by ``scale`` -> normalize ``(x - mean) / std``
    -> F.interpolate bilinear (align_corners=False, ``antialias``) to ``size`` -> crop
    ``(top, left, height, width)`` -> horizontal flip -> (C, T', h, w) in ``out_dtype``. With scale,
    mean and std all None and ``out_dtype=torch.uint8``, the resized values are rounded and clamped.
    """
    if layout == "THWC":
        video = video.permute(3, 0, 1, 2)
    elif layout != "CTHW":
        raise ValueError(f'clip_transform: layout must be "CTHW" or "THWC", got {layout!r}')
    if frame_indices is not None:
        idx = torch.as_tensor(frame_indices, dtype=torch.long, device=video.device)
        video = video.index_select(1, idx)
    x = video.to(torch.float32)
    channels = x.shape[0]
    if scale is not None:
        x = x * scale
    if mean is not None or std is not None:
        m = torch.tensor(mean if mean is not None else [0.0] * channels, dtype=torch.float32)
        s = torch.tensor(std if std is not None else [1.0] * channels, dtype=torch.float32)
        x = (x - m.view(-1, 1, 1, 1).to(x.device)) / s.view(-1, 1, 1, 1).to(x.device)
    x = x.permute(1, 0, 2, 3)  # (T, C, H, W): F.interpolate resizes the last two dims of each frame
    if size is not None and (tuple(size) != tuple(x.shape[-2:])):
        new_h, new_w = size
        if antialias and new_w == 1 and new_h > 1 and x.shape[-2] != new_h:
            # torch's CPU antialiased bilinear (float, 2.14) returns the first output row for every row
            # when the output is one column wide; the transposed resize is computed correctly.
            x = F.interpolate(
                x.transpose(-1, -2), size=(new_w, new_h), mode="bilinear", align_corners=False, antialias=True
            ).transpose(-1, -2)
        else:
            x = F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=antialias)
    if crop is not None:
        top, left, h, w = crop
        x = x[..., top : top + h, left : left + w]
    if flip:
        x = x.flip(-1)
    x = x.permute(1, 0, 2, 3)
    if out_dtype == torch.uint8:
        return x.round().clamp(0, 255).to(torch.uint8).contiguous()
    return x.to(out_dtype).contiguous()


# --- clip_transform_batch --------------------------------------------------------------------------

__all__ += ["clip_transform_batch"]


def clip_transform_batch(
    videos,
    *,
    layout: str = "CTHW",
    frame_indices=None,
    sizes=None,
    crops=None,
    flips=None,
    scale: float | None = 1.0 / 255.0,
    mean: Sequence[float] | None = (0.45, 0.45, 0.45),
    std: Sequence[float] | None = (0.225, 0.225, 0.225),
    antialias: bool = False,
    out_dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Reference of :func:`fastvid.ops.clip_transform_batch`: :func:`clip_transform` clip by clip, stacked.

    Takes the same arguments (a list of clips or a :class:`fastvid.ops.PackedClips`, per-clip values
    shared or one per clip); clip b of the packed buffer is its as_strided view.
    """
    from fastvid.ops import _batch_args  # argument parsing only: the arithmetic is all here

    clips, packed, fi, size_rows, offsets, crop_size, flip_rows = _batch_args(videos, layout, frame_indices, sizes, crops, flips)
    if packed is not None:
        clips = packed.clips()
    out = []
    for b, video in enumerate(clips):
        top, left = (0, 0) if offsets is None else (int(offsets[b, 0]), int(offsets[b, 1]))
        out.append(
            clip_transform(
                video,
                layout=layout,
                frame_indices=None if fi is None else fi[b],
                size=None if size_rows is None else size_rows[b].tolist(),
                crop=(top, left, crop_size[0], crop_size[1]),
                flip=False if flip_rows is None else bool(flip_rows[b]),
                scale=scale,
                mean=mean,
                std=std,
                antialias=antialias,
                out_dtype=out_dtype,
            )
        )
    return torch.stack(out)
