"""PyTorchVideo 0.1.5's RandAugment, AugMix and OpSampler: same names, arguments, defaults and draws.

RandAugment and AugMix take a (T, C, H, W) video (time first, as PyTorchVideo's; ``create_video_transform``
permutes the (C, T, H, W) clip around them), uint8 0-255 or float 0-1, and return the same dtype and shape.
They run the per-video ops of :mod:`fastvid.transforms.augmentations` (torchvision's functional ops), so
under the same seeds they give PyTorchVideo's pixels; they are plain PyTorch, not the fused kernel.

Draws, in order (torch's global generator, or ``generator=`` when given, a CPU ``torch.Generator``; a given
generator is shared by every op, and copies of the transform, such as DataLoader workers' (fork or spawn),
start from the same generator state, so they draw alike: leave it None in a dataset's transform, where each
worker's global generator is seeded apart):

* OpSampler: ``torch.randint(1, num_sample_op + 1, (1,))`` when ``randomly_sample_depth``, then
  ``torch.multinomial(transforms_prob, depth, replacement)``; then each chosen transform's own draws.
* RandAugment: an OpSampler of ``num_layers`` of the 14 ops, drawn without replacement, each an
  AugmentTransform (``torch.rand(1) > prob`` skips it; else magnitude, then maybe a sign).
* AugMix: ``Dirichlet([alpha] * width).sample()``, ``Beta(alpha, alpha).sample()``, then ``width`` chains
  of 1-3 (``depth=-1``) or ``depth`` ops drawn with replacement, each op at a magnitude uniform in
  [0.1, magnitude) (``torch.rand``); the output is ``m * video + (1 - m) * sum_i w_i * chain_i(video)``,
  truncated to uint8 for uint8 input.

Differences on purpose: bad arguments raise ValueError / TypeError at construction (PyTorchVideo asserted);
AugMix takes an int ``alpha`` (PyTorchVideo's Dirichlet then failed on the call) and mixes on the video's
device (PyTorchVideo's mixing buffer was always on the CPU).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import torch

from fastvid.transforms import _checks
from fastvid.transforms.augmentations import (
    _AUGMENTATION_MAX_LEVEL,
    _TRANSFORM_MAX_PARAMS,
    AugmentTransform,
    _check_sampling,
    _check_transform_hparas,
    _decreasing_int_to_arg,
    _decreasing_to_arg,
    _increasing_magnitude_to_arg,
    _increasing_randomly_negate_to_arg,
)
from fastvid.transforms.mix import _sample_beta

__all__ = [
    "SAMPLING_AUGMIX_DEFAULT_HPARAS",
    "SAMPLING_RANDAUG_DEFAULT_HPARAS",
    "AugMix",
    "OpSampler",
    "RandAugment",
]


def _check_video(owner: str, video) -> None:
    if not isinstance(video, torch.Tensor):
        raise TypeError(f"{owner}: the video must be a torch.Tensor of shape (T, C, H, W), got {type(video).__name__}")
    if video.dim() not in (3, 4):
        raise ValueError(
            f"{owner}: the video must have shape (T, C, H, W) (time first; or one (C, H, W) frame), got shape "
            f"{tuple(video.shape)}"
        )
    if video.dtype != torch.uint8 and not video.is_floating_point():
        raise TypeError(f"{owner}: the video must be uint8 (0-255) or float (0-1), got {video.dtype}")


# ---------------------------------------------------------------------------------------------------------------
# OpSampler


class OpSampler(torch.nn.Module):
    """Applies ``num_sample_op`` transforms picked from ``transforms_list`` by weighted sampling
    (``transforms_prob``, uniform when None; weights need not sum to 1), one after the other
    (PyTorchVideo's OpSampler). ``randomly_sample_depth``: the number applied is drawn from
    1..num_sample_op. ``replacement``: a transform may be picked more than once."""

    def __init__(
        self,
        transforms_list: Sequence[Callable],
        transforms_prob: Sequence[float] | None = None,
        num_sample_op: int = 1,
        randomly_sample_depth: bool = False,
        replacement: bool = False,
        *,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        owner = "OpSampler"
        if isinstance(transforms_list, (str, bytes)) or not isinstance(transforms_list, Sequence):
            raise TypeError(
                f"{owner}: transforms_list must be a list of callables, got {type(transforms_list).__name__}"
            )
        if len(transforms_list) == 0:
            raise ValueError(f"{owner}: transforms_list must not be empty")
        for i, t in enumerate(transforms_list):
            if not callable(t):
                raise TypeError(f"{owner}: transforms_list[{i}] must be callable, got {type(t).__name__} {t!r}")
        num_sample_op = _checks.positive_int(owner, "num_sample_op", num_sample_op)
        if num_sample_op > len(transforms_list):
            raise ValueError(
                f"{owner}: num_sample_op must be <= the number of transforms ({len(transforms_list)}), got "
                f"{num_sample_op}"
            )
        if transforms_prob is not None:
            if isinstance(transforms_prob, (str, bytes)) or not isinstance(transforms_prob, Sequence):
                raise TypeError(f"{owner}: transforms_prob must be a list of numbers, got {transforms_prob!r}")
            if len(transforms_prob) != len(transforms_list):
                raise ValueError(
                    f"{owner}: transforms_prob must have one weight per transform ({len(transforms_list)}), got "
                    f"{len(transforms_prob)}"
                )
            for p in transforms_prob:
                if isinstance(p, bool) or not isinstance(p, numbers.Real):
                    raise TypeError(f"{owner}: transforms_prob must hold numbers, got {transforms_prob!r}")
            if not min(transforms_prob) > 0:
                raise ValueError(f"{owner}: the weights in transforms_prob must be > 0, got {transforms_prob!r}")
        self.transforms_list = list(transforms_list)
        weights = transforms_prob if transforms_prob is not None else [1] * len(transforms_list)
        self.transforms_prob = torch.tensor([float(p) for p in weights], dtype=torch.float32)
        self.num_sample_op = num_sample_op
        self.randomly_sample_depth = bool(randomly_sample_depth)
        self.replacement = bool(replacement)
        self.generator = _checks.generator(owner, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.generator
        if self.randomly_sample_depth:
            depth = int(torch.randint(1, self.num_sample_op + 1, (1,), generator=g).item())
        else:
            depth = self.num_sample_op
        picks = torch.multinomial(self.transforms_prob, depth, replacement=self.replacement, generator=g)
        for i in picks.tolist():
            x = self.transforms_list[i](x)
        return x

    def __call__(self, x):  # skip nn.Module hooks: a data transform, called per clip
        return self.forward(x)

    def __repr__(self) -> str:
        return (
            f"OpSampler({len(self.transforms_list)} transforms, num_sample_op={self.num_sample_op}, "
            f"randomly_sample_depth={self.randomly_sample_depth}, replacement={self.replacement})"
        )


# ---------------------------------------------------------------------------------------------------------------
# RandAugment

# The 14 ops of RandAugment and their (value at level 0, change at level 10), in the order torch.multinomial's
# indices refer to: PyTorchVideo's RandAugment table is AugmentTransform's default one, entry for entry.
_TRANSFORM_RANDAUG_MAX_PARAMS: Mapping[str, tuple | None] = MappingProxyType(_TRANSFORM_MAX_PARAMS)

SAMPLING_RANDAUG_DEFAULT_HPARAS = {"sampling_data_type": "int", "sampling_min": 0, "sampling_std": 0.5}


class RandAugment(torch.nn.Module):
    """RandAugment for video (PyTorchVideo's; Cubuk et al., https://arxiv.org/abs/1909.13719): applies
    ``num_layers`` different ops out of 14, each with probability ``prob``, at a magnitude drawn around
    ``magnitude`` (levels 0-10; "gaussian" with sampling_hparas["sampling_std"], or "uniform"). Input and
    output: a (T, C, H, W) video, uint8 0-255 or float 0-1. ``transform_hparas`` needs "fill" (default
    (0.5, 0.5, 0.5), the value of pixels shifted in by rotations, shears and translations)."""

    def __init__(
        self,
        magnitude: int = 9,
        num_layers: int = 2,
        prob: float = 0.5,
        transform_hparas: dict[str, Any] | None = None,
        sampling_type: str = "gaussian",
        sampling_hparas: dict[str, Any] | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        owner = "RandAugment"
        if isinstance(magnitude, bool) or not isinstance(magnitude, numbers.Real):
            raise TypeError(f"{owner}: magnitude must be a number (a level, 0-10), got {magnitude!r}")
        num_layers = _checks.positive_int(owner, "num_layers", num_layers)
        if num_layers > len(_TRANSFORM_RANDAUG_MAX_PARAMS):
            raise ValueError(
                f"{owner}: num_layers must be <= {len(_TRANSFORM_RANDAUG_MAX_PARAMS)} (the ops are drawn without "
                f"replacement), got {num_layers}"
            )
        _checks.probability(owner, "prob", prob)
        _check_transform_hparas(owner, transform_hparas)
        sampling_hparas = sampling_hparas or SAMPLING_RANDAUG_DEFAULT_HPARAS
        _check_sampling(owner, sampling_type, sampling_hparas)
        ops = [
            AugmentTransform(
                name,
                magnitude,
                prob=prob,
                transform_max_paras=_TRANSFORM_RANDAUG_MAX_PARAMS,
                transform_hparas=transform_hparas,
                sampling_type=sampling_type,
                sampling_hparas=sampling_hparas,
                generator=generator,
            )
            for name in _TRANSFORM_RANDAUG_MAX_PARAMS
        ]
        self.randaug_fn = OpSampler(ops, num_sample_op=num_layers, generator=generator)
        self._desc = f"magnitude={magnitude}, num_layers={num_layers}, prob={prob}, sampling_type={sampling_type!r}"

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        _check_video("RandAugment", video)
        return self.randaug_fn(video)

    def __call__(self, video):  # skip nn.Module hooks: a data transform, called per clip
        return self.forward(video)

    def __repr__(self) -> str:
        return f"RandAugment({self._desc})"


# ---------------------------------------------------------------------------------------------------------------
# AugMix

_AUGMIX_LEVEL_TO_ARG: dict[str, Callable | None] = {
    "AutoContrast": None,
    "Equalize": None,
    "Rotate": _increasing_randomly_negate_to_arg,
    "Posterize": _decreasing_int_to_arg,
    "Solarize": _decreasing_to_arg,
    "ShearX": _increasing_randomly_negate_to_arg,
    "ShearY": _increasing_randomly_negate_to_arg,
    "TranslateX": _increasing_randomly_negate_to_arg,
    "TranslateY": _increasing_randomly_negate_to_arg,
    "AdjustSaturation": _increasing_magnitude_to_arg,
    "AdjustContrast": _increasing_magnitude_to_arg,
    "AdjustBrightness": _increasing_magnitude_to_arg,
    "AdjustSharpness": _increasing_magnitude_to_arg,
}

# The 13 ops of AugMix (no Invert), in PyTorchVideo's order.
_TRANSFORM_AUGMIX_MAX_PARAMS: dict[str, tuple | None] = {
    "AutoContrast": None,
    "Equalize": None,
    "Rotate": (0, 30),
    "Posterize": (4, 4),
    "Solarize": (1, 1),
    "ShearX": (0, 0.3),
    "ShearY": (0, 0.3),
    "TranslateX": (0, 1.0 / 3.0),
    "TranslateY": (0, 1.0 / 3.0),
    "AdjustSaturation": (0.1, 1.8),
    "AdjustContrast": (0.1, 1.8),
    "AdjustBrightness": (0.1, 1.8),
    "AdjustSharpness": (0.1, 1.8),
}

SAMPLING_AUGMIX_DEFAULT_HPARAS = {"sampling_data_type": "float", "sampling_min": 0.1}


def _sample_dirichlet(dist: torch.distributions.Dirichlet, generator: torch.Generator | None) -> torch.Tensor:
    # Dirichlet.sample() is torch._sample_dirichlet(concentration): the same call, with the generator passed
    # through when one is given (the distribution takes none).
    if generator is None:
        return dist.sample()
    with torch.no_grad():
        return torch._sample_dirichlet(dist.concentration, generator=generator)


class AugMix(torch.nn.Module):
    """AugMix for video (PyTorchVideo's; Hendrycks et al., https://arxiv.org/abs/1912.02781): ``width``
    chains of random ops (``depth`` ops each, or 1-3 when depth is -1 or any value <= 0), mixed with
    Dirichlet(alpha) weights, then blended with the input by a Beta(alpha, alpha) weight. ``magnitude``
    is an int in 1..10. Input and output: a (T, C, H, W) video, uint8 0-255 (the mix is truncated back to
    uint8) or float 0-1."""

    def __init__(
        self,
        magnitude: int = 3,
        alpha: float = 1.0,
        width: int = 3,
        depth: int = -1,
        transform_hparas: dict[str, Any] | None = None,
        sampling_hparas: dict[str, Any] | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        owner = "AugMix"
        magnitude = _checks.integer(owner, "magnitude", magnitude)
        if not 1 <= magnitude <= _AUGMENTATION_MAX_LEVEL:
            raise ValueError(f"{owner}: magnitude must be between 1 and {_AUGMENTATION_MAX_LEVEL}, got {magnitude}")
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise TypeError(f"{owner}: alpha must be a number > 0, got {type(alpha).__name__} {alpha!r}")
        if not float(alpha) > 0.0:
            raise ValueError(f"{owner}: alpha must be > 0, got {alpha!r}")
        width = _checks.positive_int(owner, "width", width)
        depth = _checks.integer(owner, "depth", depth)
        if depth > len(_TRANSFORM_AUGMIX_MAX_PARAMS):
            raise ValueError(
                f"{owner}: depth must be <= {len(_TRANSFORM_AUGMIX_MAX_PARAMS)} (or <= 0 for a random depth of 1-3), "
                f"got {depth}"
            )
        _check_transform_hparas(owner, transform_hparas)
        if sampling_hparas:
            _check_sampling(owner, "uniform", sampling_hparas)
        self.generator = _checks.generator(owner, generator)

        self._magnitude = magnitude
        self._desc = f"magnitude={magnitude}, alpha={alpha}, width={width}, depth={depth}"
        alpha = float(alpha)
        self.dirichlet = torch.distributions.Dirichlet(torch.tensor([alpha] * width))
        self.beta = torch.distributions.Beta(alpha, alpha)
        ops = [
            AugmentTransform(
                transform_name=name,
                magnitude=magnitude,
                prob=1.0,
                level_to_arg=_AUGMIX_LEVEL_TO_ARG,
                transform_max_paras=_TRANSFORM_AUGMIX_MAX_PARAMS,
                transform_hparas=transform_hparas,
                sampling_type="uniform",
                sampling_hparas=sampling_hparas or SAMPLING_AUGMIX_DEFAULT_HPARAS,
                generator=generator,
            )
            for name in _TRANSFORM_AUGMIX_MAX_PARAMS
        ]
        if depth > 0:
            self.augmix_fn = OpSampler(ops, num_sample_op=depth, replacement=True, generator=generator)
        else:
            self.augmix_fn = OpSampler(
                ops, num_sample_op=3, randomly_sample_depth=True, replacement=True, generator=generator
            )

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        _check_video("AugMix", video)
        weights = _sample_dirichlet(self.dirichlet, self.generator)
        beta = self.beta
        m = _sample_beta(torch.stack([beta.concentration1, beta.concentration0]), self.generator).item()
        mixed = torch.zeros(video.shape, dtype=torch.float32, device=video.device)
        for w in weights:
            mixed += w * self.augmix_fn(video)
        out = m * video + (1 - m) * mixed
        return out.type(torch.uint8) if video.dtype == torch.uint8 else out.to(video.dtype)

    def __call__(self, video):  # skip nn.Module hooks: a data transform, called per clip
        return self.forward(video)

    def __repr__(self) -> str:
        return f"AugMix({self._desc})"
