"""UCF101 stored as encoded videos (as pytorchvideo.data.Ucf101)."""

from __future__ import annotations

from typing import Any, Callable

import torch.utils.data

from fastvid.data.clip_sampling import ClipSampler
from fastvid.data.labeled_video_dataset import labeled_video_dataset

__all__ = ["Ucf101"]


def Ucf101(  # noqa: N802 - PyTorchVideo's name
    data_path: str,
    clip_sampler: ClipSampler,
    video_sampler=torch.utils.data.RandomSampler,
    transform: Callable[[dict], Any] | None = None,
    video_path_prefix: str = "",
    decode_audio: bool = False,
    decoder: str = "pyav",
    **kwargs,
):
    """The UCF101 dataset: ``data_path`` is a CSV of ``<path> <integer label>`` lines (paths relative to
    ``video_path_prefix``) or the folder of class folders (``UCF-101/ApplyEyeMakeup/*.avi``, labelled by the
    sorted class names). Same as :func:`~fastvid.data.Kinetics` and PyTorchVideo's Ucf101, except that
    ``decode_audio`` is False by default. ``map_style=True`` gives a dataset with a length."""
    return labeled_video_dataset(data_path, clip_sampler, video_sampler, transform, video_path_prefix,
                                 decode_audio=decode_audio, decoder=decoder, **kwargs)
