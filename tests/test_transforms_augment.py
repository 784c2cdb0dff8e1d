"""RandAugment, AugMix, OpSampler and their per-video ops (fastvid.transforms.augment / .augmentations)
against PyTorchVideo 0.1.5's semantics.

The oracle below (``ref_*``) restates PyTorchVideo's algorithm from its description: the draws it makes,
in order, from a torch.Generator, and each op as the torchvision call (or, for the shears and translations,
torchvision's tensor affine) it makes. ``PTV_GOLDEN`` holds fingerprints of PyTorchVideo 0.1.5's own
outputs (its source loaded beside torchvision 0.29.1, with its import of the moved
``torchvision.transforms.functional_tensor`` redirected), so the tests are tied to the real thing too.
"""

from __future__ import annotations

import random

import pytest
import torch
import torchvision.transforms as TT
import torchvision.transforms.functional as TF
from test_transforms import (
    MEAN,
    STD,
    clip,
    ptv_normalize,
    ptv_random_short_side_scale,
    ptv_uniform_temporal_subsample,
)
from torchvision.transforms.functional import InterpolationMode

import fastvid.transforms as T
from fastvid.transforms import augmentations as AG

try:
    import torchvision.transforms._functional_tensor as TVFT
except ImportError:  # a private module: it may move again
    TVFT = None

needs_tv_affine = pytest.mark.skipif(TVFT is None, reason="torchvision.transforms._functional_tensor does not import")

FILL = (0.5, 0.5, 0.5)


def video(t=4, c=3, h=24, w=32, dtype=torch.uint8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (t, c, h, w), generator=g, dtype=torch.uint8)
    return x if dtype == torch.uint8 else x.to(dtype) / 255


def gen(seed):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------------------------------------------
# the oracle: PyTorchVideo's ops and draws, restated

# name -> (level rule, (value at level 0, change at level 10)); the order is the order multinomial indexes
RANDAUG_TABLE = {
    "AdjustBrightness": ("neg", (1, 0.9)),
    "AdjustContrast": ("neg", (1, 0.9)),
    "AdjustSaturation": ("neg", (1, 0.9)),
    "AdjustSharpness": ("neg", (1, 0.9)),
    "AutoContrast": (None, None),
    "Equalize": (None, None),
    "Invert": (None, None),
    "Rotate": ("neg", (0, 30)),
    "Posterize": ("dec_int", (4, 4)),
    "Solarize": ("dec", (1, 1)),
    "ShearX": ("neg", (0, 0.3)),
    "ShearY": ("neg", (0, 0.3)),
    "TranslateX": ("neg", (0, 0.45)),
    "TranslateY": ("neg", (0, 0.45)),
}
AUGMIX_TABLE = {
    "AutoContrast": (None, None),
    "Equalize": (None, None),
    "Rotate": ("neg", (0, 30)),
    "Posterize": ("dec_int", (4, 4)),
    "Solarize": ("dec", (1, 1)),
    "ShearX": ("neg", (0, 0.3)),
    "ShearY": ("neg", (0, 0.3)),
    "TranslateX": ("neg", (0, 1.0 / 3.0)),
    "TranslateY": ("neg", (0, 1.0 / 3.0)),
    "AdjustSaturation": ("inc", (0.1, 1.8)),
    "AdjustContrast": ("inc", (0.1, 1.8)),
    "AdjustBrightness": ("inc", (0.1, 1.8)),
    "AdjustSharpness": ("inc", (0.1, 1.8)),
}


def tv_affine(v, matrix, fill):
    if TVFT is None:
        pytest.skip("torchvision.transforms._functional_tensor does not import")
    return TVFT.affine(v, matrix, interpolation="bilinear", fill=list(fill) if isinstance(fill, tuple) else fill)


def through_uint8(fn, v):
    if v.dtype == torch.uint8:
        return fn(v)
    return (fn((v * 255).to(torch.uint8)) / 255).to(v.dtype)


