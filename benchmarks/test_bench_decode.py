"""decode-cpu: one random 2 s clip keeping 8 frames, from 10 s 340x256 H.264 videos (GOP 250 and 32), and
from a 5 minute one (GOP 32).

fastvid (frame-index decoding: seek to the keyframe, skip unneeded non-reference frames, stop after the
last kept frame, convert only the 8 kept frames, uint8) vs PyTorchVideo-style decoding (written here as
PyTorchVideo's EncodedVideoPyAV does it: read the file, seek 1024 pts early, decode the window, every frame
to RGB, stack, float32, then UniformTemporalSubsample) vs decord when it is installed. Each clip opens the
video (a random-clip dataset opens one video per clip). Decoder threads: 1 for every implementation, and
torch runs on 1 thread, as inside a DataLoader worker; one more case (GOP 32) leaves the decoder threads at each
library's default, as in a main process (PyAV's / FFmpeg's automatic thread count, decord's ``num_threads=0``).
There "fastvid-no-drain" is fastvid feeding the decoder the packets after the last kept frame until it gives
that frame up (what it did before ``EncodedVideoPyAV.drain_after_last_kept``).

Every video is also read by fastvid with the whole-video packet index built on open ("fastvid-full-index":
what every clip of a fresh open got before the first clip of an open video was indexed around its window only
and decoded from the packets that index read, ``EncodedVideoPyAV.window_index_first_clip``; on the 5 minute
video, what it got before videos longer than ``window_index_after_sec`` were indexed around each clip): the
cost of demuxing the whole file on every open. With timings off (CI's smoke run) the long video is 12 s, to keep
the run short.
"""

from __future__ import annotations

import io
import math
import random
from fractions import Fraction

import av
import pytest
import torch

from fastvid.data import EncodedVideo

from _video_cache import bench_video

CLIP_S = 2
KEEP = 8
ROUNDS = 20


def _starts(duration: float, n: int = 64, seed: int = 0) -> list[Fraction]:
    rng = random.Random(seed)
    return [Fraction(rng.uniform(0, duration - CLIP_S)) for _ in range(n)]


class _Cycle:
    def __init__(self, items):
        self.items, self.i = items, 0

    def next(self):
        x = self.items[self.i % len(self.items)]
        self.i += 1
        return x


def pytorchvideo_style_clip(path: str, start: Fraction, end: Fraction, num_samples: int, stats: dict,
                            threads: int | None = 1) -> torch.Tensor:
    """PyTorchVideo 0.1.5's EncodedVideoPyAV.get_clip + UniformTemporalSubsample, step by step (PyTorchVideo
    leaves the decoder threads at PyAV's default: ``threads=None``)."""
    with open(path, "rb") as fh:
        data = io.BytesIO(fh.read())
    container = av.open(data)
    try:
        stream = container.streams.video[0]
        if threads is not None:
            stream.codec_context.thread_count = threads
        tb, sp = stream.time_base, stream.start_time or 0
        start_pts = math.ceil(start / tb) + sp
        end_pts = math.ceil(end / tb) + sp
        container.seek(int(max(start_pts - 1024, 0)), any_frame=False, backward=True, stream=stream)
        frames = {}
        decoded = 0
        for frame in container.decode(stream):
            decoded += 1
            if start_pts <= frame.pts < end_pts:
                frames[frame.pts] = frame
            elif frame.pts >= end_pts:
                break
        rgb = [(torch.from_numpy(frames[p].to_rgb().to_ndarray()), p) for p in sorted(frames)]
        video = torch.stack([f for f, _ in rgb]).permute(3, 0, 1, 2).to(torch.float32)
    finally:
        container.close()
    t = video.shape[1]
    idx = torch.clamp(torch.linspace(0, t - 1, num_samples), 0, t - 1).long()
    stats["decoded"] += decoded
    stats["clips"] += 1
    return torch.index_select(video, 1, idx)


def fastvid_clip(path: str, start: Fraction, end: Fraction, num_samples: int, stats: dict,
                 threads: int | None = 1) -> torch.Tensor:
    with EncodedVideo.from_path(path, decode_audio=False, threads=threads) as v:
        out = v.get_clip_frames(start, end, num_samples)["video"]
        stats["decoded"] += v.last_decode_stats["frames_decoded"]
        stats["clips"] += 1
    return out


def decord_clip(path: str, start: Fraction, end: Fraction, num_samples: int, stats: dict,
                threads: int | None = 1) -> torch.Tensor:
    import decord

    vr = decord.VideoReader(path, num_threads=0 if threads is None else threads)
    fps = vr.get_avg_fps()
    first, last = math.ceil(start * fps), min(math.ceil(end * fps), len(vr))
    t = last - first
    idx = (first + torch.clamp(torch.linspace(0, t - 1, num_samples), 0, t - 1).long()).tolist()
    out = torch.from_numpy(vr.get_batch(idx).asnumpy()).permute(3, 0, 1, 2)
    stats["clips"] += 1  # decord does not say how many frames it decoded
    return out


