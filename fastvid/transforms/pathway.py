"""PackPathway: one clip -> the ``[slow, fast]`` list a SlowFast network takes.

PyTorchVideo 0.1.5 ships no such transform: its SlowFast tutorial (the torch.hub inference tutorial)
defines ``PackPathway`` itself, with a global ``slowfast_alpha = 4``. This is that class, with ``alpha``
as an argument: the fast pathway is the clip, the slow pathway ``T // alpha`` of its frames at
``torch.linspace(0, T - 1, T // alpha).long()`` (evenly spread, first and last kept, truncated).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from fastvid import reference
from fastvid.transforms import _checks

__all__ = ["PackPathway"]


class PackPathway(nn.Module):
    """Returns ``[slow, fast]`` for a clip: ``fast`` is the clip itself (not a copy), ``slow`` its
    ``T // alpha`` frames at ``torch.linspace(0, T - 1, T // alpha).long()`` along ``temporal_dim``.

    The default ``temporal_dim=-3`` is the tutorial's dim 1 of a (C, T, H, W) clip, and also the time axis
    of a (B, C, T, H, W) batch, so the same transform packs a batch on the device. Put it last in a clip
    transform (``Compose([..., PackPathway()])``, as the tutorial does) or call it on the batch in your
    LightningModule (see :mod:`fastvid.models.slowfast`). Any dtype; the indices are computed on the CPU, as
    in the tutorial, whatever the clip's device.

    Raises:
        ValueError: the clip has fewer than ``alpha`` frames (the slow pathway would be empty).
    """

    def __init__(self, alpha: int = 4, *, temporal_dim: int = -3) -> None:
        super().__init__()
        self.alpha = _checks.positive_int("PackPathway", "alpha", alpha)
        self.temporal_dim = _checks.integer("PackPathway", "temporal_dim", temporal_dim)

    def forward(self, frames: torch.Tensor) -> list[torch.Tensor]:
        if not isinstance(frames, torch.Tensor):
            raise TypeError(f"PackPathway: expects a clip tensor, got {type(frames).__name__}")
        if not -frames.dim() <= self.temporal_dim < frames.dim():
            raise ValueError(
                f"PackPathway: temporal_dim {self.temporal_dim} is out of range for a clip of shape "
                f"{tuple(frames.shape)}"
            )
        num_frames = frames.shape[self.temporal_dim]
        num_slow = num_frames // self.alpha
        if num_slow < 1:
            raise ValueError(
                f"PackPathway: the clip must have at least alpha={self.alpha} frames along dim "
                f"{self.temporal_dim}, got {num_frames} (shape {tuple(frames.shape)})"
            )
        # the tutorial's linspace(0, T - 1, T // alpha).long(): UniformTemporalSubsample's indices (n <= T)
        index = reference.uniform_temporal_subsample_indices(num_frames, num_slow).to(frames.device)
        return [torch.index_select(frames, self.temporal_dim, index), frames]

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, temporal_dim={self.temporal_dim}"
