"""Drop-in PyTorchVideo / torchvision video transforms that fuse themselves.

Change ``from pytorchvideo.transforms import ...`` / ``from torchvision.transforms._transforms_video import
...`` / ``from torchvision.transforms import Compose, Lambda`` to ``from fastvid.transforms import ...``:
same names, arguments and defaults. Each class alone runs on the fused kernel
(:func:`fastvid.ops.clip_transform`); :class:`Compose` turns every maximal run of them into one kernel call,
with the same random draws as running them one by one. uint8 clips give the same result as the float 0-255
clips PyTorchVideo's decoders produce. Batch-level MixUp / CutMix / MixVideo come from :mod:`.mix`;
``pytorchvideo.transforms.functional`` is :mod:`fastvid.transforms.functional`. RandAugment, AugMix and
OpSampler (:mod:`.augment`, on the ops of :mod:`.augmentations`) run in plain PyTorch with PyTorchVideo's draws.
"""

from fastvid.transforms import augmentations, functional
from fastvid.transforms.augment import AugMix, OpSampler, RandAugment
from fastvid.transforms.compose import ApplyTransformToKey, Compose, Lambda, RemoveKey, UniformCropVideo
from fastvid.transforms.factory import create_video_transform
from fastvid.transforms.mix import CutMix, MixUp, MixVideo
from fastvid.transforms.pathway import PackPathway
from fastvid.transforms.plan import TemporalPlan, accepts_uint8, temporal_plan
from fastvid.transforms.tv_video import RandomResizedCropVideo, ToTensorVideo
from fastvid.transforms.video import (
    CenterCrop,
    CenterCropVideo,
    ConvertFloatToUint8,
    ConvertUint8ToFloat,
    Div255,
    MoveChannelFront,
    MoveChannelRear,
    Normalize,
    NormalizeVideo,
    Permute,
    RandomCrop,
    RandomCropVideo,
    RandomHorizontalFlip,
    RandomHorizontalFlipVideo,
    RandomResizedCrop,
    RandomShortSideScale,
    ShortSideScale,
    UniformTemporalSubsample,
    UniformTemporalSubsampleRepeated,
)

__all__ = [
    "ApplyTransformToKey",
    "AugMix",
    "CenterCrop",
    "CenterCropVideo",
    "Compose",
    "ConvertFloatToUint8",
    "ConvertUint8ToFloat",
    "CutMix",
    "Div255",
    "Lambda",
    "MixUp",
    "MixVideo",
    "MoveChannelFront",
    "MoveChannelRear",
    "OpSampler",
    "PackPathway",
    "Normalize",
    "NormalizeVideo",
    "Permute",
    "RandAugment",
    "RandomCrop",
    "RandomCropVideo",
    "RandomHorizontalFlip",
    "RandomHorizontalFlipVideo",
    "RandomResizedCrop",
    "RandomResizedCropVideo",
    "RandomShortSideScale",
    "RemoveKey",
    "ShortSideScale",
    "TemporalPlan",
    "ToTensorVideo",
    "UniformCropVideo",
    "UniformTemporalSubsample",
    "UniformTemporalSubsampleRepeated",
    "accepts_uint8",
    "augmentations",
    "create_video_transform",
    "functional",
    "temporal_plan",
]
