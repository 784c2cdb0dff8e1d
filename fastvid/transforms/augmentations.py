"""PyTorchVideo 0.1.5's per-video augmentation ops and ``AugmentTransform`` (``pytorchvideo.transforms.
augmentations``), the building blocks of :class:`~fastvid.transforms.RandAugment` and
:class:`~fastvid.transforms.AugMix`.

Each op takes a (T, C, H, W) video (or one (C, H, W) frame), uint8 0-255 or float 0-1, as PyTorchVideo's
do, and computes what PyTorchVideo computes: the same ``torchvision.transforms.functional`` calls for
AutoContrast, Equalize, Invert, Rotate, Posterize, Solarize and the Adjust* ops, and, for ShearX / ShearY /
TranslateX / TranslateY (PyTorchVideo called torchvision's private ``functional_tensor.affine``, a module
that no longer imports), :func:`_warp_affine` here, which gives the same pixels as torchvision's tensor
affine on the same inverse matrix (bilinear, with the fill blended in through a mask channel).

``AugmentTransform`` draws exactly as PyTorchVideo's: ``torch.rand(1)`` against ``prob``; then the magnitude
(``torch.normal`` for "gaussian", ``torch.randint`` or ``torch.rand`` for "uniform"); then, for the ops
whose level function negates at random, one more ``torch.rand(1)``. The ops themselves draw nothing.
``generator=`` (keyword-only, a CPU ``torch.Generator``) takes every draw from it instead of torch's global
generator, in the same order; a level function of your own then needs a ``generator`` keyword argument.

Differences on purpose: bad arguments raise ValueError / TypeError at construction (PyTorchVideo asserted,
or failed on the call for a bad ``sampling_data_type``), and ``prob`` must lie in [0, 1].
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as nnf

from fastvid.transforms import _checks

# grid_sample has float16/bfloat16 CPU kernels from torch 2.6 on; older torch warps those in float32.
_CPU_HALF_GRID_SAMPLE = torch.torch_version.TorchVersion(torch.__version__) >= (2, 6)


def _tf():
    """torchvision.transforms.functional, imported on first use (torchvision adds about a second to importing
    fastvid.transforms, which every DataLoader worker started with spawn pays)."""
    import torchvision.transforms.functional

    return torchvision.transforms.functional

__all__ = [
    "SAMPLING_DEFAULT_HPARAS",
    "TRANSFORM_DEFAULT_HPARAS",
    "AugmentTransform",
]

# The level (magnitude) that maps to each op's largest change.
_AUGMENTATION_MAX_LEVEL = 10


# ---------------------------------------------------------------------------------------------------------------
# the affine warp behind ShearX / ShearY / TranslateX / TranslateY


def _fill_values(fill, channels: int) -> list[float] | None:
    if fill is None:
        return None
    if isinstance(fill, (tuple, list)):
        values = list(fill)
    elif isinstance(fill, numbers.Real) and not isinstance(fill, bool):
        values = [float(fill)]
    else:
        raise TypeError(f"augmentations: fill must be a number, a sequence of numbers or None, got {fill!r}")
    if len(values) > 1 and len(values) != channels:
        raise ValueError(
            f"augmentations: fill has {len(values)} values but the video has {channels} channels; give one "
            f"value or one per channel"
        )
    return values


def _warp_affine(video: torch.Tensor, matrix: list[float], fill) -> torch.Tensor:
    """Bilinear warp of each frame by the inverse affine ``matrix`` [a, b, c, d, e, f], which maps output
    pixel centres (x, y), taken relative to the frame centre, to input points (a x + b y + c, d x + e y + f).
    Points outside the frame take ``fill`` (blended at the border, as torchvision does).

    The arithmetic is torchvision's tensor affine step for step (pixel-centre grid, the matrix scaled to
    grid_sample's [-1, 1] units, one batched matmul, grid_sample with a ones channel that carries the fill
    weight, rounding back to an integer dtype), so the pixels are the same as torchvision's."""
    if video.dim() not in (3, 4):
        raise ValueError(
            f"augmentations: the video must have shape (T, C, H, W) or (C, H, W), got {tuple(video.shape)}"
        )
    frames = video.unsqueeze(0) if video.dim() == 3 else video
    n, c, h, w = frames.shape
    fill_values = _fill_values(fill, c)
    work = frames.dtype if frames.is_floating_point() else torch.float32
    dev = frames.device
    if work in (torch.float16, torch.bfloat16) and dev.type == "cpu" and not _CPU_HALF_GRID_SAMPLE:
        work = torch.float32

    # (x, y, 1) of every output pixel centre; the coordinates are half-integers, exact in any float dtype
    points = torch.empty(1, h, w, 3, dtype=work, device=dev)
    points[..., 0].copy_(torch.linspace(0.5 - 0.5 * w, 0.5 * w - 0.5, steps=w, device=dev))
    points[..., 1].copy_(torch.linspace(0.5 - 0.5 * h, 0.5 * h - 0.5, steps=h, device=dev).unsqueeze(-1))
    points[..., 2].fill_(1)
    theta = torch.tensor(matrix, dtype=work, device=dev).view(1, 2, 3)
    half_size = torch.tensor([0.5 * w, 0.5 * h], dtype=work, device=dev)
    grid = points.view(1, h * w, 3).bmm(theta.transpose(1, 2) / half_size).view(1, h, w, 2)

    src = frames if frames.dtype == work else frames.to(work)
    if fill_values is not None:
        src = torch.cat((src, torch.ones((n, 1, h, w), dtype=work, device=dev)), dim=1)
    out = nnf.grid_sample(src, grid.expand(n, h, w, 2), mode="bilinear", padding_mode="zeros", align_corners=False)
    if fill_values is not None:
        weight = out[:, -1:].expand(n, c, h, w)
        out = out[:, :-1]
        background = torch.tensor(fill_values, dtype=work, device=dev).view(1, -1, 1, 1).expand_as(out)
        out = out * weight + (1.0 - weight) * background
    if video.dim() == 3:
        out = out.squeeze(0)
    if out.dtype != video.dtype:
        if not video.is_floating_point():
            out = torch.round(out)
        out = out.to(video.dtype)
    return out


