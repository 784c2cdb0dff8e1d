"""train-cuda: 3D ResNet-50 training throughput on a GPU at bf16 (issue #6, item 7). Skipped without CUDA.

Same model (PyTorchVideo's slow-path ResNet-50, ``fastvid.models.create_resnet``, 400 classes), same optimizer
(SGD), same DataLoader workers and batch, same tutorial train recipe (8 frames of a random 2 s clip, /255,
normalize, short side 256-320, crop 224, flip) on 10 s 340x256 H.264 videos (GOP 250), three feeds:

* ``fastvid-cpu-aug``: the workers decode only the 8 kept frames (uint8) and run the fused kernel;
* ``fastvid-gpu-aug``: the workers only decode (uint8 clips, packed by ``fastvid.gpu.collate_clips`` into pinned
  memory); one batched launch (``fastvid.gpu.BatchClipTransform``) scales, crops, flips and normalizes on the GPU;
* ``pytorchvideo-style``: PyTorchVideo's float32 clip of every frame of the window, then the steps one by one.

Records clips/s and the share of the epoch the GPU spent idle between steps, waiting for data (from CUDA
events: no step synchronizes, the host queues ahead as in a real loop). Run on the GPU machine by
``benchmarks/run_gpu.sh train``.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

import fastvid.transforms as T
from fastvid.data import Kinetics, make_clip_sampler
from fastvid.gpu import BatchClipTransform, collate_clips
from fastvid.models import create_resnet

from _video_cache import bench_csv
from test_bench_loader import StepByStep, fastvid_train_transform
from test_bench_train import TrainEpochs

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (run benchmarks/run_gpu.sh on a GPU machine)"
)

NUM_VIDEOS = 32
BATCH = 8
WORKERS = max(1, min(8, (os.cpu_count() or 2) - 2))
IMPLS = ["fastvid-cpu-aug", "fastvid-gpu-aug", "pytorchvideo-style"]




def _loader(impl: str, csv: str) -> DataLoader:
    sampler = make_clip_sampler("random", 2)
    if impl == "fastvid-cpu-aug":
        ds = Kinetics(csv, sampler, transform=fastvid_train_transform(), map_style=True)
        collate = None
    elif impl == "fastvid-gpu-aug":
        ds = Kinetics(csv, sampler, transform=T.ApplyTransformToKey("video", T.UniformTemporalSubsample(8)), map_style=True)
        collate = collate_clips
    else:
        ds = Kinetics(csv, sampler, transform=StepByStep(), use_frame_plan=False, map_style=True)
        collate = None
    return DataLoader(ds, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=WORKERS,
                      persistent_workers=True, pin_memory=True, collate_fn=collate)


@pytest.mark.benchmark(group="train-cuda")
@pytest.mark.parametrize("impl", IMPLS)
def test_train_resnet50_bf16_cuda(benchmark, impl):
    device = torch.device("cuda")
    num_videos = NUM_VIDEOS if not benchmark.disabled else 2 * BATCH
    loader = _loader(impl, bench_csv("train_cuda", num_videos, 400))
    torch.manual_seed(0)
    model = create_resnet(model_num_class=400).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    gpu_aug = BatchClipTransform(crop_size=224, min_size=256, max_size=320, flip_draw="python").to(device)

    def step(batch) -> int:
        if impl == "fastvid-gpu-aug":
            video = gpu_aug(batch["video"].to(device))
        else:
            video = batch["video"].to(device, non_blocking=True)
        label = batch["label"].to(device, non_blocking=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(video), label)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return video.shape[0]

    # no step synchronizes (the host queues ahead); the wait is the GPU's idle time between steps (CUDA events)
    epochs = TrainEpochs(loader, step, device=device)
    benchmark.pedantic(epochs.run, rounds=3 if not benchmark.disabled else 1, iterations=1,
                       warmup_rounds=1 if not benchmark.disabled else 0)
    assert all(n == num_videos // BATCH * BATCH for n in epochs.clips)
    info = dict(
        role="baseline" if impl == "pytorchvideo-style" else "fastvid",
        case=f"resnet50 bf16 train, {NUM_VIDEOS} videos 340x256 10s H.264 GOP 250, random 2s clip, 8x224x224, "
        f"batch {BATCH}, {WORKERS} workers, {torch.cuda.get_device_name(0)}",
        impl=impl,
        shape=[BATCH, 3, 8, 224, 224],
        dtype="bfloat16",
        workers=WORKERS,
        data_wait_frac=epochs.data_wait_frac,
        clips=epochs.clips[-1],
    )
    if benchmark.stats is not None:
        info["clips_per_s"] = epochs.clips[-1] / benchmark.stats.stats.median
    benchmark.extra_info.update(info)
    del loader
