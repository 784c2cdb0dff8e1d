"""fastvid.ops.clip_transform_batch on the CPU: batched == clip by clip (fastvid.ops.clip_transform) and
== the oracle (fastvid.reference.clip_transform_batch), for lists of clips of different sizes, layouts,
strides and dtypes, and for packed buffers (PackedClips); shared vs per-clip arguments; every bad input;
opcheck and torch.compile.

Tolerances vs the oracle: float32 after normalization 1e-4 absolute; uint8 1 level; bfloat16 / float16
within their rounding. Batched vs one-by-one on the same device: identical.
"""

from __future__ import annotations

import pytest
import torch

from fastvid import ops, reference
from fastvid.ops import PackedClips

from _clips import clip as _clip, gen as _gen

MEAN = (0.45, 0.45, 0.45)
STD = (0.225, 0.225, 0.225)


def _one_by_one(videos, *, frame_rows, sizes, crops, flips, **kw):
    outs = []
    for b, v in enumerate(videos):
        outs.append(
            ops.clip_transform(
                v,
                frame_indices=None if frame_rows is None else frame_rows[b],
                size=None if sizes is None else sizes[b],
                crop=None if crops is None else crops[b],
                flip=False if flips is None else bool(flips[b]),
                **kw,
            )
        )
    return torch.stack(outs)


def _assert_close(got, want, out_dtype):
    assert got.shape == want.shape and got.dtype == want.dtype
    if out_dtype == torch.uint8:
        diff = (got.int() - want.int()).abs().max().item()
        assert diff <= 1, f"uint8 results differ by {diff} levels"
    elif out_dtype == torch.float32:
        err = (got - want).abs().max().item()
        assert err <= 1e-4, f"max error {err:.3g}"
    else:
        torch.testing.assert_close(got.float(), want.float(), atol=1e-4, rtol=1e-2)


def _random_batch(seed, *, channels=3, dtype=torch.uint8, views=("thwc", "cthw", "sliced", "expanded"), out_t=4, crop=(24, 20)):
    """B clips of random sizes, per-clip frame indices (with repeats), sizes that fit the crop,
    random crop offsets and flips."""
    g = _gen(1000 + seed)
    batch = int(torch.randint(1, 6, (1,), generator=g))
    videos, frame_rows, sizes, crops, flips = [], [], [], [], []
    for b in range(batch):
        t = int(torch.randint(1, 9, (1,), generator=g))
        h = int(torch.randint(1, 70, (1,), generator=g))
        w = int(torch.randint(1, 70, (1,), generator=g))
        view = views[int(torch.randint(0, len(views), (1,), generator=g))]
        videos.append(_clip(channels, t, h, w, dtype=dtype, view=view, seed=seed * 31 + b))
        frame_rows.append(torch.randint(0, t, (out_t,), generator=g).tolist())
        sh = int(torch.randint(crop[0], crop[0] + 40, (1,), generator=g))
        sw = int(torch.randint(crop[1], crop[1] + 40, (1,), generator=g))
        sizes.append((sh, sw))
        top = int(torch.randint(0, sh - crop[0] + 1, (1,), generator=g))
        left = int(torch.randint(0, sw - crop[1] + 1, (1,), generator=g))
        crops.append((top, left, crop[0], crop[1]))
        flips.append(bool(torch.randint(0, 2, (1,), generator=g)))
    return videos, frame_rows, sizes, crops, flips


# --------------------------------------------------------------------------------------------------
# batched == one by one == oracle


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("antialias", [False, True])
def test_random_batches_uint8(seed, antialias):
    videos, frame_rows, sizes, crops, flips = _random_batch(seed)
    kw = dict(antialias=antialias, scale=1 / 255, mean=MEAN, std=STD, out_dtype=torch.float32)
    got = ops.clip_transform_batch(videos, frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, **kw)
    assert got.shape == (len(videos), 3, 4, 24, 20) and got.is_contiguous()
    one = _one_by_one(videos, frame_rows=frame_rows, sizes=sizes, crops=crops, flips=flips, **kw)
    assert torch.equal(got, one)
    want = reference.clip_transform_batch(videos, frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, **kw)
    _assert_close(got, want, torch.float32)


