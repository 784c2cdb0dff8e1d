"""MixUp, CutMix and MixVideo: PyTorchVideo's semantics and draws, label mixing and smoothing, argument checks."""

import math

import pytest
import torch

from fastvid.transforms.mix import CutMix, MixUp, MixVideo, convert_to_one_hot

# --------------------------------------------------------------------------------------------------------------
# A step-by-step transcription of PyTorchVideo 0.1.5's mix.py semantics (which mixes in place), used as the
# oracle: same draws (Beta(alpha, alpha).sample(), torch.randint(H), torch.randint(W), torch.rand(1)), same order.


def _ptv_one_hot(targets, num_class, smooth):
    off = smooth / num_class
    on = 1.0 - smooth + off
    out = torch.full((targets.shape[0], num_class), off, dtype=torch.long if smooth == 0.0 else None)
    out.scatter_(1, targets.long().view(-1, 1), on)
    return out


def _ptv_mix_labels(labels, num_classes, lam, smooth):
    return _ptv_one_hot(labels, num_classes, smooth) * lam + _ptv_one_hot(labels.flip(0), num_classes, smooth) * (
        1.0 - lam
    )


def _ptv_mixup(x, labels, alpha, smooth, num_classes):
    x = x.clone()
    lam = torch.distributions.beta.Beta(alpha, alpha).sample()
    flipped = x.flip(0).mul_(1.0 - lam)
    x.mul_(lam).add_(flipped)
    return x, _ptv_mix_labels(labels, num_classes, lam, smooth)


