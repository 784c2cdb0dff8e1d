"""The two classes of torchvision's ``torchvision.transforms._transforms_video`` that the rest of
:mod:`fastvid.transforms` does not have: :class:`ToTensorVideo` and :class:`RandomResizedCropVideo` (same names,
arguments, defaults, checks and random draws; ``from fastvid.transforms import ...``).

:class:`RandomResizedCropVideo` with ``interpolation_mode="bilinear"`` (the default) is a fusable step: crop of
the source, then one bilinear resize without antialias (``F.interpolate(align_corners=False)``, as torchvision's
``resized_crop``), in the fused kernel call of its :class:`~fastvid.transforms.Compose` run. uint8 clips are
taken as the float 0-255 clip (the result is float32).

:class:`ToTensorVideo` changes the layout ((T, H, W, C) uint8 in, (C, T, H, W) float32 out), which a fused run
cannot start from (a run's input is a (C, T, H, W) clip): it runs alone, in plain PyTorch, bit-identical to
torchvision's; the steps after it fuse as usual.

Differences on purpose: a frame too small for any box of the aspect ratios asked (the central crop would be
empty) raises ValueError (torchvision's RuntimeError came from F.interpolate); bad arguments fail at construction (a ``scale`` or ``ratio`` whose minimum is above
its maximum, which torchvision only rejects in ``uniform_`` on the first call; an ``interpolation_mode`` that
``F.interpolate`` refuses on a (C, T, H, W) clip with ``align_corners=False``: only "bilinear" and "bicubic"
run there); a ``generator`` may be given.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fastvid.transforms import _checks
from fastvid.transforms._fusion import ClipState, ClipStep, kernel_takes, run_steps
from fastvid.transforms.video import central_crop_box

__all__ = ["RandomResizedCropVideo", "ToTensorVideo"]

# F.interpolate modes that take a 4-D (C, T, H, W) clip with align_corners=False, as torchvision calls it
_INTERPOLATION_MODES = ("bilinear", "bicubic")


def _check_video_clip(owner: str, clip) -> None:
    """torchvision's _is_tensor_video_clip: a tensor (TypeError), of 4 dimensions (ValueError)."""
    if not torch.is_tensor(clip):
        raise TypeError(f"{owner}: clip should be Tensor. Got {type(clip)}")
    if clip.ndimension() != 4:
        raise ValueError(f"{owner}: clip should be 4D. Got {clip.dim()}D (shape {tuple(clip.shape)})")


class ToTensorVideo(torch.nn.Module):
    """torchvision's ToTensorVideo: a (T, H, W, C) uint8 clip -> (C, T, H, W) float32 in [0, 1] (``/ 255``).

    Raises TypeError for a non-tensor or a dtype other than uint8, ValueError for a tensor that is not 4-D (the
    checks of torchvision's ``to_tensor``). Plain PyTorch, bit-identical to torchvision's; not fused (see the
    module doc)."""

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        _check_video_clip("ToTensorVideo", clip)
        if clip.dtype != torch.uint8:
            raise TypeError(
                f"ToTensorVideo: clip tensor should have data type uint8. Got {clip.dtype} (it takes the (T, H, W, C) "
                "uint8 frames of a decoder)"
            )
        # the division of torchvision's clip.float().permute(3, 0, 1, 2) / 255.0, in place on the one new buffer
        return clip.permute(3, 0, 1, 2).to(torch.float32).div_(255.0)

    def __call__(self, clip):  # a data transform: skip nn.Module's hooks, as fastvid's other transforms
        return self.forward(clip)

    def __repr__(self) -> str:
        return "ToTensorVideo"


def _ordered_pair(owner: str, name: str, value, *, positive: bool) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise TypeError(f"{owner}: {name} must be a (min, max) pair of numbers, got {value!r}")
    lo, hi = (float(_checks.number(owner, name, v)) for v in value)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"{owner}: {name} must hold finite numbers, got {value!r}")
    if positive and not lo > 0:
        raise ValueError(f"{owner}: {name} must hold numbers > 0, got {value!r}")
    if not positive and lo < 0:
        raise ValueError(f"{owner}: {name} must hold numbers >= 0, got {value!r}")
    if lo > hi:
        raise ValueError(f"{owner}: {name} should be of kind (min, max), got {value!r}")
    return lo, hi


