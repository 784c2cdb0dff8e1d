"""``pytorchvideo.transforms.transforms`` under its own module path: a re-export of the fastvid classes of the
same names (see :mod:`fastvid.transforms` for what they do and how they fuse). Every class that module
defines is here."""

from fastvid.transforms.augment import OpSampler
from fastvid.transforms.compose import ApplyTransformToKey, RemoveKey, UniformCropVideo
from fastvid.transforms.video import (
    ConvertFloatToUint8,
    ConvertUint8ToFloat,
    Div255,
    MoveChannelFront,
    MoveChannelRear,
    Normalize,
    Permute,
    RandomResizedCrop,
    RandomShortSideScale,
    ShortSideScale,
    UniformTemporalSubsample,
    UniformTemporalSubsampleRepeated,
)

__all__ = [
    "ApplyTransformToKey",
    "ConvertFloatToUint8",
    "ConvertUint8ToFloat",
    "Div255",
    "MoveChannelFront",
    "MoveChannelRear",
    "Normalize",
    "OpSampler",
    "Permute",
    "RandomResizedCrop",
    "RandomShortSideScale",
    "RemoveKey",
    "ShortSideScale",
    "UniformCropVideo",
    "UniformTemporalSubsample",
    "UniformTemporalSubsampleRepeated",
]