@pytest.mark.parametrize("out_dtype", [torch.float32, torch.bfloat16, torch.float16, torch.uint8])
@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_dtypes_and_channels(out_dtype, in_dtype, channels):
    videos, frame_rows, sizes, crops, flips = _random_batch(17 + channels, channels=channels, dtype=in_dtype)
    if out_dtype == torch.uint8:
        kw = dict(scale=None, mean=None, std=None)
    else:
        kw = dict(scale=1 / 255, mean=[0.4 + 0.01 * c for c in range(channels)], std=[0.2 + 0.01 * c for c in range(channels)])
    kw["out_dtype"] = out_dtype
    got = ops.clip_transform_batch(videos, frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, **kw)
    assert got.dtype == out_dtype and got.shape == (len(videos), channels, 4, 24, 20)
    assert torch.equal(got, _one_by_one(videos, frame_rows=frame_rows, sizes=sizes, crops=crops, flips=flips, **kw))
    want = reference.clip_transform_batch(videos, frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips, **kw)
    _assert_close(got, want, out_dtype)


@pytest.mark.parametrize("layout", ["CTHW", "THWC"])
def test_layout_thwc_clips(layout):
    videos, frame_rows, sizes, crops, flips = _random_batch(5, views=("thwc", "cthw"))
    clips = [v.permute(1, 2, 3, 0) for v in videos] if layout == "THWC" else videos
    got = ops.clip_transform_batch(clips, layout=layout, frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips)
    want = ops.clip_transform_batch(videos, frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips)
    assert torch.equal(got, want)


def test_tensor_arguments_equal_lists():
    videos, frame_rows, sizes, crops, flips = _random_batch(3)
    a = ops.clip_transform_batch(videos, frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips)
    b = ops.clip_transform_batch(
        videos,
        frame_indices=torch.tensor(frame_rows, dtype=torch.int32),
        sizes=torch.tensor(sizes),
        crops=torch.tensor(crops),
        flips=torch.tensor(flips),
    )
    c = ops.clip_transform_batch(
        tuple(videos),
        frame_indices=[torch.tensor(r) for r in frame_rows],
        sizes=[torch.tensor(s) for s in sizes],
        crops=[torch.tensor(c) for c in crops],
        flips=[torch.tensor(f) for f in flips],
    )
    assert torch.equal(a, b) and torch.equal(a, c)


def test_shared_arguments_broadcast():
    videos = [_clip(3, 6, 30 + 5 * b, 41 - 3 * b, seed=b) for b in range(3)]
    shared = ops.clip_transform_batch(videos, frame_indices=[0, 5, 2], sizes=(28, 33), crops=(1, 2, 20, 25), flips=True)
    per_clip = ops.clip_transform_batch(
        videos, frame_indices=[[0, 5, 2]] * 3, sizes=[(28, 33)] * 3, crops=[(1, 2, 20, 25)] * 3, flips=[True] * 3
    )
    assert torch.equal(shared, per_clip)
    for b, v in enumerate(videos):
        assert torch.equal(shared[b], ops.clip_transform(v, frame_indices=[0, 5, 2], size=(28, 33), crop=(1, 2, 20, 25), flip=True))


