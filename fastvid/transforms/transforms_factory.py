"""``pytorchvideo.transforms.transforms_factory`` under its own module path: re-exports
:func:`fastvid.transforms.create_video_transform` (see :mod:`fastvid.transforms.factory`)."""

from fastvid.transforms.factory import create_video_transform

__all__ = ["create_video_transform"]