def ref_apply(name, v, arg, fill):
    h, w = v.shape[-2], v.shape[-1]
    if name == "AdjustBrightness":
        return TF.adjust_brightness(v, arg)
    if name == "AdjustContrast":
        return TF.adjust_contrast(v, arg)
    if name == "AdjustSaturation":
        return TF.adjust_saturation(v, arg)
    if name == "AdjustSharpness":
        return TF.adjust_sharpness(v, arg)
    if name == "AutoContrast":
        return TF.autocontrast(v)
    if name == "Equalize":
        return through_uint8(TF.equalize, v)
    if name == "Invert":
        return TF.invert(v)
    if name == "Rotate":
        return TF.rotate(v, arg, interpolation=InterpolationMode.BILINEAR, fill=fill)
    if name == "Posterize":
        return v if arg >= 8 else through_uint8(lambda u: TF.posterize(u, arg), v)
    if name == "Solarize":
        return TF.solarize(v, int(arg * 255.0) if v.dtype == torch.uint8 else arg)
    if name == "ShearX":
        return tv_affine(v, [1, arg, h * arg / 2, 0, 1, 0], fill)
    if name == "ShearY":
        return tv_affine(v, [1, 0, 0, arg, 1, w * arg / 2], fill)
    if name == "TranslateX":
        return tv_affine(v, [1, 0, arg * w, 0, 1, 0], fill)
    if name == "TranslateY":
        return tv_affine(v, [1, 0, 0, 0, 1, arg * h], fill)
    raise AssertionError(name)


def ref_level(g, magnitude, sampling):
    kind = sampling[0]
    if kind == "gaussian":
        return max(0, min(10, torch.normal(magnitude, sampling[1], size=(1,), generator=g).item()))
    if kind == "uniform_int":
        return torch.randint(sampling[1], magnitude + 1, size=(1,), generator=g).item()
    return torch.rand(size=(1,), generator=g).item() * (magnitude - sampling[1]) + sampling[1]


def ref_op(name, v, g, *, table, magnitude, prob, sampling, fill=FILL):
    """AugmentTransform: rand > prob skips; the level; then maybe a sign; then the op."""
    if torch.rand(1, generator=g).item() > prob:
        return v
    level = ref_level(g, magnitude, sampling)
    rule, params = table[name]
    arg = None
    if rule is not None:
        change = (level / 10) * params[1]
        if rule == "neg":
            arg = params[0] + (change if torch.rand(1, generator=g).item() > 0.5 else -change)
        elif rule == "inc":
            arg = params[0] + change
        elif rule == "dec_int":
            arg = params[0] - int(change)
        else:
            arg = params[0] - change
    return ref_apply(name, v, arg, fill)


def ref_rand_augment(v, g, magnitude=9, num_layers=2, prob=0.5, sampling=("gaussian", 0.5), fill=FILL):
    names = list(RANDAUG_TABLE)
    for i in torch.multinomial(torch.ones(len(names)), num_layers, replacement=False, generator=g).tolist():
        v = ref_op(names[i], v, g, table=RANDAUG_TABLE, magnitude=magnitude, prob=prob, sampling=sampling, fill=fill)
    return v


def ref_augmix(v, g, magnitude=3, alpha=1.0, width=3, depth=-1, fill=FILL):
    names = list(AUGMIX_TABLE)
    weights = torch._sample_dirichlet(torch.full((width,), float(alpha)), generator=g)
    m = torch._sample_dirichlet(torch.tensor([float(alpha)] * 2), generator=g)[0].item()
    mixed = torch.zeros(v.shape, dtype=torch.float32)
    for wgt in weights:
        d = depth if depth > 0 else torch.randint(1, 4, (1,), generator=g).item()
        chain = v
        for i in torch.multinomial(torch.ones(len(names)), d, replacement=True, generator=g).tolist():
            chain = ref_op(names[i], chain, g, table=AUGMIX_TABLE, magnitude=magnitude, prob=1.0,
                           sampling=("uniform_float", 0.1), fill=fill)
        mixed += wgt * chain
    out = m * v + (1 - m) * mixed
    return out.type(torch.uint8) if v.dtype == torch.uint8 else out


def assert_same(a, b):
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    assert torch.equal(a, b), (a.double() - b.double()).abs().max()


