"""Decoding files whose seeks are not exact, whose start is not at 0, or that fail to decode.

Every clip is compared with the plain reference decoder (fastvid.data.reference_decode: every frame
from the start of the file, no seeking). The videos are tiny (64x48, 2 s) and written here with PyAV.
"""

import inspect
import math
import warnings
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from torch.utils.data import SequentialSampler

import fastvid.data.encoded_video as encoded_video
from fastvid.data import (
    EncodedVideo,
    EncodedVideoPyAV,
    LabeledVideoDataset,
    LabeledVideoMapDataset,
    make_clip_sampler,
)
from fastvid.data.reference_decode import decode_all_frames, reference_clip
from fastvid.data.synthetic import _frame_rgb, encoder_available, write_video

F = Fraction
WINDOWS = [(F(0), F(1)), (F(1, 2), F(3, 2)), (F(1), F(2)), (F(7, 10), F(6, 5)), (F(3, 2), F(5, 2))]


def _assert_clips_match_reference(path, windows=WINDOWS, ns=(None, 8), seeks_after=None):
    """Every clip of ``windows`` is the reference's; those starting at or after ``seeks_after`` (seconds, when
    given) come from a seek, not from decoding the file from its start."""
    decoded = decode_all_frames(path)

    def check_seeked(s, *what):
        if seeks_after is not None and s >= seeks_after:
            assert v.last_decode_stats["from_start"] is False, (path, s, *what, v.last_decode_stats)

    with EncodedVideo.from_path(path, decode_audio=False) as v:
        for s, e in windows:
            ref = reference_clip(path, s, e, None, decoded=decoded)
            got = v.get_clip(s, e)["video"]
            check_seeked(s, "get_clip")
            assert (got is None) == (ref is None), (path, s, e)
            if ref is not None:
                assert got.shape == ref.shape and torch.equal(got, ref.float()), (path, "get_clip", s, e)
            for n in ns:
                ref = reference_clip(path, s, e, n, decoded=decoded)
                got = v.get_clip_frames(s, e, n)["video"]
                check_seeked(s, "get_clip_frames", n)
                assert (got is None) == (ref is None), (path, s, e, n)
                if ref is not None:
                    assert got.shape == ref.shape and torch.equal(got, ref), (path, "get_clip_frames", s, e, n)


# ------------------------------------------------------------------------------ 1. MPEG-TS / PS
@pytest.mark.parametrize(
    "name, kw",
    [
        ("h264.ts", dict(codec="libx264", bframes=2, gop=10, format="mpegts")),
        ("mpeg2.mpg", dict(codec="mpeg2video", bframes=2, gop=9, format="mpeg")),
        ("mpeg2.ts", dict(codec="mpeg2video", bframes=2, gop=12, format="mpegts")),
    ],
)
@pytest.mark.parametrize("index", ["full", "window"])
def test_mpegts_and_mpegps_clips_are_exact(tmp_path, name, kw, index, monkeypatch):
    # FFmpeg's seek in these containers lands a GOP after the keyframe asked for (ts) or on frames whose
    # pts are re-derived (mpg): every clip must still be the reference's. "window": as a long video
    # (indexed around each clip only), which these containers never are: their seeks are checked
    # against the whole index.
    if not encoder_available(kw["codec"]):
        pytest.skip(f"no {kw['codec']} encoder")
    monkeypatch.setattr(EncodedVideoPyAV, "window_index_after_sec", 0.0 if index == "window" else 1e9)
    path = write_video(tmp_path / name, num_frames=75, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the seeks here are fixed by retrying, not by a rewind
        # (the warning is not given for windows in the first second: last_decode_stats tells; every window
        # but the first starts past the first GOP, where a retried seek must do)
        _assert_clips_match_reference(path, seeks_after=F(1, 2))


def test_mpegts_seeks_that_land_late_are_retried_further_back_not_decoded_from_the_start(tmp_path):
    """With a 3 s GOP a late seek must be retried 2 s and more back (the tries go 1/4, 1/2, 1, 2, 4 ... s before
    the window): stopping the tries early decodes these clips from the start of the file (exact, but slow)."""
    path = write_video(tmp_path / "gop90.ts", num_frames=360, gop=90, width=64, height=48, format="mpegts")
    _assert_clips_match_reference(path, windows=[(F(7, 2), F(9, 2)), (F(21, 2), F(23, 2))], ns=(8,), seeks_after=0)


class _LateSeekContainer:
    """A container whose seeks land 2 s later than asked (as a broken demuxer might): a seek the
    decoder cannot verify, whatever it is retried with."""

    def __init__(self, container):
        self._c = container

    def __getattr__(self, name):
        return getattr(self._c, name)

    def seek(self, offset, *args, stream=None, **kwargs):
        if stream is not None and offset > 0:
            offset += int(2 / stream.time_base)
        return self._c.seek(offset, *args, stream=stream, **kwargs)


def test_unverifiable_seeks_decode_from_the_start_and_warn(tmp_path, monkeypatch):
    path = write_video(tmp_path / "late.mp4", num_frames=90, gop=10, bframes=2)
    decoded = decode_all_frames(path)
    monkeypatch.setattr(encoded_video, "_WARNED_FORMATS", set(), raising=False)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        real = v._container
        v._container = _LateSeekContainer(real)
        try:
            s, e = F(3, 2), F(5, 2)
            with pytest.warns(RuntimeWarning, match=r"late\.mp4 .*not exact.*decoded from the start"):
                got = v.get_clip_frames(s, e, 8)["video"]
            assert torch.equal(got, reference_clip(path, s, e, 8, decoded=decoded))
            assert v.last_decode_stats["seek_retries"] > 0 and v.last_decode_stats["from_start"] is True
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)  # once per container format
                got = v.get_clip(F(5, 4), F(9, 4))["video"]
            assert torch.equal(got, reference_clip(path, F(5, 4), F(9, 4), decoded=decoded).float())
            assert v.last_decode_stats["from_start"] is True
            v._container = real
            v.get_clip(F(5, 4), F(9, 4))  # the same window with seeks that land where asked
            assert v.last_decode_stats["from_start"] is False
        finally:
            v._container = real


