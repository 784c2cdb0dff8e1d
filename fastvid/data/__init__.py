"""Kinetics-style video data: paths -> video sampler -> clip sampler -> frame-index decoding -> samples.

Mirrors ``pytorchvideo.data`` (change the import), and decodes only the frames the transform keeps
when the transform is a fastvid one with a temporal plan.
"""

from fastvid.data.clip_sampling import (
    ClipInfo,
    ClipInfoList,
    ClipSampler,
    ConstantClipsPerVideoSampler,
    RandomClipSampler,
    RandomMultiClipSampler,
    UniformClipSampler,
    make_clip_sampler,
)
from fastvid.data.encoded_video import EncodedVideo, EncodedVideoPyAV, VideoIndex, default_decoder_threads
from fastvid.data.frame_plan import ClipFramePlan, plan_clip_frames, uniform_subsample_indices
from fastvid.data.kinetics import Kinetics
from fastvid.data.labeled_video_dataset import (
    LabeledVideoDataset,
    LabeledVideoMapDataset,
    VideoFailure,
    labeled_video_dataset,
)
from fastvid.data.labeled_video_paths import LabeledVideoPaths
from fastvid.data.utils import MultiProcessSampler

__all__ = [
    "Kinetics",
    "labeled_video_dataset",
    "LabeledVideoDataset",
    "LabeledVideoMapDataset",
    "LabeledVideoPaths",
    "VideoFailure",
    "make_clip_sampler",
    "ClipInfo",
    "ClipInfoList",
    "ClipSampler",
    "RandomClipSampler",
    "UniformClipSampler",
    "ConstantClipsPerVideoSampler",
    "RandomMultiClipSampler",
    "EncodedVideo",
    "EncodedVideoPyAV",
    "VideoIndex",
    "default_decoder_threads",
    "ClipFramePlan",
    "plan_clip_frames",
    "uniform_subsample_indices",
    "MultiProcessSampler",
]