# ---------------------------------------------------------------------------------------------------------------
# the affine warp of the shears / translations


@needs_tv_affine
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
def test_warp_affine_matches_torchvision_tensor_affine(dtype):
    g = gen(7)
    for i in range(40):
        h, w = torch.randint(2, 30, (2,), generator=g).tolist()
        v = video(t=1 + i % 3, h=h, w=w, dtype=dtype, seed=i)
        if i % 5 == 0:
            v = v[0]  # one (C, H, W) frame
        m = torch.randn(6, generator=g) * torch.tensor([0.3, 0.5, 6.0, 0.5, 0.3, 6.0]) + torch.tensor([1.0, 0, 0, 0, 1, 0])
        fill = [None, FILL, 0.25, [0.1, 0.9, 0.4]][i % 4]
        assert_same(AG._warp_affine(v, m.tolist(), fill), tv_affine(v, m.tolist(), fill))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_warp_affine_translation_matches_public_affine(dtype):
    # a pure translation by (tx, ty) is the inverse matrix [1, 0, -tx, 0, 1, -ty] (torchvision's public affine)
    for i, (tx, ty) in enumerate([(3, -2), (0.5, 1.25), (-7.3, 4.9), (40, 0)]):
        v = video(h=17, w=23, dtype=dtype, seed=i)
        want = TF.affine(v, angle=0.0, translate=[tx, ty], scale=1.0, shear=[0.0, 0.0],
                         interpolation=InterpolationMode.BILINEAR, fill=list(FILL))
        assert_same(AG._warp_affine(v, [1, 0, -tx, 0, 1, -ty], FILL), want)


def test_warp_affine_identity_and_fill():
    v = video(h=9, w=11)
    assert_same(AG._warp_affine(v, [1, 0, 0, 0, 1, 0], FILL), v)
    shifted = AG._warp_affine(v, [1, 0, 100, 0, 1, 0], (10, 20, 30))  # everything comes from outside
    assert torch.equal(shifted, torch.tensor([10, 20, 30], dtype=torch.uint8).view(1, 3, 1, 1).expand_as(v))
    with pytest.raises(ValueError, match="fill has 3 values but the video has 1 channels"):
        AG._warp_affine(video(c=1), [1, 0, 0, 0, 1, 0], FILL)


# ---------------------------------------------------------------------------------------------------------------
# ops, RandAugment, AugMix against the oracle


@pytest.mark.parametrize("name", list(RANDAUG_TABLE))
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_each_op_as_pytorchvideo(name, dtype):
    v = video(t=2, h=20, w=26, dtype=dtype, seed=3)
    for seed, (magnitude, sampling, hparas) in enumerate([
        (9, ("gaussian", 0.5), None),
        (10, ("gaussian", 3.0), None),
        (0, ("gaussian", 0.5), None),
        (6, ("uniform_int", 2), {"sampling_data_type": "int", "sampling_min": 2}),
        (8, ("uniform_float", 0.1), {"sampling_data_type": "float", "sampling_min": 0.1}),
    ]):
        kind = "gaussian" if sampling[0] == "gaussian" else "uniform"
        hp = hparas or {"sampling_std": sampling[1]}
        op = AG.AugmentTransform(name, magnitude, prob=1.0, sampling_type=kind, sampling_hparas=hp, generator=gen(seed))
        g = gen(seed)
        want = ref_op(name, v, g, table=RANDAUG_TABLE, magnitude=magnitude, prob=1.0, sampling=sampling)
        assert_same(op(v), want)
        assert torch.equal(op.generator.get_state(), g.get_state())  # the same draws