def test_defaults_no_resize_no_crop():
    # Same-size clips, every frame, no resize: the output is the normalized clips.
    videos = [_clip(3, 5, 12, 17, seed=b, view="thwc") for b in range(4)]
    got = ops.clip_transform_batch(videos)
    want = torch.stack([((v.float() / 255 - 0.45) / 0.225) for v in videos])
    assert (got - want).abs().max().item() <= 1e-4
    # Without crops, the resized frames must agree (different sources are fine).
    videos = [_clip(3, 2, 20 + b, 30 - b, seed=b) for b in range(3)]
    got = ops.clip_transform_batch(videos, sizes=(16, 24))
    assert got.shape == (3, 3, 2, 16, 24)
    assert torch.equal(got[1], ops.clip_transform(videos[1], size=(16, 24)))


def test_one_clip_one_frame_one_pixel():
    v = _clip(3, 1, 1, 1, seed=3)
    got = ops.clip_transform_batch([v], sizes=[(4, 5)], crops=[(1, 1, 2, 3)])
    assert got.shape == (1, 3, 1, 2, 3)
    _assert_close(got, reference.clip_transform_batch([v], sizes=[(4, 5)], crops=[(1, 1, 2, 3)]), torch.float32)


@pytest.mark.parametrize("threads", [1, 2])
def test_many_clips_parallel_over_clips(threads):
    # B >= threads runs one clip per task; the result must not depend on that.
    videos, frame_rows, sizes, crops, flips = _random_batch(11)
    videos = videos * 4
    frame_rows, sizes, crops, flips = frame_rows * 4, sizes * 4, crops * 4, flips * 4
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        got = ops.clip_transform_batch(videos, frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips)
    finally:
        torch.set_num_threads(old)
    assert torch.equal(got, _one_by_one(videos, frame_rows=frame_rows, sizes=sizes, crops=crops, flips=flips))


def test_inputs_not_mutated():
    videos, frame_rows, sizes, crops, flips = _random_batch(2)
    before = [v.clone() for v in videos]
    fi = torch.tensor(frame_rows)
    fi_before = fi.clone()
    ops.clip_transform_batch(videos, frame_indices=fi, sizes=sizes, crops=crops, flips=flips)
    assert all(torch.equal(a, b) for a, b in zip(videos, before))
    assert torch.equal(fi, fi_before)


# --------------------------------------------------------------------------------------------------
# packed buffers


@pytest.mark.parametrize("seed", range(4))
def test_packed_equals_list(seed):
    videos, frame_rows, sizes, crops, flips = _random_batch(40 + seed)
    packed = PackedClips.pack(videos)
    assert len(packed) == len(videos) and packed.buffer.dtype == torch.uint8 and packed.buffer.dim() == 1
    for b, v in enumerate(videos):
        assert torch.equal(packed.clip(b), v)
        assert packed.clip(b).stride() == torch.empty_like(v).stride() or v.stride()[1] == 0
        assert int(packed.offsets[b]) % 64 == 0
    kw = dict(frame_indices=frame_rows, sizes=sizes, crops=crops, flips=flips)
    got = ops.clip_transform_batch(packed, **kw)
    assert torch.equal(got, ops.clip_transform_batch(videos, **kw))
    _assert_close(got, reference.clip_transform_batch(packed, **kw), torch.float32)


def test_packed_keeps_thwc_memory_order():
    v = _clip(3, 4, 10, 12, view="thwc")
    packed = PackedClips.pack([v])
    assert packed.strides[0].tolist() == list(v.stride()) == [1, 10 * 12 * 3, 12 * 3, 3]


def test_packed_hand_made_descriptors():
    # A buffer with two clips written by hand (THWC and CTHW order), with a gap between them.
    a = torch.randint(0, 256, (3, 10, 7, 3), dtype=torch.uint8, generator=_gen(1))  # T H W C
    b = torch.randint(0, 256, (3, 3, 12, 9), dtype=torch.uint8, generator=_gen(2))  # C T H W
    buffer = torch.zeros(a.numel() + 100 + b.numel(), dtype=torch.uint8)
    buffer[: a.numel()] = a.flatten()
    buffer[a.numel() + 100 :] = b.flatten()
    packed = PackedClips(
        buffer,
        torch.tensor([0, a.numel() + 100]),
        torch.tensor([[3, 3, 10, 7], [3, 3, 12, 9]]),
        torch.tensor([[1, 210, 21, 3], [324, 108, 9, 1]]),
    )
    kw = dict(sizes=[(11, 8), (9, 7)], crops=[(1, 0, 8, 6), (0, 1, 8, 6)], flips=[True, False])
    got = ops.clip_transform_batch(packed, **kw)
    want = ops.clip_transform_batch([a.permute(3, 0, 1, 2), b], **kw)
    assert torch.equal(got, want)