def _ptv_cutmix(x, labels, alpha, smooth, num_classes):
    x = x.clone()
    lam = torch.distributions.beta.Beta(alpha, alpha).sample()
    ratio = (1 - lam) ** 0.5
    h, w = x.shape[-2:]
    ch, cw = int(h * ratio), int(w * ratio)
    cy = torch.randint(h, (1,)).item()
    cx = torch.randint(w, (1,)).item()
    yl, yh = min(max(cy - ch // 2, 0), h), min(max(cy + ch // 2, 0), h)
    xl, xh = min(max(cx - cw // 2, 0), w), min(max(cx + cw // 2, 0), w)
    lam_c = 1.0 - float((yh - yl) * (xh - xl)) / (h * w)
    x[..., yl:yh, xl:xh] = x.flip(0)[..., yl:yh, xl:xh]
    return x, _ptv_mix_labels(labels, num_classes, lam_c, smooth)


def _ptv_mixvideo(x, labels, cutmix_prob, mixup_alpha, cutmix_alpha, smooth, num_classes):
    if torch.rand(1).item() < cutmix_prob:
        return _ptv_cutmix(x, labels, cutmix_alpha, smooth, num_classes)
    return _ptv_mixup(x, labels, mixup_alpha, smooth, num_classes)


# --------------------------------------------------------------------------------------------------------------


def _batch(shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g) * 255
    if dtype == torch.uint8:
        return x.to(torch.uint8)
    return x.to(dtype)


def _labels(b, k, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, k, (b,), generator=g)


SHAPES = [(2, 3, 4, 8, 10), (5, 3, 2, 16, 12), (4, 1, 3, 7, 5), (3, 3, 9, 11)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alpha", [0.2, 1.0, 5.0])
@pytest.mark.parametrize("smooth", [0.0, 0.1])
def test_same_as_pytorchvideo_under_seed(shape, alpha, smooth):
    k = 7
    x, labels = _batch(shape), _labels(shape[0], k)
    for seed in range(5):
        torch.manual_seed(seed)
        ref = _ptv_mixup(x, labels, alpha, smooth, k)
        torch.manual_seed(seed)
        got = MixUp(alpha, smooth, k)(x, labels)
        torch.testing.assert_close(got[0], ref[0], rtol=0, atol=0)
        torch.testing.assert_close(got[1], ref[1], rtol=0, atol=0)

        torch.manual_seed(seed)
        ref = _ptv_cutmix(x, labels, alpha, smooth, k)
        torch.manual_seed(seed)
        got = CutMix(alpha, smooth, k)(x, labels)
        torch.testing.assert_close(got[0], ref[0], rtol=0, atol=0)
        torch.testing.assert_close(got[1], ref[1], rtol=0, atol=0)

        torch.manual_seed(seed)
        ref = _ptv_mixvideo(x, labels, 0.5, alpha, 2.0, smooth, k)
        after_ref = torch.rand(1)  # the global stream must also be left in the same place
        torch.manual_seed(seed)
        got = MixVideo(0.5, alpha, 2.0, smooth, k)(x, labels)
        torch.testing.assert_close(got[0], ref[0], rtol=0, atol=0)
        torch.testing.assert_close(got[1], ref[1], rtol=0, atol=0)
        assert torch.rand(1).item() == after_ref.item()


@pytest.mark.parametrize("alpha", [0.1, 0.8, 3.0])
def test_mixup_lambda_reproduced_under_seed(alpha):
    k = 5
    x, labels = _batch((4, 3, 2, 6, 6)), torch.tensor([0, 1, 2, 3])
    torch.manual_seed(123)
    lam = torch.distributions.Beta(alpha, alpha).sample().item()
    torch.manual_seed(123)
    mixed, y = MixUp(alpha=alpha, num_classes=k)(x, labels)
    torch.testing.assert_close(mixed, lam * x + (1 - lam) * x.flip(0), rtol=1e-5, atol=1e-4)
    # sample i carries weight lam on its own class and 1 - lam on its partner's class (B - 1 - i)
    for i in range(4):
        assert y[i, labels[i]].item() == pytest.approx(lam, abs=1e-6)
        assert y[i, labels[3 - i]].item() == pytest.approx(1 - lam, abs=1e-6)
    # sample_lambda is the same draw
    torch.manual_seed(123)
    assert MixUp(alpha=alpha, num_classes=k).sample_lambda().item() == lam


@pytest.mark.parametrize("cls", [MixUp, CutMix])
@pytest.mark.parametrize("smooth", [0.0, 0.05, 0.3, 0.9])
@pytest.mark.parametrize("k", [1, 2, 10, 400])
def test_label_rows_sum_to_one_and_smoothing_exact(cls, smooth, k):
    b = 6
    x = _batch((b, 3, 2, 12, 12))
    labels = _labels(b, k, seed=k)
    torch.manual_seed(7)
    t = cls(alpha=1.0, label_smoothing=smooth, num_classes=k)
    lam = t.sample_lambda()
    torch.manual_seed(7)
    _, y = t(x, labels)
    assert y.shape == (b, k) and y.dtype == torch.float32
    torch.testing.assert_close(y.sum(1), torch.ones(b), rtol=0, atol=1e-5)
    assert (y >= 0).all()
    off, on = smooth / k, 1.0 - smooth + smooth / k
    flipped = labels.flip(0)
    for i in range(b):
        if labels[i] == flipped[i]:
            # the partner has the same class: the row is the smoothed one-hot row itself
            expect = torch.full((k,), off)
            expect[labels[i]] = on
            torch.testing.assert_close(y[i], expect, rtol=0, atol=1e-6)
        else:
            # every class other than the two gets exactly off
            others = torch.ones(k, dtype=torch.bool)
            others[labels[i]] = others[flipped[i]] = False
            if others.any():
                torch.testing.assert_close(y[i][others], torch.full((int(others.sum()),), off), rtol=0, atol=1e-7)
            if cls is MixUp:
                w = lam.item()
                assert y[i, labels[i]].item() == pytest.approx(w * on + (1 - w) * off, abs=1e-6)
                assert y[i, flipped[i]].item() == pytest.approx(w * off + (1 - w) * on, abs=1e-6)


@pytest.mark.parametrize("smooth", [0.0, 0.2])
def test_convert_to_one_hot_values(smooth):
    t = torch.tensor([2, 0, 4])
    y = convert_to_one_hot(t, 5, smooth)
    assert y.dtype == (torch.long if smooth == 0.0 else torch.float32)
    expect = torch.full((3, 5), smooth / 5)
    expect[torch.arange(3), t] = 1 - smooth + smooth / 5
    torch.testing.assert_close(y.float(), expect, rtol=0, atol=0)
    with pytest.raises(ValueError, match="targets"):
        convert_to_one_hot(torch.tensor([5]), 5)


@pytest.mark.parametrize("shape", [(4, 3, 3, 20, 24), (5, 2, 4, 9, 13), (2, 3, 31, 17), (3, 1, 1, 64, 48)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8, torch.float64])
def test_cutmix_box_comes_from_flipped_batch_and_area_matches_label(shape, dtype):
    b, h, w = shape[0], shape[-2], shape[-1]
    k = b
    labels = torch.arange(b)  # every sample its own class, so the label weight reads the area directly
    for seed in range(10):
        # samples differ everywhere: sample i is offset by 10 * i (uint8 range kept)
        x = (_batch(shape, torch.float32, seed) % 10 + 10 * torch.arange(b).view(-1, *[1] * (len(shape) - 1))).to(
            dtype
        )
        x_before = x.clone()
        torch.manual_seed(seed)
        t = CutMix(alpha=1.0, num_classes=k)
        lam = t.sample_lambda()
        box = t.sample_box(h, w, lam)
        torch.manual_seed(seed)
        out, y = t(x, labels)
        assert torch.equal(x, x_before), "input was modified"
        assert out.dtype == dtype and out.shape == x.shape
        yl, yh, xl, xh = box
        inside = torch.zeros(h, w, dtype=torch.bool)
        inside[yl:yh, xl:xh] = True
        flipped = x.flip(0)
        assert torch.equal(out[..., inside], flipped[..., inside])
        assert torch.equal(out[..., ~inside], x[..., ~inside])
        # the changed pixels (where sample and partner differ) form exactly that box, in every frame and channel
        for i in range(b):
            if b - 1 - i == i:
                assert torch.equal(out[i], x[i])
                assert y[i, i].item() == pytest.approx(1.0)
                continue
            changed = (out[i] != x[i]).reshape(-1, h, w)
            assert torch.equal(changed.all(0), inside) and torch.equal(changed.any(0), inside)
            area = inside.sum().item() / (h * w)
            assert y[i, i].item() == pytest.approx(1 - area, abs=1e-6)
            assert y[i, b - 1 - i].item() == pytest.approx(area, abs=1e-6)
        # the box has the size PyTorchVideo computes: int(side * sqrt(1 - lam)), halved around the centre, clipped
        r = math.sqrt(1 - lam.item())
        assert yh - yl <= 2 * (int(h * r) // 2) + 1 and xh - xl <= 2 * (int(w * r) // 2) + 1


def test_cutmix_box_area_tracks_lambda_on_average():
    # E[box area share] is close to 1 - E[lam] = 0.5 for alpha = 1, minus clipping at the borders: bounded below
    # by the unclipped (1 - lam) * 1/4 and above by (1 - lam).
    t = CutMix(alpha=1.0, num_classes=2, generator=torch.Generator().manual_seed(0))
    x = torch.zeros(2, 1, 1, 100, 100)
    x[1] = 1
    shares, lams = [], []
    for _ in range(200):
        lam = t.sample_lambda()
        yl, yh, xl, xh = t.sample_box(100, 100, lam)
        shares.append((yh - yl) * (xh - xl) / 1e4)
        lams.append(1 - lam.item())
        assert shares[-1] <= lams[-1] + 1e-6
    assert 0.2 < sum(shares) / 200 < 0.5


@pytest.mark.parametrize("shape", [(4, 3, 2, 9, 7), (3, 3, 5, 6)])
def test_uint8_and_float_inputs(shape):
    k = 4
    labels = torch.tensor([0, 1, 2, 3][: shape[0]])
    xu = _batch(shape, torch.uint8)
    xf = xu.to(torch.float32)
    for seed in range(5):
        torch.manual_seed(seed)
        mu, yu = MixUp(alpha=0.5, num_classes=k)(xu, labels)
        torch.manual_seed(seed)
        mf, yf = MixUp(alpha=0.5, num_classes=k)(xf, labels)
        assert mu.dtype == torch.uint8 and mf.dtype == torch.float32
        torch.testing.assert_close(mu.to(torch.float32), mf, rtol=0, atol=1)  # uint8: rounded
        assert (mu.to(torch.float32) - mf).abs().max() <= 0.5 + 1e-3
        torch.testing.assert_close(yu, yf, rtol=0, atol=0)

        torch.manual_seed(seed)
        cu, yu = CutMix(alpha=0.5, num_classes=k)(xu, labels)
        torch.manual_seed(seed)
        cf, yf = CutMix(alpha=0.5, num_classes=k)(xf, labels)
        assert cu.dtype == torch.uint8
        assert torch.equal(cu.to(torch.float32), cf)  # CutMix only copies pixels: exact
        torch.testing.assert_close(yu, yf, rtol=0, atol=0)


def test_inputs_not_modified_and_outputs_fresh():
    x, labels = _batch((4, 3, 2, 8, 8)), _labels(4, 3)
    x0, l0 = x.clone(), labels.clone()
    for t in (MixUp(num_classes=3), CutMix(num_classes=3), MixVideo(num_classes=3)):
        out, _ = t(x, labels)
        assert torch.equal(x, x0) and torch.equal(labels, l0)
        assert out.data_ptr() != x.data_ptr()


def test_generator_reproducible_and_leaves_global_stream_alone():
    x, labels = _batch((4, 3, 2, 10, 10)), _labels(4, 6)
    for cls in (MixUp, CutMix, MixVideo):
        state = torch.get_rng_state()
        a = cls(num_classes=6, generator=torch.Generator().manual_seed(5))
        b = cls(num_classes=6, generator=torch.Generator().manual_seed(5))
        c = cls(num_classes=6, generator=torch.Generator().manual_seed(6))
        outs_a = [a(x, labels) for _ in range(4)]
        outs_b = [b(x, labels) for _ in range(4)]
        outs_c = [c(x, labels) for _ in range(4)]
        assert torch.equal(torch.get_rng_state(), state), f"{cls.__name__} drew from the global generator"
        for (va, ya), (vb, yb) in zip(outs_a, outs_b):
            assert torch.equal(va, vb) and torch.equal(ya, yb)
        assert any(not torch.equal(ya, yc) for (_, ya), (_, yc) in zip(outs_a, outs_c))


def test_generator_draws_the_same_lambda_as_the_global_stream():
    # a generator seeded like the global stream gives the lambda Beta(alpha, alpha).sample() gives
    for alpha in (0.3, 1.0, 2.5):
        torch.manual_seed(42)
        expect = torch.distributions.Beta(alpha, alpha).sample()
        got = MixUp(alpha, num_classes=2, generator=torch.Generator().manual_seed(42)).sample_lambda()
        assert got.item() == expect.item()


@pytest.mark.parametrize("prob", [0.0, 0.3, 1.0])
def test_mixvideo_choice_frequency(prob):
    # CutMix with labels arange(B) leaves a label row whose weights are multiples of 1/(H*W) *and* the video
    # equals the input outside a box; MixUp changes every pixel. Count which one ran.
    g = torch.Generator().manual_seed(0)
    t = MixVideo(cutmix_prob=prob, num_classes=2, generator=g)
    x = torch.stack([torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 8, 8)])
    n, cut = 300, 0
    for _ in range(n):
        out, _ = t(x, torch.tensor([0, 1]))
        vals = out[0].unique()
        cut += int(bool(((vals == 0) | (vals == 1)).all()))
    if prob in (0.0, 1.0):
        assert cut == round(prob * n)
    else:
        assert abs(cut / n - prob) < 0.1


def test_one_hot_labels_mixed_as_they_are():
    labels = torch.tensor([[0.7, 0.3, 0.0], [0.0, 0.0, 1.0], [0.2, 0.2, 0.6]])
    x = _batch((3, 3, 2, 8, 8))
    torch.manual_seed(3)
    lam = torch.distributions.Beta(1.0, 1.0).sample()
    torch.manual_seed(3)
    _, y = MixUp(num_classes=3, one_hot=True, label_smoothing=0.1)(x, labels)
    torch.testing.assert_close(y, labels * lam + labels.flip(0) * (1 - lam))
    with pytest.raises(ValueError, match="one_hot"):
        MixUp(num_classes=4, one_hot=True)(x, labels)


def test_audio_mixed_with_the_same_lambda():
    x, a, labels = _batch((4, 3, 2, 8, 8)), _batch((4, 1, 5, 16), seed=3), _labels(4, 5)
    torch.manual_seed(9)
    lam = torch.distributions.Beta(1.0, 1.0).sample()
    torch.manual_seed(9)
    v, au, y = MixUp(num_classes=5)(x, labels, x_audio=a)
    torch.testing.assert_close(au, a * lam + a.flip(0) * (1 - lam))
    torch.manual_seed(9)
    v2, au2, y2 = CutMix(num_classes=5)(x, labels, x_audio=a)
    # PyTorchVideo: the video box, then the audio's, each with a new centre and the same (drawn, not corrected) lambda
    torch.manual_seed(9)
    want_v, want_y = _ptv_cutmix(x, labels, 1.0, 0.0, 5)
    h, w = a.shape[-2:]
    ratio = (1 - lam) ** 0.5
    ch, cw = int(h * ratio), int(w * ratio)
    cy, cx = torch.randint(h, (1,)).item(), torch.randint(w, (1,)).item()
    want_a = a.clone()
    ys = slice(min(max(cy - ch // 2, 0), h), min(max(cy + ch // 2, 0), h))
    xs = slice(min(max(cx - cw // 2, 0), w), min(max(cx + cw // 2, 0), w))
    want_a[..., ys, xs] = a.flip(0)[..., ys, xs]
    assert torch.equal(v2, want_v) and torch.equal(au2, want_a) and torch.allclose(y2, want_y)
    assert not torch.equal(au2, a)  # (the seed draws a box that is not empty)
    v3, au3, y3 = MixVideo(num_classes=5)(x, labels, x_audio=a)
    assert au3.shape == a.shape and y3.shape == (4, 5)


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda: MixUp(alpha=0), "alpha"),
        (lambda: MixUp(alpha=-1.0), "alpha"),
        (lambda: MixUp(alpha=float("nan")), "alpha"),
        (lambda: CutMix(alpha=0.0), "alpha"),
        (lambda: MixUp(label_smoothing=-0.1), "label_smoothing"),
        (lambda: MixUp(label_smoothing=1.0), "label_smoothing"),
        (lambda: CutMix(label_smoothing=1.5), "label_smoothing"),
        (lambda: MixUp(num_classes=0), "num_classes"),
        (lambda: CutMix(num_classes=-3), "num_classes"),
        (lambda: MixVideo(cutmix_prob=-0.01), "cutmix_prob"),
        (lambda: MixVideo(cutmix_prob=1.01), "cutmix_prob"),
        (lambda: MixVideo(mixup_alpha=0.0), "mixup_alpha"),
        (lambda: MixVideo(cutmix_alpha=-2.0), "cutmix_alpha"),
        (lambda: MixVideo(label_smoothing=1.0), "label_smoothing"),
        (lambda: MixVideo(num_classes=0), "num_classes"),
    ],
)
def test_bad_arguments_raise_value_error_at_construction(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


@pytest.mark.parametrize(
    "make, arg",
    [
        (lambda: MixUp(alpha="1"), "alpha"),
        (lambda: MixUp(num_classes=2.5), "num_classes"),
        (lambda: MixUp(label_smoothing=None), "label_smoothing"),
        (lambda: MixVideo(cutmix_prob="0.5"), "cutmix_prob"),
        (lambda: CutMix(generator=0), "generator"),
    ],
)
def test_bad_argument_types_raise_type_error(make, arg):
    with pytest.raises(TypeError, match=arg):
        make()


def test_bad_inputs_raise():
    x = _batch((4, 3, 2, 8, 8))
    with pytest.raises(ValueError, match="batch of at least 2"):
        MixUp(num_classes=3)(x[:1], torch.tensor([0]))
    with pytest.raises(ValueError, match="batch of at least 2"):
        CutMix(num_classes=3)(x[:1], torch.tensor([0]))
    with pytest.raises(ValueError, match="labels"):
        MixUp(num_classes=3)(x, torch.tensor([0, 1, 2, 3]))  # 3 is not a class
    with pytest.raises(ValueError, match="labels"):
        CutMix(num_classes=3)(x, torch.tensor([0, 1, -1, 2]))
    with pytest.raises(ValueError, match="labels"):
        MixUp(num_classes=3)(x, torch.tensor([0, 1, 2]))  # wrong length
    with pytest.raises(TypeError, match="labels"):
        MixUp(num_classes=3)(x, torch.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="x_video"):
        CutMix(num_classes=3)(torch.zeros(4, 8, 8), torch.tensor([0, 1, 2, 0]))


@pytest.mark.cuda
def test_cuda_matches_cpu():
    x, labels = _batch((4, 3, 4, 16, 16)), _labels(4, 5)
    for cls in (MixUp, CutMix, MixVideo):
        torch.manual_seed(1)
        vc, yc = cls(num_classes=5, label_smoothing=0.1)(x, labels)
        torch.manual_seed(1)
        vg, yg = cls(num_classes=5, label_smoothing=0.1)(x.cuda(), labels.cuda())
        assert vg.is_cuda and yg.is_cuda
        torch.testing.assert_close(vg.cpu(), vc, rtol=1e-6, atol=1e-4)
        torch.testing.assert_close(yg.cpu(), yc, rtol=0, atol=1e-6)


@pytest.mark.parametrize("cls", [MixUp, CutMix])
def test_non_contiguous_input_same_as_contiguous(cls):
    base = _batch((4, 6, 3, 10, 12))  # (B, T, C, H, W) viewed as (B, C, T, H, W)
    x = base.permute(0, 2, 1, 3, 4)
    assert not x.is_contiguous()
    labels = _labels(4, 5)
    torch.manual_seed(11)
    a = cls(num_classes=5)(x, labels)
    torch.manual_seed(11)
    b = cls(num_classes=5)(x.contiguous(), labels)
    torch.testing.assert_close(a[0], b[0], rtol=0, atol=0)
    torch.testing.assert_close(a[1], b[1], rtol=0, atol=0)
    # a sliced batch (every other sample) too
    xs = _batch((8, 3, 2, 6, 6))[::2]
    torch.manual_seed(12)
    c = cls(num_classes=5)(xs, labels)
    torch.manual_seed(12)
    d = cls(num_classes=5)(xs.contiguous(), labels)
    torch.testing.assert_close(c[0], d[0], rtol=0, atol=0)


def test_mixing_device_labels_reads_no_values():
    # On a device, reading the labels (their range check) would make the training step wait for the GPU; the
    # meta device has no values at all, so any read fails here. Out-of-range labels on a device fail in the
    # scatter instead, as torch's one_hot leaves them.
    video = torch.empty(4, 3, 2, 8, 8, device="meta")
    labels = torch.empty(4, dtype=torch.long, device="meta")
    for mix in (MixVideo(num_classes=5), MixUp(num_classes=5), CutMix(num_classes=5),
                MixVideo(num_classes=5, label_smoothing=0.1)):
        torch.manual_seed(0)
        out, target = mix(video, labels)
        assert out.shape == video.shape and target.shape == (4, 5) and target.device.type == "meta"
    assert convert_to_one_hot(labels, 5).shape == (4, 5)
    with pytest.raises(ValueError, match="class indices in"):  # on the CPU the range is still checked
        MixVideo(num_classes=5)(torch.zeros(4, 3, 2, 8, 8), torch.tensor([0, 1, 2, 5]))
