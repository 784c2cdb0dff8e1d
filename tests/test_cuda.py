"""The CUDA kernels (every test here carries the `cuda` marker and skips cleanly without a GPU).

clip_transform on CUDA == the CPU kernel (float32 within 1e-4, uint8 within 1 level, bf16 / fp16 within
their rounding) over many shapes, layouts, strides, dtypes, antialias and flips; the batched ops (list and
packed) == clip-by-clip on CUDA (identical) and == the CPU batched op; BatchClipTransform on CUDA == on
the CPU; opcheck and torch.compile on CUDA; the current stream and the device guard are respected; 64-bit
offsets in the source and in the output; pinned collate and the asynchronous copy.

Run on a GPU machine: `pytest -m cuda tests/test_cuda.py` (benchmarks/run_gpu.sh does it, also under
compute-sanitizer memcheck with `-k "not huge"`).
"""

from __future__ import annotations

import os

import pytest
import torch

from fastvid import ops, reference
from fastvid.gpu import BatchClipTransform, collate_clips
from fastvid.ops import PackedClips

from _clips import EDGE_SHAPES as SHAPES
from _clips import assert_close_out as _assert_close
from _clips import clip as _clip
from _clips import gen as _gen
from _clips import random_batch as _random_batch

pytestmark = pytest.mark.cuda

MEAN = (0.45, 0.45, 0.45)
STD = (0.225, 0.225, 0.225)


def _to_cuda_same_strides(v: torch.Tensor) -> torch.Tensor:
    """The clip on CUDA with the same strides (a view of a moved copy of its underlying buffer)."""
    base = v
    while base._base is not None:
        base = base._base
    storage = base.cuda()
    return storage.as_strided(v.shape, v.stride(), v.storage_offset() - base.storage_offset())


@pytest.mark.parametrize("case", SHAPES, ids=lambda c: f"{c[0]}x{c[1]}x{c[2]}x{c[3]}->{c[4]}")
@pytest.mark.parametrize("view", ["thwc", "cthw", "sliced", "expanded"])
@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
def test_cuda_matches_cpu(case, view, in_dtype):
    c, t, h, w, size, crop, fi = case
    video = _clip(c, t, h, w, dtype=in_dtype, view=view, seed=h * w + t)
    mean, std = [0.4 + 0.02 * i for i in range(c)], [0.2 + 0.01 * i for i in range(c)]
    for antialias in (False, True):
        for flip in (False, True):
            kw = dict(frame_indices=fi, size=size, crop=crop, flip=flip, antialias=antialias, mean=mean, std=std)
            got = ops.clip_transform(_to_cuda_same_strides(video), **kw)
            assert got.is_cuda and got.is_contiguous()
            _assert_close(got, ops.clip_transform(video, **kw), torch.float32)
            kw.update(scale=None, mean=None, std=None, out_dtype=torch.uint8)
            _assert_close(ops.clip_transform(_to_cuda_same_strides(video), **kw), ops.clip_transform(video, **kw), torch.uint8)


