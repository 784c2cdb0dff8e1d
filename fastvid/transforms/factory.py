"""``create_video_transform``: PyTorchVideo's factory of default train / val transforms, fused.

Same arguments, defaults and composition as ``pytorchvideo.transforms.create_video_transform``:

    train: [UniformTemporalSubsample(num_samples)] + [ConvertUint8ToFloat()] + Normalize(video_mean, video_std)
           + RandomShortSideScale(min_size, max_size) + RandomCrop(crop_size) + RandomHorizontalFlip(p)
           (or RandomResizedCrop(crop_size, crop_size, ...) without the flip, when random_resized_crop_paras
           is given, exactly as PyTorchVideo composes it)
    val / test: [UniformTemporalSubsample] + [ConvertUint8ToFloat()] + Normalize + ShortSideScale(min_size)
           + CenterCrop(crop_size)

wrapped in ApplyTransformToKey(video_key, ...) + RemoveKey(k) for k in remove_key when video_key is given.
Each mode is one fused kernel call. Unlike PyTorchVideo's (its issue 123), it works on the float 0-255 clips
that datasets give as well as on uint8 clips: ConvertUint8ToFloat divides both by 255.
Not offered: aug_type "randaug" / "augmix" (PyTorchVideo's RandAugment / AugMix are not part of fastvid).
"""

from __future__ import annotations

import numbers
from typing import Any

from fastvid.transforms import _checks
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
    min_size, min_size > max_size, remove_key without video_key, aug_paras with aug_type "default", a
    probability outside [0, 1], mean / std of different lengths or a zero std.
    """
    name = "create_video_transform"
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
    if aug_type in ("randaug", "augmix"):
        raise NotImplementedError(
            f"{name}: aug_type {aug_type!r} (PyTorchVideo's RandAugment / AugMix) is not offered by fastvid; "
            f"use aug_type='default'"
        )
    if aug_type != "default":
        raise ValueError(f"{name}: aug_type must be 'default', 'randaug' or 'augmix', got {aug_type!r}")
    if aug_paras is not None:
        raise ValueError(f"{name}: aug_paras must be None for aug_type 'default', got {aug_paras!r}")
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