class RandomResizedCropVideo(ClipStep):
    """torchvision's RandomResizedCropVideo: a random box of relative area in ``scale`` and aspect ratio
    (log-uniform) in ``ratio``, drawn as torchvision's ``RandomResizedCrop.get_params`` draws it (up to 10 tries of
    ``torch.empty(1).uniform_`` for the area, then for the log-ratio, then ``torch.randint`` for the top and
    the left; a central crop when no try fits), cropped and resized to ``size`` with ``interpolation_mode``
    (``F.interpolate(align_corners=False)``). The result is float32 for uint8 and float32 input.

    "bilinear" is fused (one kernel call with its Compose run); "bicubic" runs in plain PyTorch, as do
    tensors the kernel does not take (float64, more than 4 channels), which keep their dtype.
    """

    resizes = True
    converts = True

    def __init__(
        self,
        size,
        scale=(0.08, 1.0),
        ratio=(3.0 / 4.0, 4.0 / 3.0),
        interpolation_mode: str = "bilinear",
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        name = "RandomResizedCropVideo"
        if isinstance(size, numbers.Number) and not isinstance(size, bool):
            self.size = _checks.size_pair(name, "size", size)
        elif isinstance(size, Sequence) and not isinstance(size, str) and len(size) == 2:
            self.size = _checks.size_pair(name, "size", tuple(size))
        else:
            raise ValueError(f"{name}: size should be an int or a tuple (height, width), instead got {size!r}")
        _ordered_pair(name, "scale", scale, positive=False)
        _ordered_pair(name, "ratio", ratio, positive=True)
        if interpolation_mode not in _INTERPOLATION_MODES:
            raise ValueError(
                f"{name}: interpolation_mode must be one of {_INTERPOLATION_MODES} (the modes torch.nn.functional."
                f"interpolate takes with align_corners=False on a (C, T, H, W) clip), got {interpolation_mode!r}"
            )
        self.scale = scale
        self.ratio = ratio
        self.interpolation_mode = interpolation_mode
        self.generator = _checks.generator(name, generator)
        self.fusable = interpolation_mode == "bilinear"

    @staticmethod
    def get_params(img: torch.Tensor, scale, ratio, *, generator: torch.Generator | None = None):
        """torchvision's ``RandomResizedCrop.get_params(img, scale, ratio)``: the crop box (top, left, height,
        width) for ``img``'s last two dims, with torchvision's draws."""
        return RandomResizedCropVideo._box(int(img.shape[-2]), int(img.shape[-1]), scale, ratio, generator)

    @staticmethod
    def _box(height: int, width: int, scale, ratio, g) -> tuple[int, int, int, int]:
        area = height * width
        log_ratio = torch.log(torch.tensor(ratio))
        for _ in range(10):
            target_area = area * torch.empty(1).uniform_(scale[0], scale[1], generator=g).item()
            aspect_ratio = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1], generator=g)).item()
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = torch.randint(0, height - h + 1, size=(1,), generator=g).item()
                j = torch.randint(0, width - w + 1, size=(1,), generator=g).item()
                return int(i), int(j), h, w
        if height == 0 or width == 0:
            raise ValueError(f"RandomResizedCropVideo: the frame is empty ({height}x{width}): no box fits it")
        i, j, h, w = central_crop_box(height, width, min(ratio), max(ratio))  # no try fitted
        if h == 0 or w == 0:  # torchvision fails later, in F.interpolate, on the empty box
            raise ValueError(
                f"RandomResizedCropVideo: no box of aspect ratio in ratio={tuple(ratio)} fits the {height}x{width} frame "
                f"(the central crop it falls back to would be {h}x{w} pixels)"
            )
        return i, j, h, w

    def apply_to(self, state: ClipState) -> None:
        i, j, h, w = self._box(state.h, state.w, self.scale, self.ratio, self.generator)
        state.crop_window(i, j, h, w, "RandomResizedCropVideo")
        state.resize(self.size[0], self.size[1], False, "RandomResizedCropVideo")

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        if self.fusable and kernel_takes(clip):
            return run_steps((self,), clip)
        _check_video_clip("RandomResizedCropVideo", clip)
        if clip.numel() == 0:
            raise ValueError(f"RandomResizedCropVideo: the clip is empty (shape {tuple(clip.shape)})")
        i, j, h, w = self.get_params(clip, self.scale, self.ratio, generator=self.generator)
        box = clip[..., i : i + h, j : j + w]
        if box.dtype == torch.uint8:  # taken as the float 0-255 clip, as everywhere in fastvid
            box = box.to(torch.float32)
        return F.interpolate(box, size=self.size, mode=self.interpolation_mode, align_corners=False)

    def __repr__(self) -> str:
        return (
            f"RandomResizedCropVideo(size={self.size}, interpolation_mode={self.interpolation_mode}, "
            f"scale={self.scale}, ratio={self.ratio})"
        )
