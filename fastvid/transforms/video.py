"""PyTorchVideo's and torchvision's clip transforms, same names, arguments and defaults, on the fused kernel.

Every class here takes a (C, T, H, W) clip, uint8 or float32. uint8 behaves exactly as the float 0-255 clip
that PyTorchVideo's decoders give (DESIGN.md), so a dataset may hand over the uint8 frames it decoded.
Alone, each class is one :func:`fastvid.ops.clip_transform` call; inside :class:`fastvid.transforms.Compose`
consecutive classes share one call. Random draws are the calls of the class mirrored (torch.randint,
torch.rand, or Python's ``random.random`` for torchvision's RandomHorizontalFlipVideo), in the same order.
UniformTemporalSubsampleRepeated, ConvertFloatToUint8, Permute, MoveChannelRear and MoveChannelFront are plain
modules (no kernel call) that take the tensors their PyTorchVideo namesakes take.

Differences from the originals, on purpose: bad arguments fail at construction; a crop that does not fit
raises ValueError (PyTorchVideo's UniformCropVideo silently returned a smaller clip, torchvision's
CenterCrop padded with zeros); ``inplace=True`` of Normalize / NormalizeVideo is accepted and ignored
(the result is always a new tensor); only bilinear interpolation with the "pytorch" backend exists.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import torch

from fastvid import reference
from fastvid.transforms import _checks
from fastvid.transforms._fusion import ClipState, ClipStep, run_steps

__all__ = [
    "UniformTemporalSubsample",
    "UniformTemporalSubsampleRepeated",
    "ShortSideScale",
    "RandomShortSideScale",
    "Normalize",
    "NormalizeVideo",
    "Div255",
    "ConvertUint8ToFloat",
    "ConvertFloatToUint8",
    "Permute",
    "MoveChannelRear",
    "MoveChannelFront",
    "RandomResizedCrop",
    "CenterCropVideo",
    "RandomCropVideo",
    "RandomHorizontalFlipVideo",
    "CenterCrop",
    "RandomCrop",
    "RandomHorizontalFlip",
]


def _randint(low: int, high: int, generator) -> int:
    return int(torch.randint(low, high, (1,), generator=generator).item())


def _rand(generator) -> float:
    return float(torch.rand(1, generator=generator).item())


# ---------------------------------------------------------------------------------------------------------------
# time


class UniformTemporalSubsample(ClipStep):
    """Keeps ``num_samples`` evenly spaced frames (PyTorchVideo): ``clamp(linspace(0, T-1, n), 0, T-1).long()``
    in float32, repeating frames when n > T. On uint8 input the result stays uint8.

    ``temporal_dim`` -3 (or 1) is the T of a (C, T, H, W) clip, fused with the other steps; any other dim
    (e.g. -1 of an audio waveform), and tensors the kernel does not take (another rank or dtype), are
    subsampled with ``index_select`` as PyTorchVideo does, keeping the dtype. The dataset decodes only the
    kept frames (:func:`fastvid.transforms.temporal_plan`) for the fused form only.
    """

    def __init__(self, num_samples: int, temporal_dim: int = -3):
        super().__init__()
        self._num_samples = _checks.positive_int("UniformTemporalSubsample", "num_samples", num_samples)
        self._temporal_dim = _checks.integer("UniformTemporalSubsample", "temporal_dim", temporal_dim)
        # Any dim but the T of (C, T, H, W) runs alone, in plain PyTorch.
        self.fusable = self._temporal_dim in (-3, 1)

    has_fallback = True

    @property
    def num_samples(self) -> int:
        return self._num_samples

    @property
    def temporal_dim(self) -> int:
        return self._temporal_dim

    def apply_to(self, state: ClipState) -> None:
        state.subsample(reference.uniform_temporal_subsample_indices(state.t, self._num_samples))

    def fallback(self, video: torch.Tensor) -> torch.Tensor:
        return _uniform_subsample("UniformTemporalSubsample", video, self._num_samples, self._temporal_dim)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        if not self.fusable and isinstance(video, torch.Tensor):
            return self.fallback(video)
        return super().forward(video)

    def __repr__(self) -> str:
        dim = "" if self._temporal_dim == -3 else f", temporal_dim={self._temporal_dim}"
        return f"UniformTemporalSubsample({self._num_samples}{dim})"


def _temporal_dim(owner: str, x, temporal_dim) -> int:
    """``temporal_dim`` of tensor ``x`` as a non-negative dim, checked."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{owner}: the video must be a torch.Tensor, got {type(x).__name__}")
    _checks.integer(owner, "temporal_dim", temporal_dim)
    if not -x.dim() <= temporal_dim < x.dim():
        raise ValueError(
            f"{owner}: temporal_dim {temporal_dim} is out of range for a tensor of shape {tuple(x.shape)}"
        )
    return int(temporal_dim) % x.dim()


