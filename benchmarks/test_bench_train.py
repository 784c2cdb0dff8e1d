"""train-cpu: training-loop clips/s on the CPU, the 3D ResNet fed by fastvid vs by a PyTorchVideo-style pipeline.

Same model (fastvid's resnet_small, SGD), same DataLoader (2 workers, batch 8, one random 2 s clip per
video of 16 videos, 10 s 340x256 H.264), same tutorial train transform (8 frames, /255, normalize, short
side 256-320, crop 224, flip). fastvid: frame-plan decoding of the 8 kept uint8 frames + one fused kernel
call. Baseline: PyTorchVideo's float32 clip of every frame of the window, then the steps one by one
(``StepByStep`` of test_bench_loader.py). Records clips/s and the share of the loop spent waiting for data.
"""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from fastvid.data import Kinetics, make_clip_sampler
from fastvid.models import create_small_resnet
from fastvid.train.callbacks import step_clock

from _video_cache import bench_csv
from test_bench_loader import StepByStep, fastvid_train_transform

NUM_VIDEOS = 16
BATCH = 8
WORKERS = 2




class TrainEpochs:
    """Runs epochs of a training loop over ``loader`` (``step(batch)`` trains on a batch and returns its
    clip count) and records per epoch the wall time, the time spent waiting for the next batch and the
    clips seen.

    On the CPU the wait is the host time from the end of one step to the arrival of the next batch. With a
    CUDA ``device`` nothing synchronizes inside the epoch (as in a real training loop, the host queues work
    ahead): each step's start and end are CUDA events, the wait is the device's idle time between one step's
    end and the next one's start (zero while the host keeps ahead), and the epoch ends with one synchronize.
    """

    def __init__(self, loader, step, device: torch.device | str | None = None) -> None:
        self.loader, self.step = loader, step
        self.device = torch.device(device if device is not None else "cpu")
        self.clock = step_clock(self.device)  # fastvid-train's step timing (CUDA events on a GPU)
        self.totals: list[float] = []
        self.waits: list[float] = []
        self.clips: list[int] = []

    def _synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def run(self) -> int:
        n, marks = 0, []
        self._synchronize()
        start = time.perf_counter()
        last = self.clock.mark()
        for batch in self.loader:
            begin = self.clock.mark()
            n += self.step(batch)
            end = self.clock.mark()
            marks.append((last, begin))
            last = end
        self._synchronize()
        self.totals.append(time.perf_counter() - start)
        self.waits.append(sum(self.clock.seconds(a, b) for a, b in marks))
        self.clips.append(n)
        return n

    @property
    def data_wait_frac(self) -> float:
        return sum(self.waits) / sum(self.totals)


@pytest.mark.benchmark(group="train-cpu")
@pytest.mark.parametrize("impl", ["fastvid", "pytorchvideo-style"])
def test_train_loop_clips_per_second(benchmark, impl):
    num_videos = NUM_VIDEOS if not benchmark.disabled else BATCH
    csv = bench_csv("train", num_videos, 4)
    if impl == "fastvid":
        ds = Kinetics(csv, make_clip_sampler("random", 2), transform=fastvid_train_transform(), map_style=True)
        assert ds.uses_frame_plan
    else:
        ds = Kinetics(csv, make_clip_sampler("random", 2), transform=StepByStep(), use_frame_plan=False, map_style=True)
    loader = DataLoader(ds, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=WORKERS, persistent_workers=True)
    torch.manual_seed(0)
    model = create_small_resnet(model_num_class=4)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(batch) -> int:
        loss = F.cross_entropy(model(batch["video"]), batch["label"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return batch["video"].shape[0]

    epochs = TrainEpochs(loader, step)
    benchmark.pedantic(epochs.run, rounds=2 if not benchmark.disabled else 1, iterations=1,
                       warmup_rounds=1 if not benchmark.disabled else 0)
    assert all(n == num_videos // BATCH * BATCH for n in epochs.clips)
    info = dict(
        role="fastvid" if impl == "fastvid" else "baseline",
        case=f"resnet_small train loop, {NUM_VIDEOS} videos 340x256 10s H.264 GOP 250, random 2s clip, tutorial "
        f"train transform 8x224x224, batch {BATCH}, {WORKERS} workers",
        impl=impl,
        shape=[BATCH, 3, 8, 224, 224],
        dtype="float32",
        threads=torch.get_num_threads(),
        workers=WORKERS,
        data_wait_frac=epochs.data_wait_frac,
    )
    if benchmark.stats is not None:
        info["clips_per_s"] = epochs.clips[-1] / benchmark.stats.stats.median
    benchmark.extra_info.update(info)
    del loader
