"""fastvid.transforms.functional (PyTorchVideo 0.1.5's ``pytorchvideo.transforms.functional``) and the classes
UniformTemporalSubsampleRepeated, ConvertFloatToUint8, MoveChannelRear, MoveChannelFront.

Each function is compared with PyTorchVideo's computation, written out below (``ptv_*``) in plain torch / NumPy,
on fresh random inputs (several shapes, dtypes and memory layouts). Random functions are run under the same
seeds as their oracle: same result, and the torch, Python and NumPy generators end in the same state.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms as TT

import fastvid.transforms as T
import fastvid.transforms.functional as FN
from _clips import clip as layout_clip

# ---------------------------------------------------------------------------------------------------------------
# PyTorchVideo's computations, in plain torch / NumPy


def ptv_subsample(x, n, dim=-3):
    t = x.shape[dim]
    keep = torch.linspace(0, t - 1, n).clamp(0, t - 1).long()
    return x.index_select(dim, keep)


def ptv_short_side_scale(x, size, mode="bilinear"):
    h, w = x.shape[2], x.shape[3]
    hw = (int(math.floor(h / w * size)), size) if w < h else (size, int(math.floor(w / h * size)))
    return F.interpolate(x, size=hw, mode=mode, align_corners=False)


def ptv_uniform_offsets(h, w, size, idx):
    top, left = math.ceil((h - size) / 2), math.ceil((w - size) / 2)
    if h > w:
        top = {0: 0, 1: top, 2: h - size}[idx]
    else:
        left = {0: 0, 1: left, 2: w - size}[idx]
    return top, left


def ptv_box(height, width, scale, ratio, log_uniform, tries):
    """PyTorchVideo's Inception-style box: area, then ratio by torch.rand, then corner by torch.randint."""
    scale, ratio = sorted(scale), sorted(ratio)
    for _ in range(tries):
        area = height * width * (scale[0] + torch.rand(1).item() * (scale[1] - scale[0]))
        if log_uniform:
            lo, hi = math.log(ratio[0]), math.log(ratio[1])
            r = math.exp(lo + torch.rand(1).item() * (hi - lo))
        else:
            r = ratio[0] + torch.rand(1).item() * (ratio[1] - ratio[0])
        w, h = int(round(math.sqrt(area * r))), int(round(math.sqrt(area / r)))
        if 0 < w <= width and 0 < h <= height:
            return torch.randint(0, height - h + 1, (1,)).item(), torch.randint(0, width - w + 1, (1,)).item(), h, w
    if width / height < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif width / height > ratio[1]:
        w, h = int(round(height * ratio[1])), height
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def ptv_random_resized_crop(x, th, tw, scale, ratio, shift=False, log_uniform=True, mode="bilinear", tries=10):
    c, t, height, width = x.shape
    first = ptv_box(height, width, scale, ratio, log_uniform, tries)
    if not shift:
        i, j, h, w = first
        return F.interpolate(x[:, :, i : i + h, j : j + w], size=(th, tw), mode=mode)
    last = ptv_box(height, width, scale, ratio, log_uniform, tries)
    per_frame = [[int(v) for v in torch.linspace(a, b, t).tolist()] for a, b in zip(first, last)]
    out = torch.zeros(c, t, th, tw)
    for f in range(t):
        i, j, h, w = (p[f] for p in per_frame)
        out[:, f : f + 1] = F.interpolate(x[:, f : f + 1, i : i + h, j : j + w], size=(th, tw), mode=mode)
    return out


def ptv_clip_boxes(b, height, width):
    out = b.copy()
    out[:, [0, 2]] = np.minimum(width - 1.0, np.maximum(0.0, b[:, [0, 2]]))
    out[:, [1, 3]] = np.minimum(height - 1.0, np.maximum(0.0, b[:, [1, 3]]))
    return out


def ptv_crop_boxes(b, dx, dy):
    out = b.copy()
    out[:, [0, 2]] = b[:, [0, 2]] - dx
    out[:, [1, 3]] = b[:, [1, 3]] - dy
    return out


