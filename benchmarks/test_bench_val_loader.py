"""loader-val: validation views per second of a DataLoader (2 workers) over 8 videos (10 s, 340x256 H.264) with
fastvid-train's validation protocol: 10 clips of 2 s spread over each video (ConstantClipsPerVideoSampler) x 3
crops (UniformCropVideo), UniformTemporalSubsample(8) -> Div255 -> Normalize -> ShortSideScale(256) -> crop 224.
Videos with a keyframe every 16 frames (fastvid-prepare's output) and every 250 (raw Kinetics downloads; the
PyTorchVideo-style baseline runs on these only: the loader group compares it on training clips).

fastvid: KineticsDataModule's validation loader, batch 30 (one video's views): each worker decodes a video's
windows in shared passes (LabeledVideoMapDataset.__getitems__). Baselines: the same dataset read item by item
(what a batch not holding a video's windows together gets: each window decoded from its own keyframe seek; the
crops of a window still share its decode); and PyTorchVideo-style: every frame of each window decoded to float32
(frame planning off), the steps run one by one (plain torch ops, as PyTorchVideo's and torchvision's classes compute
them).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from fastvid.data import skip_none
from fastvid.train.data import KineticsDataModule

from _loader_epochs import time_loader_epochs
from _video_cache import bench_csv

NUM_VIDEOS = 8
CLIPS, CROPS = 10, 3
BATCH = CLIPS * CROPS
WORKERS = 2
MEAN, STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)


class ItemByItem(Dataset):
    """The dataset without its batch read (__getitems__): the DataLoader asks for one item at a time."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]


def step_by_step_val(sample: dict) -> dict:
    """ShortSideScale(256) + UniformCropVideo(224) after subsample / Div255 / Normalize, one pass each."""
    x = sample["video"]  # float32 (C, T, H, W), 0-255, every frame of the window
    t = x.shape[1]
    x = torch.index_select(x, 1, torch.clamp(torch.linspace(0, t - 1, 8), 0, t - 1).long())
    x = x / 255.0
    x = (x - torch.tensor(MEAN).view(-1, 1, 1, 1)) / torch.tensor(STD).view(-1, 1, 1, 1)
    c, t, h, w = x.shape
    new_h, new_w = (int(h / w * 256), 256) if w < h else (256, int(w / h * 256))
    x = F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False)
    a = sample["aug_index"]  # UniformCropVideo: left / centre / right along the long side
    i = (new_h - 224) // 2
    j = [0, (new_w - 224) // 2, new_w - 224][a]
    sample["video"] = x[..., i : i + 224, j : j + 224].contiguous()
    return sample


@pytest.mark.benchmark(group="loader-val")
@pytest.mark.parametrize("gop, impl", [(16, "fastvid"), (16, "fastvid-item-by-item"),
                                       (250, "fastvid"), (250, "fastvid-item-by-item"), (250, "pytorchvideo-style")])
def test_val_loader_views_per_second(benchmark, impl, gop):
    num_videos = NUM_VIDEOS if not benchmark.disabled else 2
    csv = bench_csv("val", num_videos, 4, gop=gop)
    dm = KineticsDataModule(None, csv, batch_size=8, val_batch_size=BATCH, num_workers=WORKERS, val_clips_per_video=CLIPS,
                            val_crops=CROPS, min_short_side=256, max_short_side=320, pin_memory=False)
    dm.setup("validate")
    ds = dm.val_dataset
    if impl == "pytorchvideo-style":
        from fastvid.data import LabeledVideoMapDataset, make_clip_sampler

        ds = LabeledVideoMapDataset(ds._labeled_videos, make_clip_sampler("constant_clips_per_video", 2.0, CLIPS, CROPS),
                                    transform=step_by_step_val, use_frame_plan=False, on_failure="skip")
        ds = ItemByItem(ds)
    elif impl == "fastvid-item-by-item":
        ds = ItemByItem(ds)
    else:
        assert ds.uses_frame_plan
    loader = DataLoader(ds, batch_size=BATCH, num_workers=WORKERS, persistent_workers=True, collate_fn=skip_none())
    time_loader_epochs(benchmark, loader, num_videos * BATCH)
    info = dict(
        role="fastvid" if impl == "fastvid" else "baseline",
        case=f"{NUM_VIDEOS} videos 340x256 10s H.264 GOP {gop}, {CLIPS} clips x {CROPS} crops of 2s, val transform, "
        f"batch {BATCH}, {WORKERS} workers",
        impl=impl,
        shape=[BATCH, 3, 8, 224, 224],
        dtype="float32",
        threads=WORKERS,
        input="float32 all frames" if impl == "pytorchvideo-style" else "uint8 planned frames",
    )
    if benchmark.stats is not None:
        info["clips_per_s"] = num_videos * BATCH / benchmark.stats.stats.median
    benchmark.extra_info.update(info)
    loader = None  # drops the loader, shutting its persistent workers down


def step_by_step_center(sample: dict) -> dict:
    sample["aug_index"] = 1  # UniformCropVideo's centre crop is CenterCropVideo's on these sizes
    return step_by_step_val(sample)


@pytest.mark.benchmark(group="loader-val")
@pytest.mark.parametrize("impl", ["fastvid", "fastvid-window-by-window", "pytorchvideo-style"])
def test_iterable_val_loader_clips_per_second(benchmark, impl):
    """PyTorchVideo's tutorial validation loader: Kinetics (iterable), uniform 2 s clips (5 per 10 s video, no
    overlap), center crop, batch 8, GOP-250 videos. fastvid reads a video's next windows with each window;
    window by window is the same dataset with prefetch_bytes 0."""
    from fastvid.data import Kinetics, make_clip_sampler
    from fastvid.train.data import val_transform

    num_videos = NUM_VIDEOS if not benchmark.disabled else 2
    csv = bench_csv("val", num_videos, 4, gop=250)
    sampler = make_clip_sampler("uniform", 2.0)
    if impl == "pytorchvideo-style":
        ds = Kinetics(csv, sampler, transform=step_by_step_center, use_frame_plan=False,
                      video_sampler=torch.utils.data.SequentialSampler)
    else:
        ds = Kinetics(csv, sampler, video_sampler=torch.utils.data.SequentialSampler,
                      transform=val_transform(num_frames=8, crop_size=224, short_side=256, crops=1, mean=MEAN, std=STD))
        assert ds.uses_frame_plan
        if impl == "fastvid-window-by-window":
            ds.prefetch_bytes = 0
    loader = DataLoader(ds, batch_size=8, num_workers=WORKERS, persistent_workers=True)
    time_loader_epochs(benchmark, loader, num_videos * 5)
    info = dict(
        role="fastvid" if impl == "fastvid" else "baseline",
        case=f"{NUM_VIDEOS} videos 340x256 10s H.264 GOP 250, Kinetics iterable, uniform 2s clips (5 per video), "
        f"center crop, batch 8, {WORKERS} workers",
        impl=impl,
        shape=[8, 3, 8, 224, 224],
        dtype="float32",
        threads=WORKERS,
        input="float32 all frames" if impl == "pytorchvideo-style" else "uint8 planned frames",
    )
    if benchmark.stats is not None:
        info["clips_per_s"] = num_videos * 5 / benchmark.stats.stats.median
    benchmark.extra_info.update(info)
    loader = None
