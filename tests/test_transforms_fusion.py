"""fastvid.transforms.Compose fusion: the tutorial pipelines are ONE kernel call; under the same seeds the fused
Compose equals the same steps run one at a time (fastvid's classes, the oracle's, and PyTorchVideo's /
torchvision's classes), for the tutorial pipelines and for random pipelines drawn by hypothesis; uint8 equals
float 0-255; the temporal plan lets a dataset hand over only the kept frames; accepts_uint8."""

from __future__ import annotations

import random

import pytest
import torch
import torchvision.transforms as TT
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fastvid.ops
import fastvid.transforms as T
from fastvid import reference
from fastvid.transforms._fusion import FusedRun
from test_transforms import (
    MEAN,
    STD,
    TV,
    clip,
    close,
    needs_tv,
    ptv_crop_box,
    ptv_normalize,
    ptv_random_short_side_scale,
    ptv_short_side_scale,
    ptv_uniform_temporal_subsample,
    seeded,
)

R = reference.clip_transform
NONE = dict(scale=None, mean=None, std=None)


# ---------------------------------------------------------------------------------------------------------------
# one pipeline spec, three step-by-step implementations


def fastvid_step(item):
    kind, *a = item
    return {
        "uts": lambda: T.UniformTemporalSubsample(*a),
        "sss": lambda: T.ShortSideScale(*a),
        "rsss": lambda: T.RandomShortSideScale(*a),
        "div255": lambda: T.Div255(),
        "convert": lambda: T.ConvertUint8ToFloat(),
        "normalize": lambda: T.Normalize(*a),
        "normalize_video": lambda: T.NormalizeVideo(*a),
        "center_crop_video": lambda: T.CenterCropVideo(*a),
        "random_crop_video": lambda: T.RandomCropVideo(*a),
        "random_crop": lambda: T.RandomCrop(*a),
        "flip_video": lambda: T.RandomHorizontalFlipVideo(*a),
        "flip": lambda: T.RandomHorizontalFlip(*a),
        "rrc": lambda: T.RandomResizedCrop(*a),
        "lambda": lambda: T.Lambda(_user_fn),
    }[kind]()


def _user_fn(v):  # a non-fusable user step
    return v.float() * 0.5 + 1.0


def original_step(item):
    """PyTorchVideo's semantics / torchvision's own classes (float input)."""
    kind, *a = item
    if kind == "uts":
        return lambda v: ptv_uniform_temporal_subsample(v, a[0])
    if kind == "sss":
        return lambda v: ptv_short_side_scale(v, a[0])
    if kind == "rsss":
        return lambda v: ptv_random_short_side_scale(v, a[0], a[1])
    if kind in ("div255", "convert"):
        return lambda v: v / 255.0
    if kind == "normalize":
        return lambda v: ptv_normalize(v, *a)
    if kind == "normalize_video":
        return TV.NormalizeVideo(*a)
    if kind == "center_crop_video":
        return TV.CenterCropVideo(*a)
    if kind == "random_crop_video":
        return TV.RandomCropVideo(*a)
    if kind == "random_crop":
        return TT.RandomCrop(*a)
    if kind == "flip_video":
        return TV.RandomHorizontalFlipVideo(*a)
    if kind == "flip":
        return TT.RandomHorizontalFlip(*a)
    if kind == "rrc":
        th, tw, scale, ratio = a

        def rrc(v):
            i, j, h, w = ptv_crop_box(v.shape[2], v.shape[3], scale, ratio)
            return torch.nn.functional.interpolate(v[:, :, i : i + h, j : j + w], size=(th, tw), mode="bilinear")

        return rrc
    if kind == "lambda":
        return TT.Lambda(_user_fn)
    raise AssertionError(kind)


def _sz(s):
    return (s, s) if isinstance(s, int) else tuple(s)