# ---------------------------------------------------------------------------------------------------------------
# the ops: (video, *level_args, **transform_hparas) -> video


def _require_fill(hparas: Mapping[str, Any]):
    if "fill" not in hparas:
        raise TypeError("augmentations: this op needs the keyword argument fill (transform_hparas['fill'])")
    return hparas["fill"]


def _autocontrast(video: torch.Tensor, **hparas) -> torch.Tensor:
    return _tf().autocontrast(video)


def _equalize(video: torch.Tensor, **hparas) -> torch.Tensor:
    if video.dtype == torch.uint8:
        return _tf().equalize(video)
    dtype = video.dtype  # torchvision equalizes uint8 only: through 0-255 and back, as PyTorchVideo does
    return (_tf().equalize((video * 255).to(torch.uint8)) / 255).to(dtype)


def _invert(video: torch.Tensor, **hparas) -> torch.Tensor:
    return _tf().invert(video)


def _rotate(video: torch.Tensor, degrees: float, **hparas) -> torch.Tensor:
    fill = _require_fill(hparas)
    if video.dtype in (torch.float16, torch.bfloat16) and video.device.type == "cpu" and not _CPU_HALF_GRID_SAMPLE:
        out = _tf().rotate(video.float(), degrees, fill=fill, interpolation=_tf().InterpolationMode.BILINEAR)
        return out.to(video.dtype)
    return _tf().rotate(video, degrees, fill=fill, interpolation=_tf().InterpolationMode.BILINEAR)


def _solarize(video: torch.Tensor, threshold: float, **hparas) -> torch.Tensor:
    if video.dtype == torch.uint8:
        return _tf().solarize(video, int(threshold * 255.0))
    return _tf().solarize(video, threshold)


def _adjust_contrast(video: torch.Tensor, factor: float, **hparas) -> torch.Tensor:
    return _tf().adjust_contrast(video, factor)