# ---------------------------------------------------------------------------------------------------------------
# helpers


def rng_state():
    return torch.get_rng_state(), random.getstate(), np.random.get_state()


def assert_same_state(a, b):
    assert torch.equal(a[0], b[0]), "torch's generator state differs"
    assert a[1] == b[1], "Python's random state differs"
    assert all(np.array_equal(np.asarray(u), np.asarray(v)) for u, v in zip(a[2], b[2])), "NumPy's state differs"


def seeded(fn, seed):
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    out = fn()
    return out, rng_state()


def assert_equal(a, b):
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
        torch.testing.assert_close(a, b, atol=0, rtol=0, equal_nan=True)


def assert_close_resized(a, b):
    """A kernel-resized float32 clip (0-255 values) against torch's F.interpolate: float rounding only."""
    assert a.dtype == b.dtype == torch.float32 and a.shape == b.shape
    torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-5)


def rand_clip(shape, dtype, seed):
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.uint8:
        return torch.randint(0, 256, shape, dtype=torch.uint8, generator=g)
    return (torch.rand(shape, generator=g) * 255).to(dtype)


SHAPES = [(3, 8, 17, 23), (3, 5, 31, 12), (1, 4, 20, 20), (4, 3, 9, 40), (6, 2, 15, 11), (2, 1, 1, 7)]
DTYPES = [torch.uint8, torch.float32, torch.float64, torch.float16]
VIEWS = ["cthw", "thwc", "sliced"]


# ---------------------------------------------------------------------------------------------------------------
# time


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform_temporal_subsample(shape, dtype):
    x = rand_clip(shape, dtype, seed=sum(shape))
    channels_last = x.permute(1, 2, 3, 0).contiguous().permute(3, 0, 1, 2)
    for v in (x, channels_last, x.transpose(2, 3).contiguous().transpose(2, 3)):
        for n in (1, 3, shape[1], 2 * shape[1] + 1):
            for dim in (-3, 1, -1, 0, 3):
                out = FN.uniform_temporal_subsample(v, n, dim)
                assert_equal(out, ptv_subsample(v, n, dim))
                assert out.is_contiguous()
    audio = torch.randn(2, 1000, dtype=torch.float64)  # (channels, samples) waveform, temporal_dim=-1
    assert_equal(FN.uniform_temporal_subsample(audio, 37, -1), ptv_subsample(audio, 37, -1))


