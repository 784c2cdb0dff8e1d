"""Augmentation on the GPU: workers only decode, one batched launch does the rest.

The dataset stops after decoding: give it a transform that keeps the temporal plan only, e.g.
``ApplyTransformToKey("video", UniformTemporalSubsample(8))``, and every item's "video" is the uint8
(C, T', H, W) clip of the kept frames (a permuted view of the decoded THWC frames, any size).
:func:`collate_clips` packs those clips into one (pinned) uint8 buffer with per-clip descriptors,
4x fewer bytes than float32 cross PCIe, and :class:`BatchClipTransform` turns the batch on the device
into normalized, resized, cropped, flipped clips with one :func:`fastvid.ops.clip_transform_batch`
call, drawing each clip's random parameters as the CPU transforms do::

    loader = DataLoader(dataset, batch_size=64, num_workers=8, collate_fn=collate_clips, pin_memory=True)

    class VideoModule(pytorch_lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = create_resnet(...)
            self.gpu_transform = BatchClipTransform(crop_size=224, min_size=256, max_size=320)

        def on_after_batch_transfer(self, batch, dataloader_idx):
            return self.gpu_transform(batch)  # train(): random scale/crop/flip; eval(): scale + center crop

The same code runs on the CPU (the CPU batched op), which is how it is tested without a GPU.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import torch
from torch.utils.data import default_collate, get_worker_info

from fastvid import ops, reference
from fastvid.ops import PackedClips
from fastvid.transforms import _checks

__all__ = ["collate_clips", "BatchClipTransform", "PackedClips"]


def collate_clips(items: Sequence[Mapping], *, video_key: str = "video", pin_memory: bool | None = None) -> dict:
    """Collates dataset items whose ``video_key`` holds (C, T, H, W) clips of different sizes.

    The clips (same dtype and channel count; uint8 from the frame-index decoder) are copied into one
    buffer, each keeping its memory order, as a :class:`fastvid.ops.PackedClips`; every other key is
    collated with torch's ``default_collate`` (labels, indices -> tensors, names -> lists), or kept as
    a list when its values cannot be stacked (e.g. audio of different lengths).

    Args:
        items: the dataset items (dicts).
        video_key: the key of the clips.
        pin_memory: put the buffer in page-locked memory. None: when CUDA is available and this runs in
            the main process (page-locked memory does not cross process boundaries: in DataLoader
            workers, pass ``pin_memory=True`` to the DataLoader instead, which calls
            ``PackedClips.pin_memory()`` in the main process).

    Returns:
        A dict with ``video_key`` -> PackedClips (layout "CTHW") and the other keys collated.
    """
    items = list(items)
    if not items:
        raise ValueError("collate_clips: items must hold at least one dataset item, got none")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise TypeError(f"collate_clips: items[{i}] must be a dict, got {type(item).__name__}")
        if video_key not in item:
            raise ValueError(f"collate_clips: items[{i}] has no {video_key!r} key (keys: {sorted(item)})")
        if set(item) != set(items[0]):
            raise ValueError(f"collate_clips: items[{i}] has keys {sorted(item)} but items[0] has {sorted(items[0])}")
    videos = [item[video_key] for item in items]
    for i, v in enumerate(videos):
        if not isinstance(v, torch.Tensor) or v.dim() != 4:
            raise TypeError(f"collate_clips: items[{i}][{video_key!r}] must be a (C, T, H, W) tensor, got {ops._describe(v)}")
        if v.dtype not in (torch.uint8, torch.float32):
            raise TypeError(f"collate_clips: items[{i}][{video_key!r}] must be uint8 or float32, got {v.dtype}")
        if v.dtype != videos[0].dtype or v.shape[0] != videos[0].shape[0]:
            raise ValueError(
                f"collate_clips: every clip must have the same dtype and channels; items[0] is {videos[0].dtype} with "
                f"{videos[0].shape[0]} channels, items[{i}] is {v.dtype} with {v.shape[0]}"
            )
    if pin_memory is None:
        pin_memory = torch.cuda.is_available() and get_worker_info() is None
    batch = {video_key: PackedClips.pack(videos, layout="CTHW", pin_memory=bool(pin_memory))}
    for key in items[0]:
        if key == video_key:
            continue
        values = [item[key] for item in items]
        try:
            batch[key] = default_collate(values)
        except (TypeError, RuntimeError):
            batch[key] = values
    return batch


def clip_shapes(owner: str, videos, *, expected: str = "a PackedClips") -> list[list[int]]:
    """Each (C, T, H, W) clip's shape, read on the host: from a CTHW :class:`PackedClips`' descriptors (which
    stay on the CPU when the buffer moves to a device) or a list of clips. ``expected`` names what ``owner``
    takes, for the TypeError."""
    if isinstance(videos, PackedClips):
        if videos.layout != "CTHW":
            raise ValueError(f"{owner}: clips must be CTHW, got a {videos.layout!r} PackedClips")
        return videos.shapes.tolist()
    if isinstance(videos, (list, tuple)) and all(isinstance(v, torch.Tensor) and v.dim() == 4 for v in videos):
        return [list(v.shape) for v in videos]
    raise TypeError(f"{owner}: expected {expected} or a list of (C, T, H, W) clips, got {type(videos).__name__}")


def subsample_rows(shapes: Sequence[Sequence[int]], num_samples: int | None) -> torch.Tensor | None:
    """UniformTemporalSubsample(num_samples)'s frame indices for each (C, T, H, W) clip shape, stacked
    (B, num_samples); None when ``num_samples`` is None (every frame)."""
    if num_samples is None:
        return None
    return torch.stack([reference.uniform_temporal_subsample_indices(int(s[1]), num_samples) for s in shapes])


def _size_pair(name: str, value) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    try:
        pair = tuple(value)
    except TypeError:
        raise TypeError(f"BatchClipTransform: {name} must be an int or (height, width), got {value!r}") from None
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair):
        raise ValueError(f"BatchClipTransform: {name} must be a positive int or two positive ints, got {value!r}")
    return pair


class BatchClipTransform(torch.nn.Module):
    """The training / validation clip pipeline on a whole batch, one batched kernel call.

    In training mode (``.train()``, the default), each clip in turn draws, as the CPU transforms do:
    ``RandomShortSideScale(min_size, max_size)``: ``s = torch.randint(min_size, max_size + 1, (1,))`` and
    the short side rule; ``RandomCrop(crop_size)``: ``top = torch.randint(0, H - th + 1, (1,))``, then left
    likewise (no draw when the resized frame is the crop's size); a horizontal flip when
    ``torch.rand(1) < flip_p`` (``flip_draw="torch"``, torchvision's RandomHorizontalFlip) or
    ``random.random() < flip_p`` (``"python"``, RandomHorizontalFlipVideo). So after the same seeding, the
    batch equals ``Compose([Div255(), Normalize(mean, std), RandomShortSideScale(min, max),
    RandomCrop(crop), RandomHorizontalFlip(flip_p)])`` applied clip by clip, in batch order.
    In eval mode: ``ShortSideScale(eval_size)`` and ``CenterCrop(crop_size)``
    (``top = int(round((H - th) / 2.0))``), no flip, no draws. As a submodule of a LightningModule it
    follows the module's train / eval mode.

    Args:
        crop_size: output (h, w), or one int for a square.
        min_size, max_size: the random short side range (training).
        eval_size: the short side in eval mode (default ``min_size``).
        flip_p: flip probability (training); flip_draw: "torch" or "python", see above.
        num_samples: keep this many frames of each clip, as UniformTemporalSubsample (None: keep all; the
            clips then need the same length).
        scale, mean, std, antialias, out_dtype: as :func:`fastvid.ops.clip_transform`.
        video_key: the key of the clips when called on a batch dict.
        generator: torch.Generator for the torch draws (None: the global one).

    Call it on a batch dict (returns the dict with ``video_key`` replaced by the (B, C, T', h, w) tensor),
    a :class:`PackedClips`, or a list of (C, T, H, W) clips (returns the tensor).
    """

    def __init__(
        self,
        *,
        crop_size=224,
        min_size: int = 256,
        max_size: int = 320,
        eval_size: int | None = None,
        flip_p: float = 0.5,
        flip_draw: str = "torch",
        num_samples: int | None = None,
        scale: float | None = 1.0 / 255.0,
        mean: Sequence[float] | None = (0.45, 0.45, 0.45),
        std: Sequence[float] | None = (0.225, 0.225, 0.225),
        antialias: bool = False,
        out_dtype: torch.dtype = torch.float32,
        video_key: str = "video",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        name = "BatchClipTransform"
        self.crop_size = _size_pair("crop_size", crop_size)
        for arg, value in (("min_size", min_size), ("max_size", max_size), ("eval_size", eval_size), ("num_samples", num_samples)):
            if value is None and arg in ("eval_size", "num_samples"):
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if min_size > max_size:
            raise ValueError(f"{name}: min_size must be <= max_size, got min_size={min_size}, max_size={max_size}")
        if not isinstance(flip_p, (int, float)) or isinstance(flip_p, bool) or not 0.0 <= float(flip_p) <= 1.0:
            raise ValueError(f"{name}: flip_p must be a probability in [0, 1], got {flip_p!r}")
        if flip_draw not in ("torch", "python"):
            raise ValueError(f'{name}: flip_draw must be "torch" or "python", got {flip_draw!r}')
        generator = _checks.generator(name, generator)  # a CPU generator: the draws happen on the CPU
        if not isinstance(out_dtype, torch.dtype):
            raise TypeError(f"{name}: out_dtype must be a torch.dtype, got {out_dtype!r}")
        self.min_size = min_size
        self.max_size = max_size
        self.eval_size = min_size if eval_size is None else eval_size
        self.flip_p = float(flip_p)
        self.flip_draw = flip_draw
        self.num_samples = num_samples
        self.scale = scale
        self.mean = None if mean is None else tuple(float(m) for m in mean)
        self.std = None if std is None else tuple(float(s) for s in std)
        self.antialias = bool(antialias)
        self.out_dtype = out_dtype
        self.video_key = video_key
        self.generator = generator

    def draw_params(self, frame_sizes: Sequence[tuple[int, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each clip's (resized size, crop, flip) for source frames of ``frame_sizes`` [(H, W), ...].

        Draws in training mode (clip by clip: scale, top, left, flip), none in eval mode. Returns int64
        sizes (B, 2), int64 crops (B, 4) = (top, left, h, w) and bool flips (B,), on the CPU.
        """
        th, tw = self.crop_size
        sizes, crops, flips = [], [], []
        for b, (height, width) in enumerate(frame_sizes):
            height, width = int(height), int(width)
            if self.training:
                s = int(torch.randint(self.min_size, self.max_size + 1, (1,), generator=self.generator).item())
            else:
                s = self.eval_size
            h, w = reference.short_side_scale_size(height, width, s)
            if h < th or w < tw:
                raise ValueError(
                    f"BatchClipTransform: clip {b} ({height}x{width}) scaled to short side {s} is {h}x{w}, "
                    f"smaller than the crop {th}x{tw}"
                )
            if not self.training:
                top, left, flip = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), False
            else:
                if h == th and w == tw:
                    top = left = 0
                else:
                    top = int(torch.randint(0, h - th + 1, (1,), generator=self.generator).item())
                    left = int(torch.randint(0, w - tw + 1, (1,), generator=self.generator).item())
                if self.flip_draw == "torch":
                    flip = bool(torch.rand(1, generator=self.generator) < self.flip_p)  # float32 compare, as torchvision
                else:
                    flip = random.random() < self.flip_p
            sizes.append((h, w))
            crops.append((top, left, th, tw))
            flips.append(flip)
        return (
            torch.tensor(sizes, dtype=torch.long).reshape(-1, 2),
            torch.tensor(crops, dtype=torch.long).reshape(-1, 4),
            torch.tensor(flips, dtype=torch.bool),
        )

    def forward(self, batch):
        if isinstance(batch, Mapping):
            if self.video_key not in batch:
                raise ValueError(f"BatchClipTransform: the batch has no {self.video_key!r} key (keys: {sorted(batch)})")
            out = dict(batch)
            out[self.video_key] = self._transform(batch[self.video_key])
            return out
        return self._transform(batch)

    def _transform(self, videos) -> torch.Tensor:
        shapes = clip_shapes("BatchClipTransform", videos, expected="a batch dict, a PackedClips")
        if not shapes:
            raise ValueError("BatchClipTransform: the batch holds no clips")
        frame_indices = subsample_rows(shapes, self.num_samples)
        sizes, crops, flips = self.draw_params([(s[2], s[3]) for s in shapes])
        return ops.clip_transform_batch(
            videos,
            layout="CTHW",
            frame_indices=frame_indices,
            sizes=sizes,
            crops=crops,
            flips=flips,
            scale=self.scale,
            mean=self.mean,
            std=self.std,
            antialias=self.antialias,
            out_dtype=self.out_dtype,
        )

    def extra_repr(self) -> str:
        return (
            f"crop_size={self.crop_size}, min_size={self.min_size}, max_size={self.max_size}, eval_size={self.eval_size}, "
            f"flip_p={self.flip_p}, flip_draw={self.flip_draw!r}, num_samples={self.num_samples}, "
            f"antialias={self.antialias}, out_dtype={self.out_dtype}"
        )