# ------------------------------------------------------------------------------ 2. duration
def test_duration_is_the_stream_length_when_the_stream_starts_late(tmp_path):
    times = [1.5 + i / 30 for i in range(60)]  # a 2 s video whose first frame shows at 1.5 s
    mp4 = write_video(tmp_path / "late.mp4", num_frames=60, frame_times=times, gop=10, bframes=2)
    ts = write_video(tmp_path / "late.ts", num_frames=60, frame_times=[10 + t for t in times], gop=10, bframes=2,
                     format="mpegts")  # starts at 11.5 s
    for path in (mp4, ts):
        with EncodedVideo.from_path(path, decode_audio=False) as v:
            s = v._vstream
            assert s.start_time > 0 and s.duration is not None
            assert v.duration == s.duration * s.time_base
            assert abs(float(v.duration) - 2.0) < 0.05, (path, float(v.duration))
    # the dataset now samples the whole 2 s (it saw 0.5 s, or a negative duration for the .ts)
    ds = LabeledVideoDataset([(mp4, {"label": 0}), (ts, {"label": 1})], make_clip_sampler("uniform", F(1, 2)),
                             video_sampler=SequentialSampler)
    samples = list(ds)
    assert [s["label"] for s in samples] == [0] * 4 + [1] * 4 and not ds.failures


# ---------------------------------------------------------------- 3. MP4 whose first packet is not key
def _cut_mp4(tmp_path, drop=3):
    """An MP4 stream-copied without its first ``drop`` packets (as ``ffmpeg -ss .. -c copy`` cuts)."""
    src = write_video(tmp_path / "src.mp4", num_frames=60, gop=12, bframes=3)
    dst = str(tmp_path / "cut.mp4")
    with av.open(src) as ic, av.open(dst, "w") as oc:
        ist = ic.streams.video[0]
        ost = oc.add_stream_from_template(ist)
        for k, packet in enumerate(p for p in ic.demux(ist) if p.size):
            if k >= drop:
                packet.stream = ost
                oc.mux(packet)
    return dst


