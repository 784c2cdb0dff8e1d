"""How a run of clip steps becomes ONE :func:`fastvid.ops.clip_transform` call.

Each fusable step (:class:`ClipStep`) does not touch pixels: it edits a :class:`ClipState`, the description
of the clip that the steps so far would produce, drawing its random numbers exactly as the class it mirrors
does (same calls, same order, from the clip size it would see). :meth:`ClipState.run` then makes the single
kernel call. The state is always "source view -> keep frames -> resize -> crop -> flip -> affine":

* temporal subsampling composes frame indices (it commutes with every per-frame step);
* a crop before the resize slices the source view (no copy: the kernel reads any strides); a crop after it
  moves the kernel's crop window; under a pending flip the window is mirrored first;
* a flip toggles (bilinear resizing is symmetric, so resize and flip commute);
* Div255 / Normalize / ConvertUint8ToFloat compose a per-channel ``a * v + b`` on the raw values (bilinear
  weights sum to 1, so normalizing before or after the resize agrees up to float rounding: DESIGN.md 3);
* at most one resize per run: a second resize starts a new run (a resize of a resize is not one resize).

A clip that requires grad (with grad mode on) runs the same plan through :func:`fastvid.reference.clip_transform`
instead, whose PyTorch ops have a backward. uint8 input is treated as the float 0-255 clip: steps that only pick pixels (frames, crops, flips) keep
uint8 (the kernel copies exact values); anything that computes new values (resize, affine) gives float32.

The kernel takes (C, T, H, W) uint8 or float32 clips of 1 to 4 channels. On another tensor (a (B, C, T, H, W)
batch, float16 or float64, more channels) the steps that draw nothing (UniformTemporalSubsample, Div255, Normalize) run their plain
PyTorch ``fallback`` as the classes they mirror compute it, keeping the dtype; the others raise.
"""

from __future__ import annotations

import torch

from fastvid import ops, reference
from fastvid.transforms._checks import MAX_CHANNELS

__all__ = ["ClipState", "ClipStep", "FusedRun", "kernel_takes", "run_steps"]


class ClipState:
    """The clip that the steps applied so far describe, with its logical (C, T, H, W) size."""

    __slots__ = ("src", "channels", "t", "h", "w", "idx", "size", "crop", "flip", "alpha", "beta",
                 "to_float", "antialias", "touched")

    def __init__(self, video, owner: str):
        if not isinstance(video, torch.Tensor):
            raise TypeError(
                f"{owner}: the clip must be a torch.Tensor of shape (C, T, H, W), got {type(video).__name__}"
                + (" (a dict sample needs ApplyTransformToKey('video', ...))" if isinstance(video, dict) else "")
            )
        if video.dim() != 4:
            raise ValueError(f"{owner}: the clip must have shape (C, T, H, W), got shape {tuple(video.shape)}")
        if video.dtype not in (torch.uint8, torch.float32):
            raise TypeError(
                f"{owner}: the clip must be uint8 (0-255) or float32, got {video.dtype}; convert it with "
                f".to(torch.float32) first"
            )
        if not 1 <= video.shape[0] <= MAX_CHANNELS:
            hint = ""
            if 1 <= video.shape[1] <= MAX_CHANNELS:
                hint = " (a (T, C, H, W) clip? .permute(1, 0, 2, 3) makes it (C, T, H, W))"
            raise ValueError(
                f"{owner}: the clip must have shape (C, T, H, W) with 1 to {MAX_CHANNELS} channels, got shape "
                f"{tuple(video.shape)}{hint}"
            )
        if video.numel() == 0:
            raise ValueError(f"{owner}: the clip is empty (shape (C, T, H, W) = {tuple(video.shape)}): it needs at "
                             "least one frame of at least 1x1 pixels")
        self.src = video
        self.channels, self.t, self.h, self.w = (int(s) for s in video.shape)
        self.idx: torch.Tensor | None = None
        self.size: tuple[int, int] | None = None
        self.crop: tuple[int, int, int, int] | None = None
        self.flip = False
        self.alpha: list[float] | None = None
        self.beta: list[float] | None = None
        self.to_float = video.dtype != torch.uint8
        self.antialias = False
        self.touched = False

    # -- edits, in the coordinates of the current logical clip ------------------------------------------------

    def subsample(self, rel: torch.Tensor) -> None:
        """Keep frames ``rel`` (indices into the current T, repeats allowed)."""
        self.idx = rel if self.idx is None else self.idx.index_select(0, rel)
        self.t = int(rel.numel())
        self.touched = True

    def crop_window(self, top: int, left: int, height: int, width: int, owner: str) -> None:
        if top < 0 or left < 0 or height <= 0 or width <= 0 or top + height > self.h or left + width > self.w:
            raise ValueError(
                f"{owner}: crop (top={top}, left={left}, height={height}, width={width}) does not fit the "
                f"{self.h}x{self.w} frame it is applied to"
            )
        if self.flip:  # a window of the mirrored frame is the mirror of the mirrored window
            left = self.w - left - width
        if self.size is None:
            self.src = self.src[:, :, top : top + height, left : left + width]
        else:
            if self.crop is not None:
                top += self.crop[0]
                left += self.crop[1]
            self.crop = (top, left, height, width)
        self.h, self.w = height, width
        self.touched = True

    def resize(self, height: int, width: int, antialias: bool, owner: str) -> None:
        if self.size is not None:  # Compose never plans this; a hand-made run could
            raise RuntimeError(f"{owner}: a fused run can resize only once")
        self.size = (height, width)
        self.antialias = bool(antialias)
        self.h, self.w = height, width
        self.to_float = True
        self.touched = True

    def hflip(self) -> None:
        self.flip = not self.flip
        self.touched = True

    def affine(self, a, b, owner: str) -> None:
        """out = a[c] * v + b[c] applied after the steps so far (a, b: one value or one per channel)."""
        c = self.channels
        if len(a) not in (1, c) or len(b) not in (1, c):
            raise ValueError(
                f"{owner}: mean and std have {max(len(a), len(b))} values but the clip has {c} channels "
                f"(shape (C, T, H, W) = {(c, self.t, self.h, self.w)})"
            )
        a = list(a) * c if len(a) == 1 else list(a)
        b = list(b) * c if len(b) == 1 else list(b)
        if self.alpha is None:
            self.alpha, self.beta = a, b
        else:
            self.alpha = [ai * x for ai, x in zip(a, self.alpha)]
            self.beta = [ai * y + bi for ai, y, bi in zip(a, self.beta, b)]
        self.to_float = True
        self.touched = True

    # -- the one kernel call -----------------------------------------------------------------------------------

    def run(self) -> torch.Tensor:
        if not self.touched:
            return self.src
        if self.alpha is None:
            scale = mean = std = None
        else:  # the kernel computes v * (scale / std) + (-mean / std) in double, then float
            scale = 1.0
            std = [1.0 / a for a in self.alpha]
            mean = [-b / a for a, b in zip(self.alpha, self.beta)]
        # The kernel has no backward: a clip that needs a gradient takes the step-by-step PyTorch path (the
        # tests' oracle, same result within float rounding), through which autograd flows.
        run = reference.clip_transform if self.src.requires_grad and torch.is_grad_enabled() else ops.clip_transform
        return run(
            self.src,
            layout="CTHW",
            frame_indices=self.idx,
            size=self.size,
            crop=self.crop,
            flip=self.flip,
            scale=scale,
            mean=mean,
            std=std,
            antialias=self.antialias,
            out_dtype=torch.float32 if self.to_float else self.src.dtype,
        )


