"""fastvid.transforms, class by class: each against its semantics (DESIGN.md; PyTorchVideo's functional code,
re-written here in plain torch) and against torchvision's own video transform classes where they import;
uint8 vs float 0-255 input; dict samples; errors at construction.

The step-by-step references (``ptv_*`` below) are also used by tests/test_transforms_fusion.py.
"""

from __future__ import annotations

import math
import random
import warnings

import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms as TT

import fastvid.transforms as T

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        import torchvision.transforms._transforms_video as TV
    except ImportError:  # removed in a later torchvision
        TV = None

needs_tv = pytest.mark.skipif(TV is None, reason="torchvision.transforms._transforms_video no longer imports")

MEAN = (0.45, 0.45, 0.45)
STD = (0.225, 0.225, 0.225)


# ---------------------------------------------------------------------------------------------------------------
# PyTorchVideo's semantics, step by step in plain torch (what pytorchvideo.transforms computes)


def ptv_uniform_temporal_subsample(x, n):
    t = x.shape[1]
    idx = torch.clamp(torch.linspace(0, t - 1, n), 0, t - 1).long()
    return torch.index_select(x, 1, idx)


def ptv_short_side_scale(x, size, antialias=False):
    c, t, h, w = x.shape
    if w < h:
        new_h, new_w = int(math.floor(float(h) / w * size)), size
    else:
        new_h, new_w = size, int(math.floor(float(w) / h * size))
    return F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=antialias)


def ptv_random_short_side_scale(x, lo, hi):
    return ptv_short_side_scale(x, torch.randint(lo, hi + 1, (1,)).item())


def ptv_normalize(x, mean, std):  # pytorchvideo's Normalize: torchvision's Normalize on (T, C, H, W)
    return TT.Normalize(mean, std)(x.permute(1, 0, 2, 3)).permute(1, 0, 2, 3)


def ptv_uniform_crop(x, size, spatial_idx):
    h, w = x.shape[2], x.shape[3]
    y = int(math.ceil((h - size) / 2))
    xo = int(math.ceil((w - size) / 2))
    if h > w:
        y = 0 if spatial_idx == 0 else (h - size if spatial_idx == 2 else y)
    else:
        xo = 0 if spatial_idx == 0 else (w - size if spatial_idx == 2 else xo)
    return x[:, :, y : y + size, xo : xo + size]


