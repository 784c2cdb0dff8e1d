"""PyTorchVideo's ``pytorchvideo.transforms.functional``: same names, arguments, defaults, results and draws.

Change ``from pytorchvideo.transforms.functional import ...`` to ``from fastvid.transforms.functional import ...``.

* Where the fused kernel computes the same thing (bilinear resizes of a float32 (C, T, H, W) clip with 1 to 4
  channels: :func:`short_side_scale`, :func:`random_resized_crop`), the function runs on it, as the classes
  :class:`~fastvid.transforms.ShortSideScale` / :class:`~fastvid.transforms.RandomResizedCrop` do (equal to
  ``torch.nn.functional.interpolate`` up to float rounding). Everything else is the plain PyTorch that
  PyTorchVideo runs, so dtypes and values are PyTorchVideo's: e.g. :func:`random_resized_crop` of a uint8 clip
  gives uint8 (torch's own uint8 resize), :func:`uniform_crop` returns a view of the input, and
  :func:`uniform_temporal_subsample` is an ``index_select`` (a plain gather is faster than a kernel call here).
* Random draws are PyTorchVideo's calls in its order: ``torch.rand`` / ``torch.randint`` for
  :func:`random_resized_crop` and :func:`random_short_side_scale_with_boxes`, NumPy's global
  ``np.random.randint`` / ``np.random.uniform`` for :func:`random_crop_with_boxes` and
  :func:`horizontal_flip_with_boxes`, so the same seeds give the same results.
* Boxes are (N, 4) ``[x1, y1, x2, y2]`` rows (more columns are carried along), a torch.Tensor or a NumPy array;
  the result has the input's type and dtype.

Differences from PyTorchVideo, on purpose: bad arguments raise ValueError / TypeError naming the argument
(PyTorchVideo asserted, or failed further down); a crop larger than the frame raises ValueError
(PyTorchVideo returned a smaller or shifted clip); the boxes are never modified in place
(``short_side_scale_with_boxes`` scaled the caller's boxes in place); ``random_crop_with_boxes`` returns
(images, boxes) also when the frame already has the crop's size (PyTorchVideo returned the images alone there);
``random_resized_crop(shift=True)`` returns its float32 result on the input's device (PyTorchVideo: on the CPU);
only the "pytorch" backend exists (PyTorchVideo's "opencv" needs cv2). ``short_side_scale`` takes, as
PyTorchVideo's, float32 only (the :class:`~fastvid.transforms.ShortSideScale` class takes uint8 too).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from fastvid import reference
from fastvid._ext import build_info
from fastvid.transforms import _checks
from fastvid.transforms._fusion import kernel_takes
from fastvid.transforms.mix import convert_to_one_hot
from fastvid.transforms.video import (
    RandomResizedCrop,
    ShortSideScale,
    _frame_ratios,
    _spatial_crop_params,
    _subsample_repeated,
    _uniform_subsample,
)

__all__ = [
    "uniform_temporal_subsample",
    "uniform_temporal_subsample_repeated",
    "short_side_scale",
    "uniform_crop",
    "random_resized_crop",
    "div_255",
    "convert_to_one_hot",
    "short_side_scale_with_boxes",
    "random_short_side_scale_with_boxes",
    "random_crop_with_boxes",
    "uniform_crop_with_boxes",
    "horizontal_flip_with_boxes",
    "clip_boxes_to_image",
    "crop_boxes",
]

# The modes torch.nn.functional.interpolate takes on a 4-D tensor (PyTorchVideo passes the name through).
_RESIZE_MODES = ("bilinear", "bicubic", "nearest", "nearest-exact", "area")
# short_side_scale also passes align_corners=False, which torch accepts only for these.
_SHORT_SIDE_MODES = ("bilinear", "bicubic")


# ---------------------------------------------------------------------------------------------------------------
# argument checks


def _clip(owner: str, name: str, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{owner}: {name} must be a torch.Tensor of shape (C, T, H, W), got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"{owner}: {name} must have shape (C, T, H, W), got shape {tuple(x.shape)}")
    return x


def _nonempty_frame(owner: str, name: str, x: torch.Tensor) -> None:
    if x.shape[2] == 0 or x.shape[3] == 0:
        raise ValueError(f"{owner}: {name} must have frames of at least 1x1 pixels, got shape {tuple(x.shape)}")


def _mode(owner: str, interpolation, allowed: tuple[str, ...]) -> str:
    if interpolation not in allowed:
        raise ValueError(f"{owner}: interpolation must be one of {allowed}, got {interpolation!r}")
    return interpolation


def _flag(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def _boxes(owner: str, boxes, *, floating: bool = False):
    """Checks (N, 4) boxes, a torch.Tensor or NumPy array of a real dtype (floating when ``floating``)."""
    if isinstance(boxes, torch.Tensor):
        is_float = boxes.is_floating_point()
        is_real = is_float or not (boxes.dtype == torch.bool or boxes.is_complex())
    elif isinstance(boxes, np.ndarray):
        is_float = boxes.dtype.kind == "f"
        is_real = boxes.dtype.kind in "fiu"
    else:
        raise TypeError(
            f"{owner}: boxes must be a torch.Tensor or a NumPy array of shape (N, 4), got {type(boxes).__name__}"
        )
    if floating and not is_float:
        raise TypeError(
            f"{owner}: boxes must have a floating dtype (PyTorchVideo scales them in place, which fails for "
            f"integers), got {boxes.dtype}"
        )
    if not is_real:
        raise TypeError(f"{owner}: boxes must have an integer or floating dtype, got {boxes.dtype}")
    if boxes.ndim != 2 or boxes.shape[1] < 4:
        raise ValueError(
            f"{owner}: boxes must have shape (N, 4) (x1, y1, x2, y2 rows), got shape {tuple(boxes.shape)}"
        )


def _copy(boxes):
    return boxes.clone() if isinstance(boxes, torch.Tensor) else boxes.copy()


@functools.cache
def _kernel_on(device_type: str) -> bool:
    return device_type == "cpu" or (device_type == "cuda" and build_info()["cuda"])


def _on_kernel(x: torch.Tensor) -> bool:
    """True when the fused kernel computes what torch would for ``x``: a (C, T, H, W) uint8/float32 clip with
    1-4 channels and no empty dim, on a device the extension was built for, that needs no gradient (the kernel
    has none; torch's resize does)."""
    return kernel_takes(x) and not x.requires_grad and _kernel_on(x.device.type)


# ---------------------------------------------------------------------------------------------------------------
# time


def uniform_temporal_subsample(x: torch.Tensor, num_samples: int, temporal_dim: int = -3) -> torch.Tensor:
    """``num_samples`` evenly spaced frames of ``x`` along ``temporal_dim``: indices
    ``clamp(linspace(0, T - 1, num_samples), 0, T - 1).long()`` (float32 linspace; frames repeat when
    num_samples > T). Any tensor and dtype; the dtype is kept."""
    owner = "uniform_temporal_subsample"
    num_samples = _checks.positive_int(owner, "num_samples", num_samples)
    return _uniform_subsample(owner, x, num_samples, temporal_dim)


def uniform_temporal_subsample_repeated(
    frames: torch.Tensor, frame_ratios: Sequence[int], temporal_dim: int = -3
) -> list[torch.Tensor]:
    """A list with ``uniform_temporal_subsample(frames, T // r, temporal_dim)`` for each ratio r (SlowFast's
    pathways). A ratio that keeps no frame (T // r == 0) raises ValueError."""
    owner = "uniform_temporal_subsample_repeated"
    return _subsample_repeated(owner, frames, _frame_ratios(owner, frame_ratios), temporal_dim)


# ---------------------------------------------------------------------------------------------------------------
# space


def _check_scalable(owner: str, name: str, x, interpolation, backend) -> None:
    _clip(owner, name, x)
    if x.dtype != torch.float32:
        raise TypeError(
            f"{owner}: {name} must be a float32 clip (as PyTorchVideo's short_side_scale requires), got {x.dtype}; "
            f"convert it with .float(), or use fastvid.transforms.ShortSideScale, which takes uint8 too"
        )
    _mode(owner, interpolation, _SHORT_SIDE_MODES)
    _checks.backend(owner, backend)
    _nonempty_frame(owner, name, x)


def _short_side_scale(x: torch.Tensor, size: int, interpolation: str) -> torch.Tensor:
    if interpolation == "bilinear" and _on_kernel(x):
        return ShortSideScale(size)(x)
    new_h, new_w = reference.short_side_scale_size(int(x.shape[2]), int(x.shape[3]), size)
    return F.interpolate(x, size=(new_h, new_w), mode=interpolation, align_corners=False)


def short_side_scale(
    x: torch.Tensor, size: int, interpolation: str = "bilinear", backend: str = "pytorch"
) -> torch.Tensor:
    """Resizes a float32 (C, T, H, W) clip so that its short side is ``size``: (floor(H / W * size), size) when
    W < H, else (size, floor(W / H * size)); ``interpolation`` "bilinear" (the fused kernel) or "bicubic",
    align_corners=False. uint8 raises TypeError, as PyTorchVideo's asserts float32."""
    owner = "short_side_scale"
    size = _checks.positive_size(owner, "size", size)
    _check_scalable(owner, "x", x, interpolation, backend)
    return _short_side_scale(x, size, interpolation)


def _uniform_crop(owner: str, images, size, spatial_idx):
    _clip(owner, "images", images)
    size = _checks.positive_int(owner, "size", size)
    if isinstance(spatial_idx, torch.Tensor) and spatial_idx.numel() == 1:
        spatial_idx = spatial_idx.item()
    if isinstance(spatial_idx, bool) or spatial_idx not in (0, 1, 2):
        raise ValueError(f"{owner}: spatial_idx must be 0, 1 or 2, got {spatial_idx!r}")
    top, left, _, _ = reference.uniform_crop_box(
        int(images.shape[2]), int(images.shape[3]), size, int(spatial_idx), owner=owner
    )
    return images[:, :, top : top + size, left : left + size], left, top


def uniform_crop(images: torch.Tensor, size: int, spatial_idx: int) -> torch.Tensor:
    """A ``size`` x ``size`` crop of a (C, T, H, W) clip, centred at (ceil((H - size) / 2), ceil((W - size) / 2));
    ``spatial_idx`` 0 / 2 moves it to the start / end of the longer side (H when H > W, else W). Returns a view
    of ``images`` (any dtype), as PyTorchVideo's."""
    return _uniform_crop("uniform_crop", images, size, spatial_idx)[0]


def random_resized_crop(
    frames: torch.Tensor,
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
) -> torch.Tensor:
    """Inception-style random crop of a (C, T, H, W) clip resized to (target_height, target_width), drawn as
    PyTorchVideo draws it (torch.rand for area and ratio, torch.randint for the corner; central crop after
    ``num_tries`` misses). ``shift=True`` draws a second box and gives frame t the box interpolated between the
    two (``int`` of ``torch.linspace``); its result is float32, as PyTorchVideo's. Otherwise the dtype is the
    one ``torch.nn.functional.interpolate`` keeps (uint8 stays uint8). Float32 bilinear runs on the fused kernel.
    ``generator`` (keyword-only) draws from a CPU torch.Generator instead of torch's global one."""
    owner = "random_resized_crop"
    _clip(owner, "frames", frames)
    target_height = _checks.positive_size(owner, "target_height", target_height)
    target_width = _checks.positive_size(owner, "target_width", target_width)
    scale = _checks.float_range(owner, "scale", scale, positive=True)
    aspect_ratio = _checks.float_range(owner, "aspect_ratio", aspect_ratio, positive=True)
    shift = _flag(owner, "shift", shift)
    log_uniform_ratio = _flag(owner, "log_uniform_ratio", log_uniform_ratio)
    _mode(owner, interpolation, _RESIZE_MODES)
    num_tries = _checks.positive_int(owner, "num_tries", num_tries)
    generator = _checks.generator(owner, generator)
    _nonempty_frame(owner, "frames", frames)
    if frames.dtype == torch.float32 and interpolation == "bilinear" and _on_kernel(frames):
        step = RandomResizedCrop(
            target_height, target_width, scale, aspect_ratio, shift, log_uniform_ratio, num_tries=num_tries,
            generator=generator,
        )
        return step(frames)
    channels, t, height, width = (int(s) for s in frames.shape)
    size = (target_height, target_width)

    def box():
        return _spatial_crop_params(scale, aspect_ratio, height, width, log_uniform_ratio, num_tries, generator)

    i, j, h, w = box()
    if not shift:
        return F.interpolate(frames[:, :, i : i + h, j : j + w], size=size, mode=interpolation)
    last = box()
    # frame f gets int() of the f-th of T evenly spaced values between the two boxes, per coordinate
    ii, jj, hh, ww = ([int(v) for v in torch.linspace(a, b, steps=t).tolist()] for a, b in zip((i, j, h, w), last))
    out = torch.zeros((channels, t, target_height, target_width), device=frames.device)
    for f in range(t):
        window = frames[:, f : f + 1, ii[f] : ii[f] + hh[f], jj[f] : jj[f] + ww[f]]
        out[:, f : f + 1] = F.interpolate(window, size=size, mode=interpolation)
    return out


# ---------------------------------------------------------------------------------------------------------------
# values and labels


def div_255(x: torch.Tensor) -> torch.Tensor:
    """``x / 255.0`` on any tensor: floating dtypes are kept, integers give the default float dtype."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"div_255: x must be a torch.Tensor, got {type(x).__name__}")
    return x / 255.0


# ---------------------------------------------------------------------------------------------------------------
# boxes (detection): (N, 4) [x1, y1, x2, y2] rows in pixels of the frame they belong to


def crop_boxes(boxes, x_offset: int, y_offset: int):
    """The boxes in the coordinates of a crop whose top-left corner is (x_offset, y_offset): x1 and x2 minus
    ``x_offset``, y1 and y2 minus ``y_offset``. A new tensor / array; ``boxes`` is not modified."""
    owner = "crop_boxes"
    _boxes(owner, boxes)
    x_offset = _checks.integer(owner, "x_offset", x_offset)
    y_offset = _checks.integer(owner, "y_offset", y_offset)
    out = _copy(boxes)
    out[:, [0, 2]] -= x_offset
    out[:, [1, 3]] -= y_offset
    return out


def _clamped(values, hi: float):
    """min(hi, max(0, values)) as PyTorchVideo computes it through NumPy: in the boxes' floating dtype, and in
    float64 for integer boxes, then cast back (truncated toward zero, as NumPy's assignment does; PyTorchVideo
    failed on integer torch.Tensor boxes here)."""
    if isinstance(values, np.ndarray):
        return np.minimum(hi, np.maximum(0.0, values))
    if values.is_floating_point():
        return values.clamp(min=0.0).clamp(max=hi)
    return values.to(torch.float64).clamp(min=0.0).clamp(max=hi).to(values.dtype)


def clip_boxes_to_image(boxes, height: int, width: int):
    """The boxes with x1, x2 clamped to [0, width - 1] and y1, y2 to [0, height - 1]. A new tensor / array of
    the same dtype; ``boxes`` is not modified."""
    owner = "clip_boxes_to_image"
    _boxes(owner, boxes)
    height = float(_checks.number(owner, "height", height))
    width = float(_checks.number(owner, "width", width))
    out = _copy(boxes)
    out[:, [0, 2]] = _clamped(boxes[:, [0, 2]], width - 1.0)
    out[:, [1, 3]] = _clamped(boxes[:, [1, 3]], height - 1.0)
    return out


def short_side_scale_with_boxes(
    images: torch.Tensor, boxes, size: int, interpolation: str = "bilinear", backend: str = "pytorch"
):
    """:func:`short_side_scale` of ``images`` and the boxes scaled with it: by new_H / H when W < H, else by
    new_W / W (the long side's factor, as PyTorchVideo). Returns (images, boxes); float boxes only."""
    owner = "short_side_scale_with_boxes"
    size = _checks.positive_size(owner, "size", size)
    _check_scalable(owner, "images", images, interpolation, backend)
    _boxes(owner, boxes, floating=True)
    return _scale_with_boxes(images, boxes, size, interpolation)


def _scale_with_boxes(images, boxes, size, interpolation):
    out = _short_side_scale(images, size, interpolation)
    h, w = int(images.shape[2]), int(images.shape[3])
    new_h, new_w = int(out.shape[2]), int(out.shape[3])
    factor = float(new_h) / h if w < h else float(new_w) / w
    return out, boxes * factor


def random_short_side_scale_with_boxes(
    images: torch.Tensor,
    boxes,
    min_size: int,
    max_size: int,
    interpolation: str = "bilinear",
    backend: str = "pytorch",
    *,
    generator: torch.Generator | None = None,
):
    """:func:`short_side_scale_with_boxes` to ``size = torch.randint(min_size, max_size + 1, (1,))``."""
    owner = "random_short_side_scale_with_boxes"
    min_size = _checks.positive_size(owner, "min_size", min_size)
    max_size = _checks.positive_size(owner, "max_size", max_size)
    if min_size > max_size:
        raise ValueError(f"{owner}: min_size must be <= max_size, got min_size={min_size}, max_size={max_size}")
    generator = _checks.generator(owner, generator)
    _check_scalable(owner, "images", images, interpolation, backend)
    _boxes(owner, boxes, floating=True)
    size = int(torch.randint(min_size, max_size + 1, (1,), generator=generator).item())
    return _scale_with_boxes(images, boxes, size, interpolation)


def random_crop_with_boxes(images: torch.Tensor, size: int, boxes):
    """A random ``size`` x ``size`` crop of a (C, T, H, W) clip (a view) and its boxes, cropped and clipped to it.

    Offsets are drawn as PyTorchVideo (and SlowFast) draw them, with NumPy's global RNG:
    ``np.random.randint(0, H - size)`` when H > size (so the last offset, H - size, is never drawn), then the
    same for W; 0 without a draw where the side already is ``size``."""
    owner = "random_crop_with_boxes"
    _clip(owner, "images", images)
    size = _checks.positive_int(owner, "size", size)
    _boxes(owner, boxes)
    height, width = int(images.shape[2]), int(images.shape[3])
    if height < size or width < size:
        raise ValueError(f"{owner}: crop size {size} is larger than the {height}x{width} frame")
    y_offset = int(np.random.randint(0, height - size)) if height > size else 0
    x_offset = int(np.random.randint(0, width - size)) if width > size else 0
    cropped = images[:, :, y_offset : y_offset + size, x_offset : x_offset + size]
    return cropped, clip_boxes_to_image(crop_boxes(boxes, x_offset, y_offset), size, size)


def uniform_crop_with_boxes(images: torch.Tensor, size: int, spatial_idx: int, boxes):
    """:func:`uniform_crop` (a view) and the boxes cropped and clipped to it. Returns (images, boxes)."""
    owner = "uniform_crop_with_boxes"
    _boxes(owner, boxes)
    cropped, left, top = _uniform_crop(owner, images, size, spatial_idx)
    return cropped, clip_boxes_to_image(crop_boxes(boxes, left, top), size, size)


def horizontal_flip_with_boxes(prob: float, images: torch.Tensor, boxes):
    """Flips the width of a (C, T, H, W) clip and its boxes (x1, x2 = W - x2 - 1, W - x1 - 1) when
    ``np.random.uniform() < prob`` (NumPy's global RNG, one draw per call, as PyTorchVideo). Returns
    (images, boxes): ``images`` itself when not flipped, and always a new boxes tensor / array."""
    owner = "horizontal_flip_with_boxes"
    prob = _checks.probability(owner, "prob", prob)
    _clip(owner, "images", images)
    _boxes(owner, boxes)
    flipped = _copy(boxes)
    if np.random.uniform() < prob:
        images = images.flip(-1)
        width = int(images.shape[3])
        flipped[:, [0, 2]] = width - boxes[:, [2, 0]] - 1
    return images, flipped