def _adjust_saturation(video: torch.Tensor, factor: float, **hparas) -> torch.Tensor:
    return _tf().adjust_saturation(video, factor)


def _adjust_brightness(video: torch.Tensor, factor: float, **hparas) -> torch.Tensor:
    return _tf().adjust_brightness(video, factor)


def _adjust_sharpness(video: torch.Tensor, factor: float, **hparas) -> torch.Tensor:
    return _tf().adjust_sharpness(video, factor)


def _posterize(video: torch.Tensor, bits: int, **hparas) -> torch.Tensor:
    if bits >= 8:
        return video
    if video.dtype == torch.uint8:
        return _tf().posterize(video, bits)
    dtype = video.dtype
    return (_tf().posterize((video * 255).to(torch.uint8), bits) / 255).to(dtype)


# The shear offsets below are PyTorchVideo's: ShearX shifts by H * s / 2 and ShearY by W * s / 2.
def _shear_x(video: torch.Tensor, shear: float, **hparas) -> torch.Tensor:
    shift = video.size(-2) * shear / 2
    return _warp_affine(video, [1, shear, shift, 0, 1, 0], _require_fill(hparas))


def _shear_y(video: torch.Tensor, shear: float, **hparas) -> torch.Tensor:
    shift = video.size(-1) * shear / 2
    return _warp_affine(video, [1, 0, 0, shear, 1, shift], _require_fill(hparas))


def _translate_x(video: torch.Tensor, fraction: float, **hparas) -> torch.Tensor:
    return _warp_affine(video, [1, 0, fraction * video.size(-1), 0, 1, 0], _require_fill(hparas))


def _translate_y(video: torch.Tensor, fraction: float, **hparas) -> torch.Tensor:
    return _warp_affine(video, [1, 0, 0, 0, 1, fraction * video.size(-2)], _require_fill(hparas))


# ---------------------------------------------------------------------------------------------------------------
# level -> op arguments. params = (value at level 0, change at the maximum level)


def _randomly_negate(value: float, generator: torch.Generator | None = None) -> float:
    """``value`` or ``-value``, each with probability 1/2: one ``torch.rand(1)`` (PyTorchVideo)."""
    return value if torch.rand(1, generator=generator).item() > 0.5 else -value


def _increasing_magnitude_to_arg(level, params, generator: torch.Generator | None = None) -> tuple[float]:
    change = (level / _AUGMENTATION_MAX_LEVEL) * params[1]
    return (params[0] + change,)


def _increasing_randomly_negate_to_arg(level, params, generator: torch.Generator | None = None) -> tuple[float]:
    change = (level / _AUGMENTATION_MAX_LEVEL) * params[1]
    return (params[0] + _randomly_negate(change, generator),)


def _decreasing_int_to_arg(level, params, generator: torch.Generator | None = None) -> tuple[int]:
    change = (level / _AUGMENTATION_MAX_LEVEL) * params[1]
    return (params[0] - int(change),)


def _decreasing_to_arg(level, params, generator: torch.Generator | None = None) -> tuple[float]:
    change = (level / _AUGMENTATION_MAX_LEVEL) * params[1]
    return (params[0] - change,)


# The tables PyTorchVideo's AugmentTransform defaults to (same names, same contents).
_NAME_TO_TRANSFORM_FUNC: dict[str, Callable] = {
    "AdjustBrightness": _adjust_brightness,
    "AdjustContrast": _adjust_contrast,
    "AdjustSaturation": _adjust_saturation,
    "AdjustSharpness": _adjust_sharpness,
    "AutoContrast": _autocontrast,
    "Equalize": _equalize,
    "Invert": _invert,
    "Rotate": _rotate,
    "Posterize": _posterize,
    "Solarize": _solarize,
    "ShearX": _shear_x,
    "ShearY": _shear_y,
    "TranslateX": _translate_x,
    "TranslateY": _translate_y,
}