@pytest.mark.parametrize("ratios", [(1, 4), (2,), (1, 2, 3, 8)])
def test_uniform_temporal_subsample_repeated(ratios):
    for t in (8, 9, 33):
        x = rand_clip((3, t, 6, 5), torch.uint8, seed=t)
        want = [ptv_subsample(x, t // r) for r in ratios]
        for got in (FN.uniform_temporal_subsample_repeated(x, ratios), T.UniformTemporalSubsampleRepeated(ratios)(x)):
            assert isinstance(got, list) and len(got) == len(ratios)
            for a, b in zip(got, want):
                assert_equal(a, b)
        y = rand_clip((t, 3, 5, 4), torch.float32, seed=t)
        got = T.UniformTemporalSubsampleRepeated(list(ratios), temporal_dim=0)(y)
        for a, r in zip(got, ratios):
            assert_equal(a, ptv_subsample(y, t // r, 0))


# ---------------------------------------------------------------------------------------------------------------
# space


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("shape", [(3, 4, 31, 12), (3, 3, 20, 45), (1, 2, 16, 16), (4, 2, 7, 9)])
def test_short_side_scale(shape, view):
    x = layout_clip(*shape, dtype=torch.float32, view=view, seed=shape[2])
    for size in (1, 5, 16, 40, 16.0):
        assert_close_resized(FN.short_side_scale(x, size), ptv_short_side_scale(x, int(size)))
        assert_equal(FN.short_side_scale(x, size, "bicubic"), ptv_short_side_scale(x, int(size), "bicubic"))
    many = rand_clip((7, 3, 12, 10), torch.float32, seed=1)  # more channels than the kernel takes: plain torch
    assert_equal(FN.short_side_scale(many, 6), ptv_short_side_scale(many, 6))
    assert_equal(FN.short_side_scale(x[:0], 6), ptv_short_side_scale(x[:0], 6))  # zero channels: empty, as torch
    leaf = x.detach().clone().requires_grad_()  # a clip that needs a gradient: torch's resize, which has one
    FN.short_side_scale(leaf, 7).sum().backward()
    ptv_leaf = leaf.detach().clone().requires_grad_()
    ptv_short_side_scale(ptv_leaf, 7).sum().backward()
    assert_equal(leaf.grad, ptv_leaf.grad)


@pytest.mark.parametrize("dtype", DTYPES + [torch.int64])
def test_uniform_crop_is_a_view(dtype):
    for shape in [(3, 4, 30, 20), (3, 2, 20, 31), (1, 3, 16, 16), (2, 1, 9, 1)]:
        x = rand_clip(shape, dtype, seed=shape[3])
        h, w = shape[2], shape[3]
        for size in {1, min(h, w) // 2 + 1, min(h, w)}:
            for idx in (0, 1, 2, torch.tensor(2), np.int64(1)):
                i = int(idx)
                top, left = ptv_uniform_offsets(h, w, size, i)
                out = FN.uniform_crop(x, size, idx)
                assert_equal(out, x[:, :, top : top + size, left : left + size])
                assert out.data_ptr() == x[:, :, top:, left:].data_ptr()  # a view, as PyTorchVideo's slicing


RRC_ARGS = [
    ((0.08, 1.0), (0.75, 4 / 3), True),
    ((1.0, 0.3), (2.0, 0.5), False),  # reversed ranges are sorted, as PyTorchVideo does
    ((0.9, 1.0), (5.0, 6.0), True),  # mostly misses: central-crop fallback
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8, torch.float64])
@pytest.mark.parametrize("shift", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_random_resized_crop_same_draws(dtype, shift, mode):
    x = rand_clip((3, 5, 23, 31), dtype, seed=3)
    for scale, ratio, log_uniform in RRC_ARGS:
        for seed in range(3):
            args = (7, 9, scale, ratio, shift, log_uniform, mode, 4)
            got, s1 = seeded(lambda: FN.random_resized_crop(x, *args), seed)
            want, s2 = seeded(lambda: ptv_random_resized_crop(x, *args), seed)
            assert_same_state(s1, s2)
            # uint8 keeps uint8 (torch's own resize) unless shift (float32 zeros filled frame by frame)
            assert got.dtype == want.dtype == (torch.float32 if shift else dtype)
            if dtype == torch.float32 and mode == "bilinear":
                assert_close_resized(got, want)  # the fused kernel
            else:
                assert_equal(got, want)


def test_random_resized_crop_generator_and_layouts():
    for view in VIEWS:
        x = layout_clip(3, 4, 26, 19, dtype=torch.float32, view=view, seed=5)
        got, s1 = seeded(lambda: FN.random_resized_crop(x, 11, 8, (0.2, 1.0), (0.5, 2.0)), 7)
        want, s2 = seeded(lambda: ptv_random_resized_crop(x, 11, 8, (0.2, 1.0), (0.5, 2.0)), 7)
        assert_same_state(s1, s2)
        assert_close_resized(got, want)
    g1, g2 = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    before = torch.get_rng_state()
    a = FN.random_resized_crop(x, 8, 8, (0.2, 1.0), (0.5, 2.0), generator=g1)
    b = FN.random_resized_crop(x.to(torch.uint8), 8, 8, (0.2, 1.0), (0.5, 2.0), interpolation="nearest", generator=g2)
    assert torch.equal(torch.get_rng_state(), before)  # the global generator is left alone
    assert torch.equal(g1.get_state(), g2.get_state())  # the same draws from the given generators
    assert a.shape == b.shape == (3, 4, 8, 8) and a.dtype == torch.float32 and b.dtype == torch.uint8


# ---------------------------------------------------------------------------------------------------------------
# values, labels, layout


@pytest.mark.parametrize("dtype", DTYPES + [torch.int32])
def test_div_255(dtype):
    x = rand_clip((3, 4, 5, 6), dtype, seed=2)
    out = FN.div_255(x)
    assert_equal(out, x / 255.0)
    assert out.dtype == (dtype if dtype.is_floating_point else torch.float32)


def test_convert_to_one_hot():
    t = torch.tensor([0, 4, 2, 2])
    assert_equal(FN.convert_to_one_hot(t, 5), torch.eye(5, dtype=torch.long)[t])
    smooth = FN.convert_to_one_hot(t, 5, 0.1)
    off = 0.1 / 5  # PyTorchVideo: every class gets off, the target 1 - smoothing + off (both in double first)
    assert_equal(smooth, torch.where(torch.eye(5, dtype=torch.bool)[t], 1.0 - 0.1 + off, off).float())
    with pytest.raises(ValueError, match="targets"):
        FN.convert_to_one_hot(torch.tensor([5]), 5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_convert_float_to_uint8(dtype):
    g = torch.Generator().manual_seed(0)
    edges = torch.tensor([0.0, 1.0, 0.5, 1 / 255, 254.5 / 255]).view(1, 1, 1, 5).expand(3, 4, 5, 5)
    x = torch.cat([torch.rand(3, 4, 5, 6, generator=g), edges], -1)
    x = x.to(dtype)
    out = T.ConvertFloatToUint8()(x)
    assert_equal(out, TT.ConvertImageDtype(torch.uint8)(x))  # what PyTorchVideo's class runs
    assert_equal(out, (x * 255.999).to(torch.uint8))


def test_move_channel():
    x = torch.randn(3, 4, 5, 6)
    rear = T.MoveChannelRear()(x)
    assert rear.shape == (4, 5, 6, 3) and rear.data_ptr() == x.data_ptr()
    assert_equal(rear, x.permute(1, 2, 3, 0))
    front = T.MoveChannelFront()(rear)
    assert_equal(front, x)
    assert repr(T.MoveChannelRear()) == "MoveChannelRear()"
    assert T.accepts_uint8(T.Compose([T.MoveChannelRear(), T.MoveChannelFront(), T.Div255()]))
    with pytest.raises(ValueError, match="MoveChannelFront: the video must be a 4-D tensor"):
        T.MoveChannelFront()(torch.zeros(2, 3, 4))
    with pytest.raises(TypeError, match="MoveChannelRear: the video must be a torch.Tensor"):
        T.MoveChannelRear()([1, 2])


def test_compose_runs_the_plain_modules_between_fused_runs():
    x = rand_clip((3, 16, 20, 24), torch.uint8, seed=9)
    tf = T.Compose(
        [T.ShortSideScale(10), T.Div255(), T.ConvertFloatToUint8(), T.UniformTemporalSubsampleRepeated((1, 4))]
    )
    slow, fast = tf(x)
    scaled = T.ConvertFloatToUint8()(ptv_short_side_scale(x.float(), 10) / 255.0)
    # the kernel's float rounding may move a value across an integer step: atol 1 on uint8
    torch.testing.assert_close(slow.int(), scaled.int(), atol=1, rtol=0)
    assert_equal(fast, ptv_subsample(slow, 4))


# ---------------------------------------------------------------------------------------------------------------
# boxes


def box_sets(h, w, seed):
    g = torch.Generator().manual_seed(seed)
    b = (torch.rand(6, 4, generator=g) * 1.4 - 0.2) * torch.tensor([w, h, w, h])
    b[0, 0] = float("nan")
    return {
        "torch-f32": b,
        "torch-f64": b.double(),
        "numpy-f32": b.numpy().copy(),
        "numpy-i32": np.nan_to_num(b.numpy()).round().astype(np.int32),
        "torch-i64": torch.nan_to_num(b).round().long(),
        "empty": torch.zeros(0, 4),
    }


def as_numpy(b):
    return b.numpy().copy() if isinstance(b, torch.Tensor) else b.copy()


def like(ref, arr):
    """``arr`` (a NumPy result) as the type and dtype of ``ref``."""
    return torch.from_numpy(np.ascontiguousarray(arr)).to(ref.dtype) if isinstance(ref, torch.Tensor) else arr


@pytest.mark.parametrize("hw", [(30, 40), (41, 17), (5, 5)])
def test_clip_and_crop_boxes(hw):
    h, w = hw
    for b in box_sets(h, w, seed=h).values():
        keep = as_numpy(b)
        # integer boxes: clamped in float64, truncated back by the assignment (PyTorchVideo failed on integer
        # torch.Tensor boxes; NumPy ones behave so)
        assert_equal(FN.clip_boxes_to_image(b, h, w), like(b, ptv_clip_boxes(as_numpy(b), h, w)))
        got = FN.crop_boxes(b, 3, -2)
        assert_equal(got, like(b, ptv_crop_boxes(as_numpy(b), 3, -2)))
        np.testing.assert_array_equal(as_numpy(b), keep)  # the input is not modified
    wide = torch.tensor([[1.0, 2.0, 300.0, 400.0, 0.9]])  # a fifth column (a score) is carried along
    assert_equal(FN.clip_boxes_to_image(wide, 100, 200), torch.tensor([[1.0, 2.0, 199.0, 99.0, 0.9]]))


@pytest.mark.parametrize("hw", [(30, 40), (41, 17), (12, 12)])
def test_uniform_crop_with_boxes(hw):
    h, w = hw
    x = rand_clip((3, 2, h, w), torch.uint8, seed=w)
    for b in box_sets(h, w, seed=w).values():
        for size in (5, min(h, w)):
            for idx in (0, 1, 2):
                top, left = ptv_uniform_offsets(h, w, size, idx)
                img, boxes = FN.uniform_crop_with_boxes(x, size, idx, b)
                assert_equal(img, x[:, :, top : top + size, left : left + size])
                want = FN.clip_boxes_to_image(FN.crop_boxes(b, left, top), size, size)
                assert_equal(boxes, want)
                assert_equal(boxes, like(b, ptv_clip_boxes(ptv_crop_boxes(as_numpy(b), left, top), size, size)))


@pytest.mark.parametrize("hw", [(30, 40), (41, 17), (12, 20), (9, 9)])
def test_random_crop_with_boxes_same_draws(hw):
    h, w = hw
    x = rand_clip((3, 2, h, w), torch.float32, seed=h)
    size = 9
    for b in box_sets(h, w, seed=3).values():
        for seed in range(4):
            (img, boxes), s1 = seeded(lambda: FN.random_crop_with_boxes(x, size, b), seed)

            def ptv():
                top = int(np.random.randint(0, h - size)) if h > size else 0
                left = int(np.random.randint(0, w - size)) if w > size else 0
                return top, left

            (top, left), s2 = seeded(ptv, seed)
            assert_same_state(s1, s2)
            assert_equal(img, x[:, :, top : top + size, left : left + size])
            assert_equal(boxes, FN.clip_boxes_to_image(FN.crop_boxes(b, left, top), size, size))


@pytest.mark.parametrize("prob", [0.0, 0.3, 1.0])
def test_horizontal_flip_with_boxes_same_draws(prob):
    x = rand_clip((3, 2, 11, 14), torch.uint8, seed=1)
    for b in box_sets(11, 14, seed=4).values():
        for seed in range(4):
            (img, boxes), s1 = seeded(lambda: FN.horizontal_flip_with_boxes(prob, x, b), seed)
            flip, s2 = seeded(lambda: np.random.uniform() < prob, seed)
            assert_same_state(s1, s2)
            if flip:
                assert_equal(img, x.flip(-1))
                want = as_numpy(b)
                want[:, [0, 2]] = 14 - as_numpy(b)[:, [2, 0]] - 1
                assert_equal(boxes, like(b, want))
            else:
                assert img is x
                assert_equal(boxes, b)
                assert boxes is not b


@pytest.mark.parametrize("hw", [(30, 40), (41, 17)])
def test_short_side_scale_with_boxes(hw):
    h, w = hw
    x = rand_clip((3, 2, h, w), torch.float32, seed=2)
    for b in box_sets(h, w, seed=5).values():
        if as_numpy(b).dtype.kind != "f":
            with pytest.raises(TypeError, match="short_side_scale_with_boxes: boxes must have a floating dtype"):
                FN.short_side_scale_with_boxes(x, b, 12)
            continue
        keep = as_numpy(b)
        img, boxes = FN.short_side_scale_with_boxes(x, b, 12)
        want_img = ptv_short_side_scale(x, 12)
        assert_close_resized(img, want_img)
        factor = want_img.shape[2] / h if w < h else want_img.shape[3] / w  # the long side's factor
        want = as_numpy(b)
        want *= factor
        assert_equal(boxes, like(b, want))
        np.testing.assert_array_equal(as_numpy(b), keep)  # PyTorchVideo scaled in place; fastvid does not
        for seed in range(3):
            (img, boxes), s1 = seeded(lambda: FN.random_short_side_scale_with_boxes(x, b, 8, 20), seed)
            size, s2 = seeded(lambda: torch.randint(8, 21, (1,)).item(), seed)
            assert_same_state(s1, s2)
            assert_close_resized(img, ptv_short_side_scale(x, size))
            ref_img, ref_boxes = FN.short_side_scale_with_boxes(x, b, size)
            assert_equal(boxes, ref_boxes)


@pytest.mark.cuda
def test_cuda_results_stay_on_the_device_and_match_the_cpu():
    x = rand_clip((3, 6, 21, 30), torch.float32, seed=8)
    xc = x.cuda()
    for fn in (
        lambda v: FN.short_side_scale(v, 11),
        lambda v: FN.uniform_temporal_subsample(v, 4),
        lambda v: FN.uniform_crop(v, 9, 2),
        lambda v: FN.random_resized_crop(v, 8, 10, (0.2, 1.0), (0.5, 2.0)),
        lambda v: FN.random_resized_crop(v, 8, 10, (0.2, 1.0), (0.5, 2.0), shift=True),
        lambda v: FN.random_resized_crop(v.to(torch.uint8), 8, 10, (0.2, 1.0), (0.5, 2.0), interpolation="nearest"),
    ):
        cpu, s1 = seeded(lambda: fn(x), 3)
        gpu, s2 = seeded(lambda: fn(xc), 3)
        assert_same_state(s1, s2)
        assert gpu.device == xc.device and gpu.dtype == cpu.dtype
        torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-3, rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# errors


X = torch.zeros(3, 4, 10, 12)
B = torch.zeros(2, 4)


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: FN.uniform_temporal_subsample(X, 0), ValueError, "num_samples"),
        (lambda: FN.uniform_temporal_subsample(X, 2.0), TypeError, "num_samples"),
        (lambda: FN.uniform_temporal_subsample(X, 2, 4), ValueError, "temporal_dim 4 is out of range"),
        (lambda: FN.uniform_temporal_subsample(X, 2, 1.0), TypeError, "temporal_dim"),
        (lambda: FN.uniform_temporal_subsample(X[:, :0], 2), ValueError, "no frames"),
        (lambda: FN.uniform_temporal_subsample(X.numpy(), 2), TypeError, "torch.Tensor"),
        (lambda: FN.uniform_temporal_subsample_repeated(X, (1, 8)), ValueError, "frame ratio 8 keeps"),
        (lambda: FN.uniform_temporal_subsample_repeated(X, (1, 0)), ValueError, "frame_ratios"),
        (lambda: FN.uniform_temporal_subsample_repeated(X, 2), TypeError, "frame_ratios"),
        (lambda: T.UniformTemporalSubsampleRepeated(()), ValueError, "frame_ratios must hold at least one"),
        (lambda: T.UniformTemporalSubsampleRepeated((2,), temporal_dim="T"), TypeError, "temporal_dim"),
        (lambda: FN.short_side_scale(X.to(torch.uint8), 5), TypeError, "x must be a float32 clip"),
        (lambda: FN.short_side_scale(X.double(), 5), TypeError, "float32"),
        (lambda: FN.short_side_scale(X[0], 5), ValueError, r"shape \(C, T, H, W\)"),
        (lambda: FN.short_side_scale(X, 0), ValueError, "size"),
        (lambda: FN.short_side_scale(X, 5, "nearest"), ValueError, "interpolation"),
        (lambda: FN.short_side_scale(X, 5, backend="opencv"), ValueError, "backend"),
        (lambda: FN.short_side_scale(X[:, :, :, :0], 5), ValueError, "1x1"),
        (lambda: FN.uniform_crop(X, 11, 1), ValueError, "larger than the 10x12 frame"),
        (lambda: FN.uniform_crop(X, 4, 3), ValueError, "spatial_idx"),
        (lambda: FN.uniform_crop(X, 0, 1), ValueError, "size"),
        (lambda: FN.random_resized_crop(X, 4, 4, (0.0, 1.0), (1.0, 1.0)), ValueError, "scale"),
        (lambda: FN.random_resized_crop(X, 4, 4, (0.5, 1.0), (-1.0, 1.0)), ValueError, "aspect_ratio"),
        (lambda: FN.random_resized_crop(X, 0, 4, (0.5, 1.0), (1.0, 1.0)), ValueError, "target_height"),
        (lambda: FN.random_resized_crop(X, 4, 4, (0.5, 1.0), (1.0, 1.0), num_tries=0), ValueError, "num_tries"),
        (lambda: FN.random_resized_crop(X, 4, 4, (0.5, 1.0), (1.0, 1.0), interpolation="area2"), ValueError, "interp"),
        (lambda: FN.random_resized_crop(X, 4, 4, 0.5, (1.0, 1.0)), TypeError, "scale"),
        (lambda: FN.random_resized_crop(X, 4, 4, (0.5, 1.0), (1.0, 1.0), "nearest"), TypeError, "shift"),
        (lambda: FN.div_255([1, 2]), TypeError, "div_255: x"),
        (lambda: FN.clip_boxes_to_image([[0, 0, 1, 1]], 4, 4), TypeError, "boxes must be a torch.Tensor or a NumPy"),
        (lambda: FN.clip_boxes_to_image(torch.zeros(2, 3), 4, 4), ValueError, r"boxes must have shape \(N, 4\)"),
        (lambda: FN.clip_boxes_to_image(B.bool(), 4, 4), TypeError, "integer or floating dtype"),
        (lambda: FN.clip_boxes_to_image(B, "4", 4), TypeError, "height"),
        (lambda: FN.crop_boxes(B, 1.5, 0), TypeError, "x_offset"),
        (lambda: FN.random_crop_with_boxes(X, 11, B), ValueError, "larger than the 10x12 frame"),
        (lambda: FN.horizontal_flip_with_boxes(1.5, X, B), ValueError, "prob"),
        (lambda: FN.horizontal_flip_with_boxes(0.5, X, B.numpy().astype(bool)), TypeError, "dtype"),
        (lambda: FN.random_short_side_scale_with_boxes(X, B, 9, 8), ValueError, "min_size must be <= max_size"),
        (lambda: FN.random_short_side_scale_with_boxes(X.half(), B, 8, 9), TypeError, "images must be a float32"),
        (lambda: T.ConvertFloatToUint8()(X.to(torch.uint8)), TypeError, "float32 or float16"),
        (lambda: T.ConvertFloatToUint8()(X.double()), TypeError, "float32 or float16"),
    ],
)
def test_errors(call, exc, match):
    state = rng_state()
    with pytest.raises(exc, match=match):
        call()
    assert_same_state(state, rng_state())  # a bad call draws nothing
