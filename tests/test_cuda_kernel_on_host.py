"""The CUDA kernel's own code, run on the host (no GPU needed; these run in CI).

``torch.ops.fastvid._clip_transform_batch_on_host`` (csrc/testing/cuda_kernel_on_host.cpp) builds the
CUDA launch's metadata block with the launcher's code, computes the launch grid with the launcher's
code, and calls the kernel's per-thread body (csrc/ops/cuda/clip_transform_device.h, the same source
nvcc compiles) for every block and thread, checking every load against the regions it may touch and
that every output element is stored exactly once. Here it must agree with the CPU kernel (the tolerance
the CUDA tests use) over random batches, edge-case shapes, memory views, layouts, dtypes, both kernel
variants (unrolled 2 x 2 taps: uint8 bilinear; general: float input or antialias), and a grid capped
far below 65535 so that rows and (clip, frame) pairs go through the grid-stride loops; and each check
must fire on a planted defect. The op prepares the clips with prepare_batch, the batched ops' own
preparation; packed buffers are passed as their views (the packed op's descriptor checks are tested in
test_clip_transform_batch.py).

What still needs a GPU (tests/test_cuda.py): nvcc's code (which also fuses multiply-adds, so values
agree within tolerance, not bit for bit), __ldg, streams, the pinned copy, the device guard, the .cu's
dispatch to the kernel variants, and outputs over 2^31 elements.
"""

from __future__ import annotations

import os
import random

import pytest
import torch

from fastvid import ops
from fastvid.ops import PackedClips

from _clips import EDGE_SHAPES, assert_close_out, clip, random_batch

pytestmark = pytest.mark.skipif(not ops.has_ops(), reason="fastvid's compiled extension is not built")

MAX_GRID = 65535  # a GPU's cap on gridDim.y and gridDim.z


def on_host(videos, *, layout="CTHW", frame_indices=None, sizes=None, crops=None, flips=None, scale=1 / 255,
            mean=(0.45, 0.45, 0.45), std=(0.225, 0.225, 0.225), antialias=False, out_dtype=torch.float32,
            max_grid=MAX_GRID, fault=""):
    """ops.clip_transform_batch's arguments, run by the CUDA kernel's code on the host."""
    clips, packed, fi, sizes, offsets, crop_size, flips = ops._batch_args(videos, layout, frame_indices, sizes, crops, flips)
    if packed is not None:
        clips = [
            packed.buffer.as_strided(tuple(shape), tuple(stride), int(offset))
            for shape, stride, offset in zip(packed.shapes.tolist(), packed.strides.tolist(), packed.offsets.tolist())
        ]
    return torch.ops.fastvid._clip_transform_batch_on_host(
        clips, layout, fi, sizes, offsets, crop_size, flips, None if scale is None else float(scale),
        None if mean is None else list(mean), None if std is None else list(std), antialias, out_dtype, max_grid, fault,
    )


@pytest.mark.parametrize("seed", range(16))
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("max_grid", [MAX_GRID, 1, 3])
def test_random_batches_match_cpu(seed, antialias, in_dtype, max_grid):
    videos, frame_rows, sizes, crops, flips = random_batch(seed, dtype=in_dtype)
    kw = dict(frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, antialias=antialias)
    want = ops.clip_transform_batch(videos, **kw)
    assert_close_out(on_host(videos, max_grid=max_grid, **kw), want, torch.float32)
    # uint8 out (no normalization): round half to even and clamp, as on the CPU
    kw.update(scale=None, mean=None, std=None, out_dtype=torch.uint8)
    assert_close_out(on_host(videos, max_grid=max_grid, **kw), ops.clip_transform_batch(videos, **kw), torch.uint8)


