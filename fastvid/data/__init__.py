"""Kinetics-style video data: paths -> video sampler -> clip sampler -> frame-index decoding -> samples.

Mirrors ``pytorchvideo.data`` (change the import), and decodes only the frames the transform keeps
when the transform is a fastvid one with a temporal plan::

    import fastvid.data, fastvid.transforms as T
    train = fastvid.data.Kinetics(
        "train.csv",                                        # "<path> <label>" lines, or class folders
        clip_sampler=fastvid.data.make_clip_sampler("random", 2.0),
        transform=T.ApplyTransformToKey("video", T.Compose([T.UniformTemporalSubsample(8), ...])),
    )                                                       # decodes 8 frames per clip, as uint8
    loader = torch.utils.data.DataLoader(train, batch_size=8, num_workers=8)
    train.failures                                          # videos skipped so far, with reasons

* ``map_style=True`` gives a dataset with ``len`` = number of clips (random: one per video; constant
  and uniform samplers: every clip), for DistributedSampler / Lightning's automatic sampler.
* ``frame_plan=8`` decodes 8 uint8 frames per clip whatever the transform (e.g. GPU augmentation).
* Differences from PyTorchVideo: ``decode_audio`` defaults to False; failures are listed in
  ``dataset.failures`` (from every worker) and N consecutive failures raise; the decoder uses 1 thread
  inside DataLoader workers unless ``decoder_threads`` says otherwise.
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
from fastvid.data.hmdb51 import Hmdb51, Hmdb51LabeledVideoPaths
from fastvid.data.kinetics import Kinetics
from fastvid.data.ucf101 import Ucf101
from fastvid.data.labeled_video_dataset import (
    LabeledVideoDataset,
    LabeledVideoMapDataset,
    VideoFailure,
    labeled_video_dataset,
)
from fastvid.data.labeled_video_paths import LabeledVideoPaths
from fastvid.data.splits import hmdb51_split_csvs, ucf101_split_csvs
from fastvid.data.utils import MultiProcessSampler, skip_none

__all__ = [
    "Kinetics",
    "Ucf101",
    "Hmdb51",
    "Hmdb51LabeledVideoPaths",
    "ucf101_split_csvs",
    "hmdb51_split_csvs",
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
    "skip_none",
]
