"""Group "prepare-decode": reading a random 2 s clip (8 frames kept) from a fastvid-prepare copy vs the original.

The original is a 10 s, 30 fps H.264 video with a keyframe every 250 frames (typical of downloaded Kinetics
videos); the copy is what ``fastvid-prepare`` writes with its defaults (short side 256, a keyframe every 16
frames, veryfast, crf 23, tune fastdecode, no B-frame pyramid). Two readers, each on one thread, read every file
the same way:

* ``pyav``: seek to the window start (which lands on the keyframe before it), decode up to the window end, keep 8
  evenly spaced frames of the window and convert only those to RGB (the copy's gain alone);
* ``fastvid``: what the datasets do (``EncodedVideoPyAV.get_clip_frames``), which also skips decoding the
  non-reference frames it does not keep; its cases add the copy made with x264's default B-frame pyramid
  (``b_pyramid=True``, fastvid-prepare's output before that default changed), whose B frames are references.

Each round reads the same 8 random windows from each file.
"""

import math
import os
import random

import av
import numpy as np
import pytest

from fastvid.train.prepare import EncodeSettings, prepare

FPS = 30
SECONDS = 10
CLIP_S = 2.0
KEEP = 8
CLIPS_PER_ROUND = 8
ROUNDS = 5

CASES = {
    # name: (width, height) of the original
    "340x256": (340, 256),
    "640x360": (640, 360),
}


def _frames(width, height, n, seed=0):
    # two block textures sliding in different directions (so motion compensation leaves real residuals) and a
    # little noise: about 0.9 Mbit/s at 340x256 with crf 23, in the range of downloaded Kinetics videos
    rng = np.random.default_rng(seed)

    def texture(block):
        t = rng.integers(0, 256, (height // block + 4, width // block + 4, 3)).astype(np.float32)
        return np.repeat(np.repeat(t, block, 0), block, 1)

    a, b = texture(8), texture(16)
    for i in range(n):
        fa = np.roll(a, (i, 2 * i), (0, 1))[:height, :width]
        fb = np.roll(b, (-2 * i, -i), (0, 1))[:height, :width]
        img = 64 + 0.3 * fa + 0.2 * fb + rng.normal(0, 3, (height, width, 3))
        yield np.clip(img, 0, 255).astype(np.uint8)


def _write_original(path, width, height):
    with av.open(path, "w") as c:
        s = c.add_stream(
            "libx264", rate=FPS, options={"preset": "veryfast", "crf": "23", "x264-params": "keyint=250:min-keyint=250"}
        )
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for i, img in enumerate(_frames(width, height, SECONDS * FPS)):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("prepare_bench")
    out = {}
    for name, (w, h) in CASES.items():
        src = root / "orig" / name / "v.mp4"
        src.parent.mkdir(parents=True)
        _write_original(str(src), w, h)
        listing = root / f"{name}.csv"
        listing.write_text(f"{src} 0\n")
        out[name] = {"original": str(src)}
        for which, settings in (("prepared", EncodeSettings()), ("prepared-b-pyramid", EncodeSettings(b_pyramid=True))):
            prepare([str(listing)], str(root / which / name), settings=settings, workers=1, progress=False)
            out[name][which] = str(root / which / name / "v.mp4")
    return out


def read_clip(path, start, duration=CLIP_S, keep=KEEP):
    """RGB uint8 (keep, H, W, 3) of ``keep`` evenly spaced frames of [start, start + duration)."""
    end = start + duration
    with av.open(path) as c:
        s = c.streams.video[0]
        s.codec_context.thread_count = 1
        c.seek(int(start / s.time_base), stream=s, backward=True, any_frame=False)
        window = []
        for f in c.decode(s):
            t = f.time
            if t < start - 1e-6:
                continue
            if t >= end - 1e-6:
                break
            window.append(f)
    idx = np.linspace(0, len(window) - 1, keep).astype(np.int64)
    return np.stack([window[i].to_ndarray(format="rgb24") for i in idx])


def _starts(seed=0):
    rng = random.Random(seed)
    return [rng.uniform(0, SECONDS - CLIP_S - 1.0 / FPS) for _ in range(CLIPS_PER_ROUND)]


def _frames_decoded(path, start):
    # the keyframe at or before start, to the end of the window: how many frames the decoder has to produce
    with av.open(path) as c:
        s = c.streams.video[0]
        keys = [float(p.pts * s.time_base) for p in c.demux(s) if p.size and p.is_keyframe]
    k = max(t for t in keys if t <= start + 1e-6)
    return math.ceil((start + CLIP_S) * FPS) - round(k * FPS)


def read_clip_fastvid(path, start, duration=CLIP_S, keep=KEEP):
    """The same clip as :func:`read_clip`, read as fastvid's datasets read it."""
    from fastvid.data import EncodedVideoPyAV

    v = EncodedVideoPyAV(path, decode_audio=False, threads=1)
    try:
        clip = v.get_clip_frames(start, start + duration, num_samples=keep)["video"].permute(1, 2, 3, 0).numpy()
        read_clip_fastvid.frames_decoded = v.last_decode_stats["frames_decoded"]
        return clip
    finally:
        v.close()


IMPL = {
    "original": "original (GOP 250)",
    "prepared": "fastvid-prepare copy (256, GOP 16, fastdecode, no B pyramid)",
    "prepared-b-pyramid": "fastvid-prepare copy with B pyramid (x264 default)",
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(
    "reader,which",
    [("pyav", "original"), ("pyav", "prepared"), ("fastvid", "original"), ("fastvid", "prepared"),
     ("fastvid", "prepared-b-pyramid")],
)
@pytest.mark.benchmark(group="prepare-decode")
def test_bench_decode_random_clip(benchmark, videos, case, reader, which):
    path = videos[case][which]
    read = read_clip if reader == "pyav" else read_clip_fastvid
    starts = _starts()
    clip = read(path, starts[0])
    with av.open(path) as c:
        w, h = c.streams.video[0].codec_context.width, c.streams.video[0].codec_context.height
    assert clip.shape == (KEEP, h, w, 3)
    if which == "prepared":
        assert min(w, h) == 256

    if reader == "fastvid":  # the same frames as the plain read
        np.testing.assert_array_equal(clip, read_clip(path, starts[0]))

    def run():
        for s in starts:
            read(path, s)

    if benchmark.disabled:
        benchmark(run)
    else:
        benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    if reader == "fastvid":  # what it decoded (no more than the plain read: it skips what it need not decode)
        frames = np.mean([(read(path, s), read_clip_fastvid.frames_decoded)[1] for s in starts])
    else:
        frames = np.mean([_frames_decoded(path, s) for s in starts])
    median = benchmark.stats.stats.median if benchmark.stats else None
    benchmark.extra_info.update(
        role="fastvid" if which == "prepared" else "baseline",
        case=f"{case} 30fps 10s H.264, random 2s clip keep 8, read with {reader}, threads=1",
        impl=IMPL[which],
        shape=f"{w}x{h}",
        dtype="uint8",
        threads=1,
        frames_decoded_per_clip=float(frames),
        file_bytes=os.path.getsize(path),
        kbit_per_s=round(os.path.getsize(path) * 8 / SECONDS / 1e3),
        clips_per_s=(CLIPS_PER_ROUND / median) if median else None,
    )
