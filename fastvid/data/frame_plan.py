"""Python wrapper over the C++ frame-index planner (``torch.ops.fastvid.plan_clip_frames``).

Given a video's frame presentation times (sorted) and the indices of its keyframes, it tells for every
clip window [start, end) which frames UniformTemporalSubsample(num_samples) keeps and from which
keyframe decoding has to start. The kept indices are exactly ``clamp(torch.linspace(0, T - 1, n), 0,
T - 1).long()`` over the window's T frames, as torch computes float32 linspace on this machine.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import torch

from fastvid._ext import assert_has_ops

__all__ = ["ClipFramePlan", "plan_clip_frames", "uniform_subsample_indices"]


class ClipFramePlan(NamedTuple):
    """Per clip (leading dimension N): the window holds frames ``[first, first + count)``; ``indices``
    (N, num_samples) are the kept frames (-1 for an empty window); ``seek`` is the keyframe (frame
    index) to start decoding from, -1 for the start of the stream."""

    first: torch.Tensor
    count: torch.Tensor
    indices: torch.Tensor
    seek: torch.Tensor


_LINSPACE_FMA: bool | None = None

# (T, n) pairs where torch's fused and unfused float32 linspace round to different frame indices.
_PROBES = ((3, 15), (3, 121), (5, 27), (17, 15), (17, 127), (33, 31), (33, 121), (33, 211), (65, 191), (65, 251))


def _linspace_fma() -> bool:
    """Whether this torch's CPU linspace fuses its multiply-add (AVX2/AVX512 kernels do, the portable
    kernel does not). Decided once by comparing both planner variants with torch.linspace itself."""
    global _LINSPACE_FMA
    if _LINSPACE_FMA is None:
        scores = {True: 0, False: 0}
        for fma in (True, False):
            for t, n in _PROBES:
                ours = _plan_raw(torch.arange(t, dtype=torch.long), torch.zeros(1, dtype=torch.long),
                                 torch.tensor([[0, t]]), n, fma).indices[0]
                ref = torch.clamp(torch.linspace(0, t - 1, n), 0, t - 1).long()
                scores[fma] += int(torch.equal(ours, ref))
        _LINSPACE_FMA = scores[True] >= scores[False]
    return _LINSPACE_FMA


def _plan_raw(frame_pts, keyframes, windows, num_samples, fma) -> ClipFramePlan:
    return ClipFramePlan(*torch.ops.fastvid.plan_clip_frames(frame_pts, keyframes, windows, num_samples, fma))


def plan_clip_frames(
    frame_pts: torch.Tensor,
    keyframes: torch.Tensor,
    windows: torch.Tensor,
    num_samples: int | None,
) -> ClipFramePlan:
    """Plans which frames of each clip window to decode.

    Args:
        frame_pts: (F,) presentation times of the video's frames in ascending order: int64 stream pts or
            float64 seconds.
        keyframes: (K,) ascending int64 indices into ``frame_pts`` of the frames decoding may start from.
        windows: (N, 2) clip windows [start, end), end exclusive, same dtype and units as ``frame_pts``.
        num_samples: frames UniformTemporalSubsample keeps per clip; None or 0 keeps every frame
            (``indices`` is then (N, 0)).

    Returns:
        A :class:`ClipFramePlan`.
    """
    assert_has_ops()
    for name, value in (("frame_pts", frame_pts), ("keyframes", keyframes), ("windows", windows)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"plan_clip_frames: {name} must be a torch.Tensor, got {type(value).__name__}")
    if num_samples is None:
        num_samples = 0
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"plan_clip_frames: num_samples must be None or an int >= 0, got {num_samples!r}")
    if not 0 <= num_samples < 2**31:
        raise ValueError(f"plan_clip_frames: num_samples must be in [0, 2**31), got {num_samples!r}")
    if windows.is_floating_point() and windows.numel() and bool(torch.isnan(windows).any()):
        raise ValueError("plan_clip_frames: windows hold NaN (a clip window needs a start and an end time)")
    return _plan_raw(frame_pts, keyframes, windows, int(num_samples), _linspace_fma())


def uniform_subsample_indices(num_frames: int, num_samples: int) -> torch.Tensor:
    """UniformTemporalSubsample's indices for ``num_frames`` frames, computed by the C++ planner
    (equal to ``clamp(torch.linspace(0, T - 1, n), 0, T - 1).long()``)."""
    for name, value in (("num_frames", num_frames), ("num_samples", num_samples)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) and not hasattr(value, "__index__"):
            raise TypeError(f"uniform_subsample_indices: {name} must be a positive int, got {value!r}")
    if num_frames <= 0 or num_samples <= 0:
        raise ValueError(
            "uniform_subsample_indices: num_frames and num_samples must be positive, "
            f"got {num_frames} and {num_samples}"
        )
    plan = plan_clip_frames(torch.arange(num_frames, dtype=torch.long), torch.zeros(1, dtype=torch.long),
                            torch.tensor([[0, num_frames]]), num_samples)
    return plan.indices[0]