_LEVEL_TO_ARG: dict[str, Callable | None] = {
    "AdjustBrightness": _increasing_randomly_negate_to_arg,
    "AdjustContrast": _increasing_randomly_negate_to_arg,
    "AdjustSaturation": _increasing_randomly_negate_to_arg,
    "AdjustSharpness": _increasing_randomly_negate_to_arg,
    "AutoContrast": None,
    "Equalize": None,
    "Invert": None,
    "Rotate": _increasing_randomly_negate_to_arg,
    "Posterize": _decreasing_int_to_arg,
    "Solarize": _decreasing_to_arg,
    "ShearX": _increasing_randomly_negate_to_arg,
    "ShearY": _increasing_randomly_negate_to_arg,
    "TranslateX": _increasing_randomly_negate_to_arg,
    "TranslateY": _increasing_randomly_negate_to_arg,
}

_TRANSFORM_MAX_PARAMS: dict[str, tuple | None] = {
    "AdjustBrightness": (1, 0.9),
    "AdjustContrast": (1, 0.9),
    "AdjustSaturation": (1, 0.9),
    "AdjustSharpness": (1, 0.9),
    "AutoContrast": None,
    "Equalize": None,
    "Invert": None,
    "Rotate": (0, 30),
    "Posterize": (4, 4),
    "Solarize": (1, 1),
    "ShearX": (0, 0.3),
    "ShearY": (0, 0.3),
    "TranslateX": (0, 0.45),
    "TranslateY": (0, 0.45),
}

SAMPLING_DEFAULT_HPARAS = {"sampling_std": 0.5}
TRANSFORM_DEFAULT_HPARAS = {"fill": (0.5, 0.5, 0.5)}

_SAMPLING_TYPES = ("gaussian", "uniform")


def _mapping(owner: str, name: str, value) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{owner}: {name} must be a dict, got {type(value).__name__} {value!r}")
    return value


def _check_transform_hparas(owner: str, transform_hparas) -> None:
    """PyTorchVideo's assert: the op hyper parameters (None for the default) must hold "fill"."""
    if transform_hparas:
        _mapping(owner, "transform_hparas", transform_hparas)
        if "fill" not in transform_hparas:
            raise ValueError(f"{owner}: transform_hparas must have the key 'fill', got {transform_hparas!r}")


def _check_sampling(owner: str, sampling_type: str, sampling_hparas: Mapping[str, Any]) -> None:
    """The checks PyTorchVideo asserted on ``sampling_type`` and ``sampling_hparas``, as ValueError / TypeError."""
    if sampling_type not in _SAMPLING_TYPES:
        raise ValueError(f"{owner}: sampling_type must be one of {_SAMPLING_TYPES}, got {sampling_type!r}")
    _mapping(owner, "sampling_hparas", sampling_hparas)
    if sampling_type == "gaussian":
        if "sampling_std" not in sampling_hparas:
            raise ValueError(
                f"{owner}: gaussian sampling needs sampling_hparas['sampling_std'], got {sampling_hparas!r}"
            )
        _checks.number(owner, "sampling_hparas['sampling_std']", sampling_hparas["sampling_std"])
        return
    for key in ("sampling_data_type", "sampling_min"):
        if key not in sampling_hparas:
            raise ValueError(f"{owner}: uniform sampling needs sampling_hparas[{key!r}], got {sampling_hparas!r}")
    data_type, low = sampling_hparas["sampling_data_type"], sampling_hparas["sampling_min"]
    if data_type == "int":
        if isinstance(low, bool) or not isinstance(low, numbers.Integral):
            raise TypeError(f"{owner}: sampling_hparas['sampling_min'] must be an int for 'int' sampling, got {low!r}")
    elif data_type == "float":
        _checks.number(owner, "sampling_hparas['sampling_min']", low)
    else:
        raise ValueError(
            f"{owner}: sampling_hparas['sampling_data_type'] must be 'int' or 'float', got {data_type!r}"
        )