def test_packed_to_and_pin_memory_keep_descriptors_on_cpu():
    packed = PackedClips.pack([_clip(3, 2, 8, 9, seed=1), _clip(3, 2, 5, 6, seed=2)])
    moved = packed.to("cpu")
    assert moved.offsets is packed.offsets and moved.shapes.device.type == "cpu"
    assert torch.equal(moved.buffer, packed.buffer)
    assert "2 clips" in repr(packed)


# --------------------------------------------------------------------------------------------------
# bad input


def _ok_batch():
    return [_clip(3, 4, 20, 24, seed=1), _clip(3, 4, 30, 18, seed=2)]


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(videos=[]), ValueError, "at least one clip"),
        (dict(videos=torch.zeros(2, 3, 4, 5, 6, dtype=torch.uint8)), TypeError, "list of clip tensors or a PackedClips"),
        (dict(videos=[torch.zeros(3, 4, 5)]), ValueError, r"videos\[0\] must have 4 dimensions"),
        (dict(videos=["x"]), TypeError, r"videos\[0\] must be a torch.Tensor"),
        (dict(crops=[(0, 0, 10, 10), (0, 0, 10, 12)]), ValueError, "same height and width"),
        (dict(crops=None, sizes=None), ValueError, "same height and width"),
        (dict(sizes=[(20, 24)]), ValueError, r"sizes must give 2 values for every clip"),
        (dict(sizes=[(20.5, 24), (20, 24)]), TypeError, "sizes must hold ints"),
        (dict(frame_indices=[[0, 1], [0]]), ValueError, "same number of frames"),
        (dict(frame_indices=[[0, 1], [0, 4]]), ValueError, r"clip 1: .*frame_indices\[1\] = 4 is out of range"),
        (dict(frame_indices=torch.zeros(3, 2, dtype=torch.long)), ValueError, r"frame_indices must be"),
        (dict(frame_indices=[0.5, 1.0]), TypeError, "frame_indices must be int64 or int32"),
        (dict(crops=[(0, 0, 16, 16), (15, 0, 16, 16)]), ValueError, r"clip 1: crop \[15, 0, 16, 16\].*does not fit the resized frame 30x18"),
        (dict(crops=[(0, 0, 16, 16), (-1, 0, 16, 16)]), ValueError, "clip 1: crop"),
        (dict(sizes=[(20, 24), (0, 5)]), ValueError, r"clip 1: size must be positive"),
        (dict(flips=[True]), ValueError, "flips must give one value for every clip"),
        (dict(out_dtype=torch.uint8), ValueError, "out_dtype uint8 needs scale, mean and std all None"),
        (dict(out_dtype=torch.int32), TypeError, "out_dtype must be float32, bfloat16, float16 or uint8"),
        (dict(out_dtype="float32"), TypeError, "out_dtype must be a torch.dtype"),
        (dict(mean=(0.5, 0.5)), ValueError, "mean must have 3 values"),
        (dict(std=(0.5, 0.0, 0.5)), ValueError, "std must be finite and non-zero"),
        (dict(layout="TCHW"), ValueError, 'layout must be "CTHW" or "THWC"'),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    args = dict(videos=_ok_batch(), crops=[(0, 0, 16, 16), (0, 0, 16, 16)])
    args.update(kwargs)
    videos = args.pop("videos")
    with pytest.raises(exc, match=match):
        ops.clip_transform_batch(videos, **args)


