"""Kinetics-400/600/700 stored as encoded videos (as pytorchvideo.data.Kinetics)."""

from __future__ import annotations

from typing import Any, Callable

import torch.utils.data

from fastvid.data.clip_sampling import ClipSampler
from fastvid.data.labeled_video_dataset import labeled_video_dataset

__all__ = ["Kinetics"]


def Kinetics(  # noqa: N802 - PyTorchVideo's name
    data_path: str,
    clip_sampler: ClipSampler,
    video_sampler=torch.utils.data.RandomSampler,
    transform: Callable[[dict], Any] | None = None,
    video_path_prefix: str = "",
    decode_audio: bool = False,
    decoder: str = "pyav",
    **kwargs,
):
    """The Kinetics dataset: ``data_path`` is a CSV of ``<path> <label>`` lines (paths relative to
    ``video_path_prefix``) or a folder with one sub-folder per class.

    Same arguments as PyTorchVideo's Kinetics, except that ``decode_audio`` is False by default (the
    tutorial decodes no audio). ``map_style=True`` gives a dataset with a length (see
    :func:`labeled_video_dataset`).
    """
    return labeled_video_dataset(data_path, clip_sampler, video_sampler, transform, video_path_prefix,
                                 decode_audio=decode_audio, decoder=decoder, **kwargs)
