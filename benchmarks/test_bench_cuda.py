"""Group "clip_transform-cuda" (issue #5): the batched CUDA op against torchvision v2 on GPU tensors.

A batch of B = 64 decoded clips of 8 frames (uint8, (C, T, H, W) views of THWC frames in one packed
device buffer, as ``collate_clips`` + ``.to("cuda")`` make it), from 256x340 or from 1280x720 sources,
each with its own RandomShortSideScale(256, 320) size, random 224 x 224 crop and flip (drawn once with
:class:`fastvid.gpu.BatchClipTransform`), /255 + Normalize, out (64, 3, 8, 224, 224) float32 or bfloat16.

- fastvid: ``fastvid.ops.clip_transform_batch`` on the packed buffer: one launch.
- torchvision-v2: ``torchvision.transforms.v2.functional`` clip by clip on the GPU views, in the fast
  order (resize the uint8 frames, crop, flip, to_dtype(float32, scale=True), normalize, to out dtype),
  then ``torch.stack``; antialias off, as fastvid's (PyTorchVideo's) default.
- torchvision-v2+compile: the same per-clip function under ``torch.compile(dynamic=True)`` (skipped, with
  the reason, if it does not compile).

Each timed call runs the batch ITERS times back to back and synchronizes: clips/s = B * ITERS / time.
For fastvid, ``device_GBps`` is the device-side rate measured with CUDA events while the host runs ahead
(the stream first sleeps, so the launches queue up): bytes = the source pixels the crops need (uint8,
counted at element level from the interpolation taps) + the output written; ``copy_GBps`` is the card's
device-to-device copy bandwidth (read + write) measured in the same run, and ``frac_of_copy`` their
ratio (bar: >= 0.5). ``wall_GBps`` is the same bytes over the wall time (includes host-side work).

Case "h2d": host-to-device cost of the same 256x340 batch as pinned uint8 (fastvid's path) vs pinned
float32 (a CPU-transformed pipeline ships float32 clips; here the decoded clips as float, 4x the bytes).

Skipped without CUDA. Run on the GPU machine with benchmarks/run_gpu.sh.
"""

from __future__ import annotations

import pytest
import torch

from fastvid import ops
from fastvid.gpu import BatchClipTransform
from fastvid.ops import PackedClips

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (run benchmarks/run_gpu.sh on a GPU machine)"),
]

B, T, CROP = 64, 8, 224
MEAN, STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)
SOURCES = {"256x340": (256, 340), "1280x720": (720, 1280)}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
ITERS = 5
ROUNDS = {"fastvid": 20, "torchvision-v2": 5, "torchvision-v2+compile": 5}


def _read_positions(in_size: int, out_size: int, start: int, length: int) -> int:
    """How many distinct source positions bilinear (align_corners=False, no antialias) reads for out
    positions start .. start + length - 1 (the same formula as compute_axis_taps)."""
    if in_size == out_size:
        return length
    o = torch.arange(start, start + length, dtype=torch.float32)
    src = (torch.tensor(in_size / out_size, dtype=torch.float32) * (o + 0.5) - 0.5).clamp_min(0)
    i0 = src.floor().long().clamp_max(in_size - 1)
    i1 = (i0 + 1).clamp_max(in_size - 1)
    return int(torch.unique(torch.cat([i0, i1])).numel())


def _bytes(shape_hw, sizes, crops, out_dtype) -> tuple[int, int]:
    """(uint8 source bytes the crops need, output bytes written) for the batch."""
    h, w = shape_hw
    read = 0
    for b in range(sizes.shape[0]):
        rows = _read_positions(h, int(sizes[b, 0]), int(crops[b, 0]), CROP)
        cols = _read_positions(w, int(sizes[b, 1]), int(crops[b, 1]), CROP)
        read += 3 * T * rows * cols
    written = sizes.shape[0] * 3 * T * CROP * CROP * torch.empty((), dtype=out_dtype).element_size()
    return read, written


@pytest.fixture(scope="module")
def copy_gbps():
    """Device copy bandwidth (bytes read + written per second) of a 1 GiB float32 copy."""
    src = torch.empty(2**28, dtype=torch.float32, device="cuda").uniform_()
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    reps = 20
    for _ in range(reps):
        dst.copy_(src)
    end.record()
    end.synchronize()
    seconds = start.elapsed_time(end) / 1e3 / reps
    return 2 * src.numel() * 4 / seconds / 1e9


@pytest.fixture(scope="module")
def batches():
    """Per source: the packed device batch and the drawn per-clip parameters."""
    out = {}
    for name, (h, w) in SOURCES.items():
        clip_elems = 3 * T * h * w
        stride = (clip_elems + 63) // 64 * 64
        buffer = torch.randint(0, 256, (B * stride,), dtype=torch.uint8, device="cuda")
        packed = PackedClips(
            buffer,
            torch.arange(B, dtype=torch.long) * stride,
            torch.tensor([[3, T, h, w]] * B, dtype=torch.long),
            torch.tensor([[1, h * w * 3, w * 3, 3]] * B, dtype=torch.long),  # THWC frames, CTHW view
        )
        transform = BatchClipTransform(crop_size=CROP, min_size=256, max_size=320, generator=torch.Generator().manual_seed(0))
        sizes, crops, flips = transform.draw_params([(h, w)] * B)
        out[name] = (packed, sizes, crops, flips)
    return out


