"""train-cpu: training-loop clips/s on the CPU, the 3D ResNet fed by fastvid vs by a PyTorchVideo-style pipeline.

Same model (fastvid's resnet_small, SGD), same DataLoader (2 workers, batch 8, one random 2 s clip per
video of 16 videos, 10 s 340x256 H.264), same tutorial train transform (8 frames, /255, normalize, short
side 256-320, crop 224, flip). fastvid: frame-plan decoding of the 8 kept uint8 frames + one fused kernel
call. Baseline: PyTorchVideo's float32 clip of every frame of the window, then the steps one by one
(``StepByStep`` of test_bench_loader.py). Records clips/s and the share of the loop spent waiting for data.
"""

from __future__ import annotations

import os
import time

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from fastvid.data import Kinetics, make_clip_sampler
from fastvid.models import create_small_resnet

from _video_cache import CACHE, bench_video
from test_bench_loader import StepByStep, fastvid_train_transform

NUM_VIDEOS = 16
BATCH = 8
WORKERS = 2


def _csv(num_videos: int) -> str:
    paths = [bench_video(250, seed=i) for i in range(num_videos)]
    path = os.path.join(CACHE, f"train_{num_videos}.csv")
    with open(path, "w") as f:
        for i, p in enumerate(paths):
            f.write(f"{p} {i % 4}\n")
    return path


@pytest.mark.benchmark(group="train-cpu")
@pytest.mark.parametrize("impl", ["fastvid", "pytorchvideo-style"])
def test_train_loop_clips_per_second(benchmark, impl):
    num_videos = NUM_VIDEOS if not benchmark.disabled else BATCH
    csv = _csv(num_videos)
    if impl == "fastvid":
        ds = Kinetics(csv, make_clip_sampler("random", 2), transform=fastvid_train_transform(), map_style=True)
        assert ds.uses_frame_plan
    else:
        ds = Kinetics(csv, make_clip_sampler("random", 2), transform=StepByStep(), use_frame_plan=False, map_style=True)
    loader = DataLoader(ds, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=WORKERS, persistent_workers=True)
    torch.manual_seed(0)
    model = create_small_resnet(model_num_class=4)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    waits, totals, clips = [], [], []

    def epoch():
        n, wait = 0, 0.0
        start = last = time.perf_counter()
        for batch in loader:
            now = time.perf_counter()
            wait += now - last
            loss = F.cross_entropy(model(batch["video"]), batch["label"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            n += batch["video"].shape[0]
            last = time.perf_counter()
        totals.append(last - start)
        waits.append(wait)
        clips.append(n)
        return n

    benchmark.pedantic(epoch, rounds=2 if not benchmark.disabled else 1, iterations=1,
                       warmup_rounds=1 if not benchmark.disabled else 0)
    assert all(n == num_videos // BATCH * BATCH for n in clips)
    info = dict(
        role="fastvid" if impl == "fastvid" else "baseline",
        case=f"resnet_small train loop, {NUM_VIDEOS} videos 340x256 10s H.264 GOP 250, random 2s clip, tutorial "
        f"train transform 8x224x224, batch {BATCH}, {WORKERS} workers",
        impl=impl,
        shape=[BATCH, 3, 8, 224, 224],
        dtype="float32",
        threads=torch.get_num_threads(),
        workers=WORKERS,
        data_wait_frac=sum(waits) / sum(totals),
    )
    if benchmark.stats is not None:
        info["clips_per_s"] = clips[-1] / benchmark.stats.stats.mean
    benchmark.extra_info.update(info)
    del loader