@pytest.fixture
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


IMPLS = {"fastvid": fastvid_clip, "fastvid-full-index": fastvid_clip, "pytorchvideo-style": pytorchvideo_style_clip,
         "decord": decord_clip}


def _whole_index_on_open(monkeypatch) -> None:
    from fastvid.data import EncodedVideoPyAV

    monkeypatch.setattr(EncodedVideoPyAV, "window_index_after_sec", float("inf"))
    monkeypatch.setattr(EncodedVideoPyAV, "window_index_first_clip", False)


def _bench_clips(benchmark, path: str, seconds: float, gop: int, impl: str, fn, threads: int | None = 1) -> None:
    """Times ``fn`` on random 2 s clips of ``path`` and records the case; checks fastvid's pixels. ``threads``:
    decoder threads (None: each library's default)."""
    starts = _Cycle(_starts(seconds))
    stats = {"decoded": 0, "clips": 0}

    def one_clip():
        s = starts.next()
        return fn(path, s, s + CLIP_S, KEEP, stats, threads)

    out = benchmark.pedantic(one_clip, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert out.shape[:2] == (3, KEEP)
    # the same clip from fastvid and the PyTorchVideo-style decoder: identical pixels
    s = starts.next()
    ref = pytorchvideo_style_clip(path, s, s + CLIP_S, KEEP, {"decoded": 0, "clips": 0})
    assert torch.equal(fastvid_clip(path, s, s + CLIP_S, KEEP, {"decoded": 0, "clips": 0}, threads).float(), ref)

    info = dict(
        role="fastvid" if impl == "fastvid" else "baseline",
        case=(f"340x256 {seconds:g}s H.264 GOP {gop}, random {CLIP_S}s clip -> {KEEP} frames, "
              + ("threads=1" if threads == 1 else "default decoder threads")),
        impl=impl,
        shape=[3, KEEP, 256, 340],
        dtype="uint8" if impl != "pytorchvideo-style" else "float32",
        threads=threads if threads is not None else "default",
        frames_decoded_per_clip=None if impl == "decord" else stats["decoded"] / max(stats["clips"], 1),
    )
    if benchmark.stats is not None:
        median = benchmark.stats.stats.median
        info.update(ms_per_clip=median * 1e3, clips_per_s=1.0 / median)
    benchmark.extra_info.update(info)


@pytest.mark.benchmark(group="decode-cpu")
@pytest.mark.parametrize("gop", [250, 32])
@pytest.mark.parametrize("impl", list(IMPLS))
def test_decode_clip(benchmark, gop, impl, one_torch_thread, monkeypatch):
    if impl == "decord":
        pytest.importorskip("decord")
    if impl == "fastvid-full-index":
        _whole_index_on_open(monkeypatch)
    path = bench_video(gop)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        duration = float(v.duration)
    _bench_clips(benchmark, path, duration, gop, impl, IMPLS[impl])


LONG_IMPLS = {
    "fastvid": fastvid_clip,
    "fastvid-full-index": fastvid_clip,
    "pytorchvideo-style": pytorchvideo_style_clip,
}


@pytest.mark.benchmark(group="decode-cpu")
@pytest.mark.parametrize("impl", list(LONG_IMPLS))
def test_decode_clip_long_video(benchmark, impl, one_torch_thread, monkeypatch):
    seconds = 300 if not benchmark.disabled else 12
    if impl == "fastvid-full-index":
        _whole_index_on_open(monkeypatch)
    _bench_clips(benchmark, bench_video(32, seconds=seconds), seconds, 32, impl, LONG_IMPLS[impl])


DEFAULT_THREADS_IMPLS = {"fastvid": fastvid_clip, "fastvid-no-drain": fastvid_clip,
                         "pytorchvideo-style": pytorchvideo_style_clip, "decord": decord_clip}


@pytest.mark.benchmark(group="decode-cpu")
@pytest.mark.parametrize("impl", list(DEFAULT_THREADS_IMPLS))
def test_decode_clip_default_threads(benchmark, impl, one_torch_thread, monkeypatch):
    if impl == "decord":
        pytest.importorskip("decord")
    if impl == "fastvid-no-drain":
        from fastvid.data import EncodedVideoPyAV

        monkeypatch.setattr(EncodedVideoPyAV, "drain_after_last_kept", False)
    path = bench_video(32)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        duration = float(v.duration)
    _bench_clips(benchmark, path, duration, 32, impl, DEFAULT_THREADS_IMPLS[impl], threads=None)
