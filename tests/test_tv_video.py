"""fastvid.transforms.ToTensorVideo / RandomResizedCropVideo against torchvision's own
``torchvision.transforms._transforms_video`` classes: same draws under the same seed, same pixels (uint8 input
compared as the float 0-255 clip), same checks; alone and fused inside fastvid's Compose."""

from __future__ import annotations

import random
import warnings

import pytest
import torch
import torchvision.transforms as TT

import fastvid.transforms as T

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import torchvision.transforms._transforms_video as TV
    except ImportError:  # removed in a later torchvision
        TV = None

pytestmark = pytest.mark.skipif(TV is None, reason="torchvision.transforms._transforms_video no longer imports")

MEAN = (0.45, 0.40, 0.35)
STD = (0.225, 0.25, 0.20)


def _close(got: torch.Tensor, want: torch.Tensor) -> None:
    """float32 within 1e-4, plus 1e-5 relative for 0-255 values (a few float32 ulps: the kernel weighs the
    taps in another order than F.interpolate), as tests/test_transforms.py compares resizes."""
    assert got.shape == want.shape and got.dtype == want.dtype
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-5)


def _clip(g: torch.Generator, c: int, t: int, h: int, w: int, dtype: torch.dtype, view: str) -> torch.Tensor:
    if dtype == torch.uint8:
        data = torch.randint(0, 256, (t, h, w, c), dtype=torch.uint8, generator=g)
    else:
        data = torch.rand((t, h, w, c), generator=g, dtype=dtype) * 255
    if view == "thwc":  # a decoder's buffer, permuted
        return data.permute(3, 0, 1, 2)
    return data.permute(3, 0, 1, 2).contiguous()


def _cases(n: int, seed: int):
    """(clip, size, scale, ratio) cases: many shapes (1x1 to 140 px, portrait and landscape, 1-4 channels, 1-5
    frames), crop sizes up and down, the default and narrow scale / ratio ranges (some force the central crop)."""
    g = torch.Generator().manual_seed(seed)
    rng = random.Random(seed)
    ranges = [((0.08, 1.0), (3.0 / 4.0, 4.0 / 3.0)), ((0.5, 1.0), (1.0, 1.0)), ((0.9, 1.0), (3.0, 4.0)),
              ((1.0, 1.0), (0.2, 0.25)), ((0.01, 0.05), (0.5, 2.0))]
    for k in range(n):
        c, t = rng.randint(1, 4), rng.randint(1, 5)
        h, w = rng.choice([1, 2, 7, 31, 64, 97, 140]), rng.choice([1, 3, 16, 45, 80, 121])
        size = rng.choice([8, 17, 32, (24, 40), (50, 9), 1])
        dtype = torch.uint8 if k % 2 == 0 else torch.float32
        scale, ratio = ranges[k % len(ranges)]
        yield _clip(g, c, t, h, w, dtype, rng.choice(["thwc", "cthw"])), size, scale, ratio


def _pair(ours, theirs, seed, ours_in, theirs_in):
    """Both under the same seeds: (ours, theirs) results and next draws; None when torchvision fails on an empty
    central crop, after checking that fastvid refuses it with a ValueError."""
    try:
        want, next_b = _seeded(theirs, seed, theirs_in)
    except RuntimeError as e:
        assert "sizes should be greater than 0" in str(e)
        with pytest.raises(ValueError, match="central crop"):
            _seeded(ours, seed, ours_in)
        return None
    got, next_a = _seeded(ours, seed, ours_in)
    return got, want, next_a, next_b


def _seeded(fn, seed, *args):
    torch.manual_seed(seed)
    random.seed(seed)
    out = fn(*args)
    return out, torch.rand(1)  # the next draw: both consumed the same number of numbers


# -- ToTensorVideo ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (8, 24, 32, 3), (3, 17, 5, 1), (2, 9, 11, 4), (5, 6, 7, 6)])
def test_to_tensor_video_is_torchvisions(shape):
    g = torch.Generator().manual_seed(sum(shape))
    x = torch.randint(0, 256, shape, dtype=torch.uint8, generator=g)
    for clip in (x, x.transpose(1, 2).contiguous().transpose(1, 2), x.flip(2)):  # contiguous, strided views
        got, want = T.ToTensorVideo()(clip), TV.ToTensorVideo()(clip)
        assert got.dtype == torch.float32 and got.shape == want.shape == (shape[3], shape[0], shape[1], shape[2])
        assert torch.equal(got, want)  # bit-identical
    every = torch.arange(256, dtype=torch.uint8).view(4, 4, 16, 1)
    assert torch.equal(T.ToTensorVideo()(every), TV.ToTensorVideo()(every))
    assert repr(T.ToTensorVideo()) == repr(TV.ToTensorVideo())


@pytest.mark.parametrize("bad", [[[1]], torch.zeros(2, 3, 4, dtype=torch.uint8), torch.zeros(1, 2, 3, 4, 3, dtype=torch.uint8),
                                 torch.zeros(2, 3, 4, 3), torch.zeros(2, 3, 4, 3, dtype=torch.int64)])