def kernel_takes(video) -> bool:
    """True for a tensor the fused kernel takes: (C, T, H, W), uint8 or float32, 1-4 channels, not empty."""
    return (
        isinstance(video, torch.Tensor)
        and video.dim() == 4
        and video.dtype in (torch.uint8, torch.float32)
        and 1 <= video.shape[0] <= MAX_CHANNELS
        and video.numel() > 0
    )


class ClipStep(torch.nn.Module):
    """Base of fastvid's fusable clip transforms: alone, a step is one kernel call; in a
    :class:`fastvid.transforms.Compose`, consecutive steps share one.

    Class attributes read by the planner: ``fusable`` (False: runs alone), ``resizes`` (at most one
    resizing step per fused run), ``converts`` (the output is float whatever the input; see
    :func:`fastvid.transforms.accepts_uint8`), ``frame_wise`` (works frame by frame with draws that do
    not depend on T; see :func:`fastvid.transforms.temporal_plan`), ``has_fallback`` (:meth:`fallback`
    computes the step in plain PyTorch on a tensor the kernel does not take), ``uint8_equivalent`` (False: the
    step gives another result on uint8 frames than on the float 0-255 clip, so a dataset must hand it floats).
    """

    resizes = False
    converts = False
    frame_wise = True
    fusable = True
    has_fallback = False
    uint8_equivalent = True

    def apply_to(self, state: ClipState) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def fallback(self, video: torch.Tensor) -> torch.Tensor:  # pragma: no cover - only when has_fallback
        """The step in plain PyTorch, as the class it mirrors computes it, on any tensor it accepts."""
        raise NotImplementedError

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        return run_steps((self,), video)

    def __call__(self, video):  # skip nn.Module hooks: these are data transforms, called per clip
        return self.forward(video)


def run_steps(steps, video) -> torch.Tensor:
    if isinstance(video, torch.Tensor) and not kernel_takes(video) and all(s.has_fallback for s in steps):
        for step in steps:
            video = step.fallback(video)
        return video
    state = ClipState(video, type(steps[0]).__name__ if len(steps) == 1 else "Compose")
    for step in steps:
        step.apply_to(state)
    return state.run()


class FusedRun:
    """A maximal run of fusable steps, executed as one clip_transform call."""

    def __init__(self, steps):
        self.steps = tuple(steps)

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        return run_steps(self.steps, video)

    def __repr__(self) -> str:
        return "clip_transform[" + " -> ".join(repr(s) for s in self.steps) + "]"
