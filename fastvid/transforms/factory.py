"""``create_video_transform``: PyTorchVideo's factory of default train / val transforms, fused.

Same arguments, defaults and composition as ``pytorchvideo.transforms.create_video_transform``:

    train: [UniformTemporalSubsample(num_samples)] + [RandAugment / AugMix, see below] + [ConvertUint8ToFloat()]
           + Normalize(video_mean, video_std)
           + RandomShortSideScale(min_size, max_size) + RandomCrop(crop_size) + RandomHorizontalFlip(p)
           (or RandomResizedCrop(crop_size, crop_size, ...) without the flip, when random_resized_crop_paras
           is given, exactly as PyTorchVideo composes it)
    val / test: [UniformTemporalSubsample] + [ConvertUint8ToFloat()] + Normalize + ShortSideScale(min_size)
           + CenterCrop(crop_size)

wrapped in ApplyTransformToKey(video_key, ...) + RemoveKey(k) for k in remove_key when video_key is given.
Each mode is one fused kernel call (two around RandAugment / AugMix). Unlike PyTorchVideo's (its issue 123),
it works on the float 0-255 clips that datasets give as well as on uint8 clips: ConvertUint8ToFloat divides
both by 255.

aug_type "randaug" / "augmix" (train mode only, as PyTorchVideo) puts, right after UniformTemporalSubsample,
PyTorchVideo's Permute((1, 0, 2, 3)) -> RandAugment / AugMix -> Permute((1, 0, 2, 3)), built from aug_paras
exactly as PyTorchVideo's ``_get_augmentation`` builds it: missing keys take PyTorchVideo's defaults, and the
keys PyTorchVideo does not pass on are ignored as there (RandAugment: transform_hparas; AugMix:
transform_hparas and sampling_hparas). The augmentation runs in plain PyTorch between two fused calls, with
PyTorchVideo's draws. It sees what PyTorchVideo's sees on a uint8 clip: a float clip, when convert_to_float
is on, is taken as the 0-255 clip of a decoder (whole numbers), augmented as uint8 and handed on as float, so
uint8 and float samples still give the same result (PyTorchVideo would have augmented 0-255 floats as 0-1
images, then failed in ConvertUint8ToFloat).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import torch

from fastvid.transforms import _checks
from fastvid.transforms._fusion import ClipStep
from fastvid.transforms.augment import AugMix, RandAugment
from fastvid.transforms.compose import ApplyTransformToKey, Compose, RemoveKey
from fastvid.transforms.video import (
    CenterCrop,
    ConvertUint8ToFloat,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomShortSideScale,
    ShortSideScale,
    UniformTemporalSubsample,
)

__all__ = ["create_video_transform"]

_RANDAUG_DEFAULT_PARAS = {
    "magnitude": 9,
    "num_layers": 2,
    "prob": 0.5,
    "transform_hparas": None,
    "sampling_type": "gaussian",
    "sampling_hparas": None,
}
_AUGMIX_DEFAULT_PARAS = {
    "magnitude": 3,
    "alpha": 1.0,
    "width": 3,
    "depth": -1,
    "transform_hparas": None,
    "sampling_hparas": None,
}
# the aug_paras keys PyTorchVideo passes on to the augmentation (the others of its default tables it ignores)
_PASSED_ON = {
    "randaug": ("magnitude", "num_layers", "prob", "sampling_type", "sampling_hparas"),
    "augmix": ("magnitude", "alpha", "width", "depth"),
}
_RANDOM_RESIZED_CROP_DEFAULT_PARAS = {"scale": (0.08, 1.0), "aspect_ratio": (3.0 / 4.0, 4.0 / 3.0)}
_MODES = ("train", "val", "test")


def create_video_transform(
    mode: str,
    video_key: str | None = None,
    remove_key: list[str] | None = None,
    num_samples: int | None = 8,
    convert_to_float: bool = True,
    video_mean: tuple[float, float, float] = (0.45, 0.45, 0.45),
    video_std: tuple[float, float, float] = (0.225, 0.225, 0.225),
    min_size: int = 256,
    max_size: int = 320,
    crop_size: int | tuple[int, int] = 224,
    horizontal_flip_prob: float = 0.5,
    aug_type: str = "default",
    aug_paras: dict[str, Any] | None = None,
    random_resized_crop_paras: dict[str, Any] | None = None,
):
    """PyTorchVideo's default video transform for ``mode`` "train", "val" or "test" (see the module doc).

    Raises ValueError / TypeError for a bad argument: an unknown mode or aug_type, crop_size larger than
    min_size, min_size > max_size, remove_key without video_key, aug_paras with aug_type "default", an
    aug_paras key that PyTorchVideo's tables do not have or a bad value in it (checked in every mode), a
    probability outside [0, 1], mean / std of different lengths or a zero std.
    """
    name = "create_video_transform"
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
    augmentation = _augmentation(name, aug_type, aug_paras, float_is_0_255=convert_to_float)
    if isinstance(crop_size, numbers.Integral) and not isinstance(crop_size, bool):
        crop_hw = _checks.size_pair(name, "crop_size", crop_size)
    elif isinstance(crop_size, tuple):
        crop_hw = _checks.size_pair(name, "crop_size", crop_size)
    else:
        raise TypeError(f"{name}: crop_size must be an int or a (height, width) tuple, got {crop_size!r}")
    _checks.probability(name, "horizontal_flip_prob", horizontal_flip_prob)
    min_size = _checks.positive_size(name, "min_size", min_size)
    max_size = _checks.positive_size(name, "max_size", max_size)
    if max(crop_hw) > min_size:
        raise ValueError(
            f"{name}: crop_size must be <= min_size (the crop is taken from a frame whose short side is at "
            f"least min_size), got crop_size={crop_size!r}, min_size={min_size}"
        )
    if video_key is None and remove_key is not None:
        raise ValueError(f"{name}: remove_key must be None when video_key is None, got {remove_key!r}")
    if remove_key is not None and (isinstance(remove_key, str) or not isinstance(remove_key, (list, tuple))):
        raise TypeError(f"{name}: remove_key must be a list of keys, got {remove_key!r}")

    steps: list = [] if num_samples is None else [UniformTemporalSubsample(num_samples)]
    if mode == "train" and augmentation is not None:
        steps.append(augmentation)
    if convert_to_float:
        steps.append(ConvertUint8ToFloat())
    steps.append(Normalize(mean=video_mean, std=video_std))
    if mode == "train":
        if random_resized_crop_paras is not None:
            paras = dict(random_resized_crop_paras)  # PyTorchVideo edits the caller's dict; we copy it
            paras["target_height"], paras["target_width"] = crop_hw
            paras.setdefault("scale", _RANDOM_RESIZED_CROP_DEFAULT_PARAS["scale"])
            paras.setdefault("aspect_ratio", _RANDOM_RESIZED_CROP_DEFAULT_PARAS["aspect_ratio"])
            # as in PyTorchVideo, this branch has no horizontal flip
            steps.append(RandomResizedCrop(**paras))
        else:
            if min_size > max_size:
                raise ValueError(f"{name}: min_size must be <= max_size, got {min_size} and {max_size}")
            steps += [
                RandomShortSideScale(min_size=min_size, max_size=max_size),
                RandomCrop(size=crop_hw),
                RandomHorizontalFlip(p=horizontal_flip_prob),
            ]
    else:
        steps += [ShortSideScale(size=min_size), CenterCrop(size=crop_hw)]
    transform = Compose(steps)
    if video_key is None:
        return transform
    return Compose(
        [ApplyTransformToKey(key=video_key, transform=transform)] + [RemoveKey(k) for k in (remove_key or [])]
    )


class _TimeFirstAugment(ClipStep):
    """PyTorchVideo's ``Permute((1, 0, 2, 3)), RandAugment / AugMix, Permute((1, 0, 2, 3))`` on a (C, T, H, W)
    clip, as one step between fused runs (it computes new pixels in plain PyTorch, so it is not fused).

    uint8 in, uint8 out, exactly as PyTorchVideo. With ``float_is_0_255`` a float clip is the decoder's 0-255
    clip: it is rounded to uint8, augmented, and returned as float 0-255 (so uint8 and float samples give the
    same result, and datasets may hand over uint8 frames: :func:`fastvid.transforms.accepts_uint8`). Without
    it a float clip goes to the augmentation as it is (0-1 values, as PyTorchVideo's with
    convert_to_float=False)."""

    fusable = False
    frame_wise = False

    def __init__(self, augment, *, float_is_0_255: bool):
        super().__init__()
        self.augment = augment
        self.float_is_0_255 = bool(float_is_0_255)

    @property
    def uint8_equivalent(self) -> bool:
        # without float_is_0_255 a float clip is augmented as 0-1 values, a uint8 one as 0-255
        return self.float_is_0_255

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        owner = type(self.augment).__name__
        if not isinstance(video, torch.Tensor):
            raise TypeError(
                f"{owner} (create_video_transform): the clip must be a torch.Tensor of shape (C, T, H, W), got "
                f"{type(video).__name__}"
            )
        if video.dim() != 4:
            raise ValueError(
                f"{owner} (create_video_transform): the clip must have shape (C, T, H, W), got {tuple(video.shape)}"
            )
        if self.float_is_0_255 and video.is_floating_point():
            as_uint8 = video.round().clamp(0, 255).to(torch.uint8)
            return self.augment(as_uint8.permute(1, 0, 2, 3)).permute(1, 0, 2, 3).to(video.dtype)
        return self.augment(video.permute(1, 0, 2, 3)).permute(1, 0, 2, 3)

    def __repr__(self) -> str:
        return f"Permute((1, 0, 2, 3)) -> {self.augment!r} -> Permute((1, 0, 2, 3))"


def _augmentation(name: str, aug_type, aug_paras, *, float_is_0_255: bool) -> _TimeFirstAugment | None:
    """PyTorchVideo's _get_augmentation: None for "default", else the time-first RandAugment / AugMix step."""
    if aug_type == "default":
        if aug_paras is not None:
            raise ValueError(f"{name}: aug_paras must be None for aug_type 'default', got {aug_paras!r}")
        return None
    if aug_type not in _PASSED_ON:
        raise ValueError(f"{name}: aug_type must be 'default', 'randaug' or 'augmix', got {aug_type!r}")
    defaults = _RANDAUG_DEFAULT_PARAS if aug_type == "randaug" else _AUGMIX_DEFAULT_PARAS
    if aug_paras is None:
        aug_paras = {}
    if not isinstance(aug_paras, Mapping):
        raise TypeError(f"{name}: aug_paras must be a dict or None, got {type(aug_paras).__name__} {aug_paras!r}")
    unknown = sorted(str(k) for k in aug_paras if k not in defaults)
    if unknown:
        raise ValueError(
            f"{name}: aug_paras for aug_type {aug_type!r} takes the keys {sorted(defaults)}, got {unknown}"
        )
    kwargs = {k: aug_paras.get(k, defaults[k]) for k in _PASSED_ON[aug_type]}
    augment = RandAugment(**kwargs) if aug_type == "randaug" else AugMix(**kwargs)
    return _TimeFirstAugment(augment, float_is_0_255=float_is_0_255)