@pytest.mark.parametrize("out_dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("layout", ["CTHW", "THWC"])
def test_cuda_half_outputs_and_layouts(out_dtype, layout):
    video = _clip(3, 4, 64, 80, seed=3, view="thwc")
    if layout == "THWC":
        video = video.permute(1, 2, 3, 0)
    kw = dict(layout=layout, size=(72, 90), crop=(3, 5, 56, 64), flip=True, out_dtype=out_dtype)
    _assert_close(ops.clip_transform(video.cuda(), **kw), ops.clip_transform(video, **kw), out_dtype)


def test_cuda_frame_indices_on_device_and_input_not_mutated():
    video = _clip(3, 6, 40, 50, seed=9).cuda()
    before = video.clone()
    fi = torch.tensor([5, 0, 3], device="cuda")
    got = ops.clip_transform(video, frame_indices=fi, size=(30, 37), crop=(1, 2, 20, 21))
    want = ops.clip_transform(video.cpu(), frame_indices=[5, 0, 3], size=(30, 37), crop=(1, 2, 20, 21))
    _assert_close(got, want, torch.float32)
    assert torch.equal(video, before)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
def test_cuda_batched_equals_clip_by_clip_and_cpu(seed, antialias, in_dtype):
    videos, frame_rows, sizes, crops, flips = _random_batch(seed, dtype=in_dtype)
    cuda_videos = [_to_cuda_same_strides(v) for v in videos]
    kw = dict(frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, antialias=antialias)
    got = ops.clip_transform_batch(cuda_videos, **kw)
    assert got.is_cuda and got.shape == (len(videos), 3, 4, 24, 20)
    one = torch.stack(
        [
            ops.clip_transform(v, frame_indices=frame_rows[b], size=sizes[b], crop=crops[b], flip=flips[b], antialias=antialias)
            for b, v in enumerate(cuda_videos)
        ]
    )
    assert torch.equal(got, one)  # the same kernel and taps: identical
    _assert_close(got, ops.clip_transform_batch(videos, **kw), torch.float32)
    # The packed buffer, on the device, with CPU descriptors.
    packed = PackedClips.pack(videos).to("cuda")
    assert packed.buffer.is_cuda and packed.offsets.device.type == "cpu"
    # (packing makes an expanded clip dense: other strides, same values)
    _assert_close(ops.clip_transform_batch(packed, **kw), got, torch.float32)


@pytest.mark.parametrize("out_dtype", [torch.bfloat16, torch.float16, torch.uint8])
def test_cuda_batched_out_dtypes(out_dtype):
    videos, frame_rows, sizes, crops, flips = _random_batch(77)
    kw = dict(frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, out_dtype=out_dtype)
    if out_dtype == torch.uint8:
        kw.update(scale=None, mean=None, std=None)
    got = ops.clip_transform_batch(PackedClips.pack(videos).to("cuda"), **kw)
    _assert_close(got, ops.clip_transform_batch(videos, **kw), out_dtype)
    _assert_close(got, reference.clip_transform_batch(videos, **kw), out_dtype)


def test_cuda_gpu_transform_equals_cpu():
    g = _gen(5)
    items = [
        {"video": torch.randint(0, 256, (8, h, w, 3), dtype=torch.uint8, generator=g).permute(3, 0, 1, 2), "label": i}
        for i, (h, w) in enumerate([(256, 340), (240, 320), (720, 1280), (300, 260)])
    ]
    batch = collate_clips(items)
    assert batch["video"].is_pinned()  # main process with CUDA: pinned
    transform = BatchClipTransform(crop_size=224, min_size=256, max_size=320)
    torch.manual_seed(0)
    want = transform(batch)["video"]
    torch.manual_seed(0)
    on_device = {k: (v.to("cuda") if isinstance(v, (torch.Tensor, PackedClips)) else v) for k, v in batch.items()}
    got = transform(on_device)["video"]
    assert got.is_cuda
    _assert_close(got, want, torch.float32)


def test_cuda_augmentation_and_validation_views_queue_without_waiting_for_the_device():
    # What runs on the device in a training or validation step of VideoClassificationModule with GPU
    # augmentation: BatchClipTransform, UniformCropBatchTransform (planned on the host by prepare()) and the
    # non-blocking copy of the video-level scores: none of it may wait for the device (a sync per step
    # stalls the pipeline).
    from fastvid.train.gpu_val import UniformCropBatchTransform
    from fastvid.train.module import _HostCopy

    g = _gen(6)
    items = [
        {"video": torch.randint(0, 256, (3, 8, h, w), dtype=torch.uint8, generator=g), "label": i % 5,
         "video_index": i // 3, "aug_index": i % 3}
        for i, (h, w) in enumerate([(256, 340), (240, 320), (720, 1280), (300, 260), (256, 256), (320, 240)])
    ]
    batch = collate_clips(items)
    val = UniformCropBatchTransform(crop_size=224, short_side=256)
    train = BatchClipTransform(crop_size=224, min_size=256, max_size=320)
    want_val = val(batch)["video"]
    torch.manual_seed(1)
    want_train = train(batch)["video"]
    prepared = val.prepare(batch)
    on_device = {k: (v.to("cuda") if isinstance(v, (torch.Tensor, PackedClips)) else v) for k, v in prepared.items()}
    logits = torch.randn(len(items), 5, generator=g)
    logits_cuda = logits.cuda()
    torch.cuda.synchronize()
    torch.manual_seed(1)
    torch.cuda.set_sync_debug_mode("error")
    try:
        got_train = train(on_device)["video"]
        got_val = val(on_device)["video"]
        copy = _HostCopy(logits_cuda.softmax(dim=-1), on_device["video_index"], on_device["label"])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    _assert_close(got_train, want_train, torch.float32)
    _assert_close(got_val, want_val, torch.float32)
    probs, video_index, label = copy.get()
    assert probs.is_pinned() and copy.event is not None
    torch.testing.assert_close(probs, logits.softmax(dim=-1))
    assert torch.equal(video_index, batch["video_index"]) and torch.equal(label, batch["label"])


def test_cuda_opcheck():
    videos, frame_rows, sizes, crops, flips = _random_batch(4)
    cuda_videos = [v.cuda() for v in videos]
    fi, sz, cr, fl = torch.tensor(frame_rows), torch.tensor(sizes), torch.tensor(crops), torch.tensor(flips)
    offsets = cr[:, :2].contiguous()
    torch.library.opcheck(
        torch.ops.fastvid.clip_transform.default,
        (cuda_videos[0], "CTHW", fi[0], list(sizes[0]), list(crops[0]), True, 1 / 255, list(MEAN), list(STD), False, torch.float32),
    )
    torch.library.opcheck(
        torch.ops.fastvid.clip_transform_batch.default,
        (cuda_videos, "CTHW", fi, sz, offsets, [24, 20], fl, 1 / 255, list(MEAN), list(STD), True, torch.bfloat16),
    )
    packed = PackedClips.pack(videos).to("cuda")
    torch.library.opcheck(
        torch.ops.fastvid.clip_transform_batch_packed.default,
        (packed.buffer, packed.offsets, packed.shapes, packed.strides, "CTHW", 3, fi, sz, offsets, [24, 20], fl,
         None, None, None, False, torch.uint8),
    )


def test_cuda_torch_compile_fullgraph():
    videos, frame_rows, sizes, crops, flips = _random_batch(6)
    cuda_videos = [v.cuda() for v in videos]
    fi, sz, fl = torch.tensor(frame_rows), torch.tensor(sizes), torch.tensor(flips)
    offsets = torch.tensor(crops)[:, :2].contiguous()

    @torch.compile(fullgraph=True)
    def f(vs, fi, sz, offsets, fl):
        out = torch.ops.fastvid.clip_transform_batch(vs, "CTHW", fi, sz, offsets, [24, 20], fl, 1 / 255, list(MEAN), list(STD), False, torch.float32)
        return out.mean(dim=2)

    got = f(cuda_videos, fi, sz, offsets, fl)
    want = ops.clip_transform_batch(cuda_videos, frame_indices=fi, sizes=sz, crops=crops, flips=fl).mean(dim=2)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(
    os.environ.get("PYTORCH_NO_CUDA_MEMORY_CACHING", "0") not in ("", "0"),
    reason="without the caching allocator every free is a cudaFree, which waits for the whole device",
)
def test_cuda_current_stream_is_respected():
    # The clip becomes valid only after a long sleep on a side stream; an op that launched (or copied its
    # taps) on another stream would read the zeros that were there before.
    src = _clip(3, 8, 256, 340, seed=12).cuda()
    videos = [torch.zeros_like(src) for _ in range(4)]
    want = ops.clip_transform_batch([src] * 4, sizes=(256, 340), crops=(10, 20, 224, 224))
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):  # warm the allocators for this stream (a fresh cudaMalloc may sync)
        # both outputs alive at once, as below, so that the timed block finds both blocks cached
        warm = (ops.clip_transform_batch(videos, sizes=(256, 340), crops=(10, 20, 224, 224)),
                ops.clip_transform(videos[0], size=(256, 340), crop=(10, 20, 224, 224)))
    torch.cuda.synchronize()
    del warm
    with torch.cuda.stream(side):
        torch.cuda._sleep(200_000_000)
        for v in videos:
            v.copy_(src)
        got_batch = ops.clip_transform_batch(videos, sizes=(256, 340), crops=(10, 20, 224, 224))
        got_one = ops.clip_transform(videos[0], size=(256, 340), crop=(10, 20, 224, 224))
    assert not side.query()  # still sleeping: the op did not wait on the host
    side.synchronize()
    assert torch.equal(got_batch, want)
    assert torch.equal(got_one, want[0])


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_cuda_device_guard():
    video = _clip(3, 4, 50, 60, seed=2)
    with torch.cuda.device(0):
        got = ops.clip_transform_batch([video.to("cuda:1")] * 2, sizes=(40, 48), crops=(1, 2, 32, 32))
        one = ops.clip_transform(video.to("cuda:1"), size=(40, 48), crop=(1, 2, 32, 32))
    assert got.device == torch.device("cuda:1") and one.device == torch.device("cuda:1")
    _assert_close(got[0], ops.clip_transform(video, size=(40, 48), crop=(1, 2, 32, 32)), torch.float32)
    _assert_close(one, got[1], torch.float32)


def test_cuda_wrong_devices():
    video = _clip(3, 4, 20, 24)
    with pytest.raises(ValueError, match="the CUDA kernel got a video on cpu"):
        ops.clip_transform(video, frame_indices=torch.tensor([0, 1], device="cuda"))
    with pytest.raises(ValueError, match="every clip must be on the same device"):
        ops.clip_transform_batch([video.cuda(), video], crops=(0, 0, 8, 8))
    with pytest.raises(ValueError, match="the CUDA kernel got clips on cpu"):
        ops.clip_transform_batch([video, video], crops=(0, 0, 8, 8), sizes=torch.tensor([[20, 24]] * 2, device="cuda"))


def test_cuda_huge_source_offsets():
    # Frames more than 2^31 elements apart: the source offsets must be 64-bit.
    gap = 2**31 + 4096
    buffer = torch.zeros(gap + 64 * 80 * 3, dtype=torch.uint8, device="cuda")
    frames = _clip(3, 2, 64, 80, seed=21, view="thwc").permute(1, 2, 3, 0).contiguous()  # (T, H, W, C)
    buffer[: frames[0].numel()] = frames[0].flatten().cuda()
    buffer[gap:] = frames[1].flatten().cuda()
    video = buffer.as_strided((3, 2, 64, 80), (1, gap, 80 * 3, 3))
    want = ops.clip_transform(frames.permute(3, 0, 1, 2), frame_indices=[1, 0, 1], size=(48, 60), crop=(4, 6, 40, 48), flip=True)
    got = ops.clip_transform(video, frame_indices=[1, 0, 1], size=(48, 60), crop=(4, 6, 40, 48), flip=True)
    _assert_close(got, want, torch.float32)
    got = ops.clip_transform_batch([video, video], frame_indices=[1, 0, 1], sizes=(48, 60), crops=(4, 6, 40, 48), flips=True)
    _assert_close(got[1], want, torch.float32)


def test_cuda_huge_output():
    # More than 2^31 output elements (uint8, ~2.3 GB): the output offsets must be 64-bit.
    video = _clip(3, 3, 40, 50, seed=4)
    n = 2**31 // (3 * 224 * 224) + 2
    fi = torch.arange(n) % 3
    got = ops.clip_transform(video.cuda(), frame_indices=fi, size=(224, 280), crop=(0, 56, 224, 224), scale=None, mean=None, std=None, out_dtype=torch.uint8)
    assert got.numel() > 2**31
    want = ops.clip_transform(video, frame_indices=[0, 1, 2], size=(224, 280), crop=(0, 56, 224, 224), scale=None, mean=None, std=None, out_dtype=torch.uint8)
    tail = got[:, -3:].cpu()
    order = [(n - 3 + k) % 3 for k in range(3)]
    _assert_close(tail, want[:, order], torch.uint8)
    _assert_close(got[:, :3].cpu(), want, torch.uint8)


def test_cuda_grid_strides():
    # More (clip, frame) pairs than gridDim.z and more rows than gridDim.y * 8 allow in one pass.
    video = _clip(3, 5, 6, 7, seed=8)
    fi = torch.arange(70_000) % 5
    got = ops.clip_transform(video.cuda(), frame_indices=fi, size=(3, 4), crop=(1, 1, 2, 2))
    want = ops.clip_transform(video, frame_indices=fi, size=(3, 4), crop=(1, 1, 2, 2))
    _assert_close(got, want, torch.float32)
    tall = _clip(3, 2, 4, 3, seed=9)
    kw = dict(size=(530_000, 3), crop=(100, 0, 529_000, 2), flip=True)
    _assert_close(ops.clip_transform(tall.cuda(), **kw), ops.clip_transform(tall, **kw), torch.float32)
    got = ops.clip_transform_batch([tall.cuda(), tall[:, :, :3].cuda()], sizes=[(530_000, 3), (529_001, 2)], crops=[(100, 0, 529_000, 2), (1, 0, 529_000, 2)])
    want = ops.clip_transform_batch([tall, tall[:, :, :3]], sizes=[(530_000, 3), (529_001, 2)], crops=[(100, 0, 529_000, 2), (1, 0, 529_000, 2)])
    _assert_close(got, want, torch.float32)