def oracle_step(item):
    """Each step as one call of the oracle (fastvid.reference.clip_transform) with only that step's argument."""
    kind, *a = item
    if kind == "uts":
        return lambda v: R(v, frame_indices=reference.uniform_temporal_subsample_indices(v.shape[1], a[0]), **NONE)
    if kind == "sss":
        return lambda v: R(v, size=reference.short_side_scale_size(v.shape[2], v.shape[3], a[0]), **NONE)
    if kind == "rsss":

        def rsss(v):
            s = torch.randint(a[0], a[1] + 1, (1,)).item()
            return R(v, size=reference.short_side_scale_size(v.shape[2], v.shape[3], s), **NONE)

        return rsss
    if kind in ("div255", "convert"):
        return lambda v: R(v, scale=1 / 255.0, mean=None, std=None)
    if kind in ("normalize", "normalize_video"):
        return lambda v: R(v, scale=None, mean=a[0], std=a[1])
    if kind == "center_crop_video":
        th, tw = _sz(a[0])

        def cc(v):
            h, w = v.shape[2], v.shape[3]
            if h < th or w < tw:
                raise ValueError("crop larger than frame")
            return R(v, crop=(int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw), **NONE)

        return cc
    if kind in ("random_crop_video", "random_crop"):
        th, tw = _sz(a[0])

        def rc(v):
            h, w = v.shape[2], v.shape[3]
            if h < th or w < tw:
                raise ValueError("crop larger than frame")
            if (h, w) == (th, tw):
                return R(v, **NONE)
            i = torch.randint(0, h - th + 1, (1,)).item()
            j = torch.randint(0, w - tw + 1, (1,)).item()
            return R(v, crop=(i, j, th, tw), **NONE)

        return rc
    if kind == "flip_video":
        return lambda v: R(v, flip=random.random() < a[0], **NONE)
    if kind == "flip":
        return lambda v: R(v, flip=bool(torch.rand(1) < a[0]), **NONE)
    if kind == "rrc":
        th, tw, scale, ratio = a

        def rrc(v):
            i, j, h, w = ptv_crop_box(v.shape[2], v.shape[3], scale, ratio)
            return R(v[:, :, i : i + h, j : j + w], size=(th, tw), **NONE)

        return rrc
    if kind == "lambda":
        return _user_fn
    raise AssertionError(kind)


def run_one_by_one(steps, x):
    for s in steps:
        x = s(x)
    return x


TRAIN = [("uts", 8), ("div255",), ("normalize", MEAN, STD), ("rsss", 256, 320), ("random_crop_video", 224), ("flip_video", 0.5)]
VAL = [("uts", 8), ("div255",), ("normalize", MEAN, STD), ("sss", 256), ("center_crop_video", 224)]


class CountCalls:
    def __init__(self, monkeypatch):
        self.n = 0
        real = fastvid.ops.clip_transform

        def counting(*args, **kwargs):
            self.n += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(fastvid.ops, "clip_transform", counting)


# ---------------------------------------------------------------------------------------------------------------
# the tutorial pipelines


@pytest.fixture(scope="module")
def kinetics_clip():
    """PyTorchVideo's decoder output: float32 0-255, (3, T, H, W); a few frames fewer than 64 to stay quick."""
    return clip(t=24, h=256, w=340, seed=1)


@pytest.mark.parametrize("spec", [TRAIN, VAL], ids=["train", "val"])
def test_tutorial_pipeline_is_one_kernel_call(spec, kinetics_clip, monkeypatch):
    tf = T.Compose([fastvid_step(i) for i in spec])
    assert len(tf.plan) == 1 and isinstance(tf.plan[0], FusedRun) and tf.num_fused_runs == 1
    calls = CountCalls(monkeypatch)
    out = tf(kinetics_clip)
    assert calls.n == 1
    assert out.shape == (3, 8, 224, 224) and out.dtype == torch.float32
    # and through a dict sample, as a dataset applies it
    calls.n = 0
    wrapped = T.Compose([T.ApplyTransformToKey("video", tf), T.RemoveKey("audio")])
    wrapped({"video": kinetics_clip, "audio": torch.zeros(3), "label": 1})
    assert calls.n == 1


@pytest.mark.parametrize("mode", ["train", "val"])
def test_create_video_transform_is_one_kernel_call(mode, kinetics_clip, monkeypatch):
    tf = T.create_video_transform(mode, video_key="video", remove_key=["audio"])
    calls = CountCalls(monkeypatch)
    out = tf({"video": kinetics_clip, "audio": torch.zeros(3), "label": 1})
    assert calls.n == 1 and out["video"].shape == (3, 8, 224, 224) and "audio" not in out