def test_to_tensor_video_checks_as_torchvision(bad):
    with pytest.raises(Exception) as theirs:
        TV.ToTensorVideo()(bad)
    with pytest.raises(theirs.type, match="ToTensorVideo: clip"):
        T.ToTensorVideo()(bad)


# -- RandomResizedCropVideo alone ------------------------------------------------------------------------------


def test_draws_are_torchvisions_get_params():
    rng = random.Random(0)
    for seed in range(300):
        h, w = rng.randint(1, 300), rng.randint(1, 300)
        scale = sorted((rng.uniform(0.0, 1.0), rng.uniform(0.0, 1.5)))
        ratio = sorted((rng.uniform(0.1, 3.0), rng.uniform(0.1, 3.0)))
        ours = T.RandomResizedCropVideo(8, scale=tuple(scale), ratio=tuple(ratio))
        img = torch.empty(1, 1, h, w)
        want, next_b = _seeded(TT.RandomResizedCrop.get_params, seed, img, scale, ratio)
        if 0 in want[2:]:  # an empty central crop: torchvision fails later, in F.interpolate
            with pytest.raises(ValueError, match="central crop"):
                _seeded(ours.get_params, seed, img, scale, ratio)
            continue
        # torchvision's static signature, called as its RandomResizedCropVideo does (self.get_params(clip, ...))
        got, next_a = _seeded(ours.get_params, seed, img, ours.scale, ours.ratio)
        assert got == tuple(want) and torch.equal(next_a, next_b), (seed, h, w, scale, ratio)
        assert _seeded(T.RandomResizedCropVideo.get_params, seed, img, scale, ratio)[0] == got


def test_empty_clips_are_refused_naming_the_shape():
    for shape in ((3, 0, 20, 20), (3, 2, 0, 20), (3, 2, 20, 0)):
        for mode in ("bilinear", "bicubic"):
            with pytest.raises(ValueError, match="empty"):
                T.RandomResizedCropVideo(8, interpolation_mode=mode)(torch.rand(shape))


def test_matches_torchvision_on_many_shapes():
    for k, (x, size, scale, ratio) in enumerate(_cases(60, seed=1)):
        ours = T.RandomResizedCropVideo(size, scale=scale, ratio=ratio)
        theirs = TV.RandomResizedCropVideo(size, scale=scale, ratio=ratio)
        assert repr(ours) == repr(theirs)
        both = _pair(ours, theirs, k, x, x.float())
        if both is None:
            continue
        got, want, next_a, next_b = both
        _close(got, want)
        assert torch.equal(next_a, next_b)


def test_bicubic_and_float64_run_in_plain_pytorch_as_torchvision():
    for k, (x, size, scale, ratio) in enumerate(_cases(16, seed=2)):
        for mode, dtype in (("bicubic", torch.float32), ("bilinear", torch.float64), ("bicubic", torch.float64)):
            clip = x.to(dtype)
            ours = T.RandomResizedCropVideo(size, scale=scale, ratio=ratio, interpolation_mode=mode)
            theirs = TV.RandomResizedCropVideo(size, scale=scale, ratio=ratio, interpolation_mode=mode)
            both = _pair(ours, theirs, k, clip, clip)
            if both is None:
                continue
            got, want, next_a, next_b = both
            assert got.dtype == dtype and torch.equal(got, want) and torch.equal(next_a, next_b)
        if x.dtype == torch.uint8:  # uint8 is the float 0-255 clip
            ours = T.RandomResizedCropVideo(size, scale=scale, ratio=ratio, interpolation_mode="bicubic")
            theirs = TV.RandomResizedCropVideo(size, scale=scale, ratio=ratio, interpolation_mode="bicubic")
            both = _pair(ours, theirs, k, x, x.float())
            assert both is None or torch.equal(both[0], both[1])
    # more than 4 channels: not the kernel's, still torchvision's result
    x = torch.rand(6, 2, 30, 40)
    got, _ = _seeded(T.RandomResizedCropVideo(16), 3, x)
    want, _ = _seeded(TV.RandomResizedCropVideo(16), 3, x)
    assert torch.equal(got, want)


def test_generator_draws_apart_from_the_global_generator():
    x = torch.randint(0, 256, (3, 2, 60, 80), dtype=torch.uint8)
    a = T.RandomResizedCropVideo(24, generator=torch.Generator().manual_seed(5))(x)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    b = T.RandomResizedCropVideo(24, generator=torch.Generator().manual_seed(5))(x)
    assert torch.equal(a, b) and torch.equal(state, torch.get_rng_state())
    # the same numbers as the global generator seeded alike
    torch.manual_seed(5)
    assert torch.equal(T.RandomResizedCropVideo(24)(x), a)