def _uniform_subsample(owner: str, x: torch.Tensor, num_samples: int, temporal_dim: int) -> torch.Tensor:
    """PyTorchVideo's uniform_temporal_subsample on any tensor: ``index_select`` of the kept frames, dtype kept
    (a plain gather: faster than a kernel call for this alone)."""
    dim = _temporal_dim(owner, x, temporal_dim)
    t = int(x.shape[dim])
    if t == 0:
        raise ValueError(f"{owner}: the video has no frames along temporal_dim {temporal_dim} (shape {tuple(x.shape)})")
    idx = reference.uniform_temporal_subsample_indices(t, num_samples)
    return x.index_select(dim, idx.to(x.device))


def _frame_ratios(owner: str, value) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{owner}: frame_ratios must be a sequence of positive ints, got {value!r}")
    if len(value) == 0:
        raise ValueError(f"{owner}: frame_ratios must hold at least one ratio, got {value!r}")
    return tuple(_checks.positive_int(owner, "frame_ratios", r) for r in value)


def _subsample_repeated(owner: str, frames, frame_ratios, temporal_dim) -> list[torch.Tensor]:
    """One uniformly subsampled copy per ratio r, of ``T // r`` frames (PyTorchVideo's SlowFast pathways)."""
    dim = _temporal_dim(owner, frames, temporal_dim)
    t = int(frames.shape[dim])
    for r in frame_ratios:
        if t // r == 0:
            raise ValueError(
                f"{owner}: frame ratio {r} keeps {t} // {r} = 0 of the {t} frames along temporal_dim "
                f"{temporal_dim} (shape {tuple(frames.shape)})"
            )
    return [_uniform_subsample(owner, frames, t // r, dim) for r in frame_ratios]


class UniformTemporalSubsampleRepeated(torch.nn.Module):
    """PyTorchVideo's UniformTemporalSubsampleRepeated: a list with, for each ratio r of ``frame_ratios``,
    UniformTemporalSubsample(T // r) of the clip (e.g. SlowFast's slow and fast pathways), dtype kept.

    A list comes out, so it ends a fused run of :class:`fastvid.transforms.Compose`."""

    def __init__(self, frame_ratios: Sequence[int], temporal_dim: int = -3):
        super().__init__()
        name = "UniformTemporalSubsampleRepeated"
        self._frame_ratios = _frame_ratios(name, frame_ratios)
        _checks.integer(name, "temporal_dim", temporal_dim)
        self._temporal_dim = int(temporal_dim)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return _subsample_repeated("UniformTemporalSubsampleRepeated", x, self._frame_ratios, self._temporal_dim)

    def __repr__(self) -> str:
        dim = "" if self._temporal_dim == -3 else f", temporal_dim={self._temporal_dim}"
        return f"UniformTemporalSubsampleRepeated({self._frame_ratios}{dim})"


# ---------------------------------------------------------------------------------------------------------------
# resize


class ShortSideScale(ClipStep):
    """Scales the short side to ``size`` (PyTorchVideo): (floor(h / w * size), size) when w < h, else
    (size, floor(w / h * size)); bilinear, align_corners=False. ``antialias=True`` gives torchvision v2's
    antialiased downscaling instead (off by default, as PyTorchVideo). The result is float32."""

    resizes = True
    converts = True

    def __init__(
        self, size: int, interpolation: str = "bilinear", backend: str = "pytorch", *, antialias: bool = False
    ):
        super().__init__()
        self._size = _checks.positive_size("ShortSideScale", "size", size)
        self._interpolation = _checks.interpolation("ShortSideScale", interpolation)
        self._backend = _checks.backend("ShortSideScale", backend)
        self._antialias = bool(antialias)

    def apply_to(self, state: ClipState) -> None:
        h, w = reference.short_side_scale_size(state.h, state.w, self._size)
        state.resize(h, w, self._antialias, "ShortSideScale")

    def __repr__(self) -> str:
        return f"ShortSideScale({self._size}" + (", antialias=True)" if self._antialias else ")")


class RandomShortSideScale(ClipStep):
    """ShortSideScale to ``size = torch.randint(min_size, max_size + 1, (1,))`` (PyTorchVideo)."""

    resizes = True
    converts = True

    def __init__(
        self,
        min_size: int,
        max_size: int,
        interpolation: str = "bilinear",
        backend: str = "pytorch",
        *,
        antialias: bool = False,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        name = "RandomShortSideScale"
        self._min_size = _checks.positive_size(name, "min_size", min_size)
        self._max_size = _checks.positive_size(name, "max_size", max_size)
        if self._min_size > self._max_size:
            raise ValueError(f"{name}: min_size must be <= max_size, got min_size={min_size}, max_size={max_size}")
        self._interpolation = _checks.interpolation(name, interpolation)
        self._backend = _checks.backend(name, backend)
        self._antialias = bool(antialias)
        self.generator = _checks.generator(name, generator)

    def apply_to(self, state: ClipState) -> None:
        size = _randint(self._min_size, self._max_size + 1, self.generator)
        h, w = reference.short_side_scale_size(state.h, state.w, size)
        state.resize(h, w, self._antialias, "RandomShortSideScale")

    def __repr__(self) -> str:
        return f"RandomShortSideScale({self._min_size}, {self._max_size}" + (
            ", antialias=True)" if self._antialias else ")"
        )


def _spatial_crop_params(scale, ratio, height, width, log_uniform_ratio, num_tries, generator):
    """PyTorchVideo's Inception-style crop box (i, j, h, w), with its torch.rand / torch.randint draws."""
    lo_s, hi_s = min(scale), max(scale)
    lo_r, hi_r = min(ratio), max(ratio)
    area = height * width
    for _ in range(num_tries):
        target_area = area * (lo_s + _rand(generator) * (hi_s - lo_s))
        if log_uniform_ratio:
            lo, hi = math.log(lo_r), math.log(hi_r)
            aspect = math.exp(lo + _rand(generator) * (hi - lo))
        else:
            aspect = lo_r + _rand(generator) * (hi_r - lo_r)
        w = int(round(math.sqrt(target_area * aspect)))
        h = int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            i = _randint(0, height - h + 1, generator)
            j = _randint(0, width - w + 1, generator)
            return i, j, h, w
    return central_crop_box(height, width, lo_r, hi_r)


def central_crop_box(height: int, width: int, lo_ratio: float, hi_ratio: float) -> tuple[int, int, int, int]:
    """The Inception-style crop's fallback when no random box fitted (PyTorchVideo's and torchvision's): the
    whole frame, narrowed to the nearest aspect ratio in [lo_ratio, hi_ratio], centred. (i, j, h, w)."""
    in_ratio = float(width) / float(height)
    if in_ratio < lo_ratio:
        w = width
        h = int(round(w / lo_ratio))
    elif in_ratio > hi_ratio:
        h = height
        w = int(round(h * hi_ratio))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


class RandomResizedCrop(ClipStep):
    """PyTorchVideo's Inception-style crop: a random box of relative area in ``scale`` and aspect ratio in
    ``aspect_ratio``, resized to (target_height, target_width) (crop, then bilinear resize of the box).
    With ``shift=True`` a second box is drawn and each frame gets the box interpolated between the two
    (one kernel call per frame; it then does not fuse with its neighbours)."""

    resizes = True
    converts = True

    def __init__(
        self,
        target_height: int,
        target_width: int,
        scale: tuple[float, float],
        aspect_ratio: tuple[float, float],
        shift: bool = False,
        log_uniform_ratio: bool = True,
        interpolation: str = "bilinear",
        num_tries: int = 10,
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        name = "RandomResizedCrop"
        self._target_height = _checks.positive_size(name, "target_height", target_height)
        self._target_width = _checks.positive_size(name, "target_width", target_width)
        self._scale = _checks.float_range(name, "scale", scale, positive=True)
        self._aspect_ratio = _checks.float_range(name, "aspect_ratio", aspect_ratio, positive=True)
        self._shift = bool(shift)
        self._log_uniform_ratio = bool(log_uniform_ratio)
        self._interpolation = _checks.interpolation(name, interpolation)
        self._num_tries = _checks.positive_int(name, "num_tries", num_tries)
        self.generator = _checks.generator(name, generator)
        # the shifted variant crops every frame differently: not expressible as one kernel call
        self.fusable = not self._shift
        self.frame_wise = not self._shift

    def _box(self, height: int, width: int):
        return _spatial_crop_params(
            self._scale, self._aspect_ratio, height, width, self._log_uniform_ratio, self._num_tries, self.generator
        )

    def apply_to(self, state: ClipState) -> None:
        i, j, h, w = self._box(state.h, state.w)
        state.crop_window(i, j, h, w, "RandomResizedCrop")
        state.resize(self._target_height, self._target_width, False, "RandomResizedCrop")

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        if not self._shift:
            return run_steps((self,), video)
        state = ClipState(video, "RandomResizedCrop")  # validates the clip
        t, height, width = state.t, state.h, state.w
        first = self._box(height, width)
        last = self._box(height, width)
        # PyTorchVideo: int() of torch.linspace(first, last, steps=T) for each of i, j, h, w
        boxes = [[int(v) for v in torch.linspace(a, b, steps=t).tolist()] for a, b in zip(first, last)]
        out = torch.empty(
            (state.channels, t, self._target_height, self._target_width), dtype=torch.float32, device=video.device
        )
        for f in range(t):
            i, j, h, w = (boxes[k][f] for k in range(4))
            frame = video[:, f : f + 1, i : i + h, j : j + w]
            out[:, f : f + 1] = run_steps((_Resize(self._target_height, self._target_width),), frame)
        return out

    def __repr__(self) -> str:
        return (
            f"RandomResizedCrop({self._target_height}, {self._target_width}, scale={self._scale}, "
            f"aspect_ratio={self._aspect_ratio}" + (", shift=True)" if self._shift else ")")
        )


class _Resize(ClipStep):
    """Plain bilinear resize to (height, width): the per-frame step of RandomResizedCrop(shift=True)."""

    resizes = True
    converts = True

    def __init__(self, height: int, width: int):
        super().__init__()
        self._hw = (height, width)

    def apply_to(self, state: ClipState) -> None:
        state.resize(self._hw[0], self._hw[1], False, "RandomResizedCrop")

    def __repr__(self) -> str:
        return f"Resize({self._hw})"


# ---------------------------------------------------------------------------------------------------------------
# values


class Normalize(ClipStep):
    """(x - mean[c]) / std[c] on a (C, T, H, W) clip (PyTorchVideo's Normalize). uint8 input is taken as
    the float 0-255 clip. ``inplace`` is accepted for compatibility and ignored. The result is float32."""

    converts = True

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        super().__init__()
        self.mean, self.std = _checks.mean_std(type(self).__name__, mean, std)
        self.inplace = bool(inplace)

    has_fallback = True

    def apply_to(self, state: ClipState) -> None:
        state.affine([1.0 / s for s in self.std], [-m / s for m, s in zip(self.mean, self.std)], type(self).__name__)

    def fallback(self, video: torch.Tensor) -> torch.Tensor:
        # (x - mean) / std in the clip's own floating dtype, per channel of a (C, T, H, W) clip
        if video.dim() != 4 or not video.is_floating_point():
            ClipState(video, type(self).__name__)  # raises the error that names what came
        c = video.shape[0]
        if len(self.mean) not in (1, c):
            raise ValueError(
                f"{type(self).__name__}: mean and std have {len(self.mean)} values but the clip has {c} channels "
                f"(shape (C, T, H, W) = {tuple(video.shape)})"
            )
        mean = torch.as_tensor(self.mean, dtype=video.dtype, device=video.device).view(-1, 1, 1, 1)
        std = torch.as_tensor(self.std, dtype=video.dtype, device=video.device).view(-1, 1, 1, 1)
        return (video - mean) / std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class NormalizeVideo(Normalize):
    """torchvision's NormalizeVideo: (x - mean[c]) / std[c] on a (C, T, H, W) clip."""


class Div255(ClipStep):
    """x / 255 (PyTorchVideo's Div255). The result is float32."""

    converts = True
    has_fallback = True

    def apply_to(self, state: ClipState) -> None:
        state.affine([1.0 / 255.0], [0.0], "Div255")

    def fallback(self, video: torch.Tensor) -> torch.Tensor:
        return video / 255.0  # any shape; floating dtypes are kept, integers give float32

    def __repr__(self) -> str:
        return "Div255()"


class ConvertUint8ToFloat(ClipStep):
    """uint8 0-255 -> float32 0-1 (PyTorchVideo's ConvertUint8ToFloat, i.e. x / 255).

    A float input is taken as the float 0-255 clip that PyTorchVideo's (and fastvid's) decoders give and is
    divided by 255 too, so ``create_video_transform`` works on float samples (PyTorchVideo raised
    "image must have dtype torch.uint8" there: its issue 123)."""

    converts = True

    def apply_to(self, state: ClipState) -> None:
        state.affine([1.0 / 255.0], [0.0], "ConvertUint8ToFloat")

    def __repr__(self) -> str:
        return "ConvertUint8ToFloat()"


class ConvertFloatToUint8(torch.nn.Module):
    """float 0-1 -> uint8 (PyTorchVideo's ConvertFloatToUint8, i.e. torchvision's ConvertImageDtype(uint8)):
    ``x * 255.999`` truncated to uint8, on any float32 or float16 tensor (values outside [0, 1] are not
    clamped, as there). Other dtypes raise TypeError (PyTorchVideo asserted)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"ConvertFloatToUint8: the video must be a torch.Tensor, got {type(x).__name__}")
        if x.dtype not in (torch.float32, torch.float16):
            raise TypeError(f"ConvertFloatToUint8: the video must be float32 or float16 (0-1 values), got {x.dtype}")
        # torchvision's float -> int rule: scale by (max + 1 - eps) so that [0, 1] spreads evenly over 0..255
        return x.mul(255.0 + 1.0 - 1e-3).to(torch.uint8)

    def __repr__(self) -> str:
        return "ConvertFloatToUint8()"


# ---------------------------------------------------------------------------------------------------------------
# crops and flips


def _check_center(owner: str, state: ClipState, th: int, tw: int) -> None:
    if state.h < th or state.w < tw:
        raise ValueError(f"{owner}: crop size {(th, tw)} is larger than the {state.h}x{state.w} frame")


class CenterCropVideo(ClipStep):
    """torchvision's CenterCropVideo: top = int(round((H - th) / 2.0)), left likewise."""

    def __init__(self, crop_size):
        super().__init__()
        self.crop_size = _checks.size_pair(type(self).__name__, "crop_size", crop_size)

    def apply_to(self, state: ClipState) -> None:
        th, tw = self.crop_size
        _check_center(type(self).__name__, state, th, tw)
        top = int(round((state.h - th) / 2.0))
        left = int(round((state.w - tw) / 2.0))
        state.crop_window(top, left, th, tw, type(self).__name__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.crop_size})"


class CenterCrop(CenterCropVideo):
    """torchvision's CenterCrop on a (C, T, H, W) clip (used by ``create_video_transform``); a crop larger
    than the frame raises ValueError instead of padding."""

    def __init__(self, size):
        super().__init__(size)

    @property
    def size(self):
        return self.crop_size


class RandomCropVideo(ClipStep):
    """torchvision's RandomCropVideo: top = torch.randint(0, H - th + 1, (1,)), then left likewise; no draw
    when the frame already has the crop's size."""

    def __init__(self, size, *, generator: torch.Generator | None = None):
        super().__init__()
        name = type(self).__name__
        self.size = _checks.size_pair(name, "size", size)
        self.generator = _checks.generator(name, generator)

    def apply_to(self, state: ClipState) -> None:
        th, tw = self.size
        name = type(self).__name__
        if state.h < th or state.w < tw:
            raise ValueError(f"{name}: required crop size {(th, tw)} is larger than the {state.h}x{state.w} frame")
        if state.h == th and state.w == tw:
            top = left = 0
        else:
            top = _randint(0, state.h - th + 1, self.generator)
            left = _randint(0, state.w - tw + 1, self.generator)
        state.crop_window(top, left, th, tw, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.size})"


class RandomCrop(RandomCropVideo):
    """torchvision's RandomCrop(size) on a (C, T, H, W) clip (same draws as RandomCropVideo); padding
    options are not offered."""


class RandomHorizontalFlipVideo(ClipStep):
    """torchvision's RandomHorizontalFlipVideo: flips the width of the whole clip when
    ``random.random() < p`` (Python's ``random``, as torchvision draws)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = _checks.probability(type(self).__name__, "p", p)

    def _draw(self) -> bool:
        return random.random() < self.p

    def apply_to(self, state: ClipState) -> None:
        if self._draw():
            state.hflip()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(RandomHorizontalFlipVideo):
    """torchvision's RandomHorizontalFlip on a (C, T, H, W) clip: flips when ``torch.rand(1) < p``."""

    def __init__(self, p: float = 0.5, *, generator: torch.Generator | None = None):
        super().__init__(p)
        self.generator = _checks.generator("RandomHorizontalFlip", generator)

    def _draw(self) -> bool:
        # A float32 tensor compare, as torchvision: p is rounded to float32 first, so comparing the
        # drawn value as a Python float could differ (e.g. p=0.7 and a draw of float32(0.7)).
        return bool(torch.rand(1, generator=self.generator) < self.p)


# ---------------------------------------------------------------------------------------------------------------
# layout


class Permute(torch.nn.Module):
    """Permutes the dimensions of the clip (PyTorchVideo): a view, no kernel call; it ends a fused run."""

    def __init__(self, dims: Sequence[int]):
        super().__init__()
        try:
            dims = tuple(int(d) for d in dims)
        except (TypeError, ValueError):
            raise TypeError(f"Permute: dims must be a sequence of ints, got {dims!r}") from None
        if sorted(dims) != list(range(len(dims))):
            raise ValueError(f"Permute: dims must be a permutation of 0..{len(dims) - 1}, got {dims!r}")
        self._dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != len(self._dims):
            raise ValueError(
                f"Permute: dims {self._dims} need a {len(self._dims)}-D tensor, got shape {tuple(x.shape)}"
            )
        return x.permute(*self._dims)

    def __repr__(self) -> str:
        return f"Permute({self._dims})"


class _MoveChannel(Permute):
    """A fixed Permute of a 4-D video (a view, no kernel call)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{type(self).__name__}: the video must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() != 4:
            raise ValueError(f"{type(self).__name__}: the video must be a 4-D tensor, got shape {tuple(x.shape)}")
        return x.permute(*self._dims)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MoveChannelRear(_MoveChannel):
    """(C, T, H, W) -> (T, H, W, C) (PyTorchVideo's MoveChannelRear): the view Permute((1, 2, 3, 0)) gives."""

    def __init__(self):
        super().__init__((1, 2, 3, 0))


class MoveChannelFront(_MoveChannel):
    """(T, H, W, C) -> (C, T, H, W) (PyTorchVideo's MoveChannelFront): the view Permute((3, 0, 1, 2)) gives."""

    def __init__(self):
        super().__init__((3, 0, 1, 2))
