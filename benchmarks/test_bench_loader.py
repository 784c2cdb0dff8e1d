"""loader: clips/s of a DataLoader (2 workers, batch 8) over 32 videos (10 s, 340x256 H.264, GOP 250) with
the PyTorchVideo tutorial's train transform: UniformTemporalSubsample(8) -> Div255 -> Normalize(0.45, 0.225)
-> RandomShortSideScale(256, 320) -> RandomCropVideo(224) -> RandomHorizontalFlipVideo(0.5), one random
2 s clip per video.

fastvid: fastvid.data.Kinetics + fastvid.transforms (decodes only the 8 kept frames as uint8, one fused
kernel call). Baseline (PyTorchVideo-style): the same dataset with frame planning off, so each clip is
PyTorchVideo's float32 clip of every frame of the window, and the steps run one by one as PyTorchVideo's and
torchvision's classes compute them (written here with plain torch ops).
"""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

import fastvid.transforms as T
from fastvid.data import Kinetics, make_clip_sampler

from _loader_epochs import time_loader_epochs
from _video_cache import bench_csv

NUM_VIDEOS = 32
BATCH = 8
WORKERS = 2
MEAN, STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)


def fastvid_train_transform():
    return T.ApplyTransformToKey(
        "video",
        T.Compose([
            T.UniformTemporalSubsample(8),
            T.Div255(),
            T.Normalize(MEAN, STD),
            T.RandomShortSideScale(min_size=256, max_size=320),
            T.RandomCropVideo(224),
            T.RandomHorizontalFlipVideo(p=0.5),
        ]),
    )


class StepByStep:
    """The tutorial's train transform, each step a separate pass as PyTorchVideo/torchvision compute it."""

    def __call__(self, sample: dict) -> dict:
        x = sample["video"]  # float32 (C, T, H, W), 0-255, every frame of the window
        t = x.shape[1]
        idx = torch.clamp(torch.linspace(0, t - 1, 8), 0, t - 1).long()
        x = torch.index_select(x, 1, idx)  # UniformTemporalSubsample
        x = x / 255.0  # Div255
        m = torch.tensor(MEAN).view(-1, 1, 1, 1)
        s = torch.tensor(STD).view(-1, 1, 1, 1)
        x = (x - m) / s  # Normalize
        size = int(torch.randint(256, 320 + 1, (1,)).item())  # RandomShortSideScale
        c, t, h, w = x.shape
        new_h, new_w = (int(h / w * size), size) if w < h else (size, int(w / h * size))
        x = F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False)
        i = int(torch.randint(0, new_h - 224 + 1, (1,)).item())  # RandomCropVideo
        j = int(torch.randint(0, new_w - 224 + 1, (1,)).item())
        x = x[..., i : i + 224, j : j + 224]
        if random.random() < 0.5:  # RandomHorizontalFlipVideo
            x = x.flip(-1)
        sample["video"] = x.contiguous()
        return sample




@pytest.mark.benchmark(group="loader")
@pytest.mark.parametrize("impl", ["fastvid", "pytorchvideo-style"])
def test_loader_clips_per_second(benchmark, impl):
    num_videos = NUM_VIDEOS if not benchmark.disabled else 4
    csv = bench_csv("loader", num_videos, 4)
    if impl == "fastvid":
        ds = Kinetics(csv, make_clip_sampler("random", 2), transform=fastvid_train_transform())
        assert ds.uses_frame_plan
    else:
        ds = Kinetics(csv, make_clip_sampler("random", 2), transform=StepByStep(), use_frame_plan=False)
    loader = DataLoader(ds, batch_size=BATCH, num_workers=WORKERS, persistent_workers=True)
    time_loader_epochs(benchmark, loader, num_videos)
    info = dict(
        role="fastvid" if impl == "fastvid" else "baseline",
        case=f"{NUM_VIDEOS} videos 340x256 10s H.264 GOP 250, random 2s clip, tutorial train transform, "
        f"batch {BATCH}, {WORKERS} workers",
        impl=impl,
        shape=[BATCH, 3, 8, 224, 224],
        dtype="float32",
        threads=WORKERS,
        input="uint8 planned frames" if impl == "fastvid" else "float32 all frames",
    )
    if benchmark.stats is not None:
        info["clips_per_s"] = num_videos / benchmark.stats.stats.median
    benchmark.extra_info.update(info)
    loader = None  # drops the loader, shutting its persistent workers down