@pytest.mark.parametrize("drop", [3, 13])
def test_a_failed_window_index_leaves_no_packets_for_the_decode(tmp_path, drop, monkeypatch):
    # A first clip whose window index fails (no keyframe before the window in a cut file) is read with the whole
    # index and a seek: the packets the failed index had read were handed to the decode all the same (harmless
    # where the whole index leaves the file at its end; with a rewind they would have come before the stream's
    # first packets). Each clip is the reference's either way.
    path = _cut_mp4(tmp_path, drop)
    decoded = decode_all_frames(path)
    kept = []
    real = EncodedVideoPyAV._window_index
    monkeypatch.setattr(EncodedVideoPyAV, "_window_index",
                        lambda self, s, e, keep=None: kept.append(keep) or real(self, s, e, keep))
    for s, e in [(F(7, 20), F(23, 60)), (F(0), F(1)), (F(1, 10), F(11, 10)), (F(1), F(2))]:
        with EncodedVideo.from_path(path, decode_audio=False) as v:
            got = v.get_clip_frames(s, e, None)
            stats = v.last_decode_stats
            assert not (stats.get("index") == "full" and stats.get("reused_index_packets")), (s, e, stats)
            ref = reference_clip(path, s, e, None, decoded=decoded)
            assert (got["video"] is None and ref is None) or torch.equal(got["video"], ref), (s, e)
    # and the kept packets are let go of as they are decoded (none left once a clip is read)
    assert kept and all(k == [] for k in kept if k is not None)


@pytest.mark.parametrize("drop", [3, 13])
def test_perform_seek_false_falls_back_from_the_start_of_the_file(tmp_path, drop):
    # A cut MP4 (its first packet not a keyframe) refuses the seek of the frame-index read; the fallback's plain
    # decode then read on from where that attempt had left the file (its end) and gave no clip at all
    path = _cut_mp4(tmp_path, drop)
    decoded = decode_all_frames(path)
    for s, e in [(F(-1, 10), F(1233, 1000)), (F(0), F(1)), (F(1, 10), F(11, 10))]:
        with EncodedVideoPyAV(path, decode_audio=False, perform_seek=False) as v:
            for n in (None, 8):
                got = v.get_clip_frames(s, e, n)
                ref = reference_clip(path, s, e, n, decoded=decoded)
                assert got["video"] is not None and torch.equal(got["video"], ref), (s, e, n)


@pytest.mark.parametrize("ext", [".mkv", ".mp4"])
def test_av1_clips_with_hidden_frames_are_exact(tmp_path, ext):
    # SVT-AV1's random-access stream (hidden frames shown later by 3-byte packets), decoded by libdav1d: skipping
    # non-reference frames there dropped a wanted frame (a clip one frame short after a fallback), and the decoder
    # kept dropping frames for every later clip of the video. Such decoders now decode every frame.
    from fastvid.data.synthetic import encoder_available

    if not encoder_available("libsvtav1") or "libdav1d" not in av.codecs_available:
        pytest.skip("needs the libsvtav1 encoder and the libdav1d decoder")
    path = str(write_video(tmp_path / f"av1{ext}", num_frames=60, gop=15, codec="libsvtav1", width=64, height=64))
    decoded = decode_all_frames(path)
    windows = [(F(1867, 1000), F(3967, 1000)), (F(0), F(1)), (F(1, 3), F(4, 3)), (F(1), F(2)), (F(1, 2), F(3, 2))]
    with EncodedVideo.from_path(path, decode_audio=False) as v:  # one open for every clip
        for s, e in windows:
            for n in (None, 1, 8):
                got = v.get_clip_frames(s, e, n)
                assert torch.equal(got["video"], reference_clip(path, s, e, n, decoded=decoded)), (s, e, n)
        assert v.fallbacks == 0


def test_perform_seek_false_reads_its_first_clip_with_the_whole_index(tmp_path):
    # its clip's audio is read from where the video's decode left the container (PyTorchVideo's perform_seek=False):
    # the window-index first clip would leave it elsewhere and change that audio
    path = str(write_video(tmp_path / "a.mp4", num_frames=90, gop=12, bframes=2, audio=True))
    with EncodedVideoPyAV(path, decode_audio=True, perform_seek=False) as v:
        got = v.get_clip_frames(F(1), F(2), 8)
        assert v.last_decode_stats["index"] == "full" and "reused_index_packets" not in v.last_decode_stats
    EncodedVideoPyAV.window_index_first_clip = False
    try:
        with EncodedVideoPyAV(path, decode_audio=True, perform_seek=False) as v:
            old = v.get_clip_frames(F(1), F(2), 8)
    finally:
        EncodedVideoPyAV.window_index_first_clip = True
    assert torch.equal(got["video"], old["video"])
    assert (got["audio"] is None and old["audio"] is None) or torch.equal(got["audio"], old["audio"])


