"""fastvid.ops.clip_transform on the CPU: against the oracle (fastvid.reference) and against
F.interpolate / torchvision, over many shapes, layouts, strides, dtypes, both CPU ISA builds and
thread counts; plus opcheck and torch.compile.

Tolerances: float32 after normalization within 1e-4 absolute (relative for inputs of large
magnitude); uint8 within 1 level; bfloat16 / float16 within their rounding of the float32 value.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

import fastvid
from fastvid import ops, reference

MEAN = (0.45, 0.45, 0.45)
STD = (0.225, 0.225, 0.225)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _clip(t, h, w, c=3, *, layout="THWC", dtype=torch.uint8, seed=0):
    """A fresh random clip in `layout`, contiguous."""
    g = _gen(seed)
    shape = (t, h, w, c) if layout == "THWC" else (c, t, h, w)
    if dtype == torch.uint8:
        return torch.randint(0, 256, shape, dtype=torch.uint8, generator=g)
    return torch.rand(shape, generator=g) * 255.0


def _assert_close_norm(got, want, atol=1e-4):
    """float32 within atol absolute, scaled by the magnitude for inputs far from [0, 255]/255."""
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == want.dtype
    tol = atol * want.abs().clamp_min(1.0)
    err = (got.float() - want.float()).abs()
    assert bool((err <= tol).all()), f"max error {err.max().item():.3g} (atol {atol})"


def _assert_u8_close(got, want):
    assert got.dtype == torch.uint8 and want.dtype == torch.uint8
    assert got.shape == want.shape
    diff = (got.int() - want.int()).abs().max().item()
    assert diff <= 1, f"uint8 results differ by {diff} levels"


def _both(video, **kw):
    return ops.clip_transform(video, **kw), reference.clip_transform(video, **kw)


# --------------------------------------------------------------------------------------------------
# Shapes: odd sizes, one frame, up- and down-scaling, portrait and landscape, crops on every edge.

# (T, H, W, C, size, crop, frame_indices)
SHAPE_CASES = [
    (8, 256, 340, 3, (288, 382), (20, 50, 224, 224), [0, 1, 3, 5, 7, 7, 2, 0]),  # upscale, landscape
    (5, 37, 23, 3, (61, 38), (0, 0, 61, 38), None),  # odd, portrait, upscale, whole frame
    (1, 19, 31, 3, (7, 11), None, None),  # one frame, odd downscale
    (3, 64, 48, 3, (40, 30), (40 - 17, 30 - 13, 17, 13), [2, 0]),  # crop at bottom-right corner
    (2, 50, 70, 3, (33, 47), (0, 47 - 21, 14, 21), None),  # crop at top-right corner
    (2, 50, 70, 3, (100, 141), (100 - 64, 0, 64, 64), [1]),  # crop at bottom-left corner, upscale 2x
    (4, 21, 33, 1, (21, 33), (3, 4, 11, 17), None),  # gray, no resize, crop only
    (2, 30, 40, 4, (45, 20), (5, 0, 40, 20), None),  # RGBA, up in H, down in W
    (3, 1, 1, 3, (5, 9), None, [0, 2]),  # 1x1 source
    (2, 9, 1, 2, (4, 3), (1, 1, 3, 2), None),  # one source column, two channels
    (2, 120, 160, 3, (17, 23), (2, 3, 13, 17), None),  # strong downscale (many antialias taps)
    (2, 16, 300, 3, (16, 64), (0, 8, 16, 48), None),  # resize along W only
]


@pytest.mark.parametrize("case", SHAPE_CASES, ids=lambda c: f"{c[0]}x{c[1]}x{c[2]}x{c[3]}->{c[4]}")
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("flip", [False, True])
def test_shapes_vs_oracle(case, antialias, flip):
    t, h, w, c, size, crop, idx = case
    video = _clip(t, h, w, c, seed=t * 1000 + h + w)
    mean, std = tuple(0.1 * (i + 3) for i in range(c)), tuple(0.2 + 0.05 * i for i in range(c))
    got, want = _both(
        video, layout="THWC", frame_indices=idx, size=size, crop=crop, flip=flip, mean=mean, std=std,
        antialias=antialias,
    )
    _assert_close_norm(got, want)


@pytest.mark.parametrize("layout", ["CTHW", "THWC"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("antialias", [False, True])
def test_layouts_and_input_dtypes(layout, dtype, antialias):
    video = _clip(6, 45, 67, 3, layout=layout, dtype=dtype, seed=7)
    for size, crop in [((30, 44), (3, 5, 24, 33)), ((90, 134), (60, 100, 30, 34)), ((45, 67), None)]:
        got, want = _both(
            video, layout=layout, frame_indices=[5, 0, 3], size=size, crop=crop, flip=True, antialias=antialias
        )
        _assert_close_norm(got, want)


def _stride_variants(layout):
    """(name, video) pairs with the same logical clip under different memory layouts."""
    base = _clip(6, 40, 52, 3, layout=layout, dtype=torch.float32, seed=11).round()
    out = [("contiguous", base)]
    if layout == "CTHW":
        out.append(("permuted-from-THWC", base.permute(1, 2, 3, 0).contiguous().permute(3, 0, 1, 2)))
        out.append(("channels-last", base.contiguous(memory_format=torch.channels_last)))
        big = _clip(8, 50, 70, 3, layout="CTHW", dtype=torch.float32, seed=12)
        out.append(("sliced", big[:, 1:7, 5:45, 10:62]))
        out.append(("sliced-step", big[:, ::2, ::1, ::2][:, :, :40, :35]))
        out.append(("expanded-T", base[:, :1].expand(3, 6, 40, 52)))
        out.append(("expanded-C", base[:1].expand(3, 6, 40, 52)))
    else:
        out.append(("permuted-from-CTHW", base.permute(3, 0, 1, 2).contiguous().permute(1, 2, 3, 0)))
        out.append(("channels-last", base.contiguous(memory_format=torch.channels_last)))
        big = _clip(8, 50, 70, 4, layout="THWC", dtype=torch.float32, seed=13)
        out.append(("sliced-channels", big[1:7, 5:45, 10:62, :3]))
        out.append(("sliced-step", big[::2, :, ::2, 1:][:, :40, :35]))
        out.append(("expanded-T", base[:1].expand(6, 40, 52, 3)))
        out.append(("reversed-channels", base.flip(-1)))
    return out


@pytest.mark.parametrize("layout", ["CTHW", "THWC"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_strides(layout, dtype):
    for name, video in _stride_variants(layout):
        video = video.to(dtype)
        t = video.shape[1] if layout == "CTHW" else video.shape[0]
        h, w = (video.shape[2], video.shape[3]) if layout == "CTHW" else (video.shape[1], video.shape[2])
        for size, crop, aa in [((h + 7, w + 5), (2, 3, h, w - 4), False), ((h // 2, w // 2), None, True)]:
            kw = dict(layout=layout, frame_indices=[t - 1, 0, t // 2], size=size, crop=crop, flip=True, antialias=aa)
            got, want = _both(video, **kw)
            _assert_close_norm(got, want)
            # Bit-identical to a contiguous copy: every stride path rounds the same way (so a batch of
            # clips gives the same values whatever memory the clips sit in).
            torch.testing.assert_close(got, ops.clip_transform(video.contiguous(), **kw), rtol=0, atol=0)


@pytest.mark.parametrize("out_dtype", [torch.float32, torch.bfloat16, torch.float16])
@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
def test_out_dtypes(out_dtype, in_dtype):
    video = _clip(4, 48, 64, 3, dtype=in_dtype, seed=3)
    kw = dict(layout="THWC", frame_indices=[0, 3, 1], size=(56, 75), crop=(4, 9, 40, 53), flip=True)
    got = ops.clip_transform(video, out_dtype=out_dtype, **kw)
    assert got.dtype == out_dtype and got.is_contiguous() and got.device == video.device
    want32 = reference.clip_transform(video, **kw)
    # bfloat16 keeps 8 significant bits, float16 11: one rounding of (nearly) the float32 value.
    eps = {torch.float32: 1e-4, torch.bfloat16: 2.0**-8, torch.float16: 2.0**-11}[out_dtype]
    err = (got.float() - want32).abs()
    assert bool((err <= eps * want32.abs().clamp_min(1.0) + 1e-5).all()), err.max()
    want = reference.clip_transform(video, out_dtype=out_dtype, **kw)
    assert want.dtype == out_dtype


@pytest.mark.parametrize("in_dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("antialias", [False, True])
def test_uint8_output(in_dtype, antialias):
    video = _clip(3, 57, 41, 3, dtype=in_dtype, seed=5)
    for size, crop in [((80, 57), (10, 3, 64, 50)), ((30, 21), None), ((57, 41), (0, 0, 57, 41))]:
        kw = dict(layout="THWC", size=size, crop=crop, flip=True, scale=None, mean=None, std=None,
                  antialias=antialias, out_dtype=torch.uint8)
        got, want = _both(video, **kw)
        _assert_u8_close(got, want)
    # Without a resize, uint8 out of a uint8 clip is the exact crop (flipped).
    got = ops.clip_transform(video.to(torch.uint8), layout="THWC", crop=(5, 6, 20, 30), flip=True, scale=None,
                             mean=None, std=None, out_dtype=torch.uint8)
    torch.testing.assert_close(got, video.to(torch.uint8).permute(3, 0, 1, 2)[:, :, 5:25, 6:36].flip(-1))


def _use_isa(isa, monkeypatch):
    if isa == "baseline":
        monkeypatch.setenv("FASTVID_CPU_ISA", "baseline")
    else:
        monkeypatch.delenv("FASTVID_CPU_ISA", raising=False)


@pytest.mark.parametrize("isa", ["baseline", "default"])
def test_uint8_output_clamps_and_rounds_half_to_even(isa, monkeypatch):
    # Float values outside 0..255 are clamped; .5 rounds to even, as torch.round. 11 wide: the AVX2 build's
    # 8-wide vector store and its scalar tail both see ties.
    _use_isa(isa, monkeypatch)
    values = [-7.0, 0.5, 1.5, 2.5, 254.5, 255.4, 300.0, 3.49, 0.5, 1.5, 2.5]
    video = torch.tensor(values, dtype=torch.float32).view(1, 1, 1, 11)
    got = ops.clip_transform(video, scale=None, mean=None, std=None, out_dtype=torch.uint8)
    assert got.flatten().tolist() == [0, 0, 2, 2, 254, 255, 255, 3, 0, 2, 2]


@pytest.mark.parametrize("isa", ["baseline", "default"])
def test_narrow_outputs_are_the_float32_result_rounded_to_nearest_even(isa, monkeypatch):
    """The other tests compare uint8 within 1 level and bf16/fp16 within their precision: those would not see a
    kernel that truncates. Each narrow output must be exactly the float32 output of the same call, rounded as
    torch rounds (uint8: round half to even and clamp; bf16/fp16: to nearest even)."""
    _use_isa(isa, monkeypatch)
    # ties: 1 + 2^-8 and 1 + 3 * 2^-8 lie halfway between two bfloat16 values, 1 + 2^-11 and 1 + 3 * 2^-11
    # between two float16 values; 19 wide (the AVX2 build's vector stores and its tail)
    ties = torch.tensor([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-11, 1 + 3 * 2**-11, 2.5, 0.5] * 3 + [3.5])
    cases = [(ties.view(1, 1, 1, 19), {})]
    for seed, (t, h, w) in enumerate([(3, 17, 29), (4, 33, 47), (2, 9, 70)]):
        video = _clip(t, h, w, 3, seed=40 + seed)
        cases += [(video, dict(layout="THWC", size=(h + 5, w - 3), crop=(1, 2, h - 2, w - 9), flip=True)),
                  (video.float() * 1.37 - 20.0, dict(layout="THWC", size=(h // 2 + 1, w // 2 + 3), antialias=True)),
                  (video.permute(3, 0, 1, 2), dict(frame_indices=[t - 1, 0], size=(2 * h, 2 * w)))]
    for video, kw in cases:
        wide = ops.clip_transform(video, scale=None, mean=None, std=None, **kw)
        u8 = ops.clip_transform(video, scale=None, mean=None, std=None, out_dtype=torch.uint8, **kw)
        assert torch.equal(u8, wide.round().clamp(0, 255).to(torch.uint8))
        for dtype in (torch.bfloat16, torch.float16):
            narrow = ops.clip_transform(video, scale=None, mean=None, std=None, out_dtype=dtype, **kw)
            assert torch.equal(narrow, wide.to(dtype)), dtype
        channels = video.shape[-1] if kw.get("layout") == "THWC" else video.shape[0]
        norm = dict(mean=[0.4] * channels, std=[0.3] * channels)
        normalized = ops.clip_transform(video, **norm, **kw)
        assert torch.equal(ops.clip_transform(video, out_dtype=torch.bfloat16, **norm, **kw), normalized.to(torch.bfloat16))


def test_float_inputs_of_any_magnitude():
    g = _gen(21)
    video = torch.randn(3, 4, 33, 47, generator=g) * 1000.0
    for scale, mean, std in [(None, None, None), (2.0, (1.0, -2.0, 3.0), (0.5, 4.0, 1.5)), (1.0, None, (2.0,) * 3)]:
        got, want = _both(video, size=(50, 31), crop=(1, 2, 45, 27), flip=True, scale=scale, mean=mean, std=std)
        # Interpolating values of both signs cancels: the error scales with the clip's magnitude.
        torch.testing.assert_close(got, want, rtol=0, atol=1e-5 * want.abs().max().item())


def test_frame_indices_forms():
    video = _clip(7, 20, 24, 3, seed=8)
    want = reference.clip_transform(video, layout="THWC", frame_indices=[6, 6, 0, 3, 3, 3], size=(10, 12))
    for idx in (
        [6, 6, 0, 3, 3, 3],
        (6, 6, 0, 3, 3, 3),
        torch.tensor([6, 6, 0, 3, 3, 3]),
        torch.tensor([6, 6, 0, 3, 3, 3], dtype=torch.int32),
        torch.tensor([6, 9, 6, 9, 0, 9, 3, 9, 3, 9, 3, 9])[::2],  # strided
        torch.tensor([[6, 6, 0], [3, 3, 3]]).flatten(),
    ):
        got = ops.clip_transform(video, layout="THWC", frame_indices=idx, size=(10, 12))
        _assert_close_norm(got, want)
    # The temporal subsample of PyTorchVideo (frames repeat when n > T).
    idx = reference.uniform_temporal_subsample_indices(7, 12)
    assert len(set(idx.tolist())) == 7
    got, want = _both(video, layout="THWC", frame_indices=idx, size=(15, 18), crop=(1, 1, 13, 16))
    _assert_close_norm(got, want)


def test_no_arguments_is_normalized_identity():
    video = _clip(2, 5, 6, 3, layout="CTHW", seed=9)
    got = ops.clip_transform(video)
    want = (video.float() / 255.0 - 0.45) / 0.225
    _assert_close_norm(got, want)


# --------------------------------------------------------------------------------------------------
# Against F.interpolate and torchvision directly (not through the oracle).


@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("hw,size", [((256, 340), (288, 382)), ((72, 128), (36, 64)), ((33, 17), (50, 26))])
def test_vs_f_interpolate(antialias, hw, size):
    h, w = hw
    video = _clip(4, h, w, 3, seed=h + w)
    frames = video.permute(0, 3, 1, 2).float()  # (T, C, H, W)
    resized = F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=antialias)
    top, left, ch, cw = size[0] // 5, size[1] // 7, size[0] // 2, size[1] // 2
    want = resized[..., top : top + ch, left : left + cw].flip(-1).permute(1, 0, 2, 3)
    mean = torch.tensor(MEAN).view(3, 1, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1, 1)
    want = (want / 255.0 - mean) / std
    got = ops.clip_transform(video, layout="THWC", size=size, crop=(top, left, ch, cw), flip=True, antialias=antialias)
    _assert_close_norm(got, want)


@pytest.mark.parametrize("hw,short", [((256, 340), 288), ((720, 1280), 224), ((61, 45), 40), ((90, 160), 112)])
def test_vs_torchvision_v2(hw, short):
    tv = pytest.importorskip("torchvision.transforms.v2.functional")
    h, w = hw
    video = _clip(3, h, w, 3, seed=h)
    frames = video.permute(0, 3, 1, 2)  # (T, C, H, W) uint8, as torchvision takes video frames
    size = reference.short_side_scale_size(h, w, short)
    top, left = (size[0] - short) // 3, (size[1] - short) // 2
    # torchvision v2: Resize (antialias=True by default) -> crop -> hflip -> ToDtype(scale) -> Normalize,
    # all on float frames (ToDtype first): the float path of F.interpolate.
    x = tv.to_dtype(frames, torch.float32, scale=True)
    x = tv.resize(x, list(size), antialias=True)
    x = tv.horizontal_flip(tv.crop(x, top, left, short, short))
    x = tv.normalize(x, list(MEAN), list(STD))
    got = ops.clip_transform(video, layout="THWC", size=size, crop=(top, left, short, short), flip=True, antialias=True)
    _assert_close_norm(got, x.permute(1, 0, 2, 3))
    # On the uint8 frames (torchvision's integer resize), uint8 output agrees within 1 level.
    y = tv.horizontal_flip(tv.crop(tv.resize(frames, list(size), antialias=True), top, left, short, short))
    got8 = ops.clip_transform(video, layout="THWC", size=size, crop=(top, left, short, short), flip=True,
                              antialias=True, scale=None, mean=None, std=None, out_dtype=torch.uint8)
    _assert_u8_close(got8, y.permute(1, 0, 2, 3).contiguous())


def _weight_matrix(in_size: int, out_size: int, antialias: bool) -> torch.Tensor:
    """(out_size, in_size) float64 interpolation matrix, written from the definitions: bilinear with
    align_corners=False (source x = (o + 0.5) * in / out - 0.5, clamped at 0), or with antialias a
    triangle filter stretched by the downscale factor, normalized to sum 1."""
    s = in_size / out_size
    m = torch.zeros(out_size, in_size, dtype=torch.float64)
    for o in range(out_size):
        if antialias and s > 1:
            center = s * (o + 0.5)
            for j in range(in_size):
                m[o, j] = max(0.0, 1.0 - abs((j + 0.5 - center) / s))
            m[o] /= m[o].sum()
        else:
            x = max(s * (o + 0.5) - 0.5, 0.0)
            i0 = min(int(x), in_size - 1)
            i1 = min(i0 + 1, in_size - 1)
            lam = x - i0 if i0 < in_size - 1 else 0.0
            m[o, i0] += 1.0 - lam
            m[o, i1] += lam
    return m


@pytest.mark.parametrize("antialias", [False, True])
def test_vs_float64_weight_matrices(antialias):
    # Independent of F.interpolate: includes one-column outputs, where torch 2.14's CPU antialiased
    # resize returns the first row for every row (the oracle works around it).
    cases = [((7, 1), (3, 1)), ((5, 3), (2, 1)), ((9, 12), (4, 5)), ((3, 40), (6, 7)), ((16, 9), (16, 1)),
             ((1, 9), (5, 2)), ((30, 17), (1, 1)), ((11, 13), (29, 31))]
    for (h, w), (oh, ow) in cases:
        video = _clip(2, h, w, 3, layout="CTHW", dtype=torch.float32, seed=h * w)
        want = torch.einsum("oh,cthw,pw->ctop", _weight_matrix(h, oh, antialias), video.double(),
                            _weight_matrix(w, ow, antialias))
        got = ops.clip_transform(video, size=(oh, ow), scale=None, mean=None, std=None, antialias=antialias)
        torch.testing.assert_close(got.double(), want, rtol=0, atol=2e-3, msg=f"{(h, w)} -> {(oh, ow)}")
        oracle = reference.clip_transform(video, size=(oh, ow), scale=None, mean=None, std=None, antialias=antialias)
        torch.testing.assert_close(oracle.double(), want, rtol=0, atol=2e-3, msg=f"oracle {(h, w)} -> {(oh, ow)}")


@pytest.mark.parametrize("isa", ["baseline", "default"])
@pytest.mark.parametrize("antialias", [False, True])
def test_horizontal_paths(isa, antialias, monkeypatch):
    # The AVX2 build reads the column taps of 8 outputs in one of four ways, chosen by how far apart
    # they are: width ratios from upscaling (permute) through mild / strong downscaling (4- and
    # 8-float windows) to many antialias taps (gather); output widths with a scalar tail.
    if isa == "baseline":
        monkeypatch.setenv("FASTVID_CPU_ISA", "baseline")
    video = _clip(2, 12, 400, 3, seed=41)
    for in_w, out_w in [(40, 101), (45, 45), (52, 40), (130, 100), (250, 100), (400, 59), (400, 21), (400, 8)]:
        for out_dtype in (torch.float32, torch.bfloat16, torch.uint8):
            norm = {} if out_dtype != torch.uint8 else dict(scale=None, mean=None, std=None)
            kw = dict(layout="THWC", size=(12, out_w), flip=bool(out_w % 2), antialias=antialias, out_dtype=out_dtype, **norm)
            got, want = _both(video[:, :, :in_w], **kw)
            if out_dtype == torch.uint8:
                _assert_u8_close(got, want)
            else:
                tol = 1e-4 if out_dtype == torch.float32 else 2.0**-7  # one bfloat16 step apart at most
                err = (got.float() - want.float()).abs()
                assert bool((err <= tol * want.float().abs().clamp_min(1.0)).all()), (in_w, out_w, out_dtype)


# --------------------------------------------------------------------------------------------------
# Both ISA builds, both thread counts, no mutation, output properties.


def _isa_cases():
    video = _clip(5, 61, 83, 3, seed=17)
    kws = [
        dict(layout="THWC", frame_indices=[4, 0, 2], size=(70, 95), crop=(3, 7, 64, 81), flip=True),
        dict(layout="THWC", size=(30, 41), crop=(0, 1, 29, 37), antialias=True),
        dict(layout="THWC", size=(20, 140), crop=(0, 5, 20, 131), flip=True),  # mixed down/up
        dict(layout="THWC", size=(61, 83), crop=(2, 3, 40, 57), scale=None, mean=None, std=None,
             out_dtype=torch.uint8),
        dict(layout="THWC", size=(90, 120), out_dtype=torch.bfloat16),
        dict(layout="THWC", size=(45, 60), out_dtype=torch.float16, antialias=True),
    ]
    return video, kws


@pytest.mark.parametrize("isa", ["baseline", "default"])
def test_cpu_isa_builds(isa, monkeypatch):
    if isa == "baseline":
        monkeypatch.setenv("FASTVID_CPU_ISA", "baseline")
    else:
        monkeypatch.delenv("FASTVID_CPU_ISA", raising=False)
    video, kws = _isa_cases()
    for variant in (video, video.float(), video.permute(3, 0, 1, 2).contiguous().permute(1, 2, 3, 0)):
        for kw in kws:
            got, want = _both(variant, **kw)
            if got.dtype == torch.uint8:
                _assert_u8_close(got, want)
            elif got.dtype == torch.float32:
                _assert_close_norm(got, want)
            else:
                eps = 2.0**-8 if got.dtype == torch.bfloat16 else 2.0**-11
                err = (got.float() - want.float()).abs()
                assert bool((err <= 2 * eps * want.float().abs().clamp_min(1.0)).all())


def test_isa_builds_agree(monkeypatch):
    video, kws = _isa_cases()
    monkeypatch.delenv("FASTVID_CPU_ISA", raising=False)
    fast = [ops.clip_transform(video, **kw) for kw in kws]
    monkeypatch.setenv("FASTVID_CPU_ISA", "baseline")
    base = [ops.clip_transform(video, **kw) for kw in kws]
    for a, b in zip(fast, base):
        if a.dtype == torch.uint8:
            _assert_u8_close(a, b)
        else:
            torch.testing.assert_close(a.float(), b.float(), rtol=1e-2 if a.dtype != torch.float32 else 1e-5, atol=1e-5)


def test_build_info_isa_switch(monkeypatch):
    monkeypatch.setenv("FASTVID_CPU_ISA", "baseline")
    assert fastvid.build_info()["cpu_isa"] == "baseline"
    monkeypatch.delenv("FASTVID_CPU_ISA")
    assert fastvid.build_info()["cpu_isa"] in ("avx2", "baseline")


@pytest.fixture
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_threads_give_identical_results(restore_threads):
    video = _clip(8, 96, 128, 3, seed=23)
    video = torch.cat([video, video.flip(0)], 0)  # 16 frames
    kws = [
        dict(layout="THWC", frame_indices=[7, 1, 2, 2, 5, 0, 3, 6, 15], size=(112, 149), crop=(5, 9, 100, 130), flip=True),
        dict(layout="THWC", size=(48, 60), antialias=True, out_dtype=torch.bfloat16),
    ]
    # Both clips are large enough (several row chunks) to run on two threads.
    torch.set_num_threads(1)
    one = [ops.clip_transform(video, **kw) for kw in kws]
    torch.set_num_threads(2)
    two = [ops.clip_transform(video, **kw) for kw in kws]
    for a, b in zip(one, two):
        assert torch.equal(a, b)


def test_input_not_mutated_and_output_properties():
    for layout, dtype in itertools.product(["CTHW", "THWC"], [torch.uint8, torch.float32]):
        video = _clip(4, 30, 40, 3, layout=layout, dtype=dtype, seed=29)
        idx = torch.tensor([3, 1, 1])
        before, idx_before = video.clone(), idx.clone()
        for out_dtype in (torch.float32, torch.bfloat16, torch.float16):
            out = ops.clip_transform(video, layout=layout, frame_indices=idx, size=(33, 44), crop=(1, 2, 30, 31),
                                     flip=True, out_dtype=out_dtype)
            assert out.shape == (3, 3, 30, 31)
            assert out.dtype == out_dtype and out.device == video.device and out.is_contiguous()
        out = ops.clip_transform(video, layout=layout, size=(20, 20), scale=None, mean=None, std=None,
                                 out_dtype=torch.uint8)
        assert out.shape == (3, 4, 20, 20) and out.dtype == torch.uint8 and out.is_contiguous()
        assert torch.equal(video, before) and torch.equal(idx, idx_before)


def test_more_frames_than_int32_elements():
    # A (300M, 8, 8, 3) clip has more than 2^31 elements; as an expanded view (frame stride 0) it costs
    # 192 bytes, and the kernel must still index it with 64-bit arithmetic.
    base = torch.randint(0, 256, (1, 8, 8, 3), dtype=torch.uint8)
    video = base.expand(300_000_000, 8, 8, 3)
    got = ops.clip_transform(video, layout="THWC", frame_indices=[299_999_999, 0], size=(4, 4))
    want = reference.clip_transform(base, layout="THWC", frame_indices=[0, 0], size=(4, 4))
    _assert_close_norm(got, want)


# --------------------------------------------------------------------------------------------------
# torch.library.opcheck and torch.compile.


def test_opcheck():
    video = _clip(4, 20, 30, 3, seed=31)
    samples = [
        (video, "THWC", torch.tensor([3, 0, 1]), [24, 36], [2, 3, 16, 20], True, 1 / 255, list(MEAN), list(STD), False,
         torch.float32),
        (video.permute(3, 0, 1, 2).float(), "CTHW", None, [10, 15], None, False, 1.0, None, None, True, torch.bfloat16),
        (video, "THWC", torch.tensor([1, 1], dtype=torch.int32), None, [0, 0, 5, 5], True, None, None, None, False,
         torch.uint8),
    ]
    for args in samples:
        torch.library.opcheck(torch.ops.fastvid.clip_transform.default, args)


def test_torch_compile_fullgraph():
    torch._dynamo.reset()

    @torch.compile(fullgraph=True, backend="inductor")
    def pipeline(video, idx):
        x = ops.clip_transform(video, layout="THWC", frame_indices=idx, size=(40, 53), crop=(4, 6, 32, 32), flip=True)
        return x * 2.0 + 1.0

    video = _clip(6, 36, 48, 3, seed=37)
    idx = torch.tensor([5, 2, 0, 0])
    got = pipeline(video, idx)
    want = reference.clip_transform(video, layout="THWC", frame_indices=idx, size=(40, 53), crop=(4, 6, 32, 32),
                                    flip=True) * 2.0 + 1.0
    _assert_close_norm(got, want, atol=2e-4)
