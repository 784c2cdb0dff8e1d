"""Bad input to fastvid.ops.clip_transform: every check raises the documented ValueError / TypeError
naming the argument, and random bad argument combinations never crash or raise anything else."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastvid import ops, reference


def _video(t=4, h=20, w=30, c=3, layout="THWC", dtype=torch.uint8):
    shape = (t, h, w, c) if layout == "THWC" else (c, t, h, w)
    return torch.zeros(shape, dtype=dtype)


V = _video()

# (kwargs overriding the defaults, video, expected exception, message pieces)
BAD = [
    # layout
    (dict(layout="HWC"), V, ValueError, ['layout must be "CTHW" or "THWC"', "'HWC'"]),
    (dict(layout=3), V, ValueError, ["layout must be", "3"]),
    # video
    (dict(), [[1, 2]], TypeError, ["video must be a torch.Tensor", "list"]),
    (dict(), V.to(torch.int16), TypeError, ["video must be uint8 or float32", "Short"]),
    (dict(), V.double(), TypeError, ["video must be uint8 or float32", "Double"]),
    (dict(), V[0], ValueError, ["video must have 4 dimensions", "got 3"]),
    (dict(), V.unsqueeze(0), ValueError, ["video must have 4 dimensions", "got 5"]),
    (dict(layout="CTHW"), _video(t=8), ValueError, ["1 to 4 channels", "got 8", "is the layout right?"]),
    (dict(), _video(c=5), ValueError, ["1 to 4 channels", "got 5"]),
    (dict(), _video(c=0), ValueError, ["1 to 4 channels", "got 0"]),
    (dict(), _video(t=0), ValueError, ["at least one frame of at least 1x1 pixels", "[0, 20, 30, 3]"]),
    (dict(), _video(h=0), ValueError, ["at least one frame of at least 1x1 pixels"]),
    (dict(layout="CTHW"), _video(w=0, layout="CTHW"), ValueError, ["at least one frame"]),
    # frame_indices
    (dict(frame_indices=torch.tensor([0.0, 1.0])), V, TypeError, ["frame_indices must be int64 or int32", "Float"]),
    (dict(frame_indices=torch.tensor([True])), V, TypeError, ["frame_indices must be int64 or int32", "Bool"]),
    (dict(frame_indices=torch.zeros(2, 2, dtype=torch.long)), V, ValueError, ["frame_indices must be 1-D", "[2, 2]"]),
    (dict(frame_indices=torch.zeros(0, dtype=torch.long)), V, ValueError, ["frame_indices must not be empty"]),
    (dict(frame_indices=[]), V, ValueError, ["frame_indices must not be empty"]),
    (dict(frame_indices=[0, 4]), V, ValueError, ["frame_indices[1] = 4 is out of range for a clip of 4 frames"]),
    (dict(frame_indices=[-1]), V, ValueError, ["frame_indices[0] = -1 is out of range"]),
    (dict(frame_indices=torch.tensor([2, 2**40])), V, ValueError, ["frame_indices[1] = 1099511627776 is out of range"]),
    (dict(frame_indices=[0.5, 1]), V, TypeError, ["frame_indices must be a 1-D tensor or a sequence of ints"]),
    (dict(frame_indices=[True]), V, TypeError, ["frame_indices must be a 1-D tensor or a sequence of ints"]),
    (dict(frame_indices=3), V, TypeError, ["frame_indices must be a 1-D tensor or a sequence of ints", "3"]),
    (dict(frame_indices="01"), V, TypeError, ["frame_indices must be"]),
    (dict(frame_indices=[2**64]), V, ValueError, ["frame_indices values must fit in int64"]),
    # size
    (dict(size=(10,)), V, ValueError, ["size must have 2 values, got 1"]),
    (dict(size=(10, 10, 3)), V, ValueError, ["size must have 2 values, got 3"]),
    (dict(size=10), V, TypeError, ["size must be a sequence of 2 ints", "10"]),
    (dict(size="ab"), V, TypeError, ["size must be a sequence of 2 ints"]),
    (dict(size=(10.0, 12)), V, TypeError, ["size must hold ints"]),
    (dict(size=(True, 12)), V, TypeError, ["size must hold ints"]),
    (dict(size=(0, 12)), V, ValueError, ["size must be positive (height, width)", "[0, 12]"]),
    (dict(size=(12, -3)), V, ValueError, ["size must be positive", "[12, -3]"]),
    (dict(size=(2**63, 1)), V, ValueError, ["size values must fit in int64"]),
    # crop
    (dict(crop=(0, 0, 5)), V, ValueError, ["crop must have 4 values, got 3"]),
    (dict(crop=None, size=None, frame_indices=None, flip=1.5), V, None, []),  # flip is truthiness: no error
    (dict(crop=(0, 0, 0, 5)), V, ValueError, ["crop height and width must be positive", "[0, 0, 0, 5]"]),
    (dict(crop=(0, 0, 5, -1)), V, ValueError, ["crop height and width must be positive"]),
    (dict(crop=(0, 0, 21, 5)), V, ValueError, ["crop [0, 0, 21, 5] (top, left, height, width) does not fit the resized frame 20x30"]),
    (dict(crop=(16, 0, 5, 5)), V, ValueError, ["does not fit the resized frame 20x30"]),
    (dict(crop=(0, 26, 5, 5)), V, ValueError, ["does not fit the resized frame 20x30"]),
    (dict(crop=(-1, 0, 5, 5)), V, ValueError, ["does not fit the resized frame"]),
    (dict(crop=(0, -2, 5, 5)), V, ValueError, ["does not fit the resized frame"]),
    (dict(size=(40, 50), crop=(30, 0, 11, 5)), V, ValueError, ["does not fit the resized frame 40x50"]),
    (dict(crop=(2**62, 0, 2**62, 5)), V, ValueError, ["does not fit the resized frame"]),
    (dict(crop=[0, 0, "5", 5]), V, TypeError, ["crop must hold ints"]),
    # out_dtype and normalization
    (dict(out_dtype=torch.float64), V, TypeError, ["out_dtype must be float32, bfloat16, float16 or uint8", "Double"]),
    (dict(out_dtype=torch.int32), V, TypeError, ["out_dtype must be float32, bfloat16, float16 or uint8"]),
    (dict(out_dtype="float32"), V, TypeError, ["out_dtype must be a torch.dtype", "'float32'"]),
    (dict(out_dtype=torch.uint8), V, ValueError, ["out_dtype uint8 needs scale, mean and std all None"]),
    (dict(out_dtype=torch.uint8, mean=None, std=None), V, ValueError, ["out_dtype uint8 needs scale, mean and std"]),
    (dict(scale=float("nan")), V, ValueError, ["scale must be finite, got nan"]),
    (dict(scale=float("inf")), V, ValueError, ["scale must be finite, got inf"]),
    (dict(scale="1/255"), V, TypeError, ["scale must be a number or None"]),
    (dict(scale=True), V, TypeError, ["scale must be a number or None"]),
    (dict(mean=(0.5, 0.5)), V, ValueError, ["mean must have 3 values (one per channel), got 2"]),
    (dict(std=(0.5,) * 4), V, ValueError, ["std must have 3 values (one per channel), got 4"]),
    (dict(mean=0.5), V, TypeError, ["mean must be a sequence with one value per channel", "0.5"]),
    (dict(std="0.5"), V, TypeError, ["std must be a sequence with one value per channel"]),
    (dict(mean=(0.5, None, 0.5)), V, TypeError, ["mean must be a sequence of numbers"]),
    (dict(mean=(0.5, float("nan"), 0.5)), V, ValueError, ["mean must be finite, got nan for channel 1"]),
    (dict(std=(0.2, 0.2, 0.0)), V, ValueError, ["std must be finite and non-zero, got 0 for channel 2"]),
    (dict(std=(float("inf"), 0.2, 0.2)), V, ValueError, ["std must be finite and non-zero, got inf for channel 0"]),
    (dict(std=None, mean=None, scale=None, out_dtype=torch.uint8), _video(c=1), None, []),  # valid: gray uint8
    (dict(mean=[0.1], std=[0.2]), _video(c=1), None, []),  # valid: one value per channel
    (dict(mean=[0.1], std=[0.2]), V, ValueError, ["mean must have 3 values (one per channel), got 1"]),
]


@pytest.mark.parametrize("kw,video,exc,pieces", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_argument(kw, video, exc, pieces):
    kw = {"layout": "THWC", **kw}
    if exc is None:
        out = ops.clip_transform(video, **kw)
        assert out.dim() == 4
        return
    with pytest.raises(exc) as info:
        ops.clip_transform(video, **kw)
    msg = str(info.value)
    assert msg.startswith("clip_transform: ") or "clip_transform: " in msg, msg
    for piece in pieces:
        assert piece in msg, f"{piece!r} not in {msg!r}"


def test_errors_from_the_raw_op_too():
    # The C++ checks stand on their own (a caller may reach torch.ops.fastvid.clip_transform directly).
    op = torch.ops.fastvid.clip_transform
    with pytest.raises(ValueError, match="layout must be"):
        op(V, "TCHW", None, None, None, False, None, None, None, False, torch.float32)
    with pytest.raises(ValueError, match="size must be \\(height, width\\)"):
        op(V, "THWC", None, [5], None, False, None, None, None, False, torch.float32)
    with pytest.raises(ValueError, match="crop must be \\(top, left, height, width\\)"):
        op(V, "THWC", None, None, [1, 2], False, None, None, None, False, torch.float32)
    with pytest.raises(ValueError, match="frame_indices\\[0\\] = 9 is out of range"):
        op(V, "THWC", torch.tensor([9]), None, None, False, None, None, None, False, torch.float32)


# --------------------------------------------------------------------------------------------------
# Random argument combinations, mostly bad: only ValueError / TypeError may come out, and whenever the
# op succeeds the output has the shape the arguments ask for.

_huge = st.sampled_from([2**31, 2**40, -(2**40), 2**62])
_ints = st.one_of(st.integers(-3, 12), _huge)
_floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32), st.sampled_from([0.0, -0.0, 1.0, 0.225])
)


@st.composite
def _valid(draw):
    """A valid argument set on a small random clip."""
    layout = draw(st.sampled_from(["THWC", "CTHW"]))
    c, t, h, w = draw(st.integers(1, 4)), draw(st.integers(1, 5)), draw(st.integers(1, 9)), draw(st.integers(1, 9))
    dtype = draw(st.sampled_from([torch.uint8, torch.float32]))
    shape = (t, h, w, c) if layout == "THWC" else (c, t, h, w)
    video = torch.randint(0, 256, shape).to(dtype)
    if draw(st.booleans()):  # a strided view of the same logical clip
        video = video.transpose(1, 2).contiguous().transpose(1, 2)
    kw = dict(layout=layout, flip=draw(st.booleans()), antialias=draw(st.booleans()))
    kw["frame_indices"] = draw(st.one_of(st.none(), st.lists(st.integers(0, t - 1), min_size=1, max_size=6)))
    size = (draw(st.integers(1, 12)), draw(st.integers(1, 12))) if draw(st.booleans()) else None
    kw["size"] = size
    fh, fw = size if size is not None else (h, w)
    if draw(st.booleans()):
        ch, cw = draw(st.integers(1, fh)), draw(st.integers(1, fw))
        kw["crop"] = [draw(st.integers(0, fh - ch)), draw(st.integers(0, fw - cw)), ch, cw]
    else:
        kw["crop"] = None
    if draw(st.booleans()):
        kw.update(scale=None, mean=None, std=None, out_dtype=torch.uint8)
    else:
        kw["scale"] = draw(st.one_of(st.none(), st.floats(-10, 10)))
        kw["mean"] = draw(st.one_of(st.none(), st.lists(st.floats(-1, 1), min_size=c, max_size=c)))
        kw["std"] = draw(st.one_of(st.none(), st.lists(st.floats(0.1, 2), min_size=c, max_size=c)))
        kw["out_dtype"] = draw(st.sampled_from([torch.float32, torch.bfloat16, torch.float16]))
    return video, kw


_BAD_VALUES = {
    "video": st.one_of(
        st.builds(lambda s: torch.zeros(s, dtype=torch.uint8), st.lists(st.integers(0, 6), min_size=0, max_size=6)),
        st.sampled_from([torch.zeros(2, 2, 2, 3, dtype=torch.float64), torch.zeros(1, 2, 2, 3, dtype=torch.int32),
                         torch.zeros(1, 2, 2, 3, dtype=torch.bool), None, [1, 2, 3]]),
    ),
    "layout": st.sampled_from(["HWC", "", "thwc", None, 4]),
    "frame_indices": st.one_of(
        st.lists(_ints, max_size=4),
        st.builds(torch.tensor, st.lists(st.integers(-2, 8), min_size=1, max_size=4)),
        st.sampled_from([torch.zeros(2, 2, dtype=torch.long), torch.tensor([0.0]), torch.tensor([True]), "0", 3, [0.5]]),
    ),
    "size": st.one_of(st.lists(_ints, max_size=3), st.sampled_from(["ab", 7, (1.5, 2), (True, 2), (2**64, 1)])),
    "crop": st.one_of(st.lists(_ints, min_size=3, max_size=5), st.sampled_from(["abcd", 4, (0, 0, 1.0, 1)])),
    "scale": st.one_of(_floats, st.sampled_from(["x", True, [1.0]])),
    "mean": st.one_of(st.lists(_floats, max_size=5), st.sampled_from([0.5, "abc", [None]])),
    "std": st.one_of(st.lists(_floats, max_size=5), st.sampled_from([0.5, "abc", [0.0, 0.0, 0.0]])),
    "out_dtype": st.sampled_from([torch.float64, torch.int64, torch.uint8, torch.bool, "float32", None]),
}


@st.composite
def _argsets(draw):
    """A valid argument set with one to three arguments replaced by random (mostly bad) values."""
    video, kw = draw(_valid())
    for name in draw(st.lists(st.sampled_from(sorted(_BAD_VALUES)), min_size=1, max_size=3, unique=True)):
        value = draw(_BAD_VALUES[name])
        if name == "video":
            video = value
        else:
            kw[name] = value
    if isinstance(kw["size"], list) and any(abs(v) > 1000 for v in kw["size"]) and kw["crop"] is None:
        # A huge resized frame is fine (only the crop is computed), but a huge output is the
        # allocator's honest out-of-memory error, not a bad argument: keep the output small.
        kw["crop"] = [0, 0, 3, 4]
    return video, kw


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_argsets())
def test_random_bad_arguments_raise_only_value_or_type_errors(argset):
    video, kw = argset
    try:
        out = ops.clip_transform(video, **kw)
    except (ValueError, TypeError) as exc:
        assert "clip_transform: " in str(exc)
        return
    _check_output(video, kw, out)


@settings(max_examples=150, deadline=None)
@given(_valid())
def test_random_valid_arguments_match_the_oracle(argset):
    video, kw = argset
    out = ops.clip_transform(video, **kw)
    _check_output(video, kw, out)
    want = reference.clip_transform(video, **kw)
    if out.dtype == torch.uint8:
        assert (out.int() - want.int()).abs().max() <= 1
    else:
        tol = {torch.float32: 1e-4, torch.bfloat16: 2.0**-7, torch.float16: 2.0**-10}[out.dtype]
        scale = max(1.0, want.float().abs().max().item())
        torch.testing.assert_close(out.float(), want.float(), rtol=0, atol=tol * scale)


def _check_output(video, kw, out):
    thwc = kw["layout"] == "THWC"
    c = video.shape[3] if thwc else video.shape[0]
    t = len(kw["frame_indices"]) if kw["frame_indices"] is not None else (video.shape[0] if thwc else video.shape[1])
    if kw["crop"] is not None:
        hw = tuple(kw["crop"][2:])
    elif kw["size"] is not None:
        hw = tuple(kw["size"])
    else:
        hw = tuple(video.shape[1:3]) if thwc else tuple(video.shape[2:4])
    assert out.shape == (c, t) + hw
    assert out.dtype == kw["out_dtype"] and out.is_contiguous()


def test_a_clip_that_needs_a_gradient_is_refused_not_silently_cut_off():
    # The kernels have no backward: without this check the output would carry a grad_fn whose backward only
    # warns, and the clip's gradient would stay None.
    x = torch.rand(3, 4, 10, 12, requires_grad=True)
    with pytest.raises(ValueError, match=r"clip_transform: the clip requires grad.*fastvid.reference.clip_transform"):
        ops.clip_transform(x, size=(8, 8))
    with pytest.raises(ValueError, match=r"clip_transform_batch: the clip requires grad"):
        ops.clip_transform_batch([x.detach(), x], sizes=(8, 8))
    with pytest.raises(ValueError, match=r"clip_transform_batch: the clip requires grad"):
        ops.clip_transform_batch(ops.PackedClips(x.reshape(-1), torch.tensor([0]), torch.tensor([[3, 4, 10, 12]]),
                                                 torch.tensor([[480, 120, 12, 1]])))
    with torch.no_grad():
        out = ops.clip_transform(x, size=(8, 8))
    assert not out.requires_grad
    torch.testing.assert_close(out, reference.clip_transform(x.detach(), size=(8, 8)), atol=1e-4, rtol=0)
    assert not ops.clip_transform(x.detach(), size=(8, 8)).requires_grad


# --- found by fuzzing: arguments that used to give garbage, a hang or an unhelpful error --------------------------


def test_a_meta_argument_beside_a_real_clip_is_refused_not_answered_with_garbage():
    v = torch.randint(0, 256, (3, 4, 10, 12), dtype=torch.uint8)
    with pytest.raises(ValueError, match="meta tensor"):
        ops.clip_transform(v, frame_indices=torch.tensor([0, 1], device="meta"))
    with pytest.raises(ValueError, match="meta tensor"):
        ops.clip_transform_batch([v, v], sizes=(6, 6), flips=torch.tensor([1, 0], device="meta").bool())
    meta = torch.empty(3, 4, 10, 12, dtype=torch.uint8, device="meta")  # all on meta: shapes only, as before
    assert ops.clip_transform(meta, frame_indices=torch.tensor([0, 1], device="meta")).shape == (3, 2, 10, 12)


def test_normalization_factors_must_be_finite_in_float32():
    v = torch.randint(0, 256, (3, 2, 8, 8), dtype=torch.uint8)
    for std in ([1e-40] * 3, [1e-300] * 3):
        with pytest.raises(ValueError, match=r"std\[0\] .* too close to 0"):
            ops.clip_transform(v, std=std)
        with pytest.raises(ValueError, match=r"std\[0\] .* too close to 0"):
            ops.clip_transform_batch([v], std=std)
    ops.clip_transform(v, std=[1e-30] * 3)  # large but finite factors are fine


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(sizes=[[5, -5], [5, -5]]), ValueError, r"clip 0: size must be positive .* \(sizes\)"),
    (dict(sizes=torch.ones(2, 2, dtype=torch.bool)), TypeError, "sizes must hold ints"),
    (dict(frame_indices=3), TypeError, "frame_indices must be ints"),
    (dict(frame_indices=["ab", "cd"]), TypeError, "frame_indices must be ints"),
    (dict(scale="x"), TypeError, "scale must be a number"),
    (dict(scale=True), TypeError, "scale must be a number"),
    (dict(scale=10**400), ValueError, "scale must be a finite number"),
    (dict(flips="no"), TypeError, "flips must be a bool"),
    (dict(antialias="no"), TypeError, "antialias must be a bool"),
])
def test_batch_argument_errors_name_the_argument(kwargs, exc, match):
    v = torch.zeros(3, 2, 8, 8, dtype=torch.uint8)
    with pytest.raises(exc, match=match):
        ops.clip_transform_batch([v, v], **kwargs)


def test_single_clip_argument_types():
    v = torch.zeros(3, 2, 8, 8, dtype=torch.uint8)
    with pytest.raises(TypeError, match="flip must be a bool"):
        ops.clip_transform(v, flip="no")
    with pytest.raises(ValueError, match="scale must be a finite number"):
        ops.clip_transform(v, scale=10**400)
    with pytest.raises(TypeError, match="dense"):
        ops.clip_transform(v.float().to_sparse())
    # 0-d tensors in a frame list are ints
    ref = ops.clip_transform_batch([v, v], frame_indices=[1, 0])
    assert torch.equal(ops.clip_transform_batch([v, v], frame_indices=[torch.tensor(1), torch.tensor(0)]), ref)


def test_a_float_clip_at_an_odd_byte_offset_is_read_correctly():
    raw = bytearray(4 * 210 + 8)
    src = torch.rand(210) * 255
    torch.frombuffer(raw, dtype=torch.uint8)[1:1 + 840].copy_(src.view(torch.uint8))
    v = torch.frombuffer(raw, dtype=torch.float32, offset=1, count=210).view(3, 2, 5, 7)
    assert v.data_ptr() % 4 != 0
    torch.testing.assert_close(ops.clip_transform(v, size=(4, 6)), reference.clip_transform(src.view(3, 2, 5, 7), size=(4, 6)),
                               atol=1e-4, rtol=0)


def test_packed_clips_refuse_bad_alignment_and_negative_shapes():
    v = torch.zeros(3, 2, 8, 8, dtype=torch.uint8)
    for align in (0, -1, 1.5):
        with pytest.raises(ValueError, match="align must be a positive int"):
            ops.PackedClips.pack([v], align=align)
    p = ops.PackedClips.pack([v, v])
    with pytest.raises(ValueError, match="shapes must not be negative"):
        ops.PackedClips(p.buffer, p.offsets, torch.tensor([[3, -2, 8, 8], [3, 2, 8, 8]]), p.strides)


def test_compiled_float_clips_and_none_flags():
    v = torch.rand(3, 4, 16, 16)

    @torch.compile(fullgraph=True, backend="eager")
    def f(x):
        return ops.clip_transform(x, size=(12, 12), crop=(0, 0, 8, 8))

    torch.testing.assert_close(f(v), ops.clip_transform(v, size=(12, 12), crop=(0, 0, 8, 8)))
    assert torch.equal(ops.clip_transform(v, flip=None, antialias=None), ops.clip_transform(v))
    assert torch.equal(ops.clip_transform_batch([v], flips=None, antialias=None), ops.clip_transform_batch([v]))