def test_mp4_whose_first_packet_is_not_a_keyframe(tmp_path):
    path = _cut_mp4(tmp_path)
    with av.open(path) as c:  # the file is what the test needs: FFmpeg refuses seeks before the first keyframe
        first = next(p for p in c.demux(c.streams.video[0]) if p.size)
        assert not first.is_keyframe
        with pytest.raises(av.error.FFmpegError):
            c.seek(1000, stream=c.streams.video[0], backward=True, any_frame=False)
    _assert_clips_match_reference(path, windows=[(F(0), F(1)), (F(1, 10), F(11, 10)), (F(1, 5), F(6, 5)), (F(1), F(2))])
    ds = LabeledVideoDataset([(path, {"label": 0})], make_clip_sampler("constant_clips_per_video", F(17, 10), 3),
                             video_sampler=SequentialSampler)
    assert len(list(ds)) == 3 and ds.failures == []


# ------------------------------------------------------------------------------ 4. perform_seek=False
@pytest.mark.parametrize("name", ["noseek.mkv", "noseek.webm", "noseek.flv", "noseek.mp4"])
@pytest.mark.parametrize("rotation_first", [False, True])
def test_perform_seek_false_decodes_from_the_start(tmp_path, name, rotation_first):
    # mkv / webm / flv have no stream durations in the header: the packet index is built on open
    codec = "libvpx-vp9" if name.endswith(".webm") else "libx264"
    if not encoder_available(codec):
        pytest.skip(f"no {codec} encoder")
    path = write_video(tmp_path / name, num_frames=45, gop=10, codec=codec)
    ref = reference_clip(path, F(0), F(1))
    with open(path, "rb") as fh:
        v = EncodedVideoPyAV(fh, name, perform_seek=False)
        if rotation_first:
            assert v.rotation == 0
        out = v.get_clip(F(0), F(1))["video"]
        v.close()
    assert out is not None and torch.equal(out, ref.float())
    with EncodedVideo.from_path(path, perform_seek=False) as v:
        assert v.perform_seek is False
        assert torch.equal(v.get_clip(F(0), F(1))["video"], ref.float())