@pytest.mark.parametrize("kwargs, error", [
    (dict(size=(1, 2, 3)), ValueError),
    (dict(size=0), ValueError),
    (dict(size="224"), ValueError),
    (dict(size=8, scale=(1.0, 0.5)), ValueError),
    (dict(size=8, scale=(-0.1, 0.5)), ValueError),
    (dict(size=8, scale=0.5), TypeError),
    (dict(size=8, ratio=(0.0, 1.0)), ValueError),
    (dict(size=8, ratio=(2.0, 1.0)), ValueError),
    (dict(size=8, ratio=(1.0, float("inf"))), ValueError),
    (dict(size=8, interpolation_mode="nearest"), ValueError),
    (dict(size=8, generator=1), TypeError),
])
def test_bad_arguments_fail_at_construction(kwargs, error):
    name = next(k for k in kwargs if k != "size") if len(kwargs) > 1 else "size"
    with pytest.raises(error, match=f"RandomResizedCropVideo: {name}"):
        T.RandomResizedCropVideo(**kwargs)


def test_bad_clips():
    with pytest.raises(TypeError, match="RandomResizedCropVideo"):
        T.RandomResizedCropVideo(8)([[1.0]])
    with pytest.raises(ValueError, match="RandomResizedCropVideo"):
        T.RandomResizedCropVideo(8)(torch.rand(3, 10, 10))
    with pytest.raises(ValueError, match="RandomResizedCropVideo"):
        T.RandomResizedCropVideo(8, interpolation_mode="bicubic")(torch.rand(3, 10, 10))


# -- inside fastvid's Compose ------------------------------------------------------------------------------------


def test_fused_with_flip_and_normalize_matches_torchvision_compose():
    for k, (x, size, scale, ratio) in enumerate(_cases(40, seed=3)):
        c = x.shape[0]
        mean, std = MEAN[:1] * c if c != 3 else MEAN, STD[:1] * c if c != 3 else STD
        ours = T.Compose([T.RandomResizedCropVideo(size, scale=scale, ratio=ratio), T.RandomHorizontalFlipVideo(),
                          T.NormalizeVideo(mean, std)])
        assert ours.num_fused_runs == 1 and len(ours.plan) == 1
        theirs = TT.Compose([TV.RandomResizedCropVideo(size, scale=scale, ratio=ratio), TV.RandomHorizontalFlipVideo(),
                             TV.NormalizeVideo(mean, std)])
        both = _pair(ours, theirs, k, x, x.float())
        if both is None:
            continue
        got, want, next_a, next_b = both
        _close(got, want)
        assert torch.equal(next_a, next_b)


def test_torchvision_video_pipeline_from_decoder_frames():
    # the classic _transforms_video pipeline: THWC uint8 frames -> ToTensorVideo -> crop/resize -> flip -> normalize
    g = torch.Generator().manual_seed(4)
    for k in range(12):
        t, h, w = 1 + k % 4, 40 + 7 * k, 64 - 3 * k
        frames = torch.randint(0, 256, (t, h, w, 3), dtype=torch.uint8, generator=g)
        size = (16 + k, 20) if k % 2 else 24
        ours = T.Compose([T.ToTensorVideo(), T.RandomResizedCropVideo(size), T.RandomHorizontalFlipVideo(p=0.5),
                          T.NormalizeVideo(MEAN, STD)])
        theirs = TT.Compose([TV.ToTensorVideo(), TV.RandomResizedCropVideo(size), TV.RandomHorizontalFlipVideo(p=0.5),
                             TV.NormalizeVideo(MEAN, STD)])
        assert ours.num_fused_runs == 1  # ToTensorVideo alone, then one kernel call for the rest
        got, next_a = _seeded(ours, k, frames)
        want, next_b = _seeded(theirs, k, frames)
        _close(got, want)
        assert torch.equal(next_a, next_b)


def test_pytorchvideo_style_pipeline_and_dataset_plan():
    # PyTorchVideo's tutorial with torchvision's crop: subsample -> /255 -> normalize -> RandomResizedCropVideo
    x = torch.randint(0, 256, (3, 20, 72, 96), dtype=torch.uint8)
    steps = [T.UniformTemporalSubsample(6), T.Div255(), T.Normalize(MEAN, STD), T.RandomResizedCropVideo(40),
             T.RandomHorizontalFlipVideo()]
    fused = T.Compose(steps)
    assert fused.num_fused_runs == 1
    for seed in range(8):
        got, next_a = _seeded(fused, seed, x)

        def step_by_step(v):
            for s in steps:
                v = s(v)
            return v

        want, next_b = _seeded(step_by_step, seed, x)
        _close(got, want)
        assert torch.equal(next_a, next_b)
    # the dataset may decode only the 6 kept frames, as uint8
    assert T.temporal_plan(T.ApplyTransformToKey("video", fused)).num_samples == 6
    assert T.accepts_uint8(T.ApplyTransformToKey("video", fused))
    assert T.temporal_plan(T.Compose([T.ToTensorVideo(), T.UniformTemporalSubsample(4)])) is None
    # bicubic runs alone, between fused runs
    mixed = T.Compose([T.Div255(), T.RandomResizedCropVideo(16, interpolation_mode="bicubic"), T.Normalize(MEAN, STD)])
    assert mixed.num_fused_runs == 2 and "bicubic" in repr(mixed)