@pytest.mark.parametrize("spec", [TRAIN, VAL], ids=["train", "val"])
def test_tutorial_pipeline_fused_equals_step_by_step(spec, kinetics_clip):
    fused = T.Compose([fastvid_step(i) for i in spec])
    singles = [fastvid_step(i) for i in spec]
    oracle = [oracle_step(i) for i in spec]
    for seed in range(3):
        out = seeded(fused, seed, kinetics_clip)
        close(out, seeded(run_one_by_one, seed, singles, kinetics_clip))
        close(out, seeded(run_one_by_one, seed, oracle, kinetics_clip))
        if TV is not None:
            originals = TT.Compose([original_step(i) for i in spec])
            close(out, seeded(originals, seed, kinetics_clip))
        # uint8 frames give the same clip as the float 0-255 clip
        close(seeded(fused, seed, kinetics_clip.to(torch.uint8)), out)


def test_torchvision_own_compose_of_fastvid_steps_matches(kinetics_clip):
    """The same fastvid steps under torchvision's Compose (one kernel call each) give the fused result."""
    fused = T.Compose([fastvid_step(i) for i in TRAIN])
    tv = TT.Compose([fastvid_step(i) for i in TRAIN])
    for seed in range(2):
        close(seeded(fused, seed, kinetics_clip), seeded(tv, seed, kinetics_clip))


def test_repr_shows_the_plan():
    tf = T.Compose([fastvid_step(i) for i in TRAIN])
    text = repr(tf)
    assert text.count("clip_transform[") == 1
    assert "UniformTemporalSubsample(8) -> Div255() -> Normalize" in text
    assert "RandomShortSideScale(256, 320) -> RandomCropVideo((224, 224)) -> RandomHorizontalFlipVideo(p=0.5)" in text
    tf = T.Compose([T.UniformTemporalSubsample(4), T.Lambda(_user_fn), T.Div255(), T.ShortSideScale(20), T.ShortSideScale(10)])
    text = repr(tf)
    assert text.count("clip_transform[") == 3 and "Lambda(_user_fn)" in text


def test_non_fusable_steps_run_between_runs(monkeypatch):
    seen = []

    def spy(v):
        seen.append((tuple(v.shape), v.dtype))
        return v

    tf = T.Compose([T.UniformTemporalSubsample(4), T.CenterCropVideo(20), T.Lambda(spy), T.Div255(), T.ShortSideScale(10)])
    assert [type(s).__name__ for s in tf.plan] == ["FusedRun", "Lambda", "FusedRun"]
    calls = CountCalls(monkeypatch)
    x = clip(dtype=torch.uint8)
    out = tf(x)
    assert calls.n == 2
    assert seen == [((3, 4, 20, 20), torch.uint8)]  # the Lambda saw the first run's output, still uint8
    expected = ptv_short_side_scale(ptv_uniform_temporal_subsample(x.float(), 4)[:, :, 5:25, 10:30] / 255.0, 10)
    close(out, expected)


def test_second_resize_starts_a_new_run(monkeypatch):
    spec = [("sss", 25), ("center_crop_video", 20), ("flip", 0.5), ("sss", 12), ("random_crop", 9), ("div255",)]
    tf = T.Compose([fastvid_step(i) for i in spec])
    assert len(tf.plan) == 2
    calls = CountCalls(monkeypatch)
    x = clip()
    for seed in range(4):
        close(seeded(tf, seed, x), seeded(run_one_by_one, seed, [oracle_step(i) for i in spec], x))
    assert calls.n == 4 * 2


def test_nested_compose_is_flattened(monkeypatch):
    inner = T.Compose([T.Div255(), T.Normalize(MEAN, STD)])
    tf = T.Compose([T.UniformTemporalSubsample(3), inner, T.Compose([T.ShortSideScale(16), T.RandomCropVideo(12)])])
    assert len(tf.plan) == 1
    x = clip()
    calls = CountCalls(monkeypatch)
    for seed in range(3):
        a = seeded(tf, seed, x)
        b = seeded(run_one_by_one, seed, [T.UniformTemporalSubsample(3), inner, T.ShortSideScale(16), T.RandomCropVideo(12)], x)
        close(a, b)
    assert calls.n == 3 * (1 + 4)  # fused: 1; step by step: UTS, inner (itself one fused run), SSS, crop