def test_bad_clips():
    crops = [(0, 0, 8, 8)] * 2
    with pytest.raises(ValueError, match="same number of channels, clip 0 has 3 and clip 1 has 1"):
        ops.clip_transform_batch([_clip(3, 2, 10, 10), _clip(1, 2, 10, 10)], crops=crops)
    with pytest.raises(TypeError, match="same dtype"):
        ops.clip_transform_batch([_clip(3, 2, 10, 10), _clip(3, 2, 10, 10, dtype=torch.float32)], crops=crops)
    with pytest.raises(ValueError, match="same number of frames, clip 0 gives 2 and clip 1 gives 3"):
        ops.clip_transform_batch([_clip(3, 2, 10, 10), _clip(3, 3, 10, 10)], crops=crops)
    with pytest.raises(TypeError, match="same dtype, clip 0 is Byte and clip 1 is Short"):
        ops.clip_transform_batch([_clip(3, 2, 10, 10), _clip(3, 2, 10, 10).to(torch.int16)], crops=crops)
    with pytest.raises(TypeError, match="clip 0: video must be uint8 or float32"):
        ops.clip_transform_batch([_clip(3, 2, 10, 10).to(torch.int16)] * 2, crops=crops)
    with pytest.raises(ValueError, match="clip 0: .*1 to 4 channels"):
        ops.clip_transform_batch([torch.zeros(5, 2, 10, 10, dtype=torch.uint8)], crops=crops[:1])


def test_bad_packed():
    packed = PackedClips.pack([_clip(3, 2, 10, 10), _clip(3, 3, 12, 10)])
    with pytest.raises(ValueError, match="without frame_indices every clip must have the same number of frames"):
        ops.clip_transform_batch(packed, crops=(0, 0, 8, 8))
    with pytest.raises(ValueError, match="the packed clips are 'CTHW' but layout is 'THWC'"):
        ops.clip_transform_batch(packed, layout="THWC", crops=(0, 0, 8, 8), frame_indices=[0, 1])
    bad = PackedClips(packed.buffer, packed.offsets + torch.tensor([0, 64]), packed.shapes, packed.strides)
    with pytest.raises(ValueError, match="clip 1: offset .* outside the buffer"):
        ops.clip_transform_batch(bad, crops=(0, 0, 8, 8), frame_indices=[0, 1])
    with pytest.raises(TypeError, match="offsets must be an int64 tensor"):
        PackedClips(packed.buffer, packed.offsets.int(), packed.shapes, packed.strides)
    with pytest.raises(ValueError, match="same number of clips"):
        PackedClips(packed.buffer, packed.offsets[:1], packed.shapes, packed.strides)
    with pytest.raises(TypeError, match="buffer must be a 1-D tensor"):
        PackedClips(packed.buffer.view(2, -1), packed.offsets, packed.shapes, packed.strides)
    args = (packed.buffer, packed.offsets, packed.shapes, packed.strides, "CTHW", 4, torch.zeros(2, 2, dtype=torch.long),
            None, None, [8, 8], None, None, None, None, False, torch.float32)
    with pytest.raises(ValueError, match="channels is 4 but the clips have 3"):
        torch.ops.fastvid.clip_transform_batch_packed(*args)
    neg = packed.strides.clone()
    neg[0, 0] = -1
    with pytest.raises(ValueError, match="must not be negative"):
        torch.ops.fastvid.clip_transform_batch_packed(packed.buffer, packed.offsets, packed.shapes, neg, *args[4:])
    with pytest.raises(ValueError, match="at least one clip"):
        PackedClips.pack([])