class AugmentTransform:
    """One op of RandAugment / AugMix with its magnitude sampling (PyTorchVideo's AugmentTransform): same
    arguments and defaults. Called on a (T, C, H, W) video, it applies ``transform_name`` with probability
    ``prob``, at a magnitude drawn around / up to ``magnitude`` (levels 0-10), and returns the video as it
    came otherwise. See the module doc for the draws."""

    def __init__(
        self,
        transform_name: str,
        magnitude: int = 10,
        prob: float = 0.5,
        name_to_transform_func: dict[str, Callable] | None = None,
        level_to_arg: dict[str, Callable | None] | None = None,
        transform_max_paras: dict[str, tuple | None] | None = None,
        transform_hparas: dict[str, Any] | None = None,
        sampling_type: str = "gaussian",
        sampling_hparas: dict[str, Any] | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        owner = "AugmentTransform"
        name_to_transform_func = _mapping(
            owner, "name_to_transform_func", name_to_transform_func or _NAME_TO_TRANSFORM_FUNC
        )
        level_to_arg = _mapping(owner, "level_to_arg", level_to_arg or _LEVEL_TO_ARG)
        transform_max_paras = _mapping(owner, "transform_max_paras", transform_max_paras or _TRANSFORM_MAX_PARAMS)
        _check_transform_hparas(owner, transform_hparas)
        self.transform_hparas = transform_hparas or TRANSFORM_DEFAULT_HPARAS
        self.sampling_type = sampling_type
        self.sampling_hparas = sampling_hparas or SAMPLING_DEFAULT_HPARAS
        _check_sampling(owner, sampling_type, self.sampling_hparas)
        if transform_name not in name_to_transform_func:
            raise ValueError(
                f"{owner}: transform_name must be one of {sorted(name_to_transform_func)}, got {transform_name!r}"
            )
        for table, name in ((level_to_arg, "level_to_arg"), (transform_max_paras, "transform_max_paras")):
            if transform_name not in table:
                raise ValueError(f"{owner}: {name} has no entry for {transform_name!r}")

        self.max_level = _AUGMENTATION_MAX_LEVEL
        self.transform_name = transform_name
        self.magnitude = _checks.number(owner, "magnitude", magnitude)
        if sampling_type != "gaussian" and self.sampling_hparas["sampling_data_type"] == "int":
            # drawn as torch.randint(sampling_min, magnitude + 1): an integer level no below sampling_min
            low = self.sampling_hparas["sampling_min"]
            if isinstance(magnitude, bool) or int(magnitude) != magnitude or magnitude < low:
                raise ValueError(
                    f"{owner}: with 'int' sampling magnitude must be an integer >= sampling_min ({low}), "
                    f"got {magnitude!r}"
                )
        self.transform_fn = name_to_transform_func[transform_name]
        self.level_fn = level_to_arg[transform_name]
        self.level_paras = transform_max_paras[transform_name]
        self.prob = _checks.probability(owner, "prob", prob)
        self.generator = _checks.generator(owner, generator)

    def _get_magnitude(self) -> float:
        g = self.generator
        if self.sampling_type == "gaussian":
            drawn = torch.normal(self.magnitude, self.sampling_hparas["sampling_std"], size=(1,), generator=g).item()
            return max(0, min(self.max_level, drawn))
        low = self.sampling_hparas["sampling_min"]
        if self.sampling_hparas["sampling_data_type"] == "int":
            return torch.randint(low, int(self.magnitude) + 1, size=(1,), generator=g).item()
        return torch.rand(size=(1,), generator=g).item() * (self.magnitude - low) + low

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        if torch.rand(1, generator=self.generator).item() > self.prob:
            return video
        magnitude = self._get_magnitude()
        if self.level_fn is None:
            args: tuple = ()
        elif self.generator is None:
            args = self.level_fn(magnitude, self.level_paras)
        else:
            args = self.level_fn(magnitude, self.level_paras, generator=self.generator)
        return self.transform_fn(video, *args, **self.transform_hparas)

    def __repr__(self) -> str:
        return (
            f"AugmentTransform({self.transform_name!r}, magnitude={self.magnitude}, prob={self.prob}, "
            f"sampling_type={self.sampling_type!r})"
        )