@pytest.mark.parametrize("case", EDGE_SHAPES, ids=lambda c: f"{c[0]}x{c[1]}x{c[2]}x{c[3]}->{c[4]}")
@pytest.mark.parametrize("view", ["thwc", "cthw", "sliced", "expanded"])
@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
def test_edge_shapes_match_cpu(case, view, in_dtype):
    c, t, h, w, size, crop, fi = case
    video = clip(c, t, h, w, dtype=in_dtype, view=view, seed=h * w + t + 1)
    mean, std = [0.4 + 0.02 * i for i in range(c)], [0.2 + 0.01 * i for i in range(c)]
    max_grid = 2 if h * w < 10_000 else MAX_GRID  # the small ones through the grid-stride loops too
    for antialias in (False, True):
        for flip in (False, True):
            kw = dict(frame_indices=fi, size=size, crop=crop, flip=flip, antialias=antialias, mean=mean, std=std)
            want = ops.clip_transform(video, **kw)[None]
            got = on_host([video], frame_indices=fi, sizes=size, crops=crop, flips=flip, antialias=antialias, mean=mean,
                          std=std, max_grid=max_grid)
            assert_close_out(got, want, torch.float32)


@pytest.mark.parametrize("out_dtype", [torch.bfloat16, torch.float16, torch.uint8])
@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
def test_out_dtypes_match_cpu(out_dtype, in_dtype):
    videos, frame_rows, sizes, crops, flips = random_batch(77, dtype=in_dtype)
    kw = dict(frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, out_dtype=out_dtype)
    if out_dtype == torch.uint8:
        kw.update(scale=None, mean=None, std=None)
    assert_close_out(on_host(videos, max_grid=2, **kw), ops.clip_transform_batch(videos, **kw), out_dtype)


@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
def test_narrow_outputs_are_the_float32_result_rounded_to_nearest_even(in_dtype):
    """uint8 is compared within 1 level and bf16/fp16 within their precision above, which a kernel that truncates
    would pass: each must be exactly the kernel's own float32 result rounded as torch rounds."""
    videos, frame_rows, sizes, crops, flips = random_batch(91, dtype=in_dtype)
    for antialias in (False, True):
        kw = dict(frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, antialias=antialias, scale=None,
                  mean=None, std=None, max_grid=2)
        wide = on_host(videos, **kw)
        assert torch.equal(on_host(videos, out_dtype=torch.uint8, **kw), wide.round().clamp(0, 255).to(torch.uint8))
        for dtype in (torch.bfloat16, torch.float16):
            assert torch.equal(on_host(videos, out_dtype=dtype, **kw), wide.to(dtype)), dtype


@pytest.mark.parametrize("seed", range(4))
def test_thwc_layout_and_packed_buffers_match_cpu(seed):
    videos, frame_rows, sizes, crops, flips = random_batch(200 + seed, channels=4, max_hw=50)
    kw = dict(frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, mean=[0.5] * 4, std=[0.25] * 4)
    want = ops.clip_transform_batch(videos, **kw)
    thwc = [v.permute(1, 2, 3, 0) for v in videos]
    assert_close_out(on_host(thwc, layout="THWC", max_grid=2, **kw), want, torch.float32)
    # the collate function's packed uint8 buffer: every clip a view of one 1-D tensor
    assert_close_out(on_host(PackedClips.pack(videos), max_grid=2, **kw), want, torch.float32)
    assert_close_out(on_host(PackedClips.pack(thwc, layout="THWC"), layout="THWC", **kw), want, torch.float32)


def test_grid_stride_loops():
    # 140 (clip, frame) pairs and 40 rows (5 blocks of 8) through grids of 1..4 blocks in y and z: every
    # pair and row must be reached exactly once (the emulation counts the stores) and be right.
    video = clip(3, 5, 6, 7, seed=8)
    fi = torch.arange(70) % 5
    want = ops.clip_transform(video, frame_indices=fi, size=(45, 9), crop=(2, 1, 40, 7), flip=True)[None]
    for max_grid in (1, 2, 3, 4):
        got = on_host([video, video[:, :, 1:]], frame_indices=fi, sizes=[(45, 9), (44, 9)], crops=[(2, 1, 40, 7), (1, 1, 40, 7)],
                      flips=True, max_grid=max_grid)
        assert_close_out(got[:1], want, torch.float32)
        assert_close_out(got[1:], ops.clip_transform(video[:, :, 1:], frame_indices=fi, size=(44, 9), crop=(1, 1, 40, 7), flip=True)[None],
                         torch.float32)