@pytest.mark.parametrize(
    "kwargs, sampling",
    [
        ({}, ("gaussian", 0.5)),
        ({"magnitude": 5, "num_layers": 3, "prob": 0.9}, ("gaussian", 0.5)),
        ({"magnitude": 10, "num_layers": 1, "prob": 1.0}, ("gaussian", 0.5)),
        ({"magnitude": 7, "sampling_type": "uniform"}, ("uniform_int", 0)),
        ({"magnitude": 4, "num_layers": 14, "prob": 0.8, "sampling_hparas": {"sampling_std": 2.0}}, ("gaussian", 2.0)),
        (
            {"sampling_type": "uniform", "sampling_hparas": {"sampling_data_type": "float", "sampling_min": 0.5}},
            ("uniform_float", 0.5),
        ),
    ],
)
def test_rand_augment_as_pytorchvideo(kwargs, sampling):
    ref_kwargs = {k: v for k, v in kwargs.items() if k in ("magnitude", "num_layers", "prob")}
    for seed in range(6):
        for v in (video(seed=seed), video(t=2, h=15, w=31, dtype=torch.float32, seed=seed)):
            torch.manual_seed(seed)
            got = T.RandAugment(**kwargs)(v)
            after = torch.rand(1)
            g = gen(seed)
            assert_same(got, ref_rand_augment(v, g, sampling=sampling, **ref_kwargs))
            assert torch.equal(after, torch.rand(1, generator=g))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"magnitude": 1}, {"magnitude": 10, "alpha": 0.5, "width": 2, "depth": 2}, {"magnitude": 6, "width": 5, "depth": 13},
     {"magnitude": 4, "alpha": 3, "width": 1}],
)
def test_augmix_as_pytorchvideo(kwargs):
    for seed in range(5):
        for v in (video(seed=seed), video(t=2, h=15, w=31, dtype=torch.float32, seed=seed)):
            torch.manual_seed(seed)
            got = T.AugMix(**kwargs)(v)
            after = torch.rand(1)
            g = gen(seed)
            assert_same(got, ref_augmix(v, g, **kwargs))
            assert torch.equal(after, torch.rand(1, generator=g))


def test_transform_hparas_fill_is_used():
    v = video(seed=1)
    hp = {"fill": (0.0, 1.0, 0.0)}
    for seed in range(4):
        torch.manual_seed(seed)
        got = T.RandAugment(prob=1.0, num_layers=4, transform_hparas=hp)(v)
        assert_same(got, ref_rand_augment(v, gen(seed), prob=1.0, num_layers=4, fill=hp["fill"]))
        torch.manual_seed(seed)
        got = T.AugMix(transform_hparas=hp)(v)
        assert_same(got, ref_augmix(v, gen(seed), fill=hp["fill"]))


# Fingerprints of PyTorchVideo 0.1.5's own outputs on VIDEO_FOR_GOLDEN after torch.manual_seed(seed):
# (sum of the uint8 output, sum weighted by (flat index % 97), torch.rand(1) right after the call).
PTV_GOLDEN = {
    "RandAugment()": [
        (1403411, 67333718.0, 0.03172), (1552406, 74692407.0, 0.258834),
        (1043331, 50200084.0, 0.270805), (164882, 7928681.0, 0.368626),
    ],
    "RandAugment(magnitude=10, num_layers=3, prob=1.0, sampling_type='uniform')": [
        (890204, 42741993.0, 0.03172), (1560786, 75031164.0, 0.939056),
        (1207902, 57634806.0, 0.719742), (1118760, 53952500.0, 0.004324),
    ],
    "AugMix()": [
        (1087086, 52329125.0, 0.205599), (1149201, 55343492.0, 0.122746),
        (1154044, 55617344.0, 0.477741), (1146870, 55206966.0, 0.080743),
    ],
    "AugMix(magnitude=8, alpha=0.5, width=4, depth=2)": [
        (1057307, 50828678.0, 0.914275), (1108198, 53187246.0, 0.382754),
        (1171870, 56452460.0, 0.74382), (1120367, 53965769.0, 0.607555),
    ],
}


@pytest.mark.skipif(torch.torch_version.TorchVersion(torch.__version__) < (2, 7),
                    reason="recorded with torch >= 2.7, whose CPU exponential_ (torch.multinomial without replacement "
                           "or of one sample) draws differently (pytorch/pytorch#150538)")