# ------------------------------------------------------------------------------ 5. decode errors
def _truncated_faststart_mp4(tmp_path):
    """An MP4 with its index first (faststart) cut in half: it opens (the header says 3 s) and clips in
    the missing half fail to decode."""
    path = str(tmp_path / "faststart.mp4")
    rng = np.random.default_rng(0)
    with av.open(path, "w", container_options={"movflags": "faststart"}) as out:
        st = out.add_stream("libx264", rate=30)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        st.codec_context.max_b_frames = 2
        st.codec_context.gop_size = 10
        st.options = {"preset": "veryfast", "x264-params": "keyint=10:min-keyint=10:scenecut=0"}
        for i in range(90):
            frame = av.VideoFrame.from_ndarray(_frame_rgb(i, 48, 64, rng), format="rgb24").reformat(format="yuv420p")
            frame.pts = i
            for p in st.encode(frame):
                out.mux(p)
        for p in st.encode(None):
            out.mux(p)
    data = open(path, "rb").read()
    trunc = str(tmp_path / "trunc.mp4")
    open(trunc, "wb").write(data[: len(data) // 2])
    return trunc


def test_decode_errors_name_the_video_and_the_window(tmp_path, caplog):
    path = _truncated_faststart_mp4(tmp_path)
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        assert v.get_clip_frames(F(0), F(1, 2), 4)["video"].shape == (3, 4, 48, 64)
        for fn in (lambda: v.get_clip(F(1), F(2)), lambda: v.get_clip_frames(F(1), F(2), 8)):
            with pytest.raises(RuntimeError) as info:
                fn()
            msg = str(info.value)
            assert f"Failed to decode the clip [1.000, 2.000) s of video {path}: InvalidDataError" in msg
            assert isinstance(info.value.__cause__, av.error.FFmpegError)
    ds = LabeledVideoDataset([(path, {"label": 0})], make_clip_sampler("uniform", F(1)),
                             video_sampler=SequentialSampler)
    with caplog.at_level("WARNING", logger="fastvid.data.labeled_video_dataset"):
        samples = list(ds)
    assert len(samples) == 1  # [0, 1) decodes; [1, 2) fails and the video is skipped
    (failure,) = ds.failures
    assert failure.path == path
    assert failure.reason.startswith(f"RuntimeError: Failed to decode the clip [1.000, 2.000) s of video {path}: ")
    assert f"Skipping video {path} (index 0): RuntimeError: Failed to decode the clip" in caplog.text
    # map-style: the failed clip slot is served by the next video, the failure is listed
    good = write_video(tmp_path / "good.mp4", num_frames=90)
    mds = LabeledVideoMapDataset([(path, {"label": 0}), (good, {"label": 1})],
                                 make_clip_sampler("constant_clips_per_video", F(1), 2))
    assert [mds[i]["label"] for i in range(len(mds))] == [0, 1, 1, 1]  # item 1 is [2, 3) s of the cut file
    (failure,) = mds.failures
    assert failure.path == path and "Failed to decode the clip [2.000, 3.000) s of video" in failure.reason


# ------------------------------------------------------------------------------ 6. from_path
def test_from_path_takes_pytorchvideos_arguments_in_both_orders(tmp_path):
    # PyTorchVideo 0.1.5 (the PyPI release): from_path(file_path, decode_audio=True, decoder="pyav") and
    # EncodedVideoPyAV(file, video_name, decode_audio=True); its main branch: from_path(file_path, decode_video=True,
    # decode_audio=True, decoder="pyav", **other_args) and EncodedVideoPyAV(file, video_name, decode_video,
    # decode_audio, perform_seek). Positional flags are read in whichever order they fit.
    params = inspect.signature(EncodedVideo.from_path).parameters
    assert [params[n].default for n in ("decode_video", "decode_audio", "decoder")] == [True, True, "pyav"]
    assert list(params.values())[-1].kind is inspect.Parameter.VAR_KEYWORD
    path = write_video(tmp_path / "a.mp4", num_frames=30, audio=True)

    def audio(v):
        return v.get_clip(0, F(1, 2))["audio"] is not None

    with EncodedVideo.from_path(path) as v:  # PyTorchVideo decodes audio unless told not to
        assert audio(v)
    for flags, want_audio in (((False,), False), ((True,), True), ((False, "pyav"), False),  # the release's order
                              ((True, False), False), ((True, True), True), ((True, False, "pyav"), False)):  # main's
        with EncodedVideo.from_path(path, *flags) as v:
            assert audio(v) == want_audio, flags
    with EncodedVideoPyAV.from_path(path, True, False, "pyav", perform_seek=False, threads=1) as v:
        assert v.perform_seek is False and v._vstream.codec_context.thread_count == 1 and not audio(v)
    with pytest.raises(ValueError, match='decoder must be "pyav"'):
        EncodedVideo.from_path(path, False, "torchvision")
    with pytest.raises(TypeError, match="at most 3 positional flags"):
        EncodedVideo.from_path(path, True, True, "pyav", True)
    # the class itself
    with open(path, "rb") as fh, EncodedVideoPyAV(fh, "a.mp4", True) as v:  # release: decode_audio
        assert v.perform_seek is True and audio(v)
    with open(path, "rb") as fh, EncodedVideoPyAV(fh, "a.mp4", True, True) as v:  # main: decode_video, decode_audio
        assert v.perform_seek is True and audio(v)
    with open(path, "rb") as fh, EncodedVideoPyAV(fh, "a.mp4", True, False, False) as v:
        assert v.perform_seek is False and not audio(v)
    with pytest.raises(ValueError, match=r"decode_video=False is not supported"):
        EncodedVideoPyAV(path, "a.mp4", False, True)
    with pytest.raises(ValueError, match=r"decode_video=False is not supported \(fastvid decodes video clips\)"):
        EncodedVideo.from_path(path, decode_video=False)
    with pytest.raises(ValueError, match=r"decode_video=False is not supported \(fastvid decodes video clips\)"):
        LabeledVideoDataset([(path, {})], make_clip_sampler("random", 1), decode_video=False)
    with pytest.raises(TypeError, match="unexpected argument.*decode_frames"):
        EncodedVideo.from_path(path, decode_frames=True)
    # a flag given by position and by keyword: Python's TypeError, whichever order the position is read in
    for call, name in ((lambda: EncodedVideo.from_path(path, False, decode_audio=True), "decode_audio"),
                       (lambda: EncodedVideo.from_path(path, False, "pyav", decoder="pyav"), "decoder"),
                       (lambda: EncodedVideo.from_path(path, True, False, decode_video=True), "decode_video"),
                       (lambda: EncodedVideoPyAV.from_path(path, True, decode_audio=False), "decode_audio"),
                       (lambda: EncodedVideoPyAV(path, "a.mp4", True, decode_audio=True), "decode_audio"),
                       (lambda: EncodedVideoPyAV(path, "a.mp4", True, True, False, perform_seek=False), "perform_seek")):
        with pytest.raises(TypeError, match=f"got multiple values for argument '{name}'"):
            call()
    # the same flag by keyword alone, or other flags by keyword, are fine
    with EncodedVideo.from_path(path, False, decode_video=True) as v:
        assert not audio(v)
    with EncodedVideoPyAV(path, "a.mp4", True, perform_seek=False) as v:
        assert v._decode_audio is True and v.perform_seek is False
    params = inspect.signature(EncodedVideoPyAV).parameters
    assert [params[n].default for n in ("decode_video", "decode_audio", "perform_seek", "threads")] == [True, False,
                                                                                                        True, None]


def test_a_frame_folder_is_refused_with_a_clear_reason(tmp_path):
    frames = tmp_path / "frames_video"
    frames.mkdir()
    for i in range(3):
        (frames / f"{i:05d}.jpg").write_bytes(b"")
    sentence = "is a directory (a folder of frames); fastvid decodes encoded video files only"
    with pytest.raises(IsADirectoryError) as info:
        EncodedVideo.from_path(frames)
    assert str(info.value) == f"EncodedVideo.from_path: {frames} {sentence}"
    good = write_video(tmp_path / "good.mp4", num_frames=30)
    ds = LabeledVideoDataset([(str(frames), {"label": 0}), (good, {"label": 1})], make_clip_sampler("random", F(1, 2)),
                             video_sampler=SequentialSampler)
    assert [s["label"] for s in ds] == [1]
    (failure,) = ds.failures
    assert failure.path == str(frames) and sentence in failure.reason and "not found" not in failure.reason


# ------------------------------------------------------------------ 7. H.264 with B-frames in AVI
def h264_bframes_in_ts_and_avi(tmp_path, bframes: int, open_gop: bool = False) -> tuple[str, str]:
    """(MPEG-TS path, AVI path): 60 frames of H.264 with ``bframes`` B frames and a keyframe every 12, in MPEG-TS
    (real presentation times) and the same packets remuxed into AVI (which stores none)."""
    params = f"keyint=12:min-keyint=12:scenecut=0:open-gop={int(open_gop)}"
    ts = str(write_video(tmp_path / "b.ts", num_frames=60, gop=12, bframes=bframes, format="mpegts",
                         options={"x264-params": params}))
    avi = str(tmp_path / "b.avi")
    with av.open(ts) as ic, av.open(avi, "w") as oc:
        ist = ic.streams.video[0]
        ost = oc.add_stream_from_template(ist)
        for packet in ic.demux(ist):
            if packet.size:
                packet.stream = ost
                oc.mux(packet)
    return ts, avi


@pytest.mark.parametrize("bframes, open_gop", [(2, False), (3, False), (3, True)])
def test_h264_with_bframes_in_avi_comes_out_in_display_order(tmp_path, bframes, open_gop, monkeypatch):
    # AVI stores no presentation times: FFmpeg numbers H.264 packets in decode order and the decoder's
    # (display order) frames carry those numbers, so sorting by pts gave decode order. The truth: the
    # same bitstream in MPEG-TS (real pts), remuxed into AVI packet by packet. An open GOP (x264's
    # open-gop: keyframes without an IDR slice) cannot be decoded from a seek exactly (the decoder drops
    # the B-frames that show before the keyframe): it is decoded from the start, with the warning.
    monkeypatch.setattr(encoded_video, "_WARNED_FORMATS", set(), raising=False)
    ts, avi = h264_bframes_in_ts_and_avi(tmp_path, bframes, open_gop)
    _, truth = decode_all_frames(ts)
    truth = torch.from_numpy(truth).permute(3, 0, 1, 2)  # (C, T, H, W), display order
    with av.open(avi) as c:  # what the test is about: the decoder's frames do not come in pts order
        out_pts = [f.pts for f in c.decode(video=0)]
        assert out_pts != sorted(out_pts)
    pts, frames = decode_all_frames(avi)  # the reference orders them by output
    assert torch.equal(torch.from_numpy(frames).permute(3, 0, 1, 2), truth)
    with av.open(avi) as c:  # the keyframes after the first have IDR slices exactly when the GOPs are closed
        cc = c.streams.video[0].codec_context
        opens = [encoded_video._opens_gop(bytes(p), cc) for p in c.demux(video=0) if p.size and p.is_keyframe]
        assert len(opens) > 3 and opens == [False] + [open_gop] * (len(opens) - 1)
    with EncodedVideo.from_path(avi, decode_audio=False) as v, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert torch.equal(v.get_clip(F(0), F(3))["video"], truth.float())
        assert torch.equal(v.get_clip_frames(F(0), F(3))["video"], truth)
        tb = v._vstream.time_base
        # short windows inside a GOP too (a count that is off shows there: no later keyframe checks it)
        windows = [(F(1, 2), F(3, 2)), (F(7, 9), F(23, 18)), (F(1), F(2)), (F(3, 2), F(5, 2))]
        windows += [(F(k, 30), F(k + 5, 30)) for k in range(13, 55, 3)]
        for s, e in windows:
            # frame k (display order) shows at pts[k] (in the stream's time base)
            lo, hi = math.ceil(s / tb), math.ceil(e / tb)
            ranks = [k for k, p in enumerate(pts) if lo <= p < hi]
            want = truth[:, ranks]
            assert torch.equal(v.get_clip(s, e)["video"], want.float()), (s, e)
            for n in (None, 8):
                got = v.get_clip_frames(s, e, n)["video"]
                ref = reference_clip(avi, s, e, n, decoded=(pts, frames))
                assert torch.equal(got, ref), (s, e, n)
                if n is None:
                    assert torch.equal(got, want)
        # a late window starts at a keyframe (a seek), not at the start of the file, unless the GOP is open
        v.get_clip(F(3, 2), F(2))
        assert v.last_decode_stats["from_start"] is open_gop
        assert (v.last_decode_stats["frames_decoded"] < 45) is not open_gop
    warned = [w for w in caught if issubclass(w.category, RuntimeWarning) and "opens its GOP" in str(w.message)]
    assert len(warned) == int(open_gop)


@pytest.mark.skipif(not encoder_available("libx265"), reason="no libx265 encoder")
@pytest.mark.parametrize("fmt", ["mpegts", "mp4"])
def test_open_gop_keyframes_are_told_from_idr_in_hevc(tmp_path, fmt):
    # HEVC in AVI cannot be written here (FFmpeg's AVI muxer has no HEVC tag), so the detection alone:
    # CRA keyframes (x265's open-gop) open their GOP, IDR ones do not; Annex B (MPEG-TS) and hvcC (MP4)
    for open_gop in (False, True):
        path = write_video(tmp_path / f"h{int(open_gop)}.{'ts' if fmt == 'mpegts' else 'mp4'}", num_frames=40, gop=12,
                           bframes=3, codec="libx265", format=fmt,
                           options={"x265-params": f"keyint=12:min-keyint=12:scenecut=0:open-gop={int(open_gop)}:"
                                                   "log-level=error"})
        with av.open(path) as c:
            cc = c.streams.video[0].codec_context
            opens = [encoded_video._opens_gop(bytes(p), cc) for p in c.demux(video=0) if p.size and p.is_keyframe]
        assert len(opens) > 3 and opens == [False] + [open_gop] * (len(opens) - 1), (fmt, open_gop)


# --------------------------------------------------------- 8. seek check against the first frame wanted
def test_a_seek_to_a_keyframe_past_the_window_start_but_before_its_first_frame_is_not_retried(tmp_path):
    # A variable frame rate MP4 with B-frames: a window that starts in the gap before a keyframe wants that
    # keyframe first; the seek (by decode time) lands on it although its pts is after the window's start.
    # With the packet index that is right (no frame shows in between): no retry, the reference's frames.
    rng = np.random.default_rng(0)
    times, t = [], 0.0
    for _ in range(120):
        times.append(t)
        t += float(rng.choice([1 / 30, 1 / 30, 1 / 15, 1 / 60, 0.05]))
    path = write_video(tmp_path / "vfr.mp4", num_frames=120, frame_times=times, gop=20, bframes=3)
    decoded = decode_all_frames(path)
    retried = 0
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        tb = v._vstream.time_base
        index = v.index
        keys = [index.pts_list[i] for i in index.keyframes.tolist()][1:]
        assert len(keys) >= 4
        for kp in keys:
            for off in (1, 100, 1024, 2000):  # ticks before the keyframe
                s = (kp - off) * tb
                e = s + F(1)
                got = v.get_clip(s, e)["video"]
                assert torch.equal(got, reference_clip(path, s, e, None, decoded=decoded).float()), (kp, off)
                retried += "seek_retries" in v.last_decode_stats
                assert v.last_decode_stats["from_start"] is False
    assert retried == 0


# ------------------------------------------------------------------------------ streams and sizes
def _write_streams(path, streams, fmt=None):
    """One file holding several video streams: ``streams`` is a list of (codec, pix_fmt, frames, height,
    width, pts offset); each stream gets its own frames at 15 fps."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format=fmt) as out:
        outs = []
        for codec, pix_fmt, n, h, w, offset in streams:
            st = out.add_stream(codec, rate=15)
            st.width, st.height, st.pix_fmt = w, h, pix_fmt
            outs.append((st, n, h, w, offset))
        for st, n, h, w, offset in outs:
            for i in range(n):
                frame = av.VideoFrame.from_ndarray(_frame_rgb(i, h, w, rng), format="rgb24")
                frame.pts = i + offset
                for p in st.encode(frame):
                    out.mux(p)
            for p in st.encode(None):
                out.mux(p)
    return str(path)


def test_a_cover_picture_stream_before_the_video_is_passed_over(tmp_path):
    # A one-frame MJPEG picture as the first stream (a cover), the H.264 video second: PyTorchVideo's
    # streams.video[0] gives 8 copies of the picture; FFmpeg's best stream is the video.
    path = _write_streams(tmp_path / "cover.mkv", [("mjpeg", "yuvj420p", 1, 48, 64, 0),
                                                   ("libx264", "yuv420p", 30, 48, 64, 0)])
    with av.open(path) as c:
        assert [s.codec_context.name for s in c.streams.video] == ["mjpeg", "h264"]
    with EncodedVideo.from_path(path, decode_audio=False) as v:
        assert v.duration > 1.5
        clip = v.get_clip_frames(0, 1.5, 8)["video"]
        assert clip.shape == (3, 8, 48, 64) and not torch.equal(clip[:, 0], clip[:, -1])
    _assert_clips_match_reference(path, windows=WINDOWS[:3])  # the reference reads the same stream


def test_a_size_change_inside_a_clip_is_a_runtime_error_naming_the_video(tmp_path):
    # Two MPEG-TS parts, 64x48 then 96x72, their timestamps continuing (a concatenated recording).
    a = _write_streams(tmp_path / "a.ts", [("libx264", "yuv420p", 30, 48, 64, 0)], fmt="mpegts")
    b = _write_streams(tmp_path / "b.ts", [("libx264", "yuv420p", 30, 72, 96, 30)], fmt="mpegts")
    path = tmp_path / "both.ts"
    path.write_bytes(open(a, "rb").read() + open(b, "rb").read())
    with EncodedVideo.from_path(str(path), decode_audio=False) as v:
        assert v.get_clip_frames(0.2, 1.2, 8)["video"].shape == (3, 8, 48, 64)  # inside the first part
        for read in (lambda: v.get_clip_frames(1.5, 2.5, 8), lambda: v.get_clip(1.5, 2.5),
                     lambda: v.get_clip_frames(1.5, 2.5, None)):
            with pytest.raises(RuntimeError, match=r"frame size changed inside the clip of both.ts \(at .* s\): "
                                                   r"64x48 then 96x72"):
                read()