def ptv_crop_box(height, width, scale, ratio, log_uniform_ratio=True, num_tries=10):
    """PyTorchVideo's _get_param_spatial_crop: torch.rand draws for area and ratio, torch.randint for i, j."""
    for _ in range(num_tries):
        area = height * width
        target_area = area * (scale[0] + torch.rand(1).item() * (scale[1] - scale[0]))
        if log_uniform_ratio:
            lr = (math.log(ratio[0]), math.log(ratio[1]))
            ar = math.exp(lr[0] + torch.rand(1).item() * (lr[1] - lr[0]))
        else:
            ar = ratio[0] + torch.rand(1).item() * (ratio[1] - ratio[0])
        w = int(round(math.sqrt(target_area * ar)))
        h = int(round(math.sqrt(target_area / ar)))
        if 0 < w <= width and 0 < h <= height:
            i = torch.randint(0, height - h + 1, (1,)).item()
            j = torch.randint(0, width - w + 1, (1,)).item()
            return i, j, h, w
    in_ratio = float(width) / float(height)
    if in_ratio < min(ratio):
        w = width
        h = int(round(w / min(ratio)))
    elif in_ratio > max(ratio):
        h = height
        w = int(round(h * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def ptv_random_resized_crop(x, th, tw, scale, ratio, log_uniform_ratio=True, num_tries=10):
    i, j, h, w = ptv_crop_box(x.shape[2], x.shape[3], scale, ratio, log_uniform_ratio, num_tries)
    return F.interpolate(x[:, :, i : i + h, j : j + w], size=(th, tw), mode="bilinear")


def close(a, b, atol=1e-4, rtol=1e-5):
    assert a.shape == b.shape, (a.shape, b.shape)
    torch.testing.assert_close(a.float(), b.float(), atol=atol, rtol=rtol)


def clip(c=3, t=10, h=30, w=40, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (c, t, h, w), generator=g, dtype=torch.uint8)
    return x if dtype == torch.uint8 else x.to(dtype)


def seeded(fn, seed, *args):
    torch.manual_seed(seed)
    random.seed(seed)
    return fn(*args)


# ---------------------------------------------------------------------------------------------------------------
# each class against its semantics


@pytest.mark.parametrize("t,n", [(10, 4), (64, 8), (5, 9), (1, 3), (8, 8)])
def test_uniform_temporal_subsample(t, n):
    x = clip(t=t)
    close(T.UniformTemporalSubsample(n)(x), ptv_uniform_temporal_subsample(x, n), atol=0, rtol=0)


def test_uniform_temporal_subsample_keeps_uint8():
    x = clip(t=12, dtype=torch.uint8)
    out = T.UniformTemporalSubsample(5)(x)
    assert out.dtype == torch.uint8 and out.is_contiguous()
    assert torch.equal(out, ptv_uniform_temporal_subsample(x, 5))


@pytest.mark.parametrize("hw,size", [((30, 40), 20), ((40, 30), 17), ((24, 24), 31), ((30, 41), 30)])
@pytest.mark.parametrize("antialias", [False, True])
def test_short_side_scale(hw, size, antialias):
    x = clip(h=hw[0], w=hw[1], t=3)
    close(T.ShortSideScale(size, antialias=antialias)(x), ptv_short_side_scale(x, size, antialias))


def test_random_short_side_scale_draws_like_pytorchvideo():
    x = clip(t=2)
    for seed in range(6):
        a = seeded(T.RandomShortSideScale(10, 50), seed, x)
        b = seeded(ptv_random_short_side_scale, seed, x, 10, 50)
        close(a, b)


def test_random_short_side_scale_generator():
    x = clip(t=2)
    a = T.RandomShortSideScale(10, 50, generator=torch.Generator().manual_seed(3))(x)
    torch.manual_seed(3)
    close(a, ptv_random_short_side_scale(x, 10, 50))


@pytest.mark.parametrize("cls", [T.Normalize, T.NormalizeVideo])
def test_normalize(cls):
    x = clip() / 255.0
    mean, std = (0.43, 0.45, 0.41), (0.22, 0.225, 0.23)
    close(cls(mean, std)(x), ptv_normalize(x, mean, std))


@needs_tv
def test_normalize_video_vs_torchvision():
    x = clip() / 255.0
    mean, std = (0.43, 0.45, 0.41), (0.22, 0.225, 0.23)
    close(T.NormalizeVideo(mean, std)(x), TV.NormalizeVideo(mean, std)(x))


def test_div255_and_convert_uint8_to_float():
    x8 = clip(dtype=torch.uint8)
    close(T.Div255()(x8.float()), x8.float() / 255.0)
    close(T.Div255()(x8), x8 / 255.0)
    out = T.ConvertUint8ToFloat()(x8)
    assert out.dtype == torch.float32
    close(out, TT.ConvertImageDtype(torch.float32)(x8))
    # a float 0-255 clip (what decoders give) is converted the same way (PyTorchVideo's issue 123)
    close(T.ConvertUint8ToFloat()(x8.float()), out)


def test_permute_is_a_view():
    x = clip()
    out = T.Permute((1, 0, 2, 3))(x)
    assert out.shape == (10, 3, 30, 40) and out.data_ptr() == x.data_ptr()


@needs_tv
@pytest.mark.parametrize("hw,crop", [((30, 40), 20), ((31, 40), (20, 11)), ((24, 24), 24)])
def test_center_crop_video_vs_torchvision(hw, crop):
    x = clip(h=hw[0], w=hw[1])
    close(T.CenterCropVideo(crop)(x), TV.CenterCropVideo(crop)(x), atol=0, rtol=0)
    close(T.CenterCrop(crop)(x), TT.CenterCrop(crop)(x), atol=0, rtol=0)


@needs_tv
@pytest.mark.parametrize("hw,crop", [((30, 40), 20), ((31, 40), (20, 11)), ((24, 24), 24)])
def test_random_crop_video_vs_torchvision(hw, crop):
    x = clip(h=hw[0], w=hw[1])
    for seed in range(5):
        a = seeded(T.RandomCropVideo(crop), seed, x)
        b = seeded(TV.RandomCropVideo(crop), seed, x)
        close(a, b, atol=0, rtol=0)
        a = seeded(T.RandomCrop(crop), seed, x)
        b = seeded(TT.RandomCrop(crop), seed, x)
        close(a, b, atol=0, rtol=0)
        # the draws that follow are the same too (no draw at all when the crop is the whole frame)
        assert seeded(lambda: (T.RandomCropVideo(crop)(x), torch.rand(1))[1], seed) == seeded(
            lambda: (TV.RandomCropVideo(crop)(x), torch.rand(1))[1], seed
        )


@needs_tv
def test_random_horizontal_flip_video_vs_torchvision():
    x = clip(dtype=torch.uint8)
    flipped = 0
    for seed in range(12):
        a = seeded(T.RandomHorizontalFlipVideo(0.5), seed, x)
        b = seeded(TV.RandomHorizontalFlipVideo(0.5), seed, x)
        assert torch.equal(a, b)
        flipped += not torch.equal(a, x)
        a = seeded(T.RandomHorizontalFlip(0.5), seed, x)
        b = seeded(TT.RandomHorizontalFlip(0.5), seed, x)
        assert torch.equal(a, b)
    assert 0 < flipped < 12
    assert torch.equal(T.RandomHorizontalFlipVideo(1.0)(x), x.flip(-1))
    assert torch.equal(T.RandomHorizontalFlipVideo(0.0)(x), x)


def test_random_horizontal_flip_draw_kinds():
    """RandomHorizontalFlipVideo draws with Python's random; RandomHorizontalFlip with torch.rand(1)."""
    x = clip()
    first_torch = seeded(torch.rand, 0, 1).item()
    first_py = seeded(random.random, 0)
    for step, py_used in ((T.RandomHorizontalFlipVideo(0.5), True), (T.RandomHorizontalFlip(0.5), False)):
        torch.manual_seed(0)
        random.seed(0)
        step(x)
        next_torch, next_py = torch.rand(1).item(), random.random()
        assert (next_py != first_py) == py_used
        assert (next_torch != first_torch) == (not py_used)


def test_random_horizontal_flip_compares_in_float32(monkeypatch):
    """torchvision compares the float32 draw with p as a tensor (p rounded to float32): a draw equal to
    float32(0.7) (a value torch.rand can return) does not flip with p=0.7, though it is < 0.7 as a double."""
    x = clip()
    draw = torch.tensor([0.7], dtype=torch.float32)
    assert draw.item() < 0.7 and not bool(draw < 0.7)
    monkeypatch.setattr(torch, "rand", lambda *a, **k: draw.clone())
    assert torch.equal(TT.RandomHorizontalFlip(0.7)(x), x)  # torchvision does not flip
    assert torch.equal(T.RandomHorizontalFlip(0.7)(x), x)
    assert torch.equal(T.Compose([T.RandomHorizontalFlip(0.7)])(x), x)


@pytest.mark.parametrize("hw", [(30, 40), (40, 30), (32, 32)])
@pytest.mark.parametrize("aug_index", [0, 1, 2])
def test_uniform_crop_video(hw, aug_index):
    x = clip(h=hw[0], w=hw[1])
    sample = {"video": x, "aug_index": aug_index, "label": 7}
    out = T.UniformCropVideo(20)(sample)
    assert out is sample and out["label"] == 7
    close(out["video"], ptv_uniform_crop(x, 20, aug_index), atol=0, rtol=0)


@pytest.mark.parametrize("shift", [False, True])
@pytest.mark.parametrize("log_uniform_ratio", [False, True])
def test_random_resized_crop(shift, log_uniform_ratio):
    x = clip(t=4, h=30, w=40)
    for seed in range(4):
        a = seeded(T.RandomResizedCrop(16, 12, (0.08, 1.0), (0.75, 1.33), shift=shift, log_uniform_ratio=log_uniform_ratio), seed, x)
        if not shift:
            b = seeded(ptv_random_resized_crop, seed, x, 16, 12, (0.08, 1.0), (0.75, 1.33), log_uniform_ratio)
            close(a, b)
        else:  # per frame: the box interpolated between two drawn boxes (PyTorchVideo's shift=True)
            def ref_shift():
                b1 = ptv_crop_box(30, 40, (0.08, 1.0), (0.75, 1.33), log_uniform_ratio)
                b2 = ptv_crop_box(30, 40, (0.08, 1.0), (0.75, 1.33), log_uniform_ratio)
                boxes = [[int(v) for v in torch.linspace(p, q, steps=4).tolist()] for p, q in zip(b1, b2)]
                frames = []
                for f in range(4):
                    i, j, h, w = (boxes[k][f] for k in range(4))
                    frames.append(F.interpolate(x[:, f : f + 1, i : i + h, j : j + w], size=(16, 12), mode="bilinear"))
                return torch.cat(frames, 1)

            close(a, seeded(ref_shift, seed))
        assert a.shape == (3, 4, 16, 12)


def test_random_resized_crop_fallback_is_central():
    # an impossible aspect ratio range forces PyTorchVideo's central fallback
    x = clip(t=2, h=20, w=60)
    a = seeded(T.RandomResizedCrop(10, 10, (0.9, 1.0), (0.2, 0.25), num_tries=3), 0, x)
    b = seeded(ptv_random_resized_crop, 0, x, 10, 10, (0.9, 1.0), (0.2, 0.25), True, 3)
    close(a, b)


@needs_tv
def test_resize_of_a_cropped_view_matches_torchvision_resized_crop():
    # a crop view then a resize (what RandomResizedCrop fuses) equals torchvision's resized_crop
    import torchvision.transforms._functional_video as FV

    x = clip(t=2)
    box = (3, 5, 20, 17)
    ours = T.Compose([T.Lambda(lambda v: v[:, :, 3:23, 5:22]), T.ShortSideScale(12)])(x)
    theirs = FV.resized_crop(x, *box, ptv_short_side_scale(x[:, :, 3:23, 5:22], 12).shape[-2:], "bilinear")
    close(ours, theirs)


# ---------------------------------------------------------------------------------------------------------------
# uint8 and float 0-255 input; any strides


SINGLE_STEPS = [
    lambda: T.UniformTemporalSubsample(4),
    lambda: T.ShortSideScale(17),
    lambda: T.RandomShortSideScale(12, 40),
    lambda: T.Normalize(MEAN, STD),
    lambda: T.NormalizeVideo((0.4, 0.5, 0.6), (0.2, 0.3, 0.25)),
    lambda: T.Div255(),
    lambda: T.ConvertUint8ToFloat(),
    lambda: T.RandomResizedCrop(9, 11, (0.1, 1.0), (0.5, 2.0)),
    lambda: T.CenterCropVideo(13),
    lambda: T.RandomCropVideo((11, 17)),
    lambda: T.RandomHorizontalFlipVideo(0.5),
    lambda: T.RandomHorizontalFlip(0.5),
    lambda: T.CenterCrop(9),
    lambda: T.RandomCrop(7),
]


@pytest.mark.parametrize("make", SINGLE_STEPS)
def test_uint8_gives_the_float_result(make):
    x8 = clip(dtype=torch.uint8, t=7, h=26, w=33)
    step = make()
    for seed in range(3):
        a = seeded(step, seed, x8)
        b = seeded(step, seed, x8.float())
        close(a, b)
        assert b.dtype == torch.float32
        assert a.dtype == (torch.float32 if getattr(step, "converts", False) else torch.uint8)


@pytest.mark.parametrize("make", SINGLE_STEPS)
def test_strided_input_and_not_mutated(make):
    base = clip(dtype=torch.uint8, t=7, h=26, w=33)
    thwc = base.permute(1, 2, 3, 0).contiguous()  # a decode buffer
    view = thwc.permute(3, 0, 1, 2)  # (C, T, H, W) view of it
    before = thwc.clone()
    step = make()
    for seed in range(2):
        close(seeded(step, seed, view), seeded(step, seed, base))
    assert torch.equal(thwc, before)


def test_output_is_contiguous_and_new():
    x = clip()
    for make in SINGLE_STEPS:
        out = seeded(make(), 1, x)
        assert out.is_contiguous()


# ---------------------------------------------------------------------------------------------------------------
# dict samples


def fastvid_like_sample(dtype=torch.float32, t=20):
    return {
        "video": clip(t=t, h=36, w=48, dtype=dtype),
        "audio": torch.randn(100),
        "label": 3,
        "video_name": "a/b.mp4",
        "video_index": 5,
        "clip_index": 1,
        "aug_index": 2,
    }


def test_apply_transform_to_key_leaves_other_keys():
    s = fastvid_like_sample()
    audio = s["audio"]
    video = s["video"].clone()
    out = T.ApplyTransformToKey("video", T.Compose([T.UniformTemporalSubsample(4), T.Div255()]))(s)
    assert out is s
    assert out["audio"] is audio and out["label"] == 3 and out["video_name"] == "a/b.mp4"
    close(out["video"], ptv_uniform_temporal_subsample(video, 4) / 255.0)
    assert T.RemoveKey("audio")(out) is out and "audio" not in out
    assert T.RemoveKey("not-there")(out) is out


@pytest.mark.parametrize("mode", ["train", "val", "test"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_create_video_transform_on_fastvid_samples(mode, dtype):
    """PyTorchVideo's create_video_transform failed on float dataset samples (its issue 123); ours does not,
    and uint8 samples give the same clip."""
    tf = T.create_video_transform(mode, video_key="video", remove_key=["audio"], min_size=20, max_size=30, crop_size=16)
    s = seeded(tf, 4, fastvid_like_sample(dtype))
    assert set(s) == {"video", "label", "video_name", "video_index", "clip_index", "aug_index"}
    assert s["video"].shape == (3, 8, 16, 16) and s["video"].dtype == torch.float32
    ref = seeded(tf, 4, fastvid_like_sample(torch.float32))
    close(s["video"], ref["video"])


def test_create_video_transform_matches_pytorchvideo_composition():
    x = clip(t=20, h=36, w=48)
    # train: UTS, ConvertUint8ToFloat, Normalize, RandomShortSideScale, RandomCrop, RandomHorizontalFlip
    tf = T.create_video_transform("train", min_size=20, max_size=30, crop_size=16, horizontal_flip_prob=0.5)

    def ptv_train(v):
        v = ptv_uniform_temporal_subsample(v, 8) / 255.0
        v = ptv_normalize(v, MEAN, STD)
        v = ptv_random_short_side_scale(v, 20, 30)
        v = TT.RandomCrop(16)(v)
        return TT.RandomHorizontalFlip(0.5)(v)

    for seed in range(4):
        close(seeded(tf, seed, x), seeded(ptv_train, seed, x))

    tf = T.create_video_transform("val", min_size=20, crop_size=(16, 12), num_samples=4)
    v = ptv_normalize(ptv_uniform_temporal_subsample(x, 4) / 255.0, MEAN, STD)
    close(tf(x), TT.CenterCrop((16, 12))(ptv_short_side_scale(v, 20)))

    paras = {"scale": (0.2, 1.0)}
    tf = T.create_video_transform("train", min_size=20, crop_size=16, random_resized_crop_paras=paras, convert_to_float=False)
    assert paras == {"scale": (0.2, 1.0)}  # not edited (PyTorchVideo edits it)

    def ptv_rrc(v):
        v = ptv_normalize(ptv_uniform_temporal_subsample(v, 8), MEAN, STD)
        return ptv_random_resized_crop(v, 16, 16, (0.2, 1.0), (3.0 / 4.0, 4.0 / 3.0))

    for seed in range(3):
        close(seeded(tf, seed, x), seeded(ptv_rrc, seed, x), rtol=1e-5, atol=1e-3)
    # a (height, width) crop size: the output is height x width
    tf = T.create_video_transform("train", min_size=20, crop_size=(16, 12), random_resized_crop_paras={},
                                  convert_to_float=False)
    assert tf(x).shape[-2:] == (16, 12)


def test_create_video_transform_augments_float_0_255_clips_as_their_uint8_frames():
    """RandAugment / AugMix work on uint8 frames: a float clip in 0-255 is rounded to them (not truncated)."""
    tf = T.create_video_transform("train", aug_type="randaug", min_size=20, max_size=30, crop_size=16)
    frames = torch.randint(0, 255, (3, 20, 36, 48), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for seed in range(3):
        close(seeded(tf, seed, frames.float() + 0.6), seeded(tf, seed, frames + 1))


# ---------------------------------------------------------------------------------------------------------------
# errors at construction (and clear errors on the call)


@pytest.mark.parametrize(
    "make,exc",
    [
        (lambda: T.UniformTemporalSubsample(0), ValueError),
        (lambda: T.UniformTemporalSubsample(-2), ValueError),
        (lambda: T.UniformTemporalSubsample(2.5), TypeError),
        (lambda: T.UniformTemporalSubsample(4, temporal_dim=1.5), TypeError),
        (lambda: T.UniformTemporalSubsample(4, temporal_dim="T"), TypeError),
        (lambda: T.RandomShortSideScale(256.5, 320), TypeError),
        (lambda: T.ShortSideScale(float("inf")), TypeError),
        (lambda: T.ShortSideScale(0), ValueError),
        (lambda: T.ShortSideScale(256, interpolation="bicubic"), ValueError),
        (lambda: T.ShortSideScale(256, interpolation="nearest"), ValueError),
        (lambda: T.ShortSideScale(256, backend="opencv"), ValueError),
        (lambda: T.RandomShortSideScale(320, 256), ValueError),
        (lambda: T.RandomShortSideScale(-1, 256), ValueError),
        (lambda: T.RandomShortSideScale(256, 320, interpolation="area"), ValueError),
        (lambda: T.RandomShortSideScale(256, 320, generator=3), TypeError),
        (lambda: T.Normalize((0.45, 0.45), (0.225, 0.225, 0.225)), ValueError),
        (lambda: T.Normalize((0.45,) * 3, (0.225, 0.0, 0.225)), ValueError),
        (lambda: T.Normalize((0.45,) * 5, (0.225,) * 5), ValueError),
        (lambda: T.Normalize((), ()), ValueError),
        (lambda: T.Normalize("abc", (1, 1, 1)), TypeError),
        (lambda: T.NormalizeVideo((0.45,) * 3, (float("nan"),) * 3), ValueError),
        (lambda: T.CenterCropVideo(0), ValueError),
        (lambda: T.CenterCropVideo((10, -1)), ValueError),
        (lambda: T.RandomCropVideo(-224), ValueError),
        (lambda: T.RandomCropVideo("224"), TypeError),
        (lambda: T.RandomHorizontalFlipVideo(1.5), ValueError),
        (lambda: T.RandomHorizontalFlipVideo(-0.1), ValueError),
        (lambda: T.RandomHorizontalFlip(float("nan")), ValueError),
        (lambda: T.UniformCropVideo(0), ValueError),
        (lambda: T.RandomResizedCrop(0, 10, (0.1, 1.0), (0.5, 2.0)), ValueError),
        (lambda: T.RandomResizedCrop(10, 10, (0.0, 1.0), (0.5, 2.0)), ValueError),
        (lambda: T.RandomResizedCrop(10, 10, (0.1, 1.0), (-0.5, 2.0)), ValueError),
        (lambda: T.RandomResizedCrop(10, 10, (0.1, 1.0), (0.5, 2.0), num_tries=0), ValueError),
        (lambda: T.RandomResizedCrop(10, 10, (0.1, 1.0), (0.5, 2.0), interpolation="bicubic"), ValueError),
        (lambda: T.Permute((0, 1, 1, 3)), ValueError),
        (lambda: T.Lambda(3), TypeError),
        (lambda: T.ApplyTransformToKey("video", "not callable"), TypeError),
        (lambda: T.Compose([T.Div255(), 5]), TypeError),
        (lambda: T.Compose(T.Div255()), TypeError),
        (lambda: T.create_video_transform("training"), ValueError),
        (lambda: T.create_video_transform("train", crop_size=300), ValueError),
        (lambda: T.create_video_transform("train", min_size=300, max_size=256), ValueError),
        (lambda: T.create_video_transform("train", horizontal_flip_prob=2.0), ValueError),
        (lambda: T.create_video_transform("val", horizontal_flip_prob=-1.0), ValueError),
        (lambda: T.create_video_transform("train", video_std=(0.2, 0.0, 0.2)), ValueError),
        (lambda: T.create_video_transform("train", video_mean=(0.4, 0.4)), ValueError),
        (lambda: T.create_video_transform("val", remove_key=["audio"]), ValueError),
        (lambda: T.create_video_transform("val", aug_type="fancy"), ValueError),
        (lambda: T.create_video_transform("val", aug_paras={"magnitude": 3}), ValueError),
        (lambda: T.create_video_transform("train", aug_type="randaug", aug_paras={"magnitud": 9}), ValueError),
        (lambda: T.create_video_transform("val", crop_size=[224, 224]), TypeError),
        (lambda: T.create_video_transform("val", num_samples=0), ValueError),
    ],
)
def test_errors_at_construction(make, exc):
    with pytest.raises(exc):
        make()


def test_error_messages_name_the_argument():
    with pytest.raises(ValueError, match="min_size must be <= max_size"):
        T.RandomShortSideScale(320, 256)
    with pytest.raises(ValueError, match="std must not contain 0"):
        T.Normalize(MEAN, (0.2, 0.0, 0.2))
    with pytest.raises(ValueError, match="p must be in"):
        T.RandomHorizontalFlipVideo(2)
    with pytest.raises(ValueError, match="interpolation"):
        T.ShortSideScale(10, "bicubic")
    with pytest.raises(ValueError, match="mode must be one of"):
        T.create_video_transform("eval")


def test_errors_on_the_call():
    x = clip(h=20, w=30)
    with pytest.raises(ValueError, match="larger than the 20x30 frame"):
        T.RandomCropVideo(25)(x)
    with pytest.raises(ValueError, match="larger than the 20x30 frame"):
        T.CenterCropVideo(21)(x)
    with pytest.raises(ValueError, match="channels"):
        T.Normalize(MEAN, STD)(clip(c=2))
    with pytest.raises(TypeError, match="uint8"):
        T.RandomCropVideo(8)(x.double())
    with pytest.raises(ValueError, match=r"\(C, T, H, W\)"):
        T.RandomHorizontalFlipVideo()(x[0])
    with pytest.raises(ValueError, match=r"\(C, T, H, W\)"):  # Normalize, as PyTorchVideo's, takes clips only
        T.Compose([T.Div255(), T.Normalize(MEAN, STD)])(x[None])
    with pytest.raises(TypeError, match="got torch.int64"):
        T.Normalize(MEAN, STD)(x.long())
    with pytest.raises(TypeError, match="got torch.float64"):  # a fused run with a step that has no fallback
        T.Compose([T.Div255(), T.RandomCropVideo(8)])(x.double())
    with pytest.raises(ValueError, match="temporal_dim -5 is out of range"):
        T.UniformTemporalSubsample(2, temporal_dim=-5)(x)
    with pytest.raises(TypeError, match="ApplyTransformToKey"):
        T.Div255()({"video": x})
    with pytest.raises(ValueError, match="aug_index"):
        T.UniformCropVideo(10)({"video": x, "aug_index": 3})
    with pytest.raises(KeyError, match="aug_index"):
        T.UniformCropVideo(10)({"video": x})
    with pytest.raises(ValueError, match="larger than"):
        T.UniformCropVideo(21)({"video": x, "aug_index": 1})
    with pytest.raises(TypeError, match="dict sample"):
        T.ApplyTransformToKey("video", T.Div255())(x)


def test_errors_name_the_class_and_the_clip_it_got():
    tchw = clip(c=16, t=3)  # a (T, C, H, W) clip, 16 frames of 3 channels
    for t in (T.ShortSideScale(16), T.CenterCropVideo(16), T.RandomHorizontalFlipVideo(p=1.0),
              T.Compose([T.Div255(), T.RandomCropVideo(8)])):
        name = type(t).__name__
        with pytest.raises(ValueError, match=rf"^{name}: .*got shape \(16, 3, 30, 40\) \(a \(T, C, H, W\) clip\?"):
            t(tchw)
    with pytest.raises(ValueError, match=r"^ShortSideScale: the clip is empty \(shape \(C, T, H, W\) = \(3, 0, 30, 40\)\)"):
        T.ShortSideScale(10)(clip(t=0))
    with pytest.raises(ValueError, match=r"^CenterCropVideo: the clip is empty"):
        T.CenterCropVideo(10)(clip(h=0))


def test_normalize_takes_numpy_mean_and_std_as_torchvision():
    np = pytest.importorskip("numpy")
    x = clip()
    want = T.Normalize(MEAN, STD)(x)
    for mean, std in ((np.array(MEAN), np.array(STD)), (np.array(MEAN, dtype=np.float32), list(STD)),
                      (torch.tensor(MEAN), np.array(STD)[None])):
        got = T.Normalize(mean, std)(x)
        close(got, want, atol=1e-6)
        close(T.NormalizeVideo(mean, std)(x), want, atol=1e-6)
    assert T.Normalize(np.float64(0.5), np.array(0.25)).mean == (0.5,)
    with pytest.raises(TypeError, match="mean must be a sequence of numbers"):
        T.Normalize(np.array(["a", "b", "c"]), STD)


def test_gradients_flow_through_the_transforms_as_through_pytorchvideos():
    # The kernel has no backward: a clip that requires grad takes the step-by-step PyTorch path. The input
    # gradient must be PyTorchVideo's (its steps are differentiable torch ops).
    x = clip(t=6, h=24, w=30) / 7.0
    pipeline = T.Compose([T.UniformTemporalSubsample(4), T.Div255(), T.Normalize(MEAN, STD), T.ShortSideScale(20),
                          T.CenterCropVideo(16), T.RandomHorizontalFlipVideo(p=1.0)])

    def ptv(v):
        v = ptv_normalize(ptv_uniform_temporal_subsample(v, 4) / 255.0, MEAN, STD)
        v = ptv_short_side_scale(v, 20)
        top, left = int(round((v.shape[2] - 16) / 2.0)), int(round((v.shape[3] - 16) / 2.0))  # torchvision's
        return v[:, :, top:top + 16, left:left + 16].flip(-1)

    cases = [(pipeline, ptv), (T.ShortSideScale(12, antialias=True), lambda v: ptv_short_side_scale(v, 12, True)),
             (T.RandomCropVideo(10), None)]
    for transform, ref in cases:
        leaf = x.clone().requires_grad_()
        torch.manual_seed(3)
        out = transform(leaf)
        assert out.requires_grad and out.grad_fn is not None
        torch.manual_seed(3)
        close(out, transform(x))  # the same values as the kernel's
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
        (out * weights).sum().backward()
        if ref is None:  # a crop: the gradient is the weights placed in the window
            assert torch.count_nonzero(leaf.grad) == weights.numel()
            assert torch.equal(torch.sort(leaf.grad.flatten()).values[-5:], torch.sort(weights.flatten()).values[-5:])
            continue
        ref_leaf = x.clone().requires_grad_()
        (ref(ref_leaf) * weights).sum().backward()
        close(leaf.grad, ref_leaf.grad, atol=1e-5)
    with torch.no_grad():  # no gradient wanted: the kernel
        assert not pipeline(x.clone().requires_grad_()).requires_grad


def test_create_video_transform_val_ignores_max_size():
    # PyTorchVideo's val transform uses only min_size: a min_size above the default max_size is fine there
    tf = T.create_video_transform("val", min_size=400, crop_size=300)
    assert tf(clip(t=9, h=30, w=40)).shape == (3, 8, 300, 300)


def test_normalize_broadcasts_one_value_per_clip():
    x = clip() / 255.0
    close(T.Normalize((0.5,), (0.25,))(x), (x - 0.5) / 0.25)


@pytest.mark.parametrize("make", SINGLE_STEPS)
def test_each_class_alone_is_one_kernel_call(make, monkeypatch):
    import fastvid.ops

    calls = []
    real = fastvid.ops.clip_transform
    monkeypatch.setattr(fastvid.ops, "clip_transform", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = clip()
    for seed in range(4):
        calls.clear()
        out = seeded(make(), seed, x)
        # a random flip that does not flip returns the clip itself, as torchvision's does
        assert len(calls) == (0 if out is x else 1)


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8])
def test_cuda_equals_cpu(dtype):
    x = clip(t=16, h=64, w=80, dtype=dtype)
    tf = T.Compose([T.UniformTemporalSubsample(8), T.Div255(), T.Normalize(MEAN, STD), T.RandomShortSideScale(40, 50),
                    T.RandomCropVideo(32), T.RandomHorizontalFlipVideo(0.5)])
    for seed in range(3):
        a = seeded(tf, seed, x)
        b = seeded(tf, seed, x.cuda())
        assert b.is_cuda
        close(b.cpu(), a)
    out = T.UniformTemporalSubsample(4)(x.cuda())
    assert out.is_cuda and out.dtype == dtype


def _pytorchvideo_subsample(x, n, dim):
    # pytorchvideo.transforms.functional.uniform_temporal_subsample, written out
    t = x.shape[dim]
    idx = torch.clamp(torch.linspace(0, t - 1, n), 0, t - 1).long()
    return torch.index_select(x, dim, idx)


@pytest.mark.parametrize("n", [1, 5, 13])
def test_steps_that_draw_nothing_take_any_tensor_as_pytorchvideo_does(n):
    g = torch.Generator().manual_seed(n)
    audio = torch.randn(1001, generator=g)
    tchw = torch.randint(0, 256, (9, 3, 6, 7), generator=g, dtype=torch.uint8)
    batch = torch.randint(0, 256, (2, 3, 9, 6, 7), generator=g, dtype=torch.uint8)
    f64 = torch.rand(3, 9, 6, 7, generator=g, dtype=torch.float64) * 255
    # UniformTemporalSubsample on any dim and any dtype, as PyTorchVideo (the dtype is kept)
    for x, dim in [(audio, -1), (tchw, 0), (batch, -3), (batch, 2), (f64, -3), (f64, 1), (f64.half(), -3)]:
        got = T.UniformTemporalSubsample(n, temporal_dim=dim)(x)
        assert got.dtype == x.dtype and torch.equal(got, _pytorchvideo_subsample(x, n, dim)), (x.shape, dim)
    # Div255 on a batch or another dtype: x / 255.0
    for x in (batch, f64, f64.half(), batch.long()):
        got = T.Div255()(x)
        want = x / 255.0
        assert got.dtype == want.dtype and torch.equal(got, want)
    # Normalize on a float64 / float16 clip, in that dtype (torchvision's normalize under PyTorchVideo's)
    for x in (f64, f64.half()):
        got = T.Normalize(MEAN, STD)(x)
        m = torch.tensor(MEAN, dtype=x.dtype).view(-1, 1, 1, 1)
        s = torch.tensor(STD, dtype=x.dtype).view(-1, 1, 1, 1)
        assert got.dtype == x.dtype and torch.equal(got, (x - m) / s)
    # a fused run of such steps on a float64 clip: the steps one by one, float64 throughout
    pipe = T.Compose([T.UniformTemporalSubsample(n), T.Div255(), T.Normalize(MEAN, STD)])
    want = T.Normalize(MEAN, STD).fallback(_pytorchvideo_subsample(f64, n, -3) / 255.0)
    got = pipe(f64)
    assert got.dtype == torch.float64 and torch.equal(got, want)
    # more channels than the kernel's 4: plain PyTorch too, as PyTorchVideo takes any channel count
    five = torch.rand(5, 9, 6, 7, generator=g)
    assert torch.equal(T.UniformTemporalSubsample(n)(five), _pytorchvideo_subsample(five, n, -3))
    assert torch.equal(T.Div255()(five), five / 255.0)
    # the fused kernel still serves (C, T, H, W) uint8 / float32 clips, also with temporal_dim=1
    x = clip(t=9)
    assert torch.equal(T.UniformTemporalSubsample(n, temporal_dim=1)(x), _pytorchvideo_subsample(x, n, 1))


def test_only_the_clip_subsample_is_planned_for_the_decoder():
    assert T.temporal_plan(T.Compose([T.UniformTemporalSubsample(8, temporal_dim=1), T.Div255()])).num_samples == 8
    assert T.temporal_plan(T.UniformTemporalSubsample(8, temporal_dim=0)) is None
    audio_only = T.ApplyTransformToKey("audio", T.UniformTemporalSubsample(100, temporal_dim=-1))
    assert T.temporal_plan(T.Compose([audio_only, T.ApplyTransformToKey("video", T.UniformTemporalSubsample(8))])).num_samples == 8
    assert repr(T.UniformTemporalSubsample(8, temporal_dim=-1)) == "UniformTemporalSubsample(8, temporal_dim=-1)"
    assert repr(T.UniformTemporalSubsample(8)) == "UniformTemporalSubsample(8)"


def test_scales_take_integral_float_sizes():
    x = clip(t=3, h=24, w=32)
    for cls, ints, floats in [
        (T.RandomShortSideScale, (20, 28), (20.0, 28.0)),
        (T.ShortSideScale, (20,), (20.0,)),
    ]:
        torch.manual_seed(0)
        want = cls(*ints)(x)
        torch.manual_seed(0)
        assert torch.equal(cls(*floats)(x), want)
    a = T.create_video_transform("train", min_size=20.0, max_size=28.0, crop_size=16, num_samples=2)
    b = T.create_video_transform("train", min_size=20, max_size=28, crop_size=16, num_samples=2)
    torch.manual_seed(1)
    random.seed(1)
    want = b(x)
    torch.manual_seed(1)
    random.seed(1)
    assert torch.equal(a(x), want)


def test_crops_take_integral_float_sizes_as_torchvisions_do():
    x = clip(t=3, h=24, w=32)
    rrc = lambda h, w: T.RandomResizedCrop(h, w, (0.5, 1.0), (0.75, 1.33))  # noqa: E731
    for make, floats, ints in [
        (T.RandomCropVideo, (16.0,), (16,)), (T.RandomCropVideo, ((16.0, 12.0),), ((16, 12),)),
        (T.CenterCropVideo, (16.0,), (16,)), (T.CenterCropVideo, ((16.0, 12.0),), ((16, 12),)),
        (T.RandomResizedCropVideo, (16.0,), (16,)), (T.RandomCrop, (16.0,), (16,)), (T.CenterCrop, (16.0,), (16,)),
        (rrc, (16.0, 12.0), (16, 12)),
    ]:
        torch.manual_seed(0)
        random.seed(0)
        want = make(*ints)(x)
        torch.manual_seed(0)
        random.seed(0)
        assert torch.equal(make(*floats)(x), want), (make, floats)
    assert T.UniformCropVideo(16.0)({"video": x, "aug_index": 1})["video"].shape == (3, 3, 16, 16)
    for bad in (16.5, float("nan"), "16"):
        with pytest.raises(TypeError, match="size"):
            T.RandomCropVideo(bad)


def test_dict_transforms_are_modules_as_in_pytorchvideo():
    # PyTorchVideo's RemoveKey and UniformCropVideo are nn.Modules: they go into nn.Sequential
    x = clip(h=20, w=30)
    seq = torch.nn.Sequential(T.RemoveKey("audio"), T.UniformCropVideo(10))
    out = seq({"video": x, "audio": torch.zeros(3), "aug_index": 2})
    assert sorted(out) == ["aug_index", "video"]
    assert torch.equal(out["video"], x[..., 5:15, 20:30])
