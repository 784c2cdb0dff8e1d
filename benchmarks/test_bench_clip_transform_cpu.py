"""Group "clip_transform-cpu": the fused CPU kernel against the unfused pipelines it replaces.

The scenario of issue #2: a 64-frame uint8 clip as decoded (T, H, W, 3); 8 frames kept (PyTorchVideo's
UniformTemporalSubsample), short side scaled to 288, a random 224 x 224 crop, a horizontal flip, /255
and Normalize(0.45, 0.225), output float32 (3, 8, 224, 224).

- fastvid: ``fastvid.ops.clip_transform`` on the decoded THWC uint8 clip with ``frame_indices``
  (one pass; nothing else is materialized).
- oracle: ``fastvid.reference.clip_transform`` on PyTorchVideo's input, the float32 (C, T, H, W) clip of
  values 0..255 holding all 64 frames (what its decoder returns): index_select, then one float op per
  step, as the tutorial's transforms compute.
- torchvision-v2: ``torchvision.transforms.v2`` on the 8 kept uint8 frames (T, C, H, W):
  Resize(288) -> RandomCrop(224) -> RandomHorizontalFlip(p=1) -> ToDtype(float32, scale=True) ->
  Normalize. Resize antialiases by default, so on the 1280x720 source (a downscale) it is paired with
  fastvid's ``antialias=True`` in a case of its own; on 340x256 (an upscale) antialias changes nothing.

Every case runs at 1 and 2 threads (torch.set_num_threads, restored after). Group "memory-cpu" measures
the copy bandwidth that the memory floor of the kernel is stated against (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import pytest
import torch

from fastvid import ops, reference

T_IN, T_OUT, SHORT, CROP = 64, 8, 288, 224
MEAN, STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)
SOURCES = {"340x256": (256, 340), "1280x720": (720, 1280)}
ROUNDS = {"fastvid": 200, "torchvision-v2": 30, "oracle": 5}


def source_bytes_needed(h: int, w: int, size, crop, antialias: bool, frames: int = T_OUT) -> int:
    """uint8 bytes of the source pixels that the output depends on (nonzero interpolation weight),
    found exactly by differentiating the oracle on one float frame."""
    frame = torch.zeros(3, 1, h, w, requires_grad=True)
    reference.clip_transform(frame, size=size, crop=crop, antialias=antialias).sum().backward()
    return int((frame.grad != 0).sum()) * frames


def _record(benchmark, *, role, case, impl, threads, shape, dtype="uint8", **extra):
    median = benchmark.stats.stats.median if benchmark.stats else None
    benchmark.extra_info.update(**extra)
    benchmark.extra_info.update(
        role=role,
        case=case,
        impl=impl,
        threads=threads,
        shape=shape,
        dtype=dtype,
        out="float32 (3, 8, 224, 224)",
        clips=1,
        clips_per_s=(1.0 / median) if median else None,
    )


@pytest.fixture(scope="module")
def clips():
    g = torch.Generator().manual_seed(0)
    out = {}
    for name, (h, w) in SOURCES.items():
        clip = torch.randint(0, 256, (T_IN, h, w, 3), dtype=torch.uint8, generator=g)  # as decoded
        out[name] = clip
    return out


@pytest.fixture
def threads_guard():
    old = torch.get_num_threads()
    yield
    torch.set_num_threads(old)


def _crop_draw(size):
    # RandomCrop's draws: one top and one left for the whole clip.
    top = int(torch.randint(0, size[0] - CROP + 1, (1,)))
    left = int(torch.randint(0, size[1] - CROP + 1, (1,)))
    return top, left


def _pipelines(clip, antialias):
    h, w = clip.shape[1], clip.shape[2]
    size = reference.short_side_scale_size(h, w, SHORT)
    idx = reference.uniform_temporal_subsample_indices(T_IN, T_OUT)

    def fastvid_fn():
        top, left = _crop_draw(size)
        return ops.clip_transform(
            clip, layout="THWC", frame_indices=idx, size=size, crop=(top, left, CROP, CROP), flip=True,
            mean=MEAN, std=STD, antialias=antialias,
        )

    ptv_input = clip.permute(3, 0, 1, 2).float()  # PyTorchVideo's decoder output: float32 C,T,H,W, 0..255

    def oracle_fn():
        top, left = _crop_draw(size)
        return reference.clip_transform(
            ptv_input, layout="CTHW", frame_indices=idx, size=size, crop=(top, left, CROP, CROP), flip=True,
            mean=MEAN, std=STD, antialias=antialias,
        )

    from torchvision.transforms import v2

    tv = v2.Compose(
        [
            v2.Resize(SHORT, antialias=antialias),
            v2.RandomCrop(CROP),
            v2.RandomHorizontalFlip(p=1.0),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(list(MEAN), list(STD)),
        ]
    )
    frames = clip.index_select(0, idx).permute(0, 3, 1, 2)  # the 8 kept uint8 frames, (T, C, H, W)

    def torchvision_fn():
        return tv(frames)

    return {"fastvid": fastvid_fn, "oracle": oracle_fn, "torchvision-v2": torchvision_fn}


# (source, antialias, impls): the pairs whose results are the same computation.
CASES = [
    ("340x256", False, ("fastvid", "oracle", "torchvision-v2")),
    ("1280x720", False, ("fastvid", "oracle")),
    ("1280x720", True, ("fastvid", "torchvision-v2")),
]
PARAMS = [
    pytest.param(src, aa, impl, threads, id=f"{src}-{'aa-' if aa else ''}{impl}-t{threads}")
    for src, aa, impls in CASES
    for threads in (1, 2)
    for impl in impls
]


@pytest.mark.benchmark(group="clip_transform-cpu")
@pytest.mark.parametrize("source,antialias,impl,threads", PARAMS)
def test_clip_transform_cpu(benchmark, clips, threads_guard, source, antialias, impl, threads):
    clip = clips[source]
    fn = _pipelines(clip, antialias)[impl]
    torch.manual_seed(1)
    out = fn()
    assert out.shape in ((3, T_OUT, CROP, CROP), (T_OUT, 3, CROP, CROP)) and out.dtype == torch.float32
    torch.set_num_threads(threads)
    rounds = ROUNDS[impl] if source == "340x256" or impl != "oracle" else 3
    benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)
    h, w = SOURCES[source]
    case = f"{w}x{h} T{T_IN}->{T_OUT} short{SHORT} crop{CROP} flip{' antialias' if antialias else ''}, threads={threads}"
    extra = {}
    if impl == "fastvid":
        # What the fused kernel must move at least: the source pixels the crop needs (8 frames, uint8,
        # crop at the middle of the resized frame) and the float32 output.
        size = reference.short_side_scale_size(h, w, SHORT)
        crop = ((size[0] - CROP) // 2, (size[1] - CROP) // 2, CROP, CROP)
        extra = dict(bytes_read=source_bytes_needed(h, w, size, crop, antialias), bytes_written=3 * T_OUT * CROP * CROP * 4)
    _record(
        benchmark,
        role="fastvid" if impl == "fastvid" else "baseline",
        case=case,
        impl=impl,
        threads=threads,
        shape=f"({T_IN}, {h}, {w}, 3) uint8 THWC" if impl != "oracle" else f"(3, {T_IN}, {h}, {w}) float32 CTHW",
        dtype="float32" if impl == "oracle" else "uint8",
        **extra,
    )


# --------------------------------------------------------------------------------------------------
# Copy bandwidth: the memory floor of the kernel is (bytes it must read + bytes it must write) / this.

COPIES = {
    # name: float32 elements; 4.8 MB is the kernel's float32 output (3 x 8 x 224 x 224), 256 MiB is
    # far past the caches (DRAM bandwidth).
    "4.8MB (output-sized)": 3 * 8 * 224 * 224,
    "256MiB": 64 * 2**20,
}


@pytest.mark.benchmark(group="memory-cpu")
@pytest.mark.parametrize("name", list(COPIES))
@pytest.mark.parametrize("threads", [1, 2])
def test_copy_bandwidth(benchmark, threads_guard, name, threads):
    n = COPIES[name]
    src = torch.rand(n)
    dst = torch.empty_like(src)
    torch.set_num_threads(threads)
    rounds = 100 if n < 2**24 else 10
    benchmark.pedantic(dst.copy_, args=(src,), rounds=rounds, iterations=1, warmup_rounds=1)
    assert torch.equal(dst, src)
    median = benchmark.stats.stats.median if benchmark.stats else None
    moved = 2 * n * 4  # read + write
    benchmark.extra_info.update(
        role="baseline",
        case=f"copy {name}, threads={threads}",
        impl="torch-copy_",
        threads=threads,
        shape=f"({n},) float32",
        bytes_moved=moved,
        gbytes_per_s=(moved / median / 1e9) if median else None,
    )