def test_uniform_crop_video_joins_the_last_run(monkeypatch):
    inner = T.Compose([T.UniformTemporalSubsample(4), T.Div255(), T.Normalize(MEAN, STD), T.ShortSideScale(20)])
    tf = T.Compose([T.ApplyTransformToKey("video", inner), T.UniformCropVideo(20), T.RemoveKey("audio")])
    assert "UniformCropVideo(20" in repr(tf) and repr(tf).count("clip_transform[") == 1
    x = clip(h=30, w=40)
    calls = CountCalls(monkeypatch)
    for aug in (0, 1, 2):
        out = tf({"video": x, "aug_index": aug, "audio": 1, "label": 2})
        ref = T.UniformCropVideo(20)({"video": inner(x), "aug_index": aug})
        close(out["video"], ref["video"])
        assert "audio" not in out and out["label"] == 2
    assert calls.n == 3 + 3 * 2


# ---------------------------------------------------------------------------------------------------------------
# random pipelines


def _item(draw):
    kind = draw(st.sampled_from(
        ["uts", "sss", "rsss", "div255", "convert", "normalize", "normalize_video", "center_crop_video",
         "random_crop_video", "random_crop", "flip_video", "flip", "rrc", "lambda"]
    ))
    small = st.integers(1, 10)
    if kind == "uts":
        return (kind, draw(st.integers(1, 9)))
    if kind == "sss":
        return (kind, draw(st.integers(4, 30)))
    if kind == "rsss":
        lo = draw(st.integers(4, 24))
        return (kind, lo, lo + draw(st.integers(0, 8)))
    if kind in ("normalize", "normalize_video"):
        mean = tuple(draw(st.floats(-1, 1)) for _ in range(3))
        std = tuple(draw(st.sampled_from([0.2, 0.5, 1.0, 2.0, -0.7])) for _ in range(3))
        return (kind, mean, std)
    if kind in ("center_crop_video", "random_crop_video", "random_crop"):
        return (kind, draw(st.one_of(small, st.tuples(small, small))))
    if kind in ("flip_video", "flip"):
        return (kind, draw(st.sampled_from([0.0, 0.5, 1.0])))
    if kind == "rrc":
        return (kind, draw(small), draw(small), (0.1, 1.0), (0.5, 2.0))
    return (kind,)


@st.composite
def pipelines(draw):
    spec = [_item(draw) for _ in range(draw(st.integers(1, 6)))]
    shape = (3, draw(st.integers(1, 10)), draw(st.integers(6, 28)), draw(st.integers(6, 28)))
    return spec, shape, draw(st.integers(0, 2**31 - 1))


def _outcome(fn, seed, *args):
    try:
        return seeded(fn, seed, *args)
    except ValueError:
        return ValueError


# Compositions inside one fused run that random draws reach only now and then, always tried: a crop of a crop of
# a resized clip (offsets add up), a crop under a pending flip (mirrored), affine after affine, subsample after
# subsample.
_FIXED_PIPELINES = [
    ([("sss", 20), ("center_crop_video", 16), ("center_crop_video", 8)], (3, 4, 24, 28), 1),
    ([("sss", 20), ("random_crop_video", 14), ("flip_video", 1.0), ("random_crop", (9, 7))], (3, 3, 22, 27), 7),
    ([("rsss", 12, 18), ("flip", 1.0), ("center_crop_video", (10, 6)), ("random_crop_video", 5)], (3, 2, 19, 25), 11),
    ([("normalize", (0.1, -0.2, 0.3), (0.5, 2.0, -0.7)), ("normalize_video", (0.3, 0.0, -0.5), (0.2, 1.0, 0.5))],
     (3, 2, 10, 12), 3),
    ([("uts", 6), ("div255",), ("uts", 3)], (3, 10, 8, 9), 5),
]


def _with_fixed_examples(test):
    for case in reversed(_FIXED_PIPELINES):
        test = example(case)(test)
    return test