@pytest.mark.parametrize("expr", list(PTV_GOLDEN))
def test_pytorchvideo_golden_values(expr):
    x = torch.randint(0, 256, (4, 3, 24, 32), generator=gen(2022), dtype=torch.uint8)
    weight = torch.arange(x.numel(), dtype=torch.float64).remainder(97).view_as(x)
    make = eval("T." + expr)
    for seed, (total, weighted, after) in enumerate(PTV_GOLDEN[expr]):
        torch.manual_seed(seed)
        out = make(x)
        assert round(torch.rand(1).item(), 6) == after  # the same draws, in the same number
        # exact on the machine that recorded them; a few +-1 roundings of another CPU's float kernels allowed
        assert abs(int(out.to(torch.int64).sum()) - total) <= x.numel() // 50
        assert abs(float((out.double() * weight).sum()) - weighted) <= 48 * x.numel() // 50


# ---------------------------------------------------------------------------------------------------------------
# OpSampler


def test_op_sampler_draws_and_order():
    ops = [lambda v, k=k: v * 10 + k for k in range(5)]  # the result spells the indices applied, in order
    for seed in range(20):
        for kw in (
            {"num_sample_op": 2},
            {"num_sample_op": 5, "randomly_sample_depth": True, "replacement": True},
            {"transforms_prob": [0.1, 1, 2, 3, 0.5], "num_sample_op": 3},
            {"num_sample_op": 4, "replacement": True},
        ):
            torch.manual_seed(seed)
            got = int(T.OpSampler(ops, **kw)(torch.zeros((), dtype=torch.int64)))
            g = gen(seed)
            depth = torch.randint(1, 6, (1,), generator=g).item() if kw.get("randomly_sample_depth") else kw["num_sample_op"]
            probs = torch.tensor(kw.get("transforms_prob", [1.0] * 5))
            want = 0
            for i in torch.multinomial(probs, depth, replacement=kw.get("replacement", False), generator=g).tolist():
                want = want * 10 + i
            assert got == want
            assert torch.equal(torch.get_rng_state(), g.get_state())


def test_op_sampler_weights_and_replacement():
    ops = [lambda v, k=k: v + [k] for k in range(3)]
    torch.manual_seed(0)
    picks = [T.OpSampler(ops, transforms_prob=[1, 1, 8])([])[0] for _ in range(2000)]
    assert 0.75 < picks.count(2) / len(picks) < 0.85
    sampler = T.OpSampler(ops, num_sample_op=3)
    assert all(sorted(sampler([])) == [0, 1, 2] for _ in range(50))  # without replacement: each once


# ---------------------------------------------------------------------------------------------------------------
# generator, dtypes, shapes, input untouched


def test_generator_gives_the_global_draws_and_leaves_the_global_generator():
    v = video(seed=5)
    for cls, kw in ((T.RandAugment, {"prob": 0.8}), (T.AugMix, {}), (T.AugMix, {"depth": 2, "alpha": 0.3})):
        for seed in range(4):
            torch.manual_seed(seed)
            want = cls(**kw)(v)
            torch.manual_seed(1234)
            before = torch.get_rng_state()
            got = cls(**kw, generator=gen(seed))(v)
            assert torch.equal(torch.get_rng_state(), before)
            assert_same(got, want)


@pytest.mark.parametrize("cls", [T.RandAugment, T.AugMix])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_dtype_shape_kept_and_input_untouched(cls, dtype):
    for shape in [(4, 3, 24, 32), (1, 3, 7, 5), (3, 13, 9)]:
        v = video(dtype=dtype)[..., : shape[-2], : shape[-1]]
        v = v[: shape[0]] if len(shape) == 4 else v[0]
        keep = v.clone()
        for seed in range(3):
            out = cls(generator=gen(seed))(v)
            assert out.shape == v.shape and out.dtype == v.dtype
            assert torch.equal(v, keep)
            if dtype != torch.uint8:
                tol = 1e-6 if dtype in (torch.float32, torch.float64) else 1e-2
                assert -tol <= float(out.min()) and float(out.max()) <= 1 + tol


