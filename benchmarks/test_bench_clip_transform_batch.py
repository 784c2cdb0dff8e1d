"""Group "clip_transform_batch-cpu": the batched op against a per-clip loop, on the CPU.

B = 8 decoded clips of 8 frames (uint8, (C, T, H, W) views of THWC frames, as the frame-index decoder
hands them over) of 256x340 sources, each with its own RandomShortSideScale(256, 320) size, random
224 x 224 crop and flip (drawn once with :class:`fastvid.gpu.BatchClipTransform`), normalized float32
out, (8, 3, 8, 224, 224).

- fastvid: ``fastvid.ops.clip_transform_batch`` on the list of clips (one call).
- fastvid-packed: the same on the :class:`PackedClips` buffer that ``collate_clips`` makes.
- per-clip-loop (baseline): ``fastvid.ops.clip_transform`` clip by clip, then ``torch.stack``, which is
  what a collate of CPU-transformed clips amounts to.

At 1 and 2 threads. The CPU batched op runs each clip through the CPU kernel (parallel over clips when
there are at least as many clips as threads), so the ratio shows what the batching saves on the CPU:
the stack copy and, with many small clips, better use of the threads.
"""

from __future__ import annotations

import pytest
import torch

from fastvid import ops
from fastvid.gpu import BatchClipTransform
from fastvid.ops import PackedClips

B, T, H, W, CROP = 8, 8, 256, 340, 224


@pytest.fixture(scope="module")
def batch():
    g = torch.Generator().manual_seed(0)
    videos = [torch.randint(0, 256, (T, H, W, 3), dtype=torch.uint8, generator=g).permute(3, 0, 1, 2) for _ in range(B)]
    transform = BatchClipTransform(crop_size=CROP, min_size=256, max_size=320, generator=torch.Generator().manual_seed(1))
    sizes, crops, flips = transform.draw_params([(H, W)] * B)
    return videos, PackedClips.pack(videos), sizes, crops, flips


@pytest.fixture
def threads_guard():
    old = torch.get_num_threads()
    yield
    torch.set_num_threads(old)


@pytest.mark.benchmark(group="clip_transform_batch-cpu")
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", ["fastvid", "fastvid-packed", "per-clip-loop"])
def test_clip_transform_batch_cpu(benchmark, batch, threads_guard, impl, threads):
    videos, packed, sizes, crops, flips = batch

    def batched():
        return ops.clip_transform_batch(videos, sizes=sizes, crops=crops, flips=flips)

    def batched_packed():
        return ops.clip_transform_batch(packed, sizes=sizes, crops=crops, flips=flips)

    def per_clip():
        return torch.stack(
            [
                ops.clip_transform(v, size=sizes[b].tolist(), crop=crops[b].tolist(), flip=bool(flips[b]))
                for b, v in enumerate(videos)
            ]
        )

    fn = {"fastvid": batched, "fastvid-packed": batched_packed, "per-clip-loop": per_clip}[impl]
    torch.set_num_threads(threads)
    out = fn()
    assert out.shape == (B, 3, T, CROP, CROP)
    assert torch.equal(out, per_clip())
    benchmark.pedantic(fn, rounds=30, iterations=1, warmup_rounds=2)
    median = benchmark.stats.stats.median if benchmark.stats else None
    benchmark.extra_info.update(
        role="baseline" if impl == "per-clip-loop" else "fastvid",
        case=f"B={B} {W}x{H} T{T} short256-320 crop{CROP} flip float32, threads={threads}",
        impl=impl,
        threads=threads,
        shape=f"{B} x (3, {T}, {H}, {W}) uint8 THWC views",
        dtype="uint8 -> float32",
        clips=B,
        clips_per_s=(B / median) if median else None,
    )