@needs_tv
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@_with_fixed_examples
@given(pipelines())
def test_random_pipelines_fused_equal_step_by_step(case):
    spec, shape, seed = case
    x8 = clip(*shape, dtype=torch.uint8, seed=seed % 1000)
    x = x8.float()
    fused = T.Compose([fastvid_step(i) for i in spec])
    out = _outcome(fused, seed, x)
    refs = [
        _outcome(run_one_by_one, seed, [fastvid_step(i) for i in spec], x),
        _outcome(run_one_by_one, seed, [oracle_step(i) for i in spec], x),
        _outcome(TT.Compose([original_step(i) for i in spec]), seed, x),
    ]
    for ref in refs:
        if out is ValueError or ref is ValueError:
            assert out is ref, (spec, shape)
        else:
            close(out, ref, atol=1e-4, rtol=2e-5)
    # uint8 frames give the float 0-255 result; the fused result matches fastvid's one-by-one on uint8 too
    out8 = _outcome(fused, seed, x8)
    if out is ValueError:
        assert out8 is ValueError
    else:
        close(out8, out, atol=1e-4, rtol=2e-5)
        close(out8, _outcome(run_one_by_one, seed, [fastvid_step(i) for i in spec], x8), atol=1e-4, rtol=2e-5)
    # what the fused Compose drew is what the steps drew: the next draws agree
    after = seeded(lambda: (_outcome(fused, seed, x), torch.rand(1).item(), random.random())[1:], seed)
    after_ref = seeded(lambda: (_outcome(TT.Compose([original_step(i) for i in spec]), seed, x), torch.rand(1).item(), random.random())[1:], seed)
    if out is not ValueError:
        assert after == after_ref


# ---------------------------------------------------------------------------------------------------------------
# temporal plan and uint8 acceptance (the dataset's contract)


def test_temporal_plan_indices():
    plan = T.TemporalPlan(8)
    assert torch.equal(plan.indices(60), reference.uniform_temporal_subsample_indices(60, 8))
    assert plan.indices(60).dtype == torch.int64
    assert T.TemporalPlan(5).indices(3).tolist() == [0, 0, 1, 1, 2]


def test_uniform_subsample_of_its_own_output_keeps_everything():
    for n in range(1, 700):
        assert torch.equal(reference.uniform_temporal_subsample_indices(n, n), torch.arange(n))


@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda: T.Compose([fastvid_step(i) for i in TRAIN]), 8),
        (lambda: T.UniformTemporalSubsample(5), 5),
        (lambda: T.ApplyTransformToKey("video", T.UniformTemporalSubsample(6)), 6),
        (lambda: T.create_video_transform("train", video_key="video", remove_key=["audio"]), 8),
        (lambda: T.create_video_transform("val", num_samples=16), 16),
        (lambda: T.Compose([T.RemoveKey("audio"), T.Compose([T.ApplyTransformToKey("label", _user_fn),
                                                             T.ApplyTransformToKey("video", T.Compose([T.Div255(), T.UniformTemporalSubsample(4)]))])]), 4),
        (lambda: T.Compose([T.ApplyTransformToKey("video", T.Compose([T.ShortSideScale(10), T.UniformTemporalSubsample(4)])), T.UniformCropVideo(10)]), 4),
        (lambda: T.create_video_transform("val", num_samples=None), None),
        (lambda: T.Compose([T.Lambda(_user_fn), T.UniformTemporalSubsample(8)]), None),
        (lambda: T.Compose([T.Permute((1, 0, 2, 3)), T.UniformTemporalSubsample(8)]), None),
        (lambda: T.Compose([T.RandomResizedCrop(8, 8, (0.1, 1), (0.5, 2), shift=True), T.UniformTemporalSubsample(8)]), None),
        (lambda: T.Compose([T.ApplyTransformToKey("video", _user_fn), T.ApplyTransformToKey("video", T.UniformTemporalSubsample(8))]), None),
        (lambda: T.Compose([T.RemoveKey("video"), T.UniformTemporalSubsample(8)]), None),
        (lambda: TT.Compose([T.UniformTemporalSubsample(8)]), None),
        (lambda: _user_fn, None),
        (lambda: T.Compose([T.Div255()]), None),
    ],
)
def test_temporal_plan(make, expected):
    plan = T.temporal_plan(make())
    assert (plan.num_samples if plan is not None else None) == expected


