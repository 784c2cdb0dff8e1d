"""Multi-pathway containers (as ``MultiPathWayWithFuse`` and ``DetectionBBoxNetwork`` of
``pytorchvideo.models.net``): the pieces a SlowFast network is assembled from."""

from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ["MultiPathWayWithFuse", "DetectionBBoxNetwork"]


class MultiPathWayWithFuse(nn.Module):
    """Runs pathway ``i``'s block on ``x[i]`` for every pathway, then ``multipathway_fusion`` on the list.

    ``x`` is a list of tensors, one per pathway. With ``inplace=True`` (PyTorchVideo's default) the outputs
    are written into the list it was given, so the caller's list holds the blocks' outputs afterwards
    (PyTorchVideo behaves the same: build a new ``[slow, fast]`` list for every call) and a pathway whose
    block is None keeps its tensor; with ``inplace=False`` a new list is returned, ``x`` is left alone, and a
    pathway whose block is None is None in it (as in PyTorchVideo; ``PoolConcatPathway`` skips it).

    Submodules are registered as ``multipathway_blocks`` then ``multipathway_fusion`` (PyTorchVideo's order).
    """

    def __init__(
        self,
        *,
        multipathway_blocks: nn.ModuleList,
        multipathway_fusion: nn.Module | None,
        inplace: bool | None = True,
    ) -> None:
        super().__init__()
        if not isinstance(multipathway_blocks, nn.ModuleList):
            raise TypeError(
                "MultiPathWayWithFuse: multipathway_blocks must be an nn.ModuleList, "
                f"got {type(multipathway_blocks).__name__}"
            )
        self.multipathway_blocks = multipathway_blocks
        self.multipathway_fusion = multipathway_fusion
        self.inplace = inplace

    def forward(self, x: list[torch.Tensor]) -> list[torch.Tensor]:
        if not isinstance(x, list):
            raise TypeError(
                f"MultiPathWayWithFuse: input must be a list of tensors (one per pathway), got {type(x).__name__}"
            )
        if len(x) < len(self.multipathway_blocks):
            raise ValueError(
                f"MultiPathWayWithFuse: input must hold one tensor per pathway ({len(self.multipathway_blocks)}), "
                f"got a list of {len(x)}"
            )
        out = x if self.inplace else [None] * len(x)
        for idx, block in enumerate(self.multipathway_blocks):
            if block is not None:
                out[idx] = block(x[idx])
        if self.multipathway_fusion is not None:
            out = self.multipathway_fusion(out)
        return out


class DetectionBBoxNetwork(nn.Module):
    """A backbone (``model``) followed by a head that also takes boxes (``detection_head``); the output is
    flattened to (number of boxes, -1). Submodules: ``model``, ``detection_head``."""

    def __init__(self, model: nn.Module, detection_head: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.detection_head = detection_head

    def forward(self, x, bboxes: torch.Tensor) -> torch.Tensor:
        out = self.detection_head(self.model(x), bboxes)
        return out.reshape(out.shape[0], -1)