def test_non_contiguous_input_gives_the_contiguous_result():
    base = video(t=3, seed=9).permute(1, 0, 2, 3).contiguous()  # (C, T, H, W) storage
    v = base.permute(1, 0, 2, 3)  # (T, C, H, W) view, as create_video_transform hands over
    for make in (lambda g: T.RandAugment(prob=1.0, num_layers=3, generator=g), lambda g: T.AugMix(generator=g)):
        for seed in range(4):
            assert_same(make(gen(seed))(v), make(gen(seed))(v.contiguous()))


def test_one_channel_video():
    v = video(c=1, seed=2)
    hp = {"fill": (0.2,)}
    names = [n for n in RANDAUG_TABLE if n != "AdjustSaturation"]  # saturation needs colour (torchvision)
    for seed in range(3):
        for name in names:
            op = AG.AugmentTransform(name, 7, prob=1.0, transform_hparas=hp, generator=gen(seed))
            want = ref_op(name, v, gen(seed), table=RANDAUG_TABLE, magnitude=7, prob=1.0, sampling=("gaussian", 0.5),
                          fill=hp["fill"])
            assert_same(op(v), want)


@pytest.mark.cuda
def test_on_cuda_stays_on_the_device_and_draws_on_the_cpu():
    v = video(seed=4)
    for cls in (T.RandAugment, T.AugMix):
        torch.manual_seed(0)
        cls()(v)
        after_cpu = torch.rand(1)
        torch.manual_seed(0)
        out = cls()(v.cuda())
        assert torch.equal(torch.rand(1), after_cpu)
        assert out.device.type == "cuda" and out.dtype == v.dtype and out.shape == v.shape


# ---------------------------------------------------------------------------------------------------------------
# create_video_transform(aug_type="randaug" | "augmix")


def _ptv_tail(v, min_size, max_size, crop):
    # ConvertUint8ToFloat, Normalize, RandomShortSideScale, RandomCrop, RandomHorizontalFlip (PyTorchVideo's steps,
    # re-written in plain torch in tests/test_transforms.py)
    v = ptv_normalize(v / 255.0, MEAN, STD)
    v = ptv_random_short_side_scale(v, min_size, max_size)
    return TT.RandomHorizontalFlip(0.5)(TT.RandomCrop(crop)(v))


@pytest.mark.parametrize(
    "aug_type, aug_paras",
    [
        ("randaug", None),
        ("randaug", {"magnitude": 5, "num_layers": 3, "prob": 0.9}),
        ("randaug", {"sampling_type": "uniform", "magnitude": 8}),
        ("augmix", None),
        ("augmix", {"magnitude": 6, "alpha": 0.5, "width": 2, "depth": 3}),
    ],
)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_create_video_transform_with_augmentation_as_pytorchvideo(aug_type, aug_paras, dtype):
    tf = T.create_video_transform("train", aug_type=aug_type, aug_paras=aug_paras, min_size=20, max_size=30, crop_size=16)
    paras = dict(aug_paras or {})
    if aug_type == "randaug":
        sampling = ("uniform_int", 0) if paras.get("sampling_type") == "uniform" else ("gaussian", 0.5)
        kw = {k: paras[k] for k in ("magnitude", "num_layers", "prob") if k in paras}

        def augment(v, g):
            return ref_rand_augment(v, g, sampling=sampling, **kw)
    else:
        def augment(v, g):
            return ref_augmix(v, g, **paras)

    for seed in range(4):
        x = clip(t=20, h=36, w=48, dtype=dtype, seed=seed)  # float samples are the decoder's 0-255 clip
        torch.manual_seed(seed)
        random.seed(seed)
        got = tf(x)
        # PyTorchVideo: UTS, Permute, the augmentation (T, C, H, W), Permute, then the default steps
        g = torch.Generator().manual_seed(seed)
        v = ptv_uniform_temporal_subsample(x.to(torch.uint8), 8)
        v = augment(v.permute(1, 0, 2, 3), g).permute(1, 0, 2, 3)
        torch.set_rng_state(g.get_state())
        want = _ptv_tail(v, 20, 30, 16)
        assert got.shape == (3, 8, 16, 16) and got.dtype == torch.float32
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-5)