def test_source_offsets_past_2_to_the_31():
    # Frames 2^31 + 4096 bytes apart (torch.empty: only the two frames' pages are written and read): the
    # kernel's source offsets must be 64-bit.
    gap = 2**31 + 4096
    buffer = torch.empty(gap + 64 * 80 * 3, dtype=torch.uint8)
    frames = clip(3, 2, 64, 80, seed=21, view="thwc").permute(1, 2, 3, 0).contiguous()  # (T, H, W, C)
    buffer[: frames[0].numel()] = frames[0].flatten()
    buffer[gap:] = frames[1].flatten()
    video = buffer.as_strided((3, 2, 64, 80), (1, gap, 80 * 3, 3))
    kw = dict(frame_indices=[1, 0, 1], sizes=(48, 60), crops=(4, 6, 40, 48), flips=True)
    want = ops.clip_transform_batch([frames.permute(3, 0, 1, 2)], **kw)
    assert_close_out(on_host([video, video], **kw), torch.cat([want, want]), torch.float32)


def test_checks_are_the_ops_own():
    video = clip(3, 4, 20, 24)
    with pytest.raises(ValueError, match="clip 1: .*frame_indices"):
        on_host([video, video], frame_indices=[[0, 1], [0, 9]], crops=(0, 0, 8, 8))
    with pytest.raises(ValueError, match="max_grid must be in 1..65535, got 0"):
        on_host([video], crops=(0, 0, 8, 8), max_grid=0)


@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
def test_each_check_fires_on_a_planted_defect(in_dtype):
    # The same call is clean without a fault, so each error below comes from the planted defect alone.
    videos = [clip(3, 2, 20, 30, dtype=in_dtype, view="cthw", seed=s) for s in range(2)]
    kw = dict(sizes=(24, 48), crops=(1, 2, 16, 40), max_grid=2)
    assert_close_out(on_host(videos, **kw), ops.clip_transform_batch(videos, sizes=(24, 48), crops=(1, 2, 16, 40)), torch.float32)
    # (the message names the region nearest to the bad address, wherever memory was allocated)
    with pytest.raises(RuntimeError, match=r"bad accesses; the first: block \(0, 0, 0\) thread \(0, 0\) reads \d+ bytes \d+ bytes (before|past the end of) "):
        on_host(videos, fault="read", **kw)
    with pytest.raises(RuntimeError, match=r"output element 0 of shape \[2, 3, 2, 16, 40\] was written 2 times"):
        on_host(videos, fault="twice", **kw)
    with pytest.raises(RuntimeError, match=r"output element 0 of shape \[2, 3, 2, 16, 40\] was written 0 times"):
        on_host(videos, fault="skip", **kw)
    with pytest.raises(ValueError, match='fault must be "", "read", "twice" or "skip", got "other"'):
        on_host(videos, fault="other", **kw)


def test_many_random_batches():
    # Random channels (1-4), layouts, input and output dtypes, antialias, crops (1-70), sources (1-150 px)
    # and grid caps. 300 batches here; FASTVID_STRESS_BATCHES=20000 ran clean once (43 s).
    rng = random.Random(7)
    for seed in range(10_000, 10_000 + int(os.environ.get("FASTVID_STRESS_BATCHES", "300"))):
        dtype = rng.choice([torch.uint8, torch.float32])
        ch = rng.choice([1, 2, 3, 4])
        crop = (rng.randint(1, 70), rng.randint(1, 70))
        vids, fr, sz, cr, fl = random_batch(seed, channels=ch, dtype=dtype, out_t=rng.randint(1, 5), crop=crop,
                                            max_hw=rng.choice([2, 5, 40, 150]))
        out_dtype = rng.choice([torch.float32, torch.uint8, torch.bfloat16, torch.float16])
        layout = rng.choice(["CTHW", "THWC"])
        kw = dict(layout=layout, frame_indices=fr, sizes=sz, crops=cr, flips=fl, antialias=rng.random() < 0.5,
                  out_dtype=out_dtype, mean=[0.5] * ch, std=[0.25] * ch)
        if out_dtype == torch.uint8:
            kw.update(scale=None, mean=None, std=None)
        if layout == "THWC":
            vids = [v.permute(1, 2, 3, 0) for v in vids]
        got = on_host(vids, max_grid=rng.choice([1, 2, 7, MAX_GRID]), **kw)
        assert_close_out(got, ops.clip_transform_batch(vids, **kw), out_dtype)