def test_packed_strides_whose_extent_overflows_int64_are_rejected():
    # (shape - 1) * stride summed over dims wraps past 2^63 for these strides; the bounds check must not
    # wrap with it into "inside the buffer" (the kernel would then read far outside it).
    packed = PackedClips.pack([_clip(3, 2, 3, 4)])
    huge = packed.strides.clone()
    huge[0] = torch.tensor([1, 2**62, 2**62, 3])
    args = (packed.buffer, packed.offsets, packed.shapes, huge, "CTHW", 3, torch.zeros(1, 2, dtype=torch.long),
            None, None, [2, 2], None, None, None, None, False, torch.float32)
    with pytest.raises(ValueError, match="clip 0"):
        torch.ops.fastvid.clip_transform_batch_packed(*args)
    # the product fits but the sum wraps to a negative "last element", which is below any buffer size
    shapes = torch.tensor([[2, 2, 3, 4]])
    wraps = torch.tensor([[2**62, 2**62, 1, 1]])
    args = (packed.buffer, packed.offsets, shapes, wraps, *args[4:])
    with pytest.raises(ValueError, match=r"clip 0: .*reaches element 9223372036854775807, outside the buffer"):
        torch.ops.fastvid.clip_transform_batch_packed(*args)


def test_packed_clip_reaching_one_element_past_the_buffer_is_rejected():
    buffer = torch.arange(24, dtype=torch.uint8)
    shapes, strides = torch.tensor([[1, 1, 4, 6]]), torch.tensor([[24, 24, 6, 1]])
    fits = PackedClips(buffer, torch.tensor([0]), shapes, strides)  # elements 0..23: the whole buffer
    assert ops.clip_transform_batch(fits, scale=None, mean=None, std=None, out_dtype=torch.uint8).flatten().tolist() == list(range(24))
    with pytest.raises(ValueError, match=r"clip 0: offset 1 .* reaches element 24, outside the buffer of 24 elements"):
        ops.clip_transform_batch(PackedClips(buffer, torch.tensor([1]), shapes, strides))


# --------------------------------------------------------------------------------------------------
# opcheck and torch.compile


def _op_args(seed=0):
    videos, frame_rows, sizes, crops, flips = _random_batch(seed)
    crops_t = torch.tensor(crops)
    return videos, torch.tensor(frame_rows), torch.tensor(sizes), crops_t[:, :2].contiguous(), [24, 20], torch.tensor(flips)


def test_opcheck():
    videos, fi, sizes, offsets, crop_size, flips = _op_args(1)
    torch.library.opcheck(
        torch.ops.fastvid.clip_transform_batch.default,
        (videos, "CTHW", fi, sizes, offsets, crop_size, flips, 1 / 255, list(MEAN), list(STD), False, torch.float32),
    )
    torch.library.opcheck(
        torch.ops.fastvid.clip_transform_batch.default,
        (videos, "CTHW", fi, None, None, [1, 1], None, None, None, None, True, torch.uint8),
    )
    packed = PackedClips.pack(videos)
    torch.library.opcheck(
        torch.ops.fastvid.clip_transform_batch_packed.default,
        (packed.buffer, packed.offsets, packed.shapes, packed.strides, "CTHW", 3, fi, sizes, offsets, crop_size, flips,
         1 / 255, list(MEAN), list(STD), False, torch.bfloat16),
    )


def test_torch_compile_fullgraph():
    videos, fi, sizes, offsets, crop_size, flips = _op_args(2)

    @torch.compile(fullgraph=True, backend="inductor")
    def f(vs, fi, sizes, offsets, flips):
        out = torch.ops.fastvid.clip_transform_batch(vs, "CTHW", fi, sizes, offsets, [24, 20], flips, 1 / 255, list(MEAN), list(STD), False, torch.float32)
        return out * 2.0

    got = f(videos, fi, sizes, offsets, flips)
    want = 2.0 * ops.clip_transform_batch(videos, frame_indices=fi, sizes=sizes, crops=torch.cat([offsets, torch.tensor([[24, 20]]).expand(len(videos), 2)], 1), flips=flips)
    assert torch.equal(got, want)