def test_create_video_transform_with_augmentation_plan_and_samples():
    tf = T.create_video_transform("train", video_key="video", remove_key=["audio"], aug_type="augmix", min_size=20,
                                  crop_size=16, num_samples=4)
    assert T.accepts_uint8(tf)  # uint8 decodes go in, as for "default"
    assert T.temporal_plan(tf) == T.TemporalPlan(4)
    assert "AugMix(magnitude=3, alpha=1.0, width=3, depth=-1)" in repr(tf)
    sample = {"video": video(t=10, h=30, w=40).permute(1, 0, 2, 3), "audio": torch.zeros(3), "label": 1}
    out = tf(sample)
    assert set(out) == {"video", "label"} and out["video"].shape == (3, 4, 16, 16)
    # convert_to_float=False: a float clip is augmented as 0-1 values, a uint8 one as 0-255: the two differ,
    # so the dataset must hand over the float clip (the frames are still planned)
    for aug_type in ("randaug", "augmix"):
        raw = T.create_video_transform("train", aug_type=aug_type, convert_to_float=False, min_size=20, crop_size=16,
                                       num_samples=4)
        assert not T.accepts_uint8(raw) and T.temporal_plan(raw) == T.TemporalPlan(4)
        clip8 = video(t=10, h=30, w=40).permute(1, 0, 2, 3)
        torch.manual_seed(0)
        on_uint8 = raw(clip8)
        torch.manual_seed(0)
        assert not torch.equal(on_uint8.float(), raw(clip8.float()))
        cooked = T.create_video_transform("train", aug_type=aug_type, min_size=20, crop_size=16, num_samples=4)
        torch.manual_seed(0)
        on_uint8 = cooked(clip8)
        torch.manual_seed(0)
        assert torch.equal(on_uint8, cooked(clip8.float()))  # convert_to_float=True: the same either way
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        T.create_video_transform("train", aug_type="augmix", num_samples=None)({"video": [1, 2]})


def test_create_video_transform_augmentation_only_in_train_and_default_unchanged():
    for aug_type in ("randaug", "augmix"):
        val = T.create_video_transform("val", aug_type=aug_type, aug_paras={"magnitude": 5}, min_size=20, crop_size=16)
        ref = T.create_video_transform("val", min_size=20, crop_size=16)
        x = video(t=10, h=30, w=40).permute(1, 0, 2, 3)
        torch.manual_seed(0)
        a = val(x)
        after = torch.rand(1)
        torch.manual_seed(0)
        assert torch.equal(a, ref(x)) and torch.equal(after, torch.rand(1))
        assert "Augment" not in repr(val) and "AugMix" not in repr(val)
    default = T.create_video_transform("train", min_size=20, crop_size=16)
    assert len(default.plan) == 1  # still one fused call


def test_create_video_transform_aug_paras():
    tf = T.create_video_transform("train", aug_type="randaug", aug_paras={"num_layers": 4, "sampling_type": "uniform"})
    assert "RandAugment(magnitude=9, num_layers=4, prob=0.5, sampling_type='uniform')" in repr(tf)
    # keys PyTorchVideo's tables hold but it does not pass on are ignored, as there
    a = T.create_video_transform("train", aug_type="augmix", aug_paras={"transform_hparas": {"fill": (0, 0, 0)}},
                                 min_size=20, crop_size=16)
    b = T.create_video_transform("train", aug_type="augmix", min_size=20, crop_size=16)
    x = video(t=10, h=30, w=40).permute(1, 0, 2, 3)
    for seed in range(3):
        torch.manual_seed(seed)
        ra = a(x)
        torch.manual_seed(seed)
        assert torch.equal(ra, b(x))
    with pytest.raises(ValueError, match="takes the keys"):
        T.create_video_transform("train", aug_type="augmix", aug_paras={"num_layers": 2})
    with pytest.raises(ValueError, match="magnitude must be between 1 and 10"):
        T.create_video_transform("train", aug_type="augmix", aug_paras={"magnitude": 0})
    with pytest.raises(TypeError, match="aug_paras must be a dict"):
        T.create_video_transform("train", aug_type="randaug", aug_paras=[("magnitude", 3)])
    with pytest.raises(ValueError, match="aug_paras must be None for aug_type 'default'"):
        T.create_video_transform("train", aug_paras={})


