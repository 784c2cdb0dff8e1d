"""Validation views on the device: ShortSideScale then UniformCropVideo by each clip's aug_index.

:class:`fastvid.gpu.BatchClipTransform` covers training (random scale, crop, flip) and a center crop in eval
mode; the multi-view protocol needs the 3 uniform crops (left / centre / right of the longer side, chosen by
``aug_index``). :class:`UniformCropBatchTransform` computes each clip's resize and crop as
``fastvid.transforms``' ShortSideScale + UniformCropVideo do and runs them on the whole batch in one
:func:`fastvid.ops.clip_transform_batch` call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from fastvid import ops, reference
from fastvid.gpu import clip_shapes, subsample_rows
from fastvid.reference import uniform_crop_box  # noqa: F401 - re-exported: the crop rule UniformCropVideo uses

__all__ = ["UniformCropBatchTransform", "uniform_crop_box"]


class UniformCropBatchTransform(torch.nn.Module):
    """Turns a batch of decoded uint8 clips (a :class:`PackedClips` or a list of (C, T, H, W)) into
    normalized validation views: short side to ``short_side``, the ``aug_index`` uniform crop of
    ``crop_size`` (or the centre crop when the batch has no ``aug_index``), /255 and normalize.

    Called on a batch dict, it returns the dict with ``video`` replaced by the (B, C, T, s, s) tensor.
    """

    def __init__(
        self,
        *,
        crop_size: int = 224,
        short_side: int = 256,
        num_samples: int | None = None,
        mean: Sequence[float] = (0.45, 0.45, 0.45),
        std: Sequence[float] = (0.225, 0.225, 0.225),
        out_dtype: torch.dtype = torch.float32,
        video_key: str = "video",
        aug_index_key: str = "aug_index",
    ) -> None:
        super().__init__()
        for name, value in (("crop_size", crop_size), ("short_side", short_side)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"UniformCropBatchTransform: {name} must be a positive int, got {value!r}")
        if crop_size > short_side:
            raise ValueError(f"UniformCropBatchTransform: crop_size ({crop_size}) must not exceed short_side ({short_side})")
        self.crop_size = crop_size
        self.short_side = short_side
        self.num_samples = num_samples
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.out_dtype = out_dtype
        self.video_key = video_key
        self.aug_index_key = aug_index_key

    def prepare(self, batch):
        """Plans every clip's resize and crop while the batch is still on the host.

        :class:`fastvid.train.VideoClassificationModule` calls this in ``on_before_batch_transfer``: the clip
        shapes and ``aug_index`` are read before the transfer moves ``aug_index`` to the device, so the call on
        the device needs no copy back (which would wait for the device in every validation step). Returns the
        batch with the plan added; :meth:`forward` removes it.
        """
        shapes, aug = self._read(batch)
        if isinstance(aug, torch.Tensor) and aug.device.type != "cpu":
            return batch  # already on a device: forward reads it there
        out = dict(batch)
        out[_PLAN_KEY] = self._plan(shapes, aug)
        return out

    def forward(self, batch):
        shapes, aug = self._read(batch)
        plan = batch.get(_PLAN_KEY)
        if not isinstance(plan, _ViewPlan) or len(plan.sizes) != len(shapes):
            plan = self._plan(shapes, aug)
        out = dict(batch)
        out.pop(_PLAN_KEY, None)
        out[self.video_key] = ops.clip_transform_batch(
            batch[self.video_key], layout="CTHW", frame_indices=plan.frame_indices, sizes=plan.sizes,
            crops=plan.crops, flips=False, mean=self.mean, std=self.std, out_dtype=self.out_dtype,
        )
        return out

    def _read(self, batch) -> tuple[list, object]:
        if not isinstance(batch, Mapping) or self.video_key not in batch:
            raise TypeError(f"UniformCropBatchTransform: expects a batch dict with a {self.video_key!r} key, got {type(batch).__name__}")
        shapes = clip_shapes("UniformCropBatchTransform", batch[self.video_key], expected=f"{self.video_key!r} to be a PackedClips")
        return shapes, batch.get(self.aug_index_key)

    def _plan(self, shapes: list, aug) -> "_ViewPlan":
        aug = [1] * len(shapes) if aug is None else [int(a) for a in torch.as_tensor(aug).tolist()]
        if len(aug) != len(shapes):
            raise ValueError(f"UniformCropBatchTransform: {len(shapes)} clips but {len(aug)} {self.aug_index_key!r} values")
        sizes, crops = [], []
        for (c, t, h, w), a in zip(shapes, aug):
            nh, nw = reference.short_side_scale_size(h, w, self.short_side)
            sizes.append((nh, nw))
            crops.append(uniform_crop_box(nh, nw, self.crop_size, a))
        return _ViewPlan(subsample_rows(shapes, self.num_samples), torch.tensor(sizes), torch.tensor(crops))


# A private batch key: the plan travels with the batch from prepare() to forward(). _ViewPlan is not a tensor
# collection, so Lightning's transfer leaves it on the host.
_PLAN_KEY = "_fastvid_view_plan"


class _ViewPlan:
    __slots__ = ("frame_indices", "sizes", "crops")

    def __init__(self, frame_indices: torch.Tensor | None, sizes: torch.Tensor, crops: torch.Tensor) -> None:
        self.frame_indices, self.sizes, self.crops = frame_indices, sizes, crops