def _tv_clip(x, size, crop, flip: bool, out_dtype):
    from torchvision.transforms.v2 import functional as TF

    x = TF.resize(x, [size[0], size[1]], antialias=False)
    x = TF.crop(x, crop[0], crop[1], crop[2], crop[3])
    if flip:
        x = TF.horizontal_flip(x)
    x = TF.to_dtype(x, torch.float32, scale=True)
    x = TF.normalize(x, list(MEAN), list(STD))
    return x.permute(1, 0, 2, 3).to(out_dtype)


def _device_seconds(fn, n: int) -> float:
    """Device time per call: the stream sleeps while the host queues n calls, then runs them back to back."""
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda._sleep(100_000_000)
    start.record()
    for _ in range(n):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / 1e3 / n


PARAMS = [
    pytest.param(src, dt, impl, id=f"{src}-{dt}-{impl}")
    for src in SOURCES
    for dt in DTYPES
    for impl in ("fastvid", "torchvision-v2", "torchvision-v2+compile")
]


@pytest.mark.benchmark(group="clip_transform-cuda")
@pytest.mark.parametrize("source,dtype_name,impl", PARAMS)
def test_clip_transform_cuda(benchmark, batches, copy_gbps, source, dtype_name, impl):
    packed, sizes, crops, flips = batches[source]
    out_dtype = DTYPES[dtype_name]
    views = [c.permute(1, 0, 2, 3) for c in packed.clips()]  # (T, C, H, W) uint8 views for torchvision
    size_l, crop_l, flip_l = sizes.tolist(), crops.tolist(), [bool(f) for f in flips]

    def fastvid_once():
        return ops.clip_transform_batch(packed, sizes=sizes, crops=crops, flips=flips, out_dtype=out_dtype)

    clip_fn = _tv_clip
    if impl == "torchvision-v2+compile":
        clip_fn = torch.compile(_tv_clip, dynamic=True)

    def tv_once():
        return torch.stack([clip_fn(v, size_l[b], crop_l[b], flip_l[b], out_dtype) for b, v in enumerate(views)])

    once = fastvid_once if impl == "fastvid" else tv_once
    try:
        out = once()  # warm-up (compiles)
    except Exception as exc:  # noqa: BLE001 - torch.compile may not handle it: say so, do not fail the run
        if impl == "torchvision-v2+compile":
            pytest.skip(f"torch.compile of the torchvision v2 pipeline failed: {type(exc).__name__}: {str(exc)[:300]}")
        raise
    torch.cuda.synchronize()
    assert out.shape == (B, 3, T, CROP, CROP) and out.dtype == out_dtype and out.is_cuda
    if impl == "fastvid":
        ref = torch.stack([_tv_clip(v, size_l[b], crop_l[b], flip_l[b], torch.float32) for b, v in enumerate(views[:4])])
        # torchvision resizes the uint8 frames (rounding to uint8 before normalizing): within a level.
        assert (out[:4].float() - ref).abs().max().item() < 1.5 / 255 / min(STD) + 0.02

    def run():
        for _ in range(ITERS):
            once()
        torch.cuda.synchronize()

    benchmark.pedantic(run, rounds=ROUNDS[impl], iterations=1, warmup_rounds=1)
    median = benchmark.stats.stats.median if benchmark.stats else None
    h, w = SOURCES[source]
    read, written = _bytes((h, w), sizes, crops, out_dtype)
    info = dict(
        role="fastvid" if impl == "fastvid" else "baseline",
        case=f"B={B} {w}x{h} T{T} short256-320 crop{CROP} flip -> {dtype_name}",
        impl=impl,
        shape=f"{B} x (3, {T}, {h}, {w}) uint8 THWC views, packed on device",
        dtype=f"uint8 -> {dtype_name}",
        clips=B,
        iterations_per_call=ITERS,
        clips_per_s=(B * ITERS / median) if median else None,
        bytes_read=read,
        bytes_written=written,
        copy_GBps=copy_gbps,
        device=torch.cuda.get_device_name(0),
    )
    if median:
        info["wall_GBps"] = (read + written) * ITERS / median / 1e9
    if impl == "fastvid" and median:
        seconds = _device_seconds(fastvid_once, 20)
        info["device_ms_per_batch"] = seconds * 1e3
        info["device_GBps"] = (read + written) / seconds / 1e9
        info["frac_of_copy"] = info["device_GBps"] / copy_gbps
    benchmark.extra_info.update(info)


@pytest.mark.benchmark(group="clip_transform-cuda")
@pytest.mark.parametrize("dtype_name", ["uint8", "float32"])
def test_host_to_device(benchmark, dtype_name):
    h, w = SOURCES["256x340"]
    dtype = torch.uint8 if dtype_name == "uint8" else torch.float32
    g = torch.Generator().manual_seed(0)
    host = torch.randint(0, 256, (B * 3 * T * h * w,), dtype=torch.uint8, generator=g).to(dtype).pin_memory()

    def run():
        host.to("cuda", non_blocking=True)
        torch.cuda.synchronize()

    run()
    benchmark.pedantic(run, rounds=20, iterations=1, warmup_rounds=2)
    median = benchmark.stats.stats.median if benchmark.stats else None
    nbytes = host.numel() * host.element_size()
    benchmark.extra_info.update(
        role="fastvid" if dtype_name == "uint8" else "baseline",
        case=f"h2d B={B} {w}x{h} T{T} pinned",
        impl=f"{dtype_name} pinned",
        shape=f"{B} x (3, {T}, {h}, {w}) {dtype_name}",
        dtype=dtype_name,
        clips=B,
        bytes=nbytes,
        clips_per_s=(B / median) if median else None,
        h2d_GBps=(nbytes / median / 1e9) if median else None,
        device=torch.cuda.get_device_name(0),
    )