# ---------------------------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda: T.RandAugment(sampling_type="normal"), ValueError, "sampling_type"),
        (lambda: T.RandAugment(sampling_hparas={"sampling_min": 0}), ValueError, "sampling_std"),
        (lambda: T.RandAugment(sampling_type="uniform", sampling_hparas={"sampling_std": 1}), ValueError, "sampling_data_type"),
        (lambda: T.RandAugment(sampling_type="uniform", sampling_hparas={"sampling_data_type": "int", "sampling_min": 0.5}),
         TypeError, "sampling_min"),
        (lambda: T.RandAugment(sampling_type="uniform", sampling_hparas={"sampling_data_type": "x", "sampling_min": 0}),
         ValueError, "'int' or 'float'"),
        (lambda: T.RandAugment(num_layers=15), ValueError, "num_layers must be <= 14"),
        (lambda: T.RandAugment(num_layers=0), ValueError, "num_layers"),
        (lambda: T.RandAugment(prob=1.5), ValueError, "prob"),
        (lambda: T.RandAugment(magnitude="9"), TypeError, "magnitude"),
        (lambda: T.RandAugment(transform_hparas={"fil": 0}), ValueError, "'fill'"),
        (lambda: T.AugMix(magnitude=11), ValueError, "magnitude must be between 1 and 10"),
        (lambda: T.AugMix(magnitude=2.5), TypeError, "magnitude must be an int"),
        (lambda: T.AugMix(alpha=0.0), ValueError, "alpha must be > 0"),
        (lambda: T.AugMix(width=0), ValueError, "width"),
        (lambda: T.AugMix(depth=14), ValueError, "depth must be <= 13"),
        (lambda: T.AugMix(transform_hparas={"fil": 0}), ValueError, "'fill'"),
        (lambda: T.AugMix(generator=3), TypeError, "generator"),
        (lambda: T.OpSampler([]), ValueError, "must not be empty"),
        (lambda: T.OpSampler([abs, 3]), TypeError, r"transforms_list\[1\]"),
        (lambda: T.OpSampler([abs], num_sample_op=2), ValueError, "num_sample_op must be <="),
        (lambda: T.OpSampler([abs, abs], transforms_prob=[1.0]), ValueError, "one weight per transform"),
        (lambda: T.OpSampler([abs, abs], transforms_prob=[1.0, 0.0]), ValueError, "must be > 0"),
        (lambda: AG.AugmentTransform("Blur"), ValueError, "transform_name must be one of"),
        (lambda: AG.AugmentTransform("Rotate", transform_max_paras={"Invert": None}), ValueError, "no entry for 'Rotate'"),
    ],
)
def test_errors_at_construction(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_errors_on_the_call():
    with pytest.raises(ValueError, match=r"\(T, C, H, W\)"):
        T.RandAugment()(torch.zeros(2, 3, 4, 5, 6, dtype=torch.uint8))
    with pytest.raises(TypeError, match="uint8"):
        T.AugMix()(torch.zeros(2, 3, 4, 5, dtype=torch.int32))
    with pytest.raises(TypeError, match="torch.Tensor"):
        T.AugMix()([1, 2])
    tf = T.create_video_transform("train", aug_type="randaug")
    with pytest.raises(ValueError, match=r"\(C, T, H, W\)"):
        tf(torch.zeros(3, 4, 5, dtype=torch.uint8))


def test_int_sampling_takes_integer_magnitudes_only():
    # "uniform" sampling draws torch.randint(sampling_min, magnitude + 1): a fractional or too small level
    # fails at construction, not inside the first call's randint
    for bad in (9.5, -3):
        with pytest.raises(ValueError, match=r"'int' sampling magnitude must be an integer >= sampling_min \(0\)"):
            T.RandAugment(magnitude=bad, sampling_type="uniform")
    T.RandAugment(magnitude=9.0, sampling_type="uniform")(video())  # an integral float is a level
    T.RandAugment(magnitude=9.5)  # gaussian sampling takes any level
