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
    seen = []

    def epoch():
        n = 0
        for batch in loader:
            n += batch["video"].shape[0]
            assert batch["video"].shape[1:] == (3, 8, 224, 224) and batch["video"].dtype == torch.float32
        seen.append(n)
        return n

    benchmark.pedantic(epoch, rounds=3 if not benchmark.disabled else 1, iterations=1, warmup_rounds=1)
    assert all(n == num_videos * BATCH for n in seen)
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