@pytest.mark.parametrize(
    "make,expected",
    [
        (lambda: T.Compose([fastvid_step(i) for i in TRAIN]), True),
        (lambda: T.create_video_transform("train", video_key="video"), True),
        (lambda: T.create_video_transform("val", convert_to_float=False), True),
        (lambda: T.UniformTemporalSubsample(8), True),
        (lambda: T.Compose([T.UniformTemporalSubsample(8), T.RandomCropVideo(8)]), True),
        (lambda: T.Compose([T.UniformTemporalSubsample(8), T.Div255(), T.Lambda(_user_fn)]), True),
        (lambda: T.Compose([T.ApplyTransformToKey("video", T.ShortSideScale(8)), T.Lambda(lambda s: s)]), True),
        (lambda: T.Compose([T.ApplyTransformToKey("video", T.UniformTemporalSubsample(8)), T.UniformCropVideo(8), T.Lambda(lambda s: s)]), False),
        (lambda: T.Compose([T.UniformTemporalSubsample(8), T.Lambda(_user_fn), T.Div255()]), False),
        (lambda: T.Compose([T.Lambda(_user_fn), T.Div255()]), False),
        (lambda: T.ApplyTransformToKey("video", _user_fn), False),
        (lambda: TT.Compose([T.Div255()]), False),
        (lambda: _user_fn, False),
    ],
)
def test_accepts_uint8(make, expected):
    assert T.accepts_uint8(make()) is expected


@pytest.mark.parametrize(
    "make",
    [
        lambda: T.Compose([fastvid_step(i) for i in TRAIN]),
        lambda: T.Compose([fastvid_step(i) for i in VAL]),
        lambda: T.create_video_transform("train", video_key="video", remove_key=["audio"]),
        lambda: T.create_video_transform("val", video_key="video", min_size=200, crop_size=160),
        lambda: T.Compose([T.Div255(), T.UniformTemporalSubsample(8), T.RandomResizedCrop(112, 112, (0.08, 1.0), (0.75, 1.33))]),
        lambda: T.Compose([T.UniformTemporalSubsample(8), T.Lambda(_user_fn), T.RandomShortSideScale(200, 260)]),
    ],
)
def test_decoding_only_the_planned_frames_gives_the_same_clip(make, kinetics_clip):
    """What the dataset does: decode only plan.indices(T) frames into a uint8 (T', H, W, C) buffer and hand the
    transform a (C, T', H, W) view of it (uint8 if accepts_uint8, else float) instead of all T frames as float."""
    tf = make()
    plan = T.temporal_plan(tf)
    assert plan is not None
    frames8 = kinetics_clip.to(torch.uint8)
    t = frames8.shape[1]
    buffer = frames8.permute(1, 2, 3, 0).contiguous()[plan.indices(t)]  # decoded kept frames, (T', H, W, C)
    handed = buffer.permute(3, 0, 1, 2)
    if not T.accepts_uint8(tf):
        handed = handed.float()
    is_dict = "ApplyTransformToKey" in repr(tf)
    for seed in range(3):
        full = frames8.float()
        a = seeded(tf, seed, {"video": full, "audio": 0} if is_dict else full)
        b = seeded(tf, seed, {"video": handed, "audio": 0} if is_dict else handed)
        if is_dict:
            a, b = a["video"], b["video"]
        close(b, a, atol=1e-5, rtol=1e-6)


def test_tutorial_as_written_with_a_lambda(kinetics_clip, monkeypatch):
    """The PyTorchVideo tutorial writes Lambda(lambda x: x / 255.0) (and RandomCrop(244)): the Lambda splits the
    pipeline in two fused runs, and the result is still the step-by-step one."""
    tf = T.Compose([T.UniformTemporalSubsample(8), T.Lambda(lambda x: x / 255.0), T.Normalize(MEAN, STD),
                    T.RandomShortSideScale(256, 320), T.RandomCrop(244), T.RandomHorizontalFlip(0.5)])
    assert [type(s).__name__ for s in tf.plan] == ["FusedRun", "Lambda", "FusedRun"]
    assert not T.accepts_uint8(tf) and T.temporal_plan(tf) == T.TemporalPlan(8)

    def ptv(v):
        v = ptv_uniform_temporal_subsample(v, 8) / 255.0
        v = ptv_random_short_side_scale(ptv_normalize(v, MEAN, STD), 256, 320)
        return TT.RandomHorizontalFlip(0.5)(TT.RandomCrop(244)(v))

    calls = CountCalls(monkeypatch)
    for seed in range(2):
        close(seeded(tf, seed, kinetics_clip), seeded(ptv, seed, kinetics_clip))
    assert calls.n == 2 * 2
